"""``manifest.json``: the bundle's table of contents, its JSON Schemas, version rule and checksums.

Compatibility rule (docs/asset-format.md): ``format_version`` is ``MAJOR.MINOR``; a kind's codec lists the
major versions it reads (``READABLE_MAJORS``); minor versions only add optional fields, which older readers
ignore and newer readers default. Another major version is refused.

Every manifest has the common fields of ``schema/manifest.schema.json``; the fields of its ``kind`` are
checked against ``schema/<kind>.schema.json``, and the kind's codec (``ngsdk.kinds``) maps them to the asset.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from ngsdk import kinds
from ngsdk.asset.codec import KindCodec
from ngsdk.asset.digest import sha256_file, sha256_tree, tree_bytes
from ngsdk.asset.errors import AssetError

MANIFEST_NAME = "manifest.json"


def codec(kind: str) -> KindCodec:
    """The manifest codec of ``kind`` (ngsdk.kinds); LookupError for a kind this ngsdk does not know."""
    return kinds.get(kind).part("codec")


# --------------------------------------------------------------------------- checksums

def file_record(path: str | Path) -> dict[str, Any]:
    """The ``files`` entry for one bundle file (or package folder): its sha256 and size."""
    path = Path(path)
    if path.is_dir():
        return {"sha256": sha256_tree(path), "bytes": tree_bytes(path)}
    return {"sha256": sha256_file(path), "bytes": path.stat().st_size}


# --------------------------------------------------------------------------- schema + version

@cache
def load_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema for ``kind`` (``manifest`` is the common part)."""
    name = f"{kind}.schema.json"
    try:
        text = resources.files("ngsdk.asset").joinpath("schema", name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KeyError(kind) from None
    return json.loads(text)


def _schema_errors(instance: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    out = []
    for e in errors:
        where = "/".join(str(p) for p in e.absolute_path) or "(top level)"
        out.append(f"{where}: {e.message}")
    return out


def check_version(version: str, path: Path, majors: tuple[int, ...], kind: str) -> None:
    """Refuse a ``format_version`` that is not ``MAJOR.MINOR`` or whose major version is not in ``majors``."""
    try:
        major = int(str(version).split(".")[0])
    except ValueError:
        raise AssetError(path, f"format_version {version!r} is not MAJOR.MINOR") from None
    if major not in majors:
        readable = " and ".join(f"{m}.x" for m in majors)
        raise AssetError(
            path,
            f"unknown format version {version} (this ngsdk reads {readable} {kind} bundles; "
            f"{'upgrade ngsdk' if major > max(majors) else 're-export the asset'})",
        )


def validate_manifest(manifest: Any, path: str | Path) -> None:
    """Check version, the common schema and the kind's schema; raise AssetError on the first problem."""
    path = Path(path)
    if not isinstance(manifest, dict):
        raise AssetError(path, "manifest is not a JSON object")
    if manifest.get("format") != "ngasset":
        raise AssetError(path, "not an ngsdk manifest (field 'format' is not 'ngasset')")
    kind = manifest.get("kind")
    try:
        kind_codec = codec(kind) if isinstance(kind, str) else None
    except LookupError:
        kind_codec = None
    if kind_codec is not None:
        check_version(manifest.get("format_version", "?"), path, kind_codec.READABLE_MAJORS, kind)
    problems = _schema_errors(manifest, load_schema("manifest"))
    if not problems:
        if kind_codec is None:
            raise AssetError(path, f"unknown asset kind {kind!r}")
        problems = _schema_errors(manifest, load_schema(kind))
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise AssetError(path, f"schema violation at {problems[0]}{more}")


def read_manifest(bundle: str | Path, *, check_files: bool = True) -> dict[str, Any]:
    """Parse and validate ``bundle/manifest.json``; with ``check_files`` verify every listed file.

    Errors name the exact file: a missing or truncated manifest, a missing bundle file, a size
    or sha256 mismatch, an unlisted file the manifest refers to.
    """
    bundle = Path(bundle)
    if not bundle.is_dir():
        raise AssetError(bundle, "bundle folder does not exist" if not bundle.exists() else "not a folder")
    path = bundle / MANIFEST_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AssetError(path, "missing (every bundle has a manifest.json)") from None
    except UnicodeDecodeError as e:
        raise AssetError(path, f"not UTF-8 text ({e.reason} at byte {e.start})") from None
    try:
        manifest = json.loads(text)
    except json.JSONDecodeError as e:
        raise AssetError(path, f"not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    validate_manifest(manifest, path)
    if check_files:
        verify_files(bundle, manifest)
    return manifest


def verify_files(bundle: Path, manifest: dict[str, Any]) -> None:
    """Check presence, size and sha256 of every file in ``manifest['files']``."""
    for name, rec in manifest["files"].items():
        # plain names, or "/"-separated paths of plain names (neural volumes keep bricks/<brick>/...)
        if "\\" in name or ":" in name or any(not part or part.startswith(".") for part in name.split("/")):
            raise AssetError(bundle / MANIFEST_NAME, f"file name {name!r} is not a plain name inside the bundle")
        p = bundle / name
        if not p.exists():
            raise AssetError(p, "missing (listed in manifest.json)")
        if p.is_dir():
            if sha256_tree(p) != rec["sha256"] or tree_bytes(p) != rec["bytes"]:
                raise AssetError(p, "package contents differ from manifest.json (sha256 over its files)")
            continue
        size = p.stat().st_size
        if size != rec["bytes"]:
            raise AssetError(p, f"size is {size} bytes, manifest.json says {rec['bytes']} (truncated or replaced)")
        digest = sha256_file(p)
        if digest != rec["sha256"]:
            raise AssetError(p, f"sha256 mismatch (file is {digest[:12]}..., manifest says {rec['sha256'][:12]}...)")
    for ref in referenced_files(manifest):
        if ref not in manifest["files"]:
            raise AssetError(bundle / MANIFEST_NAME, f"{ref} is used but not listed under 'files'")


def referenced_files(manifest: dict[str, Any]) -> list[str]:
    """Files the manifest's content refers to: the kind's payload files (its codec), then graph exports."""
    refs = codec(manifest["kind"]).referenced_files(manifest)
    for e in manifest.get("exports", []):
        refs.extend(f.split("/")[0] for f in e["files"])
    return refs


def dump_manifest(manifest: dict[str, Any]) -> bytes:
    """Canonical JSON bytes: sorted keys, two-space indent, trailing newline (deterministic)."""
    return (json.dumps(manifest, indent=2, sort_keys=True, allow_nan=False) + "\n").encode("utf-8")

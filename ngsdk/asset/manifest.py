"""``manifest.json``: the bundle's table of contents, its JSON Schemas, version rule and checksums.

Compatibility rule (docs/asset-format.md): ``format_version`` is ``MAJOR.MINOR``; a kind's codec lists the
major versions it reads (``READABLE_MAJORS``); minor versions only add optional fields, which older readers
ignore and newer readers default. Another major version is refused.

Every manifest has the common fields of ``schema/manifest.schema.json``; the fields of its ``kind`` are
checked against ``schema/<kind>.schema.json``, and the kind's codec (``ngsdk.kinds``) maps them to the asset.
"""

from __future__ import annotations

import json
import os
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from ngsdk import kinds
from ngsdk.asset import limits
from ngsdk.asset.atomic import EXPORT_STAGING
from ngsdk.asset.codec import KindCodec
from ngsdk.asset.digest import sha256_file, sha256_tree, tree_bytes
from ngsdk.asset.errors import AssetError
from ngsdk.asset.safe_read import check_name, inside, read_json

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


@cache
def _validator_class() -> Any:
    """Draft 2020-12 with JSON's integers only: 1.0 or 1e3 is not an integer here (C++ reads a size as one)."""
    import jsonschema

    base = jsonschema.Draft202012Validator
    checker = base.TYPE_CHECKER.redefine(
        "integer", lambda _, x: isinstance(x, int) and not isinstance(x, bool))
    return jsonschema.validators.extend(base, type_checker=checker)


def _schema_errors(instance: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    validator = _validator_class()(schema)
    errors = sorted(validator.iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path])
    out = []
    for e in errors:
        where = "/".join(str(p) for p in e.absolute_path) or "(top level)"
        out.append(f"{where}: {' '.join(e.message.split())[:200]}")
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
    check_bounds(manifest, path)
    check_names(manifest, path)


# field name -> the largest value any kind may store there (ngsdk.asset.limits: what the formats allow)
FIELD_MAXIMA = {
    "width": limits.MAX_TEXTURE_DIM, "height": limits.MAX_TEXTURE_DIM, "depth": limits.MAX_VOLUME_DIM,
    "array_size": limits.MAX_ARRAY_LAYERS, "features": limits.MAX_FEATURES,
    "inputs": limits.MAX_LAYER_WIDTH, "outputs": limits.MAX_LAYER_WIDTH,
    "mip_levels": 15, "levels": 15,   # the full chain of a 16384 texture
}
NONZERO = ("scale", "scales", "input_scales", "out_scale")
"""Fields that multiply: zero (or a non-finite value) would make every decoded value or exported weight 0/inf."""


def check_bounds(manifest: dict[str, Any], path: str | Path) -> None:
    """Range checks every kind gets: the sizes of ``FIELD_MAXIMA`` (integers, at most the format's limit),
    mip counts within the full chain of their object's width and height, finite non-zero ``NONZERO`` fields.
    AssetError naming the field's JSON path."""
    import math

    def number(v: Any) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    def walk(o: Any, where: str) -> None:
        if isinstance(o, dict):
            for k, v in o.items():
                at = f"{where}/{k}" if where else str(k)
                top = FIELD_MAXIMA.get(k)
                values = v if isinstance(v, list) else [v]
                if top is not None:
                    for x in values:
                        if isinstance(x, float) or (isinstance(x, int) and not isinstance(x, bool) and x > top):
                            raise AssetError(path, f"{at}: {x!r} is not an integer of at most {top}")
                if k in NONZERO:
                    for x in values:
                        if number(x) and (not math.isfinite(x) or x == 0):
                            raise AssetError(path, f"{at}: {x!r} must be finite and non-zero")
                walk(v, at)
            w, h = o.get("width"), o.get("height")
            for key in ("mip_levels", "levels"):
                n = o.get(key)
                if isinstance(w, int) and isinstance(h, int) and isinstance(n, int) and w > 0 and h > 0 and \
                        n > max(w, h).bit_length():
                    raise AssetError(path, f"{where + '/' if where else ''}{key}: {n} exceeds the full mip chain "
                                           f"of {w}x{h} ({max(w, h).bit_length()} levels)")
        elif isinstance(o, list):
            for i, v in enumerate(o):
                walk(v, f"{where}/{i}")
        elif isinstance(o, float) and not math.isfinite(o):
            raise AssetError(path, f"{where}: {o!r} is not a finite number")

    walk(manifest, "")
    # a volume's extents (not every "shape": graph IO shapes count texels of whole images)
    shape = manifest.get("volume", {}).get("shape") if isinstance(manifest.get("volume"), dict) else None
    for i, n in enumerate(shape if isinstance(shape, list) else []):
        if not isinstance(n, int) or n > limits.MAX_VOLUME_DIM:
            raise AssetError(path, f"volume/shape/{i}: {n!r} is not an integer of at most {limits.MAX_VOLUME_DIM}")


def check_names(manifest: dict[str, Any], path: str | Path) -> None:
    """Every file name the manifest lists or refers to is a plain relative name inside the bundle, export
    records name files under a listed entry, and sizes and counts are within ngsdk.asset.limits."""
    files = manifest["files"]
    if len(files) > limits.MAX_FILES:
        raise AssetError(path, f"files: {len(files)} entries, over the limit of {limits.MAX_FILES}")
    total = 0
    for name, rec in files.items():
        check_name(name, path, "files")
        if name == MANIFEST_NAME:
            raise AssetError(path, "files: manifest.json cannot list itself")
        if rec["bytes"] > limits.MAX_FILE_BYTES:
            raise AssetError(path, f"files/{name}/bytes: {rec['bytes']} is over the limit of {limits.MAX_FILE_BYTES}")
        total += rec["bytes"]
    if total > limits.MAX_BUNDLE_BYTES:
        raise AssetError(path, f"files: {total} bytes in all, over the limit of {limits.MAX_BUNDLE_BYTES}")
    for i, e in enumerate(manifest.get("exports", [])):
        for f in e["files"]:
            check_name(f, path, f"exports/{i}/files")
            if f.split("/")[0] not in files:
                raise AssetError(path, f"exports/{i}/files: {f!r} is not under a file listed in 'files'")
    try:
        refs = codec(manifest["kind"]).referenced_files(manifest)
    except (KeyError, TypeError, IndexError, AttributeError, ValueError) as e:
        raise AssetError(path, f"malformed {manifest['kind']} manifest ({type(e).__name__}: {e})") from None
    for ref in refs:
        check_name(ref, path, "referenced file")


def read_manifest(bundle: str | Path, *, check_files: bool = True) -> dict[str, Any]:
    """Parse and validate ``bundle/manifest.json``; with ``check_files`` verify every listed file.

    Errors name the exact file: a missing or truncated manifest, a missing bundle file, a size
    or sha256 mismatch, an unlisted file the manifest refers to. The manifest is read under the reader
    discipline of ngsdk.asset.safe_read (a regular file inside the bundle, size-limited, strict JSON).
    """
    bundle = Path(bundle)
    if not os.path.lexists(bundle):
        from ngsdk.asset.atomic import recover_folder

        recover_folder(bundle)   # a writer killed between the two renames of a folder swap left it aside
    if not bundle.is_dir():
        raise AssetError(bundle, "bundle folder does not exist" if not bundle.exists() else "not a folder")
    path = bundle / MANIFEST_NAME
    if not os.path.lexists(path):
        raise AssetError(path, "missing (every bundle has a manifest.json)")
    path = inside(bundle, MANIFEST_NAME, "manifest")
    manifest = read_json(path, limit=limits.MAX_MANIFEST_BYTES, what="manifest")
    validate_manifest(manifest, path)
    if check_files:
        verify_files(bundle, manifest)
    return manifest


def verify_files(bundle: Path, manifest: dict[str, Any]) -> None:
    """Check every file in ``manifest['files']``: a regular file (or package folder) inside the bundle, its
    size (before hashing) and sha256; then that the manifest refers only to listed files and that the bundle
    holds no file it does not list."""
    bundle = Path(bundle)
    check_names(manifest, bundle / MANIFEST_NAME)
    for name, rec in manifest["files"].items():
        p = inside(bundle, name, "files", expect="any")
        if p.is_dir():
            if tree_bytes(p) != rec["bytes"]:
                raise AssetError(p, "package contents differ from manifest.json (total size)")
            if sha256_tree(p) != rec["sha256"]:
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
    for i, e in enumerate(manifest.get("exports", [])):
        for f in e["files"]:
            inside(bundle, f, f"exports/{i}/files", expect="any")
    extra = unlisted_files(bundle, manifest)
    if extra:
        more = f" (and {len(extra) - 1} more)" if len(extra) > 1 else ""
        hint = ("; it is the staging folder of an interrupted 'ngsdk export': export again (that removes it) or "
                "delete it" if extra[0].startswith(EXPORT_STAGING) else "; a bundle holds only listed files")
        raise AssetError(bundle / extra[0], f"not listed in manifest.json{more}{hint}")


def unlisted_files(bundle: Path, manifest: dict[str, Any]) -> list[str]:
    """Entries of the bundle folder that ``manifest['files']`` does not list (folders that only lead to
    listed files count as listed; a listed package folder covers what is inside it)."""
    listed = set(manifest["files"]) | {MANIFEST_NAME}
    parents = {"/".join(n.split("/")[:i]) for n in listed for i in range(1, n.count("/") + 1)}
    out: list[str] = []

    def walk(folder: Path, prefix: str) -> None:
        for entry in sorted(os.listdir(folder)):
            rel = f"{prefix}{entry}"
            if rel in listed:
                continue
            if rel in parents and (folder / entry).is_dir() and not (folder / entry).is_symlink():
                walk(folder / entry, rel + "/")
            else:
                out.append(rel)
            if len(out) > 20:
                return

    walk(bundle, "")
    return out


def referenced_files(manifest: dict[str, Any]) -> list[str]:
    """Files the manifest's content refers to: the kind's payload files (its codec), then graph exports."""
    refs = codec(manifest["kind"]).referenced_files(manifest)
    for e in manifest.get("exports", []):
        refs.extend(f.split("/")[0] for f in e["files"])
    return refs


def dump_manifest(manifest: dict[str, Any]) -> bytes:
    """Canonical JSON bytes: sorted keys, two-space indent, trailing newline (deterministic)."""
    return (json.dumps(manifest, indent=2, sort_keys=True, allow_nan=False) + "\n").encode("utf-8")

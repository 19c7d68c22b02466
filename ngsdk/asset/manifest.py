"""``manifest.json``: the bundle's table of contents, its JSON Schema, version rule and checksums.

Compatibility rule (docs/asset-format.md): ``format_version`` is ``MAJOR.MINOR``. A reader
accepts every bundle of its own MAJOR version; minor versions only add optional fields, which
older readers ignore and newer readers default. A different MAJOR version is refused.

Kinds: every manifest has the common fields of ``schema/manifest.schema.json``; the fields of
its ``kind`` are checked against ``schema/<kind>.schema.json``. A new kind adds its schema file
there and its (de)serialisation beside its asset type.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ngsdk.asset.digest import sha256_file, sha256_tree, tree_bytes
from ngsdk.asset.errors import AssetError
from ngsdk.asset.types import (
    Channel,
    Decoder,
    DecoderLayer,
    Encoding,
    FeatureGrid,
    GraphExport,
    IntLayer,
    NeuralTextureAsset,
    Provenance,
    QuantizedDecoder,
    SamplerState,
)

FORMAT_VERSION = "1.0"
"""The format version of the volume and shading kinds."""
TEXTURE_FORMAT_VERSION = "2.0"
"""Neural textures: 2.0 replaced ``texture.grid_levels`` with ``texture.mip_inputs`` (latent taps + LOD input)."""
MANIFEST_NAME = "manifest.json"
_MAJOR = int(FORMAT_VERSION.split(".")[0])
READABLE_MAJORS: dict[str, tuple[int, ...]] = {"neural_texture": (1, 2)}
"""Major versions each kind reads (others: only ``_MAJOR``); 1.x texture manifests load through a converter."""


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


def check_version(version: str, path: Path, kind: str | None = None) -> None:
    try:
        major = int(str(version).split(".")[0])
    except ValueError:
        raise AssetError(path, f"format_version {version!r} is not MAJOR.MINOR") from None
    majors = READABLE_MAJORS.get(kind or "", (_MAJOR,))
    if major not in majors:
        readable = " and ".join(f"{m}.x" for m in majors)
        raise AssetError(
            path,
            f"unknown format version {version} (this ngsdk reads {readable} {kind or ''} bundles; "
            f"{'upgrade ngsdk' if major > max(majors) else 're-export the asset'})".replace("  ", " "),
        )


def validate_manifest(manifest: Any, path: str | Path) -> None:
    """Check version, the common schema and the kind's schema; raise AssetError on the first problem."""
    path = Path(path)
    if not isinstance(manifest, dict):
        raise AssetError(path, "manifest is not a JSON object")
    if manifest.get("format") != "ngasset":
        raise AssetError(path, "not an ngsdk manifest (field 'format' is not 'ngasset')")
    check_version(manifest.get("format_version", "?"), path, manifest.get("kind") if isinstance(
        manifest.get("kind"), str) else None)
    problems = _schema_errors(manifest, load_schema("manifest"))
    if not problems:
        try:
            problems = _schema_errors(manifest, load_schema(manifest["kind"]))
        except KeyError:
            raise AssetError(path, f"unknown asset kind {manifest['kind']!r}") from None
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
    """Files the manifest's content refers to (grids, decoder, exports)."""
    refs = [g["file"] for g in manifest.get("grids", [])]
    if "decoder" in manifest:
        refs.append(manifest["decoder"]["file"])
    if "weights" in manifest and isinstance(manifest["weights"], dict) and "file" in manifest["weights"]:
        refs.append(manifest["weights"]["file"])
    for b in manifest.get("bricks", []):    # neural_volume
        refs.extend(g["file"] for g in b.get("grids", []))
        if "decoder" in b:
            refs.append(b["decoder"]["file"])
    for e in manifest.get("exports", []):
        refs.extend(f.split("/")[0] for f in e["files"])
    return refs


def dump_manifest(manifest: dict[str, Any]) -> bytes:
    """Canonical JSON bytes: sorted keys, two-space indent, trailing newline (deterministic)."""
    return (json.dumps(manifest, indent=2, sort_keys=True, allow_nan=False) + "\n").encode("utf-8")


# --------------------------------------------------------------------------- neural texture <-> dict

def _f32(x: float) -> float:
    # JSON carries the float32 value exactly: repr of the widened double round-trips.
    return float(np.float32(x))


def neural_texture_to_manifest(asset: NeuralTextureAsset, files: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The manifest of ``asset``; ``files`` maps each written file to :func:`file_record`."""
    enc = asset.encoding
    tap_inputs = [f"tap{t}:{asset.grids[g].name}[{i}]" for t, (g, _) in enumerate(asset.taps[0])
                  for i in range(asset.grids[g].features)]
    enc_inputs = [
        f"tri(f={f:g},p={p:g},{axis})" for f in enc.frequencies for p in enc.phases for axis in "uv"
    ] if enc.kind != "none" else []
    lod_inputs = ["lod"] if asset.lod_inputs is not None else []
    mip_inputs = []
    for m, taps in enumerate(asset.taps):
        entry: dict[str, Any] = {"taps": [[int(g), int(l)] for g, l in taps]}
        if asset.lod_inputs is not None:
            entry["lod"] = int(asset.lod_inputs[m])
        mip_inputs.append(entry)
    return {
        "format": "ngasset",
        "format_version": TEXTURE_FORMAT_VERSION,
        "kind": "neural_texture",
        "name": asset.name,
        "texture": {
            "width": asset.width,
            "height": asset.height,
            "mip_levels": asset.mip_levels,
            "mip_inputs": mip_inputs,
        },
        "channels": [asdict(c) for c in asset.channels],
        "grids": [
            {
                "name": g.name,
                "file": g.file,
                "dxgi_format": "R8G8B8A8_UNORM",
                "width": g.width,
                "height": g.height,
                "levels": len(g.levels),
                "features": g.features,
                "bits": g.bits,
                "array_size": g.array_size,
                "packing": "lsb_first_rgba_slices",
                "dequantize": {"scale": _f32(g.scale), "offset": _f32(g.offset)},
            }
            for g in asset.grids
        ],
        "decoder": _decoder_manifest(asset, tap_inputs + enc_inputs + lod_inputs),
        "encoding": {"type": enc.kind, "frequencies": list(map(float, enc.frequencies)),
                     "phases": list(map(float, enc.phases))},
        "sampler": asdict(asset.sampler),
        "decode_mode": asset.decode_mode,
        "provenance": asdict(asset.provenance),
        "exports": [asdict(e) for e in asset.exports],
        "files": files,
    }


def _decoder_manifest(asset: NeuralTextureAsset, input_order: list[str]) -> dict[str, Any]:
    d = asset.decoder
    out: dict[str, Any] = {
        "file": d.file,
        "dtype": d.dtype,
        "layout": d.layout,
        "inputs": d.inputs,
        "outputs": d.outputs,
        "leaky_slope": _f32(d.leaky_slope),
        "input_order": input_order,
    }
    q = d.quantized
    if q is None:
        out["layers"] = [
            {"weight": f"layer{i}.weight", "bias": f"layer{i}.bias", "inputs": layer.inputs,
             "outputs": layer.outputs, "activation": layer.activation}
            for i, layer in enumerate(d.layers)
        ]
        return out
    out["layers"] = [
        {"weight": f"q.layer{i}.weight", "bias": f"q.layer{i}.bias", "multiplier": f"q.layer{i}.multiplier",
         "shift": f"q.layer{i}.shift", "inputs": layer.inputs, "outputs": layer.outputs,
         "activation": layer.activation, "out_scale": _f32(layer.out_scale)}
        for i, layer in enumerate(q.layers)
    ]
    out["quantized"] = {
        "scheme": q.scheme,
        "coordinate_bits": 8,
        "input_range": [-127, 127],
        "activation_range": [0, 255],
        "output": "unorm8_stored",
        "latent_shift": [asset.grids[g].bits + 9 for g, _ in asset.taps[0]],
        "encoding_terms": [{"period_log2": int(s), "phase": int(p)} for s, p in zip(q.period_log2, q.phase)],
        "input_scales": [_f32(x) for x in q.input_scales],
        "reference_profile": q.reference_profile,
    }
    return out


def decoder_npz_spec(manifest: dict[str, Any]) -> dict[str, tuple[tuple[int, ...], str]]:
    """The arrays ``decoder.npz`` must hold: key -> (shape, dtype), from the manifest's decoder section."""
    d = manifest["decoder"]
    expected: dict[str, tuple[tuple[int, ...], str]] = {}
    quantized = "quantized" in d
    for layer in d["layers"]:
        shape = (layer["outputs"], layer["inputs"])
        if quantized:
            expected[layer["weight"]] = (shape, "int8")
            for key in ("bias", "multiplier", "shift"):
                expected[layer[key]] = ((layer["outputs"],), "int32")
        else:
            expected[layer["weight"]] = (shape, "float32")
            expected[layer["bias"]] = ((layer["outputs"],), "float32")
    return expected


def _decoder_from_manifest(d: dict[str, Any], arrays: dict[str, np.ndarray]) -> Decoder:
    if "quantized" not in d:
        layers = [DecoderLayer(arrays[l["weight"]], arrays[l["bias"]], l["activation"]) for l in d["layers"]]
        for spec, layer in zip(d["layers"], layers):
            if (layer.outputs, layer.inputs) != (spec["outputs"], spec["inputs"]):
                raise ValueError(
                    f"{spec['weight']} has shape {layer.weight.shape}, manifest says "
                    f"({spec['outputs']}, {spec['inputs']})"
                )
        return Decoder(layers=layers, file=d["file"], dtype=d["dtype"], layout=d["layout"],
                       leaky_slope=d.get("leaky_slope", 0.01))
    qd = d["quantized"]
    layers_q = [
        IntLayer(arrays[l["weight"]], arrays[l["bias"]], arrays[l["multiplier"]], arrays[l["shift"]],
                 l["activation"], float(np.float32(l["out_scale"])))
        for l in d["layers"]
    ]
    terms = qd.get("encoding_terms", [])
    q = QuantizedDecoder(
        layers=layers_q, period_log2=[t["period_log2"] for t in terms], phase=[t["phase"] for t in terms],
        input_scales=[float(np.float32(x)) for x in qd["input_scales"]], scheme=qd["scheme"],
        reference_profile=qd.get("reference_profile", "d3d11"),
    )
    return Decoder(layers=q.float_layers(), file=d["file"], layout=d["layout"],
                   leaky_slope=d.get("leaky_slope", 0.01), quantized=q)


def _mip_inputs(t: dict[str, Any]) -> tuple[list[list[tuple[int, int]]], list[int] | None]:
    """Per-mip latent taps and LOD inputs of a texture section: 2.x ``mip_inputs``, or 1.x ``grid_levels``
    (mip ``m`` read level ``grid_levels[m][g]`` of every grid ``g``, no LOD input)."""
    if "mip_inputs" not in t:
        return [[(g, int(l)) for g, l in enumerate(levels)] for levels in t["grid_levels"]], None
    entries = t["mip_inputs"]
    taps = [[(int(g), int(l)) for g, l in e["taps"]] for e in entries]
    has_lod = ["lod" in e for e in entries]
    if any(has_lod) and not all(has_lod):
        raise ValueError("texture.mip_inputs: 'lod' must be given for every mip or for none")
    return taps, ([int(e["lod"]) for e in entries] if all(has_lod) and entries else None)


def neural_texture_from_manifest(
    manifest: dict[str, Any],
    grid_levels: dict[str, list[np.ndarray]],
    decoder_arrays: dict[str, np.ndarray],
    path: str | Path,
) -> NeuralTextureAsset:
    """Rebuild the asset from a validated manifest, the unpacked grid codes and the decoder arrays."""
    try:
        grids = [
            FeatureGrid(
                name=g["name"], features=g["features"], bits=g["bits"], scale=g["dequantize"]["scale"],
                offset=g["dequantize"]["offset"], levels=grid_levels[g["name"]], file=g["file"],
            )
            for g in manifest["grids"]
        ]
        decoder = _decoder_from_manifest(manifest["decoder"], decoder_arrays)
        e = manifest["encoding"]
        encoding = Encoding(kind=e["type"], frequencies=e.get("frequencies", []), phases=e.get("phases", []))
        t = manifest["texture"]
        taps, lods = _mip_inputs(t)
        if len(taps) != t["mip_levels"]:
            raise ValueError(f"texture has latent inputs for {len(taps)} mips, mip_levels says {t['mip_levels']}")
        p = manifest["provenance"]
        return NeuralTextureAsset(
            name=manifest["name"],
            width=t["width"],
            height=t["height"],
            channels=[Channel(**c) for c in manifest["channels"]],
            grids=grids,
            taps=taps,
            lod_inputs=lods,
            decoder=decoder,
            encoding=encoding,
            sampler=SamplerState(**manifest["sampler"]),
            provenance=Provenance.from_manifest(p),
            decode_mode=manifest["decode_mode"],
            exports=[GraphExport(**x) for x in manifest.get("exports", [])],
        )
    except (ValueError, TypeError) as e:
        raise AssetError(path, f"inconsistent with manifest.json: {e}") from None

"""Load an ``.ngasset`` bundle from disk into the asset interface (numpy only).

Checks, each failing with a one-line :class:`AssetError` naming the file: manifest JSON,
version and schema; presence, size and sha256 of every listed file; each grid's DDS header
against the manifest (format, size, levels, slices); codes inside their bit range with unused
bits clear; decoder arrays' names, dtypes and shapes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ngsdk.asset.errors import AssetError
from ngsdk.asset.manifest import decoder_npz_spec, neural_texture_from_manifest, read_manifest
from ngsdk.asset.packing import unpack_codes, unused_bits_clear
from ngsdk.asset.types import NeuralTextureAsset
from runtime_ref.dds import read_dds
from runtime_ref.npz import read_npz


def _grid_levels(bundle: Path, g: dict[str, Any]) -> list[np.ndarray]:
    path = bundle / g["file"]
    tex = read_dds(path)
    expect = (g["width"], g["height"], g["levels"], g["array_size"])
    found = (tex.width, tex.height, tex.mip_count, tex.array_size)
    if tex.format.name != g["dxgi_format"] or tex.dimension != "2d" or tex.cube:
        raise AssetError(path, f"is {tex.format.name} {tex.dimension}, manifest says {g['dxgi_format']} 2d")
    if found != expect:
        raise AssetError(
            path,
            "shape mismatch: DDS is {}x{} with {} mips and {} slices, manifest says {}x{} with {} mips and {} slices"
            .format(*found, *expect),
        )
    levels = []
    for m, texels in enumerate(tex.mips):
        if not unused_bits_clear(texels, g["features"], g["bits"]):
            raise AssetError(path, f"mip {m} has bits set outside the {g['features']} packed {g['bits']}-bit codes")
        levels.append(unpack_codes(texels, g["features"], g["bits"]))
    return levels


def load_neural_texture(bundle: str | Path, manifest: dict[str, Any] | None = None) -> NeuralTextureAsset:
    """Load a neural texture bundle; ``manifest`` skips re-reading an already validated one."""
    bundle = Path(bundle)
    if manifest is None:
        manifest = read_manifest(bundle)
    if manifest["kind"] != "neural_texture":
        raise AssetError(bundle / "manifest.json", f"kind is {manifest['kind']!r}, not a neural texture")
    grids = {g["name"]: _grid_levels(bundle, g) for g in manifest["grids"]}
    d = manifest["decoder"]
    arrays = read_npz(bundle / d["file"], decoder_npz_spec(manifest), strict=True)
    return neural_texture_from_manifest(manifest, grids, arrays, bundle / "manifest.json")

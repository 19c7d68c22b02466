"""Write a shading MLP as an ``.ngasset`` bundle: weights.npz, its portable exports (RTXNS JSON, binary
layouts, shaders: ``ngsdk.exporters.shading_mlp_portable``) and manifest.json."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ngsdk.asset.shading_mlp import ShadingMlpAsset, to_manifest
from ngsdk.exporters.bundle import write_bundle
from ngsdk.exporters.npz import write_npz
from ngsdk.exporters.shading_mlp_portable.portable import write_portable


def write_payload(asset: ShadingMlpAsset, folder: Path, portable: bool = True) -> list[str]:
    """Write the weights and (with ``portable``) the portable exports into ``folder``, recording them in
    ``asset.portable``; return their names."""
    write_npz(folder / asset.decoder.file, asset.decoder.arrays())
    asset.portable = write_portable(asset, folder) if portable else []
    return [asset.decoder.file] + [entry["file"] for entry in asset.portable]


def write_shading_mlp(asset: ShadingMlpAsset, out: str | Path, *, portable: bool = True) -> dict[str, Any]:
    """Write ``asset`` to the bundle folder ``out`` (ngsdk.exporters.bundle); return the manifest. ``portable``:
    also the JSON, binary and shader exports (``ngsdk train shading --no-portable`` leaves them out)."""
    return write_bundle(asset, out, lambda a, folder: write_payload(a, folder, portable), to_manifest)

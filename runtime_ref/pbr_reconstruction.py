"""Reference runtime of PBR reconstruction bundles (numpy only): the loader, and a run of a graph export
(Core ML through ngsdk.runtime_ref.mil, ONNX through onnxruntime) on uint8 views.

Every run returns the maps *encoded* as the material files store them, float64 (N, 8, S, S) in [0, 1]:
albedo (sRGB), roughness, metallic, and the normal as 0.5 n + 0.5; so tensor and image exports, and the
reference set, compare in one unit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ngsdk.asset.errors import AssetError
from ngsdk.asset.manifest import read_manifest
from ngsdk.asset.pbr_reconstruction import (
    MAPS,
    VIEW_INPUTS,
    PbrReconstructionAsset,
    from_manifest,
    map_slices,
    referenced_files,
)
from ngsdk.runtime_ref.npz import read_npz


def load_pbr_reconstruction(bundle: str | Path, manifest: dict[str, Any] | None = None) -> PbrReconstructionAsset:
    """Read a ``pbr_reconstruction`` bundle (manifest, weights.npz, reference.npz)."""
    bundle = Path(bundle)
    manifest = manifest or read_manifest(bundle)
    if manifest.get("kind") != "pbr_reconstruction":
        raise AssetError(bundle / "manifest.json", f"kind is {manifest.get('kind')!r}, not pbr_reconstruction")
    contents = {name: read_npz(bundle / name) for name in referenced_files(manifest)}
    return from_manifest(manifest, contents, bundle / "manifest.json")


def encode_maps(maps: np.ndarray) -> np.ndarray:
    """Network outputs (N, 8, S, S) (normals as unit vectors) -> the stored encoding (normals 0.5 n + 0.5)."""
    out = np.asarray(maps, dtype=np.float64).copy()
    out[:, map_slices()["normal"]] = out[:, map_slices()["normal"]] * 0.5 + 0.5
    return out


def tensor_views(views: np.ndarray) -> dict[str, np.ndarray]:
    """uint8 (N, 3, H, W, 3) views -> the tensor inputs ``view1..3``: float32 (N, 3, H, W) in [0, 1]."""
    v = np.asarray(views)
    return {name: np.ascontiguousarray(v[:, i].transpose(0, 3, 1, 2), dtype=np.float32) / np.float32(255)
            for i, name in enumerate(VIEW_INPUTS)}


def _stack_outputs(outs: dict[str, np.ndarray], image: bool, where: Path) -> np.ndarray:
    """Graph outputs by map name -> encoded (N, 8, S, S) float64."""
    parts = []
    for m in MAPS:
        if m.name not in outs:
            raise AssetError(where, f"the graph has no output {m.name!r} (outputs: {', '.join(sorted(outs))})")
        x = np.asarray(outs[m.name])
        if image:  # (H, W, C) uint8 pixels of one sample
            x = (x.astype(np.float64) / 255.0).reshape(*x.shape[:2], -1).transpose(2, 0, 1)[None]
        elif m.encoding == "unit_vector":
            x = x.astype(np.float64) * 0.5 + 0.5
        if x.shape[1] != m.channels:
            raise AssetError(where, f"output {m.name!r} has {x.shape[1]} channels, expected {m.channels}")
        parts.append(x.astype(np.float64))
    return np.concatenate(parts, axis=1)


def run_export(bundle: str | Path, entry: dict[str, Any], views: np.ndarray) -> np.ndarray:
    """Run one graph export of the bundle (its manifest ``exports`` entry) on uint8 views (N, 3, H, W, 3);
    returns encoded maps (N, 8, S, S). Core ML runs one sample at a time (the programs have batch 1);
    ToolchainError (from ngsdk.toolchain) when onnxruntime is missing."""
    bundle = Path(bundle)
    path = bundle / entry["files"][0]
    io = entry.get("io", {}).get("kind", "tensor")
    if entry["format"] == "onnx":
        from ngsdk.runtime_ref.onnx_check import run_onnxruntime

        return _stack_outputs(run_onnxruntime(path, tensor_views(views)), False, path)
    if entry["format"] != "coreml":
        raise AssetError(path, f"no PBR run for export format {entry['format']!r}")
    from ngsdk.runtime_ref.mil import load_mlpackage
    from ngsdk.runtime_ref.mil.images import run_with_images

    pkg = load_mlpackage(path)
    rows = []
    for n in range(views.shape[0]):
        if io == "image":
            feeds = {name: views[n, i] for i, name in enumerate(VIEW_INPUTS)}
        else:
            feeds = {k: v[n:n + 1] for k, v in tensor_views(views).items()}
        rows.append(_stack_outputs(run_with_images(pkg, feeds), io == "image", path))
    return np.concatenate(rows, axis=0)

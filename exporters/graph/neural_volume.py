"""The neural-volume decoder as a torch graph, for ONNX, Core ML and VGF export.

One graph per brick: ``features`` (N, K) -> ``value`` (N, 1). ``features`` are the brick's grid features at
a point, concatenated in grid order (the manifest's ``bricks[].decoder.input_order``), each the trilinear
interpolation (zero outside the grid) of the dequantized grid at ``q = T p_local + t``, where ``p_local``
is the point in the brick's local cube. ``value`` is the decoder MLP's output clamped to [0, 1]: the
normalized density, as runtime_ref's decode returns it (source units: ``v * (vmax - vmin) + vmin``).
The engine samples the grids (its 3D texture units do exactly this) and runs the graph.

Graph names: ``nv_decoder`` for a single-brick asset; ``nv_decoder_<brick name>`` (``nv_decoder_brick000``,
...) for each brick of an ensemble.

Example and calibration features are computed here from the asset interface alone (dequantized grids,
the spec's transforms and trilinear rule in float64), independently of runtime_ref: verify compares the
graphs with runtime_ref's decoder.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ngsdk.asset.errors import AssetError
from ngsdk.asset.neural_volume import NeuralVolumeAsset, VolumeBrick, VolumeGrid, local_transform, voxel_positions
from ngsdk.asset.types import GraphExport
from ngsdk.exporters.graph.api import export_all
from ngsdk.exporters.graph.bundle_exports import VGF_BATCH, calibration_batches, graph_export, precisions
from ngsdk.exporters.graph.io import IODescription, TensorIO

GRAPH_PREFIX = "nv_decoder"


def graph_name(asset: NeuralVolumeAsset, brick_index: int) -> str:
    """``nv_decoder`` for a single brick, else ``nv_decoder_<brick name>``."""
    if len(asset.bricks) == 1:
        return GRAPH_PREFIX
    return f"{GRAPH_PREFIX}_{asset.bricks[brick_index].name}"


class _Clamp01(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.clamp(x, 0.0, 1.0)


def decoder_module(brick: VolumeBrick) -> nn.Sequential:
    """The brick's MLP (float weights): Linear + ReLU hidden layers, the output Linear clamped to [0, 1]."""
    mods: list[nn.Module] = []
    layers = brick.decoder.layers
    for i, layer in enumerate(layers):
        lin = nn.Linear(layer.inputs, layer.outputs)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(layer.weight, dtype=np.float32)))
            lin.bias.copy_(torch.from_numpy(np.ascontiguousarray(layer.bias, dtype=np.float32)))
        # hidden layers are relu, the output none/clamp01 (asset validation); decoding clamps either way
        mods += [lin, nn.ReLU() if i < len(layers) - 1 else _Clamp01()]
    return nn.Sequential(*mods).eval()


def _feature_range(g: VolumeGrid) -> tuple[float, float]:
    # trilinear weights sum to at most 1 and taps outside the grid are 0, so 0 is always reachable
    v = g.dequantized()
    return min(0.0, float(v.min())), max(0.0, float(v.max()))


def decoder_io(asset: NeuralVolumeAsset, brick_index: int) -> IODescription:
    brick = asset.bricks[brick_index]
    lo = min(_feature_range(g)[0] for g in brick.grids)
    hi = max(_feature_range(g)[1] for g in brick.grids)
    if hi <= lo:
        hi = lo + 1.0
    where = "" if len(asset.bricks) == 1 else f"brick {brick.name} (core {list(brick.core)}, fit {list(brick.fit)}): "
    nrm = asset.normalization
    return IODescription(
        inputs=(TensorIO("features", ("batch", brick.features), layout="NC", value_range=(lo, hi),
                         semantics=f"{where}each grid's trilinear feature (zero outside the grid, corner aligned) "
                                   "at q = T p_local + t, p_local the point in the brick's local cube "
                                   "(manifest bricks[].to_local); grid order as decoder.input_order",
                         channels=tuple(f"{g.name}[{i}]" for g in brick.grids for i in range(g.features))),),
        outputs=(TensorIO("value", ("batch", 1), layout="NC", value_range=(0.0, 1.0), color_space="data",
                          semantics=f"normalized density clamped to [0, 1]; source units v * "
                                    f"({nrm.vmax!r} - {nrm.vmin!r}) + {nrm.vmin!r}",
                          channels=("value",)),),
    )


# --------------------------------------------------------------------------- features from the asset


def sample_points(asset: NeuralVolumeAsset, brick_index: int, n: int, *, seed: int = 0,
                  continuous: bool = False) -> np.ndarray:
    """float32 (n, 3) volume coordinates (x, y, z) in the brick's core: random voxel positions, or with
    ``continuous`` uniform points of the core box extended by half a voxel (clipped to the volume)."""
    rng = np.random.default_rng(seed)
    c = asset.bricks[brick_index].core
    cols = []
    for size, c0, c1 in zip(asset.shape[::-1], c[4::-2], c[5::-2], strict=True):  # x, y, z
        if continuous:
            u = np.clip(rng.uniform(c0 - 0.5, c1 - 0.5, n), 0.0, size - 1)
            cols.append((2.0 * u / (size - 1) - 1.0).astype(np.float32))
        else:
            cols.append(voxel_positions(size)[rng.integers(c0, c1, n)])
    return np.ascontiguousarray(np.stack(cols, axis=1))


def _trilinear(g: VolumeGrid, q: np.ndarray) -> np.ndarray:
    """float64 (N, F): the grid at float64 grid-cube coordinates q (N, 3, x y z), zero outside."""
    rz, ry, rx = g.resolution
    table = g.dequantized().astype(np.float64).reshape(-1, g.features)
    taps = []
    for axis, r in enumerate((rx, ry, rz)):
        u = np.clip(np.nan_to_num((q[:, axis] + 1.0) * (0.5 * (r - 1)), nan=-2.0), -2.0, r + 1.0)
        i0 = np.floor(u)
        w = u - i0
        i0 = i0.astype(np.int64)
        taps.append([(np.where((i >= 0) & (i < r), wt, 0.0), np.clip(i, 0, r - 1))
                     for i, wt in ((i0, 1.0 - w), (i0 + 1, w))])
    out = np.zeros((q.shape[0], g.features))
    for wz, z in taps[2]:
        for wy, y in taps[1]:
            for wx, x in taps[0]:
                out += (wz * wy * wx)[:, None] * table[(z * ry + y) * rx + x]
    return out


def brick_features(asset: NeuralVolumeAsset, brick_index: int, p: np.ndarray) -> np.ndarray:
    """float32 (N, K) decoder inputs of a brick at volume coordinates ``p`` (N, 3) float32.

    ``p_local = f32(f32(p * s) + o)`` as the spec defines it; transforms and trilinear sums in float64.
    """
    brick = asset.bricks[brick_index]
    s, o = local_transform(asset.shape, brick.fit)
    pl = (np.asarray(p, np.float32) * s + o).astype(np.float64)
    cols = []
    for g in brick.grids:
        t = g.transform.astype(np.float64)
        cols.append(_trilinear(g, pl @ t[:, :3].T + t[:, 3]))
    return np.ascontiguousarray(np.concatenate(cols, axis=1), dtype=np.float32)


def sample_features(asset: NeuralVolumeAsset, brick_index: int, n: int, *, seed: int = 0,
                    continuous: bool = False) -> np.ndarray:
    """Decoder inputs at ``n`` seeded points of the brick's core (see :func:`sample_points`)."""
    return brick_features(asset, brick_index,
                          sample_points(asset, brick_index, n, seed=seed, continuous=continuous))


def calibration_features(asset: NeuralVolumeAsset, brick_index: int, n: int,
                         calibration: Path | None = None) -> np.ndarray:
    """int8 calibration inputs: ``n`` continuous points of the brick's core, or the .npy files (N, K) of
    ``calibration`` (a file or a folder), whose K must be the brick's."""
    k = asset.bricks[brick_index].features
    if calibration is None:
        return sample_features(asset, brick_index, n, seed=1, continuous=True)
    calibration = Path(calibration)
    files = sorted(calibration.glob("*.npy")) if calibration.is_dir() else [calibration]
    if not files:
        raise AssetError(calibration, "no .npy files of decoder features (N, K) to calibrate with")
    arrays = []
    for f in files:
        try:
            a = np.load(f, allow_pickle=False)
        except (OSError, ValueError) as e:
            raise AssetError(f, f"cannot read calibration array: {e}") from None
        if a.ndim != 2 or a.shape[1] != k:
            raise AssetError(f, f"calibration array has shape {a.shape}, brick "
                                f"{asset.bricks[brick_index].name} takes (N, {k}) features")
        arrays.append(a.astype(np.float32))
    return np.concatenate(arrays)


def export_graphs(
    asset,
    bundle: str | Path,
    formats: Sequence[str],
    *,
    precision: str | None = None,
    calibration: str | Path | None = None,
    opset: int = 17,
) -> list[GraphExport]:
    """Graph exports of a neural volume bundle: per brick, the decoder ``features`` (N, K) -> ``value`` (N, 1)
    clamped to [0, 1] (see volume_graphs), named ``nv_decoder`` (one brick) or ``nv_decoder_<brick>``.

    Examples: features at 4096 seeded voxels of the brick's core. int8 PTQ calibrates on 4 x 4096 features
    at continuous points of the core, or on ``calibration`` (.npy files (N, K) of that brick's features).
    """
    import torch

    from ngsdk.exporters.graph.neural_volume import (
        calibration_features,
        decoder_io,
        decoder_module,
        graph_name,
        sample_features,
    )

    entries: list[GraphExport] = []
    for b, brick in enumerate(asset.bricks):
        name = graph_name(asset, b)
        module = decoder_module(brick)
        examples = (torch.from_numpy(sample_features(asset, b, VGF_BATCH, seed=0)),)
        calib = None
        for fmt in formats:
            precs = precisions(fmt, precision)
            if fmt == "vgf" and "int8" in precs and calib is None:
                x = calibration_features(asset, b, 4 * VGF_BATCH, Path(calibration) if calibration else None)
                calib = calibration_batches(x)
            recs = export_all(module, examples, decoder_io(asset, b), [fmt], {fmt: precs}, bundle,
                              calibration=calib, name=name, asset_id=asset.name, opset=opset)
            entries += [graph_export(r, name) for r in recs]
    return entries

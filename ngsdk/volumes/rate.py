"""Rate control of neural volumes: a model sized for a compression ratio (``--ratio``), and the largest ratio
whose volume reaches a PSNR (``--target-psnr``). Torch-free until a search trains.

Sizes count every byte a decoder needs (:func:`ngsdk.volumes.baselines.decode_bytes`: grid texels, decoder
weights, transforms, scale/offset, brick boxes, normalization), so ratios compare directly with ZFP's and SZ3's.
A grid's texel holds four components whatever the feature count, so a sized model always uses four features.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ngsdk.ratesearch import first_passing
from ngsdk.volumes.baselines import BRICK_META_BYTES, GRID_TEXEL_META_BYTES, VOLUME_META_BYTES
from ngsdk.volumes.config import VolumeTrainConfig, decoder_bytes, grid_bytes

RATIO_LADDER = (1000.0, 500.0, 300.0, 200.0, 100.0, 50.0, 30.0, 20.0, 10.0, 5.0, 3.0, 2.0)
"""Ratios ``--target-psnr`` chooses from (largest first = smallest model first)."""
GRID_COUNTS = (48, 32, 24, 20, 16, 12, 10, 8, 6, 4, 3, 2, 1)
PREFERRED_GRIDS = 8
"""The grid count sizing aims for. The seed paper uses 16; at the budgets of 50:1 and beyond, 4 to 8 grids of a
higher resolution train as well per step (plume 128^3 at 100:1, 800 CPU steps: 1 / 2 / 4 / 8 / 16 grids give
41.28 / 42.62 / 43.33 / 43.58 / 42.52 dB) and a step costs about the grid count (the samplers' work), so under a
time budget fewer grids win: on the H100 in 15 s, 48 grids of 7^3 reached 29.87 dB where 2 grids of 20^3 reach
45.68 dB on the CPU in 40 s."""
GRID_RANGE = (2, 32)
"""Grid counts sizing picks from when any fits (the 48 grids of 7^3 it once chose for the plume are out)."""
HIDDEN_WIDTHS = (64, 32, 16, 8)
DECODER_SHARE = 0.25
"""The largest share of the budget the decoder may take; the widest of :data:`HIDDEN_WIDTHS` within it wins."""
RATIO_TOLERANCE = 0.05
"""A sized model's bytes lie within this fraction below the budget when the sizes allow (:func:`size_for_bytes`)."""
MIN_GRID_RES = 4
FUSED_KERNEL_WEIGHTS = 15 * 1024
"""Most decoder weights + biases the fused CUDA decode keeps in constant memory (runtime_ref.neural_volume_cuda):
sized models stay within it, so every decode path (NumPy, CuPy, the fused kernel) takes them."""


def _decoder_params(inputs: int, hidden: int, layers: int) -> int:
    dims = [inputs] + [hidden] * layers + [1]
    return sum(a * b + b for a, b in zip(dims, dims[1:]))


def predicted_bytes(cfg: VolumeTrainConfig) -> int:
    """Bytes of a volume trained with ``cfg``, counted as :func:`ngsdk.volumes.baselines.decode_bytes` counts
    the trained asset (exact: the sizes depend on the configuration only)."""
    bricks = math.prod(int(b) for b in cfg.bricks)
    per_brick = cfg.grids * (grid_bytes(cfg.grid_res, cfg.storage) + GRID_TEXEL_META_BYTES) \
        + decoder_bytes(cfg.grids * cfg.features, cfg.hidden, cfg.hidden_layers) + BRICK_META_BYTES
    return bricks * per_brick + VOLUME_META_BYTES


def _decoder_width(budget: int, grids: int, layers: int, fixed: int | None) -> int:
    if fixed is not None:
        return fixed
    for width in HIDDEN_WIDTHS:
        if decoder_bytes(grids * 4, width, layers) <= DECODER_SHARE * budget:
            return width
    return HIDDEN_WIDTHS[-1]


def size_for_bytes(cfg: VolumeTrainConfig, budget: int, *, grids: int | None = None,
                   hidden: int | None = None) -> VolumeTrainConfig:
    """A copy of ``cfg`` whose model (grid count and resolution, 4 features, decoder width) takes at most
    ``budget`` bytes, as close to it as the sizes allow.

    ``grids`` / ``hidden`` fix the grid count / decoder width (``--grids`` / ``--hidden``). Among the grid counts
    of :data:`GRID_RANGE` whose largest resolution fits (all counts when none does), those within
    :data:`RATIO_TOLERANCE` of the budget are preferred, and of those the one nearest :data:`PREFERRED_GRIDS`;
    otherwise the fullest. ValueError when not even the
    smallest model (1 grid of 4^3, width 8) fits.
    """
    bricks = math.prod(int(b) for b in cfg.bricks)
    candidates = []
    for g in ((grids,) if grids else GRID_COUNTS):
        width = _decoder_width(budget // bricks, g, cfg.hidden_layers, hidden)
        if _decoder_params(g * 4, width, cfg.hidden_layers) > FUSED_KERNEL_WEIGHTS:
            continue
        trial = dataclasses.replace(cfg, grids=g, features=4, hidden=width, grid_res=MIN_GRID_RES)
        if predicted_bytes(trial) > budget:
            continue
        lo, hi = MIN_GRID_RES, 256  # largest resolution within the budget (bytes grow with it)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if predicted_bytes(dataclasses.replace(trial, grid_res=mid)) <= budget:
                lo = mid
            else:
                hi = mid - 1
        trial.grid_res = lo
        candidates.append((predicted_bytes(trial), trial))
    if not candidates:
        smallest = predicted_bytes(dataclasses.replace(cfg, grids=grids or 1, features=4, hidden=hidden or 8,
                                                       grid_res=MIN_GRID_RES))
        raise ValueError(f"a budget of {budget:,} bytes is below the smallest model ({smallest:,} bytes with "
                         f"{bricks} brick(s)): ask for a lower ratio")
    in_range = [c for c in candidates if GRID_RANGE[0] <= c[1].grids <= GRID_RANGE[1]] or candidates
    close = [c for c in in_range if c[0] >= budget * (1 - RATIO_TOLERANCE)]
    if close:
        return min(close, key=lambda c: (abs(math.log2(c[1].grids / PREFERRED_GRIDS)), -c[0]))[1]
    return max(in_range, key=lambda c: c[0])[1]


def source_bytes(shape: tuple[int, ...], source_dtype: str) -> int:
    """Bytes of the source: voxels x the dtype's size (as ``NeuralVolumeAsset.source_bytes``)."""
    import numpy as np

    return math.prod(int(s) for s in shape) * np.dtype(source_dtype).itemsize


def size_for_ratio(cfg: VolumeTrainConfig, shape: tuple[int, ...], source_dtype: str, ratio: float, *,
                   grids: int | None = None, hidden: int | None = None) -> VolumeTrainConfig:
    """:func:`size_for_bytes` for ``ratio``:1 of a ``shape`` volume of ``source_dtype``."""
    if not (ratio > 0 and math.isfinite(ratio)):
        raise ValueError(f"--ratio must be a positive number, got {ratio}")
    return size_for_bytes(cfg, int(source_bytes(shape, source_dtype) / ratio), grids=grids, hidden=hidden)


@dataclass
class RatioSearch:
    """The outcome of :func:`train_to_target`: the chosen run and every attempt (ratio asked, ratio got, PSNR)."""

    result: Any
    """The ``TrainResult`` of the chosen ratio."""
    target_db: float
    reached: bool
    attempts: list[dict[str, float]] = field(default_factory=list)


def train_to_target(data: Any, cfg: VolumeTrainConfig, target_db: float, *,
                    ratios: tuple[float, ...] = RATIO_LADDER, grids: int | None = None, hidden: int | None = None,
                    train: Callable | None = None, log: Callable[[str], None] | None = None,
                    **train_kwargs: Any) -> RatioSearch:
    """Train at the largest ratio of ``ratios`` whose exact-decode PSNR (the provenance's) is >= ``target_db``.

    Ratios too large for the smallest model are skipped. Every attempt trains with ``cfg`` (same seed, steps or
    time budget) sized by :func:`size_for_ratio`; when none reaches the target, the smallest ratio's result is
    returned with ``reached = False``.
    """
    if train is None:
        from ngsdk.volumes.train import train_volume as train
    log = log or (lambda s: None)
    shape, dtype = data.values.shape, data.normalization.source_dtype
    sized: list[tuple[float, VolumeTrainConfig]] = []
    for r in sorted(set(ratios), reverse=True):
        try:
            sized.append((r, size_for_ratio(cfg, shape, dtype, r, grids=grids, hidden=hidden)))
        except ValueError:
            log(f"rate search: {r:g}:1 is below the smallest model for this volume; skipped")
    if not sized:
        raise ValueError(f"no ratio of {', '.join(f'{r:g}' for r in ratios)} fits a model for this volume")
    results: dict[int, tuple[Any, float]] = {}
    attempts: list[dict[str, float]] = []

    def attempt(i: int) -> float:
        r, run_cfg = sized[i]
        res = train(data, run_cfg, **train_kwargs)
        m = res.asset.provenance.metrics
        db = float(m["psnr_db"])
        results[i] = (res, db)
        attempts.append({"ratio": r, "psnr_db": db, "actual_ratio": float(m["decode_ratio"]),
                         "grids": run_cfg.grids, "grid_res": run_cfg.grid_res, "hidden": run_cfg.hidden})
        log(f"rate search: {r:g}:1 ({run_cfg.grids} x {run_cfg.grid_res}^3 x 4, decoder {run_cfg.hidden}) -> "
            f"{db:.2f} dB ({'reaches' if db >= target_db else 'below'} {target_db:g} dB)")
        return db

    best = first_passing(len(sized), lambda i: attempt(i) >= target_db)
    if best is None:
        last = len(sized) - 1
        if last not in results:
            attempt(last)
        chosen, reached = results[last][0], False
    else:
        chosen, reached = results[best][0], True
    chosen.asset.provenance.metrics["rate_search"] = {"target_db": target_db, "reached": reached,
                                                      "attempts": attempts}
    return RatioSearch(result=chosen, target_db=target_db, reached=reached, attempts=attempts)

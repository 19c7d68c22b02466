"""Training of neural volumes (AMGSRN): a ``VolumeData`` in, a :class:`NeuralVolumeAsset` out.

Dispatch only: one model over the whole volume (:mod:`ngsdk.volumes.fit`, assembled by
:mod:`ngsdk.volumes.assemble`), or an ensemble of bricks with ghost cells (:mod:`ngsdk.volumes.bricks`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ngsdk.asset.neural_volume import Box
from ngsdk.training import TrainProgress, pick_device
from ngsdk.volumes.assemble import TrainResult, finalize_asset, make_asset
from ngsdk.volumes.bricks import train_bricks
from ngsdk.volumes.config import VolumeTrainConfig
from ngsdk.volumes.fit import fit_volume, model_brick


def train_volume(data: Any, cfg: VolumeTrainConfig, *, progress: Callable[[TrainProgress], None] | None = None,
                 log: Callable[[str], None] | None = None, runner: Any = None) -> TrainResult:
    """Fit a neural volume to ``data`` (a ``VolumeData``): one model, or one per brick when
    ``cfg.bricks`` splits the volume (``runner``: where the bricks train, see ``train_bricks``).
    Deterministic for a fixed seed and ``cfg.steps``."""
    cfg.check()
    if tuple(cfg.bricks) != (1, 1, 1):
        return train_bricks(data, cfg, progress=progress, log=log, runner=runner)
    device = pick_device(cfg.device)
    d, h, w = data.values.shape
    fit = fit_volume(data.values, cfg, device=device, progress=progress, log=log)
    whole: Box = (0, d, 0, h, 0, w)
    asset = make_asset(data, cfg, [model_brick(fit.model, "brick000", whole, whole)])
    t0 = time.perf_counter()
    decoded = finalize_asset(asset, data.values, device, {"steps": fit.steps})
    return TrainResult(asset=asset, steps=fit.steps, seconds=fit.seconds, metrics=asset.provenance.metrics,
                       history=fit.history, reconstruction=decoded, finalize_seconds=time.perf_counter() - t0)

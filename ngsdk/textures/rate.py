"""Rate control: the smallest ``--bpp`` preset whose neural texture reaches a target PSNR.

A binary search over the presets (quality grows with the rate, so the passing presets are a suffix
of the sorted list): about log2(presets) trainings instead of one per preset. It stops early when
the smallest preset already passes or the largest fails. Every attempt is recorded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

from ngsdk.ratesearch import first_passing
from ngsdk.textures.config import TextureTrainConfig
from ngsdk.textures.ingest import TextureSet

BPP_PRESETS = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0, 16.0, 20.0)
"""The ``--bpp`` presets ``--target-psnr`` chooses from (the rates the benchmarks report)."""


@dataclass
class RateSearch:
    """The outcome of :func:`train_to_target`: the chosen run and every attempt (bpp, mip-0 PSNR)."""

    result: object
    """The :class:`ngsdk.textures.train.TrainResult` of the chosen preset."""
    target_db: float
    reached: bool
    attempts: list[dict[str, float]] = field(default_factory=list)


def train_to_target(ts: TextureSet, cfg: TextureTrainConfig, target_db: float, *,
                    presets: tuple[float, ...] = BPP_PRESETS, train: Callable | None = None,
                    log: Callable[[str], None] | None = None, **train_kwargs) -> RateSearch:
    """Train at the smallest preset whose mip-0 PSNR (exact decode, from the provenance) is >= ``target_db``.

    Each attempt trains with ``cfg`` at that preset (same seed, steps or time budget). When no preset
    reaches the target, the largest preset's result is returned with ``reached = False``.
    """
    if train is None:
        from ngsdk.textures.train import train_texture as train
    log = log or (lambda s: None)
    rates = sorted(presets)
    results: dict[float, tuple[object, float]] = {}
    attempts: list[dict[str, float]] = []

    def attempt(bpp: float) -> float:
        run_cfg = dataclasses.replace(cfg, bpp=bpp, grids=[])
        try:
            r = train(ts, run_cfg, **train_kwargs)
        except ValueError as e:
            if "below what the smallest model costs" not in str(e):
                raise
            log(f"rate search: {bpp:g} bpp is too small for this texture ({e})")
            results[bpp] = (None, float("-inf"))
            return float("-inf")
        db = float(r.asset.provenance.metrics["psnr_db"])
        results[bpp] = (r, db)
        attempts.append({"bpp": bpp, "psnr_db": db, "actual_bpp": float(r.asset.provenance.metrics["bpp"])})
        log(f"rate search: {bpp:g} bpp -> {db:.2f} dB ({'reaches' if db >= target_db else 'below'} "
            f"{target_db:g} dB)")
        return db

    best = first_passing(len(rates), lambda i: attempt(rates[i]) >= target_db)
    if best is None:
        top = rates[-1]
        if results.get(top, (None,))[0] is None:
            attempt(top)
        chosen, reached = results[top][0], False
    else:
        chosen, reached = results[rates[best]][0], True
    if chosen is None:
        raise ValueError(f"no --bpp preset up to {rates[-1]:g} fits this {ts.width}x{ts.height} texture")
    chosen.asset.provenance.metrics["rate_search"] = {"target_db": target_db, "reached": reached,
                                                      "attempts": attempts}
    return RateSearch(result=chosen, target_db=target_db, reached=reached, attempts=attempts)

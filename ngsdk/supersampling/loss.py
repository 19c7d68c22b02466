"""The gym's LossV1 on Reinhard-tonemapped windows (torch).

Temporal: ``exp(4 |(gt_t - W(gt_t-1)) - (out_t - W(out_t-1))|) - 1`` with ``W`` the backward warp by the
target motion (zero outside); spatial: L1 (+ 0.2 LPIPS-VGG when weights are given) on frames 1..T-1;
the two are blended per frame with a weight rising from 0.001 to 0.9 over the window (cosine), averaged,
then blended 9:1 with the L1 of the filtered (pre-accumulation) frames, all frames included.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ngsdk.supersampling.sampling import warp_zero

TEMPORAL_ALPHA = 4.0
LPIPS_WEIGHT = 0.2
FILTERED_WEIGHT = 0.1
SPATIAL_MIN, SPATIAL_MAX = 0.001, 0.9


def spatial_weights(frames: int, device: torch.device) -> torch.Tensor:
    """(1, frames, 1, 1, 1) weight of the spatial term for frame pairs 1..frames (cosine ramp)."""
    t = torch.linspace(1, frames, frames, device=device).view(1, frames, 1, 1, 1)
    return SPATIAL_MAX + (SPATIAL_MIN - SPATIAL_MAX) * (1.0 + torch.cos(math.pi * t / frames)) * 0.5


def nss_loss(output: torch.Tensor, filtered: torch.Tensor, truth: torch.Tensor, motion: torch.Tensor,
             lpips: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
    """``output``, ``filtered``, ``truth`` (B, T, 3, H, W) tonemapped; ``motion`` (B, T, 2, H, W) target pixels;
    ``lpips(a, b)`` -> (B,) distances, or None to leave the term out. Needs T >= 2."""
    n, t, c, h, w = output.shape
    if t < 2:
        raise ValueError("the NSS loss needs windows of at least 2 frames")
    flat = lambda x, ch=c: x.reshape(-1, ch, h, w)  # noqa: E731
    mot = flat(motion[:, 1:], 2)
    res_pred = flat(output[:, 1:]) - warp_zero(flat(output[:, :-1]), mot)
    res_true = flat(truth[:, 1:]) - warp_zero(flat(truth[:, :-1]), mot)
    temporal = (torch.exp(TEMPORAL_ALPHA * (res_true - res_pred).abs()) - 1.0).view(n, t - 1, c, h, w)
    temporal = temporal.mean(dim=(0, 2, 3, 4), keepdim=True)
    spatial = (output[:, 1:] - truth[:, 1:]).abs().mean(dim=(0, 2, 3, 4), keepdim=True)
    if lpips is not None:
        d = torch.stack([lpips(output[:, i], truth[:, i]) for i in range(1, t)], dim=1).view(n, t - 1, 1, 1, 1)
        spatial = spatial + LPIPS_WEIGHT * d
    wt = spatial_weights(t - 1, output.device)
    blended = (temporal + (spatial - temporal) * wt).mean()
    filt = (filtered - truth).abs().mean()
    return blended + (filt - blended) * FILTERED_WEIGHT

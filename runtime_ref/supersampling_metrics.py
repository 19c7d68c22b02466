"""The gym's quality figures for super sampling and two baselines (numpy only).

Metrics on Reinhard-tonemapped frames (``x / (1 + x)`` at the run's exposure, data range 1): PSNR over all
frames, tPSNR (PSNR of consecutive-frame differences), recPSNR (the last frame of each sequence), SSIM
(11x11 Gaussian window, sigma 1.5, mean over channels). Baselines: bilinear up-sampling of the jittered input,
and a hand-tuned TAAU: the NSS post-processing with fixed Gaussian kernel taps and a constant blend instead of
the network's outputs.
"""

from __future__ import annotations

import math

import numpy as np

from ngsdk.runtime_ref.supersampling import (
    F32,
    KERNEL_TAPS,
    Frame,
    postprocess,
    reinhard,
    upsample_bilinear,
)

TAAU_SIGMA = 0.75
"""Gaussian taps' sigma in output pixels."""
TAAU_THETA = 0.85
"""Constant history weight (rectification towards the warped history)."""
TAAU_ALPHA = 0.25
"""Constant accumulation parameter (blend ``alpha * 0.35 + 0.05`` of the pixel's own sample)."""


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return 99.0 if mse <= 1e-10 else 10.0 * math.log10(1.0 / mse)


def _gauss(sigma: float = 1.5, size: int = 11) -> np.ndarray:
    x = np.arange(size) - size // 2
    g = np.exp(-(x * x) / (2 * sigma * sigma))
    return g / g.sum()


def _filter(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """'valid' separable filter over the last two axes."""
    k = len(g)
    win = np.lib.stride_tricks.sliding_window_view(x, k, axis=-1) @ g
    return np.lib.stride_tricks.sliding_window_view(win, k, axis=-2) @ g


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM of (..., H, W) images in [0, 1]."""
    g = _gauss()
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    ma, mb = _filter(a, g), _filter(b, g)
    va = _filter(a * a, g) - ma * ma
    vb = _filter(b * b, g) - mb * mb
    cov = _filter(a * b, g) - ma * mb
    s = ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2))
    return float(s.mean())


def sequence_metrics(outputs: list[np.ndarray], truths: list[np.ndarray], exposures: list[np.ndarray]) -> dict:
    """Metrics over sequences: each (T, 3, H, W) linear with (T,) exposure multipliers."""
    disp = [reinhard(o * e[:, None, None, None]) for o, e in zip(outputs, exposures)]
    gts = [reinhard(t * e[:, None, None, None]) for t, e in zip(truths, exposures)]
    o_all, g_all = np.concatenate(disp), np.concatenate(gts)
    d_o = np.concatenate([np.diff(o, axis=0) for o in disp if len(o) > 1] or [np.zeros((0,))])
    d_g = np.concatenate([np.diff(g, axis=0) for g in gts if len(g) > 1] or [np.zeros((0,))])
    return {"psnr": round(psnr(o_all, g_all), 3),
            "tpsnr": round(psnr(d_o, d_g), 3) if d_o.size else None,
            "recpsnr": round(psnr(np.stack([o[-1] for o in disp]), np.stack([g[-1] for g in gts])), 3),
            "ssim": round(ssim(o_all, g_all), 4)}


def bilinear_frames(frames: list[Frame]) -> np.ndarray:
    return np.stack([upsample_bilinear(f.colour, 2) for f in frames])


def taau_frames(frames: list[Frame], scale: int = 2) -> np.ndarray:
    """The TAAU baseline: fixed Gaussian taps over the jittered samples, constant history blend."""
    h, w = frames[0].colour.shape[-2:]
    taps = np.array([math.exp(-(dy * dy + dx * dx) / (2 * TAAU_SIGMA ** 2)) for dy, dx in KERNEL_TAPS], F32)
    kpn = np.broadcast_to(taps[:, None, None], (16, h, w)).astype(F32)
    temporal = np.zeros((4, h, w), F32)
    temporal[0], temporal[1] = TAAU_THETA, TAAU_ALPHA
    out, history = [], np.zeros((3, h * scale, w * scale), F32)
    for i, f in enumerate(frames):
        history = postprocess(f.colour, history, kpn, temporal, f.motion, f.exposure, f.jitter, i == 0, scale)
        out.append(history)
    return np.stack(out)

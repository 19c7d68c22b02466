"""Quality metrics of decoded textures, measured in each channel's stored colour space.

PSNR per texture (semantic group), per channel and overall, always; with ``perceptual=True`` also
SSIM per texture (scikit-image's ``structural_similarity``, each channel on its own, averaged) and
ꟻLIP for colour textures (NVIDIA's ``flip-evaluator``, LDR, on the stored sRGB values) when those
packages are installed (the ``metrics`` extra); otherwise the report says which package is missing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ngsdk.asset.neural_texture import Channel
from ngsdk.metrics import psnr
from ngsdk.textures.colour import linear_to_srgb

COLOUR_SEMANTICS = ("albedo", "emissive")
"""Textures ꟻLIP is computed for (it models how people see colour images)."""


def to_stored(values: np.ndarray, channels: list[Channel]) -> np.ndarray:
    """Linear (H, W, C) values clamped to [0, 1] and re-encoded to each channel's colour space."""
    out = np.clip(values, 0.0, 1.0).astype(np.float32)
    srgb = [i for i, c in enumerate(channels) if c.colour_space == "srgb"]
    if srgb:
        out[..., srgb] = linear_to_srgb(out[..., srgb])
    return out


def texture_groups(channels: list[Channel]) -> dict[str, list[int]]:
    """Channel indices per texture (semantic group), in channel order."""
    groups: dict[str, list[int]] = {}
    for i, c in enumerate(channels):
        groups.setdefault(c.semantic, []).append(i)
    return groups


def _ssim(a: np.ndarray, b: np.ndarray, groups: dict[str, list[int]]) -> dict[str, float]:
    from skimage.metrics import structural_similarity

    per_channel = []
    for c in range(a.shape[-1]):
        if min(a.shape[:2]) < 7:  # SSIM's 7x7 window needs at least that many texels
            per_channel.append(float("nan"))
        else:
            per_channel.append(float(structural_similarity(a[..., c], b[..., c], data_range=1.0)))
    return {name: float(np.mean([per_channel[i] for i in idx])) for name, idx in groups.items()}


def _flip(a: np.ndarray, b: np.ndarray, groups: dict[str, list[int]]) -> dict[str, float]:
    import flip_evaluator

    out = {}
    for name, idx in groups.items():
        if name in COLOUR_SEMANTICS and len(idx) == 3 and min(a.shape[:2]) >= 8:
            _, mean_error, _ = flip_evaluator.evaluate(np.ascontiguousarray(b[..., idx], dtype=np.float32),
                                                       np.ascontiguousarray(a[..., idx], dtype=np.float32), "LDR")
            out[name] = float(mean_error)
    return out


def texture_metrics(decoded: np.ndarray, source: np.ndarray, channels: list[Channel], *,
                    perceptual: bool = False) -> dict[str, Any]:
    """PSNR per texture, per channel and overall between a decode and the source (both linear, (H, W, C));
    with ``perceptual``, SSIM per texture and ꟻLIP of colour textures where their packages are installed."""
    a = to_stored(decoded, channels).astype(np.float64)
    b = to_stored(source, channels).astype(np.float64)
    err = (a - b) ** 2
    groups = texture_groups(channels)
    per = {name: psnr(float(err[..., idx].mean())) for name, idx in groups.items()}
    out: dict[str, Any] = {
        "overall_db": psnr(float(err.mean())), "textures_db": per,
        "channels_db": {c.name: psnr(float(err[..., i].mean())) for i, c in enumerate(channels)},
        "width": int(decoded.shape[1]), "height": int(decoded.shape[0]),
    }
    if perceptual:
        missing = []
        try:
            out["ssim"] = _ssim(a.astype(np.float32), b.astype(np.float32), groups)
            vals = [v for v in out["ssim"].values() if v == v]
            out["ssim_overall"] = float(np.mean(vals)) if vals else float("nan")
        except ImportError:
            missing.append("scikit-image (SSIM)")
        try:
            flip = _flip(a.astype(np.float32), b.astype(np.float32), groups)
            if flip:
                out["flip"] = flip
        except ImportError:
            missing.append("flip-evaluator (FLIP)")
        if missing:
            out["perceptual_missing"] = f"not computed: install {' and '.join(missing)} (pip install 'ngsdk[metrics]')"
    return out

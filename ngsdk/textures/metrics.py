"""Quality metrics of decoded textures, measured in each channel's stored colour space."""

from __future__ import annotations

from typing import Any

import numpy as np

from ngsdk.asset.types import Channel
from ngsdk.metrics import psnr
from ngsdk.textures.colour import linear_to_srgb


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


def texture_metrics(decoded: np.ndarray, source: np.ndarray, channels: list[Channel]) -> dict[str, Any]:
    """PSNR per texture and overall between a decode and the source (both linear, (H, W, C))."""
    a = to_stored(decoded, channels).astype(np.float64)
    b = to_stored(source, channels).astype(np.float64)
    err = (a - b) ** 2
    per = {name: psnr(float(err[..., idx].mean())) for name, idx in texture_groups(channels).items()}
    return {"overall_db": psnr(float(err.mean())), "textures_db": per,
            "width": int(decoded.shape[1]), "height": int(decoded.shape[0])}

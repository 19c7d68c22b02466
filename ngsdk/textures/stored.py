"""Decoded bytes of the integer decode modes <-> linear values (numpy only, torch-free).

The ``exact`` and ``hardware`` decode modes output UNORM8 bytes in each channel's stored colour
space (sRGB for colour maps). Metrics and previews take linear values; these helpers convert.
"""

from __future__ import annotations

import numpy as np

from ngsdk.asset.neural_texture import Channel
from ngsdk.textures.colour import linear_to_srgb, srgb_to_linear


def srgb_mask(channels: list[Channel]) -> np.ndarray:
    return np.array([c.colour_space == "srgb" for c in channels], dtype=bool)


def bytes_to_linear(decoded: np.ndarray, channels: list[Channel]) -> np.ndarray:
    """uint8 (..., C) stored bytes -> float32 linear values: ``b / 255``, sRGB channels decoded."""
    out = np.asarray(decoded, dtype=np.float32) / np.float32(255.0)
    mask = srgb_mask(channels)
    if mask.any():
        out[..., mask] = srgb_to_linear(out[..., mask])
    return out


def stored_targets(linear: np.ndarray, channels: list[Channel]) -> np.ndarray:
    """float32 (..., C) linear values -> values in each channel's stored colour space (training targets)."""
    out = np.clip(np.asarray(linear, dtype=np.float32), 0.0, 1.0)
    mask = srgb_mask(channels)
    if mask.any():
        out[..., mask] = linear_to_srgb(out[..., mask])
    return out

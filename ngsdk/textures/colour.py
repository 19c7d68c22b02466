"""sRGB transfer curves and 8-bit quantization (numpy only, torch-free).

The curves are the exact piecewise definitions of IEC 61966-2-1 (sRGB), evaluated in float64 and
rounded once to float32, so every caller (training, previews, verify) gets the same bits for the
same float32 input on any platform with a correctly rounding ``pow``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

SRGB_DECODE_THRESHOLD = 0.04045
"""Encoded values at or below this are on the linear segment (``x / 12.92``)."""
SRGB_ENCODE_THRESHOLD = 0.0031308
"""Linear values at or below this are on the linear segment (``12.92 * x``)."""


def srgb_to_linear(x: ArrayLike) -> np.ndarray:
    """Decode sRGB-encoded values to linear light: float32 in, float32 out, any shape.

    ``x / 12.92`` for ``x <= 0.04045``, else ``((x + 0.055) / 1.055) ** 2.4``. Values outside
    [0, 1] are not clamped (negative values stay on the linear segment).
    """
    x64 = np.asarray(x, dtype=np.float32).astype(np.float64)
    # max() keeps the unused branch away from negative bases (no NaN warnings).
    curve = ((np.maximum(x64, SRGB_DECODE_THRESHOLD) + 0.055) / 1.055) ** 2.4
    return np.where(x64 > SRGB_DECODE_THRESHOLD, curve, x64 / 12.92).astype(np.float32)


def linear_to_srgb(x: ArrayLike) -> np.ndarray:
    """Encode linear values to sRGB: float32 in, float32 out, any shape.

    ``12.92 * x`` for ``x <= 0.0031308``, else ``1.055 * x ** (1 / 2.4) - 0.055``. Values outside
    [0, 1] are not clamped (negative values stay on the linear segment).
    """
    x64 = np.asarray(x, dtype=np.float32).astype(np.float64)
    curve = 1.055 * np.maximum(x64, SRGB_ENCODE_THRESHOLD) ** (1.0 / 2.4) - 0.055
    return np.where(x64 > SRGB_ENCODE_THRESHOLD, curve, x64 * 12.92).astype(np.float32)


def to_uint8(x: ArrayLike) -> np.ndarray:
    """Quantize [0, 1] values to uint8: clamp, scale by 255, round half to even.

    The input is taken as float32; the product with 255 is formed in float64, where it is exact,
    so ties are real ties. NaN raises ValueError rather than turning into an arbitrary code.
    """
    x32 = np.asarray(x, dtype=np.float32)
    if np.isnan(x32).any():
        raise ValueError("to_uint8: input contains NaN")
    scaled = np.clip(x32.astype(np.float64), 0.0, 1.0) * 255.0
    return np.rint(scaled).astype(np.uint8)

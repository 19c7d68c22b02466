"""The jitter sequence: Halton(2, 3), quantized to the capture tile (numpy).

Each low-resolution pixel covers a ``tile x tile`` block of capture pixels (8 x 8 for 2x upscaling of a
4x capture); frame ``f`` takes the capture pixel that Halton point ``f mod count`` falls in, so the
jitter is that pixel's centre relative to the block centre (the gym's dataset specification).
"""

from __future__ import annotations

import numpy as np

HALTON_COUNT = 16


def radical_inverse(i: int, base: int) -> float:
    """Van der Corput radical inverse of ``i`` in ``base``."""
    f, r = 1.0, 0.0
    while i > 0:
        f /= base
        r += f * (i % base)
        i //= base
    return r


def halton_points(count: int = HALTON_COUNT) -> np.ndarray:
    """(count, 2) points in [0, 1): (Halton base 3, Halton base 2) as (y, x), indices 1..count (index 0 is
    the origin)."""
    return np.array([[radical_inverse(i, 3), radical_inverse(i, 2)] for i in range(1, count + 1)])


def jitter_table(tile: int, count: int = HALTON_COUNT) -> np.ndarray:
    """(count, 2) float32 (y, x) jitters in input pixels, each the centre of one of ``tile x tile`` capture
    pixels; ``tile <= 1`` leaves them unquantized."""
    pts = halton_points(count)
    if tile > 1:
        pts = (np.floor(pts * tile) + 0.5) / tile
    return (pts - 0.5).astype(np.float32)


def tile_offsets(tile: int, count: int = HALTON_COUNT) -> np.ndarray:
    """(count, 2) int (y, x) capture-pixel offsets inside a tile that the jitter table selects."""
    return np.floor(halton_points(count) * tile).astype(np.int64)

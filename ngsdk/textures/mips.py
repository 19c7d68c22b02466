"""Reference mip chains of a source texture set (area-averaged in linear space)."""

from __future__ import annotations

import numpy as np
from PIL import Image


def mip_sizes(width: int, height: int) -> list[tuple[int, int]]:
    """(w, h) of every mip down to 1x1: ``max(1, width >> m)``, ``max(1, height >> m)``."""
    sizes = [(width, height)]
    while sizes[-1] != (1, 1):
        w, h = sizes[-1]
        sizes.append((max(1, w // 2), max(1, h // 2)))
    return sizes


def build_mips(data: np.ndarray) -> list[np.ndarray]:
    """Full mip chain of ``data`` (H, W, C) float32; each level is a box (area) filter of mip 0."""
    h, w, c = data.shape
    out = [np.ascontiguousarray(data, dtype=np.float32)]
    planes = [Image.fromarray(np.ascontiguousarray(data[..., i], dtype=np.float32), mode="F") for i in range(c)]
    for mw, mh in mip_sizes(w, h)[1:]:
        level = np.stack([np.asarray(p.resize((mw, mh), Image.Resampling.BOX), dtype=np.float32) for p in planes],
                         axis=-1)
        out.append(np.clip(level, 0.0, 1.0))
    return out

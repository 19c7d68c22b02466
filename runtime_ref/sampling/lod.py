"""Mip level selection from an explicit LOD (Vulkan spec "Level-of-Detail Operation").

The sampler's LOD clamp is ``[0, 32]`` (minLod 0, maxLod above any chain, as wgpu and most engines
set it); the level range is the whole chain ``[0, q]`` with ``q = mip_count - 1``.

* linear mip filter: ``d_hi = floor(lod)``, ``d_lo = d_hi + 1``, fraction ``lod - floor(lod)``;
  below level 0 or at/after the last level both levels are the clamped one and the fraction is 0
  (llvmpipe's ``lp_build_linear_mip_levels`` and the spec agree on this).
* nearest mip filter: ``round(lod)`` clamped to ``[0, q]``, with the tie rule a profile chooses.
"""

from __future__ import annotations

from types import ModuleType

from ngsdk.runtime_ref.sampling.backend import F32

LOD_MAX_CLAMP = 32.0


def clamp_lod(xp: ModuleType, lod):
    """float32 LOD clamped to the sampler's ``[0, 32]``."""
    return xp.clip(lod.astype(xp.float32), F32(0.0), F32(LOD_MAX_CLAMP))


def linear_levels(xp: ModuleType, lod, mip_count: int):
    """``(level0, level1, fraction)`` for a linear mip filter: int32, int32, float32 (``lod - floor``)."""
    lod = clamp_lod(xp, lod)
    last = mip_count - 1
    fl = xp.floor(lod)
    frac = (lod - fl).astype(xp.float32)
    l0 = fl.astype(xp.int32)
    top = l0 >= last
    l0 = xp.where(top, last, l0).astype(xp.int32)
    l1 = xp.where(top, last, l0 + 1).astype(xp.int32)
    frac = xp.where(top, F32(0.0), frac).astype(xp.float32)
    return l0, l1, frac


def nearest_level(xp: ModuleType, lod, mip_count: int, ties: str = "even"):
    """Level for a nearest mip filter: ``round(lod)`` (ties ``even``, ``up`` or ``down``), clamped."""
    lod = clamp_lod(xp, lod)
    if ties == "even":
        level = xp.rint(lod)
    elif ties == "up":
        level = xp.floor(lod + F32(0.5))
    elif ties == "down":
        level = xp.ceil(lod - F32(0.5))
    else:
        raise ValueError(f"unknown tie rule {ties!r}")
    return xp.clip(level, 0, mip_count - 1).astype(xp.int32)

"""llvmpipe's AoS sampler: 8.8 fixed-point filtering of 8-bit UNORM textures (bit-exact).

Source: Mesa ``src/gallium/auxiliary/gallivm/lp_bld_sample_aos.c`` (lavapipe = llvmpipe's Vulkan
driver), checked against Mesa 22.3.6 and 25.0.7 lavapipe through wgpu with 0 mismatches
(tests/conformance).
Used when ``util_format_fits_8unorm`` holds (8-bit UNORM, not sRGB) and every address mode is
repeat or clamp-to-edge (``lp_is_simple_wrap_mode``); :mod:`lavapipe` picks the path.

Linear, per axis of size ``n`` (all float32):

* repeat with a power-of-two size (Mesa 22, where the driver specialises on it):
  ``s = rint_even(u * f32(n * 256)) - 128``; clamp-to-edge the same;
* repeat otherwise (``lp_build_coord_repeat_npot_linear_int``), and on Mesa >= 24 for every size
  because ``lp_texture_handle.c`` clears the power-of-two flags:
  ``s = rint_even((u - floor(u)) * f32(n) * 256) - 128``, ``i0 < 0 -> n - 1``, ``i0 = min(i0, n-1)``;
* weight ``s & 255``, ``i0 = s >> 8``; repeat ``i1 = i0 + 1`` wrapping to 0, clamp ``clamp(i0+1)``.

Each lerp is ``a + ((w * (b - a) + 128) >> 8)`` on bytes (``lp_build_lerp`` with prescaled weights:
``pmulhrsw(w, (b - a) << 7)`` on SSSE3/AVX2 CPUs), x then y then z, then between mips with weight
``trunc(frac(lod) * 256)``. The byte result becomes ``byte * f32(1/255)``.
Nearest: ``floor(u * n)`` masked for power-of-two repeat, ``trunc(min(fract(u), 1 - 2^-24) * n)`` for
other repeat, clamped for clamp-to-edge.

Here the four bytes of a texel sit in four 16-bit lanes of a uint64 so one SWAR multiply-add lerps
all components: ``((256 - w) * a + w * b + 128) >> 8`` equals the byte formula and stays below 2^16.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

from ngsdk.runtime_ref.sampling import lod as lodmod
from ngsdk.runtime_ref.sampling.backend import F32
from ngsdk.runtime_ref.sampling.state import SamplerState
from ngsdk.runtime_ref.sampling.texture import SampledTexture

_ROUND = np.uint64(0x0080_0080_0080_0080)
_LANES = np.uint64(0x00FF_00FF_00FF_00FF)
_INV255 = F32(1.0 / 255.0)
_FRACT_SAFE_MAX = F32(1.0 - 2.0**-24)


def _f32(xp: ModuleType, n):
    return F32(n) if isinstance(n, int) else n.astype(xp.float32)


def _axis_linear(xp, u, n, pot: bool, mode: str):
    """``(i0, i1, w)`` along one axis: wrapped int32 indices and the 8-bit weight towards ``i1``."""
    nm1 = n - 1
    if mode == "repeat" and not pot:
        c = u - xp.floor(u)                       # lp_build_fract (exact)
        c = c * _f32(xp, n)
        c *= F32(256.0)
        s = xp.rint(c).astype(xp.int32)
        s -= 128
        w = s & 255
        i0 = s >> 8
        i0 = xp.minimum(xp.where(i0 < 0, nm1, i0), nm1)
        i1 = xp.where(i0 != nm1, i0 + 1, 0)
        return i0, i1, w
    s = xp.rint(u * _f32(xp, n * 256)).astype(xp.int32)
    s -= 128
    w = s & 255
    i0 = s >> 8
    if mode == "repeat":                          # power of two: wrap by masking
        i1 = (i0 + 1) & nm1
        i0 &= nm1
    else:                                         # clamp to edge
        i1 = xp.clip(i0 + 1, 0, nm1)
        i0 = xp.clip(i0, 0, nm1)
    return i0, i1, w


def _axis_nearest(xp, u, n, pot: bool, mode: str):
    nm1 = n - 1
    if mode == "repeat" and not pot:
        f = xp.minimum(u - xp.floor(u), _FRACT_SAFE_MAX)      # lp_build_fract_safe
        return xp.trunc(f * _f32(xp, n)).astype(xp.int32)
    i = xp.floor(u * _f32(xp, n)).astype(xp.int32)
    if mode == "repeat":
        return i & nm1
    return xp.clip(i, 0, nm1)


def _lerp(a, b, w, wc):
    """SWAR byte lerp of four lanes; reuses ``a``'s storage."""
    a *= wc
    a += b * w
    a += _ROUND
    a >>= np.uint64(8)
    a &= _LANES
    return a


def _level(tex: SampledTexture, coords, level, layer: int, state: SamplerState, pot):
    """Filtered lanes (uint64) of one mip level per sample."""
    xp = tex.xp
    g = tex.geometry(level, layer)
    lanes = tex.atlas("lanes")
    sizes = (g.w, g.h, g.d)
    mode = state.address
    if not state.linear:
        ix = [_axis_nearest(xp, coords[a], sizes[a], pot[a], mode) for a in range(tex.dims)]
        idx = ix[1] * g.w + ix[0]
        if tex.dims == 3:
            idx += ix[2] * (g.w * g.h)
        return xp.take(lanes, idx + g.base)
    ax = [_axis_linear(xp, coords[a], sizes[a], pot[a], mode) for a in range(tex.dims)]
    (x0, x1, _), (y0, y1, _) = ax[0], ax[1]
    r0 = y0 * g.w
    r0 += g.base
    r1 = y1 * g.w
    r1 += g.base
    planes = [(r0, r1)]
    if tex.dims == 3:
        z0, z1, _ = ax[2]
        plane = g.w * g.h
        planes = [(r0 + z0 * plane, r1 + z0 * plane), (r0 + z1 * plane, r1 + z1 * plane)]
    w = [a[2].astype(xp.uint64) for a in ax]
    wc = [256 - v for v in w]
    out = []
    for r0, r1 in planes:
        top = _lerp(xp.take(lanes, r0 + x0), xp.take(lanes, r0 + x1), w[0], wc[0])
        bot = _lerp(xp.take(lanes, r1 + x0), xp.take(lanes, r1 + x1), w[0], wc[0])
        out.append(_lerp(top, bot, w[1], wc[1]))
    if tex.dims == 3:
        return _lerp(out[0], out[1], w[2], wc[2])
    return out[0]


def sample(tex: SampledTexture, coords, lod, layer: int, state: SamplerState, *, mesa: int = 22):
    """Sample ``coords`` (list of float32 arrays) on the 8.8 path; float32 ``(n, 4)``."""
    xp = tex.xp
    pot = tex.pot if mesa < 24 else (False, False, False)
    n = coords[0].shape[0]
    if lod is None or tex.mip_count == 1:
        lanes = _level(tex, coords, 0, layer, state, pot)
    elif state.mip_linear:
        l0, l1, frac = lodmod.linear_levels(xp, lod, tex.mip_count)
        # lp_build_sample_mipmap (AoS): weight = fptosi(max(frac, 0) * 256), lerp only if > 0
        wm = (frac * F32(256.0)).astype(xp.int32)
        lanes = _level(tex, coords, _uniform(xp, l0), layer, state, pot)
        if bool((wm > 0).any()):
            upper = _level(tex, coords, _uniform(xp, l1), layer, state, pot)
            w = wm.astype(xp.uint64)
            lanes = _lerp(lanes, upper, w, 256 - w)
    else:
        lanes = _level(tex, coords, _uniform(xp, lodmod.nearest_level(xp, lod, tex.mip_count)),
                       layer, state, pot)
    # lp_build_unsigned_norm_to_float: byte * f32(1/255), one float32 multiply of an exact integer
    return lanes.view(xp.uint16).reshape(n, 4).astype(xp.float32) * _INV255


def _uniform(xp, levels):
    """A Python int when all samples share a level (the fast scalar path), else the array."""
    lo, hi = int(levels.min()), int(levels.max())
    return lo if lo == hi else levels

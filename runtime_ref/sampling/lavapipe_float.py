"""llvmpipe's SoA sampler: float32 filtering with FMA lerps (bit-exact).

Source: Mesa ``src/gallium/auxiliary/gallivm/lp_bld_sample_soa.c`` (``lp_build_sample_wrap_linear``,
``lp_build_sample_wrap_nearest``, ``lp_build_coord_mirror``) and ``lp_bld_arit.c``
(``lp_build_lerp``: ``fmuladd(w, b - a, a)``, an FMA on x86 CPUs with FMA); checked against Mesa
22.3.6 and 25.0.7 lavapipe through wgpu with 0 mismatches (tests/conformance). It serves every
case the 8.8 path does not: sRGB, SNORM, 16-bit and float formats, mirror and border address modes.

Texels are decoded first (:func:`decode.decode_lavapipe`). Linear, per axis of size ``n`` (float32):

* repeat, power-of-two (Mesa 22): ``c = u*n - 0.5``; ``i0 = floor(c)``, ``w = c - i0``, indices masked;
* repeat otherwise: ``c = fract(u)*n - 0.5``, ``i0 = n - 1`` where ``c < 0``, ``i1 = i0+1`` or 0;
* clamp to edge: ``c = max(min(u*n, n) - 0.5, 0)``, ``i1 = min(i0 + 1, n - 1)``;
* clamp to border: ``c = u*n - 0.5``, taps outside the level read the (clamped) border colour;
* mirrored repeat: ``m = |2 * (u/2 - rint_even(u/2))|``, ``c = m*n - 0.5``, ``i0 = max(i0, 0)``,
  ``i1 = min(i0 + 1, n - 1)``.

Lerps run x, then y, then z, then between mips with the float weight ``lod - floor(lod)``.
Nearest: ``floor(u*n)`` (power-of-two repeat, masked; border), ``trunc(min(fract(u), 1-2^-24)*n)``
(other repeat), ``clamp(trunc(u*n))`` (clamp), ``min(trunc(m*n), n-1)`` (mirror).
"""

from __future__ import annotations

from ngsdk.runtime_ref.sampling import lod as lodmod
from ngsdk.runtime_ref.sampling.backend import F32, fma_f32
from ngsdk.runtime_ref.sampling.lavapipe_fixed import _FRACT_SAFE_MAX, _f32, _uniform
from ngsdk.runtime_ref.sampling.state import SamplerState
from ngsdk.runtime_ref.sampling.texture import SampledTexture

_HALF = F32(0.5)


def _mirror(xp, u):
    """lp_build_coord_mirror(posOnly): ``|2 * (u/2 - round_even(u/2))|`` in float32."""
    c = u * _HALF
    f = c - xp.rint(c)
    return xp.abs(f + f)


def _floor_fract(xp, c):
    fl = xp.floor(c)
    return fl.astype(xp.int32), (c - fl).astype(xp.float32)


def _axis_linear(xp, u, n, pot: bool, mode: str):
    """``(i0, i1, w, out0, out1)``: indices, float weight towards ``i1``, border masks (or None)."""
    nm1 = n - 1
    nf = _f32(xp, n)
    if mode == "repeat":
        if pot:
            i0, w = _floor_fract(xp, u * nf - _HALF)
            return i0 & nm1, (i0 + 1) & nm1, w, None, None
        c = (u - xp.floor(u)) * nf - _HALF
        i0, w = _floor_fract(xp, c)
        i0 = xp.where(c < 0, nm1, i0)
        return i0, xp.where(i0 != nm1, i0 + 1, 0), w, None, None
    if mode == "clamp":
        c = xp.maximum(xp.minimum(u * nf, nf) - _HALF, F32(0.0))
        i0, w = _floor_fract(xp, c)
        return i0, xp.minimum(i0 + 1, nm1), w, None, None
    if mode == "border":
        i0, w = _floor_fract(xp, u * nf - _HALF)
        i1 = i0 + 1
        out0, out1 = (i0 < 0) | (i0 >= n), (i1 < 0) | (i1 >= n)
        return xp.clip(i0, 0, nm1), xp.clip(i1, 0, nm1), w, out0, out1
    # mirror
    i0, w = _floor_fract(xp, _mirror(xp, u) * nf - _HALF)
    return xp.maximum(i0, 0), xp.minimum(i0 + 1, nm1), w, None, None


def _axis_nearest(xp, u, n, pot: bool, mode: str):
    """``(i, out)``: wrapped index and border mask (or None)."""
    nm1 = n - 1
    nf = _f32(xp, n)
    if mode == "repeat":
        if pot:
            return xp.floor(u * nf).astype(xp.int32) & nm1, None
        f = xp.minimum(u - xp.floor(u), _FRACT_SAFE_MAX)
        return xp.trunc(f * nf).astype(xp.int32), None
    if mode == "clamp":
        return xp.clip(xp.trunc(u * nf).astype(xp.int32), 0, nm1), None
    if mode == "border":
        i = xp.floor(u * nf).astype(xp.int32)
        return xp.clip(i, 0, nm1), (i < 0) | (i >= n)
    return xp.minimum(xp.trunc(_mirror(xp, u) * nf).astype(xp.int32), nm1), None


def _fetch(xp, table, idx, out, border):
    t = xp.take(table, idx, axis=0)
    if out is not None:
        t = xp.where(out[:, None], border, t)
    return t


def _or(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return a | b


def lerp(xp, w, a, b):
    """``lp_build_lerp`` on floats: ``fma(w, b - a, a)``."""
    return fma_f32(xp, w[:, None], b - a, a)


def _level(tex: SampledTexture, coords, level, layer: int, state: SamplerState, pot):
    xp = tex.xp
    g = tex.geometry(level, layer)
    table = tex.atlas("lavapipe")
    border = xp.asarray(state.clamped_border(tex.format.kind), dtype=xp.float32)
    sizes = (g.w, g.h, g.d)
    mode = state.address
    if not state.linear:
        ax = [_axis_nearest(xp, coords[a], sizes[a], pot[a], mode) for a in range(tex.dims)]
        idx = ax[1][0] * g.w + ax[0][0] + g.base
        out = _or(ax[0][1], ax[1][1])
        if tex.dims == 3:
            idx += ax[2][0] * (g.w * g.h)
            out = _or(out, ax[2][1])
        return _fetch(xp, table, idx, out, border)
    ax = [_axis_linear(xp, coords[a], sizes[a], pot[a], mode) for a in range(tex.dims)]
    x0, x1, wx, ox0, ox1 = ax[0]
    y0, y1, wy, oy0, oy1 = ax[1]
    rows = [(y0 * g.w + g.base, oy0), (y1 * g.w + g.base, oy1)]
    planes = [rows]
    if tex.dims == 3:
        z0, z1, wz, oz0, oz1 = ax[2]
        plane = g.w * g.h
        planes = [[(r + z * plane, _or(o, oz)) for r, o in rows] for z, oz in ((z0, oz0), (z1, oz1))]
    res = []
    for (r0, o0), (r1, o1) in planes:
        top = lerp(xp, wx, _fetch(xp, table, r0 + x0, _or(o0, ox0), border),
                   _fetch(xp, table, r0 + x1, _or(o0, ox1), border))
        bot = lerp(xp, wx, _fetch(xp, table, r1 + x0, _or(o1, ox0), border),
                   _fetch(xp, table, r1 + x1, _or(o1, ox1), border))
        res.append(lerp(xp, wy, top, bot))
    if tex.dims == 3:
        return lerp(xp, ax[2][2], res[0], res[1])
    return res[0]


def sample(tex: SampledTexture, coords, lod, layer: int, state: SamplerState, *, mesa: int = 22):
    """Sample ``coords`` on the float path; float32 ``(n, 4)``."""
    xp = tex.xp
    pot = tex.pot if mesa < 24 else (False, False, False)
    if lod is None or tex.mip_count == 1:
        return _level(tex, coords, 0, layer, state, pot)
    if state.mip_linear:
        l0, l1, frac = lodmod.linear_levels(xp, lod, tex.mip_count)
        out = _level(tex, coords, _uniform(xp, l0), layer, state, pot)
        if bool((frac > 0).any()):
            upper = _level(tex, coords, _uniform(xp, l1), layer, state, pot)
            out = lerp(xp, frac, out, upper)
        return out
    return _level(tex, coords, _uniform(xp, lodmod.nearest_level(xp, lod, tex.mip_count)), layer, state, pot)

"""Profile ``nvidia``: NVIDIA's texture unit as measured on an H100 (Vulkan, driver 580.159.04).

Source: driver outputs recorded with ``tools/gpu/capture_sampler.py`` on the lent H100 (probe textures
that expose one rule each, plus the conformance cases) and fitted with ``tools/fit_sampler_profile.py``;
earlier CUDA texture-object measurements in ``shared/notes/platform-facts.md``. docs/conformance.md has
the counts.

* the normalized coordinate is truncated to 21 fractional bits, ``uq = floor(u * 2^21) / 2^21``;
* linear: ``x = uq * size - 0.5`` exactly; clamp-to-edge clamps ``x`` to ``[0, size - 1]`` (the
  position, not only the taps); ``i0 = floor(x)``, ``A = floor(frac(x) * 256 + 0.5)`` (``A = 256``
  carries into ``i0``); repeat and mirror wrap the integer indices;
* per-tap weights in 1/256 units that sum to 256 (:func:`_corner_weights`): 3D splits z first, then
  x, then y, each split rounding the product of the share and the axis weight;
* trilinear: ``M = floor(frac(lod) * 256)`` (the LOD clamped to the chain) splits the weights like a
  further axis: level ``floor(lod)`` gets the share ``256 - M``, the next ``M``, and every tap of both
  levels is weighted in 1/256 units with one rounding at the end;
* nearest mip selection: level ``floor(lod + 0.5)`` (ties up), clamped to the chain;
* 8-bit UNORM (RGBA, BGRA, RG, R): ``S = sum(w * code)``, result ``round(S * 257 / 256) / 65535``
  (UNORM16 output, ties up: ``(S * 257 + 128) >> 8``); 16-bit UNORM: ``((S + 128) >> 8) / 65535``;
* half and float32 (2D, nearest mip): block floating point. Among the taps with a nonzero weight the
  largest exponent ``e`` (``|t| = m * 2^e``, ``0.5 <= m < 1``) sets the quantum ``q = 2^(e - 15)`` (half)
  or ``2^(e - 28)`` (float32); each tap is truncated towards zero to a multiple of ``q``; the weighted
  sum ``sum(w * trunc(t / q)) * q / 256`` is exact and rounded once to the texture's format (half or
  float32), ties away from zero;
* nearest: texel ``floor(uq * size)``, value decoded exactly (``code / 255`` correctly rounded; SNORM,
  UNORM16, half and float texels likewise).

Measured but not matched, so refused rather than guessed (use ``bounded``): trilinear filtering of half
and float textures (a block sum per level reproduces all but 6 of 90,000 recorded samples, which
differ by one unit in the last place where the two levels cancel), 3D half/float filtering (not
recorded), SNORM filtering (a SNORM16-style rounding of ``S`` matches 95.6%), sRGB formats (the
driver decodes through a table up to 3.7e-3 away from the sRGB curve and filters at a precision not
yet modelled), and clamp-to-border (wgpu cannot set a border colour).
"""

from __future__ import annotations

from ngsdk.runtime_ref.sampling import taps
from ngsdk.runtime_ref.sampling.state import SamplerState
from ngsdk.runtime_ref.sampling.texture import SampledTexture

_COORD_BITS = 21


class NotMeasuredError(ValueError):
    """The requested case lies outside what the nvidia profile has been measured to reproduce."""


def check(tex: SampledTexture, state: SamplerState, has_lod: bool) -> None:
    fmt = tex.format
    if state.address == "border":
        raise NotMeasuredError("nvidia profile: clamp-to-border is not measured yet (wgpu cannot set a "
                               "border colour; use bounded)")
    if fmt.srgb:
        raise NotMeasuredError(f"nvidia profile: sRGB ({fmt.name}) is not matched yet: the driver decodes "
                               "through its own table and filters in a precision not yet modelled "
                               "(docs/conformance.md; use bounded)")
    integer = tex.is_byte_unorm or _is_unorm16(tex)
    if state.linear and not (integer or (fmt.kind == "float" and fmt.dtype in _BLOCK_BITS)):
        raise NotMeasuredError(f"nvidia profile: filtering {fmt.name} is not matched yet: the driver's "
                               "weighted sum of non-8-bit texels rounds in a way not yet modelled "
                               "(docs/conformance.md; use bounded); nearest is matched")
    if state.linear and not tex.is_byte_unorm and tex.dims == 3:
        raise NotMeasuredError(f"nvidia profile: filtering 3D {fmt.name} is not measured yet (8-bit UNORM only; "
                               "use bounded)")
    if state.mip_linear and has_lod and tex.mip_count > 1 and not integer:
        raise NotMeasuredError(f"nvidia profile: trilinear filtering of {fmt.name} is not matched yet: a "
                               "block-floating-point sum per level reproduces all but 1 in 15,000 samples "
                               "(docs/samplers.md; use bounded)")


def _is_unorm16(tex: SampledTexture) -> bool:
    return tex.format.kind == "unorm" and tex.format.dtype == "<u2"


def _quantize(xp, u):
    return xp.floor(u.astype(xp.float64) * 2.0**_COORD_BITS) * 2.0**-_COORD_BITS


def _round(xp, t):
    return (t + 128) >> 8


def _corner_weights(xp, wt, total=256):
    """Per-corner weights in 1/256 units, keyed by corner bits (x, y[, z]); they sum to 256.

    2D: ``x1`` gets ``A``, ``x0`` gets ``256 - A``; each splits along y as ``y1 = round(w * B)``
    (``x1``; ties up) or ``ceil``-of-half rounding (``x0``, which makes the pair sum exactly ``B``),
    ``y0 = w - y1``. 3D: z splits first (``256 - C``, ``C``), then x as ``round(L * A)``, then y as in 2D.
    Trilinear filtering splits the same way, with the mip fraction in place of z: ``total`` is a level's
    share (``256 - M`` or ``M``) and each level's taps use that level's own ``A``, ``B``.
    """
    if len(wt) == 2:
        layers = {(): total + xp.zeros_like(wt[0])}
    else:
        c1 = (wt[2] * total + 127) >> 8
        layers = {(0,): total - c1, (1,): c1}
    a, b = wt[0], wt[1]
    out = {}
    for zbits, ell in layers.items():
        p1 = _round(xp, a * ell)
        p0 = ell - p1
        q11 = _round(xp, p1 * b)
        q01 = (p0 * b + 127) >> 8
        out[(0, 0, *zbits)] = p0 - q01
        out[(1, 0, *zbits)] = p1 - q11
        out[(0, 1, *zbits)] = q01
        out[(1, 1, *zbits)] = q11
    return out


def _level_taps(tex: SampledTexture, coords, level, layer: int, state: SamplerState, total=256):
    """One level's taps: ``[(weight, value)]`` with int64 weights in 1/256 (linear) or ``[(None, value)]``
    (nearest); values are int64 codes for 8-bit UNORM, float64 texel values otherwise."""
    xp = tex.xp
    geom = tex.geometry(level, layer)
    border = state.clamped_border(tex.format.kind)
    byte = tex.is_byte_unorm
    uq = [_quantize(xp, c) for c in coords]
    n = taps.sizes(geom, tex.dims)
    if byte:
        table = tex.atlas("codes").astype(xp.int64)
        border_t = tuple(round(c * 255) for c in border)
    elif _is_unorm16(tex):
        table = tex.cached("codes16", -1, lambda: xp.rint(tex.atlas("exact") * 65535.0).astype(xp.int64))
        border_t = tuple(round(c * 65535) for c in border)
    else:
        table, border_t = tex.atlas("exact"), border
    if not state.linear:
        i = [xp.floor(uq[a] * n[a]).astype(xp.int32) for a in range(tex.dims)]
        row, out = taps.nearest(xp, geom, i, state.address)
        return [(None, taps.fetch(xp, table, row, out, border_t))]
    x = [uq[a] * n[a] - 0.5 for a in range(tex.dims)]
    if state.address == "clamp":                   # clamp-to-edge clamps the position, not just the taps
        x = [xp.minimum(xp.maximum(v, 0.0), m - 1.0) for v, m in zip(x, n, strict=True)]
    fl = [xp.floor(v) for v in x]
    wt = [xp.floor((v - f) * 256.0 + 0.5).astype(xp.int64) for v, f in zip(x, fl, strict=True)]
    i0 = [f.astype(xp.int32) for f in fl]
    for a in range(tex.dims):                      # A == 256 carries into the integer part
        carry = wt[a] == 256
        i0[a] = xp.where(carry, i0[a] + 1, i0[a])
        wt[a] = xp.where(carry, 0, wt[a])
    weights = _corner_weights(xp, wt, total)
    return [(weights[bits], taps.fetch(xp, table, row, out, border_t))
            for row, out, bits in taps.corners(xp, geom, i0, state.address)]


# float textures: mantissa bits of the block-floating-point filter, and the output format's
# (mantissa bits, minimum exponent)
_BLOCK_BITS = {"<f2": 15, "<f4": 28}
_OUTPUT_FLOAT = {"<f2": (10, -14), "<f4": (23, -126)}


def _round_half_away(xp, v, mantissa: int, emin: int):
    """``v`` (float64) rounded to a float with ``mantissa`` fraction bits, ties away from zero."""
    _, e = xp.frexp(v)
    e = xp.maximum(e - 1, emin)
    ulp = xp.ldexp(xp.ones_like(v), (e - mantissa).astype(xp.int32))
    return xp.copysign(xp.floor(xp.abs(v) / ulp + 0.5) * ulp, v)


def _filter(tex: SampledTexture, tap_list):
    """The filtered value of all taps (see the module docstring), float32."""
    xp = tex.xp
    if tap_list[0][0] is None:                      # nearest: the texel decoded exactly
        t = tap_list[0][1]
        if tex.is_byte_unorm or _is_unorm16(tex):
            t = t.astype(xp.float64) / (255.0 if tex.is_byte_unorm else 65535.0)
        return t.astype(xp.float32)
    if _is_unorm16(tex):                            # round(S / 256), ties up, over the 16-bit codes
        acc = sum(w[:, None] * t for w, t in tap_list)
        return (((acc + 128) >> 8).astype(xp.float64) / 65535.0).astype(xp.float32)
    if tex.is_byte_unorm:
        acc = sum(w[:, None] * t for w, t in tap_list)
        return (_round(xp, acc * 257).astype(xp.float64) / 65535.0).astype(xp.float32)
    dtype = tex.format.dtype
    # block floating point: every tap with a nonzero weight is truncated (towards zero) to a common
    # quantum set by the largest exponent among them, the weighted sum is exact, one rounding at the end
    emax = None
    for w, t in tap_list:
        _, e = xp.frexp(t)
        e = xp.where((t != 0) & (w[:, None] > 0), e, -(1 << 20))
        emax = e if emax is None else xp.maximum(emax, e)
    emax = xp.where(emax < -(1 << 19), 0, emax)    # no nonzero tap: any quantum gives 0
    q = xp.ldexp(xp.ones_like(tap_list[0][1]), (emax - _BLOCK_BITS[dtype]).astype(xp.int32))
    acc = sum(w[:, None].astype(xp.float64) * xp.trunc(t / q) for w, t in tap_list)
    mantissa, emin = _OUTPUT_FLOAT[dtype]
    return _round_half_away(xp, acc * q / 256.0, mantissa, emin).astype(xp.float32)


def sample(tex: SampledTexture, coords, lod, layer: int, state: SamplerState):
    xp = tex.xp
    if lod is None or tex.mip_count == 1:
        return _filter(tex, _level_taps(tex, coords, 0, layer, state))
    last = tex.mip_count - 1
    lod = xp.clip(lod.astype(xp.float64), 0.0, float(last))
    if not state.mip_linear:                       # nearest mip: round half up
        level = xp.floor(lod + 0.5).astype(xp.int32)
        return _filter(tex, _level_taps(tex, coords, level, layer, state))
    # linear mip: the fraction truncated to 1/256 splits the weights like one more axis; one rounding at the end
    l0 = xp.floor(lod).astype(xp.int32)
    m = xp.floor((lod - l0) * 256.0).astype(xp.int64)
    l1 = xp.minimum(l0 + 1, last).astype(xp.int32)
    return _filter(tex, _level_taps(tex, coords, l0, layer, state, 256 - m)
                   + _level_taps(tex, coords, l1, layer, state, m))

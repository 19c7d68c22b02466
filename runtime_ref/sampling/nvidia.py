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
  (UNORM16 output, ties up: ``(S * 257 + 128) >> 8``);
* nearest: texel ``floor(uq * size)``, value decoded exactly (``code / 255`` correctly rounded; SNORM,
  UNORM16, half and float texels likewise).

Measured but not matched, so refused rather than guessed: linear/trilinear filtering of non-8-bit
formats (float32: 1-7% of samples differ by up to 2 ulp from ``sum(w * T) / 256`` rounded once; half:
about 5% differ from that sum rounded to half), sRGB formats (the driver decodes through a table that
is not the sRGB curve, up to 3.7e-3 away, and rounds the filtered sum in a way not yet modelled), and
clamp-to-border (wgpu cannot set a border colour).
"""

from __future__ import annotations

from runtime_ref.sampling import taps
from runtime_ref.sampling.state import SamplerState
from runtime_ref.sampling.texture import SampledTexture

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
    if state.linear and not tex.is_byte_unorm:
        raise NotMeasuredError(f"nvidia profile: filtering {fmt.name} is not matched yet: the driver's "
                               "weighted sum of non-8-bit texels rounds in a way not yet modelled "
                               "(docs/conformance.md; use bounded); nearest is matched")


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


def _level_sum(tex: SampledTexture, coords, level, layer: int, state: SamplerState, total=256):
    """One level's filtered value before output rounding: int64 ``S = sum(w * code)`` (8-bit UNORM,
    weights in 1/256) or float64 ``sum(w * T)`` (float textures); nearest: the texel value itself."""
    xp = tex.xp
    geom = tex.geometry(level, layer)
    border = state.clamped_border(tex.format.kind)
    byte = tex.is_byte_unorm
    uq = [_quantize(xp, c) for c in coords]
    n = taps.sizes(geom, tex.dims)
    if byte:
        table = tex.atlas("codes").astype(xp.int64)
        border_t = tuple(round(c * 255) for c in border)
    else:
        table, border_t = tex.atlas("exact"), border
    if not state.linear:
        i = [xp.floor(uq[a] * n[a]).astype(xp.int32) for a in range(tex.dims)]
        row, out = taps.nearest(xp, geom, i, state.address)
        t = taps.fetch(xp, table, row, out, border_t)
        return t * 256 if byte else t
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
    acc = None
    for row, out, bits in taps.corners(xp, geom, i0, state.address):
        w = weights[bits]
        t = taps.fetch(xp, table, row, out, border_t)
        term = t * (w if byte else w.astype(xp.float64))[:, None]
        acc = term if acc is None else acc + term
    return acc


def _finish(tex: SampledTexture, acc, nearest: bool):
    """Output rounding of one level's sum (see the module docstring)."""
    xp = tex.xp
    if tex.is_byte_unorm:
        if nearest:                                 # code / 255 correctly rounded
            return ((acc >> 8).astype(xp.float64) / 255.0).astype(xp.float32)
        return (_round(xp, acc * 257).astype(xp.float64) / 65535.0).astype(xp.float32)
    return (acc if nearest else acc / 256.0).astype(xp.float32)


def sample(tex: SampledTexture, coords, lod, layer: int, state: SamplerState):
    xp = tex.xp
    nearest = not state.linear
    if lod is None or tex.mip_count == 1:
        return _finish(tex, _level_sum(tex, coords, 0, layer, state), nearest)
    last = tex.mip_count - 1
    lod = xp.clip(lod.astype(xp.float64), 0.0, float(last))
    if not state.mip_linear:                       # nearest mip: round half up
        level = xp.floor(lod + 0.5).astype(xp.int32)
        return _finish(tex, _level_sum(tex, coords, level, layer, state), nearest)
    # linear mip: the fraction truncated to 1/256 splits the weights like a third axis; one rounding at the end
    l0 = xp.floor(lod).astype(xp.int32)
    m = xp.floor((lod - l0) * 256.0).astype(xp.int64)
    l1 = xp.minimum(l0 + 1, last).astype(xp.int32)
    if not state.linear:
        raise NotMeasuredError("nvidia profile: nearest filtering with a linear mip filter is not measured yet")
    acc = _level_sum(tex, coords, l0, layer, state, 256 - m) + _level_sum(tex, coords, l1, layer, state, m)
    return _finish(tex, acc, False)

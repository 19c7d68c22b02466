"""Profile ``bounded``: per-sample [lower, upper] bounds that hold for any conformant sampler.

A conformant implementation here is one within the Vulkan / D3D11 rules as :class:`BoundedSpec`
parameterises them (Vulkan spec: ``subTexelPrecisionBits`` >= 8 under the Roadmap 2022 profile,
``mipmapPrecisionBits`` >= 4; D3D11: 8 subtexel and 8 LOD fraction bits):

1. Coordinates: the texel-space position ``u * size - 0.5`` may be off by up to
   ``2^-subtexel_bits`` (snapping with any rounding), plus ``size * 2^-coord_frac_bits`` (normalized
   coordinates truncated before scaling, as NVIDIA does to 21 bits), plus float32 slack
   ``(|u| + 2) * size * 2^-23`` for computing it. Nearest filtering picks any texel the perturbed
   position ``u * size`` can fall in.
2. LOD: off by up to ``2^-mip_bits``; a nearest mip may round either way.
3. Texel decode: exact for UNORM/SNORM/float; sRGB codes may decode anywhere the code maps back to
   within 0.5 (D3D10+ rule; Mesa's polynomial stays within 0.35).
4. Filter arithmetic: each lerp stage (one per axis, one for the mip blend) may round by half a step
   of the format's fixed-point precision (8-bit formats: 0.5/255 of the range; UNORM16: 0.5/65535;
   half float: 2^-11 relative; float32: exact) and product weights may be rounded to
   ``2^-subtexel_bits`` (``spread * 2^-subtexel_bits`` per extra axis, as NVIDIA's ``w11``), plus
   ``2^-22`` relative for float32 decode and output roundings (llvmpipe's ``c * f32(1/255)`` is up to
   an ulp above ``c / 255``).
5. The tap min/max invariant: with non-negative weights the result lies between the smallest and the
   largest texel any candidate position touches, so bounds are clamped to that range (widened by the
   same ``2^-22`` relative float32 slack, and for SNORM formats by half a 16-bit SNORM step: the
   H100 returns filtered SNORM8 as SNORM16).

Within a texel cell the filtered value is multilinear in the position, and piecewise linear in the
LOD, so its extremes over the perturbation box lie at the box corners and at the cell edges inside
it: the bounds evaluate the exact filter there, with lower and upper decoded texels.
Result: float32 ``(n, 2, 4)``, lower rounded down and upper rounded up.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

from ngsdk.runtime_ref.sampling import taps
from ngsdk.runtime_ref.sampling.backend import round_down_f32, round_up_f32
from ngsdk.runtime_ref.sampling.decode import decode_bounds, format_bits
from ngsdk.runtime_ref.sampling.lod import LOD_MAX_CLAMP
from ngsdk.runtime_ref.sampling.state import SamplerState
from ngsdk.runtime_ref.sampling.texture import SampledTexture

_ULP_SLACK = 2.0**-22        # four float32 half-ulps, relative


@dataclass(frozen=True)
class BoundedSpec:
    """The rules a conformant implementation is assumed to follow (see the module docstring)."""

    subtexel_bits: int = 8
    mip_bits: int = 4
    coord_frac_bits: int = 21
    srgb_slack: float = 0.0


def _stage_tolerance(tex: SampledTexture, tap_abs):
    """Rounding one lerp stage may add: half a fixed-point step of the format."""
    fmt = tex.format
    if fmt.kind == "float":
        if fmt.dtype == "<f2":
            return tap_abs * 2.0**-11
        return 0.0 * tap_abs
    bits = 8 if fmt.srgb else format_bits(fmt)
    step = 1.0 / ((1 << bits) - 1) if fmt.kind == "unorm" else 1.0 / ((1 << (bits - 1)) - 1)
    return 0.5 * step + 0.0 * tap_abs


def _bound_tables(tex: SampledTexture, spec: BoundedSpec):
    if spec.srgb_slack == 0.0 or not tex.format.srgb:
        return tex.atlas("bounds")

    def build():
        xp = tex.xp
        pairs = [decode_bounds(xp, tex.format, tex.raw(m), spec.srgb_slack) for m in range(tex.mip_count)]
        return xp.concatenate([p[0] for p in pairs]), xp.concatenate([p[1] for p in pairs])

    return tex.cached(f"bounds:{spec.srgb_slack}", -1, build)


class _Bounds:
    """Spatial bounds of one level: lower/upper filtered values and the touched tap range."""

    def __init__(self, lo, hi, tmin, tmax):
        self.lo, self.hi, self.tmin, self.tmax = lo, hi, tmin, tmax


def _neighbourhood(xp, geom, base, count, dims: int, span: int, mode: str, tables, border):
    """Gather the ``span^d`` texels from ``base`` on per axis, as ``(n, [span,] span, span, 4)``
    arrays (axes z, y, x) for each table, with the min and max over the touched ones
    (``offset < count`` on every axis)."""
    inf = float("inf")
    grids = [[] for _ in tables]
    tmin = tmax = None
    for offs in product(range(span), repeat=dims):
        offs = offs[::-1]                                  # x fastest
        row, out = taps.nearest(xp, geom, [base[a] + offs[a] for a in range(dims)], mode)
        vals = [taps.fetch(xp, t, row, out, border) for t in tables]
        for g, v in zip(grids, vals, strict=True):
            g.append(v)
        used = None
        for a in range(dims):
            ok = offs[a] < count[a]
            used = ok if used is None else used & ok
        lo = xp.where(used[:, None], vals[0], inf)
        hi = xp.where(used[:, None], vals[-1], -inf)
        tmin = lo if tmin is None else xp.minimum(tmin, lo)
        tmax = hi if tmax is None else xp.maximum(tmax, hi)
    n = grids[0][0].shape[0]
    shape = (n,) + (span,) * dims + (4,)
    return [xp.stack(g, axis=1).reshape(shape) for g in grids], tmin, tmax


def _extremes(xp, grid, cands, reduce):
    """``reduce`` (minimum or maximum) of the multilinear interpolant of a 3^d neighbourhood over
    candidate positions: ``cands[a]`` lists ``(k, alpha)`` per axis, cell ``k`` (0 or 1) and weight.

    Interpolates one axis at a time (x first, the last spatial axis of ``grid``), keeping every
    candidate of the axes done so far stacked on a leading list.
    """
    dims = len(cands)
    layers = [grid]
    for a in range(dims):
        axis = grid.ndim - 2 - a                         # x is the axis just before the channels
        nxt = []
        for v in layers:
            lo_cell = [v[(slice(None),) * axis + (slice(j, j + 1),)] for j in range(3)]
            for k, alpha in cands[a]:
                shp = (-1,) + (1,) * (v.ndim - 1)
                al = alpha.reshape(shp)
                first = lo_cell[0] + (lo_cell[1] - lo_cell[0]) * al
                second = lo_cell[1] + (lo_cell[2] - lo_cell[1]) * al
                nxt.append(xp.where((k == 0).reshape(shp), first, second))
        layers = nxt
    best = layers[0]
    for v in layers[1:]:
        best = reduce(best, v)
    return best.reshape(best.shape[0], 4)


def _level_bounds(tex: SampledTexture, coords, level, layer: int, state: SamplerState, spec: BoundedSpec):
    xp = tex.xp
    geom = tex.geometry(level, layer)
    lo_t, hi_t = _bound_tables(tex, spec)
    tables = [lo_t] if lo_t is hi_t else [lo_t, hi_t]
    border = state.clamped_border(tex.format.kind)
    dims = tex.dims
    sizes = [n if isinstance(n, int) else n.astype(xp.float64) for n in taps.sizes(geom, dims)]
    shift = 0.5 if state.linear else 0.0
    pos, delta = [], []
    for a in range(dims):
        u = coords[a].astype(xp.float64)
        n = sizes[a]
        pos.append(u * n - shift)
        delta.append(2.0**-spec.subtexel_bits + n * 2.0**-spec.coord_frac_bits
                     + (xp.abs(u) + 2.0) * n * 2.0**-23)
    first = [xp.floor(p - d) for p, d in zip(pos, delta, strict=True)]
    last = [xp.floor(p + d) for p, d in zip(pos, delta, strict=True)]
    span = 3 if state.linear else 2
    count = [(la - f).astype(xp.int32) + (span - 1) for f, la in zip(first, last, strict=True)]
    base = [f.astype(xp.int32) for f in first]
    grids, tmin, tmax = _neighbourhood(xp, geom, base, count, dims, span, state.address, tables, border)
    if not state.linear:
        return _Bounds(tmin, tmax, tmin, tmax)
    # candidate positions per axis: both ends of the box, and the cell edge inside it if any
    cands = []
    for p, d, f, la in zip(pos, delta, first, last, strict=True):
        axis_c = []
        for q in (p - d, xp.where(la > f, la, p - d), p + d):
            i0 = xp.floor(q)
            axis_c.append(((i0 - f).astype(xp.int32), q - i0))
        cands.append(axis_c)
    lo = _extremes(xp, grids[0], cands, xp.minimum)
    hi = _extremes(xp, grids[-1], cands, xp.maximum)
    return _Bounds(lo, hi, tmin, tmax)


def _finish(xp, tex, b: _Bounds, stages: int, state: SamplerState, spec: BoundedSpec):
    tap_abs = xp.maximum(xp.abs(b.tmin), xp.abs(b.tmax))
    # float32 slack: a decode like c * f32(1/255) and the output conversion may each be an ulp off
    ulps = _ULP_SLACK * tap_abs
    if tex.format.kind == "snorm":
        # the result may be delivered as 16-bit SNORM (NVIDIA H100 does), outside the taps' range by 0.5/32767
        ulps = ulps + 0.5 / 32767
    tol = stages * _stage_tolerance(tex, tap_abs) + ulps
    if state.linear and tex.dims > 1:
        tol = tol + (b.tmax - b.tmin) * 2.0**-spec.subtexel_bits * (tex.dims - 1)
    lower = xp.maximum(b.lo - tol, b.tmin - ulps)
    upper = xp.minimum(b.hi + tol, b.tmax + ulps)
    return xp.stack([round_down_f32(xp, lower), round_up_f32(xp, upper)], axis=1)


def sample(tex: SampledTexture, coords, lod, layer: int, state: SamplerState,
           spec: BoundedSpec | None = None):
    spec = spec or BoundedSpec()
    xp = tex.xp
    stages = tex.dims if state.linear else 0
    if lod is None or tex.mip_count == 1:
        return _finish(xp, tex, _level_bounds(tex, coords, 0, layer, state, spec), stages, state, spec)
    last = tex.mip_count - 1
    d = 2.0**-spec.mip_bits
    lod64 = xp.clip(lod.astype(xp.float64), 0.0, LOD_MAX_CLAMP)
    lo_lod = xp.clip(lod64 - d, 0.0, LOD_MAX_CLAMP)
    hi_lod = xp.clip(lod64 + d, 0.0, LOD_MAX_CLAMP)
    if not state.mip_linear:
        # nearest mip: any level a rounding of a perturbed LOD can give
        l_first = xp.clip(xp.ceil(lo_lod - 0.5), 0, last).astype(xp.int32)
        l_last = xp.clip(xp.floor(hi_lod + 0.5), 0, last).astype(xp.int32)
        b0 = _level_bounds(tex, coords, l_first, layer, state, spec)
        b1 = _level_bounds(tex, coords, l_last, layer, state, spec)
        merged = _Bounds(xp.minimum(b0.lo, b1.lo), xp.maximum(b0.hi, b1.hi),
                         xp.minimum(b0.tmin, b1.tmin), xp.maximum(b0.tmax, b1.tmax))
        return _finish(xp, tex, merged, stages, state, spec)
    # linear mip: levels l_a .. l_a + 2 cover every candidate LOD's pair
    l_a = xp.clip(xp.floor(lo_lod), 0, last).astype(xp.int32)
    levels = [xp.minimum(l_a + k, last).astype(xp.int32) for k in range(3)]
    per = [_level_bounds(tex, coords, lv, layer, state, spec) for lv in levels]
    edge = xp.where(xp.floor(hi_lod) > xp.floor(lo_lod), xp.floor(hi_lod), lo_lod)
    lo_best = hi_best = None
    for c in (lo_lod, edge, hi_lod):
        fl = xp.floor(c)
        at_top = fl >= last
        f = xp.where(at_top, 0.0, c - fl)[:, None]
        k0 = xp.clip(xp.minimum(fl, last) - l_a, 0, 2).astype(xp.int32)
        k1 = xp.clip(xp.minimum(fl + 1, last) - l_a, 0, 2).astype(xp.int32)

        def pick(k, attr):
            vals = [getattr(b, attr) for b in per]
            return xp.where((k == 0)[:, None], vals[0], xp.where((k == 1)[:, None], vals[1], vals[2]))

        v_lo = pick(k0, "lo") * (1.0 - f) + pick(k1, "lo") * f
        v_hi = pick(k0, "hi") * (1.0 - f) + pick(k1, "hi") * f
        lo_best = v_lo if lo_best is None else xp.minimum(lo_best, v_lo)
        hi_best = v_hi if hi_best is None else xp.maximum(hi_best, v_hi)
    tmin = xp.minimum(xp.minimum(per[0].tmin, per[1].tmin), per[2].tmin)
    tmax = xp.maximum(xp.maximum(per[0].tmax, per[1].tmax), per[2].tmax)
    return _finish(xp, tex, _Bounds(lo_best, hi_best, tmin, tmax), stages + 1, state, spec)

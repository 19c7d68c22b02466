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
   same ``2^-22`` relative float32 slack).

Within a texel cell the filtered value is multilinear in the position, and piecewise linear in the
LOD, so its extremes over the perturbation box lie at the box corners and at the cell edges inside
it: the bounds evaluate the exact filter there, with lower and upper decoded texels.
Result: float32 ``(n, 2, 4)``, lower rounded down and upper rounded up.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

from runtime_ref.sampling import taps
from runtime_ref.sampling.backend import round_down_f32, round_up_f32
from runtime_ref.sampling.decode import decode_bounds, format_bits
from runtime_ref.sampling.lod import LOD_MAX_CLAMP
from runtime_ref.sampling.state import SamplerState
from runtime_ref.sampling.texture import SampledTexture


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


def _neighbourhood(xp, tex, geom, base, count, state, lo_t, hi_t, border):
    """Gather the 3^d (linear) or 2^d (nearest) texels starting at ``base`` per axis.

    Returns stacked lower/upper values ``(n, K, 4)`` and a ``(n, K)`` mask of touched taps.
    """
    dims = tex.dims
    span = 3 if state.linear else 2
    los, his, used = [], [], []
    for offs in product(range(span), repeat=dims):
        offs = offs[::-1]                                  # x fastest
        row, out = taps.nearest(xp, geom, [base[a] + offs[a] for a in range(dims)], state.address)
        los.append(taps.fetch(xp, lo_t, row, out, border))
        his.append(taps.fetch(xp, hi_t, row, out, border))
        mask = None
        for a in range(dims):
            ok = offs[a] < count[a]
            mask = ok if mask is None else mask & ok
        used.append(mask)
    return xp.stack(los, axis=1), xp.stack(his, axis=1), xp.stack(used, axis=1)


def _level_bounds(tex: SampledTexture, coords, level, layer: int, state: SamplerState, spec: BoundedSpec):
    xp = tex.xp
    geom = tex.geometry(level, layer)
    lo_t, hi_t = _bound_tables(tex, spec)
    border = state.clamped_border(tex.format.kind)
    dims = tex.dims
    sizes = [n if isinstance(n, int) else n.astype(xp.float64) for n in taps.sizes(geom, dims)]
    shift = 0.5 if state.linear else 0.0
    pos, delta = [], []
    for a in range(dims):
        u = coords[a].astype(xp.float64)
        n = sizes[a]
        pos.append(u * n - shift)
        delta.append(2.0**-spec.subtexel_bits + n * 2.0**-spec.coord_frac_bits + (xp.abs(u) + 2.0) * n * 2.0**-23)
    first = [xp.floor(p - d) for p, d in zip(pos, delta)]
    last = [xp.floor(p + d) for p, d in zip(pos, delta)]
    count = [(la - f).astype(xp.int32) + (2 if state.linear else 1) for f, la in zip(first, last)]
    base = [f.astype(xp.int32) for f in first]
    nb_lo, nb_hi, used = _neighbourhood(xp, tex, geom, base, count, state, lo_t, hi_t, border)
    inf = float("inf")
    tmin = xp.where(used[:, :, None], nb_lo, inf).min(axis=1)
    tmax = xp.where(used[:, :, None], nb_hi, -inf).max(axis=1)
    if not state.linear:
        return _Bounds(tmin, tmax, tmin, tmax)
    # candidate positions per axis: both ends of the box, and the cell edge inside it if any
    cands = []
    for p, d, f, la in zip(pos, delta, first, last):
        edge = xp.where(la > f, la, p - d)
        cands.append((p - d, edge, p + d))
    lo_best = hi_best = None
    for choice in product(range(3), repeat=dims):
        q = [cands[a][choice[a]] for a in range(dims)]
        i0 = [xp.floor(v) for v in q]
        alpha = [v - i for v, i in zip(q, i0)]
        k = [(i - f).astype(xp.int32) for i, f in zip(i0, first)]   # 0 or 1 within the neighbourhood
        val_lo = val_hi = None
        for bits in product((0, 1), repeat=dims):
            bits = bits[::-1]
            flat = None
            w = None
            for a in range(dims):
                local = k[a] + bits[a]
                flat = local if flat is None else flat + local * (3 ** a)
                wa = alpha[a] if bits[a] else 1.0 - alpha[a]
                w = wa if w is None else w * wa
            idx = xp.broadcast_to(flat[:, None, None], (flat.shape[0], 1, 4))
            t_lo = xp.take_along_axis(nb_lo, idx, axis=1)[:, 0, :]
            t_hi = xp.take_along_axis(nb_hi, idx, axis=1)[:, 0, :]
            val_lo = t_lo * w[:, None] if val_lo is None else val_lo + t_lo * w[:, None]
            val_hi = t_hi * w[:, None] if val_hi is None else val_hi + t_hi * w[:, None]
        lo_best = val_lo if lo_best is None else xp.minimum(lo_best, val_lo)
        hi_best = val_hi if hi_best is None else xp.maximum(hi_best, val_hi)
    return _Bounds(lo_best, hi_best, tmin, tmax)


def _finish(xp, tex, b: _Bounds, stages: int, state: SamplerState, spec: BoundedSpec):
    tap_abs = xp.maximum(xp.abs(b.tmin), xp.abs(b.tmax))
    # float32 slack: a decode like c * f32(1/255) and the output conversion may each be an ulp off
    ulps = _ULP_SLACK * tap_abs
    tol = stages * _stage_tolerance(tex, tap_abs) + ulps
    if state.linear and tex.dims > 1:
        tol = tol + (b.tmax - b.tmin) * 2.0**-spec.subtexel_bits * (tex.dims - 1)
    lower = xp.maximum(b.lo - tol, b.tmin - ulps)
    upper = xp.minimum(b.hi + tol, b.tmax + ulps)
    return xp.stack([round_down_f32(xp, lower), round_up_f32(xp, upper)], axis=1)


def sample(tex: SampledTexture, coords, lod, layer: int, state: SamplerState, spec: BoundedSpec | None = None):
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

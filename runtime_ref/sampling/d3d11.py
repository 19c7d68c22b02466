"""Profile ``d3d11``: the D3D11 fixed-point sampler rules, evaluated exactly.

Source: D3D11.3 functional specification, "Texture Sampling" (texel coordinates snap to 16.8 fixed
point: ``D3D11_SUBTEXEL_FRACTIONAL_BIT_COUNT = 8``; LOD to 8 fractional bits:
``D3D11_MIP_LOD_FRACTIONAL_BIT_COUNT = 8``), and "Data Conversion" (UNORM ``c / (2^b - 1)``,
SNORM with both minimum codes at -1.0, float to fixed with round-to-nearest-even). The rules leave
the filter arithmetic open beyond "at least as precise as float32"; this profile fixes it as the
exact weighted sum rounded once, so it is the most accurate sampler D3D11 admits:

* ``fx = rint_even(f32(u * size) * 256) - 128`` (16.8 fixed point, the -0.5 applied exactly),
  ``i0 = fx >> 8``, weight ``a = fx & 255`` in 1/256 units; address modes wrap integer indices;
* product weights (``(256 - a) * (256 - b)`` ...) and an exact sum: integer for UNORM/SNORM codes,
  float64 for sRGB (exact curve) and float texels; one rounding to float32 at the end;
* nearest: ``fx >> 8`` of ``fx = rint_even(f32(u * size) * 256)`` (the texel under the snapped point);
* mips: ``lf = rint_even(lod * 256)``: linear blends levels ``lf >> 8`` and the next with weight
  ``lf & 255``; nearest takes level ``(lf + 128) >> 8``.
"""

from __future__ import annotations

import numpy as np

from ngsdk.runtime_ref.sampling import lod as lodmod
from ngsdk.runtime_ref.sampling import taps
from ngsdk.runtime_ref.sampling.address import wrap
from ngsdk.runtime_ref.sampling.backend import F32
from ngsdk.runtime_ref.sampling.decode import format_bits, pad_rgba
from ngsdk.runtime_ref.sampling.lavapipe_fixed import _f32
from ngsdk.runtime_ref.sampling.state import SamplerState
from ngsdk.runtime_ref.sampling.texture import SampledTexture


def _integer_codes(tex: SampledTexture) -> bool:
    return tex.format.kind in ("unorm", "snorm") and not tex.format.srgb


def _code_scale(tex: SampledTexture) -> float:
    bits = format_bits(tex.format)
    return float((1 << bits) - 1) if tex.format.kind == "unorm" else float((1 << (bits - 1)) - 1)


def _table(tex: SampledTexture):
    """Per texel: integer codes as float64 (SNORM minimum clamped to -max) and their scale, or the
    exact float64 values and ``None``. Integer codes keep every weighted sum an exact integer."""
    if not _integer_codes(tex):
        return tex.atlas("exact"), None

    def build():
        xp = tex.xp
        scale = _code_scale(tex)
        tables = []
        for m in range(tex.mip_count):
            raw = tex.raw(m).astype(xp.float64)
            if tex.format.kind == "snorm":
                raw = xp.maximum(raw, -scale)
            tables.append(pad_rgba(xp, raw, scale))
        return tables[0] if len(tables) == 1 else xp.concatenate(tables)

    return tex.cached("d3d11-codes", -1, build), _code_scale(tex)


def _snap(xp, coords, geom, dims):
    """16.8 fixed-point texel coordinates (int32) before the -0.5."""
    return [xp.rint(coords[a] * _f32(xp, n) * F32(256.0)).astype(xp.int32)
            for a, n in enumerate(taps.sizes(geom, dims))]


def _level_sum(tex: SampledTexture, coords, level, layer: int, state: SamplerState):
    """Per level: (numerator, shift) with value = numerator * 2^-shift / scale (integer codes) or
    numerator * 2^-shift (float64 values); nearest has shift 0."""
    xp = tex.xp
    geom = tex.geometry(level, layer)
    table, scale = _table(tex)
    border = state.clamped_border(tex.format.kind)
    if scale is not None:
        border = tuple(c * scale for c in border)          # code units (not an integer in general)
    fx = _snap(xp, coords, geom, tex.dims)
    if not state.linear:
        row, out = taps.nearest(xp, geom, [f >> 8 for f in fx], state.address)
        return taps.fetch(xp, table, row, out, border), 0
    fx = [f - 128 for f in fx]
    i0 = [f >> 8 for f in fx]
    a = [(f & 255).astype(xp.float64) for f in fx]
    acc = None
    for row, out, bits in taps.corners(xp, geom, i0, state.address):
        w = None
        for ax, bit in enumerate(bits):
            wa = a[ax] if bit else 256 - a[ax]
            w = wa if w is None else w * wa
        t = taps.fetch(xp, table, row, out, border)
        term = t * w[:, None]
        acc = term if acc is None else acc + term
    return acc, 8 * tex.dims


def _finish(xp, num, shift: int, scale):
    """Round ``num * 2^-shift / scale`` once to float32.

    For integer codes ``num`` is an exact integer (below 2^53) and ``num / scale`` a float64 quotient;
    it cannot fall on a float32 rounding midpoint unless it is exact (|num/scale - midpoint| >= 2^-25 /
    scale relative, far above float64's 2^-53), so rounding it to float32 is the correctly rounded
    result. Scaling by a power of two is exact. (A border colour that is not a whole code makes the
    sum non-integer; it is then rounded twice, at float64 and float32.)
    """
    if scale is not None:
        q = num.astype(xp.float64) / scale
    else:
        q = num
    return (q * 2.0**-shift).astype(xp.float32) if shift else q.astype(xp.float32)


_X_LANES = np.uint64(0x0000_FFFF_0000_FFFF)


def _wrap_fast(xp, i, n: int, mode: str):
    if mode == "repeat" and (n & (n - 1)) == 0:
        return i & (n - 1)
    return wrap(xp, i, n, mode)[0]


def _bilinear_bytes(tex: SampledTexture, coords, layer: int, state: SamplerState):
    """The same sum for 8-bit UNORM 2D bilinear at level 0, four components per SWAR multiply-add.

    x pass: ``(256 - a) * c0 + a * c1 < 2^16`` in 16-bit lanes; y pass in 32-bit lanes (even and odd
    components apart): ``S < 255 * 2^16 < 2^24``, so ``f32(S) / f32(255 * 2^16)`` is one correctly
    rounded division of exact float32 operands.
    """
    xp = tex.xp
    g = tex.geometry(0, layer)
    lanes = tex.atlas("lanes")
    ax = []
    for a, n in enumerate((g.w, g.h)):
        fx = xp.rint(coords[a] * F32(n * 256)).astype(xp.int32)
        fx -= 128
        i0 = fx >> 8
        w = (fx & 255).astype(xp.uint64)
        mode = state.address
        ax.append((_wrap_fast(xp, i0, n, mode), _wrap_fast(xp, i0 + 1, n, mode), w, 256 - w))
    (x0, x1, wa, wac), (y0, y1, wb, wbc) = ax
    r0 = y0 * g.w
    r0 += g.base
    r1 = y1 * g.w
    r1 += g.base
    top = xp.take(lanes, r0 + x0)
    top *= wac
    top += xp.take(lanes, r0 + x1) * wa
    bot = xp.take(lanes, r1 + x0)
    bot *= wac
    bot += xp.take(lanes, r1 + x1) * wa
    n = coords[0].shape[0]
    out = xp.empty((n, 4), dtype=xp.uint32)
    for k in (0, 1):
        t = (top >> np.uint64(16 * k)) & _X_LANES
        b = (bot >> np.uint64(16 * k)) & _X_LANES
        t *= wbc
        t += b * wb
        out[:, k::2] = t.view(xp.uint32).reshape(n, 2)
    res = out.astype(xp.float32)
    res /= F32(255 * 65536)
    return res


def _fast_path(tex: SampledTexture, state: SamplerState, lod) -> bool:
    return (tex.is_byte_unorm and not tex.format.srgb and tex.dims == 2 and state.filter == "linear"
            and state.address != "border" and (lod is None or tex.mip_count == 1))


def sample(tex: SampledTexture, coords, lod, layer: int, state: SamplerState):
    xp = tex.xp
    if _fast_path(tex, state, lod):
        return _bilinear_bytes(tex, coords, layer, state)
    _, scale = _table(tex)
    if lod is None or tex.mip_count == 1:
        num, shift = _level_sum(tex, coords, 0, layer, state)
        return _finish(xp, num, shift, scale)
    lf = xp.rint(lodmod.clamp_lod(xp, lod) * F32(256.0)).astype(xp.int32)
    last = tex.mip_count - 1
    if state.mip_linear:
        l0 = lf >> 8
        m = (lf & 255).astype(xp.float64)
        top = l0 >= last
        l0 = xp.where(top, last, l0).astype(xp.int32)
        l1 = xp.where(top, last, l0 + 1).astype(xp.int32)
        m = xp.where(top, 0, m)
        lo, shift = _level_sum(tex, coords, l0, layer, state)
        hi, _ = _level_sum(tex, coords, l1, layer, state)
        return _finish(xp, lo * (256 - m)[:, None] + hi * m[:, None], shift + 8, scale)
    level = xp.clip((lf + 128) >> 8, 0, last).astype(xp.int32)
    num, shift = _level_sum(tex, coords, level, layer, state)
    return _finish(xp, num, shift, scale)

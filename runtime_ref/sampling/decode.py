"""Texel decode: stored components -> RGBA values, in the arithmetic each profile needs.

All functions take texels of shape ``(..., C)`` in logical RGBA order (as
:class:`~ngsdk.asset.texture.TextureData` stores them) and return ``(..., 4)``: formats with fewer
than four components read as ``(R, G, 0, 1)`` / ``(R, 0, 0, 1)``, as in the Vulkan spec
("Conversion to RGBA", 16.3.5) and D3D.

* :func:`decode_exact` - the spec's real-number value, in float64: UNORM ``c / (2^b - 1)``, SNORM
  ``max(c, -(2^(b-1) - 1)) / (2^(b-1) - 1)`` (both minimum codes give -1.0), sRGB by the exact
  IEC 61966-2-1 curve, half and float as stored.
* :func:`decode_lavapipe` - llvmpipe's float32 arithmetic (Mesa ``lp_bld_format*.c``):
  UNORM ``c * f32(1 / (2^b - 1))`` (differs from ``c / 255`` for 126 of the 256 bytes), SNORM
  ``c * f32(1 / (2^(b-1) - 1))`` then clamped to -1, sRGB by Mesa's polynomial (:func:`srgb_mesa`).
* :func:`srgb_exact` / :func:`srgb_mesa` - the two sRGB decodes on 8-bit codes.
* :func:`decode_bounds` - per-texel [lo, hi] intervals a conformant implementation may return
  (exact for UNORM/SNORM/float; for sRGB the D3D10+ rule that the decoded value must map back
  within 0.5 of the 8-bit code, widened by ``srgb_slack`` codes).
"""

from __future__ import annotations

from decimal import Decimal, localcontext
from functools import cache
from types import ModuleType

import numpy as np

from ngsdk.asset.dxgi import DxgiFormat
from ngsdk.runtime_ref.sampling.backend import F32, fma_f32

# Mesa lp_bld_format_srgb.c, lp_build_srgb_to_linear: the polynomial
# 0.3012 x^3 + 0.6935 x^2 + 0.0030 x + 0.0023 on x = code / 255, with the 1/255 folded into the
# coefficients. The coefficient expressions are evaluated in C float (their 'f' suffixes) and then
# stored as double, which LLVM rounds back to float exactly, so each is the float32 below.
_SRGB_C0 = F32(0.0023)
_SRGB_C1 = F32(F32(0.0030) / F32(255.0))
_SRGB_C2 = F32(F32(0.6935) / (F32(255.0) * F32(255.0)))
_SRGB_C3 = F32(F32(0.3012) / (F32(255.0) * F32(255.0) * F32(255.0)))
# codes <= 15 use the linear segment x / (12.6 * 255) (Mesa widened it from 11 codes to 16)
_SRGB_LIN = F32(F32(1.0) / (F32(12.6) * F32(255.0)))
_SRGB_LIN_MAX = F32(15.0)


def format_bits(fmt: DxgiFormat) -> int:
    return np.dtype(fmt.dtype).itemsize * 8


def pad_rgba(xp: ModuleType, values, one):
    """Pad ``(..., C)`` to ``(..., 4)`` with 0 for G/B and ``one`` for A (Vulkan/D3D rule)."""
    c = values.shape[-1]
    if c == 4:
        return values
    out = xp.zeros(values.shape[:-1] + (4,), dtype=values.dtype)
    out[..., :c] = values
    out[..., 3] = one
    return out


def _srgb_curve_decimal(s: Decimal) -> float:
    """IEC 61966-2-1 sRGB -> linear of ``s`` in [0, 1], correctly rounded to float64."""
    if s <= Decimal("0.04045"):
        return float(s / Decimal("12.92"))
    base = (s + Decimal("0.055")) / Decimal("1.055")
    return float((Decimal("2.4") * base.ln()).exp())


@cache
def _srgb_table(offset: float) -> np.ndarray:
    """float64 curve values at ``(code + offset) / 255`` for codes 0..255, clamped to [0, 1].

    Computed once in 40-digit decimal arithmetic, so the table is the same on every machine and
    backend (libm ``pow`` and CUDA ``pow`` are not correctly rounded).
    """
    with localcontext() as ctx:
        ctx.prec = 40
        out = []
        for code in range(256):
            s = min(max((Decimal(code) + Decimal(repr(offset))) / Decimal(255), Decimal(0)), Decimal(1))
            out.append(_srgb_curve_decimal(s))
    return np.array(out, dtype=np.float64)


def srgb_exact(xp: ModuleType, codes, offset: float = 0.0):
    """Exact sRGB -> linear of 8-bit codes (float64): the IEC 61966-2-1 piecewise curve, correctly
    rounded (``offset`` evaluates it at ``code + offset``, for decode bounds)."""
    table = xp.asarray(_srgb_table(float(offset)))
    return xp.take(table, xp.asarray(codes).astype(xp.int32))


def srgb_mesa(xp: ModuleType, codes):
    """llvmpipe's sRGB -> linear of 8-bit codes (float32), bit-exact.

    Source: Mesa ``src/gallium/auxiliary/gallivm/lp_bld_format_srgb.c`` (lp_build_srgb_to_linear,
    unchanged from Mesa 10 to 25) with ``lp_build_polynomial`` from ``lp_bld_arit.c``: even and odd
    terms evaluated separately with ``lp_build_mad`` (``llvm.fmuladd``, an FMA on x86 with FMA),
    ``poly = fma(fma(x2, c3, c1), x, fma(x2, c2, c0))`` with ``x2 = x * x``; codes <= 15 take the
    linear segment ``x * f32(1 / (12.6 * 255))``. Error against the exact curve <= 1.2e-3.
    """
    x = xp.asarray(codes, dtype=xp.float32)
    x2 = x * x
    even = fma_f32(xp, x2, xp.full_like(x, _SRGB_C2), xp.full_like(x, _SRGB_C0))
    odd = fma_f32(xp, x2, xp.full_like(x, _SRGB_C3), xp.full_like(x, _SRGB_C1))
    poly = fma_f32(xp, odd, x, even)
    return xp.where(x <= _SRGB_LIN_MAX, x * _SRGB_LIN, poly).astype(xp.float32)


def decode_exact(xp: ModuleType, fmt: DxgiFormat, texels):
    """The spec value of every texel as float64, ``(..., 4)``."""
    t = xp.asarray(texels)
    if fmt.kind == "float":
        return pad_rgba(xp, t.astype(xp.float64), 1.0)
    bits = format_bits(fmt)
    if fmt.kind == "unorm":
        v = t.astype(xp.float64) / float((1 << bits) - 1)
        if fmt.srgb:
            v[..., :3] = srgb_exact(xp, t[..., :3])
        return pad_rgba(xp, v, 1.0)
    if fmt.kind == "snorm":
        top = float((1 << (bits - 1)) - 1)
        return pad_rgba(xp, xp.maximum(t.astype(xp.float64), -top) / top, 1.0)
    raise ValueError(f"{fmt.name}: no decode for kind {fmt.kind!r}")


def decode_lavapipe(xp: ModuleType, fmt: DxgiFormat, texels):
    """llvmpipe's float32 decode of every texel, ``(..., 4)`` (see module docstring)."""
    t = xp.asarray(texels)
    if fmt.kind == "float":
        # half -> float and float are exact conversions
        return pad_rgba(xp, t.astype(xp.float32), F32(1.0))
    bits = format_bits(fmt)
    if fmt.kind == "unorm":
        # lp_build_unsigned_norm_to_float: multiply by the float constant 1/(2^b - 1)
        v = t.astype(xp.float32) * F32(1.0 / ((1 << bits) - 1))
        if fmt.srgb:
            v[..., :3] = srgb_mesa(xp, t[..., :3])
        return pad_rgba(xp, v, F32(1.0))
    if fmt.kind == "snorm":
        v = t.astype(xp.float32) * F32(1.0 / ((1 << (bits - 1)) - 1))
        return pad_rgba(xp, xp.maximum(v, F32(-1.0)), F32(1.0))
    raise ValueError(f"{fmt.name}: no decode for kind {fmt.kind!r}")


def decode_bounds(xp: ModuleType, fmt: DxgiFormat, texels, srgb_slack: float = 0.0):
    """Per-texel ``(lo, hi)`` float64 intervals that any conformant decode lies in.

    UNORM, SNORM and float formats decode exactly (``lo == hi``; float32 rounding of the constant
    ``1/(2^b - 1)`` is covered by the sampler bounds' ulp slack). sRGB: D3D10+ requires that the
    decoded value maps back within 0.5 of the code; the interval is the exact curve at
    ``(code -/+ (0.5 + srgb_slack)) / 255``, clamped to [0, 1].
    """
    exact = decode_exact(xp, fmt, texels)
    if not fmt.srgb:
        return exact, exact
    codes = xp.asarray(texels)[..., :3]
    half = 0.5 + srgb_slack
    lo = exact.copy()
    hi = exact.copy()
    lo[..., :3] = srgb_exact(xp, codes, -half)
    hi[..., :3] = srgb_exact(xp, codes, half)
    return lo, hi

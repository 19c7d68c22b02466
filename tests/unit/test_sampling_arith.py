"""Arithmetic building blocks of the samplers: exact FMA, the 8.8 lerp, sRGB and UNORM decodes."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from ngsdk.asset.dxgi import lookup
from ngsdk.runtime_ref.sampling.backend import fma_f32, round_down_f32, round_up_f32
from ngsdk.runtime_ref.sampling.decode import decode_exact, decode_lavapipe, srgb_exact, srgb_mesa
from ngsdk.runtime_ref.sampling.lavapipe_fixed import _lerp


def _is_correctly_rounded(exact: Fraction, r: np.float32) -> bool:
    """r is the float32 nearest to exact (ties to an even mantissa)."""
    lo = np.nextafter(r, np.float32(-np.inf))
    hi = np.nextafter(r, np.float32(np.inf))
    d = abs(exact - Fraction(float(r)))
    for nb in (lo, hi):
        dn = abs(exact - Fraction(float(nb)))
        if dn < d or (dn == d and int(np.array(r).view(np.uint32)) & 1):
            return False
    return True


def test_fma_f32_is_correctly_rounded_including_near_midpoints():
    rng = np.random.default_rng(0)
    a = rng.standard_normal(3000).astype(np.float32)
    b = rng.standard_normal(3000).astype(np.float32)
    c = rng.standard_normal(3000).astype(np.float32)
    # construct sums that land within a few float64 ulps of a float32 rounding midpoint, where
    # rounding a plain float64 sum to float32 (double rounding) goes wrong
    p = a[:1000].astype(np.float64) * b[:1000]
    r = p.astype(np.float32)
    mid = (r.astype(np.float64) + np.nextafter(r, np.float32(np.inf)).astype(np.float64)) / 2
    c[:1000] = ((mid - p) * 3).astype(np.float32)
    got = fma_f32(np, a, b, c)
    for x, y, z, g in zip(a, b, c, got, strict=True):
        exact = Fraction(float(x)) * Fraction(float(y)) + Fraction(float(z))
        assert _is_correctly_rounded(exact, g), (x, y, z, g)


def test_fma_f32_known_double_rounding_case():
    # a*b = -2^-24 (1 - 2^-36), so a*b + c = 1 + 2^-24 + 2^-60 exactly. The float64 sum drops the
    # 2^-60 and lands on the float32 midpoint 1 + 2^-24, which rounds to even (1.0); the exact value
    # is above the midpoint, so a true FMA gives 1 + 2^-23.
    a = np.float32(2.0**-12 * (1 - 2.0**-18))
    b = np.float32(-(2.0**-12) * (1 + 2.0**-18))
    c = np.float32(1 + 2.0**-23)
    naive = np.float32(np.float64(a) * np.float64(b) + np.float64(c))
    assert naive == np.float32(1.0)
    got = fma_f32(np, np.array([a]), np.array([b]), np.array([c]))[0]
    assert got == np.float32(1 + 2.0**-23)


def test_directed_rounding_brackets_the_float64_value():
    x = np.array([0.1, -0.1, 1 / 3, 2.0, -1e-30])
    lo, hi = round_down_f32(np, x), round_up_f32(np, x)
    assert np.all(lo.astype(np.float64) <= x) and np.all(hi.astype(np.float64) >= x)
    assert lo[3] == hi[3] == 2.0


def _lerp_scalar(a: int, b: int, w: int) -> int:
    """llvmpipe's 8.8 lerp on one byte: a + ((w * (b - a) + 128) >> 8), arithmetic shift."""
    return (a + ((w * (b - a) + 128) >> 8)) & 255


@pytest.mark.parametrize(("a", "b", "w", "expected"), [
    (0, 255, 128, 128),     # (128*255 + 128) >> 8 = 32768 >> 8
    (0, 255, 1, 1),         # (255 + 128) >> 8
    (255, 0, 1, 254),       # 255 + ((-255 + 128) >> 8) = 255 - 1
    (10, 20, 255, 20),      # (2550 + 128) >> 8 = 10
    (200, 100, 128, 150),   # 200 + ((-12800 + 128) >> 8) = 200 - 50
    (7, 7, 200, 7),
])
def test_fixed_lerp_hand_computed(a, b, w, expected):
    assert _lerp_scalar(a, b, w) == expected
    lanes = np.array([a | (b << 16)], dtype=np.uint64)     # lane 0 = a, lane 1 = b
    got = _lerp(lanes.copy(), np.array([b | (a << 16)], dtype=np.uint64),
                np.array([w], dtype=np.uint64), np.array([256 - w], dtype=np.uint64))
    assert int(got[0]) & 0xFFFF == expected
    assert (int(got[0]) >> 16) & 0xFFFF == _lerp_scalar(b, a, w)


def test_swar_lerp_equals_byte_formula_exhaustively():
    a = np.repeat(np.arange(256, dtype=np.int64), 256)
    b = np.tile(np.arange(256, dtype=np.int64), 256)
    for w in range(256):
        want = (a + ((w * (b - a) + 128) >> 8)) & 255
        la = (a | (b << 16) | (a << 32) | (b << 48)).astype(np.uint64)
        lb = (b | (a << 16) | (b << 32) | (a << 48)).astype(np.uint64)
        ww = np.full(a.shape, w, np.uint64)
        got = _lerp(la, lb, ww, 256 - ww)
        assert np.array_equal((got & np.uint64(0xFFFF)).astype(np.int64), want)
        assert np.array_equal(((got >> np.uint64(32)) & np.uint64(0xFFFF)).astype(np.int64), want)


def test_srgb_mesa_polynomial_values():
    codes = np.arange(256)
    mesa = srgb_mesa(np, codes).astype(np.float64)
    exact = srgb_exact(np, codes)
    assert np.abs(mesa - exact).max() < 1.2e-3
    assert mesa[0] == 0.0
    # codes <= 15 take the linear segment x / (12.6 * 255) in float32
    lin = np.float32(np.float32(1) / (np.float32(12.6) * np.float32(255)))
    assert mesa[15] == np.float32(np.float32(15) * lin)
    # code 255: 0.3012 + 0.6935 + 0.0030 + 0.0023 = 1.0000 (within float32 rounding)
    assert abs(mesa[255] - 1.0) < 1e-6
    assert exact[255] == 1.0 and exact[10] == pytest.approx(10 / 255 / 12.92)


def test_lavapipe_unorm_decode_differs_from_exact_for_126_bytes():
    fmt = lookup("R8_UNORM")
    codes = np.arange(256, dtype=np.uint8)[:, None]
    lp = decode_lavapipe(np, fmt, codes)[:, 0]
    exact = decode_exact(np, fmt, codes)[:, 0].astype(np.float32)     # c / 255 correctly rounded
    assert int(np.sum(lp != exact)) == 126
    assert np.array_equal(lp, np.arange(256, dtype=np.float32) * np.float32(1 / 255))


def test_snorm_minimum_code_decodes_to_minus_one():
    fmt = lookup("R8G8B8A8_SNORM")
    t = np.array([[-128, -127, 0, 127]], dtype=np.int8)
    assert decode_exact(np, fmt, t)[0].tolist() == [-1.0, -1.0, 0.0, 1.0]
    assert decode_lavapipe(np, fmt, t)[0].tolist() == [-1.0, -1.0, 0.0, 1.0]


def test_missing_components_read_as_zero_and_one():
    t = np.array([[200]], dtype=np.uint8)
    assert decode_exact(np, lookup("R8_UNORM"), t)[0].tolist() == [200 / 255, 0.0, 0.0, 1.0]
    t2 = np.array([[1.5, -2.0]], dtype=np.float32)
    assert decode_lavapipe(np, lookup("R32G32_FLOAT"), t2)[0].tolist() == [1.5, -2.0, 0.0, 1.0]

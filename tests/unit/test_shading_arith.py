"""The shading decode contract's arithmetic: fp16 rounding, polynomial sin/cos/sigmoid/tanh, and
the torch encoding matching runtime_ref bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from ngsdk.asset.shading_mlp import ShadingEncoding
from ngsdk.runtime_ref.shading_mlp import (
    _round_f16_,
    encode,
    round_f16,
    sigmoid32,
    sin_cos_pi,
    tanh32,
)


def _all_fp16() -> np.ndarray:
    h = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.float16)
    return h[np.isfinite(h)].astype(np.float32)


def test_fast_rounding_is_round_to_nearest_even_over_the_fp16_range():
    rng = np.random.default_rng(1)
    bits = rng.integers(0, 1 << 32, 2_000_000, dtype=np.uint64).astype(np.uint32)
    x = bits.view(np.float32)
    x = x[np.isfinite(x) & (np.abs(x) <= 65504)]
    # ties and neighbours of ties around every binade, subnormal fp16 range included
    h = _all_fp16()
    with np.errstate(over="ignore"):
        nxt = np.nextafter(h.astype(np.float16), np.float16(np.inf)).astype(np.float32)
    mid = (h + nxt) / 2
    extra = np.concatenate([mid, np.nextafter(mid, np.float32(0)), np.nextafter(mid, np.float32(1e9))])
    x = np.concatenate([x, extra[np.isfinite(extra) & (np.abs(extra) <= 65504)]]).astype(np.float32)
    fast = x.copy()
    _round_f16_(fast, np.empty(fast.shape, np.uint32))
    ieee = x.astype(np.float16).astype(np.float32)
    assert np.array_equal(fast, ieee)  # equal as values: only the sign of a zero may differ


def test_sum_rounding_without_subnormal_floor_is_exact_for_fp16_sums():
    rng = np.random.default_rng(2)
    a = rng.choice(_all_fp16(), 1_000_000)
    b = rng.choice(_all_fp16(), 1_000_000) * np.float32(1e-3)
    b = b.astype(np.float16).astype(np.float32)
    s = a + b
    s = s[np.abs(s) <= 60000]
    fast = s.copy()
    _round_f16_(fast, np.empty(fast.shape, np.uint32), subnormals=False)
    assert np.array_equal(fast, s.astype(np.float16).astype(np.float32))


def test_sin_cos_pi_polynomials_are_accurate():
    x = np.linspace(-4, 4, 400_001, dtype=np.float32)
    s, c = sin_cos_pi(x)
    xd = x.astype(np.float64)
    assert np.abs(s - np.sin(np.pi * xd)).max() < 2e-7
    assert np.abs(c - np.cos(np.pi * xd)).max() < 2e-7
    # quadrant points are exact
    q = np.array([0, 0.5, 1, 1.5, 2, -0.5, -1], np.float32)
    s, c = sin_cos_pi(q)
    assert np.array_equal(np.abs(s), np.abs(np.round(np.sin(np.pi * q.astype(np.float64)))))
    assert np.array_equal(np.abs(c), np.abs(np.round(np.cos(np.pi * q.astype(np.float64)))))


def test_sigmoid_and_tanh_are_accurate_on_every_fp16_input():
    x = _all_fp16()
    xd = x.astype(np.float64)
    with np.errstate(over="ignore"):
        true_sig = 1 / (1 + np.exp(-xd))
    assert np.abs(sigmoid32(x) - true_sig).max() < 3e-7
    assert np.abs(tanh32(x) - np.tanh(xd)).max() < 4e-7
    small = np.abs(x) < 0.5
    rel = np.abs(tanh32(x)[small] - np.tanh(xd[small])) / np.maximum(np.abs(np.tanh(xd[small])), 1e-30)
    assert rel.max() < 2e-7
    # rounded to fp16 they agree with the correctly rounded functions almost everywhere
    assert np.count_nonzero(round_f16(sigmoid32(x)) != true_sig.astype(np.float16).astype(np.float32)) < 20
    assert np.count_nonzero(round_f16(tanh32(x)) != np.tanh(xd).astype(np.float16).astype(np.float32)) < 20


@pytest.mark.parametrize(
    "kind,per_input", [("frequency", 6), ("frequency", 10), ("triangle", 6), ("none", 1)]
)
@pytest.mark.parametrize("precision", ["fp16", "fp32"])
def test_torch_encoding_matches_runtime_ref_bit_for_bit(kind, per_input, precision):
    torch = pytest.importorskip("torch")
    from ngsdk.shading.model import encode as torch_encode

    rng = np.random.default_rng(3)
    uv = np.concatenate([rng.random((50_000, 2)), rng.uniform(-40, 40, (5_000, 2))]).astype(np.float32)
    enc = ShadingEncoding(kind, per_input)
    ref = encode(uv, enc, precision)
    got = torch_encode(torch.from_numpy(uv), enc, fp16=precision == "fp16").numpy()
    assert ref.shape == (uv.shape[0], enc.features)
    assert np.array_equal(ref.view(np.uint32), got.view(np.uint32))


def test_frequency_encoding_follows_the_seed_layout():
    uv = np.array([[0.125, 0.75]], np.float32)
    e = encode(uv, ShadingEncoding("frequency", 6), "fp32")[0].astype(np.float64)
    want = []
    for x in (0.125, 0.75):
        for k in range(3):
            want += [np.sin(2**k * np.pi * x), np.cos(2**k * np.pi * x)]
    assert np.abs(e - np.array(want)).max() < 1e-6

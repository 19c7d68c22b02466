"""ngsdk.runtime_ref.mil op functions on hand-made inputs (numpy only; the converted-program checks are in
tests/integration/test_mil_interpreter.py)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from ngsdk.runtime_ref.mil.ops import OPS, Args, OpArgumentError


def run(op: str, **inputs: object) -> np.ndarray:
    return OPS[op].fn(Args(op, {k: v if isinstance(v, list) else [v] for k, v in inputs.items()}))


def test_concat_of_scalars_is_a_vector() -> None:
    # coremltools builds expand/tile target shapes as concat of rank-0 int32 values (MIL: rank-1 result)
    vals = [np.int32(5), np.array(2, np.int32), np.array(-1, np.int32), np.int32(7)]
    for interleave in (False, True):
        out = run("concat", values=vals, axis=np.int32(0), interleave=np.bool_(interleave))
        assert out.dtype.kind == "i" and out.tolist() == [5, 2, -1, 7]
    assert run("concat", values=[np.float32(0.5), np.float32(2)], axis=np.int32(-1)).tolist() == [0.5, 2.0]
    with pytest.raises(OpArgumentError):
        run("concat", values=[np.int32(1), np.int32(2)], axis=np.int32(1))


def test_concat_keeps_float_values_exactly() -> None:
    a = np.float16([[1.5, -2.0]])
    b = np.float32([[1 / 3, 7.0]])
    out = run("concat", values=[a, b], axis=np.int32(0))
    assert out.dtype == np.float32 and np.array_equal(out, np.concatenate([a.astype(np.float32), b]))


def _naive_conv(x, w, b, stride, pad, dil, groups):  # noqa: ANN001, ANN202
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xp = np.pad(x, [(0, 0), (0, 0), (pad[0], pad[1]), (pad[2], pad[3])])
    ho = (xp.shape[2] - (kh - 1) * dil[0] - 1) // stride[0] + 1
    wo = (xp.shape[3] - (kw - 1) * dil[1] - 1) // stride[1] + 1
    y = np.zeros((n, o, ho, wo))
    og = o // groups
    for ni, oi, i, j in itertools.product(range(n), range(o), range(ho), range(wo)):
        g = oi // og
        for ci, u, v in itertools.product(range(cg), range(kh), range(kw)):
            y[ni, oi, i, j] += (xp[ni, g * cg + ci, i * stride[0] + u * dil[0], j * stride[1] + v * dil[1]]
                                * w[oi, ci, u, v])
    return y + b[None, :, None, None]


@pytest.mark.parametrize("stride,pad,dil,groups", [((1, 1), (0, 0, 0, 0), (1, 1), 1),
                                                   ((2, 1), (1, 0, 2, 1), (1, 2), 2),
                                                   ((1, 2), (1, 1, 1, 1), (2, 1), 4)])
def test_conv_matches_direct_sum(stride, pad, dil, groups) -> None:  # noqa: ANN001
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 7, 6)).astype(np.float32)
    w = rng.standard_normal((8, 4 // groups, 3, 2)).astype(np.float32)
    b = rng.standard_normal(8).astype(np.float32)
    got = run("conv", x=x, weight=w, bias=b, strides=np.int32(stride), pad_type="custom", pad=np.int32(pad),
              dilations=np.int32(dil), groups=np.int32(groups))
    want = _naive_conv(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), stride, pad, dil, groups)
    assert got.shape == want.shape and np.allclose(got, want, rtol=0, atol=1e-12)


def test_exact_ops_keep_their_input_dtype_and_values() -> None:
    x = np.float16([-1.5, 0.0, 0.25, 7.0, np.nan])
    assert run("relu", x=x).dtype == np.float16
    np.testing.assert_array_equal(run("relu", x=x), np.float16([0.0, 0.0, 0.25, 7.0, np.nan]))
    np.testing.assert_array_equal(run("relu6", x=x), np.float16([0.0, 0.0, 0.25, 6.0, np.nan]))
    clipped = run("clip", x=x, alpha=np.float16(-1.0), beta=np.float16(1.0))
    assert clipped.dtype == np.float16
    np.testing.assert_array_equal(clipped, np.float16([-1.0, 0.0, 0.25, 1.0, np.nan]))
    # bounds finer than x's dtype: compared in float64, not rounded to x's dtype first
    y = run("clip", x=np.float16([0.29]), alpha=np.float32(0.30001), beta=np.float32(1.0))
    assert y.dtype == np.float64 and y[0] == np.float64(np.float32(0.30001))


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "real_div", "maximum", "minimum"])
def test_same_type_arithmetic_equals_float64_rounded(op: str, dtype: type) -> None:
    # the interpreter's contract: evaluate in float64, round once to the declared type; these ops may skip
    # the float64 copy because one correctly rounded operation in the narrow type gives the same bits
    rng = np.random.default_rng(1)
    x = (rng.standard_normal(20000) * np.exp2(rng.integers(-12, 12, 20000))).astype(dtype)
    y = (rng.standard_normal(20000) * np.exp2(rng.integers(-12, 12, 20000))).astype(dtype)
    fn = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "real_div": np.true_divide,
          "maximum": np.maximum, "minimum": np.minimum}[op]
    with np.errstate(over="ignore"):  # fp16 products overflow to inf on both sides
        got = run(op, x=x, y=y)
        want = fn(x.astype(np.float64), y.astype(np.float64)).astype(dtype)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, want)

"""NumPy implementations of the MIL (Core ML ML Program) operations our exporters emit.

Each op computes in float64 from its (fp16 or fp32) inputs; the interpreter then rounds the result to the
dtype the program declares for the op's output. So an fp16 program is evaluated with one float16 rounding
per op (accumulation inside conv/linear/matmul in float64), and an fp32 program with one float32 rounding
per op. Defaults for omitted inputs follow the MIL op definitions (iOS15-iOS17 opsets).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

_REQUIRED = object()


class OpArgumentError(ValueError):
    """An op got inputs it cannot evaluate (missing, extra or malformed)."""


class Args:
    """The resolved inputs of one op: each name maps to the list of its bound values."""

    def __init__(self, op_type: str, values: dict[str, list[Any]]):
        self.op_type = op_type
        self.values = values

    def has(self, name: str) -> bool:
        return name in self.values

    def get(self, name: str, default: Any = _REQUIRED) -> Any:
        vals = self.values.get(name)
        if vals is None:
            if default is _REQUIRED:
                raise OpArgumentError(f"{self.op_type}: required input {name!r} is missing")
            return default
        if len(vals) != 1:
            raise OpArgumentError(f"{self.op_type}: input {name!r} has {len(vals)} values, expected one")
        return vals[0]

    def many(self, name: str) -> list[Any]:
        if name not in self.values:
            raise OpArgumentError(f"{self.op_type}: required input {name!r} is missing")
        return self.values[name]

    def scalar(self, name: str, default: Any = _REQUIRED) -> Any:
        v = self.get(name, default)
        a = np.asarray(v)
        if a.size != 1:
            raise OpArgumentError(f"{self.op_type}: input {name!r} must be a scalar, got shape {a.shape}")
        return a.reshape(()).item()

    def ints(self, name: str, default: Any = _REQUIRED) -> list[int]:
        v = self.get(name, default)
        return [int(x) for x in np.asarray(v).reshape(-1)]

    def string(self, name: str, default: Any = _REQUIRED) -> str:
        return str(self.scalar(name, default))


@dataclass(frozen=True)
class OpDef:
    fn: Callable[[Args], Any]
    params: frozenset[str]


OPS: dict[str, OpDef] = {}


def op(name: str, *params: str) -> Callable[[Callable[[Args], Any]], Callable[[Args], Any]]:
    def register(fn: Callable[[Args], Any]) -> Callable[[Args], Any]:
        OPS[name] = OpDef(fn, frozenset(params))
        return fn

    return register


def _f(a: Any) -> np.ndarray:
    return np.asarray(a, dtype=np.float64)


# ---- activations and elementwise unary ops ----


def _unary(name: str, fn: Callable[[np.ndarray], np.ndarray]) -> None:
    op(name, "x")(lambda a: fn(_f(a.get("x"))))


def _exact(a: Any) -> np.ndarray:
    """A float input kept in its own dtype, for ops whose result is exact in it (max/min/abs: no rounding),
    so they give the float64 result without a float64 copy of a large tensor."""
    x = np.asarray(a)
    return x if x.dtype.kind == "f" else _f(x)


op("relu", "x")(lambda a: np.maximum(_exact(a.get("x")), 0))
op("relu6", "x")(lambda a: np.clip(_exact(a.get("x")), 0, 6))
_unary("sigmoid", lambda x: 0.5 * (1.0 + np.tanh(0.5 * x)))  # overflow-free logistic
_unary("tanh", np.tanh)
_unary("silu", lambda x: x * 0.5 * (1.0 + np.tanh(0.5 * x)))
_unary("exp", np.exp)
_unary("sqrt", np.sqrt)
op("abs", "x")(lambda a: np.abs(_exact(a.get("x"))))
_unary("sin", np.sin)
_unary("cos", np.cos)
_unary("floor", np.floor)
_unary("ceil", np.ceil)
_unary("square", np.square)
_unary("sign", np.sign)
op("identity", "x")(lambda a: _exact(a.get("x")))
_unary("softplus", lambda x: np.logaddexp(0.0, x))

_erf = np.frompyfunc(math.erf, 1, 1)


@op("thresholded_relu", "x", "alpha")
def _thresholded_relu(a: Args) -> np.ndarray:
    """``x`` where ``x > alpha``, else 0 (coremltools writes hard-swish as thresholded_relu(alpha=-3) times
    sigmoid_hard(1/6, 1/2))."""
    x = _exact(a.get("x"))
    return np.where(x > float(a.scalar("alpha", 1.0)), x, np.zeros((), x.dtype))


@op("leaky_relu", "x", "alpha")
def _leaky_relu(a: Args) -> np.ndarray:
    x = _f(a.get("x"))
    return np.where(x >= 0, x, x * float(a.scalar("alpha", 0.01)))


@op("elu", "x", "alpha")
def _elu(a: Args) -> np.ndarray:
    x = _f(a.get("x"))
    return np.where(x > 0, x, float(a.scalar("alpha", 1.0)) * np.expm1(np.minimum(x, 0.0)))


@op("gelu", "x", "mode")
def _gelu(a: Args) -> np.ndarray:
    x = _f(a.get("x"))
    mode = a.string("mode", "EXACT")
    if mode == "EXACT":
        return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)).astype(np.float64))
    if mode == "TANH_APPROXIMATION":
        return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))
    if mode == "SIGMOID_APPROXIMATION":
        return x * 0.5 * (1.0 + np.tanh(0.5 * 1.702 * x))
    raise OpArgumentError(f"gelu: unknown mode {mode!r}")


@op("sigmoid_hard", "x", "alpha", "beta")
def _sigmoid_hard(a: Args) -> np.ndarray:
    x = _f(a.get("x"))
    return np.clip(float(a.scalar("alpha", 0.2)) * x + float(a.scalar("beta", 0.5)), 0.0, 1.0)


@op("clip", "x", "alpha", "beta")
def _clip(a: Args) -> np.ndarray:
    x, lo, hi = _exact(a.get("x")), _exact(a.get("alpha")), _exact(a.get("beta"))
    if lo.dtype.itemsize > x.dtype.itemsize or hi.dtype.itemsize > x.dtype.itemsize:
        x = _f(x)  # bounds finer than x's dtype: compare in float64
    return np.minimum(np.maximum(x, lo.astype(x.dtype)), hi.astype(x.dtype))


@op("rsqrt", "x", "epsilon")
def _rsqrt(a: Args) -> np.ndarray:
    return 1.0 / np.sqrt(_f(a.get("x")) + float(a.scalar("epsilon", 1e-12)))


@op("inverse", "x", "epsilon")
def _inverse(a: Args) -> np.ndarray:
    return 1.0 / (_f(a.get("x")) + float(a.scalar("epsilon", 1e-4)))


@op("log", "x", "epsilon")
def _log(a: Args) -> np.ndarray:
    return np.log(_f(a.get("x")) + float(a.scalar("epsilon", 1e-45)))


# ---- elementwise binary ops (NumPy broadcasting, as MIL) ----


def _binary(name: str, fn: Callable[[np.ndarray, np.ndarray], np.ndarray], same_in_own_type: bool) -> None:
    def run(a: Args) -> np.ndarray:
        x, y = np.asarray(a.get("x")), np.asarray(a.get("y"))
        if x.dtype.kind in "iub" and y.dtype.kind in "iub":
            return fn(np.asarray(x, np.int64), np.asarray(y, np.int64))  # shape arithmetic stays integer
        if same_in_own_type and x.dtype == y.dtype and x.dtype.kind == "f":
            # One +, -, *, / or max/min of two fp32 (fp16) values, rounded to fp32 (fp16), equals the float64
            # result rounded to that type (53 >= 2 * 24 + 2: double rounding is innocuous), so skip the float64
            # copies of whole-mip tensors.
            return fn(x, y)
        return fn(_f(x), _f(y))

    op(name, "x", "y")(run)


_binary("add", np.add, True)
_binary("sub", np.subtract, True)
_binary("mul", np.multiply, True)
_binary("real_div", np.true_divide, True)
_binary("floor_div", np.floor_divide, False)  # floor of a rounded quotient can differ
_binary("maximum", np.maximum, True)
_binary("minimum", np.minimum, True)
_binary("pow", np.power, False)


def _compare(name: str, fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> None:
    op(name, "x", "y")(lambda a: fn(np.asarray(a.get("x")), np.asarray(a.get("y"))))


_compare("greater", np.greater)
_compare("greater_equal", np.greater_equal)
_compare("less", np.less)
_compare("less_equal", np.less_equal)
_compare("equal", np.equal)
_compare("not_equal", np.not_equal)
_compare("logical_and", np.logical_and)
_compare("logical_or", np.logical_or)
_compare("logical_xor", np.logical_xor)
op("logical_not", "x")(lambda a: np.logical_not(np.asarray(a.get("x"))))


@op("select", "cond", "a", "b")
def _select(a: Args) -> np.ndarray:
    x, y = np.asarray(a.get("a")), np.asarray(a.get("b"))
    if x.dtype.kind == "f" or y.dtype.kind == "f":
        x, y = _f(x), _f(y)
    return np.where(np.asarray(a.get("cond")).astype(bool), x, y)


@op("fill_like", "ref_tensor", "value")
def _fill_like(a: Args) -> np.ndarray:
    return np.full(np.asarray(a.get("ref_tensor")).shape, a.scalar("value", 0.0))


# ---- dense ops ----


@op("linear", "x", "weight", "bias")
def _linear(a: Args) -> np.ndarray:
    x, w = _f(a.get("x")), _f(a.get("weight"))
    y = x @ w.T
    if a.has("bias"):
        y = y + _f(a.get("bias"))
    return y


@op("matmul", "x", "y", "transpose_x", "transpose_y")
def _matmul(a: Args) -> np.ndarray:
    x, y = _f(a.get("x")), _f(a.get("y"))
    if bool(a.scalar("transpose_x", False)) and x.ndim >= 2:
        x = np.swapaxes(x, -1, -2)
    if bool(a.scalar("transpose_y", False)) and y.ndim >= 2:
        y = np.swapaxes(y, -1, -2)
    return np.matmul(x, y)


def _conv_pads(
    a: Args, spatial: tuple[int, ...], kernel: tuple[int, ...], strides: list[int], dilations: list[int]
) -> list[tuple[int, int]]:
    pad_type = a.string("pad_type", "valid")
    n = len(spatial)
    if pad_type == "valid":
        return [(0, 0)] * n
    if pad_type == "custom":
        p = a.ints("pad", [0] * 2 * n)
        if len(p) != 2 * n:
            raise OpArgumentError(f"{a.op_type}: pad has {len(p)} values for {n} spatial dims")
        return [(p[2 * i], p[2 * i + 1]) for i in range(n)]
    if pad_type in ("same", "same_lower"):
        pads = []
        for d, k, s, dl in zip(spatial, kernel, strides, dilations, strict=True):
            total = max((math.ceil(d / s) - 1) * s + (k - 1) * dl + 1 - d, 0)
            small = total // 2
            pads.append((small, total - small) if pad_type == "same" else (total - small, small))
        return pads
    raise OpArgumentError(f"{a.op_type}: unknown pad_type {pad_type!r}")


def _channel_mix(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``y[n, o, ...] = sum_c w[o, c] * x[n, c, ...]`` as one BLAS matmul per batch item (einsum with an
    ellipsis does not reach BLAS: a 1x1 conv over a 1024x1024 mip took seconds)."""
    n, c = x.shape[:2]
    flat = np.ascontiguousarray(x).reshape(n, c, -1)
    return np.matmul(w, flat).reshape(n, w.shape[0], *x.shape[2:])


@op("conv", "x", "weight", "bias", "strides", "pad_type", "pad", "dilations", "groups")
def _conv(a: Args) -> np.ndarray:
    x, w = _f(a.get("x")), _f(a.get("weight"))
    n_sp = x.ndim - 2
    groups = int(a.scalar("groups", 1))
    strides = a.ints("strides", [1] * n_sp)
    dil = a.ints("dilations", [1] * n_sp)
    cout, cin_g, kernel = w.shape[0], w.shape[1], tuple(w.shape[2:])
    if x.shape[1] != cin_g * groups or cout % groups:
        raise OpArgumentError(
            f"conv: input channels {x.shape[1]} / weight {w.shape} / groups {groups} disagree"
        )
    pads = _conv_pads(a, tuple(x.shape[2:]), kernel, strides, dil)
    xp = np.pad(x, [(0, 0), (0, 0), *pads]) if any(p != (0, 0) for p in pads) else x
    out_sp = [(xp.shape[2 + i] - ((kernel[i] - 1) * dil[i] + 1)) // strides[i] + 1 for i in range(n_sp)]
    if min(out_sp) <= 0:
        raise OpArgumentError(f"conv: kernel {kernel} does not fit input {x.shape} with pads {pads}")
    cout_g = cout // groups
    parts = []
    # Shift-and-accumulate over kernel taps (first tap assigned, the rest added in place): memory stays at
    # one output-sized accumulator, and no zero-filled buffer is touched (large fresh buffers are slow).
    for g in range(groups):
        xg = xp[:, g * cin_g : (g + 1) * cin_g]
        wg = w[g * cout_g : (g + 1) * cout_g]
        acc = None
        for tap in itertools.product(*(range(k) for k in kernel)):
            sl = tuple(
                slice(t * d, t * d + (o - 1) * s + 1, s)
                for t, d, o, s in zip(tap, dil, out_sp, strides, strict=True)
            )
            term = _channel_mix(wg[(slice(None), slice(None), *tap)], xg[(slice(None), slice(None), *sl)])
            if acc is None:
                acc = term
            else:
                acc += term
        parts.append(acc)
    y = parts[0] if groups == 1 else np.concatenate(parts, axis=1)
    if a.has("bias"):
        y += _f(a.get("bias")).reshape(1, cout, *([1] * n_sp))
    return y


@op(
    "conv_transpose",
    "x",
    "weight",
    "bias",
    "pad",
    "output_shape",
    "pad_type",
    "strides",
    "dilations",
    "groups",
)
def _conv_transpose(a: Args) -> np.ndarray:
    # weight layout is [C_in, C_out/groups, *K] (MIL conv_transpose, same as torch ConvTranspose).
    x, w = _f(a.get("x")), _f(a.get("weight"))
    n_sp = x.ndim - 2
    groups = int(a.scalar("groups", 1))
    strides = a.ints("strides", [1] * n_sp)
    dil = a.ints("dilations", [1] * n_sp)
    cin, cout_g, kernel = w.shape[0], w.shape[1], tuple(w.shape[2:])
    if x.shape[1] != cin or cin % groups:
        raise OpArgumentError(
            f"conv_transpose: input channels {x.shape[1]} / weight {w.shape} / groups {groups}"
        )
    cin_g, cout = cin // groups, cout_g * groups
    d_in = x.shape[2:]
    full = [(d_in[i] - 1) * strides[i] + (kernel[i] - 1) * dil[i] + 1 for i in range(n_sp)]
    y = np.zeros((x.shape[0], cout, *full))
    for g in range(groups):
        xg = x[:, g * cin_g : (g + 1) * cin_g]
        wg = w[g * cin_g : (g + 1) * cin_g]
        acc = y[:, g * cout_g : (g + 1) * cout_g]
        for tap in itertools.product(*(range(k) for k in kernel)):
            sl = tuple(
                slice(t * d, t * d + (n - 1) * s + 1, s)
                for t, d, n, s in zip(tap, dil, d_in, strides, strict=True)
            )
            acc[(slice(None), slice(None), *sl)] += _channel_mix(wg[(slice(None), slice(None), *tap)].T, xg)
    pad_type = a.string("pad_type", "valid")
    if pad_type == "custom":
        p = a.ints("pad", [0] * 2 * n_sp)
        begins = [p[2 * i] for i in range(n_sp)]
        sizes = [full[i] - p[2 * i] - p[2 * i + 1] for i in range(n_sp)]
    elif pad_type == "valid":
        begins, sizes = [0] * n_sp, list(full)
    elif pad_type == "same":
        sizes = [d_in[i] * strides[i] for i in range(n_sp)]
        begins = [max(full[i] - sizes[i], 0) // 2 for i in range(n_sp)]
    else:
        raise OpArgumentError(f"conv_transpose: unknown pad_type {pad_type!r}")
    if a.has("output_shape"):
        sizes = a.ints("output_shape")[2:]
    out = np.zeros((x.shape[0], cout, *sizes))
    src = tuple(slice(b, min(b + s, f)) for b, s, f in zip(begins, sizes, full, strict=True))
    dst = tuple(slice(0, min(b + s, f) - b) for b, s, f in zip(begins, sizes, full, strict=True))
    out[(slice(None), slice(None), *dst)] = y[(slice(None), slice(None), *src)]
    if a.has("bias"):
        out += _f(a.get("bias")).reshape(1, cout, *([1] * n_sp))
    return out


@op("batch_norm", "x", "mean", "variance", "gamma", "beta", "epsilon")
def _batch_norm(a: Args) -> np.ndarray:
    x = _f(a.get("x"))
    shape = (1, x.shape[1], *([1] * (x.ndim - 2)))
    mean, var = _f(a.get("mean")).reshape(shape), _f(a.get("variance")).reshape(shape)
    gamma = _f(a.get("gamma")).reshape(shape) if a.has("gamma") else 1.0
    beta = _f(a.get("beta")).reshape(shape) if a.has("beta") else 0.0
    return (x - mean) / np.sqrt(var + float(a.scalar("epsilon", 1e-5))) * gamma + beta


@op("layer_norm", "x", "axes", "gamma", "beta", "epsilon")
def _layer_norm(a: Args) -> np.ndarray:
    x = _f(a.get("x"))
    axes = tuple(a.ints("axes", list(range(x.ndim))))
    mean = x.mean(axis=axes, keepdims=True)
    y = (x - mean) / np.sqrt(
        ((x - mean) ** 2).mean(axis=axes, keepdims=True) + float(a.scalar("epsilon", 1e-5))
    )
    if a.has("gamma"):
        y = y * _f(a.get("gamma"))
    if a.has("beta"):
        y = y + _f(a.get("beta"))
    return y


@op("softmax", "x", "axis")
def _softmax(a: Args) -> np.ndarray:
    x = _f(a.get("x"))
    axis = int(a.scalar("axis", -1))
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _reduce(name: str, fn: Callable[..., np.ndarray]) -> None:
    def run(a: Args) -> np.ndarray:
        x = _f(a.get("x"))
        axes = a.ints("axes") if a.has("axes") else None
        return fn(x, axis=None if axes is None else tuple(axes), keepdims=bool(a.scalar("keep_dims", False)))

    op(name, "x", "axes", "keep_dims")(run)


_reduce("reduce_mean", np.mean)
_reduce("reduce_sum", np.sum)
_reduce("reduce_max", np.max)
_reduce("reduce_min", np.min)
# sqrt of the sum of squares (the normal head's L2 normalisation), accumulated in float64 like every reduction
_reduce("reduce_l2_norm", lambda x, axis, keepdims: np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims)))


# ---- shape and layout ops ----


@op("concat", "values", "axis", "interleave")
def _concat(a: Args) -> np.ndarray:
    vals = [np.asarray(v) for v in a.many("values")]
    axis = int(a.scalar("axis"))
    if all(v.ndim == 0 for v in vals):
        # MIL concat of scalars gives a vector, each scalar counting as length 1 along axis 0 (coremltools'
        # type inference); its torch frontend builds shapes this way, e.g. for expand's target shape.
        if axis not in (0, -1):
            raise OpArgumentError(f"concat: axis {axis} out of range for scalar values")
        vals, axis = [v.reshape(1) for v in vals], 0
    if bool(a.scalar("interleave", False)):
        axis %= vals[0].ndim
        stacked = np.stack(vals, axis=axis + 1)
        shape = list(vals[0].shape)
        shape[axis] = shape[axis] * len(vals)
        return stacked.reshape(shape)
    if all(v.dtype.kind in "iub" for v in vals):
        return np.concatenate(vals, axis=axis)
    # Concatenation is exact: join in the widest input float type (not float64) to halve the memory traffic.
    ft = np.result_type(np.float16, *[v.dtype for v in vals])
    return np.concatenate([v.astype(ft, copy=False) for v in vals], axis=axis)


@op("reshape", "x", "shape")
def _reshape(a: Args) -> np.ndarray:
    x = np.asarray(a.get("x"))
    shape = a.ints("shape")
    # 0 copies the input's dimension at that position (MIL reshape); -1 is inferred.
    shape = [x.shape[i] if s == 0 else s for i, s in enumerate(shape)]
    return x.reshape(shape)


@op("transpose", "x", "perm")
def _transpose(a: Args) -> np.ndarray:
    return np.transpose(np.asarray(a.get("x")), a.ints("perm"))


@op("stack", "values", "axis")
def _stack(a: Args) -> np.ndarray:
    vals = [np.asarray(v) for v in a.many("values")]
    if not all(v.dtype.kind in "iub" for v in vals):
        vals = [_f(v) for v in vals]
    return np.stack(vals, axis=int(a.scalar("axis")))


@op("split", "x", "num_splits", "split_sizes", "axis")
def _split(a: Args) -> tuple[np.ndarray, ...]:
    x = np.asarray(a.get("x"))
    axis = int(a.scalar("axis"))
    if a.has("split_sizes"):
        sizes = a.ints("split_sizes")
    else:
        n = int(a.scalar("num_splits"))
        if x.shape[axis] % n:
            raise OpArgumentError(f"split: axis size {x.shape[axis]} not divisible into {n} splits")
        sizes = [x.shape[axis] // n] * n
    if sum(sizes) != x.shape[axis]:
        raise OpArgumentError(f"split: sizes {sizes} do not add up to {x.shape[axis]}")
    return tuple(np.split(x, np.cumsum(sizes)[:-1], axis=axis))


@op("tile", "x", "reps")
def _tile(a: Args) -> np.ndarray:
    return np.tile(np.asarray(a.get("x")), a.ints("reps"))


@op("gather", "x", "indices", "axis", "batch_dims", "validate_indices")
def _gather(a: Args) -> np.ndarray:
    x, idx = np.asarray(a.get("x")), np.asarray(a.get("indices")).astype(np.int64)
    axis = int(a.scalar("axis", 0)) % x.ndim
    if int(a.scalar("batch_dims", 0)) != 0:
        raise OpArgumentError("gather: batch_dims != 0 is not implemented")
    if idx.size and (idx.min() < -x.shape[axis] or idx.max() >= x.shape[axis]):
        raise OpArgumentError(f"gather: indices out of range for axis size {x.shape[axis]}")
    return np.take(x, np.where(idx < 0, idx + x.shape[axis], idx), axis=axis)


@op("gather_along_axis", "x", "indices", "axis", "validate_indices")
def _gather_along_axis(a: Args) -> np.ndarray:
    x, idx = np.asarray(a.get("x")), np.asarray(a.get("indices")).astype(np.int64)
    axis = int(a.scalar("axis", 0)) % x.ndim
    return np.take_along_axis(x, np.where(idx < 0, idx + x.shape[axis], idx), axis=axis)


@op("squeeze", "x", "axes")
def _squeeze(a: Args) -> np.ndarray:
    x = np.asarray(a.get("x"))
    return np.squeeze(x, axis=tuple(a.ints("axes")) if a.has("axes") else None)


@op("expand_dims", "x", "axes")
def _expand_dims(a: Args) -> np.ndarray:
    return np.expand_dims(np.asarray(a.get("x")), tuple(a.ints("axes")))


@op("shape", "x")
def _shape(a: Args) -> np.ndarray:
    return np.array(np.asarray(a.get("x")).shape, dtype=np.int32)


@op("slice_by_index", "x", "begin", "end", "stride", "begin_mask", "end_mask", "squeeze_mask")
def _slice_by_index(a: Args) -> np.ndarray:
    x = np.asarray(a.get("x"))
    n = x.ndim
    begin, end = a.ints("begin"), a.ints("end")
    stride = a.ints("stride", [1] * n)
    bmask = [bool(v) for v in np.asarray(a.get("begin_mask", [False] * n)).reshape(-1)]
    emask = [bool(v) for v in np.asarray(a.get("end_mask", [False] * n)).reshape(-1)]
    smask = [bool(v) for v in np.asarray(a.get("squeeze_mask", [False] * n)).reshape(-1)]
    idx: list[Any] = []
    for i in range(n):
        if smask[i]:
            idx.append(begin[i])
            continue
        idx.append(slice(None if bmask[i] else begin[i], None if emask[i] else end[i], stride[i]))
    return x[tuple(idx)]


@op("crop", "x", "crop_height", "crop_width")
def _crop(a: Args) -> np.ndarray:
    x = np.asarray(a.get("x"))
    top, bottom = a.ints("crop_height", [0, 0])
    left, right = a.ints("crop_width", [0, 0])
    h, w = x.shape[-2:]
    return x[..., top : h - bottom, left : w - right]


@op("pixel_shuffle", "x", "upscale_factor")
def _pixel_shuffle(a: Args) -> np.ndarray:
    x = np.asarray(a.get("x"))
    r = int(a.scalar("upscale_factor"))
    n, c, h, w = x.shape
    if c % (r * r):
        raise OpArgumentError(f"pixel_shuffle: {c} channels not divisible by {r}^2")
    return (
        x.reshape(n, c // (r * r), r, r, h, w)
        .transpose(0, 1, 4, 2, 5, 3)
        .reshape(n, c // (r * r), h * r, w * r)
    )


@op("pixel_unshuffle", "x", "downscale_factor")
def _pixel_unshuffle(a: Args) -> np.ndarray:
    x = np.asarray(a.get("x"))
    r = int(a.scalar("downscale_factor"))
    n, c, h, w = x.shape
    return (
        x.reshape(n, c, h // r, r, w // r, r)
        .transpose(0, 1, 3, 5, 2, 4)
        .reshape(n, c * r * r, h // r, w // r)
    )


def _nearest_index(n_in: int, n_out: int, scale: float) -> np.ndarray:
    return np.minimum(np.floor(np.arange(n_out) / scale).astype(np.int64), n_in - 1)


@op("upsample_nearest_neighbor", "x", "scale_factor_height", "scale_factor_width")
def _upsample_nearest(a: Args) -> np.ndarray:
    x = np.asarray(a.get("x"))
    sh, sw = float(a.scalar("scale_factor_height", 1.0)), float(a.scalar("scale_factor_width", 1.0))
    h, w = x.shape[-2:]
    ho, wo = int(math.floor(h * sh)), int(math.floor(w * sw))
    return x[..., _nearest_index(h, ho, sh), :][..., _nearest_index(w, wo, sw)]


def _bilinear_axis(
    x: np.ndarray, axis: int, n_out: int, scale: float, align_corners: bool, half_pixel: bool
) -> np.ndarray:
    n_in = x.shape[axis]
    dst = np.arange(n_out, dtype=np.float64)
    if align_corners:
        src = dst * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros_like(dst)
    elif half_pixel:
        src = (dst + 0.5) / scale - 0.5
    else:
        src = dst / scale
    src = np.clip(src, 0.0, n_in - 1)
    i0 = np.floor(src).astype(np.int64)
    i1 = np.minimum(i0 + 1, n_in - 1)
    t = src - i0
    shape = [1] * x.ndim
    shape[axis] = n_out
    t = t.reshape(shape)
    return np.take(x, i0, axis=axis) * (1.0 - t) + np.take(x, i1, axis=axis) * t


@op(
    "upsample_bilinear",
    "x",
    "scale_factor_height",
    "scale_factor_width",
    "align_corners",
    "half_pixel_centers",
)
def _upsample_bilinear(a: Args) -> np.ndarray:
    x = _f(a.get("x"))
    sh, sw = float(a.scalar("scale_factor_height", 1.0)), float(a.scalar("scale_factor_width", 1.0))
    align = bool(a.scalar("align_corners", False))
    half = bool(a.scalar("half_pixel_centers", not align))
    h, w = x.shape[-2:]
    y = _bilinear_axis(x, x.ndim - 2, int(math.floor(h * sh)), sh, align, half)
    return _bilinear_axis(y, x.ndim - 1, int(math.floor(w * sw)), sw, align, half)


_CAST = {
    "fp16": "float16",
    "fp32": "float32",
    "fp64": "float64",
    "int8": "int8",
    "int16": "int16",
    "int32": "int32",
    "int64": "int64",
    "uint8": "uint8",
    "uint16": "uint16",
    "bool": "bool",
}


@op("cast", "x", "dtype")
def _cast(a: Args) -> np.ndarray:
    dt = a.string("dtype")
    if dt not in _CAST:
        raise OpArgumentError(f"cast: unknown dtype {dt!r}")
    x = np.asarray(a.get("x"))
    if np.dtype(_CAST[dt]).kind in "iu" and x.dtype.kind == "f":
        x = np.trunc(x)
    return x.astype(_CAST[dt])

"""The int8 reference model: the converted (pt2e) torch model with its linear and conv2d requantization done in
integer arithmetic, the way TOSA-1.0+INT (and so the int8 VGF) does it.

Why not the converted model itself: it simulates int8 inference in float32 — dequantized inputs and weights,
a float32 dot product, then ``round_half_even(y * f32(1/s_out))``. TOSA accumulates exactly in int32 and
requantizes with ``RESCALE``: ``(acc * M + 2^(n-1)) >> n``, ``M / 2^n`` the 31-bit fixed-point value of
``s_in * s_w / s_out`` (ExecuTorch's SINGLE_ROUND: ties round up). Both give the same int8 value except where
``acc * s_in * s_w / s_out`` lies within float32 rounding error of a half step (or exactly on one). Measured on
nine trained texture decoders (float and exact bundles, 64 hidden units): 0 to 63 of about 300000 outputs
1 step apart, all from float32 error, none from ties — mismatches an exact check reports by luck. This
reference makes the agreement hold by construction:

- each ``linear`` / ``conv2d`` whose input, weight and bias are dequantized int8/int8/int32 values and whose
  result reaches a ``quantize_per_tensor`` through relu/hardtanh/clamp only, is evaluated as
  ``sum((x_q - zp_x) * (w_q - zp_w)) + b_q`` (float64 holds these integers exactly), rescaled with the
  multiplier and shift ExecuTorch computes for the VGF (its own function, so the constants are identical by
  construction) and rounded as RESCALE rounds; its dequantized result then flows on, and the following
  activation and quantize reproduce the integer exactly (relu/clamp act on quantized values without
  rounding);
- every other op runs unchanged. That is exact too for data movement, relu/clamp and table-based ops
  (ExecuTorch builds a TOSA TABLE from the same float function on all 256 int8 inputs). Measured with every
  texture-decoder activation (relu, leaky_relu, sigmoid, tanh, silu, none, clamp01): VGF == this reference
  on 221184 outputs each, where the float simulation missed 1 to 14. Ops that TOSA requantizes on their own
  (elementwise add/mul, resize: see docs/graph-exports.md on half-pixel bilinear) are not rewritten and keep
  the float simulation's rounding; ``Int8Reference.rewritten`` lists what was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_ACTIVATIONS = ("relu", "relu_", "hardtanh", "hardtanh_", "clamp")


@dataclass(frozen=True)
class _Plan:
    kind: str  # "linear" or "conv2d"
    x: Any  # the dequantize node of the input
    w: Any  # the dequantize node of the weight
    b: Any  # the dequantize node of the bias, or None
    multiplier: Any  # int64 tensor, one per output channel
    shift: Any  # int64 tensor
    out: tuple[float, int, int, int, Any]  # scale, zero point, qmin, qmax, dtype of the output quantize


def _target(n: Any) -> str:
    if getattr(n, "op", None) != "call_function":
        return ""
    return getattr(n.target, "__name__", str(n.target))


def _is(n: Any, op: str) -> bool:
    """``n`` calls ``op`` (an aten or quantized_decomposed overload name such as ``linear.default``)."""
    return _target(n) == op


def _is_dq(n: Any) -> bool:
    return _is(n, "dequantize_per_tensor.default") or _is(n, "dequantize_per_channel.default")


def _output_quantize(node: Any) -> Any:
    """The quantize node that ExecuTorch takes the output parameters of ``node`` from: its only user, or
    the only user at the end of a single-user chain of relu / hardtanh / clamp."""
    cur = node
    while len(cur.users) == 1:
        (user,) = cur.users
        if _is(user, "quantize_per_tensor.default"):
            return user
        if _target(user).split(".")[0] not in _ACTIVATIONS:
            return None
        cur = user
    return None


def _channel_scales(gm: Any, dq: Any) -> list[float]:
    if _is(dq, "dequantize_per_tensor.default"):
        return [float(dq.args[1])]
    if int(dq.args[3]) != 0:
        return []  # weights quantized along another axis: not a layout ExecuTorch rescales per channel
    return [float(s) for s in _const(gm, dq.args[1]).tolist()]


def _const(gm: Any, n: Any) -> Any:
    if getattr(n, "op", None) != "get_attr":
        raise ValueError(f"expected a constant, got {n}")
    obj = gm
    for part in n.target.split("."):
        obj = getattr(obj, part)
    return obj


def _plan(gm: Any, node: Any) -> _Plan | None:
    import torch
    from executorch.backends.arm.operators.op_tosa_rescale import _compute_multiplier_and_shift

    kind = "linear" if _is(node, "linear.default") else "conv2d" if _is(node, "conv2d.default") else ""
    if not kind or len(node.args) < 2:
        return None
    x, w = node.args[0], node.args[1]
    b = node.args[2] if len(node.args) > 2 else node.kwargs.get("bias")
    if not (_is(x, "dequantize_per_tensor.default") and _is_dq(w)) or (b is not None and not _is_dq(b)):
        return None
    if x.args[5] != torch.int8 or w.args[-1] != torch.int8:  # int16 activations rescale from int48 in TOSA
        return None
    if b is not None and b.args[-1] != torch.int32:
        return None
    q = _output_quantize(node)
    if q is None:
        return None
    s_in, s_out = float(x.args[1]), float(q.args[1])
    w_scales = _channel_scales(gm, w)
    if not w_scales:
        return None
    # ExecuTorch's RewriteConvPass: scale_c = (s_in * s_w[c]) / s_out in double, then its own fixed-point
    # decomposition (the constants written into the VGF).
    mult, shift = _compute_multiplier_and_shift([(s_in * sw) / s_out for sw in w_scales], 32)
    out = (s_out, int(q.args[2]), int(q.args[3]), int(q.args[4]), q.args[5])
    return _Plan(kind, x, w, b, torch.tensor(mult, dtype=torch.int64), torch.tensor(shift, dtype=torch.int64),
                 out)


def _roundtrips(plan: _Plan) -> bool:
    """dequantize then quantize gives back every integer of the output type (so the float ops between the
    rewritten layer and its quantize node keep the integer)."""
    import torch

    s, zp, qmin, qmax, dtype = plan.out
    q = torch.arange(qmin, qmax + 1, dtype=torch.int64).to(dtype)
    dq = torch.ops.quantized_decomposed.dequantize_per_tensor(q, s, zp, qmin, qmax, dtype)
    back = torch.ops.quantized_decomposed.quantize_per_tensor(dq, s, zp, qmin, qmax, dtype)
    return bool(torch.equal(back, q))


class Int8Reference:
    """Callable like the converted model; evaluates it with the integer-exact layers planned at init.
    ``rewritten`` names the graph nodes evaluated in integers."""

    def __init__(self, converted: Any):
        self.module = converted
        self.plans: dict[Any, _Plan] = {}
        for n in converted.graph.nodes:
            p = _plan(converted, n)
            if p is not None and _roundtrips(p):
                self.plans[n] = p
        self.rewritten = [n.name for n in self.plans]

    def __call__(self, *inputs: Any) -> Any:
        import torch

        plans = self.plans

        class _Run(torch.fx.Interpreter):
            def run_node(self, n: Any) -> Any:
                p = plans.get(n)
                return super().run_node(n) if p is None else _exact_layer(p, n, self.env)

        with torch.no_grad():
            # keep every value: a rewritten layer reads the integers under its inputs' dequantize nodes
            return _Run(self.module, garbage_collect_values=False).run(*inputs)


def _value(env: dict[Any, Any], a: Any) -> Any:
    return env[a] if hasattr(a, "op") else a


def _integers(env: dict[Any, Any], dq: Any, axis: int | None) -> Any:
    """``q - zero_point`` of a dequantize node's integer input, as float64 (exact)."""
    import torch

    q = env[dq.args[0]].to(torch.float64)
    zp = _value(env, dq.args[2])
    if isinstance(zp, torch.Tensor) and zp.numel() > 1:
        shape = [1] * q.dim()
        shape[axis if axis is not None else 0] = -1
        zp = zp.to(torch.float64).reshape(shape)
    return q - zp


def _exact_layer(p: _Plan, node: Any, env: dict[Any, Any]) -> Any:
    import torch
    from torch.nn import functional as F  # noqa: N812

    x = _integers(env, p.x, None)
    w = _integers(env, p.w, 0)
    b = None if p.b is None else _integers(env, p.b, 0)
    if p.kind == "linear":
        acc = F.linear(x, w, b)
        ch_shape = [-1]
    else:
        acc = F.conv2d(x, w, b, *[_value(env, a) for a in node.args[3:]])
        ch_shape = [1, -1] + [1] * (acc.dim() - 2)
    # |acc| < 2^31 (TOSA's int32 accumulator), far below 2^53: the float64 sums are exact integers.
    acc = acc.to(torch.int64)
    m = p.multiplier.reshape(ch_shape)
    n = p.shift.reshape(ch_shape)
    s, zp, qmin, qmax, dtype = p.out
    y = torch.bitwise_right_shift(acc * m + torch.bitwise_left_shift(torch.ones_like(n), n - 1), n)
    info = torch.iinfo(dtype)
    y = torch.clamp(y + zp, info.min, info.max).to(dtype)  # RESCALE saturates to the output type
    return torch.ops.quantized_decomposed.dequantize_per_tensor(y, s, zp, qmin, qmax, dtype)


def int8_reference(converted: Any) -> Int8Reference:
    """The integer-exact reference of a converted pt2e model (``vgf_export.to_quantized``'s result)."""
    return Int8Reference(converted)


def float_simulation_gap(converted: Any, reference: Int8Reference, inputs: tuple[Any, ...]) -> dict[str, Any]:
    """How the float-simulated converted model differs from the integer reference on ``inputs``, in steps
    of each output's quantization (informative: expected a few rounding-boundary cases, each 1 step)."""
    import torch

    with torch.no_grad():
        sim = converted(*inputs)
        ref = reference(*inputs)
    sims = sim if isinstance(sim, (tuple, list)) else (sim,)
    refs = ref if isinstance(ref, (tuple, list)) else (ref,)
    outs = [n for n in converted.graph.nodes if n.op == "output"][0].args[0]
    outs = outs if isinstance(outs, (tuple, list)) else (outs,)
    elements = differ = max_steps = 0
    for a, r, o in zip(sims, refs, outs, strict=True):
        scale = float(o.args[1]) if _is(o, "dequantize_per_tensor.default") else None
        d = (a.double() - r.double()).abs()
        steps = d / scale if scale else d
        elements += d.numel()
        differ += int(torch.count_nonzero(steps > 0.5))
        max_steps = max(max_steps, int(torch.round(steps.max()).item()) if d.numel() else 0)
    return {"elements": elements, "differ": differ, "max_steps": max_steps}


"""The NSS int8 quantization shared by QAT (``ngsdk.supersampling.quant``) and the int8 VGF export of a bundle:
the gym's quantizer settings for ExecuTorch's VGF quantizer, and the reading of a converted pt2e graph into the
asset's :class:`~ngsdk.asset.supersampling.Int8Network` (and back: :func:`pin_qparams` sets a prepared graph's
fake quantizers to a stored network's scales and zero points, so ``convert_pt2e`` rebuilds it).

Settings (the gym's ``FusedMovingAvgObsFakeQuantizeFix`` TOSA quantizer):

- activations: int8 per-tensor affine [-128, 127], fake-quantized with a moving-average min/max observer
  (averaging constant 1e-5, so the first batches fix the range) whose training-time scale and zero
  point are the ones exported;
- weights: int8 per-channel symmetric [-127, 127] (min/max of the current weights; zero point 0). Not the
  fused quantizer: its kernel makes a channel whose weights all have one sign affine (zero point +-127, half
  the step), which TOSA's symmetric int8 weights cannot carry;
- bias: int32 at ``input scale * weight scale`` (derived);
- every sigmoid output: fixed scale 1/254, zero point -127, range [-127, 127] (readable as SNORM);
- graph inputs and outputs carry no extra requantization (``set_io(None)``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ngsdk.asset.supersampling import (
    CONCATS,
    LAYERS,
    SIGMOID_SCALE,
    SIGMOID_ZERO_POINT,
    UPSAMPLES,
    Int8Layer,
    Int8Network,
    QParams,
)

ACT_AVERAGING = 1e-5
OBSERVER_EPS = 2e-12

_FQ: type | None = None
_WFQ: type | None = None


def fake_quant_class() -> type:
    """``FusedMovingAvgObsFakeQuantize`` exporting the scale and zero point the fused training kernel used, not
    the observer's recomputation (they differ in the last bits)."""
    global _FQ
    if _FQ is None:
        import torch
        from torchao.quantization.pt2e import FusedMovingAvgObsFakeQuantize

        class TrainedQParamsFakeQuantize(FusedMovingAvgObsFakeQuantize):
            @torch.jit.export
            def calculate_qparams(self) -> tuple[torch.Tensor, torch.Tensor]:
                return self.scale, self.zero_point

        _FQ = TrainedQParamsFakeQuantize
    return _FQ


def weight_fake_quant_class() -> type:
    """Per-channel symmetric ``FakeQuantize`` (zero point 0 on every channel) whose ``calculate_qparams``
    is its observer's while the observer runs and the scale it last used once the observer is off (frozen for
    conversion, or pinned by :func:`pin_qparams`)."""
    global _WFQ
    if _WFQ is None:
        from torchao.quantization.pt2e import FakeQuantize

        class SymmetricWeightFakeQuantize(FakeQuantize):
            def calculate_qparams(self) -> Any:
                if self.observer_enabled[0] == 1:
                    return self.activation_post_process.calculate_qparams()
                return self.scale, self.zero_point

        _WFQ = SymmetricWeightFakeQuantize
    return _WFQ


def nss_quantizer() -> Any:
    """The VGF quantizer (TOSA-1.0+INT) configured as the gym configures its TOSA quantizer for NSS."""
    import torch
    from executorch.backends.arm.quantizer import VgfQuantizer, get_symmetric_quantization_config
    from executorch.backends.arm.quantizer.quantization_config import QuantizationConfig
    from executorch.backends.arm.vgf import VgfCompileSpec
    from torch import nn
    from torchao.quantization.pt2e import MovingAverageMinMaxObserver, MovingAveragePerChannelMinMaxObserver
    from torchao.quantization.pt2e.quantizer import FixedQParamsQuantizationSpec, QuantizationSpec

    fq = fake_quant_class()
    act = QuantizationSpec(
        dtype=torch.int8, quant_min=-128, quant_max=127, qscheme=torch.per_tensor_affine, is_dynamic=False,
        observer_or_fake_quant_ctr=fq.with_args(eps=OBSERVER_EPS, observer=MovingAverageMinMaxObserver.with_args(
            averaging_constant=ACT_AVERAGING, dtype=torch.int8, reduce_range=False, quant_min=-128, quant_max=127)))
    weight = QuantizationSpec(
        dtype=torch.int8, quant_min=-127, quant_max=127, qscheme=torch.per_channel_symmetric, ch_axis=0,
        is_dynamic=False,
        observer_or_fake_quant_ctr=weight_fake_quant_class().with_args(
            observer=MovingAveragePerChannelMinMaxObserver, averaging_constant=1.0, eps=OBSERVER_EPS,
            dtype=torch.int8, qscheme=torch.per_channel_symmetric, ch_axis=0, reduce_range=False, quant_min=-127,
            quant_max=127))
    bias = get_symmetric_quantization_config(is_per_channel=True, is_qat=True).bias
    sigmoid_out = FixedQParamsQuantizationSpec(
        dtype=torch.int8, scale=SIGMOID_SCALE, zero_point=SIGMOID_ZERO_POINT, quant_min=-127, quant_max=127,
        qscheme=torch.per_tensor_affine)
    q = VgfQuantizer(VgfCompileSpec("TOSA-1.0+INT"))
    q.set_global(QuantizationConfig(act, act, weight, bias))
    q.set_module_type(nn.Sigmoid, QuantizationConfig(act, sigmoid_out, None, None))
    q.set_io(None)
    return q


# --------------------------------------------------------------------------- converted graph -> Int8Network

def _target(n: Any) -> str:
    return getattr(n.target, "__name__", str(n.target)) if n.op == "call_function" else ""


def _qp(node: Any) -> QParams:
    """QParams of a quantize/dequantize_per_tensor node."""
    return QParams(float(node.args[1]), int(node.args[2]), int(node.args[3]), int(node.args[4]))


def _attr(gm: Any, node: Any) -> np.ndarray:
    obj = gm
    for part in str(node.target).split("."):
        obj = getattr(obj, part)
    return obj.detach().cpu().numpy()


def _quantize_user(node: Any) -> Any:
    """The quantize node that ends ``node``'s single-user chain (through relu)."""
    cur = node
    while len(cur.users) == 1:
        (user,) = cur.users
        if _target(user).startswith("quantize_per_tensor"):
            return user
        if not _target(user).startswith("relu"):
            break
        cur = user
    raise ValueError(f"int8 graph: {node.name} does not end in a quantize node")


def _nodes(gm: Any, op: str) -> list[Any]:
    return [n for n in gm.graph.nodes if _target(n).startswith(op)]


def _input_quantize(gm: Any) -> Any:
    """The first quantize node on the way from the graph input (through an NHWC -> NCHW permute)."""
    cur = next(n for n in gm.graph.nodes if n.op == "placeholder")
    while True:
        q = next((u for u in cur.users if _target(u).startswith("quantize_per_tensor")), None)
        if q is not None:
            return q
        nxt = [u for u in cur.users if _target(u).startswith("permute")]
        if len(nxt) != 1:
            raise ValueError("int8 graph: the network input is not quantized")
        cur = nxt[0]


def int8_network(converted: Any) -> Int8Network:
    """The int8 network of a converted NSS pt2e graph (NCHW or NHWC): its constants in graph order."""
    import torch

    convs, ups, cats, sigs = (_nodes(converted, op) for op in ("conv2d", "upsample_nearest2d", "cat", "sigmoid"))
    if (len(convs), len(ups), len(cats), len(sigs)) != (len(LAYERS), UPSAMPLES, CONCATS, 6):
        raise ValueError(f"int8 graph has {len(convs)} convs, {len(ups)} up-samplings, {len(cats)} concatenations "
                         f"and {len(sigs)} sigmoids: not the NSS network")
    layers = []
    for spec, n in zip(LAYERS, convs, strict=True):
        x, w, b = n.args[:3]
        wq = _attr(converted, w.args[0])
        if wq.dtype != np.int8 or wq.shape != (spec.cout, spec.cin, 3, 3):
            raise ValueError(f"int8 graph: {n.name} weights are {wq.dtype} {wq.shape}")
        wzp = _attr(converted, w.args[2]) if hasattr(w.args[2], "op") else np.asarray(w.args[2])
        if np.any(wzp != 0):
            raise ValueError(f"int8 graph: {n.name} ({spec.name}) weights are not symmetric (zero points "
                             f"{sorted(set(np.ravel(wzp).tolist()))}): TOSA int8 weights need zero point 0")
        layers.append(Int8Layer(wq, _attr(converted, b.args[0]).astype(np.int32),
                                _attr(converted, w.args[1]).astype(np.float32), _qp(x), _qp(_quantize_user(n))))
    upsample = [(_qp(n.args[0]), _qp(_quantize_user(n))) for n in ups]
    concat = [([_qp(a) for a in n.args[0]], _qp(_quantize_user(n))) for n in cats]
    tables, outputs = [], []
    codes = torch.arange(-128, 128, dtype=torch.int8)
    qd = torch.ops.quantized_decomposed
    for n in sigs:
        qi, qo = _qp(n.args[0]), _qp(_quantize_user(n))
        # ExecuTorch's TOSA TABLE: the float op on every dequantized input code, quantized to the output
        deq = qd.dequantize_per_tensor(codes, qi.scale, qi.zero_point, qi.qmin, qi.qmax, torch.int8)
        tables.append(qd.quantize_per_tensor(torch.sigmoid(deq), qo.scale, qo.zero_point, qo.qmin, qo.qmax,
                                             torch.int8).numpy())
        outputs.append(qo)
    return Int8Network(_qp(_input_quantize(converted)), layers, upsample, concat,
                       np.stack(tables).astype(np.int8), outputs)


# --------------------------------------------------------------------------- Int8Network -> prepared graph

def _set(fq: Any, q: QParams) -> None:
    import torch

    if not hasattr(fq, "scale"):
        raise ValueError(f"int8 graph: {type(fq).__name__} is not a settable fake quantizer")
    fq.scale = torch.tensor([q.scale], dtype=torch.float32)
    fq.zero_point = torch.tensor([q.zero_point], dtype=torch.int32)
    fq.quant_min, fq.quant_max = q.qmin, q.qmax


def pin_qparams(prepared: Any, q: Int8Network) -> None:
    """Set every fake quantizer of ``prepared`` (the NSS float network traced and prepared with
    :func:`nss_quantizer`, its weights the stored int8 weights dequantized) to ``q``'s scale and zero point, so
    that ``convert_pt2e`` gives back ``q``'s graph. Each quantizer is found by what it observes: the (permuted)
    input, a conv's weight or output (after ReLU), an up-sampling, a concatenation, a sigmoid (or its permute)."""
    import torch

    convs = {n: i for i, n in enumerate(_nodes(prepared, "conv2d"))}
    ups = {n: i for i, n in enumerate(_nodes(prepared, "upsample_nearest2d"))}
    cats = {n: i for i, n in enumerate(_nodes(prepared, "cat"))}
    sigs = {n: i for i, n in enumerate(_nodes(prepared, "sigmoid"))}
    if (len(convs), len(ups), len(cats), len(sigs)) != (len(LAYERS), UPSAMPLES, CONCATS, 6):
        raise ValueError("prepared graph is not the NSS network")
    done = set()
    for n in prepared.graph.nodes:
        if n.op != "call_module":
            continue
        fq = getattr(prepared, n.target)
        if type(fq).__name__.startswith("Derived"):  # biases: derived from input x weight scales
            continue
        src = n.args[0]
        if src.op == "get_attr":  # a conv weight (per output channel, symmetric)
            (conv,) = [u for u in n.users if u in convs]
            ly = q.layers[convs[conv]]
            fq.scale = torch.from_numpy(ly.weight_scale.astype(np.float32))
            fq.zero_point = torch.zeros(len(ly.weight_scale), dtype=torch.int32)
            fq.disable_observer()
            done.add(n.target)
            continue
        while _target(src).startswith(("relu", "permute")) or src.op == "call_module":
            src = src.args[0]
        if src.op == "placeholder":
            _set(fq, q.input)
        elif src in convs:
            _set(fq, q.layers[convs[src]].output)
        elif src in ups:
            _set(fq, q.upsample[ups[src]][1])
        elif src in cats:
            _set(fq, q.concat[cats[src]][1])
        elif src in sigs:
            _set(fq, q.outputs[sigs[src]])
        else:
            raise ValueError(f"int8 graph: no stored quantization for the output of {src.name}")
        done.add(n.target)
    if not done:
        raise ValueError("prepared graph has no fake quantizers")


def same_network(a: Int8Network, b: Int8Network) -> list[str]:
    """Where two int8 networks differ (empty: identical constants and quantization)."""
    out = []

    def qp(name: str, x: QParams, y: QParams) -> None:
        if (np.float32(x.scale), x.zero_point, x.qmin, x.qmax) != (np.float32(y.scale), y.zero_point, y.qmin,
                                                                     y.qmax):
            out.append(f"{name} quantization {x.to_json()} != {y.to_json()}")

    qp("input", a.input, b.input)
    for spec, x, y in zip(LAYERS, a.layers, b.layers, strict=True):
        for f in ("weight", "bias", "weight_scale"):
            u, v = getattr(x, f), getattr(y, f)
            if u.dtype != v.dtype or u.shape != v.shape or not np.array_equal(u, v):
                out.append(f"{spec.name}.{f}")
        qp(f"{spec.name} input", x.input, y.input)
        qp(f"{spec.name} output", x.output, y.output)
    for i, ((ai, ao), (bi, bo)) in enumerate(zip(a.upsample, b.upsample, strict=True)):
        qp(f"upsample {i} input", ai, bi)
        qp(f"upsample {i} output", ao, bo)
    for i, ((ai, ao), (bi, bo)) in enumerate(zip(a.concat, b.concat, strict=True)):
        for j, (x, y) in enumerate(zip(ai, bi, strict=True)):
            qp(f"concat {i} input {j}", x, y)
        qp(f"concat {i} output", ao, bo)
    for i, (x, y) in enumerate(zip(a.outputs, b.outputs, strict=True)):
        qp(f"output {i}", x, y)
    if not np.array_equal(a.sigmoid_tables, b.sigmoid_tables):
        out.append("sigmoid_tables")
    return out

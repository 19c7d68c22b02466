"""Int8 quantization-aware training with the gym's quantizer settings (ExecuTorch Arm VGF quantizer, pt2e).

- activations: int8 per-tensor affine [-128, 127], fake-quantized with a moving-average min/max observer
  (averaging constant 1e-5, so the first batches fix the range) whose training-time scale and zero
  point are the ones exported (the gym's ``FusedMovingAvgObsFakeQuantizeFix``);
- weights: int8 per-channel symmetric [-127, 127] (min/max of the current weights);
- bias: int32 at ``input scale * weight scale`` (the gym leaves bias unsimulated and lets the backend
  quantize it to int32; ExecuTorch 1.5's VGF path wants the derived int32 spec, which is the same numbers);
- every sigmoid output: fixed scale 1/254, zero point -127, range [-127, 127], so an engine can alias the
  int8 tensors as SNORM textures (``x = (q + 127) / 254``);
- graph inputs and outputs carry no extra requantization (``set_io(None)``): the first conv's input
  quantizer is the network input's, the sigmoid quantizers are the outputs'.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
from torch import nn

from ngsdk.exporters.graph.supersampling_int8 import (  # noqa: F401 - re-exported: QAT and export share them
    ACT_AVERAGING,
    OBSERVER_EPS,
    fake_quant_class,
    nss_quantizer,
)

SIGMOID_SCALE = 1.0 / 254.0
SIGMOID_ZERO_POINT = -127


def prepare_qat(net: nn.Module, example: torch.Tensor) -> Any:
    """Trace ``net`` (B, 12, H, W with H, W multiples of 8; any batch and size at run time) and insert the
    fake quantization. BatchNorm stays trainable (folded at conversion)."""
    from torchao.quantization.pt2e.quantize_pt2e import prepare_qat_pt2e

    if example.shape[0] < 2:
        example = example.expand(2, *example.shape[1:]).contiguous()
    batch = torch.export.Dim("batch", min=1, max=1 << 16)
    h8 = torch.export.Dim("h8", min=1, max=1 << 12)
    w8 = torch.export.Dim("w8", min=1, max=1 << 12)
    program = torch.export.export(net, (example,), dynamic_shapes=({0: batch, 2: 8 * h8, 3: 8 * w8},))
    return prepare_qat_pt2e(program.module(check_guards=False), nss_quantizer())


def set_mode(prepared: nn.Module, training: bool) -> None:
    """Train: BatchNorm on batch statistics, observers updating; eval: running statistics, observers
    frozen (the gym's QAT ``train()`` / ``eval()``)."""
    from torchao.quantization.pt2e import move_exported_model_to_eval, move_exported_model_to_train
    from torchao.quantization.pt2e.fake_quantize import FakeQuantizeBase

    (move_exported_model_to_train if training else move_exported_model_to_eval)(prepared)
    for m in prepared.modules():
        if isinstance(m, FakeQuantizeBase):
            (m.enable_observer if training else m.disable_observer)()


def convert(prepared: nn.Module) -> Any:
    """The converted int8 reference graph (quantize/dequantize around float ops, BN folded) of a copy."""
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e

    m = copy.deepcopy(prepared)
    set_mode(m, False)
    return convert_pt2e(m)


def _arg(a: Any) -> Any:
    if isinstance(a, torch.fx.Node):
        return {"ref": a.name}
    if isinstance(a, (list, tuple)):
        return [_arg(x) for x in a]
    if isinstance(a, torch.dtype):
        return str(a).replace("torch.", "")
    if isinstance(a, (int, float, bool, str)) or a is None:
        return a
    return str(a)


def describe_graph(converted: nn.Module) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    """The converted graph as JSON-able nodes (op, name, target, args with ``{"ref": node}``) and its
    constants (int8 weights, int32 biases, per-channel scales, zero points) as numpy arrays: everything an
    integer runtime needs, in graph order."""
    nodes: list[dict[str, Any]] = []
    arrays: dict[str, np.ndarray] = {}
    for n in converted.graph.nodes:
        entry: dict[str, Any] = {"op": n.op, "name": n.name}
        if n.op == "get_attr":
            t = converted
            for part in str(n.target).split("."):
                t = getattr(t, part)
            arrays[n.name] = t.detach().cpu().numpy() if torch.is_tensor(t) else np.asarray(t)
        elif n.op == "call_function":
            entry["target"] = str(n.target)
            entry["args"] = _arg(n.args)
            if n.kwargs:
                entry["kwargs"] = {k: _arg(v) for k, v in n.kwargs.items()}
        elif n.op == "output":
            entry["args"] = _arg(n.args)
        nodes.append(entry)
    return nodes, arrays


def io_qparams(converted: nn.Module) -> dict[str, Any]:
    """Scale and zero point of the network input and of each output (int8), for sidecars and manifests."""
    graph = converted.graph
    placeholder = next(n for n in graph.nodes if n.op == "placeholder")
    q_in = next(u for u in placeholder.users if "quantize_per_tensor" in str(u.target))
    (results,) = next(n for n in graph.nodes if n.op == "output").args
    outs = []
    for r in results:
        if "dequantize_per_tensor" not in str(r.target):
            raise RuntimeError(f"network output {r.name} is not a dequantized int8 tensor")
        outs.append({"scale": float(r.args[1]), "zero_point": int(r.args[2]), "qmin": int(r.args[3]),
                     "qmax": int(r.args[4])})
    return {"input": {"scale": float(q_in.args[1]), "zero_point": int(q_in.args[2]), "qmin": int(q_in.args[3]),
                      "qmax": int(q_in.args[4])},
            "outputs": outs}

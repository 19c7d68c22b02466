"""Torch module -> standalone .vgf (Vulkan ML extensions) through ExecuTorch's Arm VGF backend.

fp32 lowers to TOSA-1.0+FP. int8 lowers to TOSA-1.0+INT: the VGF takes and returns int8 tensors and the
(de)quantization parameters live outside it, in the sidecar JSON beside the .vgf, so an engine can feed it:
``q = clamp(round_half_even(float32(x) * float32(1/scale)) + zero_point, qmin, qmax)`` and
``x = (q - zero_point) * scale`` (ExecuTorch's quantize/dequantize_per_tensor).
"""

from __future__ import annotations

import contextlib
import copy
import json
import operator
import os
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ngsdk.asset.atomic import atomic_write_bytes

from ._util import as_tuple, at_least_batch_two, check_name, ngsdk_version, staging_dir
from .io import ExportRecord, IODescription, describe_files, file_sha256

VGF_PRECISIONS = ("fp32", "int8")
TOSA_SPECS = {"fp32": "TOSA-1.0+FP", "int8": "TOSA-1.0+INT"}
SIDECAR_FORMAT = "ngsdk.vgf-io"


@contextlib.contextmanager
def _model_converter_env():
    """ExecuTorch runs ``model-converter`` from PATH or ``MODEL_CONVERTER_PATH``; pip installs it beside the
    interpreter, which is on PATH only in an activated venv. Point ExecuTorch at it for the call."""
    from ngsdk.toolchain import model_converter

    path, old = model_converter(), os.environ.get("MODEL_CONVERTER_PATH")
    os.environ["MODEL_CONVERTER_PATH"] = path
    try:
        yield path
    finally:
        if old is None:
            os.environ.pop("MODEL_CONVERTER_PATH", None)
        else:
            os.environ["MODEL_CONVERTER_PATH"] = old


def _spec(precision: str) -> Any:
    from executorch.backends.arm.vgf import VgfCompileSpec

    return VgfCompileSpec(TOSA_SPECS[precision])


def _quantizer(is_qat: bool) -> Any:
    from executorch.backends.arm.quantizer import VgfQuantizer, get_symmetric_quantization_config

    q = VgfQuantizer(_spec("int8"))
    q.set_global(get_symmetric_quantization_config(is_per_channel=True, is_qat=is_qat))
    return q


def quantize_ptq(module: Any, example_inputs: Any, calibration: Iterable[Any]) -> Any:
    """Post-training int8 quantization with the VGF quantizer (per-channel symmetric weights, affine int8
    activations, histogram observers). ``calibration`` yields input batches (a tensor or a tuple per batch).

    Returns the converted torch model (quantize/dequantize nodes around float ops), what
    ``export_vgf(..., precision="int8")`` accepts as ``module``. The int8 VGF matches it exactly once its
    linear/conv requantization is done in integers as TOSA does: ``int8_reference.int8_reference(model)``.
    """
    import torch
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    graph = _capture(module.eval(), example_inputs)
    prepared = prepare_pt2e(graph, _quantizer(is_qat=False))
    n = 0
    with torch.no_grad():
        for batch in calibration:
            prepared(*as_tuple(batch))
            n += 1
    if n == 0:
        raise ValueError("int8 PTQ needs at least one calibration batch")
    return convert_pt2e(prepared)


def prepare_qat(module: Any, example_inputs: Any) -> Any:
    """Insert the VGF quantizer's fake-quantization for quantization-aware training. Train the result,
    then pass it to ``export_vgf(..., precision="int8")`` (it is converted there)."""
    from torchao.quantization.pt2e.quantize_pt2e import prepare_qat_pt2e

    return prepare_qat_pt2e(_capture(module, example_inputs), _quantizer(is_qat=True))


def _capture(module: Any, example_inputs: Any) -> Any:
    """torch.export with a dynamic batch, so the quantized reference model runs on any batch size (the VGF
    itself is lowered later with the static example batch)."""
    import torch

    examples = at_least_batch_two(as_tuple(example_inputs))
    batch = torch.export.Dim("batch", min=1, max=1 << 20)
    program = torch.export.export(module, examples, dynamic_shapes=tuple({0: batch} for _ in examples))
    # torch >= 2.9 inserts a ``_guards_fn`` submodule call into .module() unless it is called from
    # executorch/torchao code; the Arm quantizer's ExportPass-based passes (run when the graph has
    # scalar operands, e.g. an encoding's ``x * 2``) cannot trace call_module and fail.
    return program.module(check_guards=False)


def quantization_state(module: Any) -> str:
    """``"float"``, ``"qat"`` (fake-quant or observers inserted, not converted) or ``"converted"``."""
    # Observers and fake-quant modules come from torchao (or torch.ao in older flows): match by class name.
    from_obs = any(
        any(
            c.__name__.endswith(("FakeQuantize", "FakeQuantizeBase", "Observer", "ObserverBase"))
            for c in type(m).__mro__
        )
        for m in module.modules()
    )
    if from_obs:
        return "qat"
    graph = getattr(module, "graph", None)
    if graph is not None and any(
        n.op == "call_function" and "quantize_per_" in str(n.target) for n in graph.nodes
    ):
        return "converted"
    return "float"


def to_quantized(module: Any, example_inputs: Any, calibration: Iterable[Any] | None) -> Any:
    """The converted int8 reference model for ``module`` in any quantization state (PTQ for a float model)."""
    from torchao.quantization.pt2e import move_exported_model_to_eval
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e

    state = quantization_state(module)
    if state == "converted":
        return check_symmetric_weights(module)
    if state == "qat":
        m = move_exported_model_to_eval(copy.deepcopy(module))
        return check_symmetric_weights(convert_pt2e(m))
    if calibration is None:
        raise ValueError(
            "int8 VGF export of a float model needs calibration batches (or a QAT/converted model)"
        )
    return quantize_ptq(module, example_inputs, calibration)


def check_symmetric_weights(converted: Any) -> Any:
    """``converted``, after checking that every per-channel weight has zero point 0 (TOSA int8 weights are
    symmetric). A model prepared with torch's fused moving-average fake quantizer for weights gets an affine
    channel (zero point +-127) wherever that channel's weights all have one sign; TOSA's convolutions and
    matmuls take one weight zero point, not one per channel, so such a graph is refused by name. (This module's
    ``prepare_qat`` uses ExecuTorch's weight quantizer, which is symmetric.)"""
    import numpy as np

    from .int8_reference import _const

    for n in converted.graph.nodes:
        if n.op != "call_function" or not str(n.target).endswith("dequantize_per_channel.default"):
            continue
        if getattr(n.args[2], "op", None) == "get_attr":
            zp = np.ravel(_const(converted, n.args[2]).numpy())
            bad = np.flatnonzero(zp)[:8]
            if bad.size:
                raise ValueError(f"int8 graph: the weights dequantized by {n.name} are not symmetric (channels "
                                 f"{bad.tolist()} have zero points {zp[bad].tolist()}); TOSA int8 weights need "
                                 "zero point 0: quantize them per-channel symmetric (a non-fused FakeQuantize "
                                 "for weights in QAT)")
    return converted


def export_vgf(
    module: Any,
    example_inputs: Any,
    io: IODescription,
    out_dir: str | Path,
    *,
    name: str = "model",
    asset_id: str = "",
    precision: str = "fp32",
    calibration: Iterable[Any] | None = None,
) -> ExportRecord:
    """Write ``<out_dir>/<name>.<precision>.vgf`` and its sidecar ``<name>.<precision>.vgf.json``.

    VGF graphs have static shapes: the batch size is the example inputs' batch. For int8, ``module`` may be a
    float model (then ``calibration`` batches drive PTQ), a QAT-prepared model from ``prepare_qat`` (converted
    here), or an already converted model from ``quantize_ptq``. The whole graph must lower to one VGF
    partition; an op the backend leaves on the CPU is an error naming it.
    """
    import importlib.metadata

    import torch
    from executorch.backends.arm.vgf import VgfPartitioner
    from executorch.exir import to_edge_transform_and_lower

    from ngsdk.asset.vgf import read_vgf

    if precision not in VGF_PRECISIONS:
        raise ValueError(f"VGF export supports precisions {VGF_PRECISIONS}, not {precision!r}")
    name = check_name(name)
    out_dir = Path(out_dir)
    examples = as_tuple(example_inputs)
    io.check_inputs([tuple(t.shape) for t in examples])
    batch = int(examples[0].shape[0])
    if any(int(t.shape[0]) != batch for t in examples):
        raise ValueError("VGF export: all example inputs must have the same batch size")

    state = quantization_state(module) if precision == "int8" else "float"
    if precision == "int8":
        graph_module = to_quantized(module, examples, calibration)
    else:
        if quantization_state(module) != "float":
            raise ValueError("fp32 VGF export got a quantized model; use precision='int8'")
        graph_module = module.eval()

    spec = _spec(precision)
    with staging_dir(out_dir) as tmp, warnings.catch_warnings(), _model_converter_env():
        warnings.simplefilter("ignore")
        spec.dump_intermediate_artifacts_to(str(tmp))
        program = torch.export.export(graph_module, examples)
        edge = to_edge_transform_and_lower(program, partitioner=[VgfPartitioner(spec)])
        vgfs = sorted(tmp.glob("*.vgf"))
        if len(vgfs) != 1:
            raise RuntimeError(
                f"VGF export of {name}: expected one VGF partition, the backend wrote {len(vgfs)}"
            )
        quant = _io_quantization(edge.exported_program(), len(io.inputs), len(io.outputs), name)
        vgf_bytes = vgfs[0].read_bytes()

    vgf_path = out_dir / f"{name}.{precision}.vgf"
    atomic_write_bytes(vgf_path, vgf_bytes)
    info = read_vgf(vgf_path)
    with torch.no_grad():
        ref_out = as_tuple(graph_module(*examples))
    sidecar = {
        "format": SIDECAR_FORMAT,
        "version": 1,
        "vgf": vgf_path.name,
        "precision": precision,
        "tosa_spec": TOSA_SPECS[precision],
        "batch": batch,
        "quantize": "q = clamp(round_half_even(float32(x) * float32(1/scale)) + zero_point, qmin, qmax)",
        "dequantize": "x = (q - zero_point) * scale",
        "inputs": _sidecar_tensors(
            io.inputs, info.inputs, quant["inputs"], [tuple(t.shape) for t in examples]
        ),
        "outputs": _sidecar_tensors(
            io.outputs, info.outputs, quant["outputs"], [tuple(t.shape) for t in ref_out]
        ),
        "io": io.to_json(),
        "ngsdk_version": ngsdk_version(),
        "asset_id": asset_id,
        "executorch_version": importlib.metadata.version("executorch"),
    }
    side_path = out_dir / f"{vgf_path.name}.json"
    atomic_write_bytes(side_path, (json.dumps(sidecar, indent=2, sort_keys=True) + "\n").encode())
    return ExportRecord(
        format="vgf",
        path=vgf_path.name,
        sha256=file_sha256(vgf_path),
        files=describe_files(out_dir, [vgf_path, side_path]),
        io=io,
        precision=precision,
        target=TOSA_SPECS[precision],
        details={
            "sidecar": side_path.name,
            "batch": batch,
            "quantization_source": {"float": "ptq", "qat": "qat", "converted": "converted"}[state]
            if precision == "int8"
            else None,
            "executorch_version": importlib.metadata.version("executorch"),
            "asset_id": asset_id,
        },
    )


def _sidecar_tensors(
    decl: Any, vgf_side: Any, quant: list[Any], torch_shapes: list[tuple[int, ...]]
) -> list[Any]:
    if len(vgf_side) != len(decl):
        raise RuntimeError(f"VGF declares {len(vgf_side)} tensors where the IO description has {len(decl)}")
    out = []
    for t, v, q, s in zip(decl, vgf_side, quant, torch_shapes, strict=True):
        if tuple(v.shape) != tuple(s):
            raise RuntimeError(f"VGF tensor {v.name} ({t.name}) has shape {v.shape}, the torch model {s}")
        out.append(
            {
                "name": t.name,
                "vgf_name": v.name,
                "binding": v.binding,
                "shape": list(v.shape),
                "dtype": v.dtype,
                "vk_format": v.vk_format,
                "layout": t.layout,
                "quantization": q,
            }
        )
    return out


def _io_quantization(edge_program: Any, n_in: int, n_out: int, name: str) -> dict[str, list[Any]]:
    """Per VGF input/output, the (de)quantization that ExecuTorch left outside the delegate (None for float
    IO). Also proves that the delegate is the whole graph."""
    import torch

    graph = edge_program.graph
    delegates = []
    stray = []
    for n in graph.nodes:
        if n.op != "call_function":
            continue
        if n.target is torch.ops.higher_order.executorch_call_delegate:
            delegates.append(n)
        elif n.target is not operator.getitem and not _is_qdq(n, "quantize") and not _is_qdq(n, "dequantize"):
            stray.append(str(n.target))
    if len(delegates) != 1 or stray:
        raise RuntimeError(
            f"VGF export of {name}: the graph did not lower whole to one VGF delegate "
            f"({len(delegates)} delegates; ops left on the CPU: {sorted(set(stray)) or 'none'})"
        )
    call = delegates[0]
    user_inputs = [n for n in graph.nodes if n.op == "placeholder"]
    ins = []
    for arg in call.args[1:]:
        q = None
        if _is_qdq(arg, "quantize"):
            q, arg = _qparams(arg), arg.args[0]
        if arg not in user_inputs:
            raise RuntimeError(f"VGF export of {name}: delegate input {arg} is not a graph input")
        ins.append((user_inputs.index(arg), q))
    if [i for i, _ in ins] != list(range(n_in)):
        raise RuntimeError(f"VGF export of {name}: VGF inputs map to graph inputs {[i for i, _ in ins]}")
    outs = []
    (results,) = [n for n in graph.nodes if n.op == "output"][0].args
    for r in results:
        q = None
        if _is_qdq(r, "dequantize"):
            q, r = _qparams(r), r.args[0]
        if not (r.op == "call_function" and r.target is operator.getitem and r.args[0] is call):
            raise RuntimeError(f"VGF export of {name}: graph output {r} is not a VGF output")
        outs.append((r.args[1], q))
    if [i for i, _ in outs] != list(range(n_out)):
        raise RuntimeError(f"VGF export of {name}: graph outputs map to VGF outputs {[i for i, _ in outs]}")
    return {"inputs": [q for _, q in ins], "outputs": [q for _, q in outs]}


def _is_qdq(node: Any, kind: str) -> bool:
    t = str(getattr(node, "target", ""))
    return (
        getattr(node, "op", "") == "call_function"
        and f"{kind}_per_tensor" in t
        and (kind == "dequantize" or "dequantize" not in t)
    )


def _qparams(node: Any) -> dict[str, Any]:
    _, scale, zero_point, qmin, qmax, dtype = node.args[:6]
    return {
        "scale": float(scale),
        "zero_point": int(zero_point),
        "qmin": int(qmin),
        "qmax": int(qmax),
        "dtype": str(dtype).replace("torch.", ""),
    }

"""ONNX verification: full ``onnx.checker`` pass, then run with onnxruntime and with ``onnx.reference``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ngsdk.asset.errors import AssetError
from runtime_ref.toolchain import require_module


def check_onnx(path: str | Path) -> dict[str, Any]:
    """Run ``onnx.checker.check_model(full_check=True)`` (includes shape inference) and return facts about the
    model: opset, IR version, inputs/outputs with their shapes, metadata props, external-data use."""
    onnx = require_module("onnx", "onnx")
    path = Path(path)
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as e:  # onnx raises DecodeError and friends
        raise AssetError(path, f"not a readable ONNX model: {e}") from e
    try:
        onnx.checker.check_model(model, full_check=True)
    except onnx.checker.ValidationError as e:
        raise AssetError(path, f"onnx.checker failed: {str(e).strip().splitlines()[0]}") from e
    external = [t.name for t in model.graph.initializer if onnx.external_data_helper.uses_external_data(t)]
    init = {t.name for t in model.graph.initializer}

    def shape(v: Any) -> list[Any]:
        return [d.dim_param if d.HasField("dim_param") else int(d.dim_value) for d in v.type.tensor_type.shape.dim]

    return {
        "opset": {o.domain or "ai.onnx": int(o.version) for o in model.opset_import},
        "ir_version": int(model.ir_version),
        "inputs": [{"name": v.name, "shape": shape(v)} for v in model.graph.input if v.name not in init],
        "outputs": [{"name": v.name, "shape": shape(v)} for v in model.graph.output],
        "metadata": {p.key: p.value for p in model.metadata_props},
        "external_data": external,
        "ops": sorted({n.op_type for n in model.graph.node}),
    }


def io_description(path: str | Path) -> dict[str, Any] | None:
    """The IO description embedded by ngsdk's exporter (metadata prop ``io_description``), or None."""
    meta = check_onnx(path)["metadata"]
    return json.loads(meta["io_description"]) if "io_description" in meta else None


def run_onnxruntime(path: str | Path, inputs: Mapping[str, np.ndarray], *, threads: int = 1) -> dict[str, np.ndarray]:
    """Outputs by name from onnxruntime's CPU provider (``threads`` intra-op threads; 1 is deterministic)."""
    ort = require_module("onnxruntime", "onnxruntime")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    try:
        sess = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
    except Exception as e:
        raise AssetError(path, f"onnxruntime cannot load the model: {e}") from e
    names = [o.name for o in sess.get_outputs()]
    outs = sess.run(names, {k: np.asarray(v) for k, v in inputs.items()})
    return dict(zip(names, outs, strict=True))


def run_onnx_reference(path: str | Path, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Outputs by name from ``onnx.reference.ReferenceEvaluator`` (the ONNX project's Python semantics)."""
    require_module("onnx", "onnx")
    from onnx.reference import ReferenceEvaluator

    ev = ReferenceEvaluator(str(path))
    outs = ev.run(None, {k: np.asarray(v) for k, v in inputs.items()})
    return dict(zip(ev.output_names, outs, strict=True))

"""ONNX verification: full ``onnx.checker`` pass, then run with onnxruntime and with ``onnx.reference``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ngsdk.asset.errors import AssetError
from ngsdk.toolchain import require_module


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
        return [
            d.dim_param if d.HasField("dim_param") else int(d.dim_value) for d in v.type.tensor_type.shape.dim
        ]

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


def run_onnxruntime(
    path: str | Path, inputs: Mapping[str, np.ndarray], *, threads: int = 1
) -> dict[str, np.ndarray]:
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


def run_onnx_reference(
    path: str | Path, inputs: Mapping[str, np.ndarray], *, fast_resize: bool = True
) -> dict[str, np.ndarray]:
    """Outputs by name from ``onnx.reference.ReferenceEvaluator`` (the ONNX project's Python semantics).

    onnx.reference evaluates ``Resize`` one output element at a time in Python (95 s for a 1x8x32x32 output);
    with ``fast_resize`` the common cases (nearest/linear, no antialias, half_pixel, pytorch_half_pixel,
    align_corners or asymmetric coordinates) use a vectorised implementation of the same formulas, and every
    other case falls back to onnx's own. tests/unit/test_onnx_fast_resize.py checks both agree.
    """
    require_module("onnx", "onnx")
    from onnx.reference import ReferenceEvaluator

    ev = ReferenceEvaluator(str(path), new_ops=[fast_resize_op()] if fast_resize else None)
    outs = ev.run(None, {k: np.asarray(v) for k, v in inputs.items()})
    return dict(zip(ev.output_names, outs, strict=True))


_COORD_MODES = ("half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric")
_NEAREST_MODES = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil")


def _source_coords(n_in: int, n_out: int, scale: float, mode: str) -> np.ndarray:
    # As onnx.reference: the "resized length" in these formulas is scale * n_in (not rounded to n_out).
    x = np.arange(n_out, dtype=np.float64)
    width = scale * n_in
    if mode == "half_pixel":
        return (x + 0.5) / scale - 0.5
    if mode == "pytorch_half_pixel":
        return (x + 0.5) / scale - 0.5 if width != 1 else np.full_like(x, -0.5)
    if mode == "align_corners":
        return x * (n_in - 1) / (width - 1) if width != 1 else np.zeros_like(x)
    return x / scale  # asymmetric


def _resize_axis(
    x: np.ndarray, axis: int, n_out: int, scale: float, mode: str, coord: str, nearest: str
) -> np.ndarray:
    n_in = x.shape[axis]
    src = _source_coords(n_in, n_out, scale, coord)
    if mode == "nearest":
        fl = np.floor(src)
        frac = src - fl
        if nearest == "round_prefer_floor":
            idx = np.where(frac <= 0.5, fl, fl + 1)
        elif nearest == "round_prefer_ceil":
            idx = np.where(frac < 0.5, fl, fl + 1)
        elif nearest == "floor":
            idx = fl
        else:
            idx = np.ceil(src)
        return np.take(x, np.clip(idx, 0, n_in - 1).astype(np.int64), axis=axis)
    i0 = np.floor(src)
    t = src - i0
    a = np.clip(i0, 0, n_in - 1).astype(np.int64)
    b = np.clip(i0 + 1, 0, n_in - 1).astype(np.int64)
    shape = [1] * x.ndim
    shape[axis] = n_out
    t = t.reshape(shape)
    return np.take(x, a, axis=axis) * (1.0 - t) + np.take(x, b, axis=axis) * t


def fast_resize_op() -> type:
    """An onnx.reference ``Resize`` with a vectorised path for the cases graph exports use."""
    from onnx.reference.ops.op_resize import Resize as _Resize

    class Resize(_Resize):
        op_domain = ""

        def _run(
            self,
            X,
            roi,
            scales=None,
            sizes=None,
            antialias=None,
            axes=None,  # noqa: N803, ANN001
            coordinate_transformation_mode=None,
            cubic_coeff_a=None,
            exclude_outside=None,  # noqa: ANN001
            extrapolation_value=None,
            keep_aspect_ratio_policy=None,
            mode=None,  # noqa: ANN001
            nearest_mode=None,
        ):  # noqa: ANN001, ANN202
            coord = coordinate_transformation_mode or "half_pixel"
            nearest = nearest_mode or "round_prefer_floor"
            simple = (
                mode in ("nearest", "linear")
                and not antialias
                and axes is None
                and not exclude_outside
                and keep_aspect_ratio_policy in (None, "stretch")
                and coord in _COORD_MODES
                and nearest in _NEAREST_MODES
                and X.dtype.kind == "f"
                and (
                    (scales is not None and len(scales) == X.ndim)
                    or (sizes is not None and len(sizes) == X.ndim)
                )
            )
            if not simple:
                return super()._run(
                    X,
                    roi,
                    scales,
                    sizes,
                    antialias,
                    axes,
                    coordinate_transformation_mode,
                    cubic_coeff_a,
                    exclude_outside,
                    extrapolation_value,
                    keep_aspect_ratio_policy,
                    mode,
                    nearest_mode,
                )
            if scales is not None and len(scales):
                scale = np.asarray(scales, dtype=np.float64)
                out = (scale * np.array(X.shape)).astype(np.int64)
            else:
                out = np.asarray(sizes, dtype=np.int64)
                scale = out / np.array(X.shape, dtype=np.float64)
            y = X.astype(np.float64)
            for ax in range(X.ndim):
                if out[ax] != X.shape[ax] or scale[ax] != 1.0:
                    y = _resize_axis(y, ax, int(out[ax]), float(scale[ax]), mode, coord, nearest)
            return (y.astype(X.dtype),)

    return Resize

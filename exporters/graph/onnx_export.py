"""Torch module -> single-file ONNX with a dynamic batch dimension and ngsdk metadata."""

from __future__ import annotations

import contextlib
import io as _io
import json
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ngsdk.asset.atomic import atomic_write_bytes

from ._util import as_tuple, at_least_batch_two, check_name, ngsdk_version
from .io import ExportRecord, IODescription, describe_files, file_sha256

DEFAULT_OPSET = 17
EXPORTERS = ("auto", "dynamo", "torchscript")


def export_onnx(
    module: Any,
    example_inputs: Any,
    io: IODescription,
    out_dir: str | Path,
    *,
    name: str = "model",
    asset_id: str = "",
    opset: int = DEFAULT_OPSET,
    exporter: str = "auto",
) -> ExportRecord:
    """Write ``<out_dir>/<name>.onnx`` (weights inside the file, never a ``.onnx.data`` sidecar).

    ``exporter="auto"`` uses torch's dynamo exporter and falls back to the TorchScript exporter when the
    dynamo graph cannot be expressed at ``opset`` (torch 2.13's dynamo exporter builds opset 18+ and cannot
    down-convert ``Resize`` — every upsampling net — to 17). The exporter actually used is recorded in
    ``details["exporter"]``. Metadata props: ``ngsdk_version``, ``asset_id``, ``io_description`` (the IO
    description as JSON) and ``precision``.
    """
    import onnx
    import torch

    if exporter not in EXPORTERS:
        raise ValueError(f"exporter {exporter!r} is not one of {EXPORTERS}")
    name = check_name(name)
    out_dir = Path(out_dir)
    module = module.eval()
    examples = at_least_batch_two(as_tuple(example_inputs))
    io.check_inputs([tuple(t.shape) for t in examples])

    fallback_reason = ""
    model = None
    used = exporter
    if exporter in ("auto", "dynamo"):
        model = _export_dynamo(module, examples, io, opset)
        got = _default_opset(model)
        if got != opset:
            fallback_reason = f"dynamo exporter produced opset {got}, not {opset}"
            if exporter == "dynamo":
                raise RuntimeError(
                    f"ONNX export of {name}: {fallback_reason}; use exporter='auto' or opset={got}"
                )
            model = None
        else:
            used = "dynamo"
    if model is None:
        model = _export_torchscript(module, examples, io, opset)
        used = "torchscript"
        got = _default_opset(model)
        if got != opset:
            raise RuntimeError(
                f"ONNX export of {name}: TorchScript exporter produced opset {got}, not {opset}"
            )

    _check_io_names(model, io, name)
    for t in model.graph.initializer:
        if onnx.external_data_helper.uses_external_data(t):
            raise RuntimeError(f"ONNX export of {name}: initializer {t.name!r} refers to external data")
    meta = {
        "ngsdk_version": ngsdk_version(),
        "asset_id": asset_id,
        "io_description": io.dumps(),
        "precision": "fp32",
    }
    del model.metadata_props[:]
    for k, v in meta.items():
        model.metadata_props.add(key=k, value=v)
    model.producer_name = "ngsdk"
    model.producer_version = ngsdk_version()
    model.doc_string = f"ngsdk graph export {name}"

    path = out_dir / f"{name}.onnx"
    atomic_write_bytes(path, model.SerializeToString())
    return ExportRecord(
        format="onnx",
        path=path.name,
        sha256=file_sha256(path),
        files=describe_files(out_dir, [path]),
        io=io,
        precision="fp32",
        target=f"opset{opset}",
        details={
            "opset": opset,
            "exporter": used,
            "fallback_reason": fallback_reason,
            "torch_version": torch.__version__,
            "onnx_ir_version": int(model.ir_version),
            "asset_id": asset_id,
        },
    )


def _default_opset(model: Any) -> int:
    for o in model.opset_import:
        if o.domain in ("", "ai.onnx"):
            return int(o.version)
    return -1


def _export_dynamo(module: Any, examples: tuple[Any, ...], io: IODescription, opset: int) -> Any:
    import torch

    batch = torch.export.Dim(str(io.inputs[0].shape[0]), min=1, max=1 << 20)
    with warnings.catch_warnings(), _quiet_loggers("onnxscript.version_converter", "torch.onnx"):
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            module,
            examples,
            dynamo=True,
            opset_version=opset,
            input_names=[t.name for t in io.inputs],
            output_names=[t.name for t in io.outputs],
            dynamic_shapes=tuple({0: batch} for _ in examples),
            external_data=False,
            verbose=False,
        )
    return program.model_proto


@contextlib.contextmanager
def _quiet_loggers(*names: str) -> Iterator[None]:
    """Silence the dynamo exporter's warnings (with tracebacks) about a failed opset down-conversion:
    export_onnx detects that case itself, falls back, and records the reason."""
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _export_torchscript(module: Any, examples: tuple[Any, ...], io: IODescription, opset: int) -> Any:
    import onnx
    import torch

    axes = {t.name: {0: str(t.shape[0])} for t in (*io.inputs, *io.outputs)}
    buf = _io.BytesIO()
    with warnings.catch_warnings():
        # The TorchScript exporter is deprecated in torch >= 2.9 but is the only one that emits opset < 18.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            examples,
            buf,
            dynamo=False,
            opset_version=opset,
            input_names=[t.name for t in io.inputs],
            output_names=[t.name for t in io.outputs],
            dynamic_axes=axes,
        )
    return onnx.load_from_string(buf.getvalue())


def _check_io_names(model: Any, io: IODescription, name: str) -> None:
    init = {t.name for t in model.graph.initializer}
    got_in = [i.name for i in model.graph.input if i.name not in init]
    got_out = [o.name for o in model.graph.output]
    want_in = [t.name for t in io.inputs]
    want_out = [t.name for t in io.outputs]
    if got_in != want_in or got_out != want_out:
        raise RuntimeError(
            f"ONNX export of {name}: graph IO {json.dumps([got_in, got_out])} does not match the IO "
            f"description {json.dumps([want_in, want_out])} (does forward() take and return them in order?)"
        )

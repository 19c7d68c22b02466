"""One call for every graph format: what ``ngsdk export --format onnx,coreml,vgf`` runs."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ._util import as_tuple, check_name
from .errors import ExportError
from .io import FORMATS, ExportRecord, IODescription, describe_files
from .quiet import quiet_libraries
from .reference import reference_arrays, write_reference

log = logging.getLogger("ngsdk.export")

SUPPORTED_PRECISIONS: dict[str, tuple[str, ...]] = {
    "onnx": ("fp32",),
    "coreml": ("fp32", "fp16"),
    "vgf": ("fp32", "int8"),
}


def plan(
    formats: Sequence[str], precision: str | Sequence[str] | Mapping[str, str | Sequence[str]]
) -> list[tuple[str, str]]:
    """The (format, precision) pairs to export, in request order.

    ``precision`` is one name, a list (each format exports every listed precision it supports), or a mapping
    format -> name(s). A format left with no supported precision, or a precision no format supports, is a
    ValueError naming it.
    """
    formats = [f.strip() for f in formats]
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise ValueError(f"unknown graph formats {bad}; choose from {list(FORMATS)}")
    if isinstance(precision, Mapping):
        wanted = {
            f: [precision[f]] if isinstance(precision[f], str) else list(precision[f])
            for f in formats
            if f in precision
        }
        missing = [f for f in formats if f not in wanted]
        if missing:
            raise ValueError(f"no precision given for formats {missing}")
    else:
        p = [precision] if isinstance(precision, str) else list(precision)
        wanted = {f: p for f in formats}
    pairs = []
    for f in formats:
        ok = [p for p in wanted[f] if p in SUPPORTED_PRECISIONS[f]]
        if not ok:
            raise ValueError(
                f"{f} export supports precisions {list(SUPPORTED_PRECISIONS[f])}, not {wanted[f]}"
            )
        pairs += [(f, p) for p in ok]
    used = {p for _, p in pairs}
    unused = sorted({p for ps in wanted.values() for p in ps} - used)
    if unused:
        raise ValueError(f"no requested format supports precision {unused}")
    return pairs


def export_all(
    module: Any,
    example_inputs: Any,
    io: IODescription,
    formats: Sequence[str],
    precision: str | Sequence[str] | Mapping[str, str | Sequence[str]],
    out_dir: str | Path,
    calibration: Iterable[Any] | None = None,
    *,
    name: str = "model",
    asset_id: str = "",
    opset: int = 17,
    reference_inputs: Any = None,
) -> list[ExportRecord]:
    """Export ``module`` to every requested (format, precision) and return one record per export.

    ``example_inputs`` drive tracing (and fix the VGF's static batch). Beside each export a reference npz
    (ngsdk.exporters.graph.reference: shared by exports with the same content, compressed, large outputs
    sampled) holds ``in.<name>`` inputs (``reference_inputs``, default the examples) and ``out.<name>``
    outputs of the torch model the export stands for — the float model, or for int8 the quantized torch
    model with integer requantization (``int8_reference``) — so ``ngsdk.runtime_ref.graph_verify.verify_export``
    can check it later without torch; ``details.reference`` names it.
    ``calibration`` (input batches) is needed for int8 unless ``module`` is QAT-prepared or already converted.
    A failure inside an exporter or its format library raises ``ExportError`` naming the format, graph and
    precision (argument errors found before exporting stay ``ValueError``). The libraries' own warnings,
    log records and progress bars are kept off the terminal (ngsdk.exporters.graph.quiet).
    """
    with quiet_libraries():
        return _export_all(module, example_inputs, io, formats, precision, out_dir, calibration, name=name,
                           asset_id=asset_id, opset=opset, reference_inputs=reference_inputs)


def _export_all(module: Any, example_inputs: Any, io: IODescription, formats: Sequence[str], precision: Any,
                out_dir: str | Path, calibration: Iterable[Any] | None, *, name: str, asset_id: str, opset: int,
                reference_inputs: Any) -> list[ExportRecord]:
    import torch

    from .coreml_export import export_coreml
    from .int8_reference import float_simulation_gap, int8_reference
    from .onnx_export import export_onnx
    from .vgf_export import export_vgf, quantization_state, to_quantized

    name = check_name(name)
    out_dir = Path(out_dir)
    pairs = plan(formats, precision)
    examples = as_tuple(example_inputs)
    ref_in = as_tuple(reference_inputs) if reference_inputs is not None else examples
    float_ok = quantization_state(module) == "float"
    if not float_ok and any(p != "int8" for _, p in pairs):
        raise ValueError(
            "a QAT-prepared or quantized module can only be exported as int8 VGF; pass the float "
            "model for fp32/fp16 exports"
        )
    records = []
    quantized = None
    for fmt, prec in pairs:
        log.info("exporting %s %s %s", fmt, prec, name)
        try:
            if fmt == "onnx":
                rec = export_onnx(module, examples, io, out_dir, name=name, asset_id=asset_id, opset=opset)
                ref_model = module
            elif fmt == "coreml":
                rec = export_coreml(module, examples, io, out_dir, name=name, asset_id=asset_id, precision=prec)
                ref_model = module
            elif prec == "int8":
                source = {"float": "ptq", "qat": "qat", "converted": "converted"}[quantization_state(module)]
                if quantized is None:
                    quantized = to_quantized(module, examples, calibration)
                rec = export_vgf(quantized, examples, io, out_dir, name=name, asset_id=asset_id, precision="int8")
                # The reference does linear/conv requantization in integers as the VGF does (int8_reference
                # says why); how far the float-simulated model is from it is recorded, not hidden.
                ref_model = int8_reference(quantized)
                gap = float_simulation_gap(quantized, ref_model, ref_in)
                rec = dataclasses.replace(rec, details={
                    **rec.details, "quantization_source": source,
                    "int8_reference": {"integer_layers": ref_model.rewritten, "float_simulation": gap}})
            else:
                rec = export_vgf(module, examples, io, out_dir, name=name, asset_id=asset_id, precision=prec)
                ref_model = module
            with torch.no_grad():
                outs = as_tuple(ref_model(*ref_in))
        except Exception as e:  # noqa: BLE001 - libraries raise anything (even bare Exception); name the export
            raise ExportError.wrap(fmt, prec, name, e) from e
        arrays = reference_arrays(
            {t.name: x.detach().cpu().numpy() for t, x in zip(io.inputs, ref_in, strict=True)},
            {t.name: y.detach().cpu().numpy() for t, y in zip(io.outputs, outs, strict=True)},
        )
        ref_path = write_reference(out_dir, name, arrays)
        rec = dataclasses.replace(
            rec,
            files=rec.files + describe_files(out_dir, [ref_path]),
            details={**rec.details, "reference": ref_path.name},
        )
        records.append(rec)
    return records


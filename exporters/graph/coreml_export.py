"""Torch module -> Core ML ML Program (.mlpackage), fp32 or fp16 compute, iOS 16+ target."""

from __future__ import annotations

import json
import uuid
import warnings
from pathlib import Path
from typing import Any

from ngsdk.asset.atomic import atomic_write_bytes

from ._util import as_tuple, at_least_batch_two, check_name, ngsdk_version, replace_dir, staging_dir
from .io import ExportRecord, IODescription, TensorIO, describe_files, tree_sha256

COREML_PRECISIONS = ("fp32", "fp16")
_NP_DTYPES = {"float32": "float32", "float16": "float16", "int32": "int32"}
# Model metadata keys written by coremltools that change from run to run; dropped for byte-stable packages.
_VOLATILE_META = ("com.github.apple.coremltools.conversion_date",)


def export_coreml(
    module: Any,
    example_inputs: Any,
    io: IODescription,
    out_dir: str | Path,
    *,
    name: str = "model",
    asset_id: str = "",
    precision: str = "fp32",
    author: str = "",
    license: str = "",
    description: str = "",
    fp32_input_stage: bool | None = None,
) -> ExportRecord:
    """Write ``<out_dir>/<name>.<precision>.mlpackage``.

    fp16 means fp16 *compute* (weights and every intermediate in float16); the graph's IO keeps the dtypes of
    the IO description (float32 unless declared otherwise), with casts at the edges. The batch dimension is a
    range 1..65536. Metadata: ``ngsdk.version``, ``ngsdk.asset_id``, ``ngsdk.io_description`` (JSON),
    ``ngsdk.precision``; each input and output gets a one-line description from its IO entry.

    ``fp32_input_stage`` (default: the module's ``fp32_input_stage`` attribute, else False): in fp16 programs
    keep the ops that run before any weighted op (linear, matmul, conv) in float32, e.g. a coordinate encoding
    whose high frequencies need float32 resolution of the input; the network itself computes in fp16.
    """
    import coremltools as ct
    import numpy as np
    import torch

    if precision not in COREML_PRECISIONS:
        raise ValueError(f"Core ML export supports precisions {COREML_PRECISIONS}, not {precision!r}")
    name = check_name(name)
    out_dir = Path(out_dir)
    module = module.eval()
    examples = at_least_batch_two(as_tuple(example_inputs))
    io.check_inputs([tuple(t.shape) for t in examples])
    for t in (*io.inputs, *io.outputs):
        if t.dtype not in _NP_DTYPES:
            raise ValueError(
                f"Core ML export: tensor {t.name!r} dtype {t.dtype} is not one of {sorted(_NP_DTYPES)}"
            )

    if fp32_input_stage is None:
        fp32_input_stage = bool(getattr(module, "fp32_input_stage", False))
    fp32_stage = fp32_input_stage and precision == "fp16"
    batch = torch.export.Dim(str(io.inputs[0].shape[0]), min=1, max=65536)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.export.export(module, examples, dynamic_shapes=tuple({0: batch} for _ in examples))
        program = program.run_decompositions({})
        ml = ct.convert(
            program,
            convert_to="mlprogram",
            compute_precision=_compute_precision(ct, precision, fp32_stage),
            minimum_deployment_target=ct.target.iOS16,
            inputs=[ct.TensorType(name=t.name, dtype=np.dtype(_NP_DTYPES[t.dtype]).type) for t in io.inputs],
            outputs=[
                ct.TensorType(name=t.name, dtype=np.dtype(_NP_DTYPES[t.dtype]).type) for t in io.outputs
            ],
            skip_model_load=True,  # compiling needs macOS; on Linux it would only warn
        )

    got_in = [f.name for f in ml.get_spec().description.input]
    got_out = [f.name for f in ml.get_spec().description.output]
    if got_in != [t.name for t in io.inputs] or got_out != [t.name for t in io.outputs]:
        raise RuntimeError(
            f"Core ML export of {name}: model IO {got_in} -> {got_out} does not match the IO description"
        )

    ml.short_description = description or f"ngsdk graph export {name} ({precision})"
    ml.author = author
    ml.license = license
    ml.version = ngsdk_version()
    meta = ml.user_defined_metadata
    for k in _VOLATILE_META:
        if k in meta:
            del meta[k]
    meta["ngsdk.version"] = ngsdk_version()
    meta["ngsdk.asset_id"] = asset_id
    meta["ngsdk.io_description"] = io.dumps()
    meta["ngsdk.precision"] = precision
    for t in io.inputs:
        ml.input_description[t.name] = _describe(t)
    for t in io.outputs:
        ml.output_description[t.name] = _describe(t)

    ops = sorted({op.op_type for f in ml._mil_program.functions.values() for op in f.operations})
    final = out_dir / f"{name}.{precision}.mlpackage"
    with staging_dir(out_dir) as tmp:
        staged = tmp / final.name
        ml.save(str(staged))
        _stable_spec(staged)
        _stable_manifest(staged)
        replace_dir(staged, final)
    return ExportRecord(
        format="coreml",
        path=final.name,
        sha256=tree_sha256(final),
        files=describe_files(out_dir, [final]),
        io=io,
        precision=precision,
        target="iOS16",
        details={
            "model_type": "mlprogram",
            "compute_precision": precision,
            **({"fp32_input_stage": True} if fp32_stage else {}),
            "coremltools_version": ct.__version__,
            "torch_version": torch.__version__,
            "mil_ops": ops,
            "asset_id": asset_id,
        },
    )


_WEIGHT_OPS = frozenset({"linear", "matmul", "conv", "conv_transpose", "einsum"})


def _compute_precision(ct: Any, precision: str, fp32_stage: bool) -> Any:
    if precision == "fp32":
        return ct.precision.FLOAT32
    if not fp32_stage:
        return ct.precision.FLOAT16
    def producers(op: Any) -> list[Any]:
        out = []
        for v in op.inputs.values():
            for var in v if isinstance(v, (list, tuple)) else (v,):
                if getattr(var, "op", None) is not None:
                    out.append(var.op)
        return out

    def after_weights(op: Any) -> bool:
        """True for a weighted op or an op downstream of one: a walk over the op's producers."""
        stack, seen = [op], set()
        while stack:
            o = stack.pop()
            if o.op_type in _WEIGHT_OPS:
                return True
            if id(o) not in seen:
                seen.add(id(o))
                stack += producers(o)
        return False

    return ct.transform.FP16ComputePrecision(op_selector=after_weights)


def _describe(t: TensorIO) -> str:
    parts = [
        t.semantics or t.name,
        f"layout {t.layout}",
        f"shape {list(t.shape)}",
        f"colour space {t.color_space}",
    ]
    if t.value_range is not None:
        parts.append(f"range [{t.value_range[0]:g}, {t.value_range[1]:g}]")
    if t.channels:
        parts.append("channels " + ",".join(t.channels))
    return "; ".join(parts)


def _stable_spec(package: Path) -> None:
    """Rewrite the model spec with deterministic protobuf serialization: its map fields (the user-defined
    metadata) are otherwise written in an order that changes from process to process."""
    from coremltools.proto import Model_pb2

    path = package / "Data" / "com.apple.CoreML" / "model.mlmodel"
    spec = Model_pb2.Model()
    spec.ParseFromString(path.read_bytes())
    atomic_write_bytes(path, spec.SerializeToString(deterministic=True))


def _stable_manifest(package: Path) -> None:
    """Replace the random item identifiers in Manifest.json by name-based UUIDs so that exporting the same
    model twice gives byte-identical packages (Core ML only uses them to link the manifest's own entries)."""
    path = package / "Manifest.json"
    manifest = json.loads(path.read_text())
    renamed = {
        old: str(uuid.uuid5(uuid.NAMESPACE_URL, "ngsdk-mlpackage:" + entry["path"]))
        for old, entry in manifest["itemInfoEntries"].items()
    }
    manifest["itemInfoEntries"] = {renamed[k]: v for k, v in manifest["itemInfoEntries"].items()}
    manifest["rootModelIdentifier"] = renamed[manifest["rootModelIdentifier"]]
    atomic_write_bytes(path, (json.dumps(manifest, indent=4, sort_keys=True) + "\n").encode())

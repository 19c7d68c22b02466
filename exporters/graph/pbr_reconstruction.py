"""Graph exports of PBR reconstruction networks: Core ML ML Program (fp16 default, fp32; iOS 17 default) with
image or tensor IO, and ONNX. The torch module comes from the caller (``ngsdk.pbr.graphs`` rebuilds it from the
bundle's spec and weights); this module imports torch and the format libraries only when it runs.

IO (docs/pbr-reconstruction.md, "Exports"):

* ``--coreml-io image`` (the NeuroPBR app's): inputs ``view1..3`` RGB images of the input size (pixels 0-255;
  the /255 and the ImageNet normalisation are in the program); outputs ``albedo`` and ``normal`` (0.5 n + 0.5)
  RGB images, ``roughness`` and ``metallic`` grey images, 0-255. Batch 1, as an app runs it.
* ``--coreml-io tensor`` and ONNX: inputs ``view1..3`` float32 (N, 3, H, W) sRGB in [0, 1]; outputs float32
  ``albedo`` (N, 3, S, S), ``roughness`` and ``metallic`` (N, 1, S, S) in [0, 1], ``normal`` (N, 3, S, S) unit
  vectors. Core ML tensor programs have batch 1, ONNX a dynamic batch.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ngsdk.asset.pbr_reconstruction import MAPS, REFERENCE_FILE, VIEW_INPUTS, PbrReconstructionAsset
from ngsdk.asset.types import GraphExport
from ngsdk.exporters.graph._util import ngsdk_version, replace_dir, staging_dir
from ngsdk.exporters.graph.bundle_exports import graph_export, precisions
from ngsdk.exporters.graph.errors import ExportError
from ngsdk.exporters.graph.io import IODescription, TensorIO, describe_files, tree_sha256
from ngsdk.exporters.graph.quiet import quiet_libraries

GRAPH = "pbr_reconstruction"
TENSOR_GRAPH = "pbr_reconstruction_tensor"
COREML_IO = ("image", "tensor")
DEPLOYMENT_TARGETS = ("iOS16", "iOS17", "iOS18")
DEFAULT_TARGET = "iOS17"
_VOLATILE_META = ("com.github.apple.coremltools.conversion_date",)


def io_description(asset: PbrReconstructionAsset, kind: str) -> dict[str, Any]:
    """The IO of an export as JSON (manifest ``exports[].io``): ``kind`` image or tensor, inputs, outputs."""
    h, s = asset.input_size, asset.output_size
    image = kind == "image"
    ins = [{"name": n, "shape": [1 if image else "batch", 3, h, h], "dtype": "uint8" if image else "float32",
            "colour_space": "srgb", "range": [0, 255] if image else [0.0, 1.0],
            **({"image": "RGB"} if image else {"layout": "NCHW"})} for n in VIEW_INPUTS]
    outs = []
    for m in MAPS:
        rng = [0, 255] if image else ([-1.0, 1.0] if m.encoding == "unit_vector" else [0.0, 1.0])
        enc = "0.5 n + 0.5" if image and m.encoding == "unit_vector" else m.encoding
        outs.append({"name": m.name, "shape": [1 if image else "batch", m.channels, s, s],
                     "dtype": "uint8" if image else "float32", "colour_space": m.colour_space, "range": rng,
                     "encoding": enc, **({"image": "RGB" if m.channels == 3 else "GRAYSCALE"} if image else {}),
                     **({"convention": m.convention} if m.convention else {})})
    return {"kind": kind, "inputs": ins, "outputs": outs}


def _wrapped(module: Any, image: bool) -> Any:
    """The network with the export's IO: image programs take and give 0-255 pixel values."""
    import torch
    from torch import nn

    class ImageIO(nn.Module):
        def __init__(self, net: nn.Module):
            super().__init__()
            self.net = net

        def forward(self, v1: torch.Tensor, v2: torch.Tensor, v3: torch.Tensor) -> tuple[torch.Tensor, ...]:
            a, r, m, n = self.net(v1 * (1.0 / 255.0), v2 * (1.0 / 255.0), v3 * (1.0 / 255.0))
            return a * 255.0, r * 255.0, m * 255.0, n * 127.5 + 127.5

    return ImageIO(module).eval() if image else module.eval()


def export_coreml(module: Any, asset: PbrReconstructionAsset, folder: Path, *, precision: str, io: str,
                  target: str) -> GraphExport:
    """Convert to ``<graph>.<precision>.mlpackage`` in ``folder`` (torch.export + coremltools, byte-stable)."""
    import coremltools as ct
    import numpy as np
    import torch

    from ngsdk.exporters.graph.coreml_export import _stable_manifest, _stable_spec

    image = io == "image"
    graph = GRAPH if image else TENSOR_GRAPH
    h = asset.input_size
    g = torch.Generator().manual_seed(0)
    examples = tuple(torch.rand(1, 3, h, h, generator=g) * (255.0 if image else 1.0) for _ in VIEW_INPUTS)
    if image:
        inputs = [ct.ImageType(name=n, shape=(1, 3, h, h), color_layout=ct.colorlayout.RGB) for n in VIEW_INPUTS]
        outputs = [ct.ImageType(name=m.name, color_layout=ct.colorlayout.RGB if m.channels == 3
                                else ct.colorlayout.GRAYSCALE) for m in MAPS]
    else:
        inputs = [ct.TensorType(name=n, shape=(1, 3, h, h), dtype=np.float32) for n in VIEW_INPUTS]
        outputs = [ct.TensorType(name=m.name, dtype=np.float32) for m in MAPS]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.export.export(_wrapped(module, image), examples).run_decompositions({})
        ml = ct.convert(program, convert_to="mlprogram",
                        compute_precision=ct.precision.FLOAT16 if precision == "fp16" else ct.precision.FLOAT32,
                        minimum_deployment_target=getattr(ct.target, target), inputs=inputs, outputs=outputs,
                        skip_model_load=True)  # compiling needs macOS
    desc = io_description(asset, io)
    ml.short_description = f"ngsdk PBR reconstruction {asset.role} {asset.preset} ({precision}, {io} IO)"
    ml.version = ngsdk_version()
    meta = ml.user_defined_metadata
    for k in _VOLATILE_META:
        if k in meta:
            del meta[k]
    meta.update({"ngsdk.version": ngsdk_version(), "ngsdk.asset_id": asset.name, "ngsdk.precision": precision,
                 "ngsdk.io": io})
    for t in desc["inputs"] + desc["outputs"]:
        text = f"{t['name']}: {t['colour_space']}, range {t['range']}"
        (ml.input_description if t in desc["inputs"] else ml.output_description)[t["name"]] = text
    ops = sorted({op.op_type for f in ml._mil_program.functions.values() for op in f.operations})
    final = folder / f"{graph}.{precision}.mlpackage"
    with staging_dir(folder) as tmp:
        staged = tmp / final.name
        ml.save(str(staged))
        _stable_spec(staged)
        _stable_manifest(staged)
        replace_dir(staged, final)
    files = [f.to_json() for f in describe_files(folder, [final])]
    record = {"format": "coreml", "path": final.name, "sha256": tree_sha256(final), "files": files, "io": desc,
              "precision": precision, "target": target,
              "details": {"model_type": "mlprogram", "compute_precision": precision, "mil_ops": ops,
                          "coremltools_version": ct.__version__, "torch_version": torch.__version__,
                          "reference": REFERENCE_FILE, "asset_id": asset.name}}
    return GraphExport(format="coreml", files=[final.name], precision=precision, graph=graph, io=desc,
                       details={"record": record})


def export_onnx(module: Any, asset: PbrReconstructionAsset, folder: Path, *, opset: int) -> GraphExport:
    """``pbr_reconstruction.onnx``: float tensors, dynamic batch (ngsdk.exporters.graph.onnx_export)."""
    import dataclasses

    import torch

    from ngsdk.exporters.graph.onnx_export import export_onnx as onnx_export

    h, s = asset.input_size, asset.output_size
    desc = IODescription(
        inputs=tuple(TensorIO(n, ("batch", 3, h, h), layout="NCHW", value_range=(0.0, 1.0), color_space="srgb",
                              semantics="photo of the surface") for n in VIEW_INPUTS),
        outputs=tuple(TensorIO(m.name, ("batch", m.channels, s, s), layout="NCHW",
                               value_range=(-1.0, 1.0) if m.encoding == "unit_vector" else (0.0, 1.0),
                               color_space="srgb" if m.colour_space == "srgb" else
                               ("data" if m.encoding == "unit_vector" else "linear"),
                               semantics=m.name + (" (OpenGL unit vectors)" if m.convention else ""))
                      for m in MAPS))
    g = torch.Generator().manual_seed(0)
    examples = tuple(torch.rand(2, 3, h, h, generator=g) for _ in VIEW_INPUTS)
    rec = onnx_export(module.eval(), examples, desc, folder, name=GRAPH, asset_id=asset.name, opset=opset)
    rec = dataclasses.replace(rec, details={**rec.details, "reference": REFERENCE_FILE})
    entry = graph_export(rec, GRAPH)
    entry.io = {**entry.io, **io_description(asset, "tensor")}
    return entry


def export_pbr_graphs(module: Any, asset: PbrReconstructionAsset, folder: str | Path, formats: Sequence[str], *,
                      precision: str | None = None, coreml_io: str = "image", deployment_target: str = DEFAULT_TARGET,
                      opset: int = 17) -> list[GraphExport]:
    """Export ``module`` (the asset's network in eval mode) to each format: Core ML in ``precision`` (default
    fp16 and fp32) with ``coreml_io`` IO for ``deployment_target``; ONNX fp32. ValueError for a bad option,
    ExportError naming the export when a library fails."""
    if coreml_io not in COREML_IO:
        raise ValueError(f"--coreml-io must be image or tensor, got {coreml_io!r}")
    if deployment_target not in DEPLOYMENT_TARGETS:
        raise ValueError(f"deployment target must be one of {', '.join(DEPLOYMENT_TARGETS)}, got {deployment_target!r}")
    bad = [f for f in formats if f not in ("coreml", "onnx")]
    if bad:
        raise ValueError(f"PBR reconstruction bundles export to coreml and onnx, not {', '.join(bad)}")
    folder = Path(folder)
    entries = []
    with quiet_libraries():
        for fmt in formats:
            precs = precisions(fmt, precision)
            if fmt == "coreml" and precision is None:
                precs = ["fp16", "fp32"]  # fp16 first: what ships
            for prec in precs:
                graph = GRAPH if fmt == "onnx" or coreml_io == "image" else TENSOR_GRAPH
                try:
                    if fmt == "coreml":
                        entries.append(export_coreml(module, asset, folder, precision=prec, io=coreml_io,
                                                     target=deployment_target))
                    else:
                        entries.append(export_onnx(module, asset, folder, opset=opset))
                except Exception as e:  # noqa: BLE001 - libraries raise anything; name the export
                    raise ExportError.wrap(fmt, prec, graph, e) from e
    return entries

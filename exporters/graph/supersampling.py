"""Graph exports of a super-sampling bundle: the NSS network as ONNX (NCHW) and VGF fp32 / int8 in the layout
the gym's Vulkan scenario feeds (NHWC, static input size, six outputs), built from the asset alone.

The int8 VGF goes through the same pt2e flow as QAT (:func:`int8_module`): the float network rebuilt from the
bundle's int8 weights dequantized, prepared with the NSS quantizer (``supersampling_int8.nss_quantizer``), every
fake quantizer set to the scale and zero point stored in the bundle, ``convert_pt2e``, then ExecuTorch's Arm VGF
backend. The converted graph is checked to hold exactly the bundle's int8 weights, int32 biases, scales and zero
points, so the VGF computes what ``ngsdk.runtime_ref.supersampling.net_int8`` computes (verify's int8 VGF check: 0
mismatches on lavapipe). The VGF sidecar JSON gets an ``nss`` section: the gym's SINT/SNORM reading of the int8
outputs (scale 1/254, zero point -127), the input quantization and ``dm_scale``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ngsdk.asset.atomic import atomic_write_bytes
from ngsdk.asset.supersampling import (
    INPUT_CHANNELS,
    LAYERS,
    OUTPUTS,
    Int8Network,
    SupersamplingAsset,
    export_input,
    nss_topology,
)
from ngsdk.asset.types import GraphExport
from ngsdk.exporters.graph.api import export_all
from ngsdk.exporters.graph.bundle_exports import graph_export, precisions
from ngsdk.exporters.graph.io import IODescription, TensorIO, describe_files
from ngsdk.exporters.graph.supersampling_int8 import int8_network, nss_quantizer, pin_qparams, same_network

GRAPH = "supersampling"


class FloatNet(nn.Module):
    """The BN-folded float network; ``nhwc``: (N, H, W, 12) in, six (N, H, W, 4) out (else NCHW). ``weights``:
    ``NAME.weight`` / ``NAME.bias`` float32 arrays of every layer (:data:`LAYERS`)."""

    def __init__(self, weights: dict[str, np.ndarray], nhwc: bool):
        super().__init__()
        self.nhwc = nhwc
        self.convs = nn.ModuleList(nn.Conv2d(s.cin, s.cout, 3, stride=s.stride, padding=1) for s in LAYERS)
        with torch.no_grad():
            for s, c in zip(LAYERS, self.convs, strict=True):
                c.weight.copy_(torch.from_numpy(np.asarray(weights[f"{s.name}.weight"], np.float32)))
                c.bias.copy_(torch.from_numpy(np.asarray(weights[f"{s.name}.bias"], np.float32)))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        if self.nhwc:
            x = x.permute(0, 3, 1, 2)

        def conv(i: int, v: torch.Tensor) -> torch.Tensor:
            y = self.convs[i](v)
            return torch.relu(y) if LAYERS[i].activation == "relu" else torch.sigmoid(y)

        outs = nss_topology(conv, lambda i, v: F.interpolate(v, scale_factor=2.0, mode="nearest"),
                         lambda i, vs: torch.cat(vs, dim=1), x)
        return tuple(o.permute(0, 2, 3, 1) for o in outs) if self.nhwc else tuple(outs)


def dequantized_weights(q: Int8Network) -> dict[str, np.ndarray]:
    """Float weights whose per-channel quantization at the stored scales gives back the stored int8 weights and
    int32 biases: ``w_q * s_w`` and ``b_q * (s_in * s_w)`` (float32 products, as the quantizer derives them)."""
    out = {}
    for s, ly in zip(LAYERS, q.layers, strict=True):
        ws = ly.weight_scale.astype(np.float32)
        out[f"{s.name}.weight"] = ly.weight.astype(np.float32) * ws[:, None, None, None]
        out[f"{s.name}.bias"] = (ly.bias.astype(np.float64) * (np.float32(ly.input.scale) * ws)).astype(np.float32)
    return out


def int8_module(q: Int8Network, example: torch.Tensor) -> torch.fx.GraphModule:
    """The converted pt2e graph (NHWC) of the stored int8 network, what ``convert_pt2e`` gives for a QAT model:
    the float network rebuilt from the dequantized int8 weights, prepared with the NSS quantizer, every fake
    quantizer set to the stored scale and zero point, converted. The result is checked to carry exactly the
    stored int8 weights, int32 biases, scales and zero points (ValueError naming what differs)."""
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    program = torch.export.export(FloatNet(dequantized_weights(q), True).eval(), (example,))
    prepared = prepare_pt2e(program.module(check_guards=False), nss_quantizer())
    pin_qparams(prepared, q)
    converted = convert_pt2e(prepared)
    diff = same_network(int8_network(converted), q)
    if diff:
        raise ValueError(f"the rebuilt int8 graph differs from the stored int8 network: {', '.join(diff[:5])}"
                         + (f" (+{len(diff) - 5} more)" if len(diff) > 5 else ""))
    return converted


def _io(asset: SupersamplingAsset, layout: str, int8: bool) -> IODescription:
    h, w = asset.export_size
    shape_in = ("batch", h, w, 12) if layout == "NHWC" else ("batch", 12, h, w)
    what = "int8 codes of the sigmoid outputs, read as SNORM (x = (q + 127) / 254)" if int8 else "sigmoid outputs"
    outs = tuple(TensorIO(n, ("batch", h, w, 4) if layout == "NHWC" else ("batch", 4, h, w), layout=layout,
                          value_range=(0.0, 1.0), semantics=f"{n}: {what}") for n in OUTPUTS)
    return IODescription(
        inputs=(TensorIO("net_input", shape_in, layout=layout, value_range=(0.0, 1.0), channels=INPUT_CHANNELS,
                         semantics="NSS pre-processing output (docs/supersampling.md), input resolution "
                                   "reflect-padded to the static size"),),
        outputs=outs)


def _example(asset: SupersamplingAsset, layout: str, precision: str) -> torch.Tensor:
    x = export_input(asset, "int8" if precision == "int8" and asset.int8 is not None else "fp32")
    return torch.from_numpy(np.ascontiguousarray(x.transpose(1, 2, 0) if layout == "NHWC" else x))[None]


def _nss_sidecar(asset: SupersamplingAsset, rec: Any, folder: Path) -> Any:
    """Add the ``nss`` section to a VGF's sidecar and refresh the record's file digests."""
    side = folder / rec.details["sidecar"]
    data = json.loads(side.read_text())
    data["nss"] = {
        "scenario": {"input": "net_input NHWC, 12 channels (docs/supersampling.md)",
                     "outputs": list(OUTPUTS), "output_format": "R8G8B8A8_SNORM" if rec.precision == "int8"
                     else "R32G32B32A32_SFLOAT"},
        "dm_scale": float(asset.dm_scale if rec.precision == "fp32" or asset.dm_scale_int8 is None
                          else asset.dm_scale_int8),
        "exposure": asset.exposure, "jitter": asset.jitter_table.astype(float).tolist(),
        "quantizer": {"weights": "int8 per-channel symmetric [-127, 127]",
                      "activations": "int8 per-tensor affine [-128, 127]",
                      "sigmoid_outputs": {"scale": 1.0 / 254.0, "zero_point": -127, "qmin": -127, "qmax": 127}}
        if rec.precision == "int8" else None,
    }
    if asset.int8 is not None and rec.precision == "int8":
        data["nss"]["input_quantization"] = asset.int8.input.to_json()
    atomic_write_bytes(side, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode())
    paths = [folder / f.path for f in rec.files]
    return dataclasses.replace(rec, files=describe_files(folder, paths))


def export_graphs(asset: SupersamplingAsset, bundle: str | Path, formats: Sequence[str], *,
                  precision: str | None = None, calibration: str | Path | None = None, opset: int = 17,
                  size: tuple[int, int] | None = None) -> list[GraphExport]:
    """ONNX (fp32, NCHW) and VGF (fp32 and int8, NHWC) of the network at the static input ``size`` ((height,
    width), multiples of 8; default the bundle's ``export_size``). int8 needs the bundle's QAT int8 network."""
    if calibration is not None:
        raise ValueError("super-sampling bundles carry their QAT quantization; --calibration does not apply")
    if size is not None:
        asset = dataclasses.replace(asset, export_size=tuple(size))
    bundle = Path(bundle)
    entries: list[GraphExport] = []
    for fmt in formats:
        if fmt not in ("onnx", "vgf"):
            raise ValueError(f"super-sampling bundles export onnx and vgf, not {fmt}")
        for prec in precisions(fmt, precision):
            if prec == "int8" and precision is None and asset.int8 is None:
                continue  # every precision asked for: a bundle trained without QAT has only fp32
            layout = "NCHW" if fmt == "onnx" else "NHWC"
            example = _example(asset, layout, prec)
            if prec == "int8":
                if asset.int8 is None:
                    raise ValueError(f"{asset.name}: the bundle has no int8 network (trained without QAT); "
                                     "export --precision fp32")
                try:
                    module = int8_module(asset.int8, example)
                except ValueError as e:
                    raise ValueError(f"{bundle}: {e}") from None
            else:
                module = FloatNet(asset.weights, layout == "NHWC").eval()
            recs = export_all(module, (example,), _io(asset, layout, prec == "int8"), [fmt], {fmt: [prec]}, bundle,
                              name=GRAPH, asset_id=asset.name, opset=opset)
            for rec in recs:
                if rec.format == "vgf":
                    rec = _nss_sidecar(asset, rec, bundle)
                entries.append(graph_export(rec, GRAPH))
    return entries

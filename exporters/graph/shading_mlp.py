"""Graph exports (ONNX, Core ML, VGF) of a shading MLP: the torch module and ``export_graphs``.

The module is built from the asset alone and evaluates the network in float32 with the contract's encoding
written in plain float elementwise ops (mul, add, sub, floor, abs, clamp, eq, where, stack): no integer
tensors, bit shifts, remainders or submodule calls, so torch.export, ONNX, Core ML and ExecuTorch's TOSA
lowering all take it. In float32 the encoding is exact (it gives runtime_ref's fp32 features bit for bit); a
graph runtime then differs from runtime_ref's fp32 path only by its own matmul arithmetic. The trainer
(ngsdk.shading.model) encodes with :func:`sin_cos_pi` from here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ngsdk.asset.shading_mlp import (
    COS_PI_COEFFS,
    MAX_ABS_INPUT,
    SIN_PI_COEFFS,
    TRI_FRAC_BITS,
    TRI_MAX_ABS,
    ShadingEncoding,
    ShadingMlpAsset,
    texel_centres,
)
from ngsdk.asset.types import GraphExport
from ngsdk.exporters.graph.api import export_all
from ngsdk.exporters.graph.bundle_exports import VGF_BATCH, graph_export, precisions
from ngsdk.exporters.graph.io import IODescription, TensorIO

SHADING_GRAPH = "shading_mlp"
SHADING_FEATURES_GRAPH = "shading_mlp_features"


def sin_cos_pi(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(sin(pi x), cos(pi x)) by the contract's float32 reduction and polynomials."""
    x = x.float().clamp(-MAX_ABS_INPUT, MAX_ABS_INPUT)
    y = x * 2.0
    q = torch.floor(y + 0.5)
    r = (y - q) * 0.5
    z = r * r
    s1, s3, s5, s7, s9 = SIN_PI_COEFFS
    t = torch.full_like(z, s9)
    for c in (s7, s5, s3, s1):
        t = t * z
        t = t + c
    sp = t * r
    c0, c2, c4, c6, c8, c10 = COS_PI_COEFFS
    t = torch.full_like(z, c10)
    for c in (c8, c6, c4, c2, c0):
        t = t * z
        t = t + c
    cp = t
    n = q - torch.floor(q * 0.25) * 4.0  # quadrant q mod 4, exact in float (no integer ops for graph export)
    sin = torch.where(n == 0, sp, torch.where(n == 1, cp, torch.where(n == 2, -sp, -cp)))
    cos = torch.where(n == 0, cp, torch.where(n == 1, -sp, torch.where(n == 2, -cp, sp)))
    return sin, cos


def _frac(x: torch.Tensor) -> torch.Tensor:
    return x - torch.floor(x)


def triangle_waves_float(x: torch.Tensor, count: int) -> list[torch.Tensor]:
    """The contract's triangle waves (ngsdk.runtime_ref.shading_mlp.triangle_waves) in float ops only.

    The contract's integer phase ``((X << j) + j 2^19) mod 2^21`` with ``X = floor(x 2^20)`` is
    ``frac(X 2^(j-21) + j/4)``. ``X`` is split as ``a 2^10 + b`` (``a = floor(x 2^10)``, ``b`` the
    next 10 bits) so no intermediate exceeds 2^20 (a float16 program stays finite for |x| < 64);
    every step is exact in float32: power-of-two scalings, floors, and sums whose exact result
    has at most 23 significant bits.
    """
    half = TRI_FRAC_BITS // 2
    xc = torch.clamp(x, -TRI_MAX_ABS, TRI_MAX_ABS)
    s = xc * float(1 << half)
    a = torch.floor(s)
    b = torch.floor((s - a) * float(1 << (TRI_FRAC_BITS - half)))
    waves = []
    for j in range(count):
        pa = _frac(a * 2.0 ** (j + half - TRI_FRAC_BITS - 1))
        pb = _frac(b * 2.0 ** (j - TRI_FRAC_BITS - 1))
        p = _frac((pa + pb) + 0.25 * (j % 4))
        waves.append(torch.abs(p - 0.5) * 4.0 - 1.0)
    return waves


def graph_encode(uv: torch.Tensor, encoding: ShadingEncoding) -> torch.Tensor:
    """Encoded features (N, F), float32, in the contract's order, from graph-exportable ops."""
    cols: list[torch.Tensor] = []
    for i in range(encoding.inputs):
        x = uv[:, i]
        if encoding.kind == "none":
            cols.append(x)
        elif encoding.kind == "frequency":
            s, c = sin_cos_pi(x)
            cols += [s, c]
            for _ in range(encoding.features_per_input // 2 - 1):
                s, c = (s * 2.0) * c, (c * 2.0) * c - 1.0
                cols += [s, c]
        elif encoding.kind == "triangle":
            cols += triangle_waves_float(x, encoding.features_per_input)
        else:
            raise ValueError(f"no graph encoding for {encoding.kind!r}")
    return torch.stack(cols, dim=1)


_HIDDEN: dict[str, Callable[[torch.Tensor, float], torch.Tensor]] = {
    "leaky_relu": F.leaky_relu, "relu": lambda h, _: F.relu(h), "swish": lambda h, _: F.silu(h),
    "tanh": lambda h, _: torch.tanh(h), "none": lambda h, _: h,
}


class _Layers(nn.Module):
    """The asset's dense layers in float32. Named ``linears`` as in the trainer's module: the exported graphs'
    initializer names (``net.mlp.linears.0.weight``) stay what they have always been."""

    def __init__(self, asset: ShadingMlpAsset):
        super().__init__()
        layers = asset.decoder.layers
        self.linears = nn.ModuleList(nn.Linear(ly.inputs, ly.outputs) for ly in layers)
        with torch.no_grad():
            for lin, ly in zip(self.linears, layers, strict=True):
                lin.weight.copy_(torch.from_numpy(ly.weight))
                lin.bias.copy_(torch.from_numpy(ly.bias))
        self.activation = layers[0].activation if len(layers) > 1 else "none"
        self.slope = float(asset.decoder.leaky_slope)


class _Network(nn.Module):
    """Encoded features (N, F) -> RGB: the dense layers only (for engines that encode in a shader)."""

    def __init__(self, mlp: _Layers):
        super().__init__()
        self.mlp = mlp

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        h = features
        last = len(self.mlp.linears) - 1
        for i, lin in enumerate(self.mlp.linears):
            h = lin(h)
            h = torch.sigmoid(h) if i == last else _HIDDEN[self.mlp.activation](h, self.mlp.slope)
        return h


class _WithEncoding(nn.Module):
    # Core ML fp16: keep the encoding in float32 (the contract's), the dense layers in fp16; an fp16 UV
    # (ulp 2^-11 near 1) would put errors of 2^-11 * pi * 2^k into the high-frequency features.
    fp32_input_stage = True

    def __init__(self, mlp: _Layers, encoding: ShadingEncoding):
        super().__init__()
        self.net = _Network(mlp)
        self.encoding = encoding

    def forward(self, uv: torch.Tensor) -> torch.Tensor:
        return self.net(graph_encode(uv, self.encoding))


def graph_module(
    asset: ShadingMlpAsset, *, include_encoding: bool = True, batch: int = 4096
) -> tuple[nn.Module, torch.Tensor, dict[str, Any]]:
    """(module in eval mode, example input, IO description) for graph exporters.

    ``include_encoding``: the graph takes ``uv`` (N, 2); otherwise it takes the encoded
    ``features`` (N, F) and the engine computes the encoding (docs/shading.md). The example input
    holds ``batch`` texel-centre UVs of the asset's image, evenly spread over all of it (or their
    encoding); it also fixes a VGF's static batch.
    """
    mlp = _Layers(asset).eval()
    centres = texel_centres(asset.width, asset.height)
    idx = np.linspace(0, len(centres) - 1, batch).round().astype(np.int64)
    uv = torch.from_numpy(np.ascontiguousarray(centres[idx]))
    if include_encoding:
        module: nn.Module = _WithEncoding(mlp, asset.encoding).eval()
        example = uv
        inp = {
            "name": "uv",
            "shape": ["N", asset.encoding.inputs],
            "dtype": "float32",
            "meaning": "texture coordinate; texel centres are ((x + 0.5) / W, (y + 0.5) / H)",
        }
    else:
        module = _Network(mlp).eval()
        example = graph_encode(uv, asset.encoding)
        inp = {
            "name": "features",
            "shape": ["N", asset.encoding.features],
            "dtype": "float32",
            "meaning": "encoded UV",
            "order": asset.encoding.feature_names(),
        }
    io = {
        "inputs": [inp],
        "outputs": [
            {
                "name": "rgb",
                "shape": ["N", asset.decoder.outputs],
                "dtype": "float32",
                "range": [0.0, 1.0],
                "channels": list(asset.channels),
                "colour_space": asset.colour_space,
            }
        ],
        "dynamic_axes": {inp["name"]: {0: "N"}, "rgb": {0: "N"}},
        "reference": "ngsdk.runtime_ref.shading_mlp.evaluate(asset, uv, 'fp32')",
    }
    return module, example, io


# --------------------------------------------------------------------------- bundle exports


def _shading_io(asset: ShadingMlpAsset, spec: dict[str, Any]) -> IODescription:
    out = spec["outputs"][0]
    inp = spec["inputs"][0]
    if inp["name"] == "uv":
        tin = TensorIO("uv", ("batch", asset.encoding.inputs), layout="NC", value_range=(0.0, 1.0),
                       semantics="texture coordinate; texel centres are ((x + 0.5) / W, (y + 0.5) / H)")
    else:
        tin = TensorIO("features", ("batch", asset.encoding.features), layout="NC", value_range=(-1.0, 1.0),
                       semantics=f"the decode contract's float32 {asset.encoding.kind} encoding of the UV "
                                 "(docs/shading.md), computed by the engine",
                       channels=tuple(inp["order"]))
    return IODescription(
        inputs=(tin,),
        outputs=(TensorIO("rgb", ("batch", len(out["channels"])), layout="NC", value_range=(0.0, 1.0),
                          color_space=out["colour_space"], semantics="network output",
                          channels=tuple(out["channels"])),),
    )


def export_graphs(
    asset: ShadingMlpAsset,
    bundle: str | Path,
    formats: Sequence[str],
    *,
    precision: str | None = None,
    calibration: str | Path | None = None,
    opset: int = 17,
) -> list[GraphExport]:
    """Graph exports of a shading MLP bundle.

    ONNX, Core ML and fp32 VGF: ``shading_mlp``, ``uv`` (N, 2) -> ``rgb`` (N, 3) with the encoding inside
    (float32 also in fp16 Core ML programs). int8 VGF: ``shading_mlp_features``, encoded ``features`` (N, F)
    -> ``rgb``; the engine computes the encoding in float32 and quantizes it with the sidecar's parameters:
    an int8 UV input (scale 1/255) could address only 256 positions per axis, fewer than the image's texels.
    PTQ calibrates on the encoding of 4 x 4096 seeded random UVs.
    """
    import torch

    from ngsdk.exporters.graph.shading_mlp import graph_encode, graph_module

    if calibration is not None:
        raise ValueError("shading MLPs calibrate on their own UV grid; --calibration is for textures")
    entries: list[GraphExport] = []
    for fmt in formats:
        precs = precisions(fmt, precision)
        float_precs = [p for p in precs if p != "int8"]
        if float_precs:
            module, example, spec = graph_module(asset, include_encoding=True, batch=VGF_BATCH)
            recs = export_all(module, (example,), _shading_io(asset, spec), [fmt], {fmt: float_precs}, bundle,
                              name=SHADING_GRAPH, asset_id=asset.name, opset=opset)
            entries += [graph_export(r, SHADING_GRAPH) for r in recs]
        if "int8" in precs:
            module, example, spec = graph_module(asset, include_encoding=False, batch=VGF_BATCH)
            g = torch.Generator().manual_seed(1)
            calib = [(graph_encode(torch.rand(VGF_BATCH, asset.encoding.inputs, generator=g), asset.encoding),)
                     for _ in range(4)]
            recs = export_all(module, (example,), _shading_io(asset, spec), [fmt], {fmt: ["int8"]}, bundle,
                              calibration=calib, name=SHADING_FEATURES_GRAPH, asset_id=asset.name, opset=opset)
            entries += [graph_export(r, SHADING_FEATURES_GRAPH) for r in recs]
    return entries

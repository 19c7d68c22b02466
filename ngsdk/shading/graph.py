"""The torch module handed to graph exporters (ONNX, Core ML, VGF) for a shading MLP.

The module evaluates the asset's network in float32 with the contract's encoding written in plain
float elementwise ops (mul, add, sub, floor, abs, clamp, eq, where, stack): no integer tensors,
bit shifts, remainders or submodule calls, so torch.export, ONNX, Core ML and ExecuTorch's TOSA
lowering all take it. In float32 the encoding is exact (it gives runtime_ref's fp32 features bit for
bit); a graph runtime then differs from runtime_ref's fp32 path only by its own matmul arithmetic.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from ngsdk.asset.shading import TRI_FRAC_BITS, TRI_MAX_ABS, ShadingEncoding, ShadingMlpAsset
from ngsdk.shading.model import ShadingMLP, sin_cos_pi


def _frac(x: torch.Tensor) -> torch.Tensor:
    return x - torch.floor(x)


def triangle_waves_float(x: torch.Tensor, count: int) -> list[torch.Tensor]:
    """The contract's triangle waves (runtime_ref.shading.triangle_waves) in float ops only.

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


class _Network(nn.Module):
    """Encoded features (N, F) -> RGB: the dense layers only (for engines that encode in a shader)."""

    def __init__(self, mlp: ShadingMLP):
        super().__init__()
        self.mlp = mlp

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        h = features
        last = len(self.mlp.linears) - 1
        for i, lin in enumerate(self.mlp.linears):
            h = lin(h)
            h = torch.sigmoid(h) if i == last else self.mlp._act(h)
        return h


class _WithEncoding(nn.Module):
    # Core ML fp16: keep the encoding in float32 (the contract's), the dense layers in fp16; an fp16 UV
    # (ulp 2^-11 near 1) would put errors of 2^-11 * pi * 2^k into the high-frequency features.
    fp32_input_stage = True

    def __init__(self, mlp: ShadingMLP):
        super().__init__()
        self.net = _Network(mlp)
        self.encoding = mlp.encoding

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
    from runtime_ref.shading import texel_centres

    mlp = ShadingMLP.from_decoder(asset.decoder, asset.encoding, numerics="fp32").eval()
    centres = texel_centres(asset.width, asset.height)
    idx = np.linspace(0, len(centres) - 1, batch).round().astype(np.int64)
    uv = torch.from_numpy(np.ascontiguousarray(centres[idx]))
    if include_encoding:
        module: nn.Module = _WithEncoding(mlp).eval()
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
        "reference": "runtime_ref.shading.evaluate(asset, uv, 'fp32')",
    }
    return module, example, io

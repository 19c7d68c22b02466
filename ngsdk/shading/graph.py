"""The torch module handed to graph exporters (ONNX, Core ML, VGF) for a shading MLP.

The module evaluates the asset's network in float32 with the contract's encoding built from
elementwise ops (mul, add, floor, where), so a graph runtime computes the same function as
runtime_ref's fp32 path up to its own operator arithmetic (matmul summation order, fused ops).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ngsdk.asset.shading import ShadingMlpAsset
from ngsdk.shading.model import ShadingMLP, encode


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
    def __init__(self, mlp: ShadingMLP):
        super().__init__()
        self.net = _Network(mlp)
        self.encoding = mlp.encoding

    def forward(self, uv: torch.Tensor) -> torch.Tensor:
        return self.net(encode(uv, self.encoding, fp16=False))


def graph_module(
    asset: ShadingMlpAsset, *, include_encoding: bool = True, batch: int = 4096
) -> tuple[nn.Module, torch.Tensor, dict[str, Any]]:
    """(module in eval mode, example input, IO description) for graph exporters.

    ``include_encoding``: the graph takes ``uv`` (N, 2); otherwise it takes the encoded
    ``features`` (N, F) and the engine computes the encoding (docs/shading.md). The example input
    holds texel-centre UVs of the asset's image (or their encoding).
    """
    from runtime_ref.shading import texel_centres

    mlp = ShadingMLP.from_decoder(asset.decoder, asset.encoding, numerics="fp32").eval()
    uv = torch.from_numpy(texel_centres(asset.width, asset.height)[:batch].copy())
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
        example = encode(uv, asset.encoding, fp16=False)
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

"""The torch shading MLP: contract encoding (frequency / triangle) + dense layers + sigmoid.

The encodings use the contract's float32 arithmetic (ngsdk.asset.shading_mlp constants, the same op
order as ngsdk.runtime_ref.shading_mlp), so on the CPU the encoded inputs are bit-identical to the
reference. fp16 behaviour is either native (half tensors, CUDA) or emulated (float32 values
rounded to fp16 after every stored tensor, with fp16-rounded gradients), see :class:`ShadingMLP`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ngsdk.asset.shading_mlp import (
    TRI_FRAC_BITS,
    TRI_MAX_ABS,
    ShadingEncoding,
    build_decoder,
)
from ngsdk.asset.types import Decoder
from ngsdk.exporters.graph.shading_mlp import sin_cos_pi

ACTIVATIONS = ("leaky_relu", "relu", "swish", "tanh")


class _RoundF16(torch.autograd.Function):
    """Round to fp16 and back (float32 storage of fp16 values); the gradient is rounded too."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return x.half().float()

    @staticmethod
    def backward(ctx, g: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return g.half().float()


def round_f16(x: torch.Tensor) -> torch.Tensor:
    """Straight-through fp16 storage rounding of a float32 tensor (emulates fp16 on the CPU)."""
    return _RoundF16.apply(x)


def encode(uv: torch.Tensor, encoding: ShadingEncoding, fp16: bool) -> torch.Tensor:
    """Encoded inputs (N, features) as float32, fp16-rounded when ``fp16`` (the contract's order)."""
    rnd = (lambda a: a.half().float()) if fp16 else (lambda a: a)
    uv = uv.float()
    cols: list[torch.Tensor] = []
    for i in range(encoding.inputs):
        x = uv[:, i]
        if encoding.kind == "none":
            cols.append(rnd(x))
        elif encoding.kind == "frequency":
            s, c = sin_cos_pi(x)
            s, c = rnd(s), rnd(c)
            cols += [s, c]
            for _ in range(encoding.features_per_input // 2 - 1):
                s, c = rnd(rnd(s * 2.0) * c), rnd(rnd(rnd(c * 2.0) * c) - 1.0)
                cols += [s, c]
        else:
            xq = torch.floor(x.clamp(-TRI_MAX_ABS, TRI_MAX_ABS) * 2.0**TRI_FRAC_BITS).to(torch.int64)
            one = 1 << TRI_FRAC_BITS
            for j in range(encoding.features_per_input):
                p = torch.remainder(xq * (1 << j) + (j << (TRI_FRAC_BITS - 1)), 2 * one)
                d = (p - one).abs() - (one >> 1)
                cols.append(rnd(d.to(torch.float32) * 2.0 ** -(TRI_FRAC_BITS - 1)))
    return torch.stack(cols, dim=1)


def _act(name: str, slope: float):
    if name == "leaky_relu":
        return lambda h: F.leaky_relu(h, slope)
    if name == "relu":
        return F.relu
    if name == "swish":
        return F.silu
    if name == "tanh":
        return torch.tanh
    if name == "sigmoid":
        return torch.sigmoid
    if name == "none":
        return lambda h: h
    raise ValueError(f"unknown activation {name!r}: use one of {', '.join(ACTIVATIONS)}")


class ShadingMLP(nn.Module):
    """``uv (N, 2) -> encoding -> [Linear -> act] x layers -> Linear -> sigmoid -> rgb (N, 3)``.

    Parameters are float32 (the optimizer's master weights). ``numerics``:
    ``fp32`` plain float32; ``fp16`` half weights and activations (use on CUDA; gradients are
    half, so train with a loss scale); ``fp16_emulated`` float32 arithmetic with every weight,
    activation and gradient rounded to fp16 where the native path stores one (use on the CPU).
    """

    def __init__(
        self,
        encoding: ShadingEncoding | None = None,
        hidden: int = 64,
        layers: int = 4,
        activation: str = "leaky_relu",
        outputs: int = 3,
        leaky_slope: float = 0.01,
        numerics: str = "fp32",
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}: use one of {', '.join(ACTIVATIONS)}")
        if numerics not in ("fp32", "fp16", "fp16_emulated"):
            raise ValueError(f"unknown numerics {numerics!r}")
        if layers < 1 or hidden < 1:
            raise ValueError("need at least one hidden layer of at least one neuron")
        self.encoding = encoding or ShadingEncoding()
        self.hidden, self.n_layers, self.activation = hidden, layers, activation
        self.leaky_slope, self.numerics = leaky_slope, numerics
        sizes = [self.encoding.features] + [hidden] * layers + [outputs]
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:], strict=False))
        self.reset_parameters(generator)
        self._act = _act(activation, leaky_slope)

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """The seed's initialisation: weights U(-1, 1) * sqrt(6 / (in + out)), biases U(-1, 1) *
        sqrt(6 / out), drawn in layer order from ``generator``."""
        for lin in self.linears:
            n_out, n_in = lin.weight.shape
            w = torch.rand(lin.weight.shape, generator=generator) * 2 - 1
            b = torch.rand(lin.bias.shape, generator=generator) * 2 - 1
            lin.weight.copy_(w * math.sqrt(6.0 / (n_in + n_out)))
            lin.bias.copy_(b * math.sqrt(6.0 / n_out))

    def forward(self, uv: torch.Tensor) -> torch.Tensor:
        if self.numerics == "fp16":
            return self._forward_half(uv)
        emulate = self.numerics == "fp16_emulated"
        rnd = round_f16 if emulate else (lambda a: a)
        h = encode(uv, self.encoding, fp16=emulate)
        last = len(self.linears) - 1
        for i, lin in enumerate(self.linears):
            h = rnd(F.linear(h, rnd(lin.weight), rnd(lin.bias)))
            h = rnd(torch.sigmoid(h) if i == last else self._act(h))
        return h

    def _forward_half(self, uv: torch.Tensor) -> torch.Tensor:
        h = encode(uv, self.encoding, fp16=True).half()
        last = len(self.linears) - 1
        for i, lin in enumerate(self.linears):
            h = F.linear(h, lin.weight.half(), lin.bias.half())
            h = torch.sigmoid(h) if i == last else self._act(h)
        return h.float()

    def to_decoder(self) -> Decoder:
        """The asset's decoder (float32 master weights, layer activations, slope)."""
        ws = [lin.weight.detach().float().cpu().numpy().copy() for lin in self.linears]
        bs = [lin.bias.detach().float().cpu().numpy().copy() for lin in self.linears]
        return build_decoder(ws, bs, self.activation, "sigmoid", self.leaky_slope)

    @classmethod
    def from_decoder(cls, decoder: Decoder, encoding: ShadingEncoding, numerics: str = "fp32") -> ShadingMLP:
        """Rebuild the torch module from an asset's decoder (e.g. for graph exports)."""
        layers = decoder.layers
        hidden_act = layers[0].activation if len(layers) > 1 else "leaky_relu"
        m = cls(
            encoding,
            hidden=layers[0].outputs,
            layers=len(layers) - 1,
            activation=hidden_act,
            outputs=layers[-1].outputs,
            leaky_slope=decoder.leaky_slope,
            numerics=numerics,
        )
        with torch.no_grad():
            for lin, layer in zip(m.linears, layers, strict=False):
                lin.weight.copy_(torch.from_numpy(layer.weight))
                lin.bias.copy_(torch.from_numpy(layer.bias))
        return m

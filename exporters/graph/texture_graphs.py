"""The neural texture decoder as torch graphs, for ONNX, Core ML and VGF export.

Two graphs stand for a bundle:
- ``nt_decoder``: per sample, ``inputs`` (N, K) = sampled latents + encoding -> ``channels`` (N, C);
- ``nt_mip{m}``: a whole mip, the dequantized latent textures of its grid levels as NCHW tensors ->
  ``channels`` (1, C, H, W). Bilinear fetches with the bundle's address mode are constant
  interpolation matrices (``A_y @ L @ A_x``), the MLP is 1x1 convs, and the encoding's share of the first
  layer is a constant row plus a constant column (the encoding is separable in x and y).
Both use the float decoder weights; they reproduce runtime_ref's float decode within float32 rounding.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ngsdk.asset.types import NeuralTextureAsset

# The constants below are computed here in float64 from the spec (docs/decode-spec.md), independently of
# runtime_ref: verify compares the exported graphs with runtime_ref's decode.


def texel_centres(n: int) -> np.ndarray:
    return (np.arange(n, dtype=np.float64) + 0.5) / n


def triangle(c: np.ndarray, frequency: float, phase: float, level: int) -> np.ndarray:
    t = c * (frequency / (1 << level)) + phase
    return np.abs((t - np.floor(t)) * 2.0 - 1.0)


def encoding_columns(c: np.ndarray, asset: NeuralTextureAsset, level: int) -> np.ndarray:
    """(n, F*P) triangle terms of one axis, in the decoder's frequency-major, phase order."""
    enc = asset.encoding
    return np.stack([triangle(c, f, p, level) for f in enc.frequencies for p in enc.phases], axis=1)

_ACT = {
    "relu": lambda slope: nn.ReLU(),
    "leaky_relu": lambda slope: nn.LeakyReLU(slope),
    "sigmoid": lambda slope: nn.Sigmoid(),
    "tanh": lambda slope: nn.Tanh(),
    "swish": lambda slope: nn.SiLU(),
    "none": lambda slope: nn.Identity(),
}


class _Clamp01(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.clamp(x, 0.0, 1.0)


def _activation(kind: str, slope: float) -> nn.Module:
    return _Clamp01() if kind == "clamp01" else _ACT[kind](slope)


def decoder_module(asset: NeuralTextureAsset) -> nn.Sequential:
    """The decoder MLP as Linear layers + activations (float weights of the bundle)."""
    mods: list[nn.Module] = []
    for layer in asset.decoder.layers:
        lin = nn.Linear(layer.inputs, layer.outputs)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(layer.weight))
            lin.bias.copy_(torch.from_numpy(layer.bias))
        mods += [lin, _activation(layer.activation, asset.decoder.leaky_slope)]
    return nn.Sequential(*mods).eval()


def _taps(c: np.ndarray, size: int, address: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = c * size - 0.5
    x0 = np.floor(x)
    w = x - x0
    i0 = x0.astype(np.int64)
    i1 = i0 + 1
    if address == "wrap":
        return i0 % size, i1 % size, w
    return np.clip(i0, 0, size - 1), np.clip(i1, 0, size - 1), w


def interpolation_matrix(out_size: int, grid_size: int, address: str) -> np.ndarray:
    """(out_size, grid_size) bilinear weights of the texel centres of an ``out_size`` axis."""
    i0, i1, w = _taps(texel_centres(out_size), grid_size, address)
    a = np.zeros((out_size, grid_size), np.float64)
    rows = np.arange(out_size)
    np.add.at(a, (rows, i0), 1.0 - w)
    np.add.at(a, (rows, i1), w)
    return a.astype(np.float32)


class MipDecoder(nn.Module):
    """Decode one whole mip from its latent textures (dequantized, NCHW)."""

    def __init__(self, asset: NeuralTextureAsset, mip: int):
        super().__init__()
        w, h = asset.mip_size(mip)
        levels = asset.grid_levels[mip]
        addr = asset.sampler.address
        for g, (grid, lv) in enumerate(zip(asset.grids, levels, strict=True)):
            gh, gw = grid.levels[lv].shape[:2]
            self.register_buffer(f"ay{g}", torch.from_numpy(interpolation_matrix(h, gh, addr)))
            self.register_buffer(f"axt{g}", torch.from_numpy(np.ascontiguousarray(interpolation_matrix(w, gw, addr).T)))
        if not 1 <= len(asset.grids) <= 4:
            raise ValueError(f"whole-mip graphs support 1 to 4 grids, the asset has {len(asset.grids)}")
        self.grids = len(asset.grids)
        n_lat = sum(grid.features for grid in asset.grids)
        layers = asset.decoder.layers
        w0 = layers[0].weight.astype(np.float64)
        self.has_enc = asset.encoding.kind != "none"
        if self.has_enc:
            eu = encoding_columns(texel_centres(w), asset, levels[0])  # (W, T), float64
            ev = encoding_columns(texel_centres(h), asset, levels[0])  # (H, T)
            if w0.shape[1] != n_lat + 2 * eu.shape[1]:
                raise ValueError(f"decoder takes {w0.shape[1]} inputs, latents and encoding give "
                                 f"{n_lat} + {2 * eu.shape[1]}")
            # The encoding is separable (u terms vary along x only, v terms along y only; interleaved u, v
            # columns of the first layer), so its share of the first layer is a row plus a column:
            # (O, 1, W) + (O, H, 1). As (2T, H, W) planes it would be folded into a constant of
            # 2T x H x W floats by coremltools (32 MB for 8 terms at 1024x1024).
            enc_x = (eu @ w0[:, n_lat::2].T).T[:, None, :]
            enc_y = (ev @ w0[:, n_lat + 1 :: 2].T).T[:, :, None]
            self.register_buffer("enc_x", torch.from_numpy(np.ascontiguousarray(enc_x, dtype=np.float32)))
            self.register_buffer("enc_y", torch.from_numpy(np.ascontiguousarray(enc_y, dtype=np.float32)))
        elif w0.shape[1] != n_lat:
            raise ValueError(f"decoder takes {w0.shape[1]} inputs, the latents give {n_lat}")
        self.size = (h, w)
        convs: list[nn.Module] = []
        for i, layer in enumerate(layers):
            weight = layer.weight[:, :n_lat] if i == 0 else layer.weight
            conv = nn.Conv2d(weight.shape[1], layer.outputs, 1)
            with torch.no_grad():
                conv.weight.copy_(torch.from_numpy(np.ascontiguousarray(weight))[:, :, None, None])
                conv.bias.copy_(torch.from_numpy(layer.bias))
            convs += [conv, _activation(layer.activation, asset.decoder.leaky_slope)]
        self.first = convs[0]
        self.mlp = nn.Sequential(*convs[1:])

    def forward(self, latent0: torch.Tensor, latent1: torch.Tensor | None = None,
                latent2: torch.Tensor | None = None, latent3: torch.Tensor | None = None) -> torch.Tensor:
        # explicit parameters (not *args): exporters match one named input per grid
        latents = [t for t in (latent0, latent1, latent2, latent3) if t is not None]
        parts = []
        for g, lat in enumerate(latents):
            parts.append(torch.matmul(torch.matmul(getattr(self, f"ay{g}"), lat), getattr(self, f"axt{g}")))
        y = self.first(torch.cat(parts, dim=1) if len(parts) > 1 else parts[0])
        if self.has_enc:
            y = y + self.enc_x + self.enc_y
        return self.mlp(y)


def dequantized(asset: NeuralTextureAsset, grid_index: int, level: int) -> np.ndarray:
    grid = asset.grids[grid_index]
    return grid.levels[level].astype(np.float32) * np.float32(grid.scale) + np.float32(grid.offset)


def latent_tensors(asset: NeuralTextureAsset, mip: int) -> list[np.ndarray]:
    """The dequantized latent textures that mip ``mip`` reads, each (1, F, h, w) float32."""
    return [np.ascontiguousarray(dequantized(asset, g, lv).transpose(2, 0, 1)[None])
            for g, lv in enumerate(asset.grid_levels[mip])]


def sample_decoder_inputs(asset: NeuralTextureAsset, n: int, seed: int = 0, mip: int | None = 0) -> np.ndarray:
    """Decoder inputs (sampled latents + encoding) at ``n`` random texel centres of ``mip`` (or of all mips)."""
    rng = np.random.default_rng(seed)
    mips = [mip] if mip is not None else list(range(asset.mip_levels))
    rows = []
    for m in mips:
        k = n if mip is not None else max(1, -(-n // len(mips)))
        w, h = asset.mip_size(m)
        ix, iy = rng.integers(0, w, k), rng.integers(0, h, k)
        cols = []
        for g, lv in enumerate(asset.grid_levels[m]):
            vals = dequantized(asset, g, lv).astype(np.float64)
            gh, gw = vals.shape[:2]
            x0, x1, wx = _taps(texel_centres(w)[ix], gw, asset.sampler.address)
            y0, y1, wy = _taps(texel_centres(h)[iy], gh, asset.sampler.address)
            wx, wy = wx[:, None], wy[:, None]
            top = vals[y0, x0] * (1 - wx) + vals[y0, x1] * wx
            bot = vals[y1, x0] * (1 - wx) + vals[y1, x1] * wx
            cols.append(top * (1 - wy) + bot * wy)
        if asset.encoding.kind != "none":
            eu = encoding_columns(texel_centres(w)[ix], asset, asset.grid_levels[m][0])
            ev = encoding_columns(texel_centres(h)[iy], asset, asset.grid_levels[m][0])
            cols.append(np.stack((eu, ev), axis=2).reshape(k, -1))
        rows.append(np.concatenate(cols, axis=1))
    return np.ascontiguousarray(np.concatenate(rows)[:n], dtype=np.float32)

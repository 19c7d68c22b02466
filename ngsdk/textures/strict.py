"""The trainer's evaluation forward in the ``float`` decode arithmetic (torch, strict fp32).

Operation for operation the same as runtime_ref.neural_texture (an independent implementation
of docs/decode-spec.md): one rounding per op, no fused multiply-add, k-ascending accumulation.
The hashes it records in the provenance are what ``ngsdk verify`` reproduces with NumPy.
"""

from __future__ import annotations

import torch

from ngsdk.asset.types import NeuralTextureAsset

F32 = torch.float32


def _c(x: float) -> torch.Tensor:
    return torch.tensor(x, dtype=F32)


def _taps(coord: torch.Tensor, size: int, address: str):
    x = coord * _c(float(size)) - _c(0.5)
    x0 = torch.floor(x)
    w = x - x0
    i0 = x0.long()
    i1 = i0 + 1
    if address == "wrap":
        i0, i1 = i0 % size, i1 % size
    else:
        i0, i1 = i0.clamp(0, size - 1), i1.clamp(0, size - 1)
    return i0, i1, w


def _lerp(a: torch.Tensor, b: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    d = b - a
    p = w * d
    return a + p


def _sample(values: torch.Tensor, u: torch.Tensor, v: torch.Tensor, address: str) -> torch.Tensor:
    h, w, _ = values.shape
    x0, x1, wx = _taps(u, w, address)
    y0, y1, wy = _taps(v, h, address)
    wx = wx[:, None]
    top = _lerp(values[y0, x0], values[y0, x1], wx)
    bot = _lerp(values[y1, x0], values[y1, x1], wx)
    return _lerp(top, bot, wy[:, None])


def _encode(u, v, freqs, phases, level):
    cols = []
    for f in freqs:
        fs = _c(f / (1 << level))
        for p in phases:
            for c in (u, v):
                t = c * fs + _c(p)
                cols.append(torch.abs((t - torch.floor(t)) * _c(2.0) - _c(1.0)))
    return torch.stack(cols, dim=1)


def _act(x: torch.Tensor, kind: str, slope: float) -> torch.Tensor:
    zero = _c(0.0)
    if kind == "none":
        return x
    if kind == "relu":
        return torch.where(x > zero, x, zero)
    if kind == "leaky_relu":
        return torch.where(x > zero, x, x * _c(slope))
    if kind == "clamp01":
        one = _c(1.0)
        return torch.where(x > zero, torch.where(x < one, x, one), zero)
    raise ValueError(kind)


def _dense(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    acc = bias.expand(x.shape[0], -1).clone()
    wt = weight.t().contiguous()
    for k in range(wt.shape[0]):
        prod = x[:, k : k + 1] * wt[k]
        acc = acc + prod
    return acc


@torch.no_grad()
def strict_decode_mip(asset: NeuralTextureAsset, mip: int, rows_per_chunk: int | None = None) -> torch.Tensor:
    """Decode texture mip ``mip`` of ``asset`` at texel centres -> (H, W, C) float32 (CPU)."""
    w, h = asset.mip_size(mip)
    u_line = (torch.arange(w, dtype=F32) + _c(0.5)) / _c(float(w))
    v_line = (torch.arange(h, dtype=F32) + _c(0.5)) / _c(float(h))
    levels = asset.grid_levels[mip]
    values = [
        torch.from_numpy(g.levels[lv]).to(F32) * _c(g.scale) + _c(g.offset)
        for g, lv in zip(asset.grids, levels)
    ]
    layers = [(torch.from_numpy(l.weight), torch.from_numpy(l.bias), l.activation) for l in asset.decoder.layers]
    enc = asset.encoding
    rows_per_chunk = rows_per_chunk or max(1, 4096 // w)
    out = torch.empty((h, w, asset.decoder.outputs), dtype=F32)
    for r0 in range(0, h, rows_per_chunk):
        r1 = min(h, r0 + rows_per_chunk)
        u = u_line.repeat(r1 - r0)
        v = v_line[r0:r1].repeat_interleave(w)
        parts = [_sample(val, u, v, asset.sampler.address) for val in values]
        if enc.kind != "none":
            parts.append(_encode(u, v, enc.frequencies, enc.phases, levels[0]))
        x = torch.cat(parts, dim=1)
        for wgt, b, act in layers:
            x = _act(_dense(x, wgt, b), act, asset.decoder.leaky_slope)
        out[r0:r1] = x.reshape(r1 - r0, w, -1)
    return out

"""The trainer's evaluation forward in the asset's decode arithmetic (torch), an independent
implementation of docs/decode-spec.md beside runtime_ref's NumPy one.

``float``: strict fp32, one rounding per op, no fused multiply-add, k-ascending accumulation
(ngsdk.runtime_ref.neural_texture). ``exact`` and ``hardware``: the integer decoder in int64 tensors
(ngsdk.runtime_ref.neural_texture_exact / _hw; the hardware mode's latents through the d3d11 sampler
arithmetic, the mode's reference profile). The hashes it records in the provenance are what
``ngsdk verify`` reproduces with NumPy.
"""

from __future__ import annotations

import torch

from ngsdk.asset.neural_texture import NeuralTextureAsset

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


I64 = torch.int64


def _int_mip_positions(n_out: int, n_grid: int) -> torch.Tensor:
    i = torch.arange(n_out, dtype=I64)
    q = (2 * i + 1) * n_grid
    return torch.div(q, n_out, rounding_mode="floor") * 128 + torch.div((q % n_out) * 128, n_out,
                                                                       rounding_mode="floor") - 128


def _int_wrap(i: torch.Tensor, n: int, address: str) -> torch.Tensor:
    return torch.remainder(i, n) if address == "wrap" else i.clamp(0, n - 1)


def _int_bilinear(codes: torch.Tensor, x0, x1, y0, y1, wx, wy) -> torch.Tensor:
    wx, wy = wx[:, None], wy[:, None]
    top = codes[y0, x0] * (256 - wx) + codes[y0, x1] * wx
    bot = codes[y1, x0] * (256 - wx) + codes[y1, x1] * wx
    return top * (256 - wy) + bot * wy


def _int_encoding(eu: torch.Tensor, ev: torch.Tensor, periods, phases) -> list[torch.Tensor]:
    cols = []
    for s, p in zip(periods, phases):
        shift = 8 + int(s)
        period = 1 << shift
        for e in (eu, ev):
            t = torch.bitwise_and(e + int(p), period - 1)
            cols.append(torch.bitwise_right_shift(torch.abs(2 * t - period) * 127 + (period >> 1), shift))
    return cols


def _int_mlp(asset: NeuralTextureAsset, x: torch.Tensor) -> torch.Tensor:
    dev = x.device
    for layer in asset.decoder.quantized.layers:
        # |products| < 2^15 and fewer than 2^16 of them: a float64 matmul sums these integers exactly in
        # any order (all partial sums < 2^53), so BLAS (or cuBLAS) gives the int32 accumulator bit for bit
        w = torch.from_numpy(layer.weight.astype("float64")).to(dev)
        acc = torch.matmul(x.to(torch.float64), w.t()).to(I64) + torch.from_numpy(layer.bias.astype("int64")).to(dev)
        mult = torch.from_numpy(layer.multiplier.astype("int64")).to(dev)
        shift = torch.from_numpy(layer.shift.astype("int64")).to(dev)
        x = torch.bitwise_right_shift(acc * mult + torch.bitwise_left_shift(torch.ones_like(shift), shift - 1),
                                      shift).clamp(0, 255)
    return x.to(torch.uint8)


def _hw_latents(codes: torch.Tensor, u: torch.Tensor, v: torch.Tensor, address: str) -> torch.Tensor:
    """d3d11 profile bilinear of 8-bit codes (h, w, F) at float32 (u, v), mapped to integer inputs."""
    h, w, _ = codes.shape
    fx = torch.round(u * _c(float(w)) * _c(256.0)).to(I64) - 128
    fy = torch.round(v * _c(float(h)) * _c(256.0)).to(I64) - 128
    x0, x1 = _int_wrap(fx >> 8, w, address), _int_wrap((fx >> 8) + 1, w, address)
    y0, y1 = _int_wrap(fy >> 8, h, address), _int_wrap((fy >> 8) + 1, h, address)
    a, b = (fx & 255)[:, None], (fy & 255)[:, None]
    total = (codes[y0, x0] * ((256 - a) * (256 - b)) + codes[y0, x1] * (a * (256 - b))
             + codes[y1, x0] * ((256 - a) * b) + codes[y1, x1] * (a * b))
    r = total.to(F32) / _c(255.0 * 65536.0)               # exact numerator (< 2^24), one rounding
    t = torch.floor(r * _c(508.0)).to(I64)
    return (torch.bitwise_right_shift(t + 1, 1) - 127).clamp(-127, 127)


def _hw_coordinates(n: int) -> torch.Tensor:
    return torch.arange(1, 2 * n, 2, dtype=I64).to(F32) * (_c(0.5) / _c(float(n)))


@torch.no_grad()
def strict_decode_mip_int(asset: NeuralTextureAsset, mip: int, rows_per_chunk: int | None = None,
                          device: torch.device | str = "cpu") -> torch.Tensor:
    """Integer decode (exact or hardware mode) of texture mip ``mip`` -> (H, W, C) uint8 on the CPU.

    Every step is integer arithmetic (or float64 sums of small integers), so any ``device`` gives the
    same bytes; a CUDA device only makes it faster."""
    q = asset.decoder.quantized
    w, h = asset.mip_size(mip)
    taps = asset.taps[mip]
    address = asset.sampler.address
    dev = torch.device(device)
    codes = [torch.from_numpy(asset.grids[g].levels[lv].astype("int64")).to(dev) for g, lv in taps]
    bits = [asset.grids[g].bits for g, _ in taps]
    hardware = asset.decode_mode == "hardware"
    if hardware:
        u_line, v_line = _hw_coordinates(w).to(dev), _hw_coordinates(h).to(dev)
    rows_per_chunk = rows_per_chunk or max(1, (8192 if dev.type == "cpu" else 1 << 20) // w)
    out = torch.empty((h, w, q.outputs), dtype=torch.uint8)
    for r0 in range(0, h, rows_per_chunk):
        r1 = min(h, r0 + rows_per_chunk)
        parts: list[torch.Tensor] = []
        pos0 = None
        for b, c in zip(bits, codes):
            gh, gw = c.shape[:2]
            if hardware:
                u = u_line.repeat(r1 - r0)
                v = v_line[r0:r1].repeat_interleave(w)
                parts.append(_hw_latents(c, u, v, address))
                if pos0 is None:
                    pos0 = (torch.floor(u * _c(256.0 * gw)).to(I64) - 128,
                            torch.floor(v * _c(256.0 * gh)).to(I64) - 128)
                continue
            x = _int_mip_positions(w, gw).to(dev).repeat(r1 - r0)
            y = _int_mip_positions(h, gh)[r0:r1].to(dev).repeat_interleave(w)
            if pos0 is None:
                pos0 = (x, y)
            total = _int_bilinear(c, _int_wrap(x >> 8, gw, address), _int_wrap((x >> 8) + 1, gw, address),
                                  _int_wrap(y >> 8, gh, address), _int_wrap((y >> 8) + 1, gh, address),
                                  x & 255, y & 255)
            k = b + 9
            s = 2 * total - ((1 << b) - 1) * 65536
            parts.append(torch.bitwise_right_shift(s + (1 << (k - 1)), k).clamp(-127, 127))
        if asset.encoding.kind != "none":
            gh0, gw0 = codes[0].shape[:2]
            eu, ev = pos0[0] + 128, pos0[1] + 128
            if address == "wrap":
                eu, ev = torch.remainder(eu, 256 * gw0), torch.remainder(ev, 256 * gh0)
            else:
                eu, ev = eu.clamp(0, 256 * gw0 - 1), ev.clamp(0, 256 * gh0 - 1)
            parts += [c[:, None] for c in _int_encoding(eu, ev, q.period_log2, q.phase)]
        if asset.lod_inputs is not None:
            parts.append(torch.full((parts[0].shape[0], 1), asset.lod_inputs[mip], dtype=I64, device=dev))
        x = torch.cat(parts, dim=1)
        out[r0:r1] = _int_mlp(asset, x).reshape(r1 - r0, w, -1).cpu()
    return out


@torch.no_grad()
def strict_decode_mip(asset: NeuralTextureAsset, mip: int, rows_per_chunk: int | None = None,
                      device: torch.device | str = "cpu") -> torch.Tensor:
    """Decode texture mip ``mip`` of ``asset`` at texel centres: (H, W, C) float32 linear values for
    the float mode (always on the CPU), (H, W, C) uint8 stored-space bytes for the exact and hardware
    modes (integer arithmetic, on ``device``)."""
    if asset.decoder.quantized is not None:
        return strict_decode_mip_int(asset, mip, rows_per_chunk, device)
    w, h = asset.mip_size(mip)
    u_line = (torch.arange(w, dtype=F32) + _c(0.5)) / _c(float(w))
    v_line = (torch.arange(h, dtype=F32) + _c(0.5)) / _c(float(h))
    taps = asset.taps[mip]
    values = [
        torch.from_numpy(asset.grids[g].levels[lv]).to(F32) * _c(asset.grids[g].scale) + _c(asset.grids[g].offset)
        for g, lv in taps
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
            parts.append(_encode(u, v, enc.frequencies, enc.phases, taps[0][1]))
        if asset.lod_inputs is not None:
            # f32(lod) / f32(127): one correctly rounded division, as ngsdk.runtime_ref.neural_texture.lod_value
            lod = torch.tensor(float(asset.lod_inputs[mip]), dtype=F32) / _c(127.0)
            parts.append(lod.expand(u.shape[0], 1))
        x = torch.cat(parts, dim=1)
        for wgt, b, act in layers:
            x = _act(_dense(x, wgt, b), act, asset.decoder.leaky_slope)
        out[r0:r1] = x.reshape(r1 - r0, w, -1)
    return out

"""Reference decode of neural textures in the ``exact`` mode (integer arithmetic, numpy only).

Latent texels are read with integer loads, bilinear weights come from 8-bit sub-texel positions
and the decoder is the integer MLP of :mod:`ngsdk.runtime_ref.neural_texture_int`. Output: UNORM8 bytes
in each channel's stored colour space; the shader decode (engine_plugins/shaders) gives the same
bytes. docs/decode-spec.md states the arithmetic.
"""

from __future__ import annotations

import numpy as np

from ngsdk.asset.neural_texture import NeuralTextureAsset
from ngsdk.runtime_ref import neural_texture_int as ni


def _require_exact(asset: NeuralTextureAsset) -> None:
    if asset.decode_mode != "exact" or asset.decoder.quantized is None:
        raise ValueError(f"asset {asset.name!r} is in decode mode {asset.decode_mode!r}, not 'exact'")


def grid_inputs(codes: np.ndarray, bits: int, x: np.ndarray, y: np.ndarray, address: str) -> np.ndarray:
    """Integer bilinear latents of one grid level ``codes`` (h, w, F) at positions (X, Y) -> (N, F) int64."""
    h, w, _ = codes.shape
    x0, x1, wx = ni.axis_taps(x, w, address)
    y0, y1, wy = ni.axis_taps(y, h, address)
    c = codes.astype(np.int64)
    total = ni.bilinear_sum(c[y0, x0], c[y0, x1], c[y1, x0], c[y1, x1], wx, wy)
    return ni.latent_input(total, bits)


def decoder_inputs(asset: NeuralTextureAsset, mip: int, xs: list[np.ndarray], ys: list[np.ndarray]) -> np.ndarray:
    """Inputs (N, K) for per-tap positions ``xs[t]``, ``ys[t]`` (1/256 texel) at texture mip ``mip``:
    every tap's latents, the encoding of tap 0's position, the mip's LOD input."""
    q = asset.decoder.quantized
    taps = asset.taps[mip]
    parts = [grid_inputs(asset.grids[g].levels[lv], asset.grids[g].bits, x, y, asset.sampler.address)
             for (g, lv), x, y in zip(taps, xs, ys)]
    if asset.encoding.kind != "none":
        w0, h0 = asset.tap_size(mip, 0)
        eu = ni.encoding_position(xs[0], w0, asset.sampler.address)
        ev = ni.encoding_position(ys[0], h0, asset.sampler.address)
        parts.append(ni.encoding_inputs(eu, ev, q.period_log2, q.phase))
    if asset.lod_inputs is not None:
        parts.append(np.full((xs[0].shape[0], 1), asset.lod_inputs[mip], dtype=np.int64))
    return np.concatenate(parts, axis=1)


def decode_uv(asset: NeuralTextureAsset, uv: np.ndarray, mip: int = 0) -> np.ndarray:
    """Decode at float32 coordinates ``uv`` (N, 2) of texture mip ``mip`` -> uint8 (N, C).

    Positions: ``X = floor(f32(u * f32(256 * w_t))) - 128`` per tap's grid level ``w_t``.
    """
    _require_exact(asset)
    if not 0 <= mip < asset.mip_levels:
        raise ValueError(f"mip {mip} out of range (asset has {asset.mip_levels})")
    uv = np.asarray(uv, dtype=np.float32)
    if uv.ndim != 2 or uv.shape[1] != 2:
        raise ValueError(f"uv must be (N, 2), got {uv.shape}")
    xs, ys = [], []
    for t in range(len(asset.taps[mip])):
        w, h = asset.tap_size(mip, t)
        xs.append(ni.uv_positions(uv[:, 0], w))
        ys.append(ni.uv_positions(uv[:, 1], h))
    return ni.run_int_mlp(asset.decoder.quantized, decoder_inputs(asset, mip, xs, ys))


def decode_mip(asset: NeuralTextureAsset, mip: int = 0, *, rows_per_chunk: int | None = None) -> np.ndarray:
    """Decode a whole texture mip at its texel centres -> uint8 (H_m, W_m, C) in stored colour spaces."""
    _require_exact(asset)
    if not 0 <= mip < asset.mip_levels:
        raise ValueError(f"mip {mip} out of range (asset has {asset.mip_levels})")
    w, h = asset.mip_size(mip)
    cols, rows = [], []
    for t in range(len(asset.taps[mip])):
        gw, gh = asset.tap_size(mip, t)
        cols.append(ni.mip_positions(w, gw))
        rows.append(ni.mip_positions(h, gh))
    rows_per_chunk = rows_per_chunk or max(1, 16384 // w)
    out = np.empty((h, w, asset.decoder.outputs), dtype=np.uint8)
    for r0 in range(0, h, rows_per_chunk):
        r1 = min(h, r0 + rows_per_chunk)
        xs = [np.tile(c, r1 - r0) for c in cols]
        ys = [np.repeat(r[r0:r1], w) for r in rows]
        x = decoder_inputs(asset, mip, xs, ys)
        out[r0:r1] = ni.run_int_mlp(asset.decoder.quantized, x).reshape(r1 - r0, w, -1)
    return out

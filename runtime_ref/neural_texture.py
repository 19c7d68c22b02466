"""The reference runtime of neural textures: the bundle loader and the ``float`` mode decode (strict fp32,
fixed op order); ``neural_texture_modes`` dispatches on the decode mode.

:func:`load_neural_texture` checks, each failing with a one-line :class:`AssetError` naming the file: manifest
JSON, version and schema; presence, size and sha256 of every listed file; each grid's DDS header against the
manifest (format, size, levels, slices); codes inside their bit range with unused bits clear; decoder arrays'
names, dtypes and shapes.

Every operation of the decode is one IEEE-754 binary32 operation rounded to nearest even, in the order
written, with no fused multiply-add; docs/decode-spec.md states the same arithmetic in prose.
The trainer's evaluation forward (ngsdk.textures.strict) performs the identical sequence in
torch, so a bundle's decode equals the trained model's output bit for bit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ngsdk.asset.errors import AssetError
from ngsdk.asset.manifest import read_manifest
from ngsdk.asset.neural_texture import KIND, NeuralTextureAsset, decoder_npz_spec, from_manifest
from ngsdk.asset.packing import packed_slices, unpack_codes, unused_bits_clear
from ngsdk.runtime_ref.dds import read_dds
from ngsdk.runtime_ref.npz import read_npz

F32 = np.float32
_HALF = F32(0.5)
_ONE = F32(1.0)
_TWO = F32(2.0)
_ZERO = F32(0.0)


# --------------------------------------------------------------------------- loading


def _grid_levels(bundle: Path, g: dict[str, Any]) -> list[np.ndarray]:
    path = bundle / g["file"]
    tex = read_dds(path)
    expect = (g["width"], g["height"], g["levels"], g["array_size"])
    found = (tex.width, tex.height, tex.mip_count, tex.array_size)
    if tex.format.name != g["dxgi_format"] or tex.dimension != "2d" or tex.cube:
        raise AssetError(path, f"is {tex.format.name} {tex.dimension}, manifest says {g['dxgi_format']} 2d")
    if found != expect:
        raise AssetError(
            path,
            "shape mismatch: DDS is {}x{} with {} mips and {} slices, manifest says {}x{} with {} mips and {} slices"
            .format(*found, *expect),
        )
    need = packed_slices(g["features"], g["bits"])
    if need != tex.array_size:
        raise AssetError(path, f"{g['features']} codes of {g['bits']} bits need {need} RGBA8 slices, file has "
                               f"{tex.array_size}")
    levels = []
    for m, texels in enumerate(tex.mips):
        if not unused_bits_clear(texels, g["features"], g["bits"]):
            raise AssetError(path, f"mip {m} has bits set outside the {g['features']} packed {g['bits']}-bit codes")
        levels.append(unpack_codes(texels, g["features"], g["bits"]))
    return levels


def load_neural_texture(bundle: str | Path, manifest: dict[str, Any] | None = None) -> NeuralTextureAsset:
    """Load a neural texture bundle; ``manifest`` skips re-reading an already validated one."""
    bundle = Path(bundle)
    if manifest is None:
        manifest = read_manifest(bundle)
    if manifest["kind"] != KIND:
        raise AssetError(bundle / "manifest.json", f"kind is {manifest['kind']!r}, not a neural texture")
    contents: dict[str, Any] = {g["file"]: _grid_levels(bundle, g) for g in manifest["grids"]}
    d = manifest["decoder"]
    contents[d["file"]] = read_npz(bundle / d["file"], decoder_npz_spec(manifest), strict=True)
    return from_manifest(manifest, contents, bundle / "manifest.json")


# --------------------------------------------------------------------------- float decode


def texel_centres(n: int) -> np.ndarray:
    """Normalised coordinates of the ``n`` texel centres: ``(f32(i) + 0.5) / f32(n)``."""
    return (np.arange(n, dtype=F32) + _HALF) / F32(n)


def dequantize(codes: np.ndarray, scale: float, offset: float) -> np.ndarray:
    """``f32(code) * f32(scale) + f32(offset)`` (two roundings)."""
    return codes.astype(F32) * F32(scale) + F32(offset)


def _axis_taps(coord: np.ndarray, size: int, address: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Integer taps i0, i1 and the fp32 weight of i1 along one axis."""
    x = coord * F32(size) - _HALF
    x0 = np.floor(x)
    w = x - x0
    i0 = x0.astype(np.int64)
    i1 = i0 + 1
    if address == "wrap":
        i0 %= size
        i1 %= size
    else:
        np.clip(i0, 0, size - 1, out=i0)
        np.clip(i1, 0, size - 1, out=i1)
    return i0, i1, w.astype(F32)


def lerp(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``a + w * (b - a)`` with three roundings."""
    return a + w * (b - a)


def sample_grid(values: np.ndarray, u: np.ndarray, v: np.ndarray, address: str) -> np.ndarray:
    """Bilinear fetch of fp32 latents ``values`` (h, w, F) at coordinates (u, v), each shape (N,).

    Texels are read with integer loads; weights come from the fp32 texel coordinate; the x
    lerps happen first, then the y lerp.
    """
    h, w, _ = values.shape
    x0, x1, wx = _axis_taps(u, w, address)
    y0, y1, wy = _axis_taps(v, h, address)
    wx = wx[:, None]
    top = lerp(values[y0, x0], values[y0, x1], wx)
    bot = lerp(values[y1, x0], values[y1, x1], wx)
    return lerp(top, bot, wy[:, None])


def encode(u: np.ndarray, v: np.ndarray, frequencies: list[float], phases: list[float], level: int) -> np.ndarray:
    """Triangle-wave positional encoding, (N, 2 * len(frequencies) * len(phases))."""
    cols = []
    for f in frequencies:
        fs = F32(f / (1 << level))
        for p in phases:
            for c in (u, v):
                t = c * fs + F32(p)
                cols.append(np.abs((t - np.floor(t)) * _TWO - _ONE))
    return np.stack(cols, axis=1) if cols else np.zeros((u.shape[0], 0), F32)


def activate(x: np.ndarray, kind: str, leaky_slope: float) -> np.ndarray:
    """Activations written so that -0.0 never survives (bit-exact hashing)."""
    if kind == "none":
        return x
    if kind == "relu":
        return np.where(x > _ZERO, x, _ZERO)
    if kind == "leaky_relu":
        return np.where(x > _ZERO, x, x * F32(leaky_slope))
    if kind == "clamp01":
        return np.where(x > _ZERO, np.where(x < _ONE, x, _ONE), _ZERO)
    raise ValueError(f"activation {kind!r} has no exact float-mode definition")


def dense(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """``y_j = (((b_j + x_0 W_j0) + x_1 W_j1) + ...)``: products and sums rounded one by one, k ascending."""
    acc = np.broadcast_to(bias, (x.shape[0], bias.shape[0])).copy()
    wt = np.ascontiguousarray(weight.T)
    xt = np.ascontiguousarray(x.T)
    prod = np.empty_like(acc)
    for k in range(wt.shape[0]):
        np.multiply(xt[k][:, None], wt[k], out=prod)
        acc += prod
    return acc


def tap_values(asset: NeuralTextureAsset, mip: int) -> list[np.ndarray]:
    """Dequantized fp32 latents of every tap of texture mip ``mip``."""
    return [dequantize(asset.grids[g].levels[lv], asset.grids[g].scale, asset.grids[g].offset)
            for g, lv in asset.taps[mip]]


def lod_value(lod: int) -> np.float32:
    """The float mode's LOD input: ``f32(lod) / f32(127)`` (one correctly rounded division)."""
    return F32(lod) / F32(127.0)


def decoder_inputs(asset: NeuralTextureAsset, mip: int, u: np.ndarray, v: np.ndarray,
                   values: list[np.ndarray] | None = None) -> np.ndarray:
    """The decoder's input vector for coordinates (u, v) at texture mip ``mip``: every tap's bilinear
    latents, the encoding at tap 0's level, the mip's LOD input."""
    values = values if values is not None else tap_values(asset, mip)
    parts = [sample_grid(vals, u, v, asset.sampler.address) for vals in values]
    enc = asset.encoding
    if enc.kind != "none":
        parts.append(encode(u, v, enc.frequencies, enc.phases, asset.taps[mip][0][1]))
    if asset.lod_inputs is not None:
        parts.append(np.full((u.shape[0], 1), lod_value(asset.lod_inputs[mip]), dtype=F32))
    return np.concatenate(parts, axis=1)


def run_decoder(asset: NeuralTextureAsset, x: np.ndarray) -> np.ndarray:
    for layer in asset.decoder.layers:
        x = activate(dense(x, layer.weight, layer.bias), layer.activation, asset.decoder.leaky_slope)
    return x


def decode_uv(asset: NeuralTextureAsset, uv: np.ndarray, mip: int = 0) -> np.ndarray:
    """Decode channels at normalised coordinates ``uv`` (N, 2) for texture mip ``mip`` -> (N, C) fp32."""
    uv = np.asarray(uv, dtype=F32)
    return run_decoder(asset, decoder_inputs(asset, mip, uv[:, 0], uv[:, 1]))


def decode_mip(asset: NeuralTextureAsset, mip: int = 0, *, rows_per_chunk: int | None = None) -> np.ndarray:
    """Decode a whole texture mip at its texel centres -> (H_m, W_m, C) fp32 linear values."""
    if not 0 <= mip < asset.mip_levels:
        raise ValueError(f"mip {mip} out of range (asset has {asset.mip_levels})")
    w, h = asset.mip_size(mip)
    u_line = texel_centres(w)
    v_line = texel_centres(h)
    values = tap_values(asset, mip)
    if rows_per_chunk is None:
        rows_per_chunk = max(1, 4096 // w)
    out = np.empty((h, w, asset.decoder.outputs), dtype=F32)
    for r0 in range(0, h, rows_per_chunk):
        r1 = min(h, r0 + rows_per_chunk)
        u = np.tile(u_line, r1 - r0)
        v = np.repeat(v_line[r0:r1], w)
        x = decoder_inputs(asset, mip, u, v, values)
        out[r0:r1] = run_decoder(asset, x).reshape(r1 - r0, w, -1)
    return out

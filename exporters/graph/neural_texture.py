"""The neural texture decoder as torch graphs, for ONNX, Core ML and VGF export.

Two graphs stand for a bundle:
- ``nt_decoder``: per sample, ``inputs`` (N, K) = sampled latents + encoding (+ the LOD input) -> ``channels``
  (N, C);
- ``nt_mip{m}``: a whole mip, the dequantized grid level of each of its latent taps as one NCHW tensor per tap ->
  ``channels`` (1, C, H, W). Bilinear fetches with the bundle's address mode are gathers of rows then
  columns with constant tap indices and weights, the MLP is 1x1 convs, and the encoding's share of the first
  layer is a constant row plus a constant column (the encoding is separable in x and y); the mip's LOD input
  (format 2.0) is a constant, its share a constant per output.
Both use the float decoder weights; they reproduce runtime_ref's float decode within float32 rounding.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ngsdk.asset.errors import AssetError
from ngsdk.asset.neural_texture import NeuralTextureAsset
from ngsdk.asset.types import GraphExport
from ngsdk.exporters.graph.api import export_all
from ngsdk.exporters.graph.bundle_exports import VGF_BATCH, calibration_batches, graph_export, precisions
from ngsdk.exporters.graph.io import IODescription, TensorIO

WHOLE_MIP_FORMATS = ("onnx", "coreml")

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


def axis_taps(out_size: int, grid_size: int, address: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Bilinear taps of the texel centres of an ``out_size`` axis: indices ``i0``, ``i1`` (int64) and weights
    ``1 - w``, ``w`` (float32). Gathers with these cost O(out_size) constants where an interpolation matrix
    costs out_size x grid_size (4 MB per graph for a 1k texture)."""
    i0, i1, w = _taps(texel_centres(out_size), grid_size, address)
    return i0, i1, (1.0 - w).astype(np.float32), w.astype(np.float32)


class MipDecoder(nn.Module):
    """Decode one whole mip from its latent textures (dequantized, NCHW): one input per latent tap."""

    def __init__(self, asset: NeuralTextureAsset, mip: int):
        super().__init__()
        w, h = asset.mip_size(mip)
        taps = asset.taps[mip]
        addr = asset.sampler.address
        for g in range(len(taps)):  # buffers per tap (named _{tap})
            gw, gh = asset.tap_size(mip, g)
            for axis, n, size, shape in (("y", h, gh, (h, 1)), ("x", w, gw, (w,))):
                i0, i1, w0, w1 = axis_taps(n, size, addr)
                self.register_buffer(f"{axis}0_{g}", torch.from_numpy(i0))
                self.register_buffer(f"{axis}1_{g}", torch.from_numpy(i1))
                self.register_buffer(f"{axis}w0_{g}", torch.from_numpy(w0.reshape(shape)))
                self.register_buffer(f"{axis}w1_{g}", torch.from_numpy(w1.reshape(shape)))
        if not 1 <= len(taps) <= 4:
            raise ValueError(f"whole-mip graphs support 1 to 4 latent taps, the asset has {len(taps)}")
        self.taps = len(taps)
        n_lat = asset.latent_inputs
        layers = asset.decoder.layers
        w0 = layers[0].weight.astype(np.float64)
        self.has_enc = asset.encoding.kind != "none"
        n_enc = n_lat + (asset.encoding.features if self.has_enc else 0)
        self.has_lod = asset.lod_inputs is not None
        if w0.shape[1] != n_enc + self.has_lod:
            raise ValueError(f"decoder takes {w0.shape[1]} inputs, latents, encoding and LOD input give "
                             f"{n_lat} + {n_enc - n_lat} + {int(self.has_lod)}")
        if self.has_enc:
            eu = encoding_columns(texel_centres(w), asset, taps[0][1])  # (W, T), float64; tap 0's level
            ev = encoding_columns(texel_centres(h), asset, taps[0][1])  # (H, T)
            # The encoding is separable (u terms vary along x only, v terms along y only; interleaved u, v
            # columns of the first layer), so its share of the first layer is a row plus a column:
            # (O, 1, W) + (O, H, 1). As (2T, H, W) planes it would be folded into a constant of
            # 2T x H x W floats by coremltools (32 MB for 8 terms at 1024x1024).
            enc_x = (eu @ w0[:, n_lat:n_enc:2].T).T[:, None, :]
            enc_y = (ev @ w0[:, n_lat + 1 : n_enc : 2].T).T[:, :, None]
            self.register_buffer("enc_x", torch.from_numpy(np.ascontiguousarray(enc_x, dtype=np.float32)))
            self.register_buffer("enc_y", torch.from_numpy(np.ascontiguousarray(enc_y, dtype=np.float32)))
        if self.has_lod:
            # the LOD input is the same at every texel of the mip: its share of the first layer is (O, 1, 1)
            lod = float(lod_value(asset.lod_inputs[mip]))
            self.register_buffer("lod_term", torch.from_numpy((lod * w0[:, n_enc]).astype(np.float32)[:, None, None]))
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
        # explicit parameters (not *args): exporters match one named input per latent tap
        latents = [t for t in (latent0, latent1, latent2, latent3) if t is not None]
        parts = []
        for g, lat in enumerate(latents):
            t = {k: getattr(self, f"{k}_{g}") for k in ("y0", "y1", "yw0", "yw1", "x0", "x1", "xw0", "xw1")}
            rows = lat.index_select(2, t["y0"]) * t["yw0"] + lat.index_select(2, t["y1"]) * t["yw1"]
            parts.append(rows.index_select(3, t["x0"]) * t["xw0"] + rows.index_select(3, t["x1"]) * t["xw1"])
        y = self.first(torch.cat(parts, dim=1) if len(parts) > 1 else parts[0])
        if self.has_enc:
            y = y + self.enc_x + self.enc_y
        if self.has_lod:
            y = y + self.lod_term
        return self.mlp(y)


def dequantized(asset: NeuralTextureAsset, grid_index: int, level: int) -> np.ndarray:
    grid = asset.grids[grid_index]
    return grid.levels[level].astype(np.float32) * np.float32(grid.scale) + np.float32(grid.offset)


def latent_tensors(asset: NeuralTextureAsset, mip: int) -> list[np.ndarray]:
    """The dequantized latent texture of each tap of mip ``mip`` (its grid's level), each (1, F, h, w) float32."""
    return [np.ascontiguousarray(dequantized(asset, g, lv).transpose(2, 0, 1)[None])
            for g, lv in asset.taps[mip]]


def lod_value(lod: int) -> np.float32:
    """The float decoder's LOD input: ``f32(lod) / f32(127)`` (docs/decode-spec.md, float mode)."""
    return np.float32(lod) / np.float32(127.0)


def sample_decoder_inputs(asset: NeuralTextureAsset, n: int, seed: int = 0, mip: int | None = 0) -> np.ndarray:
    """Decoder inputs (sampled latents + encoding + LOD input) at ``n`` random texel centres of ``mip`` (or of
    all mips)."""
    rng = np.random.default_rng(seed)
    mips = [mip] if mip is not None else list(range(asset.mip_levels))
    rows = []
    for m in mips:
        k = n if mip is not None else max(1, -(-n // len(mips)))
        w, h = asset.mip_size(m)
        ix, iy = rng.integers(0, w, k), rng.integers(0, h, k)
        cols = []
        for g, lv in asset.taps[m]:
            vals = dequantized(asset, g, lv).astype(np.float64)
            gh, gw = vals.shape[:2]
            x0, x1, wx = _taps(texel_centres(w)[ix], gw, asset.sampler.address)
            y0, y1, wy = _taps(texel_centres(h)[iy], gh, asset.sampler.address)
            wx, wy = wx[:, None], wy[:, None]
            top = vals[y0, x0] * (1 - wx) + vals[y0, x1] * wx
            bot = vals[y1, x0] * (1 - wx) + vals[y1, x1] * wx
            cols.append(top * (1 - wy) + bot * wy)
        if asset.encoding.kind != "none":
            eu = encoding_columns(texel_centres(w)[ix], asset, asset.taps[m][0][1])
            ev = encoding_columns(texel_centres(h)[iy], asset, asset.taps[m][0][1])
            cols.append(np.stack((eu, ev), axis=2).reshape(k, -1))
        if asset.lod_inputs is not None:
            cols.append(np.full((k, 1), lod_value(asset.lod_inputs[m]), dtype=np.float64))
        rows.append(np.concatenate(cols, axis=1))
    return np.ascontiguousarray(np.concatenate(rows)[:n], dtype=np.float32)


# --------------------------------------------------------------------------- bundle exports


def decoder_io(asset: NeuralTextureAsset) -> IODescription:
    names = tuple(c.name for c in asset.channels)
    return IODescription(
        inputs=(TensorIO("inputs", ("batch", asset.decoder.inputs), layout="NC", value_range=(-1.0, 1.0),
                         semantics="sampled latents of every tap, triangle encoding, then the LOD input when the "
                                   "texture has one (manifest decoder.input_order)"),),
        outputs=(TensorIO("channels", ("batch", len(names)), layout="NC", value_range=(0.0, 1.0),
                          color_space="linear" if asset.decode_mode == "float" else "data",
                          semantics=_output_semantics(asset), channels=names),),
    )


def _output_semantics(asset: NeuralTextureAsset) -> str:
    if asset.decode_mode == "float":
        return "decoded material channels"
    # integer decoders output bytes in each channel's stored colour space; the graph is their real-valued view
    return "decoded material channels in each channel's stored colour space (sRGB for colour maps), approximating " \
           f"the {asset.decode_mode} decode's bytes / 255"


def mip_io(asset: NeuralTextureAsset, mip: int) -> IODescription:
    w, h = asset.mip_size(mip)
    ins = []
    for t, (g, lv) in enumerate(asset.taps[mip]):  # one input per latent tap (format 2.0: one grid, 2 levels)
        grid = asset.grids[g]
        gw, gh = asset.tap_size(mip, t)
        ins.append(TensorIO(f"latent{t}", ("batch", grid.features, gh, gw), layout="NCHW",
                            value_range=(grid.offset, grid.offset + grid.scale * ((1 << grid.bits) - 1)),
                            semantics=f"tap {t}: {grid.name} level {lv}, dequantized (code * scale + offset)"))
    names = tuple(c.name for c in asset.channels)
    out = TensorIO("channels", ("batch", len(names), h, w), layout="NCHW", value_range=(0.0, 1.0),
                   color_space="linear" if asset.decode_mode == "float" else "data",
                   semantics=f"mip {mip}: {_output_semantics(asset)}", channels=names)
    return IODescription(inputs=tuple(ins), outputs=(out,))


def int8_calibration(asset: NeuralTextureAsset, calibration: Path | None = None) -> list[tuple[Any, ...]]:
    """int8 calibration batches: decoder inputs sampled from every mip, or the .npy files (N, K) given."""
    if calibration is None:
        x = sample_decoder_inputs(asset, 4 * VGF_BATCH, seed=1, mip=None)
    else:
        files = sorted(Path(calibration).glob("*.npy")) if Path(calibration).is_dir() else [Path(calibration)]
        if not files:
            raise AssetError(calibration, "no .npy files of decoder inputs (N, K) to calibrate with")
        arrays = []
        for f in files:
            a = np.load(f, allow_pickle=False)
            if a.ndim != 2 or a.shape[1] != asset.decoder.inputs:
                raise AssetError(f, f"calibration array has shape {a.shape}, expected (N, {asset.decoder.inputs})")
            arrays.append(a.astype(np.float32))
        x = np.concatenate(arrays)
    return calibration_batches(x)


def _sample_inputs(asset: NeuralTextureAsset, n: int, seed: int, mip: int | None) -> np.ndarray:
    from ngsdk.exporters.graph.neural_texture import sample_decoder_inputs

    return sample_decoder_inputs(asset, n, seed=seed, mip=mip)


def export_graphs(
    asset: NeuralTextureAsset,
    bundle: str | Path,
    formats: Sequence[str],
    *,
    precision: str | None = None,
    calibration: str | Path | None = None,
    opset: int = 17,
    mip: int = 0,
) -> list[GraphExport]:
    """Write the graph exports into ``bundle`` and return their manifest entries.

    The caller rewrites the manifest (``ngsdk.exporters.neural_texture.write_bundle`` with ``asset.exports``
    extended by the returned entries).
    """
    import torch

    from ngsdk.exporters.graph.neural_texture import MipDecoder, decoder_module, latent_tensors

    bundle = Path(bundle)
    entries: list[GraphExport] = []
    dec = decoder_module(asset)
    examples = (torch.from_numpy(sample_decoder_inputs(asset, VGF_BATCH, seed=0, mip=mip)),)
    calib = None
    for fmt in formats:
        precs = precisions(fmt, precision)
        if fmt == "vgf" and "int8" in precs:
            calib = int8_calibration(asset, Path(calibration) if calibration else None)
        recs = export_all(dec, examples, decoder_io(asset), [fmt], {fmt: precs}, bundle, calibration=calib,
                          name="nt_decoder", asset_id=asset.name, opset=opset)
        entries += [graph_export(r, "nt_decoder") for r in recs]
        if fmt in WHOLE_MIP_FORMATS:
            module = MipDecoder(asset, mip).eval()
            lat = tuple(torch.from_numpy(t) for t in latent_tensors(asset, mip))
            recs = export_all(module, lat, mip_io(asset, mip), [fmt], {fmt: precs}, bundle,
                              name=f"nt_mip{mip}", asset_id=asset.name, opset=opset)
            entries += [graph_export(r, f"nt_mip{mip}") for r in recs]
    return entries

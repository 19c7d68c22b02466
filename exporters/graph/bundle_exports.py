"""Graph exports of a neural texture bundle: ONNX, Core ML and VGF files listed in its manifest.

``ngsdk export BUNDLE --format onnx,coreml,vgf`` lands here. Graphs (see texture_graphs):
``nt_decoder`` for every format and ``nt_mip{m}`` (a whole mip from the latent textures) for ONNX and
Core ML. Default precisions: ONNX fp32, Core ML fp32 + fp16, VGF fp32 + int8 (post-training
quantization calibrated on decoder inputs sampled from every mip of the bundle itself). Shading MLPs and
neural volumes (one ``nv_decoder`` graph per brick, see volume_graphs) have their own functions below.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from exporters.graph.api import SUPPORTED_PRECISIONS, export_all
from exporters.graph.io import ExportRecord, IODescription, TensorIO
from ngsdk.asset.errors import AssetError
from ngsdk.asset.types import GraphExport, NeuralTextureAsset

VGF_BATCH = 4096
WHOLE_MIP_FORMATS = ("onnx", "coreml")


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


def _precisions(fmt: str, precision: str | None) -> list[str]:
    if precision is None:
        return list(SUPPORTED_PRECISIONS[fmt])
    if precision not in SUPPORTED_PRECISIONS[fmt]:
        raise ValueError(f"{fmt} export supports {', '.join(SUPPORTED_PRECISIONS[fmt])}, not {precision}")
    return [precision]


def _calibration(asset: NeuralTextureAsset, calibration: Path | None):
    import torch

    if calibration is None:
        x = _sample_inputs(asset, 4 * VGF_BATCH, seed=1, mip=None)
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
    return [(torch.from_numpy(x[i : i + VGF_BATCH]),) for i in range(0, len(x) - VGF_BATCH + 1, VGF_BATCH)] or [
        (torch.from_numpy(np.resize(x, (VGF_BATCH, x.shape[1]))),)]


def _sample_inputs(asset: NeuralTextureAsset, n: int, seed: int, mip: int | None) -> np.ndarray:
    from exporters.graph.texture_graphs import sample_decoder_inputs

    return sample_decoder_inputs(asset, n, seed=seed, mip=mip)


def _graph_export(rec: ExportRecord, graph: str) -> GraphExport:
    tops = list(dict.fromkeys(f.path.split("/")[0] for f in rec.files))
    return GraphExport(format=rec.format, files=tops, precision=rec.precision, graph=graph,
                       io=rec.io.to_json(), details={"record": rec.to_json()})


def export_texture_graphs(
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

    The caller rewrites the manifest (``exporters.bundle.write_bundle`` with ``asset.exports``
    extended by the returned entries).
    """
    import torch

    from exporters.graph.texture_graphs import MipDecoder, decoder_module, latent_tensors

    bundle = Path(bundle)
    entries: list[GraphExport] = []
    dec = decoder_module(asset)
    examples = (torch.from_numpy(_sample_inputs(asset, VGF_BATCH, seed=0, mip=mip)),)
    calib = None
    for fmt in formats:
        precs = _precisions(fmt, precision)
        if fmt == "vgf" and "int8" in precs:
            calib = _calibration(asset, Path(calibration) if calibration else None)
        recs = export_all(dec, examples, decoder_io(asset), [fmt], {fmt: precs}, bundle, calibration=calib,
                          name="nt_decoder", asset_id=asset.name, opset=opset)
        entries += [_graph_export(r, "nt_decoder") for r in recs]
        if fmt in WHOLE_MIP_FORMATS:
            module = MipDecoder(asset, mip).eval()
            lat = tuple(torch.from_numpy(t) for t in latent_tensors(asset, mip))
            recs = export_all(module, lat, mip_io(asset, mip), [fmt], {fmt: precs}, bundle,
                              name=f"nt_mip{mip}", asset_id=asset.name, opset=opset)
            entries += [_graph_export(r, f"nt_mip{mip}") for r in recs]
    return entries


SHADING_GRAPH = "shading_mlp"
SHADING_FEATURES_GRAPH = "shading_mlp_features"


def _shading_io(asset, spec: dict) -> IODescription:
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


def export_shading_graphs(
    asset,
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

    from ngsdk.shading.graph import graph_encode, graph_module

    if calibration is not None:
        raise ValueError("shading MLPs calibrate on their own UV grid; --calibration is for textures")
    entries: list[GraphExport] = []
    for fmt in formats:
        precs = _precisions(fmt, precision)
        float_precs = [p for p in precs if p != "int8"]
        if float_precs:
            module, example, spec = graph_module(asset, include_encoding=True, batch=VGF_BATCH)
            recs = export_all(module, (example,), _shading_io(asset, spec), [fmt], {fmt: float_precs}, bundle,
                              name=SHADING_GRAPH, asset_id=asset.name, opset=opset)
            entries += [_graph_export(r, SHADING_GRAPH) for r in recs]
        if "int8" in precs:
            module, example, spec = graph_module(asset, include_encoding=False, batch=VGF_BATCH)
            g = torch.Generator().manual_seed(1)
            calib = [(graph_encode(torch.rand(VGF_BATCH, asset.encoding.inputs, generator=g), asset.encoding),)
                     for _ in range(4)]
            recs = export_all(module, (example,), _shading_io(asset, spec), [fmt], {fmt: ["int8"]}, bundle,
                              calibration=calib, name=SHADING_FEATURES_GRAPH, asset_id=asset.name, opset=opset)
            entries += [_graph_export(r, SHADING_FEATURES_GRAPH) for r in recs]
    return entries


def export_volume_graphs(
    asset,
    bundle: str | Path,
    formats: Sequence[str],
    *,
    precision: str | None = None,
    calibration: str | Path | None = None,
    opset: int = 17,
) -> list[GraphExport]:
    """Graph exports of a neural volume bundle: per brick, the decoder ``features`` (N, K) -> ``value`` (N, 1)
    clamped to [0, 1] (see volume_graphs), named ``nv_decoder`` (one brick) or ``nv_decoder_<brick>``.

    Examples: features at 4096 seeded voxels of the brick's core. int8 PTQ calibrates on 4 x 4096 features
    at continuous points of the core, or on ``calibration`` (.npy files (N, K) of that brick's features).
    """
    import torch

    from exporters.graph.volume_graphs import (
        calibration_features,
        decoder_io,
        decoder_module,
        graph_name,
        sample_features,
    )

    entries: list[GraphExport] = []
    for b, brick in enumerate(asset.bricks):
        name = graph_name(asset, b)
        module = decoder_module(brick)
        examples = (torch.from_numpy(sample_features(asset, b, VGF_BATCH, seed=0)),)
        calib = None
        for fmt in formats:
            precs = _precisions(fmt, precision)
            if fmt == "vgf" and "int8" in precs and calib is None:
                x = calibration_features(asset, b, 4 * VGF_BATCH, Path(calibration) if calibration else None)
                calib = [(torch.from_numpy(x[i : i + VGF_BATCH]),) for i in range(0, len(x) - VGF_BATCH + 1,
                                                                                  VGF_BATCH)]
                calib = calib or [(torch.from_numpy(np.resize(x, (VGF_BATCH, x.shape[1]))),)]
            recs = export_all(module, examples, decoder_io(asset, b), [fmt], {fmt: precs}, bundle,
                              calibration=calib, name=name, asset_id=asset.name, opset=opset)
            entries += [_graph_export(r, name) for r in recs]
    return entries


def merge_exports(existing: list[GraphExport], new: list[GraphExport]) -> list[GraphExport]:
    """Replace entries of the same (format, precision, graph); keep the rest in order."""
    key = lambda e: (e.format, e.precision, e.graph)  # noqa: E731
    fresh = {key(e) for e in new}
    return [e for e in existing if key(e) not in fresh] + list(new)


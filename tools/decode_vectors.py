#!/usr/bin/env python3
"""Test vectors of the integer decode modes for docs/decode-spec.md, from a tiny fixed asset.

The asset is built from a seeded NumPy generator (no training): a 9x7 texture with 4 mips and two
encoding terms (period 4 texels, phases 0 and 1/4), in one of two latent layouts (format 2.0 taps):
``grids`` (the 1.x layout): two grids with mixed code widths (4 and 2 bits; 8 bits for the hardware
mode), mip ``m`` reading level ``min(m, last)`` of each, decoder 15 -> 8 -> 6 -> 3; ``pyramid`` (exact
mode): one 4-bit grid of 8 features, mips ``2k`` and ``2k + 1`` reading levels ``k`` and ``k + 1`` with
LOD inputs -127 / 127, decoder 21 -> 8 -> 6 -> 3.

The tool prints the vectors block: the asset itself, one texel's decode step by step, whole-mip
results and coordinate decodes, so an implementation can be checked from the document alone.
``--write-docs`` replaces the block between the ``<!-- BEGIN decode_vectors -->`` markers of
docs/decode-spec.md; ``--check`` fails if that block is stale (a unit test runs it).

The neural volume vectors (section "Volumes", ``<!-- BEGIN volume_vectors -->``) come from
:func:`tiny_volume`: a 3 x 4 x 5 volume in two bricks, unorm8 and float16 grids, traced point by point.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from ngsdk.asset.atomic import atomic_write_bytes  # noqa: E402
from ngsdk.asset.types import (  # noqa: E402
    Channel,
    Decoder,
    Encoding,
    FeatureGrid,
    IntLayer,
    NeuralTextureAsset,
    Provenance,
    QuantizedDecoder,
    SamplerState,
)

DOC = REPO / "docs" / "decode-spec.md"
BEGIN, END = "<!-- BEGIN decode_vectors -->", "<!-- END decode_vectors -->"
WIDTH, HEIGHT = 9, 7


def _levels(rng: np.random.Generator, w: int, h: int, features: int, bits: int) -> list[np.ndarray]:
    out = []
    while True:
        out.append(rng.integers(0, 1 << bits, size=(h, w, features), dtype=np.uint8))
        if w == 1 and h == 1:
            return out
        w, h = max(1, w // 2), max(1, h // 2)


def _int_layers(rng: np.random.Generator, dims: list[int]) -> list[IntLayer]:
    layers = []
    for i, (a, b) in enumerate(zip(dims, dims[1:])):
        hidden = i < len(dims) - 2
        layers.append(IntLayer(
            weight=rng.integers(-64, 65, size=(b, a)), bias=rng.integers(-1000, 6001, size=b),
            multiplier=rng.integers(96, 256, size=b), shift=rng.integers(13, 15, size=b),
            activation="relu" if hidden else "clamp01", out_scale=1.0 / 255.0))
    return layers


def tiny_asset(mode: str = "exact", address: str = "wrap", layout: str = "grids") -> NeuralTextureAsset:
    """The fixed asset of the test vectors (deterministic for ``mode``, ``address`` and ``layout``)."""
    if layout == "pyramid":
        return _tiny_pyramid(mode, address)
    if layout != "grids":
        raise ValueError(f"layout must be grids or pyramid, got {layout!r}")
    rng = np.random.default_rng(20261124)
    bits0, bits1 = (4, 2) if mode == "exact" else (8, 8)
    grids = [FeatureGrid("grid0", 6, bits0, 2.0 / ((1 << bits0) - 1), -1.0, _levels(rng, 5, 4, 6, bits0)),
             FeatureGrid("grid1", 5, bits1, 2.0 / ((1 << bits1) - 1), -1.0, _levels(rng, 3, 2, 5, bits1))]
    layers = _int_layers(rng, [15, 8, 6, 3])
    scales = [2.0 ** (g.bits - 7) / ((1 << g.bits) - 1) if mode == "exact" else 1.0 / 127.0
              for g in grids for _ in range(g.features)] + [1.0 / 127.0] * 4
    q = QuantizedDecoder(layers=layers, period_log2=[2, 2], phase=[0, 256], input_scales=scales,
                         reference_profile="d3d11")
    mips = 4
    taps = [[(gi, min(m, len(g.levels) - 1)) for gi, g in enumerate(grids)] for m in range(mips)]
    return _texture(f"vectors_{mode}_{address}", grids, taps, None, q, mode, address)


def _tiny_pyramid(mode: str, address: str) -> NeuralTextureAsset:
    """One latent pyramid read by two taps per mip (levels k and k + 1 for mips 2k, 2k + 1) + LOD input."""
    if mode != "exact":
        raise ValueError("the pyramid layout is an exact-mode layout (hardware needs one tap per grid)")
    rng = np.random.default_rng(20270301)
    bits = 4
    grid = FeatureGrid("latents", 8, bits, 2.0 / ((1 << bits) - 1), -1.0, _levels(rng, 5, 4, 8, bits))
    layers = _int_layers(rng, [21, 8, 6, 3])
    scales = [2.0 ** (bits - 7) / ((1 << bits) - 1)] * 16 + [1.0 / 127.0] * 5
    q = QuantizedDecoder(layers=layers, period_log2=[2, 2], phase=[0, 256], input_scales=scales,
                         reference_profile="d3d11")
    top = len(grid.levels) - 1
    taps = [[(0, min(m // 2, top)), (0, min(m // 2 + 1, top))] for m in range(4)]
    lods = [-127 if m % 2 == 0 else 127 for m in range(4)]
    return _texture(f"vectors_{mode}_pyramid_{address}", [grid], taps, lods, q, mode, address)


def _texture(name: str, grids: list[FeatureGrid], taps: list[list[tuple[int, int]]], lods: list[int] | None,
             q: QuantizedDecoder, mode: str, address: str) -> NeuralTextureAsset:
    return NeuralTextureAsset(
        name=name, width=WIDTH, height=HEIGHT,
        channels=[Channel("albedo.r", "albedo", "r", "srgb"), Channel("albedo.g", "albedo", "g", "srgb"),
                  Channel("roughness", "roughness", "r", "linear")],
        grids=grids, taps=taps, lod_inputs=lods, decoder=Decoder.from_quantized(q),
        encoding=Encoding("triangle", frequencies=[1.25], phases=[0.0, 0.25]),
        sampler=SamplerState("bilinear", address), provenance=Provenance(ngsdk_version="vectors"),
        decode_mode=mode)


def write_vector_bundle(asset: NeuralTextureAsset, out: Path, *, format_1x: bool = False) -> Path:
    """Write ``asset`` as a bundle at ``out`` with the reference hash of every mip (what a trainer
    records). ``format_1x``: rewrite its manifest in the 1.x form - ``texture.grid_levels`` instead of
    ``texture.mip_inputs`` - as ngsdk wrote it before format 2.0 (only a ``grids``-layout asset has one)."""
    from exporters.bundle import write_bundle
    from ngsdk.asset.digest import decode_hash
    from ngsdk.asset.manifest import MANIFEST_NAME, dump_manifest
    from runtime_ref.neural_texture_modes import decode_mip

    for m in range(asset.mip_levels):
        asset.provenance.reference_decode[f"mip{m}"] = decode_hash(decode_mip(asset, m))
    manifest = write_bundle(asset, out)
    if format_1x:
        t = manifest["texture"]
        entries = t.pop("mip_inputs")
        grid_levels = [[lv for _, lv in e["taps"]] for e in entries]
        taps_1x = [[[g, lv] for g, lv in enumerate(row)] for row in grid_levels]
        if any("lod" in e for e in entries) or [e["taps"] for e in entries] != taps_1x:
            raise ValueError("a 1.x manifest has one tap per grid, in grid order, and no LOD input")
        t["grid_levels"] = grid_levels
        manifest["format_version"] = "1.1" if asset.decoder.quantized is not None else "1.0"
        d = manifest["decoder"]
        d["input_order"] = [name.split(":", 1)[1] if name.startswith("tap") else name for name in d["input_order"]]
        (Path(out) / MANIFEST_NAME).write_bytes(dump_manifest(manifest))
    return Path(out)


def _asset_json(asset: NeuralTextureAsset) -> str:
    q = asset.decoder.quantized
    d = {
        "texture": [asset.width, asset.height], "mips": asset.mip_levels,
        "mip_inputs": [{"taps": [list(t) for t in taps]} | ({} if asset.lod_inputs is None else
                                                            {"lod": asset.lod_inputs[m]})
                       for m, taps in enumerate(asset.taps)],
        "address": asset.sampler.address,
        "grids": [{"name": g.name, "bits": g.bits, "features": g.features,
                   "levels": [lv.tolist() for lv in g.levels]} for g in asset.grids],
        "encoding_terms": [[int(s), int(p)] for s, p in zip(q.period_log2, q.phase)],
        "layers": [{"weight": l.weight.tolist(), "bias": l.bias.tolist(), "multiplier": l.multiplier.tolist(),
                    "shift": l.shift.tolist()} for l in q.layers],
    }
    return json.dumps(d, separators=(",", ":"))


def _trace_exact(asset: NeuralTextureAsset, mip: int, px: int, py: int) -> list[str]:
    """One texel of the exact mode, step by step."""
    from runtime_ref import neural_texture_int as ni

    q = asset.decoder.quantized
    w, h = asset.mip_size(mip)
    lines = [f"Texel ({px}, {py}) of mip {mip} ({w}x{h}), address {asset.sampler.address}:"]
    xs = []
    for t, (gi, lv) in enumerate(asset.taps[mip]):
        g = asset.grids[gi]
        codes = g.levels[lv]
        gh, gw = codes.shape[:2]
        x = int(ni.mip_positions(w, gw)[px])
        y = int(ni.mip_positions(h, gh)[py])
        x0, x1, wx = (int(a[0]) for a in ni.axis_taps(np.array([x]), gw, asset.sampler.address))
        y0, y1, wy = (int(a[0]) for a in ni.axis_taps(np.array([y]), gh, asset.sampler.address))
        c = codes.astype(np.int64)
        total = ni.bilinear_sum(c[y0, x0][None], c[y0, x1][None], c[y1, x0][None], c[y1, x1][None],
                                np.array([wx]), np.array([wy]))[0]
        xin = ni.latent_input(total, g.bits)
        xs.append(xin)
        lines.append(f"- tap {t}: {g.name} level {lv} ({gw}x{gh}): X = {x}, Y = {y}; taps x {x0},{x1} w {wx}; "
                     f"y {y0},{y1} w {wy}; L = {total.tolist()}; inputs {xin.tolist()}")
        if t == 0:
            e = (int(ni.encoding_position(np.array([x]), gw, asset.sampler.address)[0]),
                 int(ni.encoding_position(np.array([y]), gh, asset.sampler.address)[0]))
    enc = ni.encoding_inputs(np.array([e[0]]), np.array([e[1]]), q.period_log2, q.phase)[0]
    lines.append(f"- encoding: E = {e}; inputs {enc.tolist()}")
    xs.append(enc)
    if asset.lod_inputs is not None:
        lines.append(f"- LOD input: {asset.lod_inputs[mip]}")
        xs.append(np.array([asset.lod_inputs[mip]]))
    x = np.concatenate(xs).astype(np.float64)[None]
    for i, layer in enumerate(q.layers):
        acc = x @ layer.weight.astype(np.float64).T + layer.bias
        x = ni.requantize(acc, layer.multiplier, layer.shift)
        lines.append(f"- layer {i}: acc {acc.astype(np.int64)[0].tolist()} -> {x.astype(np.int64)[0].tolist()}")
    return lines


def _digest(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a, dtype=np.uint8).tobytes()).hexdigest()[:16]


def vector_uvs() -> np.ndarray:
    """Coordinates of the uv vectors: texel centres and edges, a tie, far outside [0, 1]."""
    return np.array([[0.0, 0.0], [0.5, 0.5], [1.0 / 9.0, 3.0 / 7.0], [0.999, 0.001], [-0.3, 1.7],
                     [3.25, -2.125], [0.0625, 0.9375]], dtype=np.float32)


def block() -> str:
    from runtime_ref import neural_texture_exact as nx
    from runtime_ref import neural_texture_hw as nh

    out = [BEGIN, "", "Generated by `python tools/decode_vectors.py --write-docs`; checked by "
           "tests/unit/test_decode_vectors.py.", ""]
    for mode, layout in (("exact", "grids"), ("exact", "pyramid"), ("hardware", "grids")):
        for address in ("wrap", "clamp"):
            a = tiny_asset(mode, address, layout)
            out += [f"### {mode} mode, {layout} layout, address {address}", "", "Asset (codes per level as "
                    "[row][column][feature], weights [out][in]):", "", "```json", _asset_json(a), "```", ""]
            if mode == "exact":
                mips = [nx.decode_mip(a, m) for m in range(a.mip_levels)]
                out += _trace_exact(a, 1, 2, 1) + [""]
                assert out[-2].endswith(str(mips[1][1, 2].tolist())), "the scalar trace disagrees with runtime_ref"
                out.append("Whole mips (bytes [row][column][channel]):")
                out.append("")
                for m, dec in enumerate(mips):
                    out.append(f"- mip {m}: `{json.dumps(dec.tolist(), separators=(',', ':'))}`")
                # the pyramid's mips 0 and 1 read the same levels: only the LOD input tells them apart
                for m in (0, 1) if layout == "pyramid" else (0,):
                    out += ["", f"Coordinates at mip {m} (u, v) -> bytes:", ""]
                    out += [f"- ({u!r}, {v!r}) -> {b.tolist()}" for (u, v), b in
                            zip(vector_uvs().astype(float).tolist(), nx.decode_uv(a, vector_uvs(), mip=m))]
            else:
                for profile in ("d3d11", "lavapipe"):
                    dec = nh.decode_mip(a, 0, profile=profile)
                    out.append(f"- mip 0, profile {profile}: `{json.dumps(dec.tolist(), separators=(',', ':'))}`")
                for m in range(1, a.mip_levels):
                    out.append(f"- mip {m}, profile d3d11: sha256[:16] of the bytes "
                               f"{_digest(nh.decode_mip(a, m, profile='d3d11'))}")
                tri = nh.decode_uv(a, vector_uvs(), np.float32(0.75), filter="trilinear", profile="lavapipe")
                out += ["", "Coordinates, trilinear at LOD 0.75, profile lavapipe (u, v) -> bytes:", ""]
                out += [f"- ({u!r}, {v!r}) -> {b.tolist()}" for (u, v), b in
                        zip(vector_uvs().astype(float).tolist(), tri)]
            out.append("")
    out.append(END)
    return "\n".join(out)


VBEGIN, VEND = "<!-- BEGIN volume_vectors -->", "<!-- END volume_vectors -->"


def tiny_volume():
    """The fixed neural volume of the volume test vectors (deterministic)."""
    from ngsdk.asset.types import DecoderLayer
    from ngsdk.asset.volume import NeuralVolumeAsset, Normalization, VolumeBrick, VolumeGrid

    rng = np.random.default_rng(20261123)

    def transform() -> np.ndarray:
        a = np.eye(3) * rng.uniform(0.8, 1.2, 3) + rng.uniform(-0.15, 0.15, (3, 3))
        return np.concatenate([a, rng.uniform(-0.3, 0.3, (3, 1))], axis=1).astype(np.float32)

    def layer(n_in: int, n_out: int, act: str) -> DecoderLayer:
        return DecoderLayer(rng.uniform(-1, 1, (n_out, n_in)).astype(np.float32),
                            rng.uniform(-0.2, 0.6, n_out).astype(np.float32), act)

    b0 = VolumeBrick("brick000", (0, 3, 0, 4, 0, 3), (0, 3, 0, 4, 0, 4), [
        VolumeGrid("grid00", transform(), "unorm8", rng.integers(0, 256, (2, 3, 3, 2), dtype=np.uint8),
                   scale=float(np.float32(1 / 255)), offset=-0.25),
        VolumeGrid("grid01", transform(), "float16", rng.uniform(-1, 1, (2, 2, 3, 1)).astype(np.float16)),
    ], Decoder([layer(3, 4, "relu"), layer(4, 1, "none")]))
    b1 = VolumeBrick("brick001", (0, 3, 0, 4, 3, 5), (0, 3, 0, 4, 2, 5), [
        VolumeGrid("grid00", transform(), "float16", rng.uniform(-1, 1, (3, 2, 2, 3)).astype(np.float16)),
    ], Decoder([layer(3, 1, "none")]))
    return NeuralVolumeAsset("volume_vectors", (3, 4, 5), Normalization(0.0, 1.0, "<f4"), [b0, b1],
                             Provenance(ngsdk_version="vectors"), decode_mode="exact")


def volume_points() -> np.ndarray:
    """Points of the volume vectors: a voxel, the brick boundary (x = 0.25, a tie) and its neighbour, outside."""
    return np.array([[0.5, -1 / 3, 0.0], [0.25, 0.1, -0.7], [np.nextafter(np.float32(0.25), np.float32(1)), 0.1, -0.7],
                     [-1.0, 1.0, 1.0], [0.9, -0.95, 0.3], [1.4, -2.0, 0.05]], dtype=np.float32)


def _f(v) -> str:
    v = np.float32(v)
    return f"{float(v)!r} (0x{int(v.view(np.uint32)):08x})"


def _volume_json(asset) -> str:
    bricks = []
    for b in asset.bricks:
        scale, offset = asset.local_transform(b)
        bricks.append({
            "core": list(b.core), "fit": list(b.fit),
            "to_local": {"scale": scale.astype(float).tolist(), "offset": offset.astype(float).tolist()},
            "grids": [{"storage": g.storage, "resolution_zyx": list(g.resolution), "features": g.features,
                       "transform": g.transform.astype(float).tolist(), "scale": g.scale, "offset": g.offset,
                       "values": g.values.astype(float if g.storage == "float16" else int).tolist()}
                      for g in b.grids],
            "layers": [{"weight": ly.weight.astype(float).tolist(), "bias": ly.bias.astype(float).tolist(),
                        "activation": ly.activation} for ly in b.decoder.layers],
        })
    return json.dumps({"shape_zyx": list(asset.shape), "bricks": bricks}, separators=(",", ":"))


def _trace_volume(asset, p: np.ndarray) -> list[str]:
    """One point step by step, in plain scalar float32 / integer arithmetic."""
    from runtime_ref.neural_volume import select_bricks

    f32 = np.float32
    bi = int(select_bricks(asset, p[None])[0])
    b = asset.bricks[bi]
    scale, offset = asset.local_transform(b)
    pl = [f32(f32(p[a] * scale[a]) + offset[a]) for a in range(3)]
    lines = [f"Point p = ({', '.join(repr(float(v)) for v in p)}): brick {bi} ({b.name}); "
             f"p_local = ({', '.join(_f(v) for v in pl)})"]
    feats = []
    for g in b.grids:
        t = g.transform
        q = [f32(f32(f32(f32(t[r, 0] * pl[0]) + f32(t[r, 1] * pl[1])) + f32(t[r, 2] * pl[2])) + t[r, 3])
             for r in range(3)]
        taps = []
        for qa, r in zip(q, g.resolution[::-1]):
            u = f32(f32(qa + f32(1)) * f32(0.5 * (r - 1)))
            big = max(-(1 << 30), min(1 << 30, int(np.floor(f32(u * f32(256))))))
            taps.append((big, big >> 8, big & 255))
        (_, ix, wx), (_, iy, wy), (_, iz, wz) = taps
        rz, ry, rx = g.resolution
        line = (f"- {g.name} ({g.storage}): q = ({', '.join(_f(v) for v in q)}); X = {[t[0] for t in taps]}, "
                f"i0 = {[t[1] for t in taps]}, w = {[t[2] for t in taps]}")
        inside = [(dz, dy, dx) for dz in (0, 1) for dy in (0, 1) for dx in (0, 1)
                  if 0 <= iz + dz < rz and 0 <= iy + dy < ry and 0 <= ix + dx < rx]
        wgt = {(dz, dy, dx): ((wx if dx else 256 - wx) * (wy if dy else 256 - wy), wz if dz else 256 - wz)
               for dz, dy, dx in inside}
        if g.storage == "unorm8":
            s_z = [[0] * g.features, [0] * g.features]
            w_z = [0, 0]
            for (dz, dy, dx), (wxy, _) in wgt.items():
                w_z[dz] += wxy
                for k in range(g.features):
                    s_z[dz][k] += wxy * int(g.values[iz + dz, iy + dy, ix + dx, k])
            s = [(s_z[0][k] >> 8) * (256 - wz) + (s_z[1][k] >> 8) * wz for k in range(g.features)]
            wt = (w_z[0] >> 8) * (256 - wz) + (w_z[1] >> 8) * wz
            a, c = f32(g.scale * 2.0**-16), f32(g.offset * 2.0**-16)
            out = [f32(f32(f32(v) * a) + f32(f32(wt) * c)) for v in s]
            line += f"; S_z = {s_z}, W_z = {w_z}; S = {s}, Wt = {wt}"
        else:
            acc = [f32(0)] * g.features
            for (dz, dy, dx), (wxy, wzz) in wgt.items():
                w = f32(f32(wxy) * f32(wzz))
                acc = [f32(acc[k] + f32(w * f32(g.values[iz + dz, iy + dy, ix + dx, k]))) for k in range(g.features)]
            out = [f32(v * f32(2.0**-24)) for v in acc]
            line += f"; {len(inside)} taps in range; acc = [{', '.join(_f(v) for v in acc)}]"
        lines.append(line + f"; features [{', '.join(_f(v) for v in out)}]")
        feats += out
    x = feats
    for i, ly in enumerate(b.decoder.layers):
        y = []
        for j in range(ly.outputs):
            acc = ly.bias[j]
            for k in range(ly.inputs):
                acc = f32(acc + f32(ly.weight[j, k] * x[k]))
            y.append(acc)
        hidden = i < len(b.decoder.layers) - 1
        x = [v if v > 0 else f32(0) for v in y] if hidden else y
        lines.append(f"- layer {i}: acc [{', '.join(_f(v) for v in y)}]" + (" -> relu" if hidden else ""))
    out = min(x[0], f32(1)) if x[0] > 0 else f32(0)
    lines.append(f"- output: {_f(out)}")
    return lines


def volume_block() -> str:
    from runtime_ref.neural_volume import decode_points, reconstruct

    asset = tiny_volume()
    pts = volume_points()
    got = decode_points(asset, pts)
    recon = reconstruct(asset)
    out = [VBEGIN, "", "Generated by `python tools/decode_vectors.py --write-docs`; checked by "
           "tests/unit/test_volume_asset.py.", "",
           "Asset (`tools/decode_vectors.py` `tiny_volume()`; values as [z][y][x][feature], weights [out][in], "
           "transforms [row][column]):", "", "```json", _volume_json(asset), "```", ""]
    for i in (1, 5):    # inside every grid; partly outside the volume and its grids (dropped taps)
        out += _trace_volume(asset, pts[i]) + [""]
        assert out[-2].endswith(_f(got[i])), "the scalar trace disagrees with runtime_ref"
    out += ["Points (x, y, z) -> value (float32 bits):", ""]
    out += [f"- ({', '.join(repr(float(v)) for v in p)}) -> {_f(v)}" for p, v in zip(pts, got)]
    vals = [[[float(v) for v in row] for row in sl] for sl in recon]
    out += ["", "Full reconstruction, [z][y][x], float32 values:", "", f"`{json.dumps(vals, separators=(',', ':'))}`",
            "", f"sha256 of its little-endian float32 bytes (`reference_decode.volume`): "
            f"`{hashlib.sha256(recon.astype('<f4').tobytes()).hexdigest()}`", "", VEND]
    return "\n".join(out)


def replace_block(text: str, new: str, begin: str = BEGIN, end: str = END) -> str:
    if begin not in text or end not in text:
        raise ValueError(f"{DOC}: no {begin} ... {end} block")
    return text[: text.index(begin)] + new + text[text.index(end) + len(end):]


def _all_blocks(text: str) -> str:
    return replace_block(replace_block(text, block()), volume_block(), VBEGIN, VEND)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--write-docs", action="store_true")
    g.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    if args.write_docs:
        atomic_write_bytes(DOC, _all_blocks(DOC.read_text(encoding="utf-8")).encode("utf-8"))
        print(f"updated {DOC}")
    elif args.check:
        text = DOC.read_text(encoding="utf-8")
        if _all_blocks(text) != text:
            print(f"{DOC}: test vectors are stale; run python tools/decode_vectors.py --write-docs", file=sys.stderr)
            return 1
        print("test vectors up to date")
    else:
        print(block() + "\n\n" + volume_block())
    return 0


if __name__ == "__main__":
    sys.exit(main())

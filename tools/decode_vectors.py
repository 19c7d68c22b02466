#!/usr/bin/env python3
"""Test vectors of the integer decode modes for docs/decode-spec.md, from a tiny fixed asset.

The asset is built from a seeded NumPy generator (no training): a 9x7 texture with 4 mips, two grids
with mixed code widths (4 and 2 bits; 8 bits for the hardware mode), two encoding terms (period 4
texels, phases 0 and 1/4) and an integer decoder 15 -> 8 -> 6 -> 3.

The tool prints the vectors block: the asset itself, one texel's decode step by step, whole-mip
results and coordinate decodes, so an implementation can be checked from the document alone.
``--write-docs`` replaces the block between the ``<!-- BEGIN decode_vectors -->`` markers of
docs/decode-spec.md; ``--check`` fails if that block is stale (a unit test runs it).
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


def tiny_asset(mode: str = "exact", address: str = "wrap") -> NeuralTextureAsset:
    """The fixed asset of the test vectors (deterministic for ``mode`` and ``address``)."""
    rng = np.random.default_rng(20261124)
    bits0, bits1 = (4, 2) if mode == "exact" else (8, 8)
    grids = [FeatureGrid("grid0", 6, bits0, 2.0 / ((1 << bits0) - 1), -1.0, _levels(rng, 5, 4, 6, bits0)),
             FeatureGrid("grid1", 5, bits1, 2.0 / ((1 << bits1) - 1), -1.0, _levels(rng, 3, 2, 5, bits1))]
    dims = [15, 8, 6, 3]
    layers = []
    for i, (a, b) in enumerate(zip(dims, dims[1:])):
        hidden = i < len(dims) - 2
        layers.append(IntLayer(
            weight=rng.integers(-64, 65, size=(b, a)), bias=rng.integers(-1000, 6001, size=b),
            multiplier=rng.integers(96, 256, size=b), shift=rng.integers(13, 15, size=b),
            activation="relu" if hidden else "clamp01", out_scale=1.0 / 255.0))
    scales = [2.0 ** (g.bits - 7) / ((1 << g.bits) - 1) if mode == "exact" else 1.0 / 127.0
              for g in grids for _ in range(g.features)] + [1.0 / 127.0] * 4
    q = QuantizedDecoder(layers=layers, period_log2=[2, 2], phase=[0, 256], input_scales=scales,
                         reference_profile="d3d11")
    mips = 4
    grid_levels = [[min(m, len(g.levels) - 1) for g in grids] for m in range(mips)]
    return NeuralTextureAsset(
        name=f"vectors_{mode}_{address}", width=WIDTH, height=HEIGHT,
        channels=[Channel("albedo.r", "albedo", "r", "srgb"), Channel("albedo.g", "albedo", "g", "srgb"),
                  Channel("roughness", "roughness", "r", "linear")],
        grids=grids, grid_levels=grid_levels, decoder=Decoder.from_quantized(q),
        encoding=Encoding("triangle", frequencies=[1.25], phases=[0.0, 0.25]),
        sampler=SamplerState("bilinear", address), provenance=Provenance(ngsdk_version="vectors"),
        decode_mode=mode)


def _asset_json(asset: NeuralTextureAsset) -> str:
    q = asset.decoder.quantized
    d = {
        "texture": [asset.width, asset.height], "mips": asset.mip_levels, "grid_levels": asset.grid_levels,
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
    for g, lv in zip(asset.grids, asset.grid_levels[mip]):
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
        lines.append(f"- {g.name} level {lv} ({gw}x{gh}): X = {x}, Y = {y}; taps x {x0},{x1} w {wx}; "
                     f"y {y0},{y1} w {wy}; L = {total.tolist()}; inputs {xin.tolist()}")
        if g is asset.grids[0]:
            e = (int(ni.encoding_position(np.array([x]), gw, asset.sampler.address)[0]),
                 int(ni.encoding_position(np.array([y]), gh, asset.sampler.address)[0]))
    enc = ni.encoding_inputs(np.array([e[0]]), np.array([e[1]]), q.period_log2, q.phase)[0]
    lines.append(f"- encoding: E = {e}; inputs {enc.tolist()}")
    x = np.concatenate(xs + [enc]).astype(np.float64)[None]
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
    for mode in ("exact", "hardware"):
        for address in ("wrap", "clamp"):
            a = tiny_asset(mode, address)
            out += [f"### {mode} mode, address {address}", "", "Asset (codes per level as [row][column][feature], "
                    "weights [out][in]):", "", "```json", _asset_json(a), "```", ""]
            if mode == "exact":
                out += _trace_exact(a, 1, 2, 1) + [""]
                mips = [nx.decode_mip(a, m) for m in range(a.mip_levels)]
                uv = nx.decode_uv(a, vector_uvs(), mip=0)
                out.append("Whole mips (bytes [row][column][channel]):")
                out.append("")
                for m, dec in enumerate(mips):
                    out.append(f"- mip {m}: `{json.dumps(dec.tolist(), separators=(',', ':'))}`")
                out += ["", "Coordinates at mip 0 (u, v) -> bytes:", ""]
                out += [f"- ({u!r}, {v!r}) -> {b.tolist()}" for (u, v), b in
                        zip(vector_uvs().astype(float).tolist(), uv)]
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


def replace_block(text: str, new: str) -> str:
    if BEGIN not in text or END not in text:
        raise ValueError(f"{DOC}: no {BEGIN} ... {END} block")
    return text[: text.index(BEGIN)] + new + text[text.index(END) + len(END):]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--write-docs", action="store_true")
    g.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    new = block()
    if args.write_docs:
        atomic_write_bytes(DOC, replace_block(DOC.read_text(encoding="utf-8"), new).encode("utf-8"))
        print(f"updated {DOC}")
    elif args.check:
        text = DOC.read_text(encoding="utf-8")
        if replace_block(text, new) != text:
            print(f"{DOC}: test vectors are stale; run python tools/decode_vectors.py --write-docs", file=sys.stderr)
            return 1
        print("test vectors up to date")
    else:
        print(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Whole-mip decode speed of ``exact``-mode neural textures on CUDA: the fused Triton kernel
(ngsdk.textures.fused_decode) against the trainer's torch decode (ngsdk.textures.strict.strict_decode_mip).

The asset is synthetic: the default plan at ``--bpp`` for a ``--size``-square texture of ``--channels``
channels (ngsdk.textures.config.plan_grids / layout_for: one latent pyramid, 8 features x 4 bits, two taps,
12 encoding inputs, a LOD input, decoder 29 -> 64 -> 64 -> 64 -> 9), random codes and a random integer decoder
whose multipliers and shifts spread each layer's outputs over [0, 255] within QuantizedDecoder's int32 bounds.
Times are CUDA-event medians after warm-up; the fused decode's output stays on the GPU, the torch decode
returns a CPU tensor (as the trainer uses it), so its time includes that copy; a third row times the fused
decode plus the same copy. The two outputs are compared byte for byte on the GPU, and mip ``--ref-mip`` is
also checked against runtime_ref's NumPy decode.

    python tools/bench_texture_decode.py --json build/texture_decode.json
    python tools/bench_texture_decode.py --size 1024 --sweep

Roofline figures use H100 SXM datasheet peaks (dense int8 1979 TOPS, HBM3 3.35 TB/s): ``int8 TOPS`` counts
the decoder's useful multiply-adds (2 ops each, unpadded), ``bytes`` the least DRAM traffic a decode needs
(the packed codes of the levels it reads, the position tables and the output bytes).
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a plain script: its tools.* siblings import from the checkout
    sys.path.insert(0, str(REPO))

from ngsdk.asset.atomic import atomic_write_bytes  # noqa: E402
from ngsdk.asset.neural_texture import (  # noqa: E402
    Channel,
    Encoding,
    FeatureGrid,
    NeuralTextureAsset,
    SamplerState,
)
from ngsdk.asset.types import Decoder, IntLayer, Provenance, QuantizedDecoder  # noqa: E402
from tools.bench_common import cuda_times, say  # noqa: E402


def cuda_ms(fn, repeats: int, warmup: int) -> list[float]:
    """Milliseconds per call of ``fn`` (:func:`tools.bench_common.cuda_times`)."""
    return [1000.0 * t for t in cuda_times(fn, repeats, warmup)]

PEAK_INT8_TOPS = 1979.0
PEAK_HBM_TBS = 3.35
SWEEP = [  # (block, tile_width, num_warps, programs_per_sm, num_stages)
    (128, 64, 4, 8, 3), (128, 64, 4, 8, 1), (128, 64, 4, 3, 3), (128, 128, 4, 8, 3), (64, 64, 4, 8, 3),
    (64, 64, 4, 16, 1), (256, 128, 8, 2, 3), (128, 64, 4, 0, 3),
]


def _layer(rng: np.random.Generator, x: np.ndarray, n_out: int, xmax: int, last: bool) -> tuple[IntLayer, np.ndarray]:
    """A random integer layer for inputs like ``x`` (N, in): multiplier and shift map the 2nd..98th percentile
    of each channel's accumulator onto [0, 255], the bias moves its low end to 0; kept within the int32 bounds."""
    n_in = x.shape[1]
    w = rng.integers(-127, 128, size=(n_out, n_in))
    acc = x @ w.T
    lo, hi = np.percentile(acc, 2, axis=0), np.percentile(acc, 98, axis=0)
    bias = np.clip(np.round(-lo), -(2**21), 2**21).astype(np.int64)
    mult, shift = np.zeros(n_out, np.int64), np.zeros(n_out, np.int64)
    for j in range(n_out):
        bound = abs(int(bias[j])) + int(np.abs(w[j]).sum()) * xmax
        m_max = (1 << min(8, 30 - bound.bit_length())) - 1
        scale = 255.0 / max(1.0, float(hi[j] - lo[j]))
        sh = 1
        while sh < 30 and scale * 2.0 ** (sh + 1) <= m_max:
            sh += 1
        mult[j] = max(1, min(m_max, round(scale * 2.0**sh)))
        shift[j] = sh
    layer = IntLayer(w, bias, mult, shift, activation="clamp01" if last else "relu")
    y = np.clip((x @ w.T + bias) * mult + (1 << (shift - 1)) >> shift, 0, 255)
    return layer, y


def synthetic_asset(size: int | tuple[int, int], channels: int = 9, *, bpp: float = 5.0, seed: int = 0,
                    address: str = "wrap", layout: str = "pyramid", latent_bits: int = 4,
                    hidden: int = 64, hidden_layers: int = 3) -> NeuralTextureAsset:
    """An ``exact``-mode asset with the trainer's plan for these settings: random codes, random valid decoder."""
    from ngsdk.textures.config import TextureTrainConfig, layout_for, mip_count, plan_grids
    from ngsdk.textures.quant import encoding_terms, latent_input_scale

    width, height = (size, size) if isinstance(size, int) else size
    cfg = TextureTrainConfig(bpp=bpp, address=address, layout=layout, latent_bits=latent_bits, hidden=hidden,
                             hidden_layers=hidden_layers, decode_mode="exact")
    cfg.grids = plan_grids(width, height, channels, cfg)
    cfg.check()
    plan = layout_for(cfg.grids, mip_count(width, height), cfg)
    rng = np.random.default_rng(seed)
    grids = []
    for g in cfg.grids:
        levels, w, h = [], g.width, g.height
        for _ in range(g.levels or mip_count(g.width, g.height)):
            levels.append(rng.integers(0, 1 << g.bits, size=(h, w, g.features), dtype=np.uint8))
            w, h = max(1, w // 2), max(1, h // 2)
        grids.append(FeatureGrid(g.name, g.features, g.bits, 2.0 / ((1 << g.bits) - 1), -1.0, levels))
    periods, phases = encoding_terms(cfg.encoding_frequencies_cells, cfg.encoding_phases)
    taps0 = [g for g, _ in plan.taps[0]]
    n_lat = sum(grids[g].features for g in taps0)
    scales = [latent_input_scale(grids[g].bits, "exact") for g in taps0 for _ in range(grids[g].features)]
    scales += [1.0 / 127.0] * (2 * len(periods)) + ([1.0 / 127.0] if plan.lod_inputs else [])
    # typical inputs: latents in [-120, 120], triangle waves in [0, 127], the LOD input +-127
    n = 4096
    x = np.concatenate([rng.integers(-120, 121, size=(n, n_lat)), rng.integers(0, 128, size=(n, 2 * len(periods))),
                        rng.choice([-127, 127], size=(n, 1 if plan.lod_inputs else 0))], axis=1)
    dims = [x.shape[1]] + [hidden] * hidden_layers + [channels]
    layers = []
    for i, n_out in enumerate(dims[1:]):
        layer, x = _layer(rng, x, n_out, 127 if i == 0 else 255, i == len(dims) - 2)
        layers.append(layer)
    q = QuantizedDecoder(layers=layers, period_log2=periods, phase=phases, input_scales=scales)
    g0w = cfg.grids[taps0[0]].width
    chans = [Channel(f"user:c{i}", f"user:c{i}", "r") for i in range(channels)]
    return NeuralTextureAsset(
        name=f"synthetic_{width}x{height}", width=width, height=height, channels=chans, grids=grids,
        taps=plan.taps, lod_inputs=plan.lod_inputs, decoder=Decoder.from_quantized(q),
        encoding=Encoding("triangle", [g0w * c for c in cfg.encoding_frequencies_cells], list(cfg.encoding_phases)),
        sampler=SamplerState("bilinear", address), provenance=Provenance(ngsdk_version="bench"),
        decode_mode="exact")


def decoder_ops(asset: NeuralTextureAsset) -> int:
    """int8 operations per texel of the decoder (2 per multiply-add, unpadded)."""
    return sum(2 * l.inputs * l.outputs for l in asset.decoder.quantized.layers)


def min_bytes(asset: NeuralTextureAsset, mip: int) -> int:
    """Least DRAM bytes of one decode: packed codes of the levels read, the position tables, the output."""
    from ngsdk.textures.fused_decode import _plan

    plan = _plan(asset)
    w, h = asset.mip_size(mip)
    codes = 0
    for (g, lv), tap in {(gl, t) for gl, t in zip(asset.taps[mip], plan.taps)}:
        lh, lw = asset.grids[g].levels[lv].shape[:2]
        codes += 4 * tap.words * lh * lw
    tables = 4 * (w * (3 * len(plan.taps) + plan.su) + h * (3 * len(plan.taps) + plan.sv))
    return codes + tables + w * h * asset.decoder.outputs


def row(name: str, ms: list[float], texels: int, ops: int, nbytes: int, base: float | None) -> dict[str, Any]:
    med = statistics.median(ms)
    rec = {"method": name, "ms": med, "ms_min": min(ms), "runs": len(ms), "gtexels_per_s": texels / med / 1e6,
           "int8_tops": ops * texels / med / 1e9, "gbytes_per_s": nbytes / med / 1e6}
    rec["speedup_vs_torch"] = base / med if base else None
    return rec


def table(records: list[dict[str, Any]]) -> str:
    lines = ["| decode | ms (median) | G texels/s | int8 TOPS | GB/s | vs torch |", "|---|---|---|---|---|---|"]
    for r in records:
        vs = f"{r['speedup_vs_torch']:.1f}x" if r["speedup_vs_torch"] else "1.0x"
        lines.append(f"| {r['method']} | {r['ms']:.3f} | {r['gtexels_per_s']:.2f} | {r['int8_tops']:.1f} | "
                     f"{r['gbytes_per_s']:.0f} | {vs} |")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", type=int, default=4096, help="texture width and height (default 4096)")
    p.add_argument("--channels", type=int, default=9)
    p.add_argument("--bpp", type=float, default=5.0)
    p.add_argument("--address", choices=("wrap", "clamp"), default="wrap")
    p.add_argument("--mip", type=int, default=0, help="mip to time (default 0)")
    p.add_argument("--repeats", type=int, default=50, help="timed fused decodes (median reported)")
    p.add_argument("--torch-repeats", type=int, default=5, help="timed torch decodes")
    p.add_argument("--ref-mip", type=int, default=3, help="also check this mip against runtime_ref (-1: skip)")
    p.add_argument("--sweep", action="store_true", help="time the kernel configurations of SWEEP too")
    p.add_argument("--hidden", type=int, default=64, help="decoder width (the quality option: 128)")
    p.add_argument("--hidden-layers", type=int, default=3, help="hidden layers (the quality option: 2 of 128)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, help="save the records here")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch

    if not torch.cuda.is_available():
        print("error: tools/bench_texture_decode.py needs a CUDA GPU (torch.cuda.is_available() is False); "
              "the fused kernel's CPU check is tests/unit/test_fused_decode.py", file=sys.stderr)
        return 2
    from ngsdk.runtime_ref.neural_texture_exact import decode_mip
    from ngsdk.textures.fused_decode import FusedTextureDecoder
    from ngsdk.textures.strict import strict_decode_mip

    dev = torch.device("cuda")
    say(f"building a synthetic {args.size}x{args.size} {args.channels}-channel asset at {args.bpp} bpp, decoder "
        f"{args.hidden_layers} x {args.hidden}")
    asset = synthetic_asset(args.size, args.channels, bpp=args.bpp, seed=args.seed, address=args.address,
                            hidden=args.hidden, hidden_layers=args.hidden_layers)
    q = asset.decoder.quantized
    w, h = asset.mip_size(args.mip)
    texels = w * h
    ops = decoder_ops(asset)
    nbytes = min_bytes(asset, args.mip)

    dec = FusedTextureDecoder(asset, dev)
    fused = dec.decode_mip(args.mip)
    torch.cuda.synchronize()
    config = {"block": dec.block, "tile_width": dec.tile_width, "num_warps": dec.num_warps,
              "programs_per_sm": dec.programs_per_sm, "num_stages": dec.num_stages, "asm": dec.asm,
              "chunk": dec.plan.chunk}
    say(f"fused decode compiled: {config}")
    strict = strict_decode_mip(asset, args.mip, device=dev)
    identical = bool(torch.equal(fused, strict.to(dev)))
    say(f"fused == torch on mip {args.mip}: {identical}")
    ref_identical = None
    if 0 <= args.ref_mip < asset.mip_levels:
        got = dec.decode_mip(args.ref_mip).cpu().numpy()
        ref_identical = bool(np.array_equal(got, decode_mip(asset, args.ref_mip)))
        say(f"fused == runtime_ref on mip {args.ref_mip}: {ref_identical}")

    t_torch = cuda_ms(lambda: strict_decode_mip(asset, args.mip, device=dev), args.torch_repeats, 1)
    base = statistics.median(t_torch)
    records = [row("torch (strict.py, int64, output to host)", t_torch, texels, ops, nbytes, None)]
    out = torch.empty_like(fused)
    t_fused = cuda_ms(lambda: dec.decode_mip(args.mip, out=out), args.repeats, 5)
    records.append(row("fused Triton (output on GPU)", t_fused, texels, ops, nbytes, base))
    t_copy = cuda_ms(lambda: dec.decode_mip(args.mip, out=out).cpu(), max(5, args.repeats // 5), 2)
    records.append(row("fused Triton + copy to host", t_copy, texels, ops, nbytes, base))

    sweep = []
    if args.sweep:
        for block, tw, warps, ppsm, stages in SWEEP:
            d = FusedTextureDecoder(asset, dev, block=block, tile_width=tw, num_warps=warps, programs_per_sm=ppsm,
                                    num_stages=stages)
            same = bool(torch.equal(d.decode_mip(args.mip), fused))
            ms = statistics.median(cuda_ms(lambda d=d: d.decode_mip(args.mip, out=out), args.repeats, 3))
            sweep.append({"block": block, "tile_width": tw, "num_warps": warps, "programs_per_sm": ppsm,
                          "num_stages": stages, "ms": ms, "identical": same})
            say(f"  block {block:4d} tile_width {tw:4d} warps {warps} programs/SM {ppsm} stages {stages}: {ms:.3f} ms"
                f"{'' if same else '  OUTPUT DIFFERS'}")

    fused_ms = records[1]["ms"]
    doc = {
        "tool": "bench_texture_decode",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "device": torch.cuda.get_device_name(dev),
        "versions": {"torch": torch.__version__, "cuda": torch.version.cuda, "triton": _triton_version()},
        "asset": {"size": [asset.width, asset.height], "mip": args.mip, "mip_size": [w, h],
                  "channels": asset.decoder.outputs, "bpp": args.bpp, "address": args.address,
                  "grids": [[g.name, g.width, g.height, g.features, g.bits, len(g.levels)] for g in asset.grids],
                  "taps": asset.taps[args.mip], "decoder": [q.inputs] + [l.outputs for l in q.layers]},
        "kernel_config": config,
        "identical_fused_vs_torch": identical,
        "identical_fused_vs_runtime_ref": ref_identical,
        "ref_mip": args.ref_mip,
        "records": records,
        "sweep": sweep,
        "roofline": {"ops_per_texel": ops, "min_bytes": nbytes, "ops_per_byte": ops * texels / nbytes,
                     "peak_int8_tops": PEAK_INT8_TOPS, "peak_hbm_tbs": PEAK_HBM_TBS,
                     "fused_fraction_of_int8_peak": ops * texels / fused_ms / 1e9 / PEAK_INT8_TOPS,
                     "fused_fraction_of_hbm_peak": nbytes / fused_ms / 1e9 / PEAK_HBM_TBS},
        "target_ms": 2.0,
    }
    print(f"{asset.name}, mip {args.mip} ({w}x{h}, {asset.decoder.outputs} channels) on {doc['device']}")
    print(table(records))
    print(f"fused == torch: {identical}; fused == runtime_ref (mip {args.ref_mip}): {ref_identical}")
    rf = doc["roofline"]
    print(f"roofline: {ops} int8 ops/texel, {nbytes / 1e6:.1f} MB least traffic, {rf['ops_per_byte']:.0f} ops/byte; "
          f"fused at {100 * rf['fused_fraction_of_int8_peak']:.1f} % of int8 peak, "
          f"{100 * rf['fused_fraction_of_hbm_peak']:.1f} % of HBM peak")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(args.json, (json.dumps(doc, indent=1, allow_nan=False) + "\n").encode("utf-8"))
        say(f"wrote {args.json}")
    if not identical or ref_identical is False or any(not s["identical"] for s in sweep):
        print("error: the fused decode differs from the reference", file=sys.stderr)
        return 1
    return 0


def _triton_version() -> str:
    try:
        import triton
    except ImportError:
        return "(not installed)"
    return triton.__version__


if __name__ == "__main__":
    sys.exit(main())

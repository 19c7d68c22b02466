#!/usr/bin/env python3
"""Neural texture compression vs block compression (BCn): quality per bit, and GPU convergence time.

Table mode (default): for each material and each ``--bpp`` rate, train a neural texture with ngsdk and
read the mip-0 PSNR of its exact decode from the asset's provenance; beside it, compress the material's
8-bit source with etcpak at the usual BCn rates (BC7 colour, BC5 normals, BC4 single channels, and the
packed BC7+BC5+BC7 layout) and with Arm's ASTC encoder at 4x4, 6x6 and 8x8 blocks, decode them (BCn with
texture2ddecoder, an independent decoder) and measure them with the same metric functions
(``ngsdk.textures.metrics``, in each channel's stored colour space). ``--plot`` draws PSNR against bpp
per material (a rate-distortion chart, PNG).

``--gpu-convergence``: train one material (boombox_2k at 5 bpp unless told otherwise) on CUDA for a time
budget and report when the evaluation PSNR first came within 1.5 dB of its final value.

Progress goes to stderr; the markdown table and verdicts go to stdout. ``--write-docs`` replaces this
script's sections of docs/benchmarks.md (between ``<!-- BEGIN bench_textures:... -->`` markers) and keeps
the rest of the file. ``--json`` saves the raw records; ``--from-json`` renders saved records (no runs),
so a long benchmark can be run in pieces and written to the docs at once.

    python tools/bench_textures.py --materials ground068_1k --bpp 5 --time-budget 10 --device cpu
    python tools/bench_textures.py --time-budget 60 --device cuda --json build/bench.json --write-docs
    python tools/bench_textures.py --gpu-convergence --time-budget 60 --write-docs
    python tools/bench_textures.py --from-json build/bcn.json build/gpu.json --write-docs --plot docs/images/rd.png
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a plain script: its tools.* siblings import from the checkout
    sys.path.insert(0, str(REPO))

from ngsdk.asset.atomic import atomic_write_bytes  # noqa: E402
from ngsdk.asset.errors import AssetError  # noqa: E402
from ngsdk.metrics import psnr  # noqa: E402
from ngsdk.textures.bcn import (  # noqa: E402 - the one BCn implementation, shared with ngsdk decode/verify
    BcnUnavailable,
    Block,
    bc_codecs,
    bc_roundtrip,  # noqa: E402, F401 - tests/integration/test_bench_textures.py uses it
    bcn_decode,
    layout_name,
    plan_bcn,
    rebuild_normal_z,
    stored_to_linear,
)
from ngsdk.textures.bcn import normal_z as _normal_z  # noqa: E402
from ngsdk.textures.colour import to_uint8  # noqa: E402
from ngsdk.textures.ingest import TextureSet, load_texture_set  # noqa: E402
from ngsdk.textures.metrics import texture_groups, texture_metrics  # noqa: E402
from tools.bench_common import device_description, dist_version, resolve_device, say, write_docs  # noqa: E402

DEFAULT_DATA = REPO / ".." / "shared" / "data" / "textures"
DEFAULT_DOCS = REPO / "docs" / "benchmarks.md"
MATERIALS = ("ground068_1k", "bark", "metal", "rock", "onyx", "boombox_2k", "fabric_pattern_07_1k")
DEFAULT_RATES = (1.0, 2.5, 5.0, 10.0)
VERDICT_MAX_BPP = 5.0
VERDICT_NEAR_BPP = 2.5
VERDICT_NEAR_DB = 2.0
"""The bars: at 5 bpp at least BCn's PSNR; at 2.5 bpp within 2 dB of it."""
CONVERGENCE_MARGIN_DB = 1.5
TOOL = "bench_textures"
SECTION_TABLE = "nt-vs-bcn"
SECTION_GPU = "gpu-convergence"


# ----------------------------------------------------------------------------------------------
# Block compression (the codec path is ngsdk.textures.bcn)


def _bc_codecs() -> tuple[Any, Any]:
    try:
        return bc_codecs()
    except BcnUnavailable as e:
        raise SystemExit(f"error: {e}; or pass --no-bcn") from None


def _mse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))


def bcn_records(ts: TextureSet) -> list[dict[str, Any]]:
    """BCn rows for one material: the separate layout, and the packed one when >= 3 single channels.

    Besides the PSNR rows, each record's ``notes`` say what limits BCn that is not block
    compression: an 8-bit quantisation of a deeper source, and for BC5 normals the PSNR of x, y alone
    and of z rebuilt from the uncompressed source (low when the source normals are not unit length).
    """
    chans = ts.channels
    stored8 = to_uint8(ts.source_values())
    src8 = stored8.astype(np.float32) / np.float32(255.0)
    notes = []
    q = texture_metrics(stored_to_linear(src8, chans), ts.data, chans)["overall_db"]
    if q < 99.0:  # a 16-bit source loses a little in the 8-bit input a BCn pipeline starts from
        notes.append(f"8-bit source quantisation alone: {q:.2f} dB")
    layouts = [("BCn", plan_bcn(chans, packed=False))]
    if sum(1 for idx in texture_groups(chans).values() if len(idx) == 1) >= 3:
        layouts.append(("BCn packed", plan_bcn(chans, packed=True)))
    normal = next((b for b in layouts[0][1] if b.normal), None)
    if normal is not None:
        idx = [*normal.index, _normal_z(chans)]
        floor = src8.copy()
        floor[..., idx[2]] = rebuild_normal_z(stored8[..., idx[0]], stored8[..., idx[1]])
        db = psnr(_mse(floor[..., idx], ts.data[..., idx]))
        notes.append(f"normal with z rebuilt from the uncompressed 8-bit x, y: {db:.2f} dB "
                     f"(source mean |n| {_mean_length(ts.data[..., idx]):.3f})")
    cache: dict[Block, tuple[np.ndarray, int]] = {}
    records = []
    for method, blocks in layouts:
        t0 = time.perf_counter()
        stored, nbytes = bcn_decode(stored8, chans, blocks, cache)
        m = texture_metrics(stored_to_linear(stored, chans), ts.data, chans, perceptual=True)
        seconds = time.perf_counter() - t0
        mine = list(notes)
        if normal is not None:
            xy = list(normal.index)
            mine.append(f"BC5 normal x, y alone: {psnr(_mse(stored[..., xy], ts.data[..., xy])):.2f} dB")
        records.append({
            "material": ts.name, "channels": len(chans), "method": method,
            "layout": layout_name(blocks), "target_bpp": None, "bpp": nbytes * 8.0 / (ts.width * ts.height),
            "overall_db": m["overall_db"], "textures_db": m["textures_db"], "encode_decode_s": seconds,
            "ssim": m.get("ssim"), "flip": m.get("flip"),
            "train_s": None, "steps": None, "samples_per_s": None, "notes": mine,
        })
    return records


def _mean_length(encoded: np.ndarray) -> float:
    return float(np.linalg.norm(encoded.astype(np.float64) * 2.0 - 1.0, axis=-1).mean())


# ----------------------------------------------------------------------------------------------
# ngsdk training


def train_record(ts: TextureSet, bpp: float, args: argparse.Namespace, device: str,
                 label: str) -> dict[str, Any]:
    """Train one neural texture and return its record (metrics from the asset's provenance)."""
    from ngsdk.textures.config import TextureTrainConfig
    from ngsdk.textures.train import train_texture
    from ngsdk.training import TrainProgress

    cfg = TextureTrainConfig(bpp=bpp, steps=args.steps, time_budget=args.time_budget, seed=args.seed,
                             device=device, batch_size=args.batch_size, eval_every=args.eval_every)

    def progress(p: TrainProgress) -> None:
        say(f"  [{label}] step {p.step} {p.elapsed:.1f}s eval {p.psnr:.2f} dB ({p.phase})")

    t0 = time.perf_counter()
    result = train_texture(ts, cfg, progress=progress)
    total = time.perf_counter() - t0
    m = result.asset.provenance.metrics
    mip0 = m["per_mip"][0]
    return {
        "material": ts.name, "channels": len(ts.channels), "method": "ngsdk", "layout": f"{bpp:g} bpp preset",
        "target_bpp": bpp, "bpp": float(m["bpp"]), "overall_db": float(mip0["overall_db"]),
        "textures_db": {k: float(v) for k, v in mip0["textures_db"].items()},
        "per_mip_db": [float(x["overall_db"]) for x in m["per_mip"]],
        "ssim": mip0.get("ssim"), "flip": mip0.get("flip"),
        "train_s": result.seconds, "steps": result.steps,
        "batch_size": cfg.resolved_batch("cuda" if device.startswith("cuda") else "cpu"),
        "samples_per_s": result.samples / result.seconds if result.seconds > 0 else None,
        "finalize_s": total - result.seconds, "device": device_description(device),
        "time_budget": args.time_budget, "step_limit": args.steps, "seed": args.seed,
        "eval_every": args.eval_every, "history": result.history, "notes": [],
    }


# ----------------------------------------------------------------------------------------------
# Tables and verdicts


def _db(x: float | None) -> str:
    if x is None:
        return "-"
    if not math.isfinite(x):
        return str(x)
    return f"{x:.2f}"


def method_label(r: dict[str, Any]) -> str:
    if r["method"] == "ngsdk":
        return f"ngsdk {r['target_bpp']:g} bpp"
    return f"{r['method']} ({r['layout']})"


def _ssim(r: dict[str, Any]) -> str:
    vals = [v for v in (r.get("ssim") or {}).values() if v == v]
    return f"{sum(vals) / len(vals):.4f}" if vals else "-"


def render_table(records: list[dict[str, Any]]) -> str:
    head = ("| material | channels | method | bpp | overall PSNR (dB) | SSIM | per-texture PSNR (dB) | train s "
            "| steps | samples/s |")
    lines = [head, "|---|---:|---|---:|---:|---:|---|---:|---:|---:|"]
    for r in records:
        if r.get("error"):
            lines.append(f"| {r['material']} | {r['channels']} | {method_label(r)} | - | failed: "
                         f"{r['error']} | | | | | |")
            continue
        per = ", ".join(f"{k} {_db(v)}" for k, v in r["textures_db"].items())
        sps = "-" if r.get("samples_per_s") is None else f"{r['samples_per_s']:,.0f}"
        train = "-" if r.get("train_s") is None else f"{r['train_s']:.1f}"
        steps = "-" if r.get("steps") is None else str(r["steps"])
        shared = " (shared GPU)" if any("beside" in n for n in r.get("notes", [])) else ""
        lines.append(f"| {r['material']} | {r['channels']} | {method_label(r)} | {r['bpp']:.2f} "
                     f"| {_db(r['overall_db'])} | {_ssim(r)} | {per} | {train}{shared} | {steps} | {sps} |")
    return "\n".join(lines)


def verdicts(records: list[dict[str, Any]]) -> list[str]:
    """One line per material against the separate BCn layout: ngsdk at <= 5 bpp at least as good, and
    ngsdk at 2.5 bpp within 2 dB."""
    out = []
    for material in dict.fromkeys(r["material"] for r in records):
        mine = [r for r in records if r["material"] == material and not r.get("error")]
        ours = [r for r in mine if r["method"] == "ngsdk" and r["target_bpp"] <= VERDICT_MAX_BPP]
        bcn = [r for r in mine if r["method"] == "BCn"]
        if not ours or not bcn:
            missing = "no ngsdk run at <= 5 bpp" if not ours else "no BCn row"
            out.append(f"{material}: ngsdk <= {VERDICT_MAX_BPP:g} bpp reaches BCn PSNR: n/a ({missing})")
            continue
        ref = bcn[0]
        best = max(ours, key=lambda r: r["overall_db"])
        yes = best["overall_db"] >= ref["overall_db"]
        line = (f"{material}: ngsdk <= {VERDICT_MAX_BPP:g} bpp reaches BCn PSNR: {'yes' if yes else 'no'} "
                f"({_db(best['overall_db'])} dB at {best['bpp']:.2f} bpp vs BCn {_db(ref['overall_db'])} dB at "
                f"{ref['bpp']:.0f} bpp, {best['overall_db'] - ref['overall_db']:+.2f} dB)")
        near = [r for r in ours if abs(r["target_bpp"] - VERDICT_NEAR_BPP) < 1e-9]
        if near:
            d = near[0]["overall_db"] - ref["overall_db"]
            line += (f"; {VERDICT_NEAR_BPP:g} bpp {'within' if d >= -VERDICT_NEAR_DB else 'NOT within'} "
                     f"{VERDICT_NEAR_DB:g} dB ({d:+.2f} dB)")
        out.append(line)
    return out


def material_notes(records: list[dict[str, Any]]) -> list[str]:
    """One line per material with notes (what limits a row besides compression)."""
    out = []
    for material in dict.fromkeys(r["material"] for r in records):
        notes = dict.fromkeys(n for r in records if r["material"] == material for n in r.get("notes", []))
        if notes:
            out.append(f"{material}: " + "; ".join(notes))
    return out


def _setups(records: list[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for r in records:
        if r["method"] != "ngsdk" or r.get("error"):
            continue
        limits = []
        if r.get("time_budget"):
            limits.append(f"time budget {r['time_budget']:g} s")
        if r.get("step_limit"):
            limits.append(f"at most {r['step_limit']} steps")
        limit = ", ".join(limits)
        seen[f"{r['device']}; {limit}; batch {r['batch_size']}; seed {r['seed']}"] = None
    return list(seen)


def table_section(records: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    """The docs/benchmarks.md section of the table mode (markdown, without markers)."""
    etcpak_version = dist_version("etcpak")
    t2d_version = dist_version("texture2ddecoder")
    lines = [
        "## Neural texture compression vs BCn",
        "",
        _produced_by(meta),
        "",
        "- PSNR is measured on mip 0 against the source, in each channel's stored colour space (sRGB for",
        "  albedo and emissive, linear otherwise), per texture and over all channels, with",
        "  `ngsdk.textures.metrics.texture_metrics` for both methods (99 dB caps an exact match).",
        "- ngsdk: `train_texture` with the `--bpp` preset; the PSNR is the exact decode's, from the asset's",
        "  provenance metrics. bpp = (bytes of all grids incl. every level + decoder weight bytes) * 8 /",
        "  mip-0 texels, i.e. the neural rate already pays for the mip chain.",
        f"- BCn: the 8-bit source (each channel's stored values) compressed with etcpak {etcpak_version}",
        "  (default bc7enc parameters for BC7; etcpak's BC4/BC5 use each block's min and max as endpoints,",
        f"  a fast encoder) and decoded with texture2ddecoder {t2d_version}. BC5 stores the normal's x and",
        "  y; z is rebuilt as sqrt(1 - x^2 - y^2). Rates count mip 0 only (8 bpp per BC7/BC5 texture, 4",
        "  per BC4 channel); a full mip chain costs 4/3 of that. \"BCn packed\" puts three single channels",
        "  in one BC7 (24 bpp for a 9-channel set).",
        "- ASTC: Arm's astc-encoder (astc-encoder-py, medium preset, sRGB profile for colour), one RGB texture per",
        "  colour map, the normal's x/y with the normal swizzle (z rebuilt), single channels three to a texture;",
        "  128 bits per block whatever the footprint (4x4: 8, 6x6: 3.56, 8x8: 2 bpp per texture, mip 0 only).",
        "- SSIM: scikit-image's structural_similarity per channel in stored space, averaged over the textures.",
    ]
    for s in _setups(records):
        lines.append(f"- ngsdk runs: {s}.")
    lines += ["", render_table(records), "",
              "Verdicts (best ngsdk rate <= 5 bpp vs the separate BCn layout):", ""]
    lines += [f"- {v}" for v in verdicts(records)]
    notes = material_notes(records)
    if notes:
        lines += ["", "Notes (BC5 normals are scored with z rebuilt, as a shader does; when the source",
                  "normals are not unit length that alone caps the normal's PSNR):", ""]
        lines += [f"- {n}" for n in notes]
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# GPU convergence


def convergence(history: list[dict[str, float]], margin_db: float = CONVERGENCE_MARGIN_DB) -> dict[str, Any]:
    """When the eval PSNR history first came within ``margin_db`` of its final value."""
    if not history:
        raise ValueError("no evaluation points in the training history: raise --time-budget/--steps "
                         "or lower --eval-every")
    final = history[-1]["psnr"]
    first = next(h for h in history if h["psnr"] >= final - margin_db)
    return {"final_eval_db": final, "within_s": first["seconds"], "within_step": int(first["step"]),
            "margin_db": margin_db, "eval_points": len(history)}


def gpu_section(records: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    lines = [
        "## Neural texture training on the GPU: time to converge",
        "",
        _produced_by(meta),
        "",
        f"- Time to within {CONVERGENCE_MARGIN_DB} dB: the first evaluation (every `eval_every` steps, 16384",
        "  mip-0 texels, linear values) whose PSNR is within the margin of the last evaluation's. The",
        "  learning rate follows the time budget (cosine), so this time depends on the budget too.",
        "- Samples/s = steps * batch / training seconds (evaluations included). Mip-0 PSNR is the exact",
        "  decode's, in stored colour spaces, from the asset's provenance.",
        "",
        render_gpu_table(records),
    ]
    return "\n".join(lines)


def render_gpu_table(records: list[dict[str, Any]]) -> str:
    lines = ["| material | device | bpp | budget s | steps | batch | samples/s | final eval PSNR (dB) "
             f"| mip-0 PSNR (dB) | time to within {CONVERGENCE_MARGIN_DB} dB |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in records:
        c = r["convergence"]
        budget = "-" if r.get("time_budget") is None else f"{r['time_budget']:g}"
        lines.append(f"| {r['material']} | {r['device']} | {r['bpp']:.2f} | {budget} | {r['steps']} "
                     f"| {r['batch_size']} | {r['samples_per_s']:,.0f} | {_db(c['final_eval_db'])} "
                     f"| {_db(r['overall_db'])} | {c['within_s']:.1f} s (step {c['within_step']}) |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# Command line


def _rates(text: str) -> list[float]:
    try:
        rates = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected comma-separated numbers, "
                                         "e.g. 1,2.5,5,10") from None
    if not rates or any(not (0 < r <= 64) for r in rates):
        raise argparse.ArgumentTypeError(f"{text!r}: rates must be in (0, 64] bits per texel")
    return rates


def _names(text: str) -> list[str]:
    names = [x.strip() for x in text.split(",") if x.strip()]
    if not names:
        raise argparse.ArgumentTypeError("give at least one material name")
    return names


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder holding the material folders")
    p.add_argument("--materials", type=_names, default=None,
                   help=f"comma-separated material folders (default: {','.join(MATERIALS)}; "
                        "boombox_2k with --gpu-convergence)")
    p.add_argument("--bpp", type=_rates, default=None,
                   help="comma-separated ngsdk rates (default 1,2.5,5,10; 5 with --gpu-convergence)")
    p.add_argument("--time-budget", type=float, default=None, help="training seconds per run (default 60 "
                   "unless --steps is given)")
    p.add_argument("--steps", type=int, default=None, help="training steps per run (reproducible runs)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default=None,
                   help="training device (default auto; cuda with --gpu-convergence)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=None,
                   help="samples per training step (default: the trainer's, 131072 on CUDA, 8192 on the CPU)")
    p.add_argument("--no-astc", action="store_true", help="skip the ASTC rows")
    p.add_argument("--plot", type=Path, help="write the PSNR-vs-bpp charts (one panel per material) to this PNG "
                        "(a folder: rd_textures.png in it)")
    p.add_argument("--eval-every", type=int, default=None,
                   help="steps between eval PSNR points (default 100; 10 with --gpu-convergence)")
    p.add_argument("--no-train", action="store_true", help="BCn rows only (no ngsdk training)")
    p.add_argument("--no-bcn", action="store_true", help="ngsdk rows only (e.g. on a GPU machine without "
                   "etcpak; merge with a --no-train run's records through --from-json)")
    p.add_argument("--gpu-convergence", action="store_true",
                   help="time to within 1.5 dB of the final PSNR and samples/s on the GPU")
    p.add_argument("--json", type=Path, help="also save the raw records (with eval histories) here")
    p.add_argument("--from-json", type=Path, nargs="+", help="render saved records instead of running "
                   "(later files replace earlier rows of the same material and method)")
    p.add_argument("--write-docs", action="store_true", help="replace this script's section of --docs")
    p.add_argument("--docs", type=Path, default=DEFAULT_DOCS, help="markdown file for --write-docs")
    args = p.parse_args(argv)
    if args.time_budget is not None and args.time_budget <= 0:
        p.error("--time-budget must be positive")
    if args.steps is not None and args.steps < 1:
        p.error("--steps must be at least 1")
    if args.eval_every is not None and args.eval_every < 1:
        p.error("--eval-every must be at least 1")
    if args.batch_size is not None and args.batch_size < 1:
        p.error("--batch-size must be at least 1")
    if args.no_bcn and args.no_train:
        p.error("--no-bcn with --no-train leaves nothing to run")
    if args.time_budget is None and args.steps is None:
        args.time_budget = 60.0
    if args.gpu_convergence:
        args.materials = args.materials or ["boombox_2k"]
        args.bpp = args.bpp or [5.0]
        args.device = args.device or "cuda"
        args.eval_every = args.eval_every or 10
    else:
        args.materials = args.materials or list(MATERIALS)
        args.bpp = args.bpp or list(DEFAULT_RATES)
        args.device = args.device or "auto"
        args.eval_every = args.eval_every or 100
    return args


def _meta(argv: list[str] | None) -> dict[str, Any]:
    from ngsdk import __version__

    cmd = " ".join(["python tools/bench_textures.py", *(sys.argv[1:] if argv is None else argv)])
    return {"commands": [cmd], "date": datetime.date.today().isoformat(), "ngsdk": __version__}


def _merge_commands(commands: list[str]) -> list[str]:
    """Commands that differ only in --materials, --bpp and --json (one GPU call per material and rate)
    shown as the one command that runs them all."""
    import shlex

    merged: dict[tuple[str, ...], dict[str, list[str]]] = {}
    for cmd in commands:
        args, rest, values = shlex.split(cmd), [], {"--materials": [], "--bpp": []}
        i = 0
        while i < len(args):
            if args[i] in ("--materials", "--bpp", "--json") and i + 1 < len(args):
                if args[i] != "--json":
                    values[args[i]] += args[i + 1].split(",")
                i += 2
                continue
            rest.append(args[i])
            i += 1
        into = merged.setdefault(tuple(rest), {"--materials": [], "--bpp": []})
        for k, v in values.items():
            into[k] += [x for x in v if x not in into[k]]
    out = []
    for rest, values in merged.items():
        extra = [f"{k} {','.join(sorted(v, key=float) if k == '--bpp' else v)}" for k, v in values.items() if v]
        out.append(" ".join([*rest, *extra]))
    return out


def _produced_by(meta: dict[str, Any]) -> str:
    runs = ", ".join(f"`{c}`" for c in _merge_commands(meta["commands"])) or "(unknown command)"
    return f"Produced by {runs} on {meta['date']} (ngsdk {meta['ngsdk']})."


def _load_material(data: Path, name: str) -> TextureSet:
    folder = data / name
    t0 = time.perf_counter()
    ts = load_texture_set(folder)
    groups = ", ".join(texture_groups(ts.channels))
    say(f"{name}: {ts.width}x{ts.height}, {len(ts.channels)} channels ({groups}), "
        f"loaded in {time.perf_counter() - t0:.1f} s")
    return ts


def _check_materials(data: Path, names: list[str]) -> None:
    if not data.is_dir():
        raise SystemExit(f"error: {data}: material data folder does not exist (give --data)")
    missing = [n for n in names if not (data / n).is_dir()]
    if missing:
        have = sorted(p.name for p in data.iterdir() if p.is_dir())
        raise SystemExit(f"error: {data}: no material folder {', '.join(missing)} "
                         f"(available: {', '.join(have) or 'none'})")


def _merge(files: list[Path]) -> tuple[list[dict[str, Any]], str, dict[str, Any]]:
    """Records of saved --json files (a later file's row replaces an earlier one), mode, merged meta."""
    by_key: dict[tuple[Any, ...], dict[str, Any]] = {}
    mode = None
    meta: dict[str, Any] = {"commands": [], "date": "", "ngsdk": []}
    for f in files:
        try:
            doc = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise SystemExit(f"error: {f}: cannot read saved records: {e}") from None
        if not isinstance(doc, dict) or "records" not in doc or doc.get("mode") not in ("table", "gpu"):
            raise SystemExit(f"error: {f}: not a bench_textures.py --json file (no mode/records)")
        if mode is not None and doc["mode"] != mode:
            raise SystemExit(f"error: {f}: holds {doc['mode']} records, earlier files hold {mode} records")
        mode = doc["mode"]
        m = doc.get("meta", {})
        cmds = m.get("commands") or ([m["command"]] if "command" in m else [])
        meta["commands"] += [c for c in cmds if c not in meta["commands"]]
        meta["date"] = max(meta["date"], m.get("date", ""))
        meta["ngsdk"] += [] if m.get("ngsdk") in meta["ngsdk"] else [m.get("ngsdk")]
        for r in doc["records"]:
            by_key[(r["material"], r["method"], r.get("target_bpp"))] = r
    order = {name: i for i, name in enumerate(MATERIALS)}
    methods = {"BCn": 0, "BCn packed": 1, "ASTC 4x4": 2, "ASTC 6x6": 3, "ASTC 8x8": 4, "ngsdk": 5}
    records = sorted(by_key.values(), key=lambda r: (order.get(r["material"], len(order)), r["material"],
                                                      methods.get(r["method"], 3), r.get("target_bpp") or 0))
    meta["ngsdk"] = ", ".join(str(v) for v in meta["ngsdk"])
    return records, mode or "table", meta


def run_table(args: argparse.Namespace) -> list[dict[str, Any]]:
    _check_materials(args.data, args.materials)
    if not args.no_bcn:
        _bc_codecs()  # fail before any training when the BCn codecs are missing
    device = None if args.no_train else resolve_device(args.device)
    records: list[dict[str, Any]] = []
    for name in args.materials:
        ts = _load_material(args.data, name)
        if not args.no_bcn:
            t0 = time.perf_counter()
            bcn = bcn_records(ts)
            say("  BCn: " + "; ".join(f"{r['layout']} {r['bpp']:.0f} bpp {r['overall_db']:.2f} dB"
                                      for r in bcn) + f" ({time.perf_counter() - t0:.1f} s)")
            records += bcn
        if not args.no_astc:
            records += astc_rows(ts)
        if device is None:
            continue
        for bpp in args.bpp:
            label = f"{name} {bpp:g} bpp"
            limit = (f"budget {args.time_budget:g} s" if args.time_budget else f"{args.steps} steps")
            say(f"  ngsdk {bpp:g} bpp: training on {device} ({limit}), then exact decode of every mip...")
            try:
                r = train_record(ts, bpp, args, device, label)
            except (ValueError, RuntimeError) as e:
                say(f"  ngsdk {bpp:g} bpp: FAILED: {e}")
                records.append({"material": name, "channels": len(ts.channels), "method": "ngsdk",
                                "layout": f"{bpp:g} bpp preset", "target_bpp": bpp, "error": str(e)})
                continue
            say(f"  ngsdk {bpp:g} bpp: {r['bpp']:.2f} bpp, {r['overall_db']:.2f} dB, {r['steps']} steps in "
                f"{r['train_s']:.1f} s ({r['samples_per_s']:,.0f} samples/s), exact decode + metrics "
                f"{r['finalize_s']:.1f} s")
            records.append(r)
    return records


def astc_rows(ts: TextureSet) -> list[dict[str, Any]]:
    """ASTC records at every footprint, or none (with a note on stderr) when the encoder is missing."""
    from ngsdk.textures.astc import FOOTPRINTS, AstcUnavailable, astc_record

    rows = []
    for block in FOOTPRINTS:
        try:
            r = astc_record(ts, block)
        except AstcUnavailable as e:
            say(f"  ASTC skipped: {e}")
            return []
        say(f"  {r['method']}: {r['bpp']:.2f} bpp {r['overall_db']:.2f} dB ({r['encode_decode_s']:.1f} s)")
        rows.append(r)
    return rows


def plot_rd(records: list[dict[str, Any]], path: Path) -> None:
    """PSNR (mip 0, all channels) against bits per texel, one panel per material: ngsdk's rates as a line,
    BCn and ASTC layouts as points."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    materials = list(dict.fromkeys(r["material"] for r in records if not r.get("error")))
    cols = min(4, len(materials))
    rows = -(-len(materials) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False)
    style = {"BCn": ("s", "tab:red"), "BCn packed": ("D", "tab:orange"), "ASTC 4x4": ("^", "tab:green"),
             "ASTC 6x6": ("^", "tab:olive"), "ASTC 8x8": ("^", "tab:cyan")}
    for ax, material in zip(axes.flat, materials):
        mine = [r for r in records if r["material"] == material and not r.get("error")]
        ours = sorted((r for r in mine if r["method"] == "ngsdk"), key=lambda r: r["bpp"])
        if ours:
            ax.plot([r["bpp"] for r in ours], [r["overall_db"] for r in ours], "o-", color="tab:blue",
                    label="ngsdk (exact decode)")
        for r in mine:
            if r["method"] in style:
                marker, colour = style[r["method"]]
                ax.plot([r["bpp"]], [r["overall_db"]], marker, color=colour, label=r["method"])
        ax.set_title(material, fontsize=10)
        ax.set_xscale("log")
        ax.set_xticks([1, 2, 5, 10, 20, 30])
        ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel("bits per texel (all channels)")
        ax.set_ylabel("mip-0 PSNR (dB)")
        ax.grid(True, which="both", alpha=0.3)
    # one legend for all panels (inside a panel it hides points): in a spare panel, else below the grid
    handles = {}
    for ax in axes.flat:
        for h, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, h)
    spare = list(axes.flat)[len(materials):]
    for ax in spare:
        ax.axis("off")
    if spare:
        spare[0].legend(handles.values(), handles.keys(), loc="center", fontsize=9, frameon=False)
        fig.tight_layout()
    else:
        fig.legend(handles.values(), handles.keys(), loc="lower center", ncol=len(handles), fontsize=8,
                   frameon=False)
        fig.tight_layout(rect=(0, 0.06, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
    say(f"wrote {path}")


def run_gpu(args: argparse.Namespace) -> list[dict[str, Any]]:
    _check_materials(args.data, args.materials)
    device = resolve_device(args.device)
    if device != "cuda":
        say(f"warning: --gpu-convergence on {device}: the numbers describe that device, not a GPU")
    records = []
    for name in args.materials:
        ts = _load_material(args.data, name)
        for bpp in args.bpp:
            label = f"{name} {bpp:g} bpp"
            say(f"  ngsdk {bpp:g} bpp on {device}: training, eval every {args.eval_every} steps...")
            r = train_record(ts, bpp, args, device, label)
            try:
                r["convergence"] = convergence(r["history"])
            except ValueError as e:
                raise SystemExit(f"error: {label}: {e}") from None
            c = r["convergence"]
            say(f"  {label}: final eval {c['final_eval_db']:.2f} dB, within {CONVERGENCE_MARGIN_DB} dB after "
                f"{c['within_s']:.1f} s (step {c['within_step']}), {r['samples_per_s']:,.0f} samples/s")
            records.append(r)
    return records


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    meta = _meta(argv)
    try:
        if args.from_json:
            records, mode, meta = _merge(args.from_json)
        elif args.gpu_convergence:
            records, mode = run_gpu(args), "gpu"
        else:
            records, mode = run_table(args), "table"
    except AssetError as e:
        raise SystemExit(f"error: {e}") from None
    if args.json and not args.from_json:
        doc = {"mode": mode, "meta": meta, "records": records}
        atomic_write_bytes(args.json, (json.dumps(doc, indent=1, allow_nan=False) + "\n").encode("utf-8"))
        say(f"wrote {args.json}")
    if mode == "gpu":
        print(render_gpu_table(records), flush=True)
        if args.write_docs:
            write_docs(args.docs, TOOL, SECTION_GPU, gpu_section(records, meta))
        return 0
    print(render_table(records))
    print()
    for v in verdicts(records):
        print(v)
    notes = material_notes(records)
    if notes:
        print("\nNotes:")
        for n in notes:
            print(n)
    sys.stdout.flush()
    if args.plot:
        plot_rd(records, args.plot / "rd_textures.png" if args.plot.is_dir() else args.plot)
    if args.write_docs:
        write_docs(args.docs, TOOL, SECTION_TABLE, table_section(records, meta))
    failed = [r for r in records if r.get("error")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

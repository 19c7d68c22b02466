#!/usr/bin/env python3
"""Quality cost of the integer decode modes: train each material in ``float``, ``exact`` and
``hardware`` mode with the same steps, batch and seed, and compare the mip-0 PSNR of each mode's own
decode (from the asset's provenance: the bit-exact decode that ``ngsdk verify`` reproduces).

``float`` and ``exact`` use the same latent grids (planned once for the float mode at ``--bpp``), so
the difference is the arithmetic alone; ``hardware`` needs 8-bit latents and plans its own grids at
the same ``--bpp``. PSNR is measured in each channel's stored colour space (ngsdk.textures.metrics).

    python tools/bench_decode_modes.py --size 256 --steps 300 --device cpu
    python tools/bench_decode_modes.py --size 1024 --steps 3000 --device cuda --json out.json --write-docs

``--write-docs`` replaces this script's section of docs/benchmarks.md (between the
``<!-- BEGIN bench_decode_modes:quality -->`` markers) and keeps everything else.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a plain script: its tools.* siblings import from the checkout
    sys.path.insert(0, str(REPO))

from ngsdk.asset.atomic import atomic_write_bytes  # noqa: E402
from ngsdk.asset.types import DECODE_MODES  # noqa: E402
from ngsdk.textures.ingest import TextureSet, load_texture_set  # noqa: E402
from tools.bench_common import device_description, resolve_device, say, write_docs  # noqa: E402

DEFAULT_DATA = REPO / ".." / "shared" / "data" / "textures"
DEFAULT_DOCS = REPO / "docs" / "benchmarks.md"
MATERIALS = ("ground068_1k", "bark", "metal", "rock", "onyx", "boombox_2k", "fabric_pattern_07_1k")
SECTION = "quality"


def centre_crop(ts: TextureSet, size: int) -> TextureSet:
    if size >= ts.width and size >= ts.height:
        return ts
    w, h = min(size, ts.width), min(size, ts.height)
    x0, y0 = (ts.width - w) // 2, (ts.height - h) // 2
    data = np.ascontiguousarray(ts.data[y0:y0 + h, x0:x0 + w])
    return TextureSet(ts.name, w, h, ts.channels, data, ts.sources, list(ts.notes))


def train_one(ts: TextureSet, mode: str, args: argparse.Namespace, grids) -> dict:
    from ngsdk.textures.config import TextureTrainConfig
    from ngsdk.textures.train import train_texture

    cfg = TextureTrainConfig(bpp=args.bpp, steps=args.steps, batch_size=args.batch_size, seed=args.seed,
                             device=args.device, decode_mode=mode, latent_bits=8 if mode == "hardware" else 4,
                             eval_every=max(50, args.steps // 10), qat_start=args.qat_start)
    if grids is not None and mode != "hardware":
        cfg.grids = [type(g)(**vars(g)) for g in grids]
    t0 = time.perf_counter()
    res = train_texture(ts, cfg, progress=lambda p: say(f"  [{ts.name} {mode}] step {p.step} {p.psnr:.2f} dB"))
    m = res.asset.provenance.metrics
    return {"material": ts.name, "mode": mode, "size": [ts.width, ts.height], "steps": res.steps,
            "bpp": float(m["bpp"]), "overall_db": float(m["per_mip"][0]["overall_db"]),
            "textures_db": m["per_mip"][0]["textures_db"], "train_s": res.seconds,
            "total_s": time.perf_counter() - t0, "grids": [vars(g) for g in cfg.grids]}


def run(args: argparse.Namespace, meta: dict) -> list[dict]:
    from ngsdk.textures.config import TextureTrainConfig, plan_grids

    records: list[dict] = []
    for name in args.materials:
        ts = centre_crop(load_texture_set(Path(args.data) / name), args.size)
        say(f"{name}: {ts.width}x{ts.height}, {len(ts.channels)} channels")
        base = TextureTrainConfig(bpp=args.bpp, latent_bits=4)
        grids = plan_grids(ts.width, ts.height, len(ts.channels), base)
        for mode in args.modes:
            rec = train_one(ts, mode, args, grids)
            say(f"  {mode}: {rec['overall_db']:.2f} dB at {rec['bpp']:.2f} bpp ({rec['train_s']:.0f} s)")
            records.append(rec)
            if args.json:  # saved after every run, so a long benchmark that is cut off keeps its results
                save_json(args.json, meta, records)
    return records


def save_json(path: str, meta: dict, records: list[dict]) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, (json.dumps({"meta": meta, "records": records}, indent=1) + "\n").encode())


def render(records: list[dict], meta: dict) -> str:
    modes = [m for m in ("float", "exact", "hardware") if any(r["mode"] == m for r in records)]
    by = {(r["material"], r["mode"]): r for r in records}
    mats = list(dict.fromkeys(r["material"] for r in records))
    head = "| material | size | " + " | ".join(f"{m} dB (bpp)" for m in modes)
    if "exact" in modes and "float" in modes:
        head += " | exact - float"
    if "hardware" in modes and "float" in modes:
        head += " | hardware - float"
    lines = [head + " |", "|" + "---|" * (head.count("|"))]
    deltas: dict[str, list[float]] = {"exact": [], "hardware": []}
    for mat in mats:
        size = next(r["size"] for r in records if r["material"] == mat)
        row = f"| {mat} | {size[0]}x{size[1]} | "
        row += " | ".join(f"{by[mat, m]['overall_db']:.2f} ({by[mat, m]['bpp']:.2f})" if (mat, m) in by else "-"
                          for m in modes)
        for other in ("exact", "hardware"):
            if other in modes and "float" in modes:
                if (mat, other) in by and (mat, "float") in by:
                    d = by[mat, other]["overall_db"] - by[mat, "float"]["overall_db"]
                    deltas[other].append(d)
                    row += f" | {d:+.2f}"
                else:
                    row += " | -"
        lines.append(row + " |")
    summary = []
    for other, ds in deltas.items():
        if ds:
            summary.append(f"{other} - float: mean {np.mean(ds):+.2f} dB, worst {min(ds):+.2f} dB, "
                           f"best {max(ds):+.2f} dB over {len(ds)} materials")
    text = [
        "## Decode modes: quality cost of the integer decoder",
        "",
        f"Measured {meta['date']} on {meta['device']} with `tools/bench_decode_modes.py` "
        f"(`--steps {meta['steps']} --batch-size {meta['batch_size']} --bpp {meta['bpp']} --seed {meta['seed']}`, "
        f"centre crops of {meta['size']} px). PSNR of mip 0 in each channel's stored colour space, from each "
        "asset's own bit-exact decode (its provenance). `float` and `exact` share the latent grids (same "
        "bytes), so their difference is the decode arithmetic; `hardware` has 8-bit latents sampled by the "
        "texture filter (d3d11 reference profile) and its own grids at the same bpp target. The integer "
        "decoder is smaller (int8 weights), hence the lower bpp on the same grids. On CUDA the float mode's "
        "training forward runs its MLP under bf16 autocast (the trainer's setting); its decode is strict fp32.",
        "",
        *lines,
        "",
        *[f"- {s}" for s in summary],
    ]
    return "\n".join(text) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--materials", nargs="+", default=list(MATERIALS))
    ap.add_argument("--modes", nargs="+", default=["float", "exact", "hardware"], choices=DECODE_MODES)
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--size", type=int, default=512, help="centre crop size (px)")
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--batch-size", type=int, default=1 << 14)
    ap.add_argument("--bpp", type=float, default=5.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--qat-start", type=float, default=None)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--json", help="save the records here")
    ap.add_argument("--from-json", nargs="+", help="render saved records instead of training")
    ap.add_argument("--write-docs", action="store_true")
    ap.add_argument("--docs", default=str(DEFAULT_DOCS))
    args = ap.parse_args(argv)
    if args.from_json:
        records, meta = [], None
        for f in args.from_json:
            data = json.loads(Path(f).read_text())
            records += data["records"]
            meta = meta or data["meta"]
    else:
        args.device = resolve_device(args.device)
        meta = {"date": datetime.date.today().isoformat(), "device": device_description(args.device),
                "steps": args.steps, "batch_size": args.batch_size, "bpp": args.bpp, "seed": args.seed,
                "size": args.size}
        records = run(args, meta)
    section = render(records, meta)
    print(section)
    if args.write_docs:
        write_docs(Path(args.docs), "bench_decode_modes", SECTION, section)
    return 0


if __name__ == "__main__":
    sys.exit(main())

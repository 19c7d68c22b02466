#!/usr/bin/env python3
"""Neural texture quality campaign: named model/schedule variants x materials, one JSON of results.

Each run trains one variant of the shipped defaults (``TextureTrainConfig`` fields changed by the variant)
on one material at one rate, for a fixed step count (comparable under any load) or a time budget, and
records the exact-decode mip-0 PSNR overall, per texture and per channel, SSIM/ꟻLIP where installed, the
bpp counted, steps and samples/s. Several worker processes may share one GPU (use --steps then: a time
budget would measure the sharing). The table it prints compares every variant with ``base`` on the same
material; docs/textures.md records the verdicts.

    python tools/texture_campaign.py --device cuda --steps 12000 --runs rock:base,rock:h128,metal:base,metal:h128
    python tools/texture_campaign.py --device cuda --time-budget 30 --materials rock,metal --variants base,uniform
    python tools/texture_campaign.py --from-json build/campaign.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import time
import traceback
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tools.bench_common import device_description, say  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "textures"
VARIANTS: dict[str, dict[str, Any]] = {
    "base": {},
    "uniform": {"latent_init_mode": "uniform"},
    "float": {"decode_mode": "float"},
    "h96": {"hidden": 96},
    "h128": {"hidden": 128},
    "layers4": {"hidden_layers": 4},
    "h128_l2": {"hidden": 128, "hidden_layers": 2},
    "h96_l2": {"hidden": 96, "hidden_layers": 2},
    "bits2": {"latent_bits": 2},
    "bits8": {"latent_bits": 8},
    "features16": {"latent_features": 16},
    "qat50": {"qat_start": 0.5},
    "qat70": {"qat_start": 0.7},
    "qat90": {"qat_start": 0.9},
    "noise95": {"noise_fraction": 0.95},
    "lr_latents0.4": {"lr_latents": 0.4},
    "lr_decoder0.01": {"lr_decoder": 0.01},
    "lr_decoder0.02": {"lr_decoder": 0.02},
    "h96_lrd0.01": {"hidden": 96, "lr_decoder": 0.01},
    "h128_lrd0.01": {"hidden": 128, "lr_decoder": 0.01},
    "h128_lrd0.02": {"hidden": 128, "lr_decoder": 0.02},
    "falloff0.5": {"mip_falloff": 0.5},
    "falloff0.1": {"mip_falloff": 0.1},
    "batch65536": {"batch_size": 65536},
    "eval25": {"eval_every": 25},
    "noema": {"ema": None},
    "ema0.98": {"ema": 0.98},
    "ema0.995": {"ema": 0.995},
}
"""Variant name -> the ``TextureTrainConfig`` fields it changes (``base``: the shipped defaults)."""


def run_one(job: dict[str, Any]) -> dict[str, Any]:
    """Train one variant on one material; the result record (or the error, one run failing is not fatal)."""
    from ngsdk.textures.config import TextureTrainConfig
    from ngsdk.textures.ingest import load_texture_set
    from ngsdk.textures.train import train_texture

    rec: dict[str, Any] = {"material": job["material"], "variant": job["variant"], "bpp_target": job["bpp"]}
    try:
        ts = load_texture_set(Path(job["data"]) / job["material"])
        cfg = TextureTrainConfig(bpp=job["bpp"], device=job["device"], steps=job["steps"],
                                 time_budget=job["time_budget"], seed=job["seed"],
                                 **({"eval_every": 10**9} | VARIANTS[job["variant"]]))
        t0 = time.perf_counter()
        r = train_texture(ts, cfg)
        m = r.asset.provenance.metrics
        mip0 = m["per_mip"][0]
        rec.update(history=[[h["step"], round(h["psnr"], 3)] for h in r.history])
        rec.update(bpp=m["bpp"], psnr=m["psnr_db"], mips_db=[round(x["overall_db"], 2) for x in m["per_mip"]],
                   textures_db=mip0["textures_db"],
                   channels_db=mip0["channels_db"], ssim=mip0.get("ssim_overall"), flip=mip0.get("flip"),
                   steps=r.steps, train_s=r.seconds, wall_s=time.perf_counter() - t0,
                   samples_per_s=r.samples / max(r.seconds, 1e-9), device=device_description(job["device"]))
    except Exception:  # noqa: BLE001 - a failed variant is recorded and the campaign goes on
        rec["error"] = traceback.format_exc(limit=3)[-1200:]
    return rec


def table(records: list[dict[str, Any]]) -> str:
    """Markdown table: every run, with its difference to ``base`` on the same material and rate."""
    base = {(r["material"], r["bpp_target"]): r["psnr"] for r in records if r["variant"] == "base" and "psnr" in r}
    lines = ["| material | variant | bpp | PSNR (dB) | vs base | mips 1-3 (dB) | steps | train s | samples/s |",
             "|---|---|---:|---:|---:|---|---:|---:|---:|"]
    for r in sorted(records, key=lambda r: (r["material"], r["bpp_target"], r["variant"] != "base", r["variant"])):
        if "error" in r:
            lines.append(f"| {r['material']} | {r['variant']} | - | failed: {r['error'].splitlines()[-1]} | | | | | |")
            continue
        ref = base.get((r["material"], r["bpp_target"]))
        diff = f"{r['psnr'] - ref:+.2f}" if ref is not None and r["variant"] != "base" else ""
        mips = " / ".join(f"{v:.2f}" for v in r.get("mips_db", [])[1:4])
        lines.append(f"| {r['material']} | {r['variant']} | {r['bpp']:.2f} | {r['psnr']:.2f} | {diff} | {mips} | "
                     f"{r['steps']} | {r['train_s']:.1f} | {r['samples_per_s'] / 1e6:.1f} M |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder holding the material folders")
    ap.add_argument("--materials", default="rock,metal", help="comma-separated materials (with --variants)")
    ap.add_argument("--variants", default="base", help=f"comma-separated variants of: {', '.join(VARIANTS)}")
    ap.add_argument("--runs", help="explicit MATERIAL:VARIANT list, run in this order (replaces the product)")
    ap.add_argument("--bpp", type=float, default=5.0)
    ap.add_argument("--steps", type=int, help="training steps per run (comparable when workers share a GPU)")
    ap.add_argument("--time-budget", type=float, help="training seconds per run (use one worker)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=1, help="processes training at once")
    ap.add_argument("--json", type=Path, help="write the records here (rewritten after every run)")
    ap.add_argument("--from-json", type=Path, help="print the table of saved records instead of running")
    a = ap.parse_args(argv)
    if a.from_json:
        print(table(json.loads(a.from_json.read_text())))
        return 0
    if not a.steps and not a.time_budget:
        ap.error("give --steps or --time-budget")
    if a.runs:
        pairs = [tuple(p.split(":", 1)) for p in a.runs.split(",")]
    else:
        pairs = [(m, v) for m in a.materials.split(",") for v in a.variants.split(",")]
    unknown = sorted({v for _, v in pairs if v not in VARIANTS})
    if unknown:
        ap.error(f"unknown variant(s) {', '.join(unknown)}; known: {', '.join(VARIANTS)}")
    missing = sorted({m for m, _ in pairs if not (a.data / m).is_dir()})
    if missing:
        ap.error(f"no material folder {', '.join(missing)} in {a.data}")
    jobs = [dict(data=str(a.data), material=m, variant=v, bpp=a.bpp, steps=a.steps, time_budget=a.time_budget,
                 device=a.device, seed=a.seed) for m, v in pairs]
    records: list[dict[str, Any]] = []
    with mp.get_context("spawn").Pool(max(1, a.workers)) as pool:
        for i, rec in enumerate(pool.imap_unordered(run_one, jobs), 1):
            records.append(rec)
            what = f"{rec['psnr']:.2f} dB at {rec['bpp']:.2f} bpp" if "psnr" in rec else "FAILED"
            say(f"[{i}/{len(jobs)}] {rec['material']} {rec['variant']}: {what}")
            if a.json:
                a.json.parent.mkdir(parents=True, exist_ok=True)
                a.json.write_text(json.dumps(records, indent=1))
    print(table(records))
    return 0 if all("error" not in r for r in records) else 1


if __name__ == "__main__":
    sys.exit(main())

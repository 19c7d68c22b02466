#!/usr/bin/env python3
"""Neural texture training speed: samples/s per trainer configuration, a profile of one step, convergence time.

Speed: the same material, rate and step count trained with the trainer's switches turned on one at a time
(eager PyTorch at the 1.x default batch of 16384; eager at the default batch; CUDA graphs; CUDA graphs +
the fused Triton sampling), for the float noise phase and the integer QAT phase, in one run so the
ratios compare like with like. ``--profile`` adds the PyTorch profiler's top kernels of one eager and one
graph-replayed step; ``--convergence`` trains with a time budget and reports when the evaluation PSNR
first came within 0.5 dB of the run's final exact-decode PSNR.

    python tools/bench_texture_training.py --device cuda --json build/speed.json --profile build/profile
    python tools/bench_texture_training.py --device cuda --convergence 30 --material boombox_2k
    python tools/bench_texture_training.py --from-json build/speed.json --write-docs
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench_textures import DEFAULT_DATA, DEFAULT_DOCS  # noqa: E402

from tools.bench_common import device_description, say, write_docs  # noqa: E402

SECTION = "training-speed"
CONFIGS = (
    ("eager, batch 16384 (the 1.x trainer's setting)", dict(cuda_graphs=False, fused_sampling=False,
                                                             batch_size=16384)),
    ("eager, default batch", dict(cuda_graphs=False, fused_sampling=False)),
    ("CUDA graphs", dict(fused_sampling=False)),
    ("CUDA graphs + fused sampling (default)", {}),
    ("CUDA graphs + fused sampling, batch 262144", dict(batch_size=262144)),
)
MARGIN_DB = 0.5


def _train(ts, device: str, bpp: float, **kw):
    from ngsdk.textures.config import TextureTrainConfig
    from ngsdk.textures.train import train_texture

    cfg = TextureTrainConfig(bpp=bpp, device=device, **kw)
    return cfg, train_texture(ts, cfg)


def speed_records(ts, device: str, bpp: float, steps: int) -> list[dict[str, Any]]:
    """samples/s of every configuration, noise phase and QAT phase (each its own run of ``steps``)."""
    out = []
    for phase, noise in (("noise (float)", 0.999), ("QAT (integer)", 0.0)):
        for label, kw in CONFIGS:
            if device != "cuda" and ("graphs" in label and "eager" not in label):
                continue
            cfg, r = _train(ts, device, bpp, steps=steps, noise_fraction=noise, eval_every=10**9, **kw)
            sps = r.samples / r.seconds
            out.append({"material": ts.name, "phase": phase, "trainer": label, "steps": r.steps,
                        "batch": cfg.resolved_batch(device), "seconds": r.seconds, "samples_per_s": sps,
                        "device": device_description(device)})
            say(f"  {phase:14s} {label:48s} {sps / 1e6:8.2f} M samples/s")
    return out


def profile_step(ts, device: str, bpp: float, folder: Path) -> None:
    """PyTorch profiler tables of 20 steps per phase, eager and graph-replayed."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    from ngsdk.textures import train as T
    from ngsdk.textures.config import TextureTrainConfig, layout_for, plan_grids
    from ngsdk.textures.mips import build_mips
    from ngsdk.textures.model import NeuralTextureModel
    from ngsdk.textures.stored import stored_targets

    folder.mkdir(parents=True, exist_ok=True)
    mips = build_mips(ts.data)
    nch = len(ts.channels)
    dev = torch.device(device)
    for graphs in (False, True):
        cfg = TextureTrainConfig(bpp=bpp, steps=1, device=device, cuda_graphs=graphs)
        cfg.grids = plan_grids(ts.width, ts.height, nch, cfg)
        model = NeuralTextureModel(cfg, layout_for(cfg.grids, len(mips), cfg), ts.width, ts.height, nch, 0).to(dev)
        sampler = T._Sampler(mips, [stored_targets(m, ts.channels) for m in mips], cfg, dev)
        stepper = T._Stepper(model, sampler, torch.ones(nch, device=dev), cfg, dev, cfg.resolved_batch(device))
        for phase in ("noise", "qat"):
            if phase == "qat" and not model.calibrated:
                mip, _, _, u, v, _ = sampler.draw(stepper.batch, stepper.gen)
                model.calibrate(mip, u, v)
            stepper.run(phase, 5)
            torch.cuda.synchronize()
            with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as p:
                stepper.run(phase, 20)
                torch.cuda.synchronize()
            name = folder / f"profile_{phase}_{'graphs' if graphs else 'eager'}.txt"
            name.write_text(p.key_averages().table(sort_by="cuda_time_total", row_limit=25))
            say(f"  wrote {name}")


def convergence_record(ts, device: str, bpp: float, budget: float) -> dict[str, Any]:
    cfg, r = _train(ts, device, bpp, time_budget=budget, eval_every=50)
    final = float(r.asset.provenance.metrics["psnr_db"])
    within = next((h for h in r.history if h["psnr"] >= final - MARGIN_DB), None)
    rec = {"material": ts.name, "bpp": float(r.asset.provenance.metrics["bpp"]), "budget_s": budget,
           "final_db": final, "steps": r.steps, "samples_per_s": r.samples / r.seconds,
           "within_s": within["seconds"] if within else None, "within_step": within["step"] if within else None,
           "device": device_description(device)}
    say(f"  convergence: final {final:.2f} dB; within {MARGIN_DB} dB after "
        f"{rec['within_s'] if rec['within_s'] is not None else '-'} s")
    return rec


def render(doc: dict[str, Any]) -> str:
    lines = ["## Neural texture training speed", "", f"Produced by `{doc['command']}` on {doc['date']}.", ""]
    speed = doc.get("speed", [])
    if speed:
        lines += [f"Material {speed[0]['material']}, {speed[0]['device']}; every row trains {speed[0]['steps']} "
                  "steps of one phase (graph capture and kernel compilation included in the time).", "",
                  "| phase | trainer | batch | samples/s | vs eager 16384 |", "|---|---|---:|---:|---:|"]
        for phase in dict.fromkeys(r["phase"] for r in speed):
            rows = [r for r in speed if r["phase"] == phase]
            base = rows[0]["samples_per_s"]
            for r in rows:
                lines.append(f"| {phase} | {r['trainer']} | {r['batch']} | {r['samples_per_s'] / 1e6:.1f} M "
                             f"| {r['samples_per_s'] / base:.1f}x |")
        lines.append("")
    c = doc.get("convergence")
    if c:
        when = f"{c['within_s']:.1f} s (step {c['within_step']})" if c["within_s"] is not None else "not reached"
        lines += [f"Convergence ({c['material']}, {c['bpp']:.2f} bpp, {c['device']}, budget {c['budget_s']:g} s): "
                  f"final exact-decode PSNR {c['final_db']:.2f} dB; the evaluation PSNR came within {MARGIN_DB} dB "
                  f"of it after {when}; {c['samples_per_s'] / 1e6:.1f} M samples/s over the run.", ""]
    return "\n".join(lines).rstrip()


def main(argv: list[str] | None = None) -> int:
    import datetime

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--material", default="ground068_1k")
    p.add_argument("--device", default="cuda")
    p.add_argument("--bpp", type=float, default=5.0)
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--no-speed", action="store_true")
    p.add_argument("--profile", type=Path, help="folder for the profiler tables")
    p.add_argument("--convergence", type=float, metavar="SECONDS", help="also a time-budget run of this length")
    p.add_argument("--json", type=Path)
    p.add_argument("--from-json", type=Path)
    p.add_argument("--write-docs", action="store_true")
    p.add_argument("--docs", type=Path, default=DEFAULT_DOCS)
    args = p.parse_args(argv)
    if args.from_json:
        doc = json.loads(args.from_json.read_text())
    else:
        from ngsdk.textures.ingest import load_texture_set

        ts = load_texture_set(args.data / args.material)
        doc = {"command": "python tools/bench_texture_training.py " + " ".join(sys.argv[1:] if argv is None else argv),
               "date": datetime.date.today().isoformat()}
        t0 = time.perf_counter()
        if not args.no_speed:
            doc["speed"] = speed_records(ts, args.device, args.bpp, args.steps)
        if args.profile:
            profile_step(ts, args.device, args.bpp, args.profile)
        if args.convergence:
            doc["convergence"] = convergence_record(ts, args.device, args.bpp, args.convergence)
        say(f"done in {time.perf_counter() - t0:.0f} s")
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(doc, indent=1))
    print(render(doc))
    if args.write_docs:
        write_docs(args.docs, "bench_texture_training", SECTION, render(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())

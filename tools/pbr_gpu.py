#!/usr/bin/env python3
"""Issue 16's GPU acceptance in one run: synthesise captures, train a teacher and a distilled student, and
measure both on the held-out material beside the naive baseline.

Steps (each timed): ``ngsdk.pbr.synth`` (``--samples`` at ``--res``, procedural + the shared sets, one set
held out), the teacher (``--teacher-preset``, GAN, ``--teacher-time`` seconds), the student
(``--student-preset`` distilled from it, ``--student-time`` seconds), then per-map PSNR / SSIM / MAE and the
normal angle error (mean, median, p90) of teacher, student and the naive baseline on up to ``--eval-samples``
held-out samples (dirty views), at the ground truth's resolution. Also the parameter counts and MACs of both
networks beside the shipped Core ML student's (5.0 M fp16 weights, ~104 GMAC). Writes ``pbr_gpu.json`` and
``pbr_gpu.md`` (a table for docs/benchmarks.md) into ``--out``, and the two bundles with ``--bundles``.

GPU machine (tools/gpu/pbr.sh): ``python3 tools/pbr_gpu.py --device cuda --out $OUT``.
CPU smoke test: ``python tools/pbr_gpu.py --device cpu --samples 6 --res 128 --teacher-preset tiny
--student-preset tiny --teacher-time 5 --student-time 5 --eval-samples 2 --out build/pbr_gpu``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

SHIPPED = {"parameters": 5.0e6, "gmac": 104.0, "note": "NeuroPBR mobile_app/ios/pbr_model.mlpackage (fp16)"}
MAP_ORDER = ("albedo", "roughness", "metallic", "normal")


def _resize_maps(x: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(8, S, S) network maps -> (H, W, 8) at the truth's size (antialiased area/bilinear in torch)."""
    import torch
    import torch.nn.functional as F

    t = torch.from_numpy(x)[None].float()
    if tuple(t.shape[-2:]) != size:
        t = F.interpolate(t, size=size, mode="bilinear", align_corners=False, antialias=True)
    return t[0].permute(1, 2, 0).numpy()


def evaluate(models: dict[str, Any], data: Path, samples: int, device: str) -> dict[str, dict[str, float]]:
    """Mean map metrics of each model and of the naive baseline on the held-out samples' dirty views."""
    import torch

    from ngsdk.pbr.data import views_to_tensor
    from ngsdk.pbr.layout import read_layout, read_material, read_views
    from ngsdk.pbr.maps import MaterialMaps, normalise
    from ngsdk.pbr.metrics import map_metrics, mean_metrics, naive_baseline

    layout = read_layout(data / "test")
    rows: dict[str, list[dict[str, float]]] = {name: [] for name in [*models, "naive baseline"]}
    for sample in layout.samples[:samples]:
        raw = read_views(sample.views.get("dirty") or sample.views["clean"])
        truth = read_material(layout, sample.material)
        rows["naive baseline"].append(map_metrics(naive_baseline(raw, truth.size), truth))
        for name, model in models.items():
            v = views_to_tensor(raw, model.spec.image_size).to(device)
            with torch.no_grad():
                out = torch.cat(model(v[0:1], v[1:2], v[2:3]), 1)[0].float().cpu().numpy()
            x = _resize_maps(out, truth.size)
            pred = MaterialMaps(x[..., 0:3].clip(0, 1), x[..., 3].clip(0, 1), x[..., 4].clip(0, 1),
                                normalise(x[..., 5:8]))
            rows[name].append(map_metrics(pred, truth))
    return {k: mean_metrics(v) for k, v in rows.items()}


def table(results: dict[str, Any]) -> str:
    """The markdown table of docs/benchmarks.md."""
    lines = ["| | " + " | ".join(f"{m} PSNR / SSIM" for m in MAP_ORDER) + " | normal angle mean / median / p90 |",
             "|---" * 6 + "|"]
    for name, m in results["quality"].items():
        cells = [f"{m[f'{k}_psnr']:.2f} dB / {m[f'{k}_ssim']:.3f}" for k in MAP_ORDER]
        angle = f"{m['normal_angle_mean']:.1f} / {m['normal_angle_median']:.1f} / {m['normal_angle_p90']:.1f} deg"
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {angle} |")
    lines += ["", "| network | parameters | GMAC per inference | training | steps |", "|---|---|---|---|---|"]
    for role in ("teacher", "student"):
        r = results[role]
        lines.append(f"| {role} {r['preset']} ({r['input']} -> {r['output']} px) | {r['parameters'] / 1e6:.2f} M | "
                     f"{r['gmac']:.1f} | {r['seconds']:.0f} s | {r['steps']} |")
    lines.append(f"| shipped Core ML student | {SHIPPED['parameters'] / 1e6:.1f} M (fp16) | ~{SHIPPED['gmac']:.0f} | "
                 "- | - |")
    t = results["timings"]
    lines += ["", f"Synthesis: {results['synth']['train_samples']} training + {results['synth']['test_samples']} "
              f"held-out samples ({results['synth']['holdout']}) at {results['args']['res']}^2 in {t['synth']:.0f} s; "
              f"teacher {t['teacher']:.0f} s, student (incl. teacher outputs) {t['student']:.0f} s, evaluation "
              f"{t['evaluate']:.0f} s on {results['args']['eval_samples']} samples; device {results['device']}."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("build/pbr_gpu"))
    ap.add_argument("--data", type=Path, help="data folder (default OUT/data); reused when it holds synth.json")
    ap.add_argument("--materials", type=Path, default=Path("../shared/data/textures"))
    ap.add_argument("--samples", type=int, default=500)
    ap.add_argument("--res", type=int, default=512)
    ap.add_argument("--hue", type=float, help="SynthConfig.hue (default: its default)")
    ap.add_argument("--relief", type=float, nargs=2, metavar=("LO", "HI"), help="SynthConfig.relief")
    ap.add_argument("--teacher-preset", default="base")
    ap.add_argument("--student-preset", default="mobile512")
    ap.add_argument("--teacher-time", type=float, default=150.0)
    ap.add_argument("--student-time", type=float, default=150.0)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--eval-samples", type=int, default=16)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--synth-only", action="store_true", help="synthesise into the data folder and stop (a first "
                    "GPU call; the next call finds synth.json there and trains)")
    ap.add_argument("--bundles", action="store_true", help="also write teacher.ngasset and student.ngasset")
    args = ap.parse_args(argv)

    import torch

    from ngsdk.pbr.config import PBRTrainConfig
    from ngsdk.pbr.model import count_macs, parameter_count
    from ngsdk.pbr.synth import SynthConfig, synth_pbr_views
    from ngsdk.pbr.train import train_pbr

    args.out.mkdir(parents=True, exist_ok=True)
    data = args.data or args.out / "data"
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    if (data / "synth.json").is_file():
        synth = json.loads((data / "synth.json").read_text()).get("report", {})
    else:
        materials = sorted(p for p in args.materials.iterdir() if p.is_dir()) if args.materials.is_dir() else []
        def synth_progress(done: int, total: int) -> None:
            if done % 50 == 0 or done == total:
                print(f"synth: {done}/{total} samples, {time.perf_counter() - t0:.0f} s", flush=True)

        extra = {} if args.hue is None else {"hue": args.hue}
        extra |= {"relief": tuple(args.relief)} if args.relief else {}
        rep = synth_pbr_views(materials, data, SynthConfig(samples=args.samples, res=args.res, seed=0,
                                                           device=args.device, **extra), progress=synth_progress)
        synth = rep.to_dict()
    timings["synth"] = time.perf_counter() - t0
    print(f"synth: {timings['synth']:.0f} s", flush=True)
    if args.synth_only:
        return 0

    def log(msg: str) -> None:
        print(msg, flush=True)

    common = dict(batch_size=args.batch_size, lr=args.lr, device=args.device, eval_every=0, seed=0)
    t0 = time.perf_counter()
    teacher = train_pbr(data, PBRTrainConfig(preset=args.teacher_preset, time_budget=args.teacher_time, **common),
                        "teacher", log=log)
    timings["teacher"] = time.perf_counter() - t0
    print(f"teacher: {teacher.steps} steps, {timings['teacher']:.0f} s", flush=True)
    t0 = time.perf_counter()
    student = train_pbr(data, PBRTrainConfig(preset=args.student_preset, time_budget=args.student_time, **common),
                        "student", teacher=teacher, shards=args.out / "shards", log=log)
    timings["student"] = time.perf_counter() - t0
    print(f"student: {student.steps} steps, {timings['student']:.0f} s", flush=True)

    device = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    models = {f"teacher {args.teacher_preset}": teacher.model.to(device).eval(),
              f"student {args.student_preset}": student.model.to(device).eval()}
    t0 = time.perf_counter()
    quality = evaluate(models, data, args.eval_samples, device)
    timings["evaluate"] = time.perf_counter() - t0

    def net(result: Any, preset: str) -> dict[str, Any]:
        m = result.model.cpu()
        return {"preset": preset, "parameters": parameter_count(m), "gmac": count_macs(m)["total"] / 1e9,
                "macs": count_macs(m), "steps": result.steps, "seconds": result.elapsed,
                "step_seconds": result.step_seconds, "input": m.spec.image_size, "output": m.spec.output_size()}

    results = {"args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
               "device": torch.cuda.get_device_name() if device.startswith("cuda") else "cpu",
               "synth": synth, "timings": timings, "quality": quality,
               "teacher": net(teacher, args.teacher_preset), "student": net(student, args.student_preset),
               "shipped_student": SHIPPED}
    s, b = quality[f"student {args.student_preset}"], quality["naive baseline"]
    t = quality[f"teacher {args.teacher_preset}"]
    results["targets"] = {
        "student_albedo_gain_db": s["albedo_psnr"] - b["albedo_psnr"],
        "student_normal_gain_deg": b["normal_angle_mean"] - s["normal_angle_mean"],
        "student_vs_teacher_albedo_db": s["albedo_psnr"] - t["albedo_psnr"],
        "student_vs_teacher_normal_deg": s["normal_angle_mean"] - t["normal_angle_mean"]}
    if args.bundles:
        from ngsdk.exporters.pbr_reconstruction import write_pbr_reconstruction
        from ngsdk.pbr.bundle import asset_from_model

        for role, r, preset in (("teacher", teacher, args.teacher_preset), ("student", student, args.student_preset)):
            asset = asset_from_model(r.model.cpu(), name=role, preset=preset, info=r.info(), data_dir=data)
            write_pbr_reconstruction(asset, args.out / f"{role}.ngasset")
    (args.out / "pbr_gpu.json").write_text(json.dumps(results, indent=2, default=float) + "\n")
    (args.out / "pbr_gpu.md").write_text(table(results))
    print(table(results))
    print(json.dumps(results["targets"], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Issue 15's GPU acceptance in one run: synthesize 540p -> 1080p sequences on CUDA, train float32 (+ int8 QAT
where ExecuTorch is installed), write the bundle, export the full-size graphs where their libraries are installed,
measure held-out quality torch-free (PSNR, tPSNR, recPSNR, SSIM of fp32 / int8 vs bilinear and TAAU) and print a
table for docs/benchmarks.md.

    tools/gpu/supersampling.sh OUT_DIR                                      # GPU machine, < 9 minutes
    python tools/gpu/supersampling.py --device cpu --tiny --out /tmp/nss    # CPU smoke test (64x64)

Needs torch and numpy (and pillow for the JPEG materials). Optional, each used when importable: safetensors
(else the NumPy container code writes the same files), executorch + torchao (int8 QAT, the VGF exports),
onnx (ONNX export), jsonschema (the bundle is re-read and ``verify`` runs; without it the metrics come from the
in-memory asset). Time guards: synthesis stops starting new training sequences after ``--synth-budget`` seconds
(the held-out ones are rendered first), training runs for ``--train-seconds``. Everything lands in OUT_DIR
(``result.json``, the bundle, previews); the data folders are deleted at the end unless ``--keep-data``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


class _OverBudget(Exception):
    pass


def _have(*modules: str) -> bool:
    try:
        return all(importlib.util.find_spec(m) is not None for m in modules)
    except (ImportError, ValueError):
        return False


def _qat_available() -> bool:
    """ExecuTorch + torchao importable and the gym quantizer constructible (their wheels may not match torch)."""
    if not _have("executorch", "torchao"):
        return False
    try:
        from torchao.quantization.pt2e.quantize_pt2e import prepare_qat_pt2e  # noqa: F401

        from ngsdk.supersampling.quant import nss_quantizer

        nss_quantizer()
    except Exception as e:  # noqa: BLE001 - any import-time failure means: train float32 only, say why
        print(f"int8 QAT unavailable: {type(e).__name__}: {e}"[:400], flush=True)
        return False
    return True


def _data_root(arg: Path | None) -> Path | None:
    for d in ([arg] if arg else []) + [REPO.parent / "shared" / "data", REPO / ".bench_data"]:
        if d is not None and (d / "textures").is_dir():
            return d
    return None


def _synth_part(mats: list[Path], pics: list[Path], out: Path, cfg, indices: list[int],
                deadline: float | None, resume: bool = False) -> None:
    """Render the sequences ``indices``; past the wall-clock ``deadline`` start no new one (a worker process)."""
    from ngsdk.supersampling.synth.render import synthesize_frames

    def guard(seq: int, done: int, total: int) -> None:
        # sequence 0 always renders (a run has at least one); every other one starts only before the deadline
        if deadline is not None and done == 1 and seq != 0 and time.time() > deadline:
            raise _OverBudget

    try:
        synthesize_frames(mats, pics, out, cfg, progress=guard, indices=indices, resume=resume)
    except _OverBudget:
        pass


def _synth(mats: list[Path], pics: list[Path], out: Path, cfg, budget: float | None, t0: float,
           workers: int = 1, resume: bool = False) -> int:
    """Render ``cfg.sequences`` into ``out`` with ``workers`` processes (one GPU serves several: the renderer is
    bound by kernel launches); ``budget`` seconds after ``t0`` no new sequence starts."""
    deadline = None if budget is None else time.time() + budget - (time.perf_counter() - t0)
    parts = [list(range(w, cfg.sequences, workers)) for w in range(max(1, workers))]
    if len(parts) == 1:
        _synth_part(mats, pics, out, cfg, parts[0], deadline, resume)
    else:
        import multiprocessing as mp

        ctx = mp.get_context("spawn")  # CUDA cannot be forked
        procs = [ctx.Process(target=_synth_part, args=(mats, pics, out, cfg, part, deadline, resume))
                 for part in parts if part]
        for pr in procs:
            pr.start()
        for pr in procs:
            pr.join()
        failed = [pr.exitcode for pr in procs if pr.exitcode]
        if failed:
            raise RuntimeError(f"{len(failed)} synthesis worker(s) failed (exit codes {failed})")
    return len(list(out.glob("*.safetensors")))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--data", type=Path, help="folder with textures/ and images/ (default ../shared/data, then "
                                              ".bench_data, then the packaged sample material)")
    ap.add_argument("--sequences", type=int, default=20, help="training sequences (plus --held-out)")
    ap.add_argument("--held-out", type=int, default=2)
    ap.add_argument("--frames", type=int, default=32)
    ap.add_argument("--size", default="1920x1080", help="target WIDTHxHEIGHT (input: half)")
    ap.add_argument("--synth-budget", type=float, default=210.0, help="seconds; no new sequence starts after it")
    ap.add_argument("--train-seconds", type=float, default=180.0)
    ap.add_argument("--crop", type=int, default=256)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--recurrent", type=int, default=16)
    ap.add_argument("--metric-crop", type=int, default=256, help="input-pixel side of the held-out metric crop")
    ap.add_argument("--synth-workers", type=int, default=1, help="synthesis processes sharing the device")
    ap.add_argument("--synth-only", action="store_true", help="render the sequences, keep them, stop (a first "
                    "GPU call; the next one trains with --reuse-data)")
    ap.add_argument("--reuse-data", action="store_true", help="train on the sequences already in OUT/train and "
                    "OUT/test (rendered by --synth-only)")
    ap.add_argument("--resume-synth", action="store_true", help="keep the sequences an earlier (interrupted) "
                    "synthesis left in OUT/train and OUT/test and render only the missing ones")
    ap.add_argument("--no-export", action="store_true")
    ap.add_argument("--keep-data", action="store_true")
    ap.add_argument("--tiny", action="store_true", help="64x64 target, 2+1 sequences x 6 frames, 20 + 5 steps")
    a = ap.parse_args()
    if a.synth_workers < 1:
        ap.error(f"--synth-workers must be at least 1, got {a.synth_workers}")
    import torch

    from ngsdk.exporters.supersampling import write_supersampling
    from ngsdk.supersampling.config import SupersamplingTrainConfig
    from ngsdk.supersampling.safetensors_io import SafetensorsSequence
    from ngsdk.supersampling.synth.materials import find_images
    from ngsdk.supersampling.synth.render import SynthConfig
    from ngsdk.supersampling.to_asset import build_asset
    from ngsdk.supersampling.train import train_supersampling
    from ngsdk.verify.supersampling import quality_table

    if a.tiny:
        a.sequences, a.held_out, a.frames, a.size, a.metric_crop = 2, 1, 6, "64x64", 128
    w, h = (int(v) for v in a.size.lower().split("x"))
    root = _data_root(a.data)
    if root is not None:
        mats = sorted(p for p in (root / "textures").iterdir() if p.is_dir())
        pics = find_images(root / "images") if (root / "images").is_dir() else []
    else:
        mats, pics = [REPO / "ngsdk" / "samples" / "ground068_512"], []
    qat = _qat_available()
    a.out.mkdir(parents=True, exist_ok=True)
    train_dir, test_dir = a.out / "train", a.out / "test"
    if a.reuse_data:
        if not any(train_dir.glob("*.safetensors")) or not any(test_dir.glob("*.safetensors")):
            raise SystemExit(f"error: --reuse-data: no sequences in {train_dir} and {test_dir} "
                             "(run --synth-only first)")
    elif not a.resume_synth:
        for d in (train_dir, test_dir):
            shutil.rmtree(d, ignore_errors=True)
    row: dict = {"device": torch.cuda.get_device_name(0) if a.device.startswith("cuda") else "cpu",
                 "torch": torch.__version__, "data": str(root or mats[0]), "materials": len(mats),
                 "pictures": len(pics), "qat": qat,
                 "safetensors": "package" if _have("safetensors") else "numpy fallback"}
    print(json.dumps(row), flush=True)
    t0 = time.perf_counter()
    max_tex = 256 if a.tiny else 1024
    if a.reuse_data:
        held, n = (len(list(d.glob("*.safetensors"))) for d in (test_dir, train_dir))
        row["synth_seconds"] = "earlier call"
    else:
        held = _synth(mats, pics, test_dir, SynthConfig(sequences=a.held_out, frames=a.frames, target=(w, h),
                                                        device=a.device, seed=1000, max_texture=max_tex), None, t0,
                      a.synth_workers, a.resume_synth)
        n = _synth(mats, pics, train_dir, SynthConfig(sequences=a.sequences, frames=a.frames, target=(w, h),
                                                      device=a.device, seed=0, max_texture=max_tex), a.synth_budget,
                   t0, a.synth_workers, a.resume_synth)
        row["synth_seconds"] = round(time.perf_counter() - t0, 1)
    row["sequences"] = f"{n} train + {held} held out x {a.frames} frames, {w}x{h} from {w // 2}x{h // 2}"
    print(json.dumps(row), flush=True)
    if a.synth_only:
        (a.out / "synth.json").write_text(json.dumps(row, indent=1, default=float))
        return 0
    if a.tiny:
        cfg = SupersamplingTrainConfig(steps=20, qat_steps=5 if qat else 0, batch=2, frames=4, crop=64,
                                       device=a.device, seed=0)
    else:
        cfg = SupersamplingTrainConfig(time_budget=a.train_seconds, batch=a.batch, frames=a.recurrent, crop=a.crop,
                                       device=a.device, seed=0, **({} if qat else {"qat_fraction": 0.0}))
    res = train_supersampling(train_dir, cfg, log=print, previews=a.out / "previews")
    row |= {"train_seconds": round(res.seconds, 1), "steps": res.steps, "qat_steps": res.qat_steps,
            "train_metrics": res.metrics}
    print(json.dumps(row), flush=True)
    bundle = a.out / "nss.ngasset"
    asset = build_asset(res, train_dir, name="nss", export_size=(32, 32) if a.tiny else (544, 960))
    write_supersampling(asset, bundle)
    if asset.int8 is not None:
        row["int8_weight_bytes"] = asset.int8.stored_bytes()
    formats = ([] if a.no_export else (["onnx"] if _have("onnx") else []) + (["vgf"] if qat else []))
    if formats and _have("jsonschema"):
        from ngsdk.exporters.graph.bundle_exports import merge_exports
        from ngsdk.exporters.graph.supersampling import export_graphs
        from ngsdk.runtime_ref.supersampling import load_supersampling

        t1 = time.perf_counter()
        try:
            loaded = load_supersampling(bundle)
            loaded.exports = merge_exports(loaded.exports, export_graphs(loaded, bundle, formats))
            write_supersampling(loaded, bundle)
            for f in sorted(bundle.glob("supersampling.*")):
                if f.suffix in (".vgf", ".onnx"):
                    row[f"{f.name}_bytes"] = f.stat().st_size
        except Exception as e:  # noqa: BLE001 - report and go on to the metrics
            row["export_error"] = f"{type(e).__name__}: {e}"[:300]
        row["export_seconds"] = round(time.perf_counter() - t1, 1)
    t2 = time.perf_counter()
    passed = True
    if _have("jsonschema"):
        from ngsdk.verify.supersampling import verify_supersampling

        rep = verify_supersampling(bundle, test_dir, log=print)
        row["checks"] = {c.code: f"{c.status}: {c.message[:160]}" for c in rep.checks}
        row["quality"] = rep.summary.get("quality")
        passed = rep.passed
    else:  # no jsonschema to re-read the bundle: the same metrics on the in-memory asset
        seqs = [SafetensorsSequence(f) for f in sorted(test_dir.glob("*.safetensors"))]
        row["quality"] = quality_table(asset, seqs, print, a.metric_crop)
    row["verify_seconds"] = round(time.perf_counter() - t2, 1)
    row["total_seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(row, indent=1, default=float))
    print("\n| path | PSNR | tPSNR | recPSNR | SSIM |\n|---|---|---|---|---|")
    for k, v in (row["quality"] or {}).items():
        print(f"| {k} | {v['psnr']} | {v['tpsnr']} | {v['recpsnr']} | {v['ssim']} |")
    (a.out / "result.json").write_text(json.dumps(row, indent=1, default=float))
    if not (a.keep_data or a.reuse_data):  # reused data belongs to the call that rendered it
        for d in (train_dir, test_dir):
            shutil.rmtree(d, ignore_errors=True)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Neural volumes (AMGSRN): quality, size and decode throughput on the shared volumes.

For every volume in ``--data`` (default ../shared/data/volumes) and each model size (``--sizes``, two
presets by default), train a neural volume with ngsdk and read the PSNR of its exact decode, its
compression ratio and the training time from the result. Then, per model size, time point decoding of
the first volume's asset: runtime_ref NumPy ``exact`` and ``float`` on the CPU, the trainer's torch exact
decode, torch float32 on the CPU, and on CUDA the fast batched ``grid_sample`` path in float32, float16
and bfloat16 (batches of 2^22..2^24 points, CUDA events after a warm-up) and runtime_ref's CuPy backend
when CuPy is installed. Each decode path also reports the PSNR of its full reconstruction. The seed
paper's decode rates (2080 Ti: 154 M points/s in PyTorch, 302 M with tiny-cuda-nn) are listed beside.

Progress goes to stderr, the markdown tables to stdout. ``--json`` saves the records; ``--write-docs``
replaces this script's section of docs/benchmarks.md (between ``<!-- BEGIN bench_volumes:... -->``
markers). ``--quick`` runs everything small enough for a CPU smoke test.

``--rd`` is the rate-distortion mode (tools/bench_volumes_rd.py): ngsdk sized for ``--ratios`` against ZFP
and SZ3 at the same bytes, a table, ``--json`` records and ``--plots`` PNGs per volume.

    python tools/bench_volumes.py --quick
    python tools/bench_volumes.py --rd --data .bench_data/volumes --time-budget 25 --device cuda --no-baselines \
        --json build/rd_gpu.json
    python tools/bench_volumes.py --rd --no-train --from-json build/rd_gpu.json --data .bench_data/volumes \
        --json build/rd.json --plots docs/images --write-docs
    python tools/bench_volumes.py --time-budget 60 --device cuda --json build/bench_volumes.json --write-docs
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
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
from ngsdk.asset.neural_volume import VOLUME_DECODE_MODES  # noqa: E402
from ngsdk.metrics import psnr  # noqa: E402
from ngsdk.volumes.config import SAMPLERS  # noqa: E402
from tools.bench_common import cuda_times, device_description, resolve_device, say, write_docs  # noqa: E402
from tools.bench_volumes_rd import add_arguments as add_rd_arguments  # noqa: E402
from tools.bench_volumes_rd import parse_ratios, run_rd  # noqa: E402

DEFAULT_DATA = REPO / ".." / "shared" / "data" / "volumes"
DEFAULT_DOCS = REPO / "docs" / "benchmarks.md"
SUFFIXES = (".npy", ".vti", ".nc")
DEFAULT_SIZES = ("tiny", "medium")
SECTION = "table"
SEED_RATES = {"seed paper, PyTorch (2080 Ti)": 154e6, "seed paper, tiny-cuda-nn (2080 Ti)": 302e6}
GPU_BATCHES = (1 << 22, 1 << 23, 1 << 24)


def train_record(vol: Any, size: str, args: argparse.Namespace, device: str) -> tuple[dict[str, Any], Any]:
    from ngsdk.training import TrainProgress
    from ngsdk.volumes.config import VolumeTrainConfig
    from ngsdk.volumes.train import train_volume

    cfg = VolumeTrainConfig(steps=args.steps, time_budget=args.time_budget, seed=args.seed, device=device,
                            eval_every=args.eval_every, batch_size=args.batch_size,
                            sampler=args.sampler).apply_preset(size)
    label = f"{vol.name} {size}"

    def progress(p: TrainProgress) -> None:
        say(f"  [{label}] step {p.step} {p.elapsed:.1f}s eval {p.psnr:.2f} dB ({p.phase})")

    result = train_volume(vol, cfg, progress=progress)
    m = result.metrics
    rec = {
        "volume": vol.name, "shape": list(vol.values.shape), "source_dtype": vol.normalization.source_dtype,
        "size": size, "grids": cfg.grids, "grid_res": cfg.grid_res, "features": cfg.features,
        "psnr_db": float(m["psnr_db"]), "max_abs_error": float(m["max_abs_error"]),
        "compression_ratio": float(m["compression_ratio"]), "stored_bytes": int(m["stored_bytes"]),
        "source_bytes": int(m["source_bytes"]), "train_s": result.seconds, "steps": result.steps,
        "finalize_s": result.finalize_seconds, "device": device_description(device), "seed": args.seed,
        "time_budget": args.time_budget, "step_limit": args.steps, "history": result.history,
    }
    return rec, result.asset


# ----------------------------------------------------------------------------------------------
# decode throughput


def _points(n: int, seed: int = 7) -> np.ndarray:
    return (np.random.default_rng(seed).random((n, 3), dtype=np.float32) * 2 - 1).astype(np.float32)


def _psnr(decoded: np.ndarray, source: np.ndarray) -> float:
    return psnr(float(np.mean((decoded.astype(np.float64) - source) ** 2)))


def _wall(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _voxels(asset: Any) -> np.ndarray:
    from ngsdk.asset.neural_volume import voxel_positions

    d, h, w = asset.shape
    z, y, x = np.meshgrid(voxel_positions(d), voxel_positions(h), voxel_positions(w), indexing="ij")
    return np.stack([x.ravel(), y.ravel(), z.ravel()], axis=1)


def cpu_rates(asset: Any, source: np.ndarray, n: int, repeats: int) -> list[dict[str, Any]]:
    """runtime_ref NumPy exact/float and torch (strict exact, fast float32) on the CPU."""
    import torch

    from ngsdk.runtime_ref.neural_volume import VolumeDecoder
    from ngsdk.volumes import strict
    from ngsdk.volumes.model import FastDecoder

    pts = _points(n)
    vox = _voxels(asset)
    out = []
    for mode in VOLUME_DECODE_MODES:
        dec = VolumeDecoder(asset, mode)
        dec(pts[:1024])
        s = _wall(lambda dec=dec: dec(pts), repeats)
        out.append({"path": f"runtime_ref NumPy {mode}", "device": "cpu", "points": n, "seconds": s,
                    "points_per_s": n / s, "psnr_db": _psnr(dec(vox).reshape(source.shape), source)})
    tp = torch.from_numpy(pts)
    s = _wall(lambda: strict.decode_points(asset, tp, "exact"), repeats)
    out.append({"path": "torch exact (ngsdk.volumes.strict)", "device": "cpu", "points": n, "seconds": s,
                "points_per_s": n / s, "psnr_db": _psnr(strict.reconstruct(asset, "exact"), source)})
    fast = FastDecoder(asset, "cpu", torch.float32)
    fast(tp[:1024])
    s = _wall(lambda: fast(tp), repeats)
    out.append({"path": "torch float32 (batched grid_sample)", "device": "cpu", "points": n, "seconds": s,
                "points_per_s": n / s,
                "psnr_db": _psnr(fast(torch.from_numpy(vox)).float().numpy().reshape(source.shape), source)})
    return out


def cuda_rates(asset: Any, source: np.ndarray, batches: tuple[int, ...], repeats: int,
               compile: bool) -> list[dict[str, Any]]:
    """Fast torch decode on CUDA in float32 / float16 / bfloat16, the torch exact decode, CuPy if present."""
    import torch

    from ngsdk.volumes import strict
    from ngsdk.volumes.model import FastDecoder

    vox = torch.from_numpy(_voxels(asset)).cuda()
    out = []
    for dtype, name in ((torch.float32, "float32"), (torch.float16, "float16"), (torch.bfloat16, "bfloat16")):
        for use_compile in ((False, True) if compile else (False,)):
            try:
                fast = FastDecoder(asset, "cuda", dtype, compile=use_compile)
            except (RuntimeError, ValueError) as e:
                say(f"  torch {name}: unavailable ({e})")
                continue
            label = f"torch {name}" + (" + torch.compile" if use_compile else "")
            if fast.compile_error:
                say(f"  {label}: torch.compile failed ({fast.compile_error}); eager mode measured")
                label = f"torch {name} (compile failed, eager)"
            try:
                psnr = _psnr(fast(vox).float().cpu().numpy().reshape(source.shape), source)
            except RuntimeError as e:  # e.g. a dtype this torch build's grid_sample lacks
                say(f"  {label}: unavailable ({str(e).splitlines()[0]})")
                continue
            for n in batches:
                try:
                    out.append(_cuda_time(fast, n, repeats, label, psnr))
                except torch.OutOfMemoryError:
                    say(f"  {label}: batch {n} does not fit in GPU memory")
                    torch.cuda.empty_cache()
                    break
                say(f"  {label} batch {n}: {out[-1]['points_per_s'] / 1e9:.3f} G points/s")
            del fast
            torch.cuda.empty_cache()
    n = 1 << 20
    p = torch.from_numpy(_points(n)).cuda()
    strict.decode_points(asset, p[:4096], "exact")
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    strict.decode_points(asset, p, "exact")
    torch.cuda.synchronize()
    s = time.perf_counter() - t0
    out.append({"path": "torch exact (ngsdk.volumes.strict)", "device": "cuda", "points": n, "seconds": s,
                "points_per_s": n / s, "psnr_db": _psnr(strict.reconstruct(asset, "exact", device="cuda"), source)})
    out += cupy_rates(asset, source, repeats)
    return out


def _cuda_time(fast: Any, n: int, repeats: int, label: str, psnr: float) -> dict[str, Any]:
    import torch

    p = torch.rand(n, 3, device="cuda", generator=torch.Generator("cuda").manual_seed(3)) * 2 - 1
    s = statistics.median(cuda_times(lambda: fast(p), repeats))
    return {"path": label, "device": "cuda", "points": n, "seconds": s, "points_per_s": n / s, "psnr_db": psnr}


def cupy_rates(asset: Any, source: np.ndarray, repeats: int) -> list[dict[str, Any]]:
    try:
        import cupy  # noqa: F401
    except ImportError:
        say("  CuPy is not installed: no runtime_ref CuPy rows")
        return []
    from ngsdk.runtime_ref.neural_volume import VolumeDecoder

    out = []
    n = 1 << 20
    pts = _points(n)
    for mode in VOLUME_DECODE_MODES:
        try:
            dec = VolumeDecoder(asset, mode, backend="cupy", chunk=1 << 20)
            dec(pts[:4096])
            s = _wall(lambda dec=dec: dec(pts), repeats)
            psnr = _psnr(dec(_voxels(asset)).reshape(source.shape), source)
        except Exception as e:  # CuPy without a working CUDA toolchain, etc.
            say(f"  runtime_ref CuPy {mode}: failed ({type(e).__name__}: {e})")
            continue
        out.append({"path": f"runtime_ref CuPy {mode} (host points in and out)", "device": "cuda", "points": n,
                    "seconds": s, "points_per_s": n / s, "psnr_db": psnr})
    out += fused_rates(asset, source, repeats)
    return out


def fused_rates(asset: Any, source: np.ndarray, repeats: int) -> list[dict[str, Any]]:
    """The fused exact CUDA kernel (ngsdk.runtime_ref.neural_volume_cuda): points on the GPU, CUDA events; its
    output is checked bit for bit against runtime_ref's NumPy exact decode first."""
    import cupy as cp

    from ngsdk.runtime_ref.neural_volume import decode_points
    from ngsdk.runtime_ref.neural_volume_cuda import CudaVolumeDecoder

    try:
        dec = CudaVolumeDecoder(asset)
        check = _points(1 << 16, seed=11)
        same = bool(np.array_equal(cp.asnumpy(dec(check)).view(np.uint32),
                                   decode_points(asset, check, "exact").view(np.uint32)))
        vox = cp.asnumpy(dec(_voxels(asset)))
        psnr = _psnr(vox.reshape(source.shape), source)
    except Exception as e:
        say(f"  fused CUDA kernel: failed ({type(e).__name__}: {e})")
        return []
    say(f"  fused CUDA exact kernel: bit-identical to NumPy on 65,536 points: {same}")
    out = []
    for n in GPU_BATCHES:
        pts = cp.asarray(_points(n, seed=5))
        for _ in range(3):
            dec(pts)
        cp.cuda.Device().synchronize()
        times = []
        for _ in range(repeats):
            start, stop = cp.cuda.Event(), cp.cuda.Event()
            start.record()
            dec(pts)
            stop.record()
            stop.synchronize()
            times.append(cp.cuda.get_elapsed_time(start, stop) / 1000.0)
        t = statistics.median(times)
        say(f"  fused CUDA exact kernel batch {n}: {_rate(n / t)} points/s")
        out.append({"path": "runtime_ref fused CUDA kernel, exact" + (" (bit-identical to NumPy)" if same else
                    " (DIFFERS from NumPy)"), "device": "cuda", "points": n, "seconds": t,
                    "points_per_s": n / t, "psnr_db": psnr})
    return out


# ----------------------------------------------------------------------------------------------
# tables


def _rate(x: float) -> str:
    return f"{x / 1e9:.2f} G" if x >= 1e9 else f"{x / 1e6:.1f} M" if x >= 1e6 else f"{x / 1e3:.0f} k"


def render_quality(records: list[dict[str, Any]]) -> str:
    lines = ["| volume | shape (z, y, x) | source | model | PSNR exact (dB) | max error | compression | "
             "train time | steps |", "|---|---|---|---|---:|---:|---:|---:|---:|"]
    for r in records:
        if r.get("error"):
            lines.append(f"| {r['volume']} | | | {r['size']} | failed: {r['error']} | | | | |")
            continue
        lines.append(f"| {r['volume']} | {'x'.join(map(str, r['shape']))} | {r['source_dtype']} | {r['size']} "
                     f"({r['grids']} x {r['grid_res']}^3 x {r['features']}) | {r['psnr_db']:.2f} | "
                     f"{r['max_abs_error']:.4f} | {r['compression_ratio']:.2f}:1 | {r['train_s']:.1f} s | "
                     f"{r['steps']} |")
    return "\n".join(lines)


def render_rates(rates: list[dict[str, Any]]) -> str:
    lines = ["| model | decode path | device | batch | points/s | PSNR of its reconstruction (dB) |",
             "|---|---|---|---:|---:|---:|"]
    for r in rates:
        lines.append(f"| {r['size']} | {r['path']} | {r['device']} | {r['points']:,} | "
                     f"{_rate(r['points_per_s'])} | {r['psnr_db']:.2f} |")
    for name, rate in SEED_RATES.items():
        lines.append(f"| seed paper configs | {name} | RTX 2080 Ti | | {_rate(rate)} | |")
    return "\n".join(lines)


def section(records: list[dict[str, Any]], rates: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    devs = sorted({r["device"] for r in records if "device" in r})
    limit = (f"{meta['time_budget']:g} s time budget" if meta.get("time_budget") else f"{meta.get('steps')} steps")
    best = max((r for r in rates if r["device"] == "cuda"), key=lambda r: r["points_per_s"], default=None)
    verdict = (f"Fastest CUDA decode: {best['path']} at {_rate(best['points_per_s'])} points/s "
               f"({best['points_per_s'] / 154e6:.1f}x the seed's PyTorch rate, "
               f"{best['points_per_s'] / 302e6:.1f}x its tiny-cuda-nn rate, on different GPUs)."
               if best else "No CUDA device in this run: GPU decode rates not measured.")
    return "\n".join([
        "### Neural volumes (AMGSRN): quality, size, decode throughput", "",
        f"Produced by `{meta['command']}` on {meta['date']} (ngsdk {meta['ngsdk']}); training on "
        f"{', '.join(devs) or 'n/a'}, {limit} per model. PSNR on normalized values of the bundle's exact decode; "
        "compression = source bytes / stored grid + decoder bytes (grids are 4-component textures: 1 to 4 "
        "features cost the same).", "",
        render_quality(records), "", render_rates(rates), "", verdict,
    ])


# ----------------------------------------------------------------------------------------------
# command line


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of volume files (.npy, .vti, .nc)")
    p.add_argument("--volumes", default=None, help="comma-separated file names in --data (default: all)")
    p.add_argument("--sizes", default=",".join(DEFAULT_SIZES),
                   help="comma-separated model presets (tiny, small, medium, large, huge)")
    p.add_argument("--time-budget", type=float, default=None, help="training seconds per model (default 60)")
    p.add_argument("--steps", type=int, default=None, help="training steps per model (reproducible runs)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=None, help="training points per step (default: per device)")
    p.add_argument("--sampler", default="auto", choices=SAMPLERS, help="training sampler (ngsdk train volume "
                   "--sampler)")
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--cpu-points", type=int, default=1 << 16, help="points per CPU decode timing")
    p.add_argument("--repeats", type=int, default=5, help="timed repetitions (median reported)")
    p.add_argument("--compile", action="store_true", help="also time torch.compile'd CUDA decodes")
    p.add_argument("--quick", action="store_true", help="tiny runs: a CPU smoke test of the whole script")
    p.add_argument("--json", type=Path, help="also save the raw records here")
    p.add_argument("--write-docs", action="store_true", help="replace this script's section of --docs")
    p.add_argument("--docs", type=Path, default=DEFAULT_DOCS, help="markdown file for --write-docs")
    add_rd_arguments(p)
    args = p.parse_args(argv)
    args.ratios = parse_ratios(args.ratios)
    if args.quick:
        args.steps = args.steps or 30
        args.eval_every = min(args.eval_every, 10)
        args.cpu_points = min(args.cpu_points, 1 << 12)
        args.repeats = min(args.repeats, 2)
    if args.steps is None and args.time_budget is None:
        args.time_budget = 60.0
    if args.steps is not None and args.steps < 1:
        p.error("--steps must be at least 1")
    args.sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    from ngsdk.volumes.config import PRESETS

    bad = [s for s in args.sizes if s not in PRESETS]
    if bad or not args.sizes:
        p.error(f"--sizes: unknown preset(s) {', '.join(bad) or '(none)'}; use {', '.join(PRESETS)}")
    return args


def find_volumes(args: argparse.Namespace) -> list[Path]:
    if not args.data.is_dir():
        raise SystemExit(f"error: {args.data}: volume data folder does not exist (give --data)")
    if args.volumes:
        files = [args.data / n.strip() for n in args.volumes.split(",") if n.strip()]
        missing = [f.name for f in files if not f.is_file()]
        if missing:
            raise SystemExit(f"error: {args.data}: no file {', '.join(missing)}")
        return files
    files = sorted(f for f in args.data.iterdir() if f.suffix.lower() in SUFFIXES)
    if not files:
        raise SystemExit(f"error: {args.data}: no volume files ({', '.join(SUFFIXES)})")
    return files


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from ngsdk import __version__
    from ngsdk.volumes.ingest import load_volume

    device = resolve_device(args.device)
    files = find_volumes(args)
    meta = {"command": " ".join(["python tools/bench_volumes.py", *(sys.argv[1:] if argv is None else argv)]),
            "date": datetime.date.today().isoformat(), "ngsdk": __version__, "time_budget": args.time_budget,
            "steps": args.steps}
    if args.rd:
        return run_rd(args, files, meta)
    records: list[dict[str, Any]] = []
    rates: list[dict[str, Any]] = []
    first_assets: dict[str, tuple[Any, np.ndarray]] = {}
    for f in files:
        try:
            vol = load_volume(f)
        except AssetError as e:
            raise SystemExit(f"error: {e}") from None
        say(f"{vol.name}: {'x'.join(map(str, vol.values.shape))} (z, y, x) {vol.normalization.source_dtype}")
        for size in args.sizes:
            try:
                rec, asset = train_record(vol, size, args, device)
            except (ValueError, RuntimeError) as e:
                say(f"  {size}: FAILED: {e}")
                records.append({"volume": vol.name, "size": size, "error": str(e)})
                continue
            say(f"  {size}: {rec['psnr_db']:.2f} dB, {rec['compression_ratio']:.2f}:1, {rec['steps']} steps in "
                f"{rec['train_s']:.1f} s")
            records.append(rec)
            first_assets.setdefault(size, (asset, vol.values))
    for size, (asset, source) in first_assets.items():
        say(f"decode throughput, {size} model of {asset.name}:")
        for r in cpu_rates(asset, source, args.cpu_points, args.repeats):
            rates.append(dict(r, size=size, volume=asset.name))
            say(f"  {r['path']} (cpu): {_rate(r['points_per_s'])} points/s")
        if device == "cuda":
            batches = (1 << 16,) if args.quick else GPU_BATCHES
            rates += [dict(r, size=size, volume=asset.name)
                      for r in cuda_rates(asset, source, batches, args.repeats, args.compile)]
    if args.json:
        doc = {"meta": meta, "records": records, "rates": rates}
        atomic_write_bytes(args.json, (json.dumps(doc, indent=1, allow_nan=False) + "\n").encode("utf-8"))
        say(f"wrote {args.json}")
    print(render_quality(records))
    print()
    print(render_rates(rates), flush=True)
    if args.write_docs:
        write_docs(args.docs, "bench_volumes", SECTION, section(records, rates, meta))
    return 1 if any(r.get("error") for r in records) else 0


if __name__ == "__main__":
    sys.exit(main())

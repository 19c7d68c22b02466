#!/usr/bin/env python3
"""Neural-volume decode speed: the fused Triton float kernel against the torch decode paths, in one run.

Trains one model per preset (``--sizes``, default tiny and medium) on one volume (``--volume``; or decodes
existing bundles given with ``--asset``), then times point decoding on CUDA with CUDA events (warm-up, median of
``--repeats``) for batches of ``--batches`` random points in [-1, 1]^3 (the same points for every path):

- the torch paths of ``ngsdk.volumes.model.FastDecoder`` (batched ``grid_sample``) in float32, float16 and
  bfloat16 (``--compile`` adds their torch.compile variants);
- ``ngsdk.volumes.fused_decode.FusedVolumeDecoder`` in each of ``--precisions``;
- the bit-exact CUDA kernel ``ngsdk.runtime_ref.neural_volume_cuda.CudaVolumeDecoder`` (mode ``exact``; CuPy) in
  its first organisation (``thread``: one point per thread, weights in constant memory) and the ``block``
  schedule (weights in shared memory, outputs in registers) for each of ``--exact-configs``; every one is checked
  bit for bit against runtime_ref's NumPy ``exact`` decode on 2^16 points before it is timed.

Each row gives points/s, the ratio to the best torch path at the same batch, the PSNR of the path's full
reconstruction against the source volume and against the fp32 decode (runtime_ref NumPy, mode ``float``), and
for the fused kernel its max abs difference to that fp32 decode on 2^16 random points, the achieved FLOP/s
(useful operations: the stored MLP's multiply-adds, the grids' affine maps, trilinear weights and sums) and
bytes/s (12 B of point in and 4 B of value out per point from HBM; the grid cell records it gathers, from
L2/L1) for a roofline. On a machine without CUDA the torch float32 path runs on the CPU and the fused rows
are skipped with the reason.

Progress on stderr, the markdown table on stdout; ``--json`` saves the records, ``--write-docs`` replaces this
script's section of docs/benchmarks.md.

    python tools/bench_volume_decode.py --quick
    python tools/bench_volume_decode.py --volume .bench_data/volumes/bunny_zyx_64x64x64_float32.npy \
        --time-budget 40 --json build/volume_decode.json
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
from ngsdk.metrics import psnr  # noqa: E402
from tools.bench_common import cuda_times, device_description, resolve_device, say, write_docs  # noqa: E402

DEFAULT_VOLUME = REPO / ".." / "shared" / "data" / "volumes" / "bunny_zyx_64x64x64_float32.npy"
DEFAULT_DOCS = REPO / "docs" / "benchmarks.md"
DEFAULT_BATCHES = (1 << 22, 1 << 24)
SECTION = "table"
CHECK_POINTS = 1 << 16


# ----------------------------------------------------------------------------------------------- helpers


def _mse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))


def _rate(x: float) -> str:
    return f"{x / 1e9:.2f} G" if x >= 1e9 else f"{x / 1e6:.1f} M" if x >= 1e6 else f"{x / 1e3:.0f} k"


def _si(x: float, unit: str) -> str:
    for scale, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M")):
        if x >= scale:
            return f"{x / scale:.2f} {prefix}{unit}"
    return f"{x:.0f} {unit}"


def _time_wall(fn, pts, repeats: int) -> float:
    fn(pts[:1024])
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(pts)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _voxels(asset: Any):
    import torch

    from ngsdk.volumes.strict import voxel_points

    return voxel_points(asset.shape, device="cpu").to(torch.float32)


# ----------------------------------------------------------------------------------------------- models


def train_assets(args: argparse.Namespace, device: str) -> list[tuple[str, Any, np.ndarray]]:
    """(label, asset, source values) per preset, trained on ``--volume``."""
    from ngsdk.volumes.config import VolumeTrainConfig
    from ngsdk.volumes.ingest import load_volume
    from ngsdk.volumes.train import train_volume

    try:
        vol = load_volume(args.volume)
    except AssetError as e:
        raise SystemExit(f"error: {e}") from None
    out = []
    for size in args.sizes:
        cfg = VolumeTrainConfig(steps=args.steps, time_budget=args.time_budget, seed=args.seed, device=device,
                                eval_every=args.eval_every).apply_preset(size)
        t0 = time.perf_counter()
        result = train_volume(vol, cfg)
        say(f"{vol.name} {size}: trained {result.steps} steps in {time.perf_counter() - t0:.1f} s, "
            f"exact decode {result.metrics['psnr_db']:.2f} dB")
        out.append((f"{size} ({vol.name})", result.asset, vol.values))
    return out


def load_assets(args: argparse.Namespace) -> list[tuple[str, Any, np.ndarray | None]]:
    """(label, asset, source or None) of each ``--asset`` bundle; ``--volume`` is its source when given."""
    from ngsdk.runtime_ref.neural_volume import load_neural_volume

    source = None
    if args.volume_given:
        from ngsdk.volumes.ingest import load_volume

        source = load_volume(args.volume).values
    out = []
    for bundle in args.asset:
        try:
            asset = load_neural_volume(bundle)
        except AssetError as e:
            raise SystemExit(f"error: {e}") from None
        if source is not None and tuple(source.shape) != tuple(asset.shape):
            raise SystemExit(f"error: {bundle}: shape {asset.shape} differs from --volume {source.shape}")
        out.append((asset.name, asset, source))
    return out


# ----------------------------------------------------------------------------------------------- rates


def measure(label: str, asset: Any, source: np.ndarray | None, args: argparse.Namespace,
            device: str) -> list[dict[str, Any]]:
    """Every decode path's rows for one asset."""
    import torch

    from ngsdk.runtime_ref.neural_volume import decode_points, reconstruct
    from ngsdk.volumes.model import FastDecoder

    ref = reconstruct(asset, "float")          # the fp32 decode (runtime_ref NumPy, mode float)
    vox = _voxels(asset)
    base = {"model": label, "volume": asset.name, "shape": list(asset.shape)}

    def quality(values: np.ndarray) -> dict[str, float | None]:
        values = values.reshape(ref.shape)
        return {"psnr_source_db": psnr(_mse(values, source)) if source is not None else None,
                "psnr_fp32_db": psnr(_mse(values, ref))}

    rows: list[dict[str, Any]] = [dict(base, path="runtime_ref NumPy float (the fp32 decode)", device="cpu",
                                       **quality(ref), points=None, points_per_s=None)]
    cuda = device.startswith("cuda")
    if not cuda:
        fast = FastDecoder(asset, "cpu", torch.float32)
        pts = torch.rand(args.cpu_points, 3, generator=torch.Generator().manual_seed(3)) * 2 - 1
        s = _time_wall(fast, pts, args.repeats)
        rows.append(dict(base, path="torch float32 (batched grid_sample)", device="cpu", points=args.cpu_points,
                         seconds=s, points_per_s=args.cpu_points / s,
                         **quality(fast(vox).float().numpy())))
        for precision in args.precisions:
            rows.append(dict(base, path=f"fused Triton kernel, {precision}", device="cpu", skipped=(
                "no CUDA device: the fused Triton kernel runs on CUDA GPUs (its CPU form is Triton's interpreter, "
                "for tests only)")))
        rows.append(dict(base, path="CUDA exact kernel", device="cpu",
                         skipped="no CUDA device (tests/unit/test_volume_cuda_kernel.py runs its source on the host)"))
        return rows

    vox_d = vox.to(device)
    gen = torch.Generator(device).manual_seed(3)
    batches = {n: torch.rand(n, 3, device=device, generator=gen) * 2 - 1 for n in args.batches}
    variants = [(torch.float32, "float32"), (torch.float16, "float16"), (torch.bfloat16, "bfloat16")]
    for dtype, name in variants:
        for use_compile in ((False, True) if args.compile else (False,)):
            try:
                fast = FastDecoder(asset, device, dtype, compile=use_compile)
                q = quality(fast(vox_d).float().cpu().numpy())
            except (RuntimeError, ValueError) as e:
                say(f"  torch {name}: unavailable ({str(e).splitlines()[0]})")
                continue
            path = f"torch {name}" + (" + torch.compile" if use_compile and not fast.compile_error else "")
            for n, pts in batches.items():
                s = statistics.median(cuda_times(lambda f=fast, p=pts: f(p), args.repeats))
                rows.append(dict(base, path=path, device=device, points=n, seconds=s, points_per_s=n / s, **q))
                say(f"  {label} {path} batch {n}: {_rate(n / s)} points/s")
            del fast
            torch.cuda.empty_cache()
    best = {n: max((r["points_per_s"] for r in rows if r.get("points") == n), default=None) for n in batches}
    rows += fused_rows(asset, base, batches, best, quality, decode_points, args, device)
    rows += exact_rows(asset, base, batches, decode_points, args)
    return rows


def exact_rows(asset: Any, base: dict[str, Any], batches: dict[int, Any], decode_points,
               args: argparse.Namespace) -> list[dict[str, Any]]:
    """The bit-exact CUDA kernel's rows: each schedule checked against NumPy ``exact``, then timed."""
    try:
        import cupy as cp

        from ngsdk.runtime_ref.neural_volume_cuda import CudaVolumeDecoder
    except ImportError as e:
        say(f"  exact CUDA kernel: skipped (CuPy is not importable: {e})")
        return [dict(base, path="CUDA exact kernel", device="cuda", skipped=f"CuPy is not importable: {e}")]
    check = (np.random.default_rng(12).random((CHECK_POINTS, 3), dtype=np.float32) * 2.2 - 1.1).astype(np.float32)
    want = decode_points(asset, check, "exact").view(np.uint32)
    sizes = [(ly.weight.shape[0], ly.weight.shape[1]) for ly in asset.bricks[0].decoder.layers]
    flops = 2 * sum(a * b for a, b in sizes)    # the MLP's multiply-adds as stored (fmul + fadd each)
    out, baseline = [], {}
    for schedule, block, group, tuning in args.exact_configs:
        pf = tuning.get("prefetch", 1)
        extra = "".join([f", {pf} grids' loads in flight" if pf > 1 else "",
                         f", launch bounds {block} x {tuning['min_blocks']}" if tuning.get("min_blocks") else "",
                         f", input loop unrolled x{tuning['unroll']}" if tuning.get("unroll", 2) != 2 else ""])
        path = "CUDA exact kernel, " + ("thread schedule (one point per thread, constant-memory weights)"
                                        if schedule == "thread" else
                                        f"block schedule ({block} threads, {group} outputs per pass{extra})")
        try:
            dec = CudaVolumeDecoder(asset, schedule=schedule, block=block, group=group, **tuning)
            got = cp.asnumpy(dec(check)).view(np.uint32)
        except Exception as e:  # a compile/launch failure is a result to report
            say(f"  {path}: failed ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})")
            out.append(dict(base, path=path, device="cuda", skipped=f"failed: {type(e).__name__}: {e}"))
            continue
        mismatches = int(np.count_nonzero(got != want))
        say(f"  {path}: {mismatches} of {CHECK_POINTS} points differ from NumPy exact")
        for n, pts in batches.items():
            p = cp.asarray(pts)
            s = statistics.median(cuda_times(lambda d=dec, q=p: d(q), args.repeats))
            rate = n / s
            if schedule == "thread":
                baseline[n] = rate
            out.append(dict(base, path=path, device="cuda", points=n, seconds=s, points_per_s=rate,
                            mismatches_vs_numpy=mismatches, bit_identical=mismatches == 0,
                            ratio_to_thread_kernel=rate / baseline[n] if baseline.get(n) else None,
                            flops_per_s=flops * rate, flops_per_point=flops, hbm_bytes_per_s=16 * rate))
            say(f"  {base['model']} {path} batch {n}: {_rate(rate)} points/s"
                + (f" ({rate / baseline[n]:.2f}x the thread kernel)" if baseline.get(n) and schedule != "thread"
                   else ""))
        del dec
    return out


def fused_rows(asset: Any, base: dict[str, Any], batches: dict[int, Any], best: dict[int, float | None],
               quality, decode_points, args: argparse.Namespace, device: str) -> list[dict[str, Any]]:
    import torch

    from ngsdk.volumes.fused_decode import FusedVolumeDecoder

    out = []
    check = (np.random.default_rng(11).random((CHECK_POINTS, 3), dtype=np.float32) * 2 - 1).astype(np.float32)
    want = decode_points(asset, check, "float")
    configs = [(b, w, c, u) for b in args.block for w in args.num_warps for c in args.chunk_features
               for u in args.unorm8_records]
    for precision in args.precisions:
        for block, warps, chunk, codes in configs:
            path = f"fused Triton kernel, {precision}"
            if len(configs) > 1:
                path += f" (block {block}, {warps} warps, K chunk {chunk}, unorm8 as {codes})"
            try:
                dec = FusedVolumeDecoder(asset, device, precision=precision, block=block, num_warps=warps,
                                         chunk_features=chunk, unorm8_records=codes)
                got = dec(torch.from_numpy(check).to(device)).cpu().numpy()
                q = quality(dec.reconstruct().cpu().numpy())
            except Exception as e:  # a Triton/driver failure is a result to report, not a crash of the benchmark
                say(f"  {path}: failed ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})")
                out.append(dict(base, path=path, device=device, skipped=f"failed: {type(e).__name__}: {e}"))
                continue
            cost = dec.cost()
            max_diff = float(np.abs(got - want).max())
            kernel = dec.compiled_info()
            say(f"  {path}: max |fused - fp32 decode| on {CHECK_POINTS} points {max_diff:.2e}; kernel {kernel}")
            for n, pts in batches.items():
                s = statistics.median(cuda_times(lambda d=dec, p=pts: d(p), args.repeats))
                rate = n / s
                out.append(dict(base, path=path, device=device, points=n, seconds=s, points_per_s=rate, **q,
                                max_abs_diff_fp32=max_diff, ratio_to_best_torch=rate / best[n] if best[n] else None,
                                flops_per_s=cost["flops"] * rate, hbm_bytes_per_s=cost["io_bytes"] * rate,
                                gather_bytes_per_s=cost["gather_bytes"] * rate, flops_per_point=cost["flops"],
                                gather_bytes_per_point=cost["gather_bytes"], kernel=kernel))
                say(f"  {base['model']} {path} batch {n}: {_rate(rate)} points/s"
                    + (f" ({rate / best[n]:.2f}x the best torch path)" if best[n] else ""))
            del dec
            torch.cuda.empty_cache()
    return out


# ----------------------------------------------------------------------------------------------- report


def render(rows: list[dict[str, Any]]) -> str:
    lines = ["| model | decode path | device | batch | points/s | vs best torch | PSNR vs source (dB) | "
             "PSNR vs fp32 decode (dB) | max abs diff vs fp32 | FLOP/s | HBM bytes/s | gather bytes/s |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]

    def db(x: float | None) -> str:
        return "" if x is None else f"{x:.2f}"

    for r in rows:
        if r.get("skipped"):
            lines.append(f"| {r['model']} | {r['path']} | {r['device']} | | skipped: {r['skipped']} | | | | | | | |")
            continue
        rate = "" if r.get("points_per_s") is None else _rate(r["points_per_s"])
        ratio = f"{r['ratio_to_best_torch']:.2f}x" if r.get("ratio_to_best_torch") else ""
        if r.get("ratio_to_thread_kernel"):
            ratio = f"{r['ratio_to_thread_kernel']:.2f}x the thread kernel"
        if r.get("mismatches_vs_numpy") is not None:
            ratio += (", " if ratio else "") + ("bit-identical to NumPy" if r["bit_identical"] else
                                                f"{r['mismatches_vs_numpy']} points differ from NumPy")
        diff = f"{r['max_abs_diff_fp32']:.1e}" if r.get("max_abs_diff_fp32") is not None else ""
        flops = _si(r["flops_per_s"], "FLOP/s") if r.get("flops_per_s") else ""
        hbm = _si(r["hbm_bytes_per_s"], "B/s") if r.get("hbm_bytes_per_s") else ""
        gather = _si(r["gather_bytes_per_s"], "B/s") if r.get("gather_bytes_per_s") else ""
        batch = f"{r['points']:,}" if r.get("points") else ""
        lines.append(f"| {r['model']} | {r['path']} | {r['device']} | {batch} | {rate} | {ratio} | "
                     f"{db(r.get('psnr_source_db'))} | {db(r.get('psnr_fp32_db'))} | {diff} | {flops} | {hbm} | "
                     f"{gather} |")
    return "\n".join(lines)


def section(rows: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    return "\n".join([
        "## Neural volumes: fused float decode (Triton) and the bit-exact CUDA kernel vs the torch paths", "",
        f"Produced on {meta['date']} by `{meta['command']}` on {meta['device']} (ngsdk {meta['ngsdk']}). "
        "Random points in [-1, 1]^3, CUDA events, median of the timed repeats after a warm-up; PSNR on "
        "normalized values of each path's full reconstruction; the fp32 decode is runtime_ref's NumPy `float` "
        "mode. FLOP/s counts useful operations (MLP multiply-adds as stored, grid maps, trilinear weights and "
        "sums); HBM bytes are the points in and values out, gather bytes the grid cell records read (L2/L1). "
        "The exact kernel's FLOP/s counts its MLP's multiply-adds, each a separate FMUL and FADD (the spec "
        "forbids contraction). Roofline: the H100 SXM's limits are 67 TFLOP/s fp32 on CUDA cores (FMA counted "
        "as two; 33.5 T for the exact kernel's unfused multiply and add), about 990 TFLOP/s dense fp16 on "
        "tensor cores and 3.35 TB/s of HBM3; every decode here is far from the memory roof (16 bytes of HBM "
        "traffic per point), so the compute columns are the ones to read.",
        "", render(rows)])


# ----------------------------------------------------------------------------------------------- command line


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--volume", type=Path, default=None, help=f"volume file to train on (default {DEFAULT_VOLUME.name} "
                                                             "of ../shared/data/volumes)")
    p.add_argument("--asset", type=Path, nargs="*", default=[], help="decode these bundles instead of training")
    p.add_argument("--sizes", default="tiny,medium", help="comma-separated model presets")
    p.add_argument("--time-budget", type=float, default=None, help="training seconds per model (default 40)")
    p.add_argument("--steps", type=int, default=None, help="training steps per model")
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--batches", default=",".join(str(b) for b in DEFAULT_BATCHES), help="points per timed decode")
    p.add_argument("--cpu-points", type=int, default=1 << 16, help="points per CPU timing")
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--precisions", default="fp16,fp16x3", help="fused kernel precisions (fp16, fp16x3)")
    p.add_argument("--block", default="64", help="fused kernel: points per program (comma list: a sweep)")
    p.add_argument("--num-warps", default="4", help="fused kernel: warps per program (comma list: a sweep)")
    p.add_argument("--chunk-features", default="16", help="fused kernel: first-layer K per product (comma list)")
    p.add_argument("--unorm8-records", default="uint8", help="fused kernel: unorm8 codes held as uint8 or float16 "
                                                                 "(comma list)")
    p.add_argument("--exact-configs", default="thread,block:128:64,block:128:64:pf2:mb3:u1",
                   help="exact CUDA kernel schedules to time: thread and block:THREADS:OUTPUTS_PER_PASS, the "
                        "latter with optional tokens pfN (N grids' corner loads in flight; default 1), "
                        "mbN (launch bounds: N blocks per SM), uN (input loop unrolled N times), "
                        "e.g. block:128:64:pf2:mb3:u1")
    p.add_argument("--compile", action="store_true", help="also time torch.compile'd torch paths")
    p.add_argument("--quick", action="store_true", help="tiny runs: a smoke test of the whole script")
    p.add_argument("--json", type=Path, help="also save the raw records here")
    p.add_argument("--from-json", type=Path, help="render (and with --write-docs, write) a saved run's records")
    p.add_argument("--write-docs", action="store_true", help="replace this script's section of --docs")
    p.add_argument("--docs", type=Path, default=DEFAULT_DOCS)
    args = p.parse_args(argv)
    args.volume_given = args.volume is not None
    args.volume = args.volume or DEFAULT_VOLUME
    args.sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    args.precisions = [s.strip() for s in args.precisions.split(",") if s.strip()]
    args.unorm8_records = [s.strip() for s in args.unorm8_records.split(",") if s.strip()]
    for name in ("batches", "block", "num_warps", "chunk_features"):
        text = getattr(args, name)
        try:
            setattr(args, name, [int(b) for b in text.split(",") if b.strip()])
        except ValueError:
            p.error(f"--{name.replace('_', '-')}: expected comma-separated integers, got {text!r}")
    configs = []
    for item in (c.strip() for c in args.exact_configs.split(",") if c.strip()):
        parts = item.split(":")
        try:
            if parts[0] == "thread" and len(parts) == 1:
                configs.append(("thread", 128, 64, {}))
            elif parts[0] == "block" and len(parts) >= 3:
                # no token: one grid's loads in flight, no launch bounds, input loop unrolled twice (the
                # library's default is block:128:64:pf2:mb3:u1)
                tuning: dict[str, Any] = {"prefetch": 1, "min_blocks": 0, "unroll": 2}
                for tok in parts[3:]:
                    if tok[:2] == "pf":
                        tuning["prefetch"] = int(tok[2:] or 1)
                    elif tok[:2] == "mb":
                        tuning["min_blocks"] = int(tok[2:])
                    elif tok[:1] == "u":
                        tuning["unroll"] = int(tok[1:])
                    else:
                        raise ValueError
                configs.append(("block", int(parts[1]), int(parts[2]), tuning))
            else:
                raise ValueError
        except ValueError:
            p.error(f"--exact-configs: {item!r} is neither 'thread' nor 'block:THREADS:OUTPUTS_PER_PASS' with "
                    "optional :pf, :mbN, :uN")
    args.exact_configs = configs
    if args.quick:
        args.steps = args.steps or 20
        args.sizes = args.sizes[:1]
        args.batches = [1 << 16]
        args.cpu_points = min(args.cpu_points, 1 << 12)
        args.repeats = min(args.repeats, 3)
    if args.steps is None and args.time_budget is None:
        args.time_budget = 40.0
    from ngsdk.volumes.config import PRESETS
    from ngsdk.volumes.fused_decode import PRECISIONS

    bad = [s for s in args.sizes if s not in PRESETS]
    if bad or not args.sizes:
        p.error(f"--sizes: unknown preset(s) {', '.join(bad) or '(none)'}; use {', '.join(PRESETS)}")
    bad = [s for s in args.precisions if s not in PRECISIONS]
    if bad:
        p.error(f"--precisions: unknown {', '.join(bad)}; use {', '.join(PRECISIONS)}")
    if not args.batches or min(args.batches) < 1:
        p.error("--batches needs positive point counts")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.from_json:
        try:
            doc = json.loads(args.from_json.read_text(encoding="utf-8"))
            rows, meta = doc["rows"], doc["meta"]
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise SystemExit(f"{args.from_json}: not a bench_volume_decode.py --json file "
                             f"({type(e).__name__}: {e})") from None
        print(render(rows), flush=True)
        if args.write_docs:
            write_docs(args.docs, "bench_volume_decode", SECTION, section(rows, meta))
        return 0
    from ngsdk import __version__

    device = resolve_device(args.device)
    meta = {"command": " ".join(["python tools/bench_volume_decode.py", *(sys.argv[1:] if argv is None else argv)]),
            "date": datetime.date.today().isoformat(), "ngsdk": __version__, "device": device_description(device)}
    say(f"device: {meta['device']}")
    models = load_assets(args) if args.asset else train_assets(args, device)
    rows: list[dict[str, Any]] = []
    for label, asset, source in models:
        say(f"decode speed, {label}:")
        rows += measure(label, asset, source, args, device)
    if args.json:
        doc = {"meta": meta, "rows": rows}
        atomic_write_bytes(args.json, (json.dumps(doc, indent=1, allow_nan=False) + "\n").encode("utf-8"))
        say(f"wrote {args.json}")
    print(render(rows), flush=True)
    if args.write_docs:
        write_docs(args.docs, "bench_volume_decode", SECTION, section(rows, meta))
    return 0


if __name__ == "__main__":
    sys.exit(main())

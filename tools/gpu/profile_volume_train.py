#!/usr/bin/env python3
"""Where a neural-volume training step spends its time: steps per second over grid counts, batch sizes and
three samplers (gather, fused, grid_sample), then the PyTorch profiler's top operators of one configuration.

On the H100 (2026-12-07) the trainer ran 13 steps/s for the embryo at 50:1 (32 grids of 13^3, batch 2^18,
``gather`` sampler), 1,383 steps in 110 s: this script finds out why before anything is rewritten.

    python3 tools/gpu/profile_volume_train.py --volume .bench_data/volumes/embryo_zyx_256x256x256_uint8.npy \\
        --ratio 50 --grids 2,4,8,16,32 --batches 65536,262144 --json build/gpu/volume_train_profile.json
    python tools/gpu/profile_volume_train.py --device cpu --samplers gather,grid_sample --grids 2,8 \\
        --volume ../shared/data/volumes/bunny_zyx_64x64x64_float32.npy --batches 4096 --steps 6 --profile-steps 3
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def time_config(values: Any, cfg: Any, device: str) -> dict[str, Any]:
    """Steps per second of ``cfg`` (fixed steps, no evaluation), the refine phase (transforms frozen) included."""
    from ngsdk.volumes.fit import fit_volume

    _sync(device)
    t0 = time.perf_counter()
    res = fit_volume(values, cfg)
    _sync(device)
    seconds = time.perf_counter() - t0
    return {"grids": cfg.grids, "grid_res": cfg.grid_res, "hidden": cfg.hidden, "batch": cfg.batch_size,
            "sampler": cfg.sampler, "steps": res.steps, "seconds": round(seconds, 3),
            "steps_per_s": round(res.steps / seconds, 2),
            "points_per_s": round(res.steps * cfg.batch_size / seconds)}


def profile_config(values: Any, cfg: Any, device: str, rows: int) -> str:
    """The profiler's operator table (sorted by device time where there is one) of a short run of ``cfg``."""
    from torch.profiler import ProfilerActivity, profile

    from ngsdk.volumes.fit import fit_volume

    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.startswith("cuda") else [])
    with profile(activities=acts) as prof:
        fit_volume(values, cfg)
        _sync(device)
    key = "self_cuda_time_total" if device.startswith("cuda") else "self_cpu_time_total"
    return prof.key_averages().table(sort_by=key, row_limit=rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--volume", type=Path, required=True)
    ap.add_argument("--ratio", type=float, default=50.0, help="size each grid count's model for this ratio")
    ap.add_argument("--grids", default="2,4,8,16,32")
    ap.add_argument("--batches", default="65536,262144")
    ap.add_argument("--samplers", default="gather,fused,grid_sample")
    ap.add_argument("--steps", type=int, default=120, help="steps per timed configuration")
    ap.add_argument("--profile-steps", type=int, default=30)
    ap.add_argument("--rows", type=int, default=25)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)

    import dataclasses

    import torch

    from ngsdk.volumes.config import VolumeTrainConfig
    from ngsdk.volumes.ingest import load_volume
    from ngsdk.volumes.rate import size_for_ratio

    vol = load_volume(args.volume)
    dev = (torch.cuda.get_device_name(0) if args.device.startswith("cuda") else "cpu")
    print(f"{vol.name} {vol.values.shape} on {dev}, torch {torch.__version__}, ratio {args.ratio:g}:1", flush=True)
    rows: list[dict[str, Any]] = []
    base = VolumeTrainConfig(steps=args.steps, seed=0, device=args.device, eval_every=10**9)
    sized = {}
    for g in (int(x) for x in args.grids.split(",")):
        sized[g] = size_for_ratio(base, vol.values.shape, vol.normalization.source_dtype, args.ratio, grids=g)
        for batch in (int(x) for x in args.batches.split(",")):
            for sampler in args.samplers.split(","):
                cfg = dataclasses.replace(sized[g], batch_size=batch, sampler=sampler)
                row = time_config(vol.values, cfg, args.device)
                rows.append(row)
                print(json.dumps(row), flush=True)
    worst = max(sized)
    cfg = dataclasses.replace(sized[worst], steps=args.profile_steps,
                              batch_size=max(int(x) for x in args.batches.split(",")), sampler="gather")
    table = profile_config(vol.values, cfg, args.device, args.rows)
    print(f"\nprofile: {worst} grids of {cfg.grid_res}^3, batch {cfg.batch_size}, gather, {args.profile_steps} "
          f"steps\n{table}", flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"volume": vol.name, "device": dev, "ratio": args.ratio, "rows": rows,
                                         "profile": table}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Ensembles: split a volume into bricks with ghost cells, fit one model per brick, assemble one asset.

Each axis of ``n`` voxels is cut into ``k`` core ranges at ``floor(i n / k)``; a brick's fit box is its
core grown by ``ghost`` voxels per side, clipped to the volume, so neighbouring models agree near their
shared faces. Bricks train one process per CUDA GPU (``torch.multiprocessing`` spawn) when several
GPUs are visible, otherwise one after another on the chosen device. The time budget is for the whole
ensemble: each brick gets the share of its worker.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import torch

from ngsdk.asset.neural_volume import Box
from ngsdk.metrics import psnr
from ngsdk.training import TrainProgress, pick_device
from ngsdk.volumes.assemble import TrainResult, finalize_asset, make_asset
from ngsdk.volumes.config import VolumeTrainConfig
from ngsdk.volumes.fit import fit_volume, model_brick


def partition(shape: tuple[int, int, int], counts: tuple[int, int, int], ghost: int) -> list[tuple[Box, Box]]:
    """(core, fit) boxes (z0, z1, y0, y1, x0, x1), z-major brick order. Cores tile the volume exactly once;
    fit boxes are the cores grown by ``ghost`` voxels and clipped to the volume."""
    ranges = []
    for n, k in zip(shape, counts):
        if k > n // 2:
            raise ValueError(f"--bricks: {k} bricks on an axis of {n} voxels leaves bricks under 2 voxels")
        cuts = [i * n // k for i in range(k + 1)]
        ranges.append([(cuts[i], cuts[i + 1]) for i in range(k)])
    out = []
    for z0, z1 in ranges[0]:
        for y0, y1 in ranges[1]:
            for x0, x1 in ranges[2]:
                core = (z0, z1, y0, y1, x0, x1)
                fit = tuple(max(0, core[j] - ghost) if j % 2 == 0 else min(shape[j // 2], core[j] + ghost)
                            for j in range(6))
                out.append((core, fit))
    return out  # type: ignore[return-value]


def _brick_config(cfg: VolumeTrainConfig, index: int) -> VolumeTrainConfig:
    return replace(cfg, bricks=(1, 1, 1), seed=cfg.seed + 1009 * index)


def _sub(values: np.ndarray, fit: Box) -> np.ndarray:
    return np.ascontiguousarray(values[fit[0]:fit[1], fit[2]:fit[3], fit[4]:fit[5]])


def _fit_brick(sub: np.ndarray, cfg: VolumeTrainConfig, index: int, core: Box, fit: Box,
               device: torch.device, budget: float | None, progress: Callable[[TrainProgress], None] | None,
               log: Callable[[str], None] | None) -> dict[str, Any]:
    """Train brick ``index`` on its fit sub-volume ``sub``."""
    name = f"brick{index:03d}"
    res = fit_volume(sub, _brick_config(cfg, index), device=device, time_budget=budget, progress=progress,
                     log=log, label=name)
    return {"index": index, "brick": model_brick(res.model, name, core, fit), "steps": res.steps,
            "seconds": res.seconds, "history": res.history}


def _worker(rank: int, device: str, jobs: list[tuple[int, Box, Box, np.ndarray]], cfg: VolumeTrainConfig,
            budget: float | None, threads: int, queue: Any) -> None:
    """One process: train its bricks on one device, sending ("log" | "progress" | "done" | "error", ...)."""
    try:
        if threads:
            torch.set_num_threads(threads)
        dev = pick_device(device)
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
        for index, core, fit, sub in jobs:
            queue.put(("done", _fit_brick(sub, cfg, index, core, fit, dev, budget,
                                          lambda p: queue.put(("progress", p)), lambda s: queue.put(("log", s)))))
    except BaseException as e:  # report to the parent instead of dying silently
        queue.put(("error", f"worker {rank} ({device}): {type(e).__name__}: {e}"))


def _train_parallel(values: np.ndarray, cfg: VolumeTrainConfig, parts: list[tuple[Box, Box]], devices: list[str],
                    budget: float | None, progress: Callable[[TrainProgress], None] | None,
                    log: Callable[[str], None]) -> list[dict[str, Any]]:
    import torch.multiprocessing as mp

    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    threads = max(1, (torch.get_num_threads() // len(devices))) if devices[0] == "cpu" else 0
    jobs: list[list[tuple[int, Box, Box, np.ndarray]]] = [[] for _ in devices]
    for i, (core, fit) in enumerate(parts):
        jobs[i % len(devices)].append((i, core, fit, _sub(values, fit)))
    procs = [ctx.Process(target=_worker, args=(r, dev, jobs[r], cfg, budget, threads, queue), daemon=True)
             for r, dev in enumerate(devices) if jobs[r]]
    for p in procs:
        p.start()
    results: list[dict[str, Any]] = []
    try:
        while len(results) < len(parts):
            try:
                kind, item = queue.get(timeout=5.0)
            except Exception:  # queue.Empty: check the workers are alive
                dead = [p for p in procs if not p.is_alive() and p.exitcode not in (0, None)]
                if dead:
                    raise RuntimeError(f"brick worker exited with code {dead[0].exitcode}") from None
                continue
            if kind == "error":
                raise RuntimeError(item)
            if kind == "log":
                log(item)
            elif kind == "progress":
                if progress:
                    progress(item)
            else:
                results.append(item)
    finally:
        for p in procs:
            p.join(timeout=10)
            if p.is_alive():
                p.terminate()
    return sorted(results, key=lambda r: r["index"])


def seam_metrics(asset: Any, decoded: np.ndarray, source: np.ndarray,
                 device: torch.device | str = "cpu") -> dict[str, float | None]:
    """How visible the brick boundaries are in a reconstruction (normalized units).

    ``seam_step_rmse``: RMS error of the value step between the two voxels across an internal core face;
    ``near_step_rmse``: the same for the parallel voxel pairs one voxel further in on each side (the
    same region of the data without the seam), so a ratio near 1 means no visible seam.
    ``disagreement_rmse`` / ``_max``: each brick decoding the voxel layer just outside its core (inside its
    fit box, owned by the neighbour) against the neighbour's decode: the jump if the bricks swapped there.
    """
    from ngsdk.volumes.strict import PreparedBrick, brick_local, voxel_points

    err = decoded.astype(np.float64) - source.astype(np.float64)
    seam_steps, near_steps = [], []
    for a in range(3):
        n = decoded.shape[a]
        step_err = np.moveaxis(np.diff(err, axis=a), a, 0)  # error of v[i + 1] - v[i]
        for c in sorted({b.core[2 * a] for b in asset.bricks} - {0}):
            seam_steps.append(step_err[c - 1].ravel())
            for i in (c - 2, c):
                if 0 <= i < n - 1:
                    near_steps.append(step_err[i].ravel())
    diffs = []
    for brick in asset.bricks:
        prepared = PreparedBrick(brick, device)
        for a in range(3):
            for side in (0, 1):
                layer = brick.core[2 * a] - 1 if side == 0 else brick.core[2 * a + 1]
                if not brick.fit[2 * a] <= layer < brick.fit[2 * a + 1]:
                    continue
                box = list(brick.core)
                box[2 * a], box[2 * a + 1] = layer, layer + 1
                pts = brick_local(voxel_points(asset.shape, tuple(box), device), asset.shape, brick.fit)
                with torch.no_grad():
                    mine = prepared(pts, asset.decode_mode).cpu().numpy().astype(np.float64)
                theirs = decoded[box[0]:box[1], box[2]:box[3], box[4]:box[5]].ravel()
                diffs.append(mine - theirs)

    def rms(parts: list[np.ndarray]) -> float | None:
        x = np.concatenate(parts) if parts else np.zeros(0)
        return float(math.sqrt(np.mean(x**2))) if x.size else None

    all_diffs = np.concatenate(diffs) if diffs else np.zeros(0)
    return {
        "seam_step_rmse": rms(seam_steps),
        "near_step_rmse": rms(near_steps),
        "disagreement_rmse": rms(diffs),
        "disagreement_max": float(np.abs(all_diffs).max()) if all_diffs.size else None,
    }


def train_bricks(data: Any, cfg: VolumeTrainConfig, *, progress: Callable[[TrainProgress], None] | None = None,
                 log: Callable[[str], None] | None = None, processes: int | None = None,
                 runner: Any = None) -> TrainResult:
    """Fit one model per brick of ``cfg.bricks`` (ghost ``cfg.ghost``) and assemble one asset.

    ``processes``: worker processes (default: one per CUDA GPU when training on CUDA with more than one
    visible, else none: bricks train in this process one after another). CPU workers share the cores, each with
    ``torch threads // processes`` threads; the bytes equal a sequential run at that thread count (CPU float
    sums depend on it).
    ``runner``: schedule the bricks elsewhere instead (``ngsdk.batch.bricks.RayBricks``: one Ray task per
    brick): ``runner(values, cfg, parts, budget, progress, log)`` returns what ``_fit_brick`` returns per
    brick, ``runner.slots`` the bricks it trains at once, ``runner.where`` the devices in words.
    """
    log = log or (lambda s: None)
    cfg.check()
    device = pick_device(cfg.device)
    parts = partition(tuple(data.values.shape), tuple(cfg.bricks), cfg.ghost)
    if processes is None:
        ngpu = torch.cuda.device_count() if device.type == "cuda" and device.index is None else 1
        processes = ngpu if ngpu > 1 else 0
    if processes and device.type == "cuda":
        devices = [f"cuda:{i}" for i in range(min(processes, torch.cuda.device_count()))]
    elif processes:
        devices = ["cpu"] * processes
    else:
        devices = []
    workers = runner.slots if runner is not None else max(1, len(devices))
    budget = cfg.time_budget / math.ceil(len(parts) / workers) if cfg.time_budget else None
    where = runner.where if runner is not None else ', '.join(devices) if devices else str(device)
    log(f"{len(parts)} bricks ({'x'.join(map(str, cfg.bricks))}, ghost {cfg.ghost}) on {where}"
        + (f", {budget:.1f} s each" if budget else ""))
    t0 = time.perf_counter()
    if runner is not None:
        results = sorted(runner(data.values, cfg, parts, budget, progress, log), key=lambda r: r["index"])
    elif len(devices) > 1 or (devices and devices[0] == "cpu"):
        results = _train_parallel(data.values, cfg, parts, devices, budget, progress, log)
    else:
        results = [_fit_brick(_sub(data.values, fit), cfg, i, core, fit, device, budget, progress, log)
                   for i, (core, fit) in enumerate(parts)]
    seconds = time.perf_counter() - t0
    asset = make_asset(data, cfg, [r["brick"] for r in results])
    t1 = time.perf_counter()
    steps = sum(r["steps"] for r in results)
    decoded = finalize_asset(asset, data.values, device, {"steps": steps})
    m = asset.provenance.metrics
    m["seams"] = seam_metrics(asset, decoded, data.values, device)
    m["bricks"] = []
    for (core, _), r in zip(parts, results):
        z0, z1, y0, y1, x0, x1 = core
        diff = decoded[z0:z1, y0:y1, x0:x1].astype(np.float64) - data.values[z0:z1, y0:y1, x0:x1]
        m["bricks"].append({"name": r["brick"].name, "psnr_db": psnr(float(np.mean(diff**2))),
                            "steps": r["steps"]})
    history = [dict(h, brick=r["index"]) for r in results for h in r["history"]]
    return TrainResult(asset=asset, steps=steps, seconds=seconds, metrics=m, history=history,
                       reconstruction=decoded, finalize_seconds=time.perf_counter() - t1)

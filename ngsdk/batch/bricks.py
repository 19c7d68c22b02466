"""A volume ensemble's bricks as Ray tasks (``ngsdk train volume --bricks ... --ray``).

``train_bricks`` partitions the volume and assembles the asset; this runner only trains the bricks: one Ray
task per brick with its fit sub-volume, one GPU each when the cluster has GPUs (Ray sets the task's
``CUDA_VISIBLE_DEVICES``), else ``cpus`` CPUs each, as many at once as the cluster holds. Each task runs the
same brick fit as the in-process path (``ngsdk.volumes.bricks._fit_brick``: seed ``seed + 1009 * index``,
deterministic per brick), so a run with ``--steps`` gives the same bundle bytes wherever its bricks ran, given the
same device type and, on CPUs, the same torch threads per brick (float sums depend on the thread count; a CPU
task trains with one thread per CPU it holds).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from ngsdk.batch.pool import Resources, run_tasks, start_ray
from ngsdk.volumes.config import VolumeTrainConfig


def fit_brick_task(job: dict[str, Any]) -> dict[str, Any]:
    """One brick on the worker's device: ``job`` = ``{index, core, fit, sub, config, device, budget, threads}``."""
    import torch

    from ngsdk.training import pick_device
    from ngsdk.volumes.bricks import _fit_brick

    lines: list[str] = []
    try:
        if job["threads"]:
            torch.set_num_threads(job["threads"])
        dev = pick_device(job["device"])
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
        cfg = VolumeTrainConfig.from_dict(job["config"])
        out = _fit_brick(job["sub"], cfg, job["index"], tuple(job["core"]), tuple(job["fit"]), dev, job["budget"],
                         None, lines.append)
    except Exception as e:  # noqa: BLE001 - the driver turns it into one error for the whole ensemble
        return {"status": "failed", "error": f"brick {job['index']}: {type(e).__name__}: {e}", "log": lines}
    return {"status": "ok", "result": out, "log": lines}


class RayBricks:
    """``runner`` for :func:`ngsdk.volumes.bricks.train_bricks`: every brick one Ray task.

    ``address``: a cluster (``auto``, ``ray://host:port``), or None for a local Ray on this machine.
    ``gpus``: GPUs per brick (None: 1 when the cluster has GPUs and the config's device is not ``cpu``).
    """

    def __init__(self, address: str | None = None, *, gpus: float | None = None, cpus: float = 1.0,
                 device: str = "auto", ray_cpus: int | None = None):
        self.cluster = start_ray(address, num_cpus=ray_cpus)
        if gpus is None:
            gpus = 1.0 if self.cluster.get("GPU", 0) and device != "cpu" else 0.0
        self.resources = Resources(cpus=cpus, gpus=gpus)
        self.resources.check(self.cluster)
        self.device = ("cuda" if device in ("auto", "cuda") or device.startswith("cuda") else device) if gpus \
            else "cpu"

    @property
    def slots(self) -> int:
        return self.resources.slots(self.cluster)

    @property
    def where(self) -> str:
        r = self.resources
        each = f"{r.gpus:g} GPU" if r.gpus else f"{r.cpus:g} CPU"
        return f"Ray ({self.slots} at a time, {each} each)"

    def __call__(self, values: np.ndarray, cfg: VolumeTrainConfig, parts: list[tuple[Any, Any]],
                 budget: float | None, progress: Callable[[Any], None] | None,
                 log: Callable[[str], None]) -> list[dict[str, Any]]:
        from ngsdk.volumes.bricks import _sub

        threads = 0 if self.resources.gpus else max(1, int(self.resources.cpus))
        config = cfg.to_dict()

        def jobs():  # noqa: ANN202 - sub-volumes are cut only when their task is submitted
            for i, (core, fit) in enumerate(parts):
                yield f"brick{i:03d}", {"index": i, "core": core, "fit": fit, "sub": _sub(values, fit),
                                        "config": config, "device": self.device, "budget": budget,
                                        "threads": threads}

        results: list[dict[str, Any]] = []
        errors: list[str] = []

        def done(name: str, r: dict[str, Any]) -> bool:
            for line in r.get("log", []):
                log(f"{name}: {line}")
            if r.get("status") != "ok":
                errors.append(r.get("error", f"{name}: failed"))
                return False
            results.append(copy.deepcopy(r["result"]))  # Ray hands back read-only arrays; the asset owns its
            log(f"{name} done: {r['result']['steps']} steps in {r['result']['seconds']:.1f} s "
                f"({len(results)}/{len(parts)})")
            return True

        run_tasks(fit_brick_task, jobs(), self.resources, self.slots, lambda name: None, done)
        if errors:
            raise RuntimeError(errors[0])
        return results

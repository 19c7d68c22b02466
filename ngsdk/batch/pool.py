"""Running tasks on Ray: a local Ray on this machine by default, a cluster by address; resources per task.

Each task declares ``num_cpus`` / ``num_gpus`` (fractions allowed), so Ray packs them onto the cluster's
devices and sets ``CUDA_VISIBLE_DEVICES`` for each: inside a task ``cuda`` is the GPU Ray gave it. At most
``max_parallel`` tasks are submitted at once (default: as many as the cluster's resources hold), so the
tasks in flight are the tasks running. A task that raises or whose worker dies (after Ray's retries) becomes
a failure with one line; the work functions catch their own errors and return them as results.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

RAY_INSTALL = "pip install 'ngsdk[batch]'"
WORKER_RETRIES = 2
"""Ray reruns a task whose worker process died (a lost node, an out-of-memory kill) this many times."""


class RayUnavailable(RuntimeError):
    """Ray is not installed."""


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise RayUnavailable(f"ngsdk batch needs Ray (module 'ray' is not installed): {RAY_INSTALL}") from None
    return ray


def local_gpus() -> int:
    """CUDA GPUs of this machine (0 without torch or CUDA)."""
    try:
        import torch
    except ImportError:
        return 0
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def start_ray(address: str | None = None, *, num_cpus: int | None = None,
              num_gpus: int | None = None) -> dict[str, float]:
    """Join the cluster at ``address`` (``auto``, ``ray://host:port``, ``host:port``) or start a local Ray with
    this machine's cores and GPUs (or ``num_cpus`` / ``num_gpus``); return the cluster's resources.
    A Ray already initialised in this process is used as it is."""
    ray = import_ray()
    if not ray.is_initialized():
        quiet = {"logging_level": "error", "log_to_driver": False}
        if address:
            ray.init(address=address, **quiet)
        else:
            ray.init(num_cpus=num_cpus or os.cpu_count() or 1,
                     num_gpus=local_gpus() if num_gpus is None else num_gpus, include_dashboard=False, **quiet)
    return dict(ray.cluster_resources())


def stop_ray() -> None:
    ray = import_ray()
    if ray.is_initialized():
        ray.shutdown()


@dataclass(frozen=True)
class Resources:
    """What one task declares: ``cpus`` (also its torch threads) and ``gpus`` (0: trains on the CPU)."""

    cpus: float = 1.0
    gpus: float = 0.0

    def slots(self, cluster: dict[str, float]) -> int:
        """How many such tasks the cluster runs at once (at least 1)."""
        n = math.floor(cluster.get("CPU", 1.0) / self.cpus) if self.cpus else 1 << 30
        if self.gpus:
            n = min(n, math.floor(cluster.get("GPU", 0.0) / self.gpus))
        return max(1, n)

    def check(self, cluster: dict[str, float]) -> None:
        """Refuse a request no node can hold (Ray would wait for it forever)."""
        if self.gpus and cluster.get("GPU", 0.0) < self.gpus:
            raise ValueError(f"--gpus-per-task {self.gpus:g}: the Ray cluster has {cluster.get('GPU', 0):g} GPUs "
                             "(use --gpus-per-task 0 to train on CPUs)")
        if self.cpus > cluster.get("CPU", 0.0):
            raise ValueError(f"--cpus-per-task {self.cpus:g}: the Ray cluster has {cluster.get('CPU', 0):g} CPUs")


def one_line(e: BaseException) -> str:
    """An exception as one line (Ray's task errors carry a traceback: keep its last line)."""
    text = str(e).strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return " ".join((lines[-1] if lines else type(e).__name__).split())


def run_tasks(fn: Callable[[Any], dict[str, Any]], jobs: Iterable[tuple[str, Any]], res: Resources,
              max_parallel: int, on_start: Callable[[str], None], on_done: Callable[[str, dict[str, Any]], bool],
              heartbeat: Callable[[], None] | None = None, heartbeat_s: float = 30.0) -> None:
    """Run ``fn(job)`` as one Ray task per ``(name, job)``, at most ``max_parallel`` at once.

    ``jobs`` is consumed lazily (a job's input is built only when it is submitted). ``on_done(name, result)``
    gets the task's result, or ``{"status": "failed", "error": ...}`` when the task could not run; it returns
    False to stop submitting new tasks (the running ones finish). ``heartbeat`` runs every ``heartbeat_s``
    while nothing finishes.
    """
    ray = import_ray()
    remote = ray.remote(fn).options(num_cpus=res.cpus, num_gpus=res.gpus, max_retries=WORKER_RETRIES)
    todo = iter(jobs)
    inflight: dict[Any, str] = {}
    go_on = True
    last = time.monotonic()
    try:
        while True:
            while go_on and len(inflight) < max_parallel:
                nxt = next(todo, None)
                if nxt is None:
                    go_on = False
                    break
                name, job = nxt
                inflight[remote.remote(job)] = name
                on_start(name)
            if not inflight:
                return
            ready, _ = ray.wait(list(inflight), num_returns=1, timeout=min(heartbeat_s, 5.0))
            for ref in ready:
                name = inflight.pop(ref)
                try:
                    result = ray.get(ref)
                except ray.exceptions.RayError as e:
                    result = {"status": "failed", "error": f"task failed: {one_line(e)}"}
                if not on_done(name, result):
                    go_on = False
                last = time.monotonic()
            if heartbeat and not ready and time.monotonic() - last >= heartbeat_s:
                heartbeat()
                last = time.monotonic()
    finally:
        for ref in inflight:  # an interrupted batch: don't leave its tasks running on the cluster
            ray.cancel(ref, force=True)

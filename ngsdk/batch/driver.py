"""One batch: find the library's items, skip the up-to-date ones, train the rest as Ray tasks, write each
result (bundle, log, thumbnail, record) as it arrives, then the library report.

Resume semantics (docs/batch.md): an item is up to date when its record says ``ok`` with the same key
(sources + config + ngsdk version) and its bundle is complete; everything else (new, changed, failed,
interrupted) is trained. The output folder is locked for the batch and cleared of a killed batch's
temporary files first.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ngsdk import __version__
from ngsdk.asset.atomic import atomic_write_bytes, replace_folder
from ngsdk.asset.manifest import MANIFEST_NAME
from ngsdk.batch import records
from ngsdk.batch.library import Item, file_digests, item_key
from ngsdk.batch.pool import Resources, run_tasks, start_ray
from ngsdk.batch.report import write_report
from ngsdk.batch.texture_task import source_files


@dataclass
class BatchSpec:
    """What kind of batch: how to find items, the task that trains one, and the settings every task gets.

    ``config`` (the use case's config as a dict) and ``job`` (further task settings: ``target_psnr``, the volume
    reader's options) go into every task and every item's key."""

    kind: str
    find: Callable[..., list[Item]]
    task: Callable[[dict[str, Any]], dict[str, Any]]
    config: dict[str, Any]
    job: dict[str, Any] = field(default_factory=dict)


@dataclass
class Summary:
    """How a batch ended: item names per outcome, the report's paths, the wall time."""

    trained: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    not_run: list[str] = field(default_factory=list)
    report: Path | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_run


def _fmt_s(s: float) -> str:
    return f"{s:.0f} s" if s < 90 else f"{s / 60:.1f} min" if s < 5400 else f"{s / 3600:.1f} h"


class Progress:
    """Materials done / running / failed and an ETA from the mean task time and the parallel slots."""

    def __init__(self, total: int, slots: int, log: Callable[[str], None]):
        self.total, self.slots, self.log = total, slots, log
        self.done = self.failed = 0
        self.running: dict[str, float] = {}
        self.times: list[float] = []
        self.t0 = time.monotonic()

    def start(self, name: str) -> None:
        self.running[name] = time.monotonic()

    def finish(self, name: str, ok: bool, what: str) -> None:
        started = self.running.pop(name, time.monotonic())
        self.times.append(time.monotonic() - started)
        self.done += ok
        self.failed += not ok
        self.log(f"{name}: {what}  [{self.line()}]")

    def line(self) -> str:
        left = self.total - self.done - self.failed
        eta = ""
        if self.times and left:
            mean = sum(self.times) / len(self.times)
            eta = f", ETA {_fmt_s(mean * left / min(self.slots, left))}"
        return (f"done {self.done}/{self.total}, running {len(self.running)}, failed {self.failed}, "
                f"elapsed {_fmt_s(time.monotonic() - self.t0)}{eta}")

    def heartbeat(self) -> None:
        self.log(f"[{self.line()}] running: {', '.join(sorted(self.running))}")


def _write_result(out: Path, item: Item, result: dict[str, Any]) -> None:
    """Bundle (atomic folder swap), thumbnail, log; the caller writes the record last."""
    def fill(tmp: Path) -> None:
        for rel, data in result["bundle"].items():
            atomic_write_bytes(tmp / rel, data)
        if not (tmp / MANIFEST_NAME).is_file():
            raise RuntimeError(f"{item.name}: the task returned a bundle without {MANIFEST_NAME}")

    replace_folder(records.bundle_path(out, item.name), fill, marker=MANIFEST_NAME)
    if result.get("thumbnail"):
        atomic_write_bytes(records.thumbnail_path(out, item.name), result["thumbnail"])


def run_batch(library: Path, out: Path, spec: BatchSpec, *, address: str | None = None,
              resources: Resources | None = None, max_parallel: int | None = None, keep_going: bool = True,
              log: Callable[[str], None] = print, ray_cpus: int | None = None) -> Summary:
    """Train every item of ``library`` that is not up to date in ``out``; write ``out/report.json`` and
    ``out/report.html``. ``keep_going=False`` stops submitting after the first failure (running tasks finish).
    ``ray_cpus``: CPUs of a local Ray (default: this machine's)."""
    t_start = time.monotonic()
    resources = resources or Resources()
    library, out = Path(library), Path(out)
    summary = Summary()
    items = spec.find(library, skip=out)
    with records.batch_lock(out):
        for p in records.remove_leftovers(out):
            log(f"removed {p} (left by an interrupted batch)")
        stale: list[tuple[Item, str, dict[str, Any]]] = []
        for item in items:
            rec = records.read_record(out, item.name)
            digests = file_digests(item, (rec or {}).get("files"))
            key = item_key(digests, {**spec.job, "config": spec.config})
            if records.up_to_date(out, item.name, rec, key):
                summary.skipped.append(item.name)
            else:
                stale.append((item, key, digests))
        log(f"{len(items)} {spec.kind} item(s) in {library}: {len(summary.skipped)} up to date, "
            f"{len(stale)} to train")
        by_name = {item.name: (item, key, digests) for item, key, digests in stale}
        try:
            if stale:
                cluster = start_ray(address, num_cpus=ray_cpus)
                resources.check(cluster)
                slots = resources.slots(cluster)
                parallel = max_parallel or slots
                log(f"Ray: {cluster.get('CPU', 0):g} CPUs, {cluster.get('GPU', 0):g} GPUs; tasks of "
                    f"{resources.cpus:g} CPU + {resources.gpus:g} GPU, {min(parallel, slots)} at a time")
                progress = Progress(len(stale), min(parallel, slots), log)

                def jobs() -> Iterator[tuple[str, dict[str, Any]]]:
                    for item, _, _ in stale:
                        job = {**spec.job, "name": item.name, "source": str(item.source), "config": spec.config,
                               "threads": max(1, int(resources.cpus)) if not resources.gpus else 0}
                        try:
                            job["files"] = source_files(item.source.parent if item.source.is_file()
                                                        else item.source, item.files)
                        except Exception as e:  # noqa: BLE001 - an unreadable file fails the item, inside a task
                            job["files"], job["read_error"] = {}, str(e)
                        yield item.name, job

                def done(name: str, result: dict[str, Any]) -> bool:
                    item, key, digests = by_name[name]
                    return _record(out, item, key, digests, spec, result, summary, progress) or keep_going

                run_tasks(spec.task, jobs(), resources, parallel, progress.start, done, progress.heartbeat)
        finally:
            finished = set(summary.trained) | set(summary.skipped) | set(summary.failed)
            summary.not_run = [i.name for i in items if i.name not in finished]
            summary.report = write_report(out, spec.kind, library, items, log)
            summary.seconds = time.monotonic() - t_start
    return summary


def _record(out: Path, item: Item, key: str, digests: dict[str, Any], spec: BatchSpec, result: dict[str, Any],
            summary: Summary, progress: Progress) -> bool:
    """Write one finished task's outputs and record; return whether it succeeded."""
    rec: dict[str, Any] = {"name": item.name, "kind": spec.kind, "source": str(item.source), "key": key,
                           "files": digests, "config": spec.config, "job": spec.job, "ngsdk": __version__,
                           "finished": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    if result.get("status") == "ok":
        try:
            _write_result(out, item, result)
        except Exception as e:  # noqa: BLE001 - a write failure fails this item, not the batch
            result = {"status": "failed", "error": f"writing the bundle: {type(e).__name__}: {e}",
                      "log": result.get("log", [])}
    log_lines = result.get("log") or []
    if log_lines:
        atomic_write_bytes(records.log_path(out, item.name), ("\n".join(log_lines) + "\n").encode())
    if result.get("status") == "ok":
        rec.update(status="ok", row=result["row"])
        records.write_record(out, item.name, rec)
        summary.trained.append(item.name)
        row = result["row"]
        what = f"ok, {row['psnr_db']:.2f} dB, " + (f"{row['bpp']:.2f} bpp" if spec.kind == "texture"
                                                   else f"{row['compression_ratio']:.1f}:1")
        progress.finish(item.name, True, what + f" in {row.get('task_seconds', 0):.1f} s")
        return True
    error = " ".join(str(result.get("error") or "unknown error").split())
    rec.update(status="failed", error=error)
    records.write_record(out, item.name, rec)
    summary.failed[item.name] = error
    progress.finish(item.name, False, f"FAILED: {error}")
    return False

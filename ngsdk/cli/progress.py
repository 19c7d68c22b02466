"""Progress of long CLI steps: a tqdm bar on a terminal, plain ``ngsdk`` log lines otherwise (CI logs, pipes).

Every step that can take more than about two seconds reports through here (training, verify's decodes and
export checks, export's graphs), so ``-q`` silences all of them and a log file gets the same lines.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ngsdk.cli.common import FILE_ONLY, log, quiet


def _bar_wanted() -> bool:
    if quiet() or not sys.stderr.isatty():
        return False
    try:
        import tqdm  # noqa: F401 - ships with the train extra; plain lines without it
    except ImportError:
        return False
    return True


@contextlib.contextmanager
def log_file(path: str | Path) -> Iterator[Path]:
    """Also write every ``ngsdk`` log line (file-only lines included) to ``path`` while the block runs.

    The lines go to a hidden sibling ``.NAME.PID.tmp`` renamed over ``path`` when the block ends (also on an
    error), so a run killed midway leaves the previous run's log whole; the next run removes such leftovers."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_logs(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    handler = logging.FileHandler(tmp, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.setLevel(logging.INFO)
    level = log.level
    log.setLevel(min(level or logging.INFO, logging.INFO))  # the file keeps progress lines under -q too
    log.addHandler(handler)
    try:
        yield path
    finally:
        log.removeHandler(handler)
        log.setLevel(level)
        handler.close()
        os.replace(tmp, path)


def _remove_stale_logs(path: Path) -> None:
    """Remove ``.NAME.PID.tmp`` logs of runs that no longer exist (killed before their rename)."""
    for p in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        pid = p.name[len(path.name) + 2:-4]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(OSError):
                p.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


class Counter:
    """The items of one long command (``verify``: decode mip 0, check onnx fp32 nt_decoder, ...), announced with
    ``step(item)`` as each starts: a bar on a terminal, else one line per item with its number. ``expect(n)``
    adds items to the total as a step learns how many it has (a verifier, the bundle's exports)."""

    def __init__(self, total: int, what: str):
        self.total, self.what, self.done = total, what, 0
        self._bar: Any = None
        self._current: str | None = None
        self._t0 = self._t_item = time.perf_counter()

    def expect(self, items: int) -> None:
        """``items`` more steps will be announced."""
        self.total += items
        if self._bar is not None:
            self._bar.total = self.total
            self._bar.refresh()

    def step(self, item: str) -> None:
        """The previous item is done; ``item`` starts now."""
        self._finish()
        self._current, self._t_item = item, time.perf_counter()
        if self._bar is None and self.total > 1 and _bar_wanted():
            from tqdm import tqdm

            self._bar = tqdm(total=self.total, initial=self.done, desc=self.what, unit="step", dynamic_ncols=True,
                             leave=False)
        if self._bar is not None:
            self._bar.set_postfix_str(item)
        else:
            log.info("%s [%d/%d] %s", self.what, min(self.done + 1, self.total), max(1, self.total), item)

    def _finish(self) -> None:
        if self._current is None:
            return
        self.done += 1
        if self._bar is not None:
            self._bar.update(1)
        log.debug("%s: %s took %.1f s", self.what, self._current, time.perf_counter() - self._t_item)
        self._current = None

    def close(self) -> None:
        self._finish()
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        log.debug("%s: %.1f s in all", self.what, time.perf_counter() - self._t0)

    def __enter__(self) -> Counter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def eta_seconds(step: int, elapsed: float, total_steps: int | None, time_budget: float | None) -> float | None:
    """Seconds left: by steps (elapsed per step so far) or by the time budget, whichever ends first."""
    left = []
    if total_steps and step > 0:
        left.append(elapsed / step * max(0, total_steps - step))
    if time_budget:
        left.append(max(0.0, time_budget - elapsed))
    return min(left) if left else None


class TrainingProgress:
    """The progress callback of the three trainers (ngsdk.training.TrainProgress reports).

    On a terminal: a tqdm bar over the steps (``--steps``) or the seconds (``--time-budget``) with PSNR,
    phase and ETA; otherwise one log line per report with the ETA. Each report also goes to the log file.
    Trainers report at their evaluations (every 100 steps), which a slow machine may not reach for a long
    time, and then evaluate the trained model silently; a heartbeat every ``HEARTBEAT_S`` seconds without a
    report says how long it has run and what is left.
    """

    HEARTBEAT_S = 5.0

    def __init__(self, steps: int | None, time_budget: float | None):
        self.steps, self.budget = steps, time_budget
        self._bar: Any = None
        self._last = 0.0
        self._t0 = time.perf_counter()
        self._last_report = self._t0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        if _bar_wanted():
            from tqdm import tqdm

            total = steps if steps else time_budget
            self._bar = tqdm(total=total, unit="step" if steps else "s", dynamic_ncols=True, leave=False,
                             bar_format=None if steps else "{l_bar}{bar}| {n:.0f}/{total:.0f} s [{postfix}]")
        self._thread = threading.Thread(target=self._heartbeat, name="ngsdk-progress", daemon=True)
        self._thread.start()

    def __call__(self, p: Any) -> None:
        tag = f"[{p.label}] " if getattr(p, "label", "") else ""
        total = p.total_steps or self.steps
        eta = eta_seconds(p.step, p.elapsed, total, self.budget)
        of = f"/{total}" if total else ""
        line = (f"{tag}step {p.step}{of} {p.elapsed:.1f}s psnr {p.psnr:.2f} dB ({p.phase})"
                + (f", eta {eta:.0f} s" if eta is not None else ""))
        with self._lock:
            self._last_report = time.perf_counter()
            if self._bar is None:
                log.info("%s", line)
                return
            log.info("%s", line, extra=FILE_ONLY)
            now = p.step if self.steps else p.elapsed
            self._bar.update(max(0.0, now - self._last))
            self._last = max(self._last, now)
            self._bar.set_postfix_str(f"{tag}{p.psnr:.2f} dB {p.phase}")

    def _heartbeat(self) -> None:
        while not self._stop.wait(1.0):
            with self._lock:
                now = time.perf_counter()
                if now - self._last_report < self.HEARTBEAT_S:
                    continue
                self._last_report = now
                elapsed = now - self._t0
                if self._bar is not None:
                    if not self.steps and self.budget:
                        target = min(elapsed, self.budget)
                        self._bar.update(max(0.0, target - self._last))
                        self._last = max(self._last, target)
                    self._bar.set_postfix_str(f"{elapsed:.0f} s")
                    continue
                if self.budget and elapsed < self.budget:
                    log.info("training: %.0f s of %.0f s, eta %.0f s", elapsed, self.budget, self.budget - elapsed)
                elif self.budget:
                    log.info("training: %.0f s (budget %.0f s over; measuring the trained model)", elapsed,
                             self.budget)
                else:
                    log.info("training: %.0f s", elapsed)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> TrainingProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def logger_callback(prefix: str = "") -> Callable[[str], None]:
    """A ``log(str)`` callback (what the trainers and verifiers take) writing INFO lines."""
    return lambda msg: log.info("%s%s", prefix, msg)

"""Run a command as a hostile input would meet it in a studio's pipeline: a time limit (the subprocess
timeout) and a memory limit (RLIMIT_AS in the child), and check the outcome is one clean line."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

MEMORY_LIMIT = 4 << 30
"""Address space of the child: a reader that tries to allocate what a header claims fails here."""
TIME_LIMIT = 60.0
"""Seconds before a run counts as a hang (the corpus cases take about a second each)."""

CLI = [sys.executable, "-c", "from ngsdk.cli import main; main()"]


def _limit_memory() -> None:  # runs in the child, before exec
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


@dataclass
class Outcome:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    def describe(self) -> str:
        return f"{' '.join(self.args[-6:])} -> rc {self.returncode}\nstdout: {self.stdout[-1500:]}\n" \
               f"stderr: {self.stderr[-3000:]}"


def run_bounded(args: list[str | Path], *, timeout: float = TIME_LIMIT, cwd: Path | None = None,
                sanitized: bool = False) -> Outcome:
    """Run ``args`` under the limits; a timeout fails the calling test with the command named. A
    ``sanitized`` (ASan) binary reserves terabytes of shadow address space, so its memory bound is
    ASan's own RSS limit instead of RLIMIT_AS."""
    args = [str(a) for a in args]
    env = dict(os.environ)
    if sanitized:
        env["ASAN_OPTIONS"] = f"hard_rss_limit_mb={MEMORY_LIMIT >> 20}:detect_leaks=0"
    try:
        res = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd,
                             preexec_fn=None if sanitized else _limit_memory, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"hang: {' '.join(args)} ran past {timeout:.0f} s") from None
    return Outcome(args, res.returncode, res.stdout, res.stderr)


def assert_clean_failure(o: Outcome, *, codes: tuple[int, ...] = (1, 2)) -> str:
    """The run failed with one ``error:`` line on stderr (no traceback, no memory error); returns that line."""
    assert o.returncode in codes, o.describe()
    assert "Traceback" not in o.stderr and "MemoryError" not in o.stderr, o.describe()
    lines = [ln for ln in o.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), o.describe()
    return lines[0]


def assert_no_crash(o: Outcome) -> None:
    """Exit 0, or a clean one-line failure."""
    if o.returncode == 0:
        assert "Traceback" not in o.stderr, o.describe()
    else:
        assert_clean_failure(o)

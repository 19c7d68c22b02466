"""What the benchmark scripts share: progress lines, the device (ngsdk.training.pick_device, the trainers' own
choice) and its description, package versions, and their sections of docs/benchmarks.md.

A script's section lies between ``<!-- BEGIN <tool>:<key> ... -->`` and ``<!-- END <tool>:<key> -->``; writing
it replaces that section and keeps everything else.
"""

from __future__ import annotations

import platform
import re
import sys
from pathlib import Path

from ngsdk.asset.atomic import atomic_write_bytes


def say(msg: str) -> None:
    """A progress line on stderr, flushed at once (runs can take minutes)."""
    print(msg, file=sys.stderr, flush=True)


def resolve_device(name: str) -> str:
    """``auto``/``cpu``/``cuda``/``cuda:N`` to the device the trainers will use (``cuda`` or ``cpu`` for
    ``auto``); exits with the trainers' own message when the device is not there."""
    from ngsdk.training import pick_device

    try:
        return str(pick_device(name))
    except (ValueError, RuntimeError) as e:
        raise SystemExit(f"error: {e}") from None


def device_description(device: str) -> str:
    """The device a run used, in words: GPU model, or CPU model and torch threads."""
    import torch

    if device.startswith("cuda"):
        name = torch.cuda.get_device_name(torch.device(device))
        return f"{name} (CUDA {torch.version.cuda}, torch {torch.__version__})"
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"CPU {cpu}, {torch.get_num_threads()} torch threads (torch {torch.__version__})"


def cuda_times(fn, repeats: int, warmup: int = 3) -> list[float]:
    """Seconds per call of ``fn()`` on the GPU: CUDA events around each of ``repeats`` calls, after ``warmup``
    untimed calls (kernel compilation, allocator, autotuning)."""
    import torch

    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    out = []
    for _ in range(repeats):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        out.append(start.elapsed_time(stop) / 1000.0)
    return out


def dist_version(name: str) -> str:
    """The installed version of distribution ``name`` (informative: ``(version unknown)`` when missing)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "(version unknown)"


def _markers(tool: str, key: str) -> tuple[str, str]:
    return (f"<!-- BEGIN {tool}:{key} (written by tools/{tool}.py --write-docs) -->", f"<!-- END {tool}:{key} -->")


def replace_section(text: str, tool: str, key: str, body: str) -> str:
    """``text`` with section ``key`` of ``tools/<tool>.py`` replaced by ``body`` (appended when absent)."""
    begin, end = _markers(tool, key)
    block = f"{begin}\n{body.rstrip()}\n{end}\n"
    found = re.search(rf"<!-- BEGIN {re.escape(tool)}:{re.escape(key)}( [^\n]*)? -->", text)
    if found is None:
        if not text.strip():
            text = "# Benchmarks\n"
        return text.rstrip("\n") + "\n\n" + block
    stop = text.find(end, found.start())
    if stop < 0:
        raise ValueError(f"found the begin marker of section {key!r} but not {end!r}; fix the file by hand")
    return text[:found.start()] + block + text[stop + len(end):].lstrip("\n")


def write_docs(path: Path, tool: str, key: str, body: str) -> None:
    """Replace section ``key`` of ``tools/<tool>.py`` in ``path`` (atomically); exit with the reason on failure."""
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
    except OSError as e:
        raise SystemExit(f"error: {path}: cannot read: {e.strerror or e}") from None
    try:
        new = replace_section(text, tool, key, body)
    except ValueError as e:
        raise SystemExit(f"error: {path}: {e}") from None
    atomic_write_bytes(path, new.encode("utf-8"))
    say(f"wrote section {key!r} of {path}")

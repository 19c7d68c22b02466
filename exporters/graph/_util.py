"""Helpers shared by the graph exporters (torch is imported by the callers, not here)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import ngsdk
from ngsdk.asset.atomic import EXPORT_STAGING, remove_stale_staging, swap_folder


def ngsdk_version() -> str:
    return ngsdk.__version__


def as_tuple(example_inputs: Any) -> tuple[Any, ...]:
    """Example inputs as a tuple of tensors (a single tensor is allowed)."""
    if isinstance(example_inputs, (tuple, list)):
        return tuple(example_inputs)
    return (example_inputs,)


def at_least_batch_two(example_inputs: Sequence[Any]) -> tuple[Any, ...]:
    """Repeat batch-1 examples to batch 2: torch.export specialises a dimension whose example size is 1,
    which would silently turn the dynamic batch into a fixed one."""
    out = []
    for t in example_inputs:
        out.append(t.repeat(2, *([1] * (t.dim() - 1))) if t.shape[0] == 1 else t)
    return tuple(out)


def check_name(name: str) -> str:
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"export name must be a plain file stem, got {name!r}")
    return name


@contextlib.contextmanager
def staging_dir(out_dir: Path) -> Iterator[Path]:
    """A temporary folder inside ``out_dir`` (same file system, so results can be renamed into place), named
    with this process's PID so that the next export removes what a killed one left."""
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(out_dir, EXPORT_STAGING)
    tmp = Path(tempfile.mkdtemp(prefix=f"{EXPORT_STAGING}{os.getpid()}-", dir=out_dir))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def replace_dir(src: Path, dst: Path) -> None:
    """Move the finished folder ``src`` to ``dst``, replacing an older ``dst`` (see ngsdk.asset.atomic)."""
    swap_folder(src, dst)

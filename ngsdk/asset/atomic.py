"""Atomic file writes: a reader never sees a half-written output."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, TypeVar

T = TypeVar("T")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_open(path: str | Path) -> Iterator[BinaryIO]:
    """Open ``path`` for binary writing through a temporary file in the same folder.

    The temporary file is renamed over ``path`` only when the block finishes without an
    exception; otherwise it is removed and ``path`` is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            # mkstemp creates 0600; the result should get the permissions an ordinary write would
            os.fchmod(f.fileno(), 0o666 & ~_umask())
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path) as f:
        f.write(data)


def swap_folder(src: Path, dst: Path) -> None:
    """Move the finished folder ``src`` to ``dst``, replacing an older ``dst``.

    A folder cannot be swapped in one rename: the old one is renamed aside first, so a reader sees the
    complete old folder, nothing (for the instant between two renames), or the complete new one.
    """
    old = None
    if dst.exists():
        old = dst.with_name(f".{dst.name}.old-{os.getpid()}")
        os.replace(dst, old)
    os.replace(src, dst)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def replace_folder(out: str | Path, fill: Callable[[Path], T], *, marker: str, keep: list[str] = ()) -> T:
    """Build a folder with ``fill(tmp)`` in a temporary sibling and rename it over ``out``.

    Entries named in ``keep`` (files or folders already in ``out``) are copied into the new folder
    first. ``out`` is replaced only if it is absent, empty, or holds ``marker`` (e.g. a bundle's
    manifest.json), so an unrelated folder is never overwritten.
    """
    out = Path(out)
    if out.exists() and not (out / marker).is_file() and any(out.iterdir()):
        raise FileExistsError(f"{out}: exists and is not an ngsdk bundle; refusing to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        for name in dict.fromkeys(keep):
            src = out / name
            if src.is_dir():
                shutil.copytree(src, tmp / name)
            elif src.is_file():
                shutil.copy2(src, tmp / name)
        result = fill(tmp)
        swap_folder(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return result

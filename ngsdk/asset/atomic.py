"""Atomic file writes: a reader never sees a half-written output."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, TypeVar

T = TypeVar("T")


_UMASK_LOCK = threading.Lock()


@functools.cache
def _umask() -> int:
    """The process umask, read once: reading it means setting it, which must not race with writer threads (a
    reader between the two calls would see, and restore, 0)."""
    with _UMASK_LOCK:
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
    except BaseException as e:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(e, OSError) and e.errno and e.filename is None:   # a full disk names no file: name it
            raise OSError(e.errno, e.strerror, str(path)) from e
        raise


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path) as f:
        f.write(data)


RENAME_EXCHANGE = 2
"""renameat2 flag (linux/fs.h): swap two existing paths in one step."""


@functools.cache
def _renameat2() -> Callable[..., int] | None:
    """libc's ``renameat2`` (glibc 2.28+ on Linux), or None where there is none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


def exchange(a: Path, b: Path) -> bool:
    """Swap the existing paths ``a`` and ``b`` in one atomic step (Linux renameat2 with RENAME_EXCHANGE).
    False where the OS or the file system cannot (the caller falls back to two renames); OSError otherwise.
    ``NGSDK_SWAP=rename`` in the environment turns it off (the tests of the fallback use it)."""
    fn = _renameat2()
    if fn is None or os.environ.get("NGSDK_SWAP") == "rename":
        return False
    at_fdcwd = -100
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))


def _old_name(dst: Path) -> Path:
    return dst.with_name(f".{dst.name}.old-{os.getpid()}")


def swap_folder(src: Path, dst: Path) -> None:
    """Move the finished folder ``src`` to ``dst``, replacing an older ``dst``.

    On Linux the two folders are exchanged in one atomic step (renameat2 RENAME_EXCHANGE): a reader, or a
    crash at any instant, sees the complete old folder or the complete new one. Elsewhere the old folder is
    renamed aside to ``.NAME.old-PID`` first; a crash between the two renames leaves it there, and
    :func:`recover_folder` (run by the next write and by every read of a missing bundle) puts it back.
    """
    src, dst = Path(src), Path(dst)
    if os.path.lexists(dst) and dst.is_dir() and not dst.is_symlink():
        if exchange(src, dst):
            shutil.rmtree(src, ignore_errors=True)   # src now holds the old folder
            return
    old = None
    if os.path.lexists(dst):
        old = _old_name(dst)
        os.replace(dst, old)
    os.replace(src, dst)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:   # exists, owned by someone else
        return True
    return True


EXPORT_STAGING = ".export-"
"""Prefix of the folders a graph export stages in inside a bundle (``.export-PID-*``)."""


def remove_stale_staging(parent: str | Path, prefix: str) -> None:
    """Remove the folders ``PREFIX<PID>-*`` in ``parent`` whose writer PID no longer runs (staging folders a
    killed writer left; a running writer's are left alone). Best effort."""
    parent = Path(parent)
    try:
        entries = os.listdir(parent)
    except OSError:
        return
    for entry in entries:
        pid_text = entry[len(prefix):].split("-", 1)[0] if entry.startswith(prefix) else ""
        if pid_text.isdigit() and not _pid_alive(int(pid_text)) and (parent / entry).is_dir():
            shutil.rmtree(parent / entry, ignore_errors=True)


def recover_folder(dst: str | Path) -> Path | None:
    """Repair what a writer killed during :func:`replace_folder` left beside ``dst``: put back the old
    folder (``.NAME.old-PID``) when ``dst`` is missing, remove it when ``dst`` exists, and remove the
    writer's temporary folders (``.NAME.PID.*.tmp``), each only when process PID no longer runs (a
    concurrent writer's folders are left alone). Best effort (a read-only folder stays as it is); returns
    the restored old folder's former path, if one was restored."""
    dst = Path(dst)
    parent = dst.parent if str(dst.parent) else Path(".")
    restored = None
    try:
        entries = os.listdir(parent)
    except OSError:
        return None
    old_prefix, tmp_prefix = f".{dst.name}.old-", f".{dst.name}."
    olds = []
    for entry in entries:
        if entry.startswith(old_prefix) and entry[len(old_prefix):].isdigit():
            pid = int(entry[len(old_prefix):])
            if not _pid_alive(pid):
                olds.append(parent / entry)
        elif entry.startswith(tmp_prefix) and entry.endswith(".tmp"):
            pid_text = entry[len(tmp_prefix):].split(".", 1)[0]
            if pid_text.isdigit() and not _pid_alive(int(pid_text)) and (parent / entry).is_dir():
                shutil.rmtree(parent / entry, ignore_errors=True)
    for old in sorted(olds, key=lambda p: p.stat().st_mtime, reverse=True):
        with contextlib.suppress(OSError):
            if not os.path.lexists(dst):
                os.rename(old, dst)
                restored = old
            else:
                shutil.rmtree(old)
    return restored


def replace_folder(out: str | Path, fill: Callable[[Path], T], *, marker: str, keep: list[str] = ()) -> T:
    """Build a folder with ``fill(tmp)`` in a temporary sibling and rename it over ``out``.

    Entries named in ``keep`` (files or folders already in ``out``) are copied into the new folder
    first. ``out`` is replaced only if it is absent, empty, or holds ``marker`` (e.g. a bundle's
    manifest.json), so an unrelated folder is never overwritten.
    """
    out = Path(out)
    recover_folder(out)
    if os.path.lexists(out) and not out.is_dir():
        raise FileExistsError(f"{out}: exists and is not a folder; refusing to replace it")
    if out.exists() and not (out / marker).is_file() and any(out.iterdir()):
        raise FileExistsError(f"{out}: exists and is not an ngsdk bundle; refusing to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.{os.getpid()}.", suffix=".tmp", dir=out.parent))
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

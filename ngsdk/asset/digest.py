"""Content digests used by bundles: file checksums and the hash of a decoded mip."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import numpy as np

from ngsdk.asset import limits
from ngsdk.asset.errors import AssetError
from ngsdk.asset.safe_read import open_regular


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path, *, limit: int = limits.MAX_FILE_BYTES) -> str:
    """sha256 of the regular file ``path`` (AssetError for a FIFO, a device, a folder or more than ``limit`` bytes)."""
    h = hashlib.sha256()
    with open_regular(path, limit=limit) as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def decode_hash(decoded: np.ndarray) -> str:
    """sha256 of a decoded mip's little-endian float32 bytes in row-major (H, W, C) order."""
    return hashlib.sha256(np.ascontiguousarray(decoded, dtype="<f4").tobytes()).hexdigest()


def tree_files(folder: str | Path) -> list[Path]:
    """The regular files inside ``folder`` (e.g. an .mlpackage), sorted by path parts; AssetError for a
    symlink, a FIFO, a device or a socket inside it, or more than ``limits.MAX_FILES`` files."""
    folder = Path(folder)
    out = []
    for top, dirs, names in os.walk(folder, onerror=_walk_error):
        for name in dirs + names:
            p = Path(top) / name
            st = p.lstat()
            if stat.S_ISLNK(st.st_mode):
                raise AssetError(p, "symlink inside a package folder (only regular files and folders are read)")
            if stat.S_ISREG(st.st_mode):
                out.append(p)
            elif not stat.S_ISDIR(st.st_mode):
                raise AssetError(p, "not a regular file or folder (a FIFO, device or socket is not read)")
        if len(out) > limits.MAX_FILES:
            raise AssetError(folder, f"holds more than {limits.MAX_FILES} files")
    return sorted(out, key=lambda p: p.relative_to(folder).parts)


def _walk_error(err: OSError) -> None:
    raise AssetError(err.filename, f"cannot list folder: {err.strerror or err}")


def sha256_tree(folder: str | Path) -> str:
    """Digest of a folder (e.g. an .mlpackage), docs/asset-format.md "Folder digest": sha256 over one
    ``"<relpath> <sha256>\\n"`` line per regular file, sorted by path parts; the C++ loader computes the same."""
    folder = Path(folder)
    h = hashlib.sha256()
    for p in tree_files(folder):
        rel = p.relative_to(folder).as_posix()
        if "\n" in rel or "\r" in rel:  # a line break would let two different folders hash the same lines
            raise AssetError(p, "file name contains a line break")
        h.update(f"{rel} {sha256_file(p)}\n".encode())
    return h.hexdigest()


def tree_bytes(folder: str | Path) -> int:
    """Total size of the regular files in a folder."""
    return sum(p.stat().st_size for p in tree_files(folder))

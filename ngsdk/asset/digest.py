"""Content digests used by bundles: file checksums and the hash of a decoded mip."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from ngsdk.asset.errors import AssetError


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def decode_hash(decoded: np.ndarray) -> str:
    """sha256 of a decoded mip's little-endian float32 bytes in row-major (H, W, C) order."""
    return hashlib.sha256(np.ascontiguousarray(decoded, dtype="<f4").tobytes()).hexdigest()


def sha256_tree(folder: str | Path) -> str:
    """Digest of a folder (e.g. an .mlpackage), docs/asset-format.md "Folder digest": sha256 over one
    ``"<relpath> <sha256>\\n"`` line per regular file, sorted by path parts; the C++ loader computes the same."""
    folder = Path(folder)
    files = sorted((p for p in folder.rglob("*") if p.is_file()), key=lambda p: p.relative_to(folder).parts)
    h = hashlib.sha256()
    for p in files:
        rel = p.relative_to(folder).as_posix()
        if "\n" in rel or "\r" in rel:  # a line break would let two different folders hash the same lines
            raise AssetError(p, "file name contains a line break")
        h.update(f"{rel} {sha256_file(p)}\n".encode())
    return h.hexdigest()


def tree_bytes(folder: str | Path) -> int:
    """Total size of the files in a folder."""
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())

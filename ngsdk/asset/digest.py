"""Content digests used by bundles: file checksums and the hash of a decoded mip."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np


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


def sha256_tree(path: str | Path) -> tuple[str, int]:
    """Digest and total size of a folder (e.g. an .mlpackage): sha256 over each file's relative
    path and contents, length-prefixed, in sorted path order."""
    h = hashlib.sha256()
    total = 0
    for p in sorted(Path(path).rglob("*")):
        if p.is_file():
            rel = p.relative_to(path).as_posix().encode()
            data = p.read_bytes()
            h.update(len(rel).to_bytes(8, "little") + rel + len(data).to_bytes(8, "little") + data)
            total += len(data)
    return h.hexdigest(), total

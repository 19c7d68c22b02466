"""The ``.safetensors`` container in NumPy alone: what ``safetensors_io`` uses where the ``safetensors`` package
is not installed (the GPU machine, a verify-only install).

The format: an 8-byte little-endian header length, a JSON header (``{name: {"dtype", "shape", "data_offsets":
[begin, end]}}`` plus ``"__metadata__"``: str -> str) padded with spaces to a multiple of 8, then the raw
little-endian tensor bytes. Reading memory-maps the file, so a slice reads only the bytes it touches. The
interface is the subset of ``safetensors.safe_open`` / ``safetensors.numpy.save`` that ``safetensors_io`` calls.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np

DTYPES = {"BOOL": np.bool_, "U8": np.uint8, "I8": np.int8, "I16": np.int16, "U16": np.uint16, "F16": np.float16,
          "I32": np.int32, "U32": np.uint32, "F32": np.float32, "I64": np.int64, "U64": np.uint64,
          "F64": np.float64}
NAMES = {np.dtype(v): k for k, v in DTYPES.items()}
MAX_HEADER = 100_000_000


class SafetensorError(Exception):
    """A file that is not a valid safetensors container."""


def save(arrays: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> bytes:
    """The container bytes of ``arrays`` (tensors laid out largest element size first, then by name, as the
    reference implementation does)."""
    order = sorted(arrays, key=lambda k: (-np.asarray(arrays[k]).dtype.itemsize, k))
    header: dict[str, Any] = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs, offset = [], 0
    for k in order:
        a = np.asarray(arrays[k])
        if a.dtype not in NAMES:
            raise ValueError(f"safetensors: array {k!r} has unsupported dtype {a.dtype}")
        raw = np.ascontiguousarray(a, a.dtype.newbyteorder("<")).tobytes()
        header[k] = {"dtype": NAMES[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


class _Slice:
    def __init__(self, data: np.ndarray):
        self._data = data

    def get_shape(self) -> list[int]:
        return list(self._data.shape)

    def __getitem__(self, index: Any) -> np.ndarray:
        return np.array(self._data[index])


class safe_open:  # noqa: N801 - the name safetensors gives it
    """``with safe_open(path, framework="numpy") as f``: ``keys()``, ``metadata()``, ``get_slice(k)``,
    ``get_tensor(k)``."""

    def __init__(self, path: str | Path, framework: str = "numpy"):
        if framework not in ("numpy", "np"):
            raise ValueError(f"safetensors (numpy fallback): framework {framework!r} is not supported")
        self.path = Path(path)
        size = self.path.stat().st_size
        with open(self.path, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise SafetensorError(f"{self.path}: shorter than a safetensors header")
            (n,) = struct.unpack("<Q", head)
            if n > min(MAX_HEADER, size - 8):
                raise SafetensorError(f"{self.path}: header length {n} exceeds the file")
            try:
                header = json.loads(f.read(n))
            except (UnicodeDecodeError, json.JSONDecodeError) as e:
                raise SafetensorError(f"{self.path}: header is not JSON ({e})") from None
        if not isinstance(header, dict):
            raise SafetensorError(f"{self.path}: header is not a table")
        self._meta = header.pop("__metadata__", None)
        self._start, self._size, self._info = 8 + n, size - 8 - n, header
        for k, v in header.items():
            try:
                begin, end = (int(x) for x in v["data_offsets"])
                want = int(np.prod(v["shape"], dtype=np.int64)) * np.dtype(DTYPES[v["dtype"]]).itemsize
            except (KeyError, TypeError, ValueError):
                raise SafetensorError(f"{self.path}: tensor {k!r} has a malformed entry") from None
            if not 0 <= begin <= end <= self._size or end - begin != want:
                raise SafetensorError(f"{self.path}: tensor {k!r} has offsets {begin}:{end} for {want} bytes")
        self._map: np.memmap | None = None

    def __enter__(self) -> safe_open:
        return self

    def __exit__(self, *exc: object) -> None:
        self._map = None

    def keys(self) -> list[str]:
        return sorted(self._info)

    def metadata(self) -> dict[str, str] | None:
        return self._meta

    def _array(self, k: str) -> np.ndarray:
        if k not in self._info:
            raise SafetensorError(f"{self.path}: no tensor {k!r}")
        if self._map is None:
            self._map = np.memmap(self.path, np.uint8, "r", offset=self._start, shape=(self._size,)) \
                if self._size else np.zeros(0, np.uint8)
        v = self._info[k]
        begin, end = v["data_offsets"]
        dt = np.dtype(DTYPES[v["dtype"]]).newbyteorder("<")
        return self._map[begin:end].view(dt).reshape(v["shape"])

    def get_slice(self, k: str) -> _Slice:
        return _Slice(self._array(k))

    def get_tensor(self, k: str) -> np.ndarray:
        return np.array(self._array(k))

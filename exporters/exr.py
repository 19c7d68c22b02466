"""Write float32 images as OpenEXR files: single part, scanline, uncompressed (numpy only).

The layout follows the OpenEXR file format specification: magic and version, a header of attributes
(``channels``, ``compression``, ``dataWindow``, ``displayWindow``, ``lineOrder``, ``pixelAspectRatio``,
``screenWindowCenter``, ``screenWindowWidth``), an offset table with one entry per scanline, then each
scanline as its y coordinate, its byte count and the channels' values in the alphabetical channel order
of the header. Uncompressed keeps the writer small and the bytes deterministic; any EXR reader opens it.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ngsdk.asset.atomic import atomic_write_bytes

_MAGIC = 20000630
_VERSION = 2            # single-part scanline file, no flags
_FLOAT = 2              # pixel type FLOAT (32 bit)
_NO_COMPRESSION = 0
_INCREASING_Y = 0


def _attr(name: str, type_name: str, value: bytes) -> bytes:
    return name.encode() + b"\0" + type_name.encode() + b"\0" + struct.pack("<i", len(value)) + value


def channel_names(count: int) -> list[str]:
    """The EXR channel names of an image with ``count`` channels: Y; R, G; R, G, B; R, G, B, A."""
    names = {1: ["Y"], 2: ["R", "G"], 3: ["R", "G", "B"], 4: ["R", "G", "B", "A"]}
    if count not in names:
        raise ValueError(f"EXR images here have 1 to 4 channels, got {count}")
    return names[count]


def encode_exr(image: np.ndarray, names: Sequence[str] | None = None) -> bytes:
    """The bytes of an uncompressed float32 EXR of ``image`` ((H, W) or (H, W, C)); ``names`` default to
    :func:`channel_names`."""
    img = np.asarray(image, dtype=np.float32)
    if img.ndim == 2:
        img = img[..., None]
    if img.ndim != 3 or img.shape[0] < 1 or img.shape[1] < 1:
        raise ValueError(f"EXR image must be (H, W) or (H, W, C), got shape {img.shape}")
    h, w, c = img.shape
    names = list(names) if names is not None else channel_names(c)
    if len(names) != c or len(set(names)) != c:
        raise ValueError(f"{c} channels need {c} distinct names, got {names}")
    order = sorted(range(c), key=lambda i: names[i])  # the file stores channels alphabetically
    chlist = b"".join(names[i].encode() + b"\0" + struct.pack("<iB3xii", _FLOAT, 0, 1, 1) for i in order) + b"\0"
    box = struct.pack("<iiii", 0, 0, w - 1, h - 1)
    header = b"".join([
        struct.pack("<ii", _MAGIC, _VERSION),
        _attr("channels", "chlist", chlist),
        _attr("compression", "compression", bytes([_NO_COMPRESSION])),
        _attr("dataWindow", "box2i", box),
        _attr("displayWindow", "box2i", box),
        _attr("lineOrder", "lineOrder", bytes([_INCREASING_Y])),
        _attr("pixelAspectRatio", "float", struct.pack("<f", 1.0)),
        _attr("screenWindowCenter", "v2f", struct.pack("<ff", 0.0, 0.0)),
        _attr("screenWindowWidth", "float", struct.pack("<f", 1.0)),
        b"\0",
    ])
    row_bytes = w * c * 4
    first = len(header) + 8 * h
    offsets = np.arange(h, dtype="<u8") * np.uint64(8 + row_bytes) + np.uint64(first)
    # each scanline: int32 y, int32 byte count, then channel after channel (alphabetical) of that row
    rows = np.ascontiguousarray(img[..., order].transpose(0, 2, 1), dtype="<f4").reshape(h, row_bytes // 4)
    lines = np.empty((h, 8 + row_bytes), dtype=np.uint8)
    lines[:, :4] = np.arange(h, dtype="<i4").view(np.uint8).reshape(h, 4)
    lines[:, 4:8] = np.frombuffer(struct.pack("<i", row_bytes), dtype=np.uint8)
    lines[:, 8:] = rows.view(np.uint8)
    return header + offsets.tobytes() + lines.tobytes()


def write_exr(path: str | Path, image: np.ndarray, names: Sequence[str] | None = None) -> None:
    """Write :func:`encode_exr`'s bytes to ``path`` atomically."""
    atomic_write_bytes(path, encode_exr(image, names))

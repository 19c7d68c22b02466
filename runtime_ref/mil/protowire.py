"""A minimal reader for the protobuf wire format (enough to decode Core ML model specs without protobuf).

``parse(buf)`` returns ``{field_number: [(wire_type, value), ...]}`` with varints as ints, fixed64/fixed32 as
bytes and length-delimited fields as memoryviews; the helpers below interpret them per the .proto schema.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

VARINT, I64, LEN, I32 = 0, 1, 2, 5

Fields = dict[int, list[tuple[int, Any]]]


class WireError(ValueError):
    """The bytes are not a valid protobuf message."""


def _varint(buf: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    n = len(buf)
    while True:
        if pos >= n:
            raise WireError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise WireError("varint longer than 10 bytes")


def parse(data: bytes | memoryview) -> Fields:
    buf = memoryview(data).cast("B") if not isinstance(data, memoryview) else data
    out: Fields = {}
    pos, n = 0, len(buf)
    while pos < n:
        key, pos = _varint(buf, pos)
        field, wt = key >> 3, key & 7
        if field == 0:
            raise WireError("field number 0")
        if wt == VARINT:
            val, pos = _varint(buf, pos)
        elif wt == I64:
            val, pos = bytes(buf[pos : pos + 8]), pos + 8
        elif wt == LEN:
            ln, pos = _varint(buf, pos)
            if pos + ln > n:
                raise WireError(f"length-delimited field {field} runs past the end")
            val, pos = buf[pos : pos + ln], pos + ln
        elif wt == I32:
            val, pos = bytes(buf[pos : pos + 4]), pos + 4
        else:
            raise WireError(f"unsupported wire type {wt} (field {field})")
        if pos > n:
            raise WireError(f"field {field} runs past the end")
        out.setdefault(field, []).append((wt, val))
    return out


def message(f: Fields, num: int) -> Fields | None:
    """The last occurrence of sub-message ``num`` (protobuf merges repeats of a singular field; our specs
    never repeat them), or None."""
    vals = f.get(num)
    return None if not vals else parse(vals[-1][1])


def messages(f: Fields, num: int) -> list[Fields]:
    return [parse(v) for _, v in f.get(num, [])]


def string(f: Fields, num: int, default: str = "") -> str:
    vals = f.get(num)
    return default if not vals else bytes(vals[-1][1]).decode("utf-8")


def strings(f: Fields, num: int) -> list[str]:
    return [bytes(v).decode("utf-8") for _, v in f.get(num, [])]


def raw_bytes(f: Fields, num: int) -> bytes:
    vals = f.get(num)
    return b"" if not vals else bytes(vals[-1][1])


def uint(f: Fields, num: int, default: int = 0) -> int:
    vals = f.get(num)
    return default if not vals else int(vals[-1][1])


def sint64(v: int) -> int:
    """A varint read as two's complement int64 (how int32/int64 fields store negatives)."""
    return v - (1 << 64) if v >= 1 << 63 else v


def boolean(f: Fields, num: int, default: bool = False) -> bool:
    return bool(uint(f, num, int(default)))


def packed_varints(f: Fields, num: int) -> list[int]:
    """A repeated varint field, packed or not, as signed 64-bit ints."""
    out: list[int] = []
    for wt, v in f.get(num, []):
        if wt == VARINT:
            out.append(sint64(v))
        elif wt == LEN:
            pos = 0
            while pos < len(v):
                x, pos = _varint(v, pos)
                out.append(sint64(x))
        else:
            raise WireError(f"field {num}: wire type {wt} for a varint")
    return out


def packed_fixed(f: Fields, num: int, dtype: str) -> np.ndarray:
    """A repeated fixed-size field (``<f4``, ``<f8``), packed or not."""
    size = np.dtype(dtype).itemsize
    chunks = []
    for wt, v in f.get(num, []):
        if wt not in (LEN, I32 if size == 4 else I64):
            raise WireError(f"field {num}: wire type {wt} for {dtype}")
        b = bytes(v)
        if len(b) % size:
            raise WireError(f"field {num}: {len(b)} bytes is not a multiple of {size}")
        chunks.append(np.frombuffer(b, dtype=dtype))
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=dtype)


def fixed_scalar(f: Fields, num: int, fmt: str, default: float = 0.0) -> float:
    vals = f.get(num)
    return default if not vals else struct.unpack(fmt, vals[-1][1])[0]

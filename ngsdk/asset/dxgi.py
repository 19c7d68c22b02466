"""The DXGI pixel formats that ngsdk reads and writes, shared by the DDS writer and reader.

Values are those of ``DXGI_FORMAT`` in dxgiformat.h. Each entry says how a texel is laid
out in memory so that readers and writers agree on one table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DxgiFormat:
    """One uncompressed DXGI format: its id, name and memory layout."""

    value: int
    name: str
    channels: int           # components stored per texel
    dtype: str              # numpy dtype of one component, little-endian
    kind: str               # "unorm", "snorm", "float"
    srgb: bool = False
    order: str = "RGBA"     # component order in memory (BGRA for B8G8R8A8)

    @property
    def bytes_per_texel(self) -> int:
        return self.channels * np.dtype(self.dtype).itemsize

    @property
    def numpy_dtype(self) -> np.dtype:
        return np.dtype(self.dtype)


_FORMATS = [
    DxgiFormat(2, "R32G32B32A32_FLOAT", 4, "<f4", "float"),
    DxgiFormat(10, "R16G16B16A16_FLOAT", 4, "<f2", "float"),
    DxgiFormat(11, "R16G16B16A16_UNORM", 4, "<u2", "unorm"),
    DxgiFormat(16, "R32G32_FLOAT", 2, "<f4", "float"),
    DxgiFormat(34, "R16G16_FLOAT", 2, "<f2", "float"),  # legacy FourCC 112 (D3DFMT_G16R16F) reads as this
    DxgiFormat(28, "R8G8B8A8_UNORM", 4, "u1", "unorm"),
    DxgiFormat(29, "R8G8B8A8_UNORM_SRGB", 4, "u1", "unorm", srgb=True),
    DxgiFormat(31, "R8G8B8A8_SNORM", 4, "i1", "snorm"),
    DxgiFormat(41, "R32_FLOAT", 1, "<f4", "float"),
    DxgiFormat(49, "R8G8_UNORM", 2, "u1", "unorm"),
    DxgiFormat(54, "R16_FLOAT", 1, "<f2", "float"),
    DxgiFormat(61, "R8_UNORM", 1, "u1", "unorm"),
    DxgiFormat(87, "B8G8R8A8_UNORM", 4, "u1", "unorm", order="BGRA"),
    DxgiFormat(91, "B8G8R8A8_UNORM_SRGB", 4, "u1", "unorm", srgb=True, order="BGRA"),
]

BY_VALUE: dict[int, DxgiFormat] = {f.value: f for f in _FORMATS}
BY_NAME: dict[str, DxgiFormat] = {f.name: f for f in _FORMATS}


def lookup(fmt: int | str) -> DxgiFormat:
    """Return the format for a DXGI value or name; raise ``KeyError`` naming the supported ones."""
    table = BY_VALUE if isinstance(fmt, int) else BY_NAME
    try:
        return table[fmt]
    except KeyError:
        names = ", ".join(f.name for f in _FORMATS)
        raise KeyError(f"unsupported DXGI format {fmt!r} (supported: {names})") from None


@dataclass(frozen=True)
class BlockFormat:
    """One block-compressed DXGI format: 4x4 texel blocks of ``block_bytes`` bytes each."""

    value: int
    name: str
    block_bytes: int
    channels: int           # components the blocks encode (BC4: 1, BC5: 2, BC7: 4)
    srgb: bool = False

    def level_bytes(self, width: int, height: int) -> int:
        """Bytes of one level: ``max(1, ceil(w / 4)) * max(1, ceil(h / 4))`` blocks (the D3D rule)."""
        return max(1, (width + 3) // 4) * max(1, (height + 3) // 4) * self.block_bytes


_BLOCK_FORMATS = [
    BlockFormat(80, "BC4_UNORM", 8, 1),
    BlockFormat(83, "BC5_UNORM", 16, 2),
    BlockFormat(98, "BC7_UNORM", 16, 4),
    BlockFormat(99, "BC7_UNORM_SRGB", 16, 4, srgb=True),
]
BLOCK_BY_VALUE: dict[int, BlockFormat] = {f.value: f for f in _BLOCK_FORMATS}
BLOCK_BY_NAME: dict[str, BlockFormat] = {f.name: f for f in _BLOCK_FORMATS}

BLOCK_FAMILIES: tuple[tuple[int, str], ...] = (
    (70, "BC1"), (73, "BC2"), (76, "BC3"), (79, "BC4"), (82, "BC5"), (94, "BC6H"), (97, "BC7"))
"""(first DXGI value, name) of each block-compressed family: TYPELESS, UNORM and UNORM_SRGB (or SNORM) follow
the first value. Readers name the family when they refuse a block-compressed texture."""


def block_family(value: int) -> str | None:
    """The block-compressed family of DXGI ``value`` (``BC7``), or None for any other format."""
    for first, name in BLOCK_FAMILIES:
        if first <= value < first + 3:
            return name
    return None

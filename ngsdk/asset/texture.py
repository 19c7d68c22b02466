"""The in-memory texture that DDS writers and readers exchange (torch-free).

A :class:`TextureData` holds every mip level of a 2D texture, 2D array, cube map (array) or volume as
NumPy arrays whose components are in logical RGBA order: the memory order of a format (BGRA for
``B8G8R8A8_*``) is the codec's business, not the caller's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ngsdk.asset.dxgi import DxgiFormat, lookup

Dimension = Literal["2d", "3d"]


def mip_extent(size: int, level: int) -> int:
    """Extent of ``size`` at mip ``level``: ``max(1, size >> level)`` (the D3D rule)."""
    return max(1, size >> level)


def full_mip_count(width: int, height: int, depth: int = 1) -> int:
    """Number of levels in a full chain down to 1x1(x1): ``floor(log2(max extent)) + 1``."""
    return max(int(width), int(height), int(depth), 1).bit_length()


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


@dataclass(eq=False)
class TextureData:
    """Every mip level of one texture resource, components in logical RGBA order.

    ``mips[m]`` has shape ``(array_size, h_m, w_m, channels)`` for 2D textures (arrays and cubes
    included; cube faces are ordered +X, -X, +Y, -Y, +Z, -Z per cube) and ``(d_m, h_m, w_m, channels)``
    for volumes, where ``h_m = max(1, height >> m)`` and likewise for ``w_m`` and ``d_m``. The dtype
    is ``format.numpy_dtype``. ``array_size`` counts faces for cubes (6 per cube).
    Construction validates all of this and raises ``ValueError`` naming the first problem.
    """

    format: DxgiFormat
    dimension: Dimension
    width: int
    height: int
    depth: int
    array_size: int
    cube: bool
    mips: list[np.ndarray]

    def __post_init__(self) -> None:
        if isinstance(self.format, (int, str)) and not isinstance(self.format, bool):
            try:
                self.format = lookup(self.format)
            except KeyError as err:
                raise ValueError(err.args[0]) from None
        if not isinstance(self.format, DxgiFormat):
            raise ValueError(f"format must be a DxgiFormat, got {type(self.format).__name__}")
        if self.dimension not in ("2d", "3d"):
            raise ValueError(f"dimension must be '2d' or '3d', got {self.dimension!r}")
        for name in ("width", "height", "depth", "array_size"):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
            setattr(self, name, int(value))
        self.cube = bool(self.cube)
        if self.dimension == "2d" and self.depth != 1:
            raise ValueError(f"a 2d texture has depth 1, got {self.depth}")
        if self.dimension == "3d":
            if self.array_size != 1:
                raise ValueError(f"a 3d texture cannot be an array (array_size {self.array_size})")
            if self.cube:
                raise ValueError("a 3d texture cannot be a cube map")
        if self.cube:
            if self.array_size % 6:
                raise ValueError(f"a cube map needs 6 faces per cube, got array_size {self.array_size}")
            if self.width != self.height:
                raise ValueError(f"cube map faces must be square, got {self.width}x{self.height}")
        if not isinstance(self.mips, list):
            self.mips = list(self.mips)
        full = full_mip_count(self.width, self.height, self.depth)
        if not 1 <= len(self.mips) <= full:
            raise ValueError(f"mip count {len(self.mips)} outside 1..{full} (the full chain of "
                             f"{self.width}x{self.height}x{self.depth})")
        want = self.format.numpy_dtype
        for m, level in enumerate(self.mips):
            if not isinstance(level, np.ndarray):
                raise ValueError(f"mip {m} is a {type(level).__name__}, not a numpy array")
            if level.dtype != want:
                raise ValueError(f"mip {m} has dtype {level.dtype}, {self.format.name} needs {want}")
            if level.shape != self.mip_shape(m):
                raise ValueError(f"mip {m} has shape {level.shape}, expected {self.mip_shape(m)}")

    @property
    def mip_count(self) -> int:
        return len(self.mips)

    @property
    def channels(self) -> int:
        return self.format.channels

    def mip_shape(self, level: int) -> tuple[int, int, int, int]:
        """The array shape that ``mips[level]`` must have."""
        h, w = mip_extent(self.height, level), mip_extent(self.width, level)
        lead = mip_extent(self.depth, level) if self.dimension == "3d" else self.array_size
        return (lead, h, w, self.format.channels)

    def identical(self, other: TextureData) -> bool:
        """True when both describe the same resource with bit-identical texels (NaNs included)."""
        if not isinstance(other, TextureData):
            return False
        head = ("format", "dimension", "width", "height", "depth", "array_size", "cube")
        if any(getattr(self, k) != getattr(other, k) for k in head) or self.mip_count != other.mip_count:
            return False
        return all(a.tobytes() == b.tobytes() for a, b in zip(self.mips, other.mips, strict=True))

    @classmethod
    def from_levels(
        cls,
        levels: Sequence[np.ndarray],
        fmt: DxgiFormat | int | str,
        *,
        dimension: Dimension = "2d",
        cube: bool = False,
    ) -> TextureData:
        """Build a texture from its mip levels, taking the size from level 0.

        Accepted level shapes: 2D ``(h, w, c)`` for one image or ``(n, h, w, c)`` for an array or
        cube set; 3D ``(d, h, w, c)``. The channel axis may be left out for 1-channel formats
        (``(h, w)`` in 2D, ``(d, h, w)`` in 3D). Dtypes are never converted: they must match ``fmt``.
        """
        fmt = fmt if isinstance(fmt, DxgiFormat) else lookup(fmt)
        if not levels:
            raise ValueError("from_levels needs at least one level")
        one_channel = fmt.channels == 1
        base_ndim = 3 if dimension == "3d" else 2     # ndim of a level without array or channel axes
        shaped = []
        for m, level in enumerate(levels):
            arr = np.asarray(level)
            if one_channel and arr.ndim == base_ndim:
                arr = arr[..., None]
            if dimension == "2d" and arr.ndim == 3:
                arr = arr[None]
            if arr.ndim != 4:
                raise ValueError(f"level {m} has shape {arr.shape}; see TextureData.from_levels for the "
                                 f"accepted {dimension} shapes")
            shaped.append(arr)
        lead, height, width = shaped[0].shape[:3]
        if dimension == "3d":
            return cls(fmt, "3d", width, height, lead, 1, False, shaped)
        return cls(fmt, "2d", width, height, 1, lead, cube, shaped)

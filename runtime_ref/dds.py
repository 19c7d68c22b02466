"""Read DDS files into :class:`~ngsdk.asset.texture.TextureData`, strictly (NumPy only).

Reads DX10 headers (2D, 2D arrays, cube maps and cube arrays, volumes, mip chains) in every format of
:mod:`ngsdk.asset.dxgi`, and the legacy (pre-DX10) headers that tools still write: 32-bit RGBA/BGRA
masks with or without alpha, 8-bit luminance, A8L8, Q8W8V8U8, and the D3DFMT FourCC codes 36 and
111-116 for 16-bit and float formats. Legacy X8R8G8B8/X8B8G8R8 read as B8G8R8A8/R8G8B8A8 with alpha
set to 255, as DirectXTex does for X8B8G8R8.

Anything malformed raises :class:`~ngsdk.asset.errors.AssetError` naming the file and the problem;
no other exception escapes for any input bytes. Where DirectXTex is lenient this reader is strict:
``arraySize`` 0, trailing bytes after the last subresource and 1D textures are rejected. As in
DirectXTex, ``dwMipMapCount`` 0 means one level and the pitch field is not trusted.

The header constants are written out here rather than shared with ``ngsdk.exporters.dds`` on purpose:
the reference runtime is an independent check of what the exporter wrote.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ngsdk.asset.dxgi import BLOCK_BY_VALUE, BY_NAME, BY_VALUE, BlockFormat, DxgiFormat, block_family
from ngsdk.asset.errors import AssetError
from ngsdk.asset.safe_read import read_regular
from ngsdk.asset.texture import TextureData, full_mip_count, mip_extent

_MAGIC = b"DDS "
_HEADER_SIZE = 124
_PIXELFORMAT_SIZE = 32
_MIN_FILE = 4 + _HEADER_SIZE            # magic + DDS_HEADER
_DX10_FILE = _MIN_FILE + 20             # ... + DDS_HEADER_DXT10

_DDSD_DEPTH = 0x800000
_DDPF_ALPHAPIXELS = 0x1
_DDPF_FOURCC = 0x4
_DDPF_RGB = 0x40
_DDPF_LUMINANCE = 0x20000
_DDPF_BUMPDUDV = 0x80000
_DDSCAPS2_CUBEMAP = 0x200
_DDSCAPS2_ALLFACES = 0xFE00
_DIM_1D, _DIM_2D, _DIM_3D = 2, 3, 4
_MISC_TEXTURECUBE = 0x4
_ALPHA_MODES = ("unknown", "straight", "premultiplied", "opaque", "custom")

# DDS_HEADER after the magic: size, flags, height, width, pitchOrLinearSize, depth, mipMapCount,
# reserved1[11], pixel format (size, flags, fourCC, RGBBitCount, R, G, B, A masks), caps, caps2..4, reserved2
_HEADER = struct.Struct("<7I11I8I5I")
_DX10 = struct.Struct("<5I")


def _fourcc(text: str) -> int:
    return int.from_bytes(text.encode("ascii"), "little")


_DX10_FOURCC = _fourcc("DX10")
# D3DFMT values that D3DX and DirectXTex store in dwFourCC for formats with no FourCC of their own.
_LEGACY_FOURCC = {
    36: "R16G16B16A16_UNORM", 111: "R16_FLOAT", 112: "R16G16_FLOAT", 113: "R16G16B16A16_FLOAT",
    114: "R32_FLOAT", 115: "R32G32_FLOAT", 116: "R32G32B32A32_FLOAT",
}
_BLOCK_FOURCC = {_fourcc(c): c for c in ("DXT1", "DXT2", "DXT3", "DXT4", "DXT5", "ATI1", "ATI2",
                                         "BC4U", "BC4S", "BC5U", "BC5S")}
# (pixel-format flags, bit count, R, G, B, A masks) -> (format name, alpha forced to 255).
# The A mask is compared only with DDPF_ALPHAPIXELS or DDPF_BUMPDUDV set, as DirectXTex does.
_LEGACY_MASKS = {
    (_DDPF_RGB | _DDPF_ALPHAPIXELS, 32, 0xFF, 0xFF00, 0xFF0000, 0xFF000000): ("R8G8B8A8_UNORM", False),
    (_DDPF_RGB, 32, 0xFF, 0xFF00, 0xFF0000, 0): ("R8G8B8A8_UNORM", True),
    (_DDPF_RGB | _DDPF_ALPHAPIXELS, 32, 0xFF0000, 0xFF00, 0xFF, 0xFF000000): ("B8G8R8A8_UNORM", False),
    (_DDPF_RGB, 32, 0xFF0000, 0xFF00, 0xFF, 0): ("B8G8R8A8_UNORM", True),
    (_DDPF_RGB, 32, 0xFFFFFFFF, 0, 0, 0): ("R32_FLOAT", False),
    (_DDPF_RGB, 8, 0xFF, 0, 0, 0): ("R8_UNORM", False),
    (_DDPF_RGB | _DDPF_ALPHAPIXELS, 16, 0xFF, 0, 0, 0xFF00): ("R8G8_UNORM", False),
    (_DDPF_LUMINANCE, 8, 0xFF, 0, 0, 0): ("R8_UNORM", False),
    (_DDPF_LUMINANCE | _DDPF_ALPHAPIXELS, 16, 0xFF, 0, 0, 0xFF00): ("R8G8_UNORM", False),
    (_DDPF_BUMPDUDV, 32, 0xFF, 0xFF00, 0xFF0000, 0xFF000000): ("R8G8B8A8_SNORM", False),
}
_PF_KIND_BITS = _DDPF_ALPHAPIXELS | _DDPF_FOURCC | _DDPF_RGB | _DDPF_LUMINANCE | _DDPF_BUMPDUDV | 0x2 | 0x20


def _supported() -> str:
    return ", ".join(f.name for f in BY_VALUE.values())


@dataclass(frozen=True)
class DdsHeader:
    """The header fields of a DDS file, as stored (``dx10`` fields are None for legacy headers)."""

    flags: int
    height: int
    width: int
    pitch_or_linear_size: int
    depth: int
    mip_map_count: int
    pf_flags: int
    fourcc: int
    rgb_bit_count: int
    masks: tuple[int, int, int, int]
    caps: int
    caps2: int
    dxgi_format: int | None = None
    resource_dimension: int | None = None
    misc_flag: int | None = None
    array_size: int | None = None
    misc_flags2: int | None = None

    @property
    def dx10(self) -> bool:
        return self.dxgi_format is not None

    @property
    def data_offset(self) -> int:
        return _DX10_FILE if self.dx10 else _MIN_FILE

    @property
    def alpha_mode(self) -> str:
        """The DX10 alpha mode name (``unknown`` for legacy headers)."""
        if self.misc_flags2 is None:
            return "unknown"
        return _ALPHA_MODES[self.misc_flags2 & 0x7]


def parse_dds_header(data: bytes | bytearray | memoryview, path: str | Path = "<bytes>") -> DdsHeader:
    """Parse and check the magic, DDS_HEADER and (if announced) DDS_HEADER_DXT10 of ``data``."""
    size = len(data)
    if size < 4:
        raise AssetError(path, f"truncated header: expected at least {_MIN_FILE} bytes, found {size}")
    if bytes(data[:4]) != _MAGIC:
        raise AssetError(path, f"not a DDS file: magic {bytes(data[:4])!r} instead of {_MAGIC!r}")
    if size < _MIN_FILE:
        raise AssetError(path, f"truncated header: expected {_MIN_FILE} bytes, found {size}")
    f = _HEADER.unpack_from(data, 4)
    hsize, flags, height, width, pitch, depth, mips = f[:7]
    pf_size, pf_flags, fourcc, bits, *masks = f[18:26]
    caps, caps2 = f[26:28]
    if hsize != _HEADER_SIZE:
        raise AssetError(path, f"header size field dwSize is {hsize}, expected {_HEADER_SIZE}")
    if pf_size != _PIXELFORMAT_SIZE:
        raise AssetError(path, f"pixel format size field ddspf.dwSize is {pf_size}, expected 32")
    common = (flags, height, width, pitch, depth, mips, pf_flags, fourcc, bits, tuple(masks), caps, caps2)
    if not (pf_flags & _DDPF_FOURCC and fourcc == _DX10_FOURCC):
        return DdsHeader(*common)
    if size < _DX10_FILE:
        raise AssetError(path, f"truncated DX10 header: expected {_DX10_FILE} bytes, found {size}")
    return DdsHeader(*common, *_DX10.unpack_from(data, _MIN_FILE))


def _legacy_format(h: DdsHeader, path: str | Path) -> tuple[DxgiFormat, bool]:
    """Map a legacy pixel format to (format, alpha forced to 255) or raise naming it."""
    if h.pf_flags & _DDPF_FOURCC:
        if h.fourcc in _LEGACY_FOURCC:
            return BY_NAME[_LEGACY_FOURCC[h.fourcc]], False
        if h.fourcc in _BLOCK_FOURCC:
            name = _BLOCK_FOURCC[h.fourcc]
            raise AssetError(path, f"block-compressed legacy FourCC '{name}' is not supported "
                                   f"(uncompressed formats only)")
        text = h.fourcc.to_bytes(4, "little")
        shown = repr(text.decode("ascii")) if all(32 <= c < 127 for c in text) else str(h.fourcc)
        raise AssetError(path, f"unsupported legacy FourCC {shown}")
    kind = h.pf_flags & _PF_KIND_BITS
    r, g, b, a = h.masks
    key = (kind, h.rgb_bit_count, r, g, b, a if kind & (_DDPF_ALPHAPIXELS | _DDPF_BUMPDUDV) else 0)
    if key in _LEGACY_MASKS:
        name, fill_alpha = _LEGACY_MASKS[key]
        return BY_NAME[name], fill_alpha
    raise AssetError(path, f"unsupported legacy pixel format: flags 0x{h.pf_flags:x}, "
                           f"{h.rgb_bit_count} bits, masks R 0x{r:x} G 0x{g:x} B 0x{b:x} A 0x{a:x}")


def _layout(h: DdsHeader, path: str | Path) -> tuple[DxgiFormat, bool, str, int, int, bool]:
    """(format, fill alpha, dimension, depth, array size in faces, cube) from a parsed header."""
    if h.dx10:
        value = h.dxgi_format
        if value not in BY_VALUE:
            bc = block_family(value)
            if bc:
                raise AssetError(path, f"block-compressed DXGI format {value} ({bc}) is not supported "
                                       f"(uncompressed formats only: {_supported()})")
            raise AssetError(path, f"unsupported DXGI format {value} (supported: {_supported()})")
        fmt = BY_VALUE[value]
        if h.array_size == 0:
            raise AssetError(path, "DX10 arraySize is 0")
        if (h.misc_flags2 & 0x7) >= len(_ALPHA_MODES):
            raise AssetError(path, f"undefined alpha mode {h.misc_flags2 & 0x7} in DX10 miscFlags2")
        cube = bool(h.misc_flag & _MISC_TEXTURECUBE)
        if h.resource_dimension == _DIM_2D:
            return fmt, False, "2d", 1, h.array_size * (6 if cube else 1), cube
        if h.resource_dimension == _DIM_3D:
            if not h.flags & _DDSD_DEPTH:
                raise AssetError(path, "DX10 resourceDimension is 3D but dwFlags lacks DDSD_DEPTH")
            if h.array_size != 1:
                raise AssetError(path, f"volume texture with arraySize {h.array_size} "
                                       f"(volumes cannot be arrays)")
            if cube:
                raise AssetError(path, "volume texture with the TEXTURECUBE flag")
            return fmt, False, "3d", h.depth, 1, False
        if h.resource_dimension == _DIM_1D:
            raise AssetError(path, "1D textures (DX10 resourceDimension 2) are not supported")
        raise AssetError(path, f"bad DX10 resourceDimension {h.resource_dimension} "
                               f"(expected 3 for 2D or 4 for 3D)")
    fmt, fill_alpha = _legacy_format(h, path)
    volume = bool(h.flags & _DDSD_DEPTH)
    if h.caps2 & _DDSCAPS2_CUBEMAP:
        if volume:
            raise AssetError(path, "header marks both a volume (DDSD_DEPTH) and a cube map "
                                   "(DDSCAPS2_CUBEMAP)")
        if h.caps2 & _DDSCAPS2_ALLFACES != _DDSCAPS2_ALLFACES:
            raise AssetError(path, f"cube map lacks some faces (dwCaps2 0x{h.caps2:x}); all six are required")
        return fmt, fill_alpha, "2d", 1, 6, True
    if volume:
        return fmt, fill_alpha, "3d", h.depth, 1, False
    return fmt, fill_alpha, "2d", 1, 1, False


def decode_dds(data: bytes | bytearray | memoryview, path: str | Path = "<bytes>") -> TextureData:
    """Decode the bytes of a DDS file; ``path`` only names the file in errors."""
    h = parse_dds_header(data, path)
    fmt, fill_alpha, dimension, depth, array_size, cube = _layout(h, path)
    width, height = h.width, h.height
    if width == 0 or height == 0 or depth == 0:
        raise AssetError(path, f"zero dimension: {width}x{height}x{depth}")
    if cube and width != height:
        raise AssetError(path, f"cube map faces must be square, found {width}x{height}")
    full = full_mip_count(width, height, depth)
    mip_count = max(1, h.mip_map_count)
    if mip_count > full:
        raise AssetError(path, f"mip count {mip_count} exceeds the full chain of {full} levels for "
                               f"{width}x{height}x{depth}")
    bpt = fmt.bytes_per_texel
    # Bytes of one subresource per level (one array slice for 2D, all depth slices for 3D).
    slices = depth if dimension == "3d" else 1
    sizes = [mip_extent(width, m) * mip_extent(height, m) * mip_extent(slices, m) * bpt
             for m in range(mip_count)]
    expected = sum(sizes) * array_size
    present = len(data) - h.data_offset
    if present < expected:
        raise AssetError(path, f"truncated texel data: expected {expected} bytes after the "
                               f"{h.data_offset}-byte header, found {present}")
    if present > expected:
        raise AssetError(path, f"{present - expected} trailing bytes after the texel data "
                               f"(expected {expected} bytes after the header, found {present})")
    item = fmt.numpy_dtype.itemsize
    # Every offset is a whole number of texels, so the data can be addressed in components.
    # 2D: one row per array slice holding all its mips in turn; 3D: a single row of mips.
    rows = np.frombuffer(data, dtype=fmt.numpy_dtype, count=expected // item,
                         offset=h.data_offset).reshape(array_size, -1)
    mips = []
    start = 0
    for m, nbytes in enumerate(sizes):
        lead = mip_extent(depth, m) if dimension == "3d" else array_size
        shape = (lead, mip_extent(height, m), mip_extent(width, m), fmt.channels)
        src = rows[:, start:start + nbytes // item].reshape(shape)
        start += nbytes // item
        level = np.empty(shape, dtype=fmt.numpy_dtype)       # owns its memory, C order
        if fmt.order == "BGRA":
            for channel, stored in enumerate((2, 1, 0, 3)):
                level[..., channel] = src[..., stored]
        else:
            level[...] = src
        if fill_alpha:
            level[..., 3] = 255
        mips.append(level)
    try:
        return TextureData(fmt, dimension, width, height, depth, array_size, cube, mips)
    except ValueError as err:     # a header combination the container refuses
        raise AssetError(path, str(err)) from None


@dataclass(frozen=True)
class BlockTexture:
    """A block-compressed 2D texture as stored: ``mips[m]`` is level ``m``'s blocks (rows of 4x4 blocks)."""

    format: BlockFormat
    width: int
    height: int
    mips: list[bytes]
    alpha_mode: str


def decode_block_dds(data: bytes | bytearray | memoryview, path: str | Path = "<bytes>") -> BlockTexture:
    """Parse a DX10 DDS of a block-compressed 2D texture (BC4, BC5, BC7; one slice, any mip count)."""
    h = parse_dds_header(data, path)
    if not h.dx10:
        raise AssetError(path, "block-compressed textures are read from DX10 headers only")
    fmt = BLOCK_BY_VALUE.get(h.dxgi_format)
    if fmt is None:
        raise AssetError(path, f"DXGI format {h.dxgi_format} is not one of the block formats "
                               f"{', '.join(f.name for f in BLOCK_BY_VALUE.values())}")
    if h.resource_dimension != _DIM_2D or h.array_size != 1 or h.misc_flag & _MISC_TEXTURECUBE:
        raise AssetError(path, "only single 2D block-compressed textures are read (no arrays, cubes or volumes)")
    if h.width == 0 or h.height == 0:
        raise AssetError(path, f"zero dimension: {h.width}x{h.height}")
    mip_count = max(1, h.mip_map_count)
    if mip_count > full_mip_count(h.width, h.height):
        raise AssetError(path, f"mip count {mip_count} exceeds the full chain for {h.width}x{h.height}")
    sizes = [fmt.level_bytes(mip_extent(h.width, m), mip_extent(h.height, m)) for m in range(mip_count)]
    present = len(data) - h.data_offset
    if present != sum(sizes):
        raise AssetError(path, f"expected {sum(sizes)} bytes of blocks after the header, found {present}")
    mips, start = [], h.data_offset
    for n in sizes:
        mips.append(bytes(data[start:start + n]))
        start += n
    return BlockTexture(fmt, h.width, h.height, mips, h.alpha_mode)


def read_dds(path: str | Path) -> TextureData:
    """Read and decode the DDS file at ``path``."""
    return decode_dds(read_regular(path, what="DDS file"), path)

"""Write a :class:`~ngsdk.asset.texture.TextureData` as a DDS file with a DX10 header.

Header fields follow what DirectXTex's ``EncodeDDSHeader`` writes for an uncompressed format with
the DX10 extension forced (``texconv -dx10``):

* ``dwFlags``: DDSD_CAPS|HEIGHT|WIDTH|PIXELFORMAT, DDSD_PITCH (``pitch = (width*bits + 7) / 8``),
  DDSD_MIPMAPCOUNT always (DirectXTex sets it whenever it knows the mip count, so a single-level
  file carries ``dwMipMapCount = 1``), and DDSD_DEPTH for volumes.
* ``dwCaps``: DDSCAPS_TEXTURE; DDSCAPS_COMPLEX|DDSCAPS_MIPMAP when there is more than one level;
  DDSCAPS_COMPLEX for cube maps. A volume without mips gets no DDSCAPS_COMPLEX, as in DirectXTex
  and the DDS documentation ("more than one surface").
* ``dwCaps2``: DDSCAPS2_CUBEMAP with all six face bits for cubes, DDSCAPS2_VOLUME for volumes.
* DX10 header: ``resourceDimension`` 3 (2D) or 4 (3D), ``miscFlag`` TEXTURECUBE for cubes, and
  ``arraySize`` counting cubes (not faces) for cube maps, as D3D and DirectXTex do.
* ``miscFlags2`` holds the alpha mode. DirectXTex writes it only with DDS_FLAGS_FORCE_DX10_EXT_MISC2
  (old D3DX10/11 loaders reject non-zero values); ngsdk writes ``custom`` (4) by default because
  feature grids store data, not transparency, in alpha. Pass ``alpha_mode="unknown"`` for 0.

Data follow D3D subresource order: for each array slice (cube face) all its mips, largest first; for a
volume each mip's depth slices in turn. Rows are tightly packed. Output bytes depend only on the input.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from ngsdk.asset.atomic import atomic_write_bytes
from ngsdk.asset.dxgi import BlockFormat
from ngsdk.asset.texture import TextureData

DDS_MAGIC = b"DDS "

# dwFlags (DDSD_*)
DDSD_CAPS = 0x1
DDSD_HEIGHT = 0x2
DDSD_WIDTH = 0x4
DDSD_PITCH = 0x8
DDSD_PIXELFORMAT = 0x1000
DDSD_MIPMAPCOUNT = 0x20000
DDSD_LINEARSIZE = 0x80000
DDSD_DEPTH = 0x800000
# ddspf.dwFlags (DDPF_*)
DDPF_ALPHAPIXELS = 0x1
DDPF_ALPHA = 0x2
DDPF_FOURCC = 0x4
DDPF_RGB = 0x40
DDPF_LUMINANCE = 0x20000
DDPF_BUMPDUDV = 0x80000
# dwCaps / dwCaps2
DDSCAPS_COMPLEX = 0x8
DDSCAPS_TEXTURE = 0x1000
DDSCAPS_MIPMAP = 0x400000
DDSCAPS2_CUBEMAP = 0x200
DDSCAPS2_CUBEMAP_ALLFACES = 0xFC00 | DDSCAPS2_CUBEMAP     # +X, -X, +Y, -Y, +Z, -Z
DDSCAPS2_VOLUME = 0x200000
# DDS_HEADER_DXT10
DX10_FOURCC = 0x30315844  # "DX10"
RESOURCE_DIMENSION_TEXTURE1D = 2
RESOURCE_DIMENSION_TEXTURE2D = 3
RESOURCE_DIMENSION_TEXTURE3D = 4
RESOURCE_MISC_TEXTURECUBE = 0x4
ALPHA_MODES: dict[str, int] = {"unknown": 0, "straight": 1, "premultiplied": 2, "opaque": 3, "custom": 4}
ALPHA_MODE_MASK = 0x7

HEADER_SIZE = 124
PIXELFORMAT_SIZE = 32
DX10_HEADER_SIZE = 20
DATA_OFFSET = 4 + HEADER_SIZE + DX10_HEADER_SIZE   # 148: texel data of a DX10 file start here

# "<4s" magic, then DDS_HEADER: size, flags, height, width, pitchOrLinearSize, depth, mipMapCount,
# reserved1[11], DDS_PIXELFORMAT (8 x u32), caps, caps2, caps3, caps4, reserved2; then DDS_HEADER_DXT10.
_HEADER = struct.Struct("<4s7I11I8I5I")
_DX10 = struct.Struct("<5I")
assert _HEADER.size == 4 + HEADER_SIZE and _DX10.size == DX10_HEADER_SIZE


def _store(dst: np.ndarray, src: np.ndarray, order: str) -> None:
    """Copy logical RGBA texels ``src`` into ``dst`` in the format's memory component order."""
    if order == "RGBA":
        dst[...] = src
    elif order == "BGRA":
        for channel, source in enumerate((2, 1, 0, 3)):
            dst[..., channel] = src[..., source]
    else:
        raise ValueError(f"unknown component order {order!r}")


def encode_header(tex: TextureData, *, alpha_mode: str = "custom") -> bytes:
    """The 148 header bytes (magic, DDS_HEADER, DDS_HEADER_DXT10) for ``tex``."""
    try:
        misc2 = ALPHA_MODES[alpha_mode]
    except KeyError:
        raise ValueError(f"alpha_mode must be one of {', '.join(ALPHA_MODES)}, got {alpha_mode!r}") from None
    fmt = tex.format
    volume = tex.dimension == "3d"
    mipped = tex.mip_count > 1
    flags = DDSD_CAPS | DDSD_HEIGHT | DDSD_WIDTH | DDSD_PIXELFORMAT | DDSD_PITCH | DDSD_MIPMAPCOUNT
    caps = DDSCAPS_TEXTURE | (DDSCAPS_COMPLEX | DDSCAPS_MIPMAP if mipped else 0)
    caps2 = 0
    if volume:
        flags |= DDSD_DEPTH
        caps2 |= DDSCAPS2_VOLUME
    if tex.cube:
        caps |= DDSCAPS_COMPLEX
        caps2 |= DDSCAPS2_CUBEMAP_ALLFACES
    pitch = (tex.width * fmt.bytes_per_texel * 8 + 7) // 8
    if pitch > 0xFFFFFFFF or max(tex.width, tex.height) > 0xFFFFFFFF or tex.depth > 0xFFFF:
        raise ValueError(f"texture {tex.width}x{tex.height}x{tex.depth} is too large for a DDS header")
    array_size = tex.array_size // 6 if tex.cube else tex.array_size
    if array_size > 0xFFFF:
        raise ValueError(f"array size {array_size} exceeds the DDS limit of 65535")
    pixelformat = (PIXELFORMAT_SIZE, DDPF_FOURCC, DX10_FOURCC, 0, 0, 0, 0, 0)
    head = _HEADER.pack(
        DDS_MAGIC, HEADER_SIZE, flags, tex.height, tex.width, pitch, tex.depth, tex.mip_count,
        *([0] * 11), *pixelformat, caps, caps2, 0, 0, 0,
    )
    dim = RESOURCE_DIMENSION_TEXTURE3D if volume else RESOURCE_DIMENSION_TEXTURE2D
    misc = RESOURCE_MISC_TEXTURECUBE if tex.cube else 0
    return head + _DX10.pack(fmt.value, dim, misc, array_size, misc2)


def encode_dds(tex: TextureData, *, alpha_mode: str = "custom") -> bytes:
    """Encode ``tex`` as the bytes of a DX10 DDS file.

    ``alpha_mode`` is one of ``unknown``, ``straight``, ``premultiplied``, ``opaque`` or ``custom``
    (stored in ``miscFlags2``; see the module docstring for why ``custom`` is the default).
    """
    header = encode_header(tex, alpha_mode=alpha_mode)
    fmt = tex.format
    sizes = [level.size for level in tex.mips]            # components per level (all slices)
    out = np.empty(len(header) + sum(sizes) * fmt.numpy_dtype.itemsize, dtype=np.uint8)
    out[:len(header)] = np.frombuffer(header, dtype=np.uint8)
    # Every offset is a whole number of texels, so the body can be addressed in components.
    body = out[len(header):].view(fmt.numpy_dtype)
    if tex.dimension == "3d":
        rows = body.reshape(1, -1)              # the mips one after another
    else:
        rows = body.reshape(tex.array_size, -1)   # one row per array slice holding all its mips
    start = 0
    for level, size in zip(tex.mips, sizes, strict=True):
        n = size // rows.shape[0]
        _store(rows[:, start:start + n].reshape(level.shape), level, fmt.order)
        start += n
    return out.tobytes()


def encode_block_dds(fmt: BlockFormat, width: int, height: int, mips: list[bytes], *,
                     alpha_mode: str = "unknown") -> bytes:
    """A DX10 DDS file of one block-compressed 2D texture: ``mips[m]`` holds level ``m``'s blocks, rows of
    4x4 blocks top to bottom (``fmt.level_bytes`` each). Header as DirectXTex writes it: DDSD_LINEARSIZE with
    the size of level 0 instead of a pitch; ``alpha_mode`` ``unknown`` (0) as texconv writes by default."""
    if alpha_mode not in ALPHA_MODES:
        raise ValueError(f"alpha_mode must be one of {', '.join(ALPHA_MODES)}, got {alpha_mode!r}")
    if not mips or len(mips) > max(width, height, 1).bit_length():
        raise ValueError(f"{len(mips)} mips for a {width}x{height} texture")
    for m, data in enumerate(mips):
        want = fmt.level_bytes(max(1, width >> m), max(1, height >> m))
        if len(data) != want:
            raise ValueError(f"{fmt.name} mip {m}: {len(data)} bytes, expected {want}")
    flags = DDSD_CAPS | DDSD_HEIGHT | DDSD_WIDTH | DDSD_PIXELFORMAT | DDSD_LINEARSIZE | DDSD_MIPMAPCOUNT
    caps = DDSCAPS_TEXTURE | (DDSCAPS_COMPLEX | DDSCAPS_MIPMAP if len(mips) > 1 else 0)
    pixelformat = (PIXELFORMAT_SIZE, DDPF_FOURCC, DX10_FOURCC, 0, 0, 0, 0, 0)
    head = _HEADER.pack(DDS_MAGIC, HEADER_SIZE, flags, height, width, len(mips[0]), 1, len(mips),
                        *([0] * 11), *pixelformat, caps, 0, 0, 0, 0)
    dx10 = _DX10.pack(fmt.value, RESOURCE_DIMENSION_TEXTURE2D, 0, 1, ALPHA_MODES[alpha_mode])
    return head + dx10 + b"".join(mips)


def write_block_dds(path: str | Path, fmt: BlockFormat, width: int, height: int, mips: list[bytes], *,
                    alpha_mode: str = "unknown") -> None:
    """Write :func:`encode_block_dds`'s bytes to ``path`` atomically."""
    atomic_write_bytes(path, encode_block_dds(fmt, width, height, mips, alpha_mode=alpha_mode))


def write_dds(path: str | Path, tex: TextureData, *, alpha_mode: str = "custom") -> None:
    """Write ``tex`` to ``path`` as a DX10 DDS file, atomically (see :func:`encode_dds`)."""
    atomic_write_bytes(path, encode_dds(tex, alpha_mode=alpha_mode))

"""DDS codec: ngsdk.exporters.dds writes, ngsdk.runtime_ref.dds reads, TextureData holds."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from ngsdk.asset.dxgi import BY_NAME, BY_VALUE, DxgiFormat
from ngsdk.asset.errors import AssetError
from ngsdk.asset.texture import TextureData, full_mip_count, mip_extent
from ngsdk.exporters.dds import encode_dds, write_dds
from ngsdk.runtime_ref.dds import decode_dds, parse_dds_header, read_dds

# ---------------------------------------------------------------------------------------------- helpers


def _texels(fmt: DxgiFormat, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Random texels covering the format's whole bit range (floats include NaN, inf, -0, subnormals)."""
    dt = fmt.numpy_dtype
    if dt.kind in "ui":
        info = np.iinfo(dt)
        return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dt)
    out = (rng.standard_normal(shape) * 100).astype(dt)
    flat = out.reshape(-1)
    specials = np.array([np.nan, np.inf, -np.inf, -0.0, np.finfo(dt).smallest_subnormal], dtype=dt)
    flat[: min(flat.size, specials.size)] = specials[: flat.size]
    return out


def _make(fmt: DxgiFormat | str, width: int, height: int, *, depth: int = 0, array: int = 1,
          cube: bool = False, mips: int | None = None, seed: int = 0) -> TextureData:
    """A texture with random content: a volume when depth > 0, else a 2D (array / cube) texture."""
    fmt = BY_NAME[fmt] if isinstance(fmt, str) else fmt
    rng = np.random.default_rng(seed)
    d = max(depth, 1)
    count = full_mip_count(width, height, d) if mips is None else mips
    levels = []
    for m in range(count):
        lead = mip_extent(depth, m) if depth else array
        levels.append(_texels(fmt, (lead, mip_extent(height, m), mip_extent(width, m), fmt.channels), rng))
    if depth:
        return TextureData(fmt, "3d", width, height, depth, 1, False, levels)
    return TextureData(fmt, "2d", width, height, 1, array, cube, levels)


def _box_chain(image: np.ndarray) -> list[np.ndarray]:
    """A full mip chain by 2x2 box filtering (odd edges cropped), in uint8."""
    levels = [image]
    while max(levels[-1].shape[:2]) > 1:
        prev = levels[-1].astype(np.float32)
        h, w = max(1, prev.shape[0] // 2), max(1, prev.shape[1] // 2)
        fy, fx = (2 if prev.shape[0] > 1 else 1), (2 if prev.shape[1] > 1 else 1)
        crop = prev[: h * fy, : w * fx]
        mean = crop.reshape(h, fy, w, fx, -1).mean(axis=(1, 3))
        levels.append(np.round(mean).astype(np.uint8))
    return levels


DX10_FILE = 148
HEADER = struct.Struct("<4s7I11I8I5I")   # magic + DDS_HEADER, spelled out by hand in the header tests
DX10 = struct.Struct("<5I")


def _legacy_file(pf: tuple[int, ...], width: int, height: int, payload: bytes, *, flags: int = 0x100F,
                 depth: int = 0, mips: int = 0, caps: int = 0x1000, caps2: int = 0) -> bytes:
    """A pre-DX10 DDS file: ``pf`` is (flags, fourCC, bit count, R, G, B, A masks)."""
    return HEADER.pack(b"DDS ", 124, flags, height, width, 0, depth, mips, *([0] * 11), 32, *pf,
                       caps, caps2, 0, 0, 0) + payload


def _put_u32(data: bytes, offset: int, value: int) -> bytes:
    return data[:offset] + struct.pack("<I", value) + data[offset + 4:]


# byte offsets of header fields in a file (magic included)
OFF_SIZE, OFF_FLAGS, OFF_HEIGHT, OFF_WIDTH, OFF_PITCH, OFF_DEPTH, OFF_MIPS = 4, 8, 12, 16, 20, 24, 28
OFF_PF_SIZE, OFF_PF_FLAGS, OFF_FOURCC, OFF_CAPS, OFF_CAPS2 = 76, 80, 84, 108, 112
OFF_DXGI, OFF_RESDIM, OFF_MISC, OFF_ARRAY, OFF_MISC2 = 128, 132, 136, 140, 144

# ------------------------------------------------------------------------------------------ round trips

ALL_FORMATS = sorted(BY_VALUE.values(), key=lambda f: f.value)


@pytest.mark.parametrize("fmt", ALL_FORMATS, ids=lambda f: f.name)
def test_round_trip_every_format_odd_size_full_chain(fmt: DxgiFormat) -> None:
    tex = _make(fmt, 37, 23)
    assert tex.mip_count == 6
    data = encode_dds(tex)
    texels = sum(mip_extent(37, m) * mip_extent(23, m) for m in range(6))
    assert len(data) == DX10_FILE + texels * fmt.bytes_per_texel
    back = decode_dds(data)
    assert back.identical(tex)
    assert back.format is fmt and all(m.dtype == fmt.numpy_dtype for m in back.mips)


SHAPES = {
    "1x1": dict(width=1, height=1),
    "256x1 chain": dict(width=256, height=1),
    "1x40 chain": dict(width=1, height=40),
    "array 5 slices 3 mips": dict(width=37, height=23, array=5, mips=3),
    "cube full chain": dict(width=16, height=16, array=6, cube=True),
    "cube array x2": dict(width=8, height=8, array=12, cube=True, mips=2),
    "volume 37x23x11 chain": dict(width=37, height=23, depth=11),
    "volume 5x1x9 partial": dict(width=5, height=1, depth=9, mips=2),
    "volume single level": dict(width=4, height=4, depth=4, mips=1),
}


@pytest.mark.parametrize("fmt", ["R8G8B8A8_UNORM", "B8G8R8A8_UNORM_SRGB", "R16G16B16A16_FLOAT", "R32_FLOAT"])
@pytest.mark.parametrize("case", list(SHAPES))
def test_round_trip_layouts(case: str, fmt: str, tmp_path: Path) -> None:
    tex = _make(fmt, **SHAPES[case], seed=len(case))
    path = tmp_path / "t.dds"
    write_dds(path, tex)
    back = read_dds(path)
    assert back.identical(tex)
    assert (back.dimension, back.cube, back.array_size, back.depth) == (tex.dimension, tex.cube,
                                                                        tex.array_size, tex.depth)


def test_subresource_order_arrays_and_volumes() -> None:
    # 2D array: slice 0 (mip 0, mip 1), then slice 1 (mip 0, mip 1)
    levels = [np.array([1, 2], np.uint8).reshape(2, 1, 1, 1) * np.ones((2, 2, 2, 1), np.uint8),
              np.array([10, 20], np.uint8).reshape(2, 1, 1, 1)]
    tex = TextureData.from_levels(levels, "R8_UNORM")
    assert encode_dds(tex)[DX10_FILE:] == bytes([1, 1, 1, 1, 10, 2, 2, 2, 2, 20])
    # volume: mip 0 (both depth slices), then mip 1
    vol = TextureData.from_levels([np.array([5, 5, 6, 6, 7, 7, 8, 8], np.uint8).reshape(2, 2, 2),
                                   np.array([9], np.uint8).reshape(1, 1, 1)], "R8_UNORM", dimension="3d")
    assert encode_dds(vol)[DX10_FILE:] == bytes([5, 5, 6, 6, 7, 7, 8, 8, 9])


def test_bgra_is_stored_swizzled_and_read_back_as_rgba() -> None:
    rgba = np.array([[[[1, 2, 3, 4]]]], np.uint8)
    for name, stored in (("B8G8R8A8_UNORM", [3, 2, 1, 4]), ("R8G8B8A8_UNORM", [1, 2, 3, 4])):
        tex = TextureData.from_levels([rgba], name)
        data = encode_dds(tex)
        assert list(data[DX10_FILE:]) == stored
        np.testing.assert_array_equal(decode_dds(data).mips[0], rgba)


def test_real_jpg_full_chain_round_trip(shared_data: Path, tmp_path: Path) -> None:
    src = shared_data / "textures" / "ground068_1k" / "Ground068_1K-JPG_Color.jpg"
    rgb = np.asarray(Image.open(src).convert("RGB"))
    rgba = np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 255, np.uint8)], axis=-1)
    levels = _box_chain(rgba)
    for name in ("R8G8B8A8_UNORM_SRGB", "B8G8R8A8_UNORM_SRGB"):
        tex = TextureData.from_levels(levels, name)
        assert tex.mip_count == 11 == full_mip_count(1024, 1024)
        path = tmp_path / f"{name}.dds"
        write_dds(path, tex, alpha_mode="opaque")
        back = read_dds(path)
        assert back.identical(tex)
        assert parse_dds_header(path.read_bytes()).alpha_mode == "opaque"
        np.testing.assert_array_equal(back.mips[0][0, ..., :3], rgb)


def test_real_volume_full_chain_round_trip(shared_data: Path, tmp_path: Path) -> None:
    vol = np.load(shared_data / "volumes" / "ironProt_zyx_68x68x68_uint8.npy", allow_pickle=False)
    levels = [vol]
    while max(levels[-1].shape) > 1:
        prev = levels[-1]
        target = tuple(max(1, s // 2) for s in prev.shape)
        levels.append(np.ascontiguousarray(prev[::2, ::2, ::2][: target[0], : target[1], : target[2]]))
    tex = TextureData.from_levels(levels, "R8_UNORM", dimension="3d")
    assert tex.mip_count == 7 and tex.depth == 68
    write_dds(tmp_path / "iron.dds", tex)
    back = read_dds(tmp_path / "iron.dds")
    assert back.identical(tex)
    np.testing.assert_array_equal(back.mips[0][..., 0], vol)


# ------------------------------------------------------------------------------------- header by hand


def _unpack(data: bytes) -> dict[str, object]:
    f = HEADER.unpack_from(data, 0)
    x = DX10.unpack_from(data, 128)
    return dict(magic=f[0], size=f[1], flags=f[2], height=f[3], width=f[4], pitch=f[5], depth=f[6], mips=f[7],
                reserved1=f[8:19], pf_size=f[19], pf_flags=f[20], fourcc=struct.pack("<I", f[21]),
                pf_bits_masks=f[22:27], caps=f[27], caps2=f[28], caps3=f[29], caps4=f[30], reserved2=f[31],
                dxgi=x[0], resdim=x[1], misc=x[2], array=x[3], misc2=x[4])


# (DDSD_CAPS|HEIGHT|WIDTH|PIXELFORMAT) | DDSD_PITCH | DDSD_MIPMAPCOUNT, as DirectXTex writes them
BASE_FLAGS = 0x1 | 0x2 | 0x4 | 0x1000 | 0x8 | 0x20000
HEADER_CASES = {
    # name: (texture kwargs, expected fields)
    "rgba8 37x23 chain": (dict(fmt="R8G8B8A8_UNORM", width=37, height=23),
                          dict(flags=BASE_FLAGS, height=23, width=37, pitch=148, depth=1, mips=6,
                               caps=0x1000 | 0x8 | 0x400000, caps2=0, dxgi=28, resdim=3, misc=0, array=1)),
    "rgba8 single level": (dict(fmt="R8G8B8A8_UNORM", width=64, height=32, mips=1),
                           dict(flags=BASE_FLAGS, height=32, width=64, pitch=256, depth=1, mips=1,
                                caps=0x1000, caps2=0, dxgi=28, resdim=3, misc=0, array=1)),
    "array of 3": (dict(fmt="R16_FLOAT", width=10, height=6, array=3, mips=1),
                   dict(flags=BASE_FLAGS, height=6, width=10, pitch=20, depth=1, mips=1,
                        caps=0x1000, caps2=0, dxgi=54, resdim=3, misc=0, array=3)),
    "cube array x2 chain": (dict(fmt="R32G32B32A32_FLOAT", width=8, height=8, array=12, cube=True),
                            dict(flags=BASE_FLAGS, height=8, width=8, pitch=128, depth=1, mips=4,
                                 caps=0x1000 | 0x8 | 0x400000, caps2=0xFE00, dxgi=2, resdim=3, misc=4,
                                 array=2)),
    "cube single level": (dict(fmt="R8G8B8A8_UNORM", width=4, height=4, array=6, cube=True, mips=1),
                          dict(flags=BASE_FLAGS, height=4, width=4, pitch=16, depth=1, mips=1,
                               caps=0x1000 | 0x8, caps2=0xFE00, dxgi=28, resdim=3, misc=4, array=1)),
    "volume chain": (dict(fmt="R8G8_UNORM", width=9, height=5, depth=3),
                     dict(flags=BASE_FLAGS | 0x800000, height=5, width=9, pitch=18, depth=3, mips=4,
                          caps=0x1000 | 0x8 | 0x400000, caps2=0x200000, dxgi=49, resdim=4, misc=0, array=1)),
    "volume single level": (dict(fmt="B8G8R8A8_UNORM", width=3, height=2, depth=5, mips=1),
                            dict(flags=BASE_FLAGS | 0x800000, height=2, width=3, pitch=12, depth=5, mips=1,
                                 caps=0x1000, caps2=0x200000, dxgi=87, resdim=4, misc=0, array=1)),
}


@pytest.mark.parametrize("case", list(HEADER_CASES))
def test_header_fields_by_hand(case: str) -> None:
    kwargs, want = HEADER_CASES[case]
    kwargs = dict(kwargs)
    tex = _make(kwargs.pop("fmt"), **kwargs)
    data = encode_dds(tex)
    got = _unpack(data)
    assert got["magic"] == b"DDS " and got["size"] == 124
    assert got["reserved1"] == (0,) * 11 and got["reserved2"] == 0 and got["caps3"] == got["caps4"] == 0
    assert got["pf_size"] == 32 and got["pf_flags"] == 0x4 and got["fourcc"] == b"DX10"
    assert got["pf_bits_masks"] == (0, 0, 0, 0, 0)
    assert got["misc2"] == 4   # alpha mode custom by default
    for key, value in want.items():
        assert got[key] == value, f"{key}: {got[key]:#x} != {value:#x}"


def test_alpha_modes_and_bad_alpha_mode() -> None:
    tex = _make("R8G8B8A8_UNORM", 2, 2, mips=1)
    for name, value in (("unknown", 0), ("straight", 1), ("premultiplied", 2), ("opaque", 3), ("custom", 4)):
        data = encode_dds(tex, alpha_mode=name)
        assert _unpack(data)["misc2"] == value
        assert parse_dds_header(data).alpha_mode == name
    with pytest.raises(ValueError, match="alpha_mode"):
        encode_dds(tex, alpha_mode="transparent")


def test_pillow_reads_the_top_level(shared_data: Path, tmp_path: Path) -> None:
    src = shared_data / "textures" / "bark" / "albedo.jpg"
    rgba = np.asarray(Image.open(src).convert("RGBA").resize((300, 200)))   # non-square, non power of two
    tex = TextureData.from_levels(_box_chain(np.ascontiguousarray(rgba)), "R8G8B8A8_UNORM")
    path = tmp_path / "bark.dds"
    write_dds(path, tex)
    with Image.open(path) as img:
        assert img.format == "DDS" and img.size == (300, 200) and img.mode == "RGBA"
        np.testing.assert_array_equal(np.asarray(img), rgba)
    got = _unpack(path.read_bytes())
    assert (got["width"], got["height"], got["pitch"], got["mips"]) == (300, 200, 1200, 9)


# -------------------------------------------------------------------------------------- determinism


def test_identical_input_gives_identical_bytes(tmp_path: Path) -> None:
    a = _make("R16G16B16A16_FLOAT", 37, 23, array=2, seed=7)
    b = _make("R16G16B16A16_FLOAT", 37, 23, array=2, seed=7)
    # the same texels in a different memory layout must not change the bytes
    b.mips[0] = np.asfortranarray(b.mips[0])
    write_dds(tmp_path / "a.dds", a)
    write_dds(tmp_path / "b.dds", b)
    assert (tmp_path / "a.dds").read_bytes() == (tmp_path / "b.dds").read_bytes() == encode_dds(a)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.dds", "b.dds"]   # no temporary files left


# ---------------------------------------------------------------------------------------- legacy headers

RGBA_PF = (0x41, 0, 32, 0xFF, 0xFF00, 0xFF0000, 0xFF000000)
BGRA_PF = (0x41, 0, 32, 0xFF0000, 0xFF00, 0xFF, 0xFF000000)
BGRX_PF = (0x40, 0, 32, 0xFF0000, 0xFF00, 0xFF, 0)
RGBX_PF = (0x40, 0, 32, 0xFF, 0xFF00, 0xFF0000, 0)


def test_legacy_8bit_masks() -> None:
    mem = np.arange(3 * 5 * 4, dtype=np.uint8).reshape(3, 5, 4)   # bytes as stored
    opaque = np.full((3, 5, 1), 255, np.uint8)
    cases = {
        "RGBA": (RGBA_PF, "R8G8B8A8_UNORM", mem),
        "BGRA": (BGRA_PF, "B8G8R8A8_UNORM", mem[..., [2, 1, 0, 3]]),
        "BGRX": (BGRX_PF, "B8G8R8A8_UNORM", np.concatenate([mem[..., [2, 1, 0]], opaque], -1)),
        "RGBX": (RGBX_PF, "R8G8B8A8_UNORM", np.concatenate([mem[..., :3], opaque], -1)),
    }
    for name, (pf, fmt, logical) in cases.items():
        tex = decode_dds(_legacy_file(pf, 5, 3, mem.tobytes()), f"{name}.dds")
        assert tex.format.name == fmt, name
        np.testing.assert_array_equal(tex.mips[0][0], logical, err_msg=name)
    lum = np.arange(15, dtype=np.uint8).reshape(3, 5)
    tex = decode_dds(_legacy_file((0x20000, 0, 8, 0xFF, 0, 0, 0), 5, 3, lum.tobytes()))
    assert tex.format.name == "R8_UNORM"
    np.testing.assert_array_equal(tex.mips[0][0, ..., 0], lum)
    la = np.arange(30, dtype=np.uint8).reshape(3, 5, 2)
    tex = decode_dds(_legacy_file((0x20001, 0, 16, 0xFF, 0, 0, 0xFF00), 5, 3, la.tobytes()))
    assert tex.format.name == "R8G8_UNORM"
    np.testing.assert_array_equal(tex.mips[0][0], la)
    bump = decode_dds(_legacy_file((0x80000, 0, 32, 0xFF, 0xFF00, 0xFF0000, 0xFF000000), 5, 3, mem.tobytes()))
    np.testing.assert_array_equal(bump.mips[0][0], mem.view(np.int8))


LEGACY_FOURCC = [(36, "R16G16B16A16_UNORM"), (111, "R16_FLOAT"), (112, "R16G16_FLOAT"),
                 (113, "R16G16B16A16_FLOAT"), (114, "R32_FLOAT"), (115, "R32G32_FLOAT"),
                 (116, "R32G32B32A32_FLOAT")]


@pytest.mark.parametrize("fourcc,fmt", LEGACY_FOURCC)
def test_legacy_fourcc_formats_with_mips(fourcc: int, fmt: str) -> None:
    tex = _make(fmt, 6, 4, seed=fourcc)
    payload = encode_dds(tex)[DX10_FILE:]
    data = _legacy_file((0x4, fourcc, 0, 0, 0, 0, 0), 6, 4, payload, flags=0x2100F, mips=3, caps=0x401008)
    assert decode_dds(data).identical(tex)


def test_legacy_cube_and_volume() -> None:
    cube = _make("R8G8B8A8_UNORM", 4, 4, array=6, cube=True, seed=1)
    data = _legacy_file(RGBA_PF, 4, 4, encode_dds(cube)[DX10_FILE:], flags=0x2100F, mips=3,
                        caps=0x401008, caps2=0xFE00)
    assert decode_dds(data).identical(cube)
    vol = _make("B8G8R8A8_UNORM", 4, 2, depth=3, seed=2)
    data = _legacy_file(BGRA_PF, 4, 2, encode_dds(vol)[DX10_FILE:], flags=0x82100F, depth=3, mips=3,
                        caps2=0x200000)
    assert decode_dds(data).identical(vol)


def test_mip_count_zero_means_one_level() -> None:
    tex = _make("R8_UNORM", 3, 3, mips=1)
    assert decode_dds(_put_u32(encode_dds(tex), OFF_MIPS, 0)).identical(tex)


# ------------------------------------------------------------------------------------------- malformed

GOOD = encode_dds(_make("R8G8B8A8_UNORM", 6, 4, mips=2))          # 96 + 24 texel bytes
GOOD_VOL = encode_dds(_make("R8_UNORM", 4, 4, depth=4, mips=1))
GOOD_CUBE = encode_dds(_make("R8_UNORM", 4, 4, array=6, cube=True, mips=1))
GOOD_LEGACY = _legacy_file(RGBA_PF, 2, 2, bytes(16))

MALFORMED = {
    "empty file": (b"", "expected at least 128 bytes, found 0"),
    "bad magic": (b"DDX " + GOOD[4:], "not a DDS file"),
    "png magic": (b"\x89PNG\r\n\x1a\n" + bytes(200), "not a DDS file"),
    "truncated header": (GOOD[:100], "truncated header: expected 128 bytes, found 100"),
    "truncated DX10 header": (GOOD[:140], "truncated DX10 header: expected 148 bytes, found 140"),
    "dwSize": (_put_u32(GOOD, OFF_SIZE, 24), "dwSize is 24, expected 124"),
    "ddspf size": (_put_u32(GOOD, OFF_PF_SIZE, 24), "ddspf.dwSize is 24, expected 32"),
    "truncated data": (GOOD[:-1],
                       "truncated texel data: expected 120 bytes after the 148-byte header, found 119"),
    "header only": (GOOD[:148], "expected 120 bytes after the 148-byte header, found 0"),
    "trailing bytes": (GOOD + b"\0\0\0", "3 trailing bytes"),
    "zero width": (_put_u32(GOOD, OFF_WIDTH, 0), "zero dimension: 0x4x1"),
    "zero height": (_put_u32(GOOD, OFF_HEIGHT, 0), "zero dimension: 6x0x1"),
    "zero depth": (_put_u32(GOOD_VOL, OFF_DEPTH, 0), "zero dimension: 4x4x0"),
    "too many mips": (_put_u32(GOOD, OFF_MIPS, 4), "mip count 4 exceeds the full chain of 3 levels"),
    "huge mip count": (_put_u32(GOOD, OFF_MIPS, 0xFFFFFFFF), "mip count 4294967295 exceeds"),
    "unsupported DXGI": (_put_u32(GOOD, OFF_DXGI, 24), "unsupported DXGI format 24"),
    "unknown DXGI": (_put_u32(GOOD, OFF_DXGI, 0xFFFF), "unsupported DXGI format 65535"),
    "block-compressed DX10": (_put_u32(GOOD, OFF_DXGI, 71), "block-compressed DXGI format 71 (BC1)"),
    "BC7": (_put_u32(GOOD, OFF_DXGI, 98), "block-compressed DXGI format 98 (BC7)"),
    "block-compressed legacy": (_legacy_file((0x4, int.from_bytes(b"DXT5", "little"), 0, 0, 0, 0, 0), 4, 4,
                                             bytes(16)), "block-compressed legacy FourCC 'DXT5'"),
    "unknown legacy fourcc": (_legacy_file((0x4, 110, 0, 0, 0, 0, 0), 1, 1, bytes(8)),
                              "unsupported legacy FourCC 110"),
    "legacy 565": (_legacy_file((0x40, 0, 16, 0xF800, 0x7E0, 0x1F, 0), 2, 2, bytes(8)),
                   "unsupported legacy pixel format"),
    "resource dimension 5": (_put_u32(GOOD, OFF_RESDIM, 5), "bad DX10 resourceDimension 5"),
    "resource dimension 0": (_put_u32(GOOD, OFF_RESDIM, 0), "bad DX10 resourceDimension 0"),
    "1D texture": (_put_u32(GOOD, OFF_RESDIM, 2), "1D textures"),
    "arraySize 0": (_put_u32(GOOD, OFF_ARRAY, 0), "arraySize is 0"),
    "volume array": (_put_u32(GOOD_VOL, OFF_ARRAY, 2), "volume texture with arraySize 2"),
    "volume without DDSD_DEPTH": (_put_u32(GOOD_VOL, OFF_FLAGS, BASE_FLAGS), "lacks DDSD_DEPTH"),
    "volume cube": (_put_u32(GOOD_VOL, OFF_MISC, 4), "TEXTURECUBE"),
    "cube not square": (_put_u32(GOOD_CUBE, OFF_WIDTH, 8), "must be square"),
    "bad alpha mode": (_put_u32(GOOD, OFF_MISC2, 7), "undefined alpha mode 7"),
    "legacy partial cube": (_put_u32(GOOD_LEGACY, OFF_CAPS2, 0x600), "lacks some faces"),
    "legacy cube volume": (_put_u32(_put_u32(GOOD_LEGACY, OFF_CAPS2, 0xFE00), OFF_FLAGS, 0x80100F),
                           "both a volume"),
    "array size overflow": (_put_u32(GOOD, OFF_ARRAY, 0xFFFFFFFF), "truncated texel data"),
    "huge width": (_put_u32(GOOD, OFF_WIDTH, 0xFFFFFFFF), "truncated texel data"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_files_raise_asset_error_naming_the_file(case: str, tmp_path: Path) -> None:
    data, problem = MALFORMED[case]
    path = tmp_path / f"{case.replace(' ', '_')}.dds"
    path.write_bytes(data)
    with pytest.raises(AssetError) as info:
        read_dds(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    assert problem in message, message
    assert "\n" not in message


def test_decode_bytes_names_the_given_path_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AssetError, match=r"^grid\.dds: not a DDS file"):
        decode_dds(b"nope" * 40, "grid.dds")
    with pytest.raises(AssetError, match=r"^<bytes>: "):
        decode_dds(b"nope")
    missing = tmp_path / "missing.dds"
    with pytest.raises(AssetError, match="file not found") as info:
        read_dds(missing)
    assert str(info.value).startswith(str(missing))


def test_texture_data_validation() -> None:
    u8 = np.zeros((1, 4, 4, 4), np.uint8)
    TextureData(BY_NAME["R8G8B8A8_UNORM"], "2d", 4, 4, 1, 1, False, [u8])
    bad = {
        "dtype": dict(mips=[u8.astype(np.float32)]),
        "shape": dict(mips=[u8[:, :3]]),
        "needs 6 faces": dict(cube=True),
        "positive integer": dict(width=0),
        "mip count 4": dict(mips=[u8, u8[:, :2, :2], u8[:, :1, :1], u8[:, :1, :1]]),
        "dimension": dict(dimension="1d"),
        "depth 1": dict(depth=2),
        "not a numpy array": dict(mips=[u8.tolist()]),
        "unsupported DXGI format": dict(format=999),
    }
    base = dict(format=BY_NAME["R8G8B8A8_UNORM"], dimension="2d", width=4, height=4, depth=1, array_size=1,
                cube=False, mips=[u8])
    for problem, change in bad.items():
        with pytest.raises(ValueError, match=problem):
            TextureData(**{**base, **change})
    with pytest.raises(ValueError, match="cannot be an array"):
        TextureData(BY_NAME["R8_UNORM"], "3d", 2, 2, 2, 2, False, [np.zeros((2, 2, 2, 1), np.uint8)])
    with pytest.raises(ValueError, match="square"):
        TextureData.from_levels([np.zeros((6, 4, 2, 1), np.uint8)], "R8_UNORM", cube=True)
    with pytest.raises(ValueError, match="accepted 2d shapes"):
        TextureData.from_levels([np.zeros((4,), np.uint8)], "R8_UNORM")
    # a name or value is accepted for the format and resolved to the table entry
    assert TextureData(28, "2d", 4, 4, 1, 1, False, [u8]).format is BY_NAME["R8G8B8A8_UNORM"]


# ------------------------------------------------------------------------------------------------- fuzz

FUZZ_SEEDS = [
    GOOD,
    encode_dds(_make("R16G16B16A16_FLOAT", 5, 3, array=2)),
    encode_dds(_make("B8G8R8A8_UNORM", 4, 4, array=6, cube=True, mips=2)),
    encode_dds(_make("R32_FLOAT", 3, 2, depth=5)),
    _legacy_file(BGRX_PF, 3, 2, bytes(24)),
    _legacy_file((0x4, 113, 0, 0, 0, 0, 0), 2, 2, bytes(32)),
]
FIELD_OFFSETS = list(range(4, DX10_FILE, 4))
NASTY = [0, 1, 2, 3, 4, 5, 6, 7, 24, 32, 124, 0x200, 0xFE00, 0x200000, 0x800000, 0x7FFFFFFF, 0x80000000,
         0xFFFFFFFF, 0x30315844]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(range(len(FUZZ_SEEDS))),
    fields=st.lists(st.tuples(st.sampled_from(FIELD_OFFSETS),
                              st.one_of(st.sampled_from(NASTY), st.integers(0, 0xFFFFFFFF))), max_size=3),
    flips=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=4),
    cut=st.one_of(st.none(), st.integers(0, 400)),
    extra=st.binary(max_size=8),
)
def test_fuzzed_files_only_raise_asset_error(seed: int, fields: list, flips: list, cut: int | None,
                                             extra: bytes) -> None:
    data = FUZZ_SEEDS[seed]
    for offset, value in fields:
        data = _put_u32(data, offset, value)
    buf = bytearray(data)
    for offset, value in flips:
        if offset < len(buf):
            buf[offset] = value
    data = bytes(buf if cut is None else buf[:cut]) + extra
    try:
        tex = decode_dds(data, "fuzz.dds")
    except AssetError as err:
        assert str(err).startswith("fuzz.dds: ")
        return
    assert decode_dds(encode_dds(tex)).identical(tex)   # whatever was accepted survives a rewrite

"""Ingesting PBR texture sets: the shared real materials, and generated files for each rule."""

from __future__ import annotations

import hashlib
import json
import math
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ngsdk.asset.errors import AssetError
from ngsdk.textures.colour import linear_to_srgb, srgb_to_linear, to_uint8
from ngsdk.textures.ingest import TextureSet, load_texture_set
from ngsdk.textures.map_names import guess_map, name_tokens

RGB = ["albedo.r", "albedo.g", "albedo.b"]
NRM = ["normal.x", "normal.y", "normal.z"]
EMI = ["emissive.r", "emissive.g", "emissive.b"]
EXPECTED = {
    "ground068_1k": (1024, RGB + NRM + ["roughness", "ao", "displacement"]),
    "bark": (1024, RGB + NRM + ["roughness", "ao", "displacement"]),
    "metal": (1024, RGB + NRM + ["roughness", "metallic", "displacement"]),
    "rock": (1024, RGB + NRM + ["roughness", "ao", "displacement"]),
    "onyx": (1024, RGB + NRM + ["roughness", "displacement"]),
    # BoomBox_baseColor.png is plain RGB (checked below), so there is no opacity channel.
    "boombox_2k": (2048, RGB + NRM + ["roughness", "ao", "metallic"] + EMI),
    "fabric_pattern_07_1k": (1024, RGB + NRM + ["roughness", "ao", "metallic"]),
}


# ---------------------------------------------------------------------------------------------
# helpers


def png16(path: Path, a: np.ndarray) -> None:
    """Write a 16-bit PNG (grey, grey+alpha, RGB or RGBA), cycling through all five row filters."""
    a = a[..., None] if a.ndim == 2 else a
    h, w, c = a.shape
    rows = a.astype(">u2").reshape(h, w * c).view(np.uint8).astype(np.int32)
    bpp = 2 * c
    out = []
    prior = np.zeros(rows.shape[1], dtype=np.int32)
    for y in range(h):
        x = rows[y]
        left = np.concatenate([np.zeros(bpp, np.int32), x[:-bpp]])
        upleft = np.concatenate([np.zeros(bpp, np.int32), prior[:-bpp]])
        kind = y % 5
        if kind == 0:
            f = x
        elif kind == 1:
            f = x - left
        elif kind == 2:
            f = x - prior
        elif kind == 3:
            f = x - (left + prior) // 2
        else:
            p = left + prior - upleft
            pa, pb, pc = np.abs(p - left), np.abs(p - prior), np.abs(p - upleft)
            pred = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, prior, upleft))
            f = x - pred
        out.append(bytes([kind]) + (f & 0xFF).astype(np.uint8).tobytes())
        prior = x

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    ihdr = struct.pack(">IIBBBBB", w, h, 16, colour_type, 0, 0, 0)
    idat = zlib.compress(b"".join(out))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def save(path: Path, a: np.ndarray) -> Path:
    Image.fromarray(a).save(path)
    return path


def rand8(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.integers(0, 256, shape, dtype=np.uint8)


def col(ts: TextureSet, name: str) -> np.ndarray:
    return ts.data[..., ts.channel_names.index(name)]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


# ---------------------------------------------------------------------------------------------
# the shared real materials (each loaded once)


@pytest.fixture(scope="module")
def materials(shared_data: Path) -> dict[str, TextureSet]:
    return {name: load_texture_set(shared_data / "textures" / name) for name in EXPECTED}


@pytest.mark.parametrize("material", sorted(EXPECTED))
def test_shared_material_channels(materials: dict[str, TextureSet], shared_data: Path, material: str) -> None:
    ts = materials[material]
    size, names = EXPECTED[material]
    assert ts.name == material
    assert (ts.width, ts.height) == (size, size)
    assert ts.channel_names == names
    assert ts.data.shape == (size, size, len(names)) and ts.data.dtype == np.float32
    assert 0.0 <= float(ts.data.min()) and float(ts.data.max()) <= 1.0
    for c in ts.channels:
        assert c.colour_space == ("srgb" if c.semantic in ("albedo", "emissive") else "linear")
        assert c.normal_convention == ("gl" if c.semantic == "normal" else None)
    assert not any(n.startswith("resampled") for n in ts.notes)
    folder = shared_data / "textures" / material
    files = sorted(p.name for p in folder.iterdir())
    assert sorted(ts.sources) == files
    for name, digest in ts.sources.items():
        assert digest == hashlib.sha256((folder / name).read_bytes()).hexdigest()


def test_shared_material_notes(materials: dict[str, TextureSet]) -> None:
    # ambientCG names its normal map NormalGL; the other folders do not say, so GL is assumed aloud.
    assert materials["ground068_1k"].notes == []
    assumed = "normal.jpg: the name does not say OpenGL or DirectX; assumed OpenGL"
    for m in ("bark", "metal", "rock", "onyx"):
        assert any(assumed in n for n in materials[m].notes)
    split = "packed map (keyword 'arm') split R -> ao, G -> roughness, B -> metallic"
    assert f"fabric_pattern_07_arm_1k.jpg: {split}" in materials["fabric_pattern_07_1k"].notes
    assert any(n.startswith("BoomBox_occlusionRoughnessMetallic.png: packed map")
               for n in materials["boombox_2k"].notes)


def test_boombox_base_colour_has_no_alpha(shared_data: Path, materials: dict[str, TextureSet]) -> None:
    with Image.open(shared_data / "textures" / "boombox_2k" / "BoomBox_baseColor.png") as im:
        assert im.mode == "RGB"
    assert "opacity" not in materials["boombox_2k"].channel_names


def test_real_values_are_exact(materials: dict[str, TextureSet], shared_data: Path) -> None:
    ts = materials["ground068_1k"]
    folder = shared_data / "textures" / "ground068_1k"
    colour = np.asarray(Image.open(folder / "Ground068_1K-JPG_Color.jpg"))
    normal = np.asarray(Image.open(folder / "Ground068_1K-JPG_NormalGL.jpg"))
    rough = np.asarray(Image.open(folder / "Ground068_1K-JPG_Roughness.jpg"))
    np.testing.assert_array_equal(ts.data[..., 0:3], srgb_to_linear((colour / 255.0).astype(np.float32)))
    np.testing.assert_array_equal(ts.data[..., 3:6], (normal / 255.0).astype(np.float32))
    np.testing.assert_array_equal(col(ts, "roughness"), (rough / 255.0).astype(np.float32))
    # source_values gives back what the files hold.
    src = ts.source_values()
    np.testing.assert_array_equal(to_uint8(src[..., 0:3]), colour)
    np.testing.assert_array_equal(src[..., 3:], ts.data[..., 3:])
    assert float(np.abs(src[..., 0:3] - colour / 255.0).max()) < 1e-6


def test_real_packed_and_emissive_values(materials: dict[str, TextureSet], shared_data: Path) -> None:
    ts = materials["boombox_2k"]
    folder = shared_data / "textures" / "boombox_2k"
    orm = np.asarray(Image.open(folder / "BoomBox_occlusionRoughnessMetallic.png"))
    for i, name in enumerate(("ao", "roughness", "metallic")):
        np.testing.assert_array_equal(col(ts, name), (orm[..., i] / 255.0).astype(np.float32))
    emissive = np.asarray(Image.open(folder / "BoomBox_emissive.png"))
    np.testing.assert_array_equal(to_uint8(linear_to_srgb(ts.data[..., -3:])), emissive)


# ---------------------------------------------------------------------------------------------
# colour


def test_srgb_curve_exact_on_every_8bit_code() -> None:
    codes = np.arange(256)
    x = (codes / 255.0).astype(np.float32)
    ref = [v / 12.92 if v <= 0.04045 else math.pow((v + 0.055) / 1.055, 2.4) for v in x.astype(float)]
    got = srgb_to_linear(x)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, np.asarray(ref, dtype=np.float32))
    np.testing.assert_array_equal(to_uint8(linear_to_srgb(got)), codes)


def test_srgb_known_values() -> None:
    assert srgb_to_linear(0.0) == 0.0 and srgb_to_linear(1.0) == 1.0
    assert srgb_to_linear(0.5) == np.float32(0.21404114048223255)
    assert srgb_to_linear(np.float32(0.04045)) == np.float32(np.float32(0.04045) / 12.92)  # linear segment
    assert linear_to_srgb(np.float32(0.003)) == np.float32(np.float32(0.003) * 12.92)
    x = float(np.float32(0.004))
    assert linear_to_srgb(np.float32(0.004)) == np.float32(1.055 * x ** (1 / 2.4) - 0.055)
    assert linear_to_srgb(np.float32(0.21404114)) == pytest.approx(0.5, abs=1e-7)
    assert linear_to_srgb(1.0) == 1.0
    # vectorised, shape kept, float32 out; negative inputs stay on the linear segment (no NaN).
    out = linear_to_srgb(np.array([[-0.1, 0.5], [2.0, 0.0]], dtype=np.float32))
    assert out.shape == (2, 2) and out.dtype == np.float32 and not np.isnan(out).any()
    assert out[0, 0] == np.float32(np.float32(-0.1) * 12.92)


def test_to_uint8() -> None:
    got = to_uint8(np.array([-0.5, 0.0, 0.5, 1.0, 7.0, 1.49 / 255], dtype=np.float32))
    assert got.dtype == np.uint8
    assert got.tolist() == [0, 0, 128, 255, 255, 1]  # 0.5 * 255 = 127.5 -> 128 (half to even)
    # x * 255 is 129.49999988 exactly but rounds to the tie 129.5 in float32 (-> 130): the product is
    # formed in float64, so the result is 129.
    x = np.float32(0.50784314)
    assert float(x) * 255 < 129.5 and x * np.float32(255) == np.float32(129.5)
    assert to_uint8(x) == 129
    with pytest.raises(ValueError, match="NaN"):
        to_uint8(np.array([np.nan]))


# ---------------------------------------------------------------------------------------------
# file names


@pytest.mark.parametrize(
    "name, semantic, convention",
    [
        ("Ground068_1K-JPG_Color.jpg", "albedo", None),
        ("fabric_pattern_07_col_1_1k.jpg", "albedo", None),
        ("BoomBox_baseColor.png", "albedo", None),
        ("rock_base_color.png", "albedo", None),
        ("Wood_Diffuse.tga", "albedo", None),
        ("wood_diff_2k.jpg", "albedo", None),
        ("fabric_pattern_07_nor_gl_1k.jpg", "normal", "gl"),
        ("Ground068_1K-JPG_NormalGL.jpg", "normal", "gl"),
        ("Metal055A_1K-JPG_NormalDX.jpg", "normal", "dx"),
        ("brick_nor_dx_1k.png", "normal", "dx"),
        ("brick_normaldx.png", "normal", "dx"),
        ("brick_normal_directx.png", "normal", "dx"),
        ("brick_nrm.png", "normal", None),
        ("BoomBox_normal.png", "normal", None),
        ("Ground068_1K-JPG_AmbientOcclusion.jpg", "ao", None),
        ("T_Rock_AO.tga", "ao", None),
        ("Metal055A_2K_Metalness.png", "metallic", None),
        ("rusty_metal_02_diff_1k.png", "albedo", None),  # the material's "metal" comes first
        ("x_rough.png", "roughness", None),
        ("x_spec.png", "specular", None),
        ("x_Displacement.jpg", "displacement", None),
        ("x_height.png", "displacement", None),
        ("leaf_mask.png", "opacity", None),
        ("lamp_emission.png", "emissive", None),
    ],
)
def test_guess_map(name: str, semantic: str, convention: str | None) -> None:
    guess = guess_map(name)
    assert guess is not None and guess.packed is None
    assert (guess.semantic, guess.normal_convention) == (semantic, convention)


@pytest.mark.parametrize(
    "name, packed",
    [
        ("fabric_pattern_07_arm_1k.jpg", {"r": "ao", "g": "roughness", "b": "metallic"}),
        ("BoomBox_occlusionRoughnessMetallic.png", {"r": "ao", "g": "roughness", "b": "metallic"}),
        ("T_Crate_ORM.png", {"r": "ao", "g": "roughness", "b": "metallic"}),
        ("Helmet_metallicRoughness.png", {"g": "roughness", "b": "metallic"}),
    ],
)
def test_guess_packed(name: str, packed: dict[str, str]) -> None:
    guess = guess_map(name)
    assert guess is not None and guess.packed == packed and guess.semantic is None


def test_name_words() -> None:
    assert name_tokens("Ground068_1K-JPG_NormalGL.jpg") == ["ground", "068", "1", "k", "jpg", "normal", "gl"]
    words = name_tokens("BoomBox_occlusionRoughnessMetallic.png")
    assert words == ["boom", "box", "occlusion", "roughness", "metallic"]
    # keywords match whole words only
    for name in ("armchair.png", "colorful.png", "aorta.png", "disposal.png", "spectrum.png"):
        assert guess_map(name) is None, name


def test_name_with_both_conventions(tmp_path: Path, rng: np.random.Generator) -> None:
    save(tmp_path / "x_normal_gl_dx.png", rand8(rng, 4, 4, 3))
    with pytest.raises(AssetError, match=r"x_normal_gl_dx.png: the name says both OpenGL and DirectX"):
        load_texture_set(tmp_path)


def test_guess_reports_unused_keywords() -> None:
    guess = guess_map("Metal055A_1K_Color.jpg")
    assert guess is not None and guess.semantic == "albedo" and guess.also == ["metal"]


# ---------------------------------------------------------------------------------------------
# generated sets


def test_dx_normal_flipped_to_gl(tmp_path: Path, rng: np.random.Generator) -> None:
    save(tmp_path / "rock_albedo.png", rand8(rng, 8, 8, 3))
    n = save(tmp_path / "rock_nor_dx.png", rand8(rng, 8, 8, 3))
    ts = load_texture_set(tmp_path)
    px = np.asarray(Image.open(n))
    np.testing.assert_array_equal(col(ts, "normal.x"), (px[..., 0] / 255).astype(np.float32))
    np.testing.assert_array_equal(col(ts, "normal.y"), ((255 - px[..., 1]) / 255).astype(np.float32))
    np.testing.assert_array_equal(col(ts, "normal.z"), (px[..., 2] / 255).astype(np.float32))
    assert {c.normal_convention for c in ts.channels if c.semantic == "normal"} == {"gl"}
    assert any("rock_nor_dx.png: normal map converted from DirectX" in n for n in ts.notes)
    # the source values are the converted (GL) map: that is what the asset stores
    np.testing.assert_array_equal(ts.source_values()[..., 3:6], ts.data[..., 3:6])


def test_packed_map_split(tmp_path: Path, rng: np.random.Generator) -> None:
    base = rand8(rng, 6, 5, 3)
    orm = rand8(rng, 6, 5, 3)
    save(tmp_path / "crate_basecolor.png", base)
    save(tmp_path / "crate_orm.png", orm)
    save(tmp_path / "crate_metallicRoughness.png", rand8(rng, 6, 5, 3))  # would clash: roughness twice
    clash = r"roughness comes from two files: crate_metallicRoughness.png .* crate_orm"
    with pytest.raises(AssetError, match=clash):
        load_texture_set(tmp_path)
    (tmp_path / "crate_metallicRoughness.png").unlink()
    ts = load_texture_set(tmp_path)
    assert ts.channel_names == RGB + ["roughness", "ao", "metallic"]
    assert (ts.width, ts.height) == (5, 6)
    np.testing.assert_array_equal(col(ts, "ao"), (orm[..., 0] / 255).astype(np.float32))
    np.testing.assert_array_equal(col(ts, "roughness"), (orm[..., 1] / 255).astype(np.float32))
    np.testing.assert_array_equal(col(ts, "metallic"), (orm[..., 2] / 255).astype(np.float32))
    assert all(c.colour_space == "linear" and c.source == "crate_orm.png" for c in ts.channels[3:])


def test_gltf_metallic_roughness_leaves_red_unused(tmp_path: Path, rng: np.random.Generator) -> None:
    mr = rand8(rng, 4, 4, 3)
    save(tmp_path / "helmet_metallicRoughness.png", mr)
    ts = load_texture_set(tmp_path)
    assert ts.channel_names == ["roughness", "metallic"]
    np.testing.assert_array_equal(col(ts, "metallic"), (mr[..., 2] / 255).astype(np.float32))
    assert any("G -> roughness, B -> metallic; R unused" in n for n in ts.notes)


def test_16bit_png(tmp_path: Path, rng: np.random.Generator) -> None:
    rgb = rng.integers(0, 65536, (7, 9, 3), dtype=np.uint16)
    rgba = rng.integers(0, 65536, (7, 9, 4), dtype=np.uint16)
    grey = rng.integers(0, 65536, (7, 9), dtype=np.uint16)
    grey_alpha = rng.integers(0, 65536, (7, 9, 2), dtype=np.uint16)
    png16(tmp_path / "t_albedo.png", rgba)
    png16(tmp_path / "t_emissive.png", rgb)
    png16(tmp_path / "t_roughness.png", grey)
    png16(tmp_path / "t_height.png", grey_alpha)
    ts = load_texture_set(tmp_path)
    assert ts.channel_names == RGB + ["roughness", "displacement", "opacity"] + EMI
    albedo = srgb_to_linear((rgba[..., :3] / 65535).astype(np.float32))
    np.testing.assert_array_equal(ts.data[..., 0:3], albedo)
    np.testing.assert_array_equal(col(ts, "opacity"), (rgba[..., 3] / 65535).astype(np.float32))
    np.testing.assert_array_equal(ts.data[..., -3:], srgb_to_linear((rgb / 65535).astype(np.float32)))
    np.testing.assert_array_equal(col(ts, "displacement"), (grey_alpha[..., 0] / 65535).astype(np.float32))
    np.testing.assert_array_equal(col(ts, "roughness"), (grey / 65535).astype(np.float32))
    assert any("t_height.png: alpha channel (not opaque) dropped" in n for n in ts.notes)


def test_tga_bmp_and_alpha(tmp_path: Path, rng: np.random.Generator) -> None:
    albedo = rand8(rng, 4, 4, 4)
    albedo[0, 0, 3] = 10  # not opaque -> opacity
    save(tmp_path / "w_albedo.tga", albedo)
    normal = rand8(rng, 4, 4, 4)
    normal[..., 3] = 255
    save(tmp_path / "w_normal_gl.png", normal)
    rough = rand8(rng, 4, 4)
    save(tmp_path / "w_rough.bmp", rough)
    ts = load_texture_set(tmp_path)
    assert ts.channel_names == RGB + NRM + ["roughness", "opacity"]
    np.testing.assert_array_equal(col(ts, "opacity"), (albedo[..., 3] / 255).astype(np.float32))
    np.testing.assert_array_equal(col(ts, "roughness"), (rough / 255).astype(np.float32))
    assert any("w_normal_gl.png: alpha channel (fully opaque) dropped" in n for n in ts.notes)
    assert any("w_albedo.tga: alpha channel (not opaque) becomes the opacity channel" in n for n in ts.notes)


def test_grey_map_stored_as_rgb(tmp_path: Path, rng: np.random.Generator) -> None:
    g = rand8(rng, 4, 4)
    same = np.stack([g, g, g], axis=-1)
    save(tmp_path / "a_ao.png", same)
    differ = same.copy()
    differ[1, 2, 1] ^= 7
    save(tmp_path / "a_roughness.png", differ)
    ts = load_texture_set(tmp_path)
    np.testing.assert_array_equal(col(ts, "ao"), (g / 255).astype(np.float32))
    np.testing.assert_array_equal(col(ts, "roughness"), (g / 255).astype(np.float32))
    notes = [n for n in ts.notes if "channels differ" in n]
    assert len(notes) == 1 and "used R" in notes[0]
    assert notes[0].startswith("a_roughness.png: roughness stored as RGB whose channels differ")


def test_channel_order_follows_semantics(tmp_path: Path, rng: np.random.Generator) -> None:
    for name in ("z_emissive.png", "z_albedo.png", "z_normal.png"):
        save(tmp_path / name, rand8(rng, 4, 4, 3))
    for name in ("z_opacity.png", "z_spec.png", "z_disp.png", "z_metal.png", "z_ao.png", "z_rough.png"):
        save(tmp_path / name, rand8(rng, 4, 4))
    ts = load_texture_set(tmp_path)
    singles = ["roughness", "ao", "metallic", "specular", "displacement", "opacity"]
    assert ts.channel_names == RGB + NRM + singles + EMI


def test_resampling_to_largest(tmp_path: Path, rng: np.random.Generator) -> None:
    save(tmp_path / "r_albedo.png", rand8(rng, 16, 8, 3))
    save(tmp_path / "r_roughness.png", np.full((4, 4), 128, np.uint8))
    normal = np.zeros((8, 4, 3), np.uint8)
    normal[..., 0], normal[..., 2] = rand8(rng, 8, 4), 255
    normal[..., 1] = 128
    save(tmp_path / "r_normal.png", normal)
    ts = load_texture_set(tmp_path)
    assert (ts.width, ts.height) == (8, 16)
    rough = "resampled r_roughness.png (4x4) to 8x16 with lanczos (in linear values, clamped to [0, 1])"
    assert rough in ts.notes
    normal_note = [n for n in ts.notes if n.startswith("resampled r_normal.png (4x8) to 8x16 with lanczos")]
    assert len(normal_note) == 1 and "normals renormalised" in normal_note[0]
    assert not any(n.startswith("resampled r_albedo.png") for n in ts.notes)
    np.testing.assert_allclose(col(ts, "roughness"), 128 / 255, atol=1e-6)
    n = ts.data[..., 3:6] * 2 - 1
    np.testing.assert_allclose(np.linalg.norm(n, axis=-1), 1.0, atol=1e-5)
    assert 0.0 <= ts.data.min() and ts.data.max() <= 1.0
    ts_box = load_texture_set(tmp_path, resample_filter="box")
    assert any("with box" in n for n in ts_box.notes)
    with pytest.raises(ValueError, match="resample_filter must be one of"):
        load_texture_set(tmp_path, resample_filter="cubic")


# ---------------------------------------------------------------------------------------------
# errors


def test_unrecognised_files_listed(tmp_path: Path, rng: np.random.Generator) -> None:
    save(tmp_path / "albedo.png", rand8(rng, 4, 4, 3))
    save(tmp_path / "foo.png", rand8(rng, 4, 4))
    save(tmp_path / "bar_2k.jpg", rand8(rng, 4, 4, 3))
    (tmp_path / "README.md").write_text("about")
    (tmp_path / "LICENSE").write_text("CC0")
    (tmp_path / "meta.json").write_text("{}")
    with pytest.raises(AssetError) as err:
        load_texture_set(tmp_path)
    msg = str(err.value)
    assert msg.startswith(f"{tmp_path}: cannot tell which map these files hold: bar_2k.jpg, foo.png.")
    assert "README" not in msg and "LICENSE" not in msg and "meta.json" not in msg
    assert "channels.json" in msg and '"ignore"' in msg and "\n" not in msg
    # fixing it with a channel file works, and the ignored files are reported
    fix = {"files": {"foo.png": "roughness", "bar_2k.jpg": "ignore"}}
    (tmp_path / "channels.json").write_text(json.dumps(fix))
    ts = load_texture_set(tmp_path)
    assert ts.channel_names == RGB + ["roughness"]
    assert "ignored non-image files: LICENSE, README.md, meta.json" in ts.notes
    assert "ignored as the channel file says: bar_2k.jpg" in ts.notes
    assert sorted(ts.sources) == ["albedo.png", "foo.png"]


def test_duplicate_semantic(tmp_path: Path, rng: np.random.Generator) -> None:
    save(tmp_path / "x_albedo.png", rand8(rng, 4, 4, 3))
    save(tmp_path / "x_basecolor.png", rand8(rng, 4, 4, 3))
    clash = r"albedo comes from two files: x_albedo.png \(keyword 'albedo'\) and x_basecolor.png \(keyword"
    with pytest.raises(AssetError, match=clash):
        load_texture_set(tmp_path)


def test_folder_and_file_errors(tmp_path: Path, rng: np.random.Generator) -> None:
    with pytest.raises(AssetError, match="texture folder does not exist"):
        load_texture_set(tmp_path / "nope")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(AssetError, match="is not a folder"):
        load_texture_set(tmp_path / "notes.txt")
    with pytest.raises(AssetError, match="no texture images in the folder"):
        load_texture_set(tmp_path)
    (tmp_path / "x_albedo.png").write_bytes(b"not a png at all")
    with pytest.raises(AssetError) as err:
        load_texture_set(tmp_path)
    assert str(err.value).startswith(str(tmp_path / "x_albedo.png") + ": cannot read image")
    good = tmp_path / "good.png"
    save(good, rand8(rng, 64, 64, 3))
    (tmp_path / "x_albedo.png").write_bytes(good.read_bytes()[:200])  # truncated
    good.unlink()
    with pytest.raises(AssetError, match=r"x_albedo.png: cannot decode image"):
        load_texture_set(tmp_path)
    (tmp_path / "x_albedo.png").unlink()
    save(tmp_path / "x_normal.png", rand8(rng, 4, 4))
    with pytest.raises(AssetError, match="x_normal.png: a normal map needs three channels"):
        load_texture_set(tmp_path)


def test_exr_needs_reader(tmp_path: Path, shared_data: Path) -> None:
    exr = shared_data / "frames" / "beachball" / "singlepart.0001.exr"
    (tmp_path / "ball_albedo.exr").write_bytes(exr.read_bytes())
    with pytest.raises(AssetError, match=r"ball_albedo.exr: OpenEXR input needs an EXR reader.*16-bit PNG"):
        load_texture_set(tmp_path)


# ---------------------------------------------------------------------------------------------
# channel file


def test_channel_file_overrides_guessing(tmp_path: Path, rng: np.random.Generator) -> None:
    mask = rand8(rng, 4, 4, 3)
    base = rand8(rng, 4, 4, 3)
    wet = rand8(rng, 4, 4, 3)
    nrm = rand8(rng, 4, 4, 3)
    spec = rand8(rng, 4, 4)
    save(tmp_path / "mask.png", mask)  # would be guessed as opacity
    save(tmp_path / "base.png", base)
    save(tmp_path / "wet.png", wet)
    save(tmp_path / "nrm.png", nrm)
    save(tmp_path / "preview.jpg", rand8(rng, 4, 4, 3))
    save(tmp_path / "stone_spec.png", spec)  # unlisted: guessed
    doc = {
        "version": 1,
        "files": {
            "mask.png": {"r": "ao", "g": "roughness", "b": "metallic"},
            "base.png": "albedo",
            "wet.png": {"semantic": "user:wetness", "channel": "g"},
            "nrm.png": {"semantic": "normal", "normal_convention": "dx"},
            "preview.jpg": "ignore",
        },
    }
    (tmp_path / "channels.json").write_text(json.dumps(doc))
    ts = load_texture_set(tmp_path)
    assert ts.channel_names == RGB + NRM + ["roughness", "ao", "metallic", "specular", "user:wetness"]
    np.testing.assert_array_equal(col(ts, "ao"), (mask[..., 0] / 255).astype(np.float32))
    np.testing.assert_array_equal(col(ts, "user:wetness"), (wet[..., 1] / 255).astype(np.float32))
    np.testing.assert_array_equal(col(ts, "normal.y"), ((255 - nrm[..., 1]) / 255).astype(np.float32))
    np.testing.assert_array_equal(ts.data[..., :3], srgb_to_linear((base / 255).astype(np.float32)))
    np.testing.assert_array_equal(col(ts, "specular"), (spec / 255).astype(np.float32))
    assert "preview.jpg" not in ts.sources
    assert any(n.startswith("channel file channels.json (sha256 ") for n in ts.notes)

    # an explicit channel file elsewhere wins over the folder's own
    other = tmp_path.parent / f"{tmp_path.name}-override.json"
    other.write_text(json.dumps({"files": {"base.png": {"semantic": "user:tint", "colour_space": "srgb"}},
                                 "unlisted": "ignore"}))
    ts2 = load_texture_set(tmp_path, channel_file=other)
    assert ts2.channel_names == ["user:tint.r", "user:tint.g", "user:tint.b"]
    assert all(c.colour_space == "srgb" for c in ts2.channels)
    np.testing.assert_array_equal(to_uint8(ts2.source_values()), base)
    assert any("channels.json in the folder ignored" in n for n in ts2.notes)


@pytest.mark.parametrize(
    "doc, expected",
    [
        ("{not json", r"channel file is not valid JSON: .* at line 1 column 2"),
        ([], r"top level: must be a JSON object"),
        ({"file": {}}, r"top level: unknown key 'file'; did you mean 'files'\?"),
        ({"version": 2, "files": {}}, r"version: unsupported version 2"),
        ({"files": []}, r"files: must be an object"),
        ({"files": {}, "unlisted": "skip"}, r"unlisted: must be \"guess\" or \"ignore\""),
        ({"files": {"mising.png": "ao"}}, r"files\['mising.png'\]: no such image file in the folder; "
                                          r"did you mean 'missing.png'\?"),
        ({"files": {"missing.png": "rough"}}, r"files\['missing.png'\].semantic: unknown semantic 'rough'; "
                                              r"did you mean 'roughness'\?"),
        ({"files": {"missing.png": {"r": "albedo"}}}, r"\.r: albedo has 3 channels and cannot come from one"),
        ({"files": {"missing.png": {"r": "ao", "g": "ao"}}}, r"\.g: ao is mapped to two bands"),
        ({"files": {"missing.png": {"r": "ao", "semantic": "ao"}}}, r"\(packed map\): unknown key 'semantic"),
        ({"files": {"missing.png": {"semantic": "ao", "color_space": "srgb"}}},
         r"unknown key 'color_space'; did you mean 'colour_space'\?"),
        ({"files": {"missing.png": {"semantic": "albedo", "colour_space": "gamma"}}},
         r"colour_space: must be \"srgb\" or \"linear\""),
        ({"files": {"missing.png": {"semantic": "normal", "colour_space": "srgb"}}}, r"must be \"linear\""),
        ({"files": {"missing.png": {"semantic": "ao", "normal_convention": "dx"}}},
         r"normal_convention: only applies to normal maps"),
        ({"files": {"missing.png": {"semantic": "normal", "normal_convention": "directx"}}},
         r"must be \"gl\" or \"dx\""),
        ({"files": {"missing.png": {"semantic": "albedo", "channel": "r"}}}, r"channel: albedo uses three"),
        ({"files": {"missing.png": {"semantic": "ao", "channel": "x"}}}, r"channel: must be one of r, g, b"),
        ({"files": {"missing.png": {"colour_space": "srgb"}}}, r"needs \"semantic\""),
        ({"files": {"missing.png": 3}}, r"must be \"ignore\", a semantic name"),
        ({"files": {"missing.png": "user:"}}, r"unknown semantic 'user:'"),
    ],
)
def test_channel_file_validation(
    tmp_path: Path, rng: np.random.Generator, doc: object, expected: str
) -> None:
    save(tmp_path / "missing.png", rand8(rng, 4, 4, 3))
    cf = tmp_path / "channels.json"
    cf.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    with pytest.raises(AssetError, match=expected) as err:
        load_texture_set(tmp_path)
    assert str(err.value).startswith(f"{cf}: ")
    assert "\n" not in str(err.value)


def test_channel_file_errors_on_decode(tmp_path: Path, rng: np.random.Generator) -> None:
    save(tmp_path / "grey.png", rand8(rng, 4, 4))
    (tmp_path / "channels.json").write_text(json.dumps({"files": {"grey.png": {"r": "ao", "a": "opacity"}}}))
    with pytest.raises(AssetError, match="grey.png: packed map .* must be RGB"):
        load_texture_set(tmp_path)
    with pytest.raises(AssetError, match="channel file does not exist"):
        load_texture_set(tmp_path, channel_file=tmp_path / "nope.json")
    (tmp_path / "channels.json").write_text(json.dumps({"files": {"grey.png": "ignore"}}))
    with pytest.raises(AssetError, match="the channel file ignores every image"):
        load_texture_set(tmp_path)

"""Issue 12 item 12: ``ngsdk decode TEXTURE.ngasset`` writes each map in its own colour space and convention,
read back with independent readers: Pillow (PNG), the OpenEXR library (EXR), runtime_ref's DDS reader, and
texture2ddecoder for the BC7/BC5/BC4 fallback."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from ngsdk.cli import main
from ngsdk.metrics import psnr
from ngsdk.runtime_ref.neural_texture import load_neural_texture
from ngsdk.runtime_ref.neural_texture_modes import decode_mip
from ngsdk.textures.stored import bytes_to_linear

GROUPS = {"albedo": [0, 1, 2], "normal": [3, 4, 5], "roughness": [6], "ao": [7], "displacement": [8]}


def decode(*args: object):  # noqa: ANN201
    return CliRunner().invoke(main, ["decode", *map(str, args)], catch_exceptions=False)


@pytest.fixture(scope="module")
def reference(small_bundle: Path) -> dict[int, np.ndarray]:
    asset = load_neural_texture(small_bundle)
    assert asset.decode_mode == "exact" and [c.name for c in asset.channels][6:] == ["roughness", "ao", "displacement"]
    return {m: decode_mip(asset, m) for m in range(asset.mip_levels)}


def test_png_maps_are_the_decoded_bytes(small_bundle: Path, reference, tmp_path: Path) -> None:
    res = decode(small_bundle, "--out", tmp_path, "--format", "png")
    assert res.exit_code == 0, res.output
    index = json.loads((tmp_path / "maps.json").read_text())
    assert [e["file"] for e in index["maps"]] == [f"{g}.png" for g in GROUPS]
    for name, idx in GROUPS.items():
        got = np.asarray(Image.open(tmp_path / f"{name}.png"))
        want = reference[0][..., idx]
        assert np.array_equal(got.reshape(want.shape), want), name
    albedo = next(e for e in index["maps"] if e["texture"] == "albedo")
    normal = next(e for e in index["maps"] if e["texture"] == "normal")
    assert albedo["colour_space"] == "srgb" and normal["normal_convention"] == "gl"


def test_exr_maps_are_linear_float(small_bundle: Path, reference, tmp_path: Path) -> None:
    import OpenEXR

    from ngsdk.runtime_ref.neural_texture import load_neural_texture

    res = decode(small_bundle, "--out", tmp_path, "--format", "exr", "--mip", "1")
    assert res.exit_code == 0, res.output
    linear = bytes_to_linear(reference[1], load_neural_texture(small_bundle).channels)
    with OpenEXR.File(str(tmp_path / "albedo_mip1.exr")) as f:
        rgb = f.channels()["RGB"].pixels
    assert rgb.dtype == np.float32 and np.array_equal(rgb, linear[..., :3])  # sRGB decoded to linear light
    with OpenEXR.File(str(tmp_path / "roughness_mip1.exr")) as f:
        assert np.array_equal(f.channels()["Y"].pixels, linear[..., 6])


def test_dds_maps_hold_the_mip_chain(small_bundle: Path, reference, tmp_path: Path) -> None:
    from ngsdk.runtime_ref.dds import read_dds

    res = decode(small_bundle, "--out", tmp_path, "--format", "dds")
    assert res.exit_code == 0, res.output
    albedo = read_dds(tmp_path / "albedo.dds")
    assert albedo.format.name == "R8G8B8A8_UNORM_SRGB" and albedo.mip_count == len(reference)
    for m, want in reference.items():
        assert np.array_equal(albedo.mips[m][0, ..., :3], want[..., :3])
        assert (albedo.mips[m][0, ..., 3] == 255).all()
    ao = read_dds(tmp_path / "ao.dds")
    assert ao.format.name == "R8_UNORM" and np.array_equal(ao.mips[2][0, ..., 0], reference[2][..., 7])


def test_bc_maps_are_the_fallback_textures(small_bundle: Path, reference, tmp_path: Path) -> None:
    from ngsdk.runtime_ref.dds import decode_block_dds
    from ngsdk.textures.bcn import bc_decode, rebuild_normal_z

    res = decode(small_bundle, "--out", tmp_path, "--format", "bc")
    assert res.exit_code == 0, res.output
    want = {"albedo": "BC7_UNORM_SRGB", "normal": "BC5_UNORM", "roughness": "BC4_UNORM", "ao": "BC4_UNORM",
            "displacement": "BC4_UNORM"}
    for name, fmt in want.items():
        tex = decode_block_dds((tmp_path / f"{name}.dds").read_bytes(), tmp_path / f"{name}.dds")
        assert tex.format.name == fmt and len(tex.mips) == len(reference), name
        idx = GROUPS[name][:2] if name == "normal" else GROUPS[name]
        for m in (0, 3):
            h, w = reference[m].shape[:2]
            got = bc_decode(tex.mips[m], fmt.split("_")[0], w, h, len(idx)).astype(np.float64) / 255
            ref = reference[m][..., idx].astype(np.float64) / 255
            db = psnr(float(np.mean((got - ref) ** 2)))
            assert db > 30, (name, m, db)  # block compression of the decoded map: close, not exact
    # BC5 normals carry x, y; z comes back from the shader's rebuild
    tex = decode_block_dds((tmp_path / "normal.dds").read_bytes())
    xy = bc_decode(tex.mips[0], "BC5", *reference[0].shape[1::-1], 2)
    assert rebuild_normal_z(xy[..., 0], xy[..., 1]).shape == reference[0].shape[:2]


def test_normal_y_dx_flips_green(small_bundle: Path, reference, tmp_path: Path) -> None:
    res = decode(small_bundle, "--out", tmp_path, "--normal-y", "dx")
    assert res.exit_code == 0, res.output
    got = np.asarray(Image.open(tmp_path / "normal.png"))
    assert np.array_equal(got[..., 1], 255 - reference[0][..., 4])
    assert np.array_equal(got[..., 0], reference[0][..., 3])
    entry = next(e for e in json.loads((tmp_path / "maps.json").read_text())["maps"] if e["texture"] == "normal")
    assert entry["normal_convention"] == "dx"


def test_decode_refuses_volume_options_on_a_texture(small_bundle: Path, tmp_path: Path) -> None:
    res = decode(small_bundle, "--out", tmp_path, "--denormalize")
    assert res.exit_code == 2 and "--denormalize applies to neural volumes" in res.stderr
    res = decode(small_bundle, "--out", tmp_path, "--mip", "99")
    assert res.exit_code == 2 and "has mips 0 to" in res.stderr

"""``ngsdk sample``: a DDS in, an .npy out, the same bits as the Python API, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from ngsdk.asset.texture import TextureData
from ngsdk.cli import main
from ngsdk.exporters.dds import write_dds
from ngsdk.runtime_ref.sampling import sample


@pytest.fixture()
def files(tmp_path):
    rng = np.random.default_rng(0)
    levels = [rng.integers(0, 256, (23 >> m or 1, 37 >> m, 4), dtype=np.uint8) for m in range(3)]
    tex = TextureData.from_levels(levels, "R8G8B8A8_UNORM_SRGB")
    write_dds(tmp_path / "t.dds", tex)
    np.save(tmp_path / "uv.npy", rng.uniform(-3, 4, (500, 2)).astype(np.float32))
    np.save(tmp_path / "lod.npy", rng.uniform(-1, 3, 500).astype(np.float32))
    return tmp_path, tex


def _run(*args):
    return CliRunner().invoke(main, ["sample", *map(str, args)])


@pytest.mark.parametrize("profile", ["lavapipe", "d3d11", "ideal", "bounded"])
def test_cli_output_equals_the_api(files, profile):
    d, tex = files
    res = _run(d / "t.dds", "--uv", d / "uv.npy", "--lod", d / "lod.npy", "--filter", "trilinear",
               "--address", "mirror", "--profile", profile, "--out", d / "out.npy")
    assert res.exit_code == 0, res.output
    got = np.load(d / "out.npy", allow_pickle=False)
    want = sample(tex, np.load(d / "uv.npy"), lod=np.load(d / "lod.npy"), filter="trilinear",
                  address="mirror", profile=profile)
    assert got.dtype == np.float32 and got.shape == ((500, 2, 4) if profile == "bounded" else (500, 4))
    assert np.array_equal(got, want)


def test_cli_border_colour(files):
    d, tex = files
    res = _run(d / "t.dds", "--uv", d / "uv.npy", "--filter", "linear", "--address", "border",
               "--border", "1,0.5,0,1", "--profile", "ideal", "--out", d / "b.npy")
    assert res.exit_code == 0, res.output
    want = sample(tex, np.load(d / "uv.npy"), address="border", border=(1, 0.5, 0, 1), profile="ideal")
    assert np.array_equal(np.load(d / "b.npy"), want)


def test_cli_array_layer_and_3d(tmp_path):
    rng = np.random.default_rng(1)
    arr = TextureData.from_levels([rng.integers(0, 256, (3, 4, 6, 4), dtype=np.uint8)], "R8G8B8A8_UNORM")
    vol = TextureData.from_levels([rng.standard_normal((3, 4, 5, 4)).astype(np.float16)],
                                  "R16G16B16A16_FLOAT", dimension="3d")
    write_dds(tmp_path / "a.dds", arr)
    write_dds(tmp_path / "v.dds", vol)
    uv = rng.uniform(-1, 2, (64, 2)).astype(np.float32)
    uvw = rng.uniform(-1, 2, (64, 3)).astype(np.float32)
    np.save(tmp_path / "uv.npy", uv)
    np.save(tmp_path / "uvw.npy", uvw)
    res = _run(tmp_path / "a.dds", "--uv", tmp_path / "uv.npy", "--layer", 2, "--filter", "nearest",
               "--address", "repeat", "--profile", "lavapipe", "--out", tmp_path / "o.npy")
    assert res.exit_code == 0, res.output
    assert np.array_equal(np.load(tmp_path / "o.npy"),
                          sample(arr, uv, layer=2, filter="nearest", profile="lavapipe"))
    res = _run(tmp_path / "v.dds", "--uv", tmp_path / "uvw.npy", "--filter", "linear", "--address", "clamp",
               "--profile", "lavapipe", "--out", tmp_path / "o3.npy")
    assert res.exit_code == 0, res.output
    assert np.array_equal(np.load(tmp_path / "o3.npy"),
                          sample(vol, uvw, address="clamp", profile="lavapipe"))


@pytest.mark.parametrize(("change", "message"), [
    ({"uv": "uv64.npy"}, "must be float32, got float64"),
    ({"uv": "uv3.npy"}, "needs N x 2"),
    ({"uv": "t.dds"}, "cannot read UV array"),
    ({"lod": "lod_short.npy"}, "expected (500,)"),
    ({"texture": "uv.npy"}, "not a DDS file"),
    ({"profile": "vulkan"}, "Invalid value for '--profile'"),
    ({"border": "1,2,3"}, "expected four numbers"),
    ({"layer": "3"}, "--layer 3 out of range"),
    ({"uv": "uv_nan.npy"}, "finite"),
])
def test_cli_errors_are_one_line_and_name_the_problem(files, change, message):
    d, _ = files
    np.save(d / "uv64.npy", np.zeros((500, 2)))
    np.save(d / "uv3.npy", np.zeros((500, 3), np.float32))
    np.save(d / "uv_nan.npy", np.full((500, 2), np.nan, np.float32))
    np.save(d / "lod_short.npy", np.zeros(499, np.float32))
    opts = {"texture": "t.dds", "uv": "uv.npy", "lod": None, "profile": "lavapipe", "border": None,
            "layer": None, "address": "border" if "border" in change else "repeat"}
    opts.update(change)
    args = [d / opts["texture"], "--uv", d / opts["uv"], "--filter", "linear", "--address", opts["address"],
            "--profile", opts["profile"], "--out", d / "never.npy"]
    if opts["lod"]:
        args += ["--lod", d / opts["lod"]]
    if opts["border"]:
        args += ["--border", opts["border"]]
    if opts["layer"]:
        args += ["--layer", opts["layer"]]
    res = _run(*args)
    assert res.exit_code != 0
    assert message in res.output
    assert "Traceback" not in res.output
    assert not (d / "never.npy").exists()

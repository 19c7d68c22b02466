"""Super-sampling data readers and writers: OpenEXR (real beachball frames), the gym's safetensors and EXR
capture tree (round trips of rendered sequences), error reporting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("safetensors")
OpenEXR = pytest.importorskip("OpenEXR")

from ngsdk.asset.errors import AssetError  # noqa: E402
from ngsdk.supersampling.dataset import augment, open_sequences  # noqa: E402
from ngsdk.supersampling.depth import depth_params, device_depth, view_depth  # noqa: E402
from ngsdk.supersampling.exr_io import read_capture_sequence, read_exr, write_capture_sequence  # noqa: E402
from ngsdk.supersampling.safetensors_io import SafetensorsSequence, read_sequence, write_sequence  # noqa: E402

BEACHBALL = "frames/beachball"


@pytest.fixture(scope="module")
def rendered(shared_data: Path):
    """A real 3-frame sequence from the ray caster (16x16 target)."""
    import torch

    from ngsdk.supersampling.synth.render import SynthConfig, load_bank, render_sequence
    from ngsdk.supersampling.synth.scene import random_scene

    bank = load_bank([shared_data / "textures" / "rock"], [shared_data / "images" / "kodim05.png"],
                     torch.device("cpu"), 64)
    cfg = SynthConfig(frames=3, target=(24, 16), device="cpu")
    return render_sequence(random_scene(np.random.default_rng(7), 1, 1), bank, cfg, "seq7", torch.device("cpu"))


def test_beachball_channels_and_windows(shared_data: Path):
    path = shared_data / BEACHBALL / "singlepart.0001.exr"
    d = read_exr(path, ["R", "G", "B", "A", "Z", "forward.right.u", "forward.right.v"])
    assert {k: v.shape for k, v in d.items()} == {k: (876, 911) for k in d}
    assert all(v.dtype == np.float32 for v in d.values())
    assert 0 < d["Z"].max() < 100 and d["A"].max() == 1.0
    # the channel data is the file's half floats, unchanged
    raw = OpenEXR.File(str(path), separate_channels=True).parts[0].channels["Z"].pixels
    assert np.array_equal(d["Z"], raw.astype(np.float32))
    full = read_exr(path, ["Z"], window="display")["Z"]
    assert full.shape == (1556, 2048)
    assert np.array_equal(full[245:1121, 654:1565], d["Z"]) and full[:245].max() == 0


def test_beachball_data_window_outside_display(shared_data: Path):
    path = shared_data / BEACHBALL / "singlepart.0008.exr"
    data = read_exr(path, ["R"])["R"]
    full = read_exr(path, ["R"], window="display")["R"]
    assert full.shape == (1556, 2048)
    assert 0 < np.count_nonzero(full) < np.count_nonzero(data) + 1


def test_exr_errors_name_the_file(tmp_path: Path, shared_data: Path):
    bad = tmp_path / "broken.exr"
    bad.write_bytes(b"not an exr")
    with pytest.raises(AssetError, match="broken.exr"):
        read_exr(bad)
    with pytest.raises(AssetError, match="no channel nope"):
        read_exr(shared_data / BEACHBALL / "singlepart.0001.exr", ["nope"])


def test_safetensors_round_trip_in_the_gyms_layout(tmp_path: Path, rendered):
    from safetensors import safe_open

    path = write_sequence(tmp_path / "0000.safetensors", rendered)
    with safe_open(str(path), framework="numpy") as f:
        meta = f.metadata()
        kinds = {k: (f.get_slice(k).get_dtype(), tuple(f.get_slice(k).get_shape())) for k in f.keys()}
    n = len(rendered)
    assert meta["Length"] == str(n)
    assert kinds["colour_linear"] == ("F16", (n, 3, 8, 12))
    assert kinds["ground_truth_linear"] == ("F16", (n, 3, 16, 24))
    assert kinds["depth"] == ("F32", (n, 1, 8, 12))
    assert kinds["motion"] == ("F16", (n, 2, 16, 24)) and kinds["motion_lr"] == ("F16", (n, 2, 8, 12))
    assert kinds["jitter"] == ("F32", (n, 2, 1, 1)) and kinds["exposure"] == ("F32", (n, 1))
    assert kinds["depth_params"] == ("F32", (n, 4)) and kinds["render_size"] == ("I32", (n, 2))
    back = read_sequence(path)
    for key in ("colour", "ground_truth", "motion", "motion_lr"):
        a = getattr(rendered, key)
        assert np.allclose(getattr(back, key), a.astype(np.float16).astype(np.float32), rtol=0, atol=0), key
    for key in ("depth", "jitter", "depth_params", "exposure", "z_near", "z_far", "fov_x", "fov_y"):
        assert np.array_equal(getattr(back, key), getattr(rendered, key)), key
    assert back.render_size == (8, 12) and back.scale == 2


def test_safetensors_lazy_window_equals_slice(tmp_path: Path, rendered):
    path = write_sequence(tmp_path / "s.safetensors", rendered)
    src = SafetensorsSequence(path)
    assert (len(src), src.lr_size, src.hr_size, src.scale) == (3, (8, 12), (16, 24), 2)
    part = src.read(1, 3, (4, 6, 8, 12))
    whole = read_sequence(path)
    assert np.array_equal(part.ground_truth, whole.ground_truth[1:3, :, 4:12, 6:18])
    assert np.array_equal(part.colour, whole.colour[1:3, :, 2:6, 3:9])
    assert np.array_equal(part.motion_lr, whole.motion_lr[1:3, :, 2:6, 3:9])
    assert part.render_size == (8, 12)
    with pytest.raises(ValueError, match="multiples of 2"):
        src.read(0, 1, (1, 0, 4, 4))


def test_safetensors_errors_name_the_file(tmp_path: Path):
    from safetensors.numpy import save_file

    bad = tmp_path / "junk.safetensors"
    bad.write_bytes(b"\x00" * 40)
    with pytest.raises(AssetError, match="junk.safetensors"):
        SafetensorsSequence(bad)
    partial = tmp_path / "partial.safetensors"
    save_file({"colour_linear": np.zeros((2, 3, 4, 4), np.float16)}, str(partial), {"Length": "2"})
    with pytest.raises(AssetError, match="partial.safetensors: missing the gym's keys ground_truth_linear"):
        SafetensorsSequence(partial)


def test_exr_capture_tree_round_trip(tmp_path: Path, rendered):
    write_capture_sequence(tmp_path, rendered)
    assert (tmp_path / "x2" / "depth" / "seq7" / "0002.exr").is_file()
    assert (tmp_path / "motion_gt" / "seq7" / "0000.exr").is_file()
    back = read_capture_sequence(tmp_path, "seq7")
    half = lambda a: a.astype(np.float16).astype(np.float32)  # noqa: E731
    assert np.array_equal(back.colour, half(rendered.colour))
    assert np.array_equal(back.ground_truth, half(rendered.ground_truth))
    assert np.array_equal(back.depth, rendered.depth)
    # motion goes through UV units in half precision and back to pixels
    assert np.allclose(back.motion, rendered.motion, atol=2e-2 * np.abs(rendered.motion).max() + 1e-3)
    assert np.allclose(back.jitter, rendered.jitter, atol=1e-6)
    assert np.allclose(back.exposure, rendered.exposure, atol=1e-6)
    assert np.allclose(back.depth_params, rendered.depth_params, rtol=1e-5)
    assert np.allclose(back.view_proj, rendered.view_proj, rtol=1e-5, atol=1e-6)
    seqs = open_sequences(tmp_path)
    assert [s.name for s in seqs] == ["seq7"] and len(seqs[0]) == 3


def test_open_sequences_reports_an_empty_folder(tmp_path: Path):
    with pytest.raises(AssetError, match="holds no .safetensors sequences"):
        open_sequences(tmp_path)


def test_depth_params_invert_device_depth():
    z = np.array([0.1, 0.5, 3.0, 50.0, 99.0])
    params = depth_params(np.array([0.1]), np.array([100.0]), np.array([1.0]), 960, 540, np.array([False]))[0]
    d = device_depth(z, 0.1, 100.0)
    assert d[0] == pytest.approx(0.0, abs=1e-6) and np.all(np.diff(d) > 0) and d[-1] < 1
    assert np.allclose(view_depth(d.astype(np.float64), params.astype(np.float64)), z, rtol=1e-4)
    assert params[3] == pytest.approx(np.tan(0.5), rel=1e-6)
    assert params[2] == pytest.approx(np.tan(0.5) * 960 / 540, rel=1e-6)


def test_augmentations_invert(rendered):
    for flips in ((True, False, False), (False, True, False), (False, False, True)):
        seq = rendered.crop(0, 0, 16, 16)
        twice = augment(augment(seq, *flips), *flips) if not flips[2] else seq
        if flips[2]:
            for _ in range(4):
                twice = augment(twice, False, False, True)
        for key in ("colour", "ground_truth", "depth", "motion", "motion_lr", "jitter"):
            assert np.allclose(getattr(twice, key), getattr(seq, key)), (flips, key)

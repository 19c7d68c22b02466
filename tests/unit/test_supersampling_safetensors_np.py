"""The NumPy safetensors container (ngsdk.supersampling.safetensors_np): files it writes read with the
``safetensors`` package and the other way round, lazy slices, malformed files, and a whole gym sequence written
and read back through ``safetensors_io`` with the fallback forced (what the GPU machine runs)."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from ngsdk.asset.errors import AssetError
from ngsdk.supersampling import safetensors_np as stn

ARRAYS = {
    "colour": np.random.default_rng(0).random((3, 3, 4, 5)).astype(np.float16),
    "depth": np.random.default_rng(1).random((3, 1, 4, 5)).astype(np.float32),
    "flag": np.array([[True], [False], [True]]),
    "seq": np.arange(3, dtype=np.int64).reshape(3, 1) - 1,
    "codes": np.arange(-4, 4, dtype=np.int8),
    "empty": np.zeros((0, 3), np.float32),
}
META = {"Length": "3", "Version": "test"}


def _equal(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert sorted(a) == sorted(b)
    for k in a:
        assert a[k].dtype == b[k].dtype and a[k].shape == b[k].shape and np.array_equal(a[k], b[k]), k


def test_round_trip_and_lazy_slices(tmp_path: Path) -> None:
    path = tmp_path / "x.safetensors"
    path.write_bytes(stn.save(ARRAYS, META))
    assert path.read_bytes() == stn.save(ARRAYS, META)  # deterministic
    with stn.safe_open(path, framework="numpy") as f:
        assert f.metadata() == META and f.keys() == sorted(ARRAYS)
        _equal({k: f.get_tensor(k) for k in f.keys()}, ARRAYS)
        s = f.get_slice("colour")
        assert s.get_shape() == [3, 3, 4, 5]
        assert np.array_equal(s[1:3, :2, 1:3, 2:5], ARRAYS["colour"][1:3, :2, 1:3, 2:5])


def test_agrees_with_the_safetensors_package(tmp_path: Path) -> None:
    st = pytest.importorskip("safetensors")
    from safetensors.numpy import save

    ours, theirs = tmp_path / "ours.safetensors", tmp_path / "theirs.safetensors"
    ours.write_bytes(stn.save(ARRAYS, META))
    theirs.write_bytes(save(ARRAYS, metadata=META))
    with st.safe_open(str(ours), framework="numpy") as f:
        assert f.metadata() == META
        _equal({k: f.get_tensor(k) for k in f.keys()}, ARRAYS)
    with stn.safe_open(theirs) as f:
        assert f.metadata() == META
        _equal({k: f.get_tensor(k) for k in f.keys()}, ARRAYS)
    # same layout: the tensor bytes after the header are identical (only the metadata order may differ)
    a, b = ours.read_bytes(), theirs.read_bytes()
    na, nb = struct.unpack("<Q", a[:8])[0], struct.unpack("<Q", b[:8])[0]
    assert na == nb and a[8 + na:] == b[8 + nb:]


@pytest.mark.parametrize("damage", ["short", "header", "offsets"])
def test_malformed_files_are_refused(tmp_path: Path, damage: str) -> None:
    good = stn.save({"a": np.ones((2, 2), np.float32)})
    n = struct.unpack("<Q", good[:8])[0]
    bad = {"short": good[:5], "header": good[:8] + b"[" + good[9:],
           "offsets": good[:8 + n].replace(b"[0,16]", b"[0,99]") + good[8 + n:]}[damage]
    path = tmp_path / "bad.safetensors"
    path.write_bytes(bad)
    with pytest.raises(stn.SafetensorError, match="bad.safetensors"):
        stn.safe_open(path)


def test_gym_sequence_through_the_fallback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``NGSDK_SAFETENSORS=numpy``: write_sequence / SafetensorsSequence without the package, same frames."""
    from ngsdk.supersampling.frames import FrameSequence
    from ngsdk.supersampling.safetensors_io import SafetensorsSequence, read_sequence, write_sequence

    monkeypatch.setenv("NGSDK_SAFETENSORS", "numpy")
    rng = np.random.default_rng(2)
    n, h, w = 3, 4, 6
    seq = FrameSequence(
        "s", colour=rng.random((n, 3, h, w), np.float32), ground_truth=rng.random((n, 3, 2 * h, 2 * w), np.float32),
        depth=rng.random((n, 1, h, w), np.float32), motion=rng.random((n, 2, 2 * h, 2 * w), np.float32),
        motion_lr=rng.random((n, 2, h, w), np.float32), jitter=rng.random((n, 2), np.float32) - 0.5,
        depth_params=rng.random((n, 4), np.float32), exposure=np.zeros(n, np.float32),
        z_near=np.full(n, 0.1, np.float32), z_far=np.full(n, 100, np.float32), infinite_far=np.zeros(n, bool),
        fov_x=np.full(n, 1.0, np.float32), fov_y=np.full(n, 0.7, np.float32), render_size=(h, w))
    path = write_sequence(tmp_path / "0000.safetensors", seq)
    back = read_sequence(path)
    half = lambda a: a.astype(np.float16).astype(np.float32)  # noqa: E731 - the gym stores images as half
    assert np.array_equal(back.colour, half(seq.colour)) and np.array_equal(back.depth, seq.depth)
    assert np.array_equal(back.jitter, seq.jitter) and back.render_size == (h, w)
    part = SafetensorsSequence(path).read(1, 3, (2, 4, 4, 6))
    assert np.array_equal(part.ground_truth, half(seq.ground_truth)[1:3, :, 2:6, 4:10])
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(AssetError, match="0000.safetensors"):
        SafetensorsSequence(path)

"""npz weights: ngsdk.exporters.npz writes deterministic archives, ngsdk.runtime_ref.npz reads them safely."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ngsdk.asset.errors import AssetError
from ngsdk.exporters.npz import encode_npz, write_npz
from ngsdk.runtime_ref.npz import read_npz


def _weights() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    return {
        "layer0.weight": rng.standard_normal((64, 12)).astype(np.float16),
        "layer0.bias": rng.standard_normal(64).astype(np.float32),
        "layer1.weight_fortran": np.asfortranarray(rng.standard_normal((3, 64))),
        "strided": np.arange(40, dtype=np.int32)[::3],
        "scale": np.array(0.5, dtype=np.float64),
        "empty": np.zeros((0, 3), dtype=np.uint8),
        "mask": np.array([True, False, True]),
        "q": rng.integers(-128, 127, (4, 4), dtype=np.int8),
        "c": np.array([1 + 2j], dtype=np.complex64),
        "names": np.array(["relu", "sigmoid"]),
    }


def _same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(
        a[k].dtype == b[k].dtype and a[k].shape == b[k].shape and a[k].tobytes() == b[k].tobytes() for k in a)


@pytest.mark.parametrize("compress", [False, True])
def test_round_trip_and_numpy_compatibility(compress: bool, tmp_path: Path) -> None:
    arrays = _weights()
    path = tmp_path / "w.npz"
    write_npz(path, arrays, compress=compress)
    back = read_npz(path)
    assert _same(back, arrays)
    with np.load(path, allow_pickle=False) as plain:     # a normal npz archive
        assert sorted(plain.files) == sorted(arrays)
        np.testing.assert_array_equal(plain["layer1.weight_fortran"], arrays["layer1.weight_fortran"])


def test_real_volume_round_trip(shared_data: Path, tmp_path: Path) -> None:
    bunny = np.load(shared_data / "volumes" / "bunny_zyx_64x64x64_float32.npy", allow_pickle=False)
    write_npz(tmp_path / "v.npz", {"density": bunny}, compress=True)
    back = read_npz(tmp_path / "v.npz", {"density": ((64, 64, 64), "float32")}, strict=True)
    assert back["density"].tobytes() == bunny.tobytes()
    assert (tmp_path / "v.npz").stat().st_size < bunny.nbytes   # deflate did something


@pytest.mark.parametrize("compress", [False, True])
def test_identical_input_gives_identical_bytes(compress: bool, tmp_path: Path) -> None:
    a = _weights()
    b = dict(reversed(list(_weights().items())))            # other insertion order
    b["layer1.weight_fortran"] = np.ascontiguousarray(b["layer1.weight_fortran"])   # other memory layout
    write_npz(tmp_path / "a.npz", a, compress=compress)
    write_npz(tmp_path / "b.npz", b, compress=compress)
    data = (tmp_path / "a.npz").read_bytes()
    assert data == (tmp_path / "b.npz").read_bytes() == encode_npz(a, compress=compress)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos] == sorted(f"{k}.npy" for k in a)
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    assert all(i.date_time == (1980, 1, 1, 0, 0, 0) and i.compress_type == method for i in infos)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npz", "b.npz"]      # no temporary files left


def test_refuses_object_arrays_and_bad_keys_without_leaving_a_file(tmp_path: Path) -> None:
    path = tmp_path / "w.npz"
    with pytest.raises(ValueError, match="object dtype"):
        write_npz(path, {"ok": np.zeros(2), "bad": np.array([{"a": 1}], dtype=object)})
    for key in ("", "a/b", "..", "x\\y"):
        with pytest.raises(ValueError, match="key"):
            write_npz(path, {key: np.zeros(1)})
    assert list(tmp_path.iterdir()) == []


def test_expected_keys_dtypes_and_shapes(tmp_path: Path) -> None:
    path = tmp_path / "w.npz"
    write_npz(path, {"w": np.zeros((4, 3), np.float32), "b": np.zeros(4, np.float32)})
    got = read_npz(path, {"w": ((4, 3), "<f4"), "b": (None, "float32")})
    assert set(got) == {"w", "b"}
    cases = [
        ({"w": ((4, 3), "float32"), "bias": ((4,), "float32")}, "missing array 'bias' (found: b, w)"),
        ({"w": ((4, 3), "float16")}, "array 'w' has dtype float32, expected float16"),
        ({"w": ((3, 4), "float32")}, "array 'w' has shape (4, 3), expected (3, 4)"),
    ]
    for expected, problem in cases:
        with pytest.raises(AssetError) as info:
            read_npz(path, expected)
        assert str(info.value) == f"{path}: {problem}"
    with pytest.raises(AssetError, match="unexpected arrays b"):
        read_npz(path, {"w": ((4, 3), "float32")}, strict=True)


def _bad_files(tmp_path: Path, shared_data: Path) -> dict[str, tuple[bytes, str]]:
    good = encode_npz({"w": np.arange(64, dtype=np.float32)})
    crc = bytearray(good)
    crc[good.index(b"\x93NUMPY") + 200] ^= 0xFF            # a texel byte inside the stored member
    np_pickle = io.BytesIO()
    np.savez(np_pickle, obj=np.array([None, {"a": 1}], dtype=object))
    npy = io.BytesIO()
    np.save(npy, np.zeros(3))
    other = io.BytesIO()
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("readme.txt", "hello")
    fake = io.BytesIO()
    with zipfile.ZipFile(fake, "w") as zf:
        zf.writestr("w.npy", "not numpy")
    bad_header = io.BytesIO()
    with zipfile.ZipFile(bad_header, "w") as zf:
        zf.writestr("w.npy", b"\x93NUMPY\x01\x00\x10\x00{'descr': 'zz'}")
    jpg = (shared_data / "textures" / "bark" / "albedo.jpg").read_bytes()
    return {
        "jpg": (jpg, "not an npz archive: no zip signature"),
        "empty": (b"", "not an npz archive: no zip signature"),
        "npy": (npy.getvalue(), "not an npz archive: it holds a single .npy array"),
        "truncated": (good[: len(good) // 2], "not a valid zip archive"),
        "bad crc": (bytes(crc), "member 'w.npy' is corrupt"),
        "pickle": (np_pickle.getvalue(), "array 'obj' holds Python objects"),
        "not npy member": (other.getvalue(), "member 'readme.txt' is not a .npy array"),
        "no npy magic": (fake.getvalue(), "member 'w.npy' is not a .npy array"),
        "bad npy header": (bad_header.getvalue(), "member 'w.npy' is corrupt"),
    }


def test_malformed_files_raise_asset_error_naming_the_file(tmp_path: Path, shared_data: Path) -> None:
    for name, (data, problem) in _bad_files(tmp_path, shared_data).items():
        path = tmp_path / f"{name.replace(' ', '_')}.npz"
        path.write_bytes(data)
        with pytest.raises(AssetError) as info:
            read_npz(path)
        message = str(info.value)
        assert message.startswith(f"{path}: ") and problem in message, (name, message)
        assert "\n" not in message
    with pytest.raises(AssetError, match="file not found"):
        read_npz(tmp_path / "missing.npz")


FUZZ_SEEDS = [encode_npz({"w": np.arange(12, dtype=np.float32).reshape(3, 4), "b": np.ones(3, np.float16)}),
              encode_npz({"w": np.arange(12, dtype=np.float32).reshape(3, 4)}, compress=True)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from([0, 1]), flips=st.lists(st.tuples(st.integers(0, 600), st.integers(0, 255)),
                                                    min_size=1, max_size=4),
       cut=st.one_of(st.none(), st.integers(0, 600)))
def test_fuzzed_archives_only_raise_asset_error(tmp_path_factory: pytest.TempPathFactory, seed: int,
                                                flips: list, cut: int | None) -> None:
    buf = bytearray(FUZZ_SEEDS[seed])
    for offset, value in flips:
        if offset < len(buf):
            buf[offset] = value
    path = tmp_path_factory.getbasetemp() / "fuzz.npz"
    path.write_bytes(bytes(buf if cut is None else buf[:cut]))
    try:
        arrays = read_npz(path)
    except AssetError as err:
        assert str(err).startswith(f"{path}: ")
        return
    assert all(isinstance(v, np.ndarray) and not v.dtype.hasobject for v in arrays.values())

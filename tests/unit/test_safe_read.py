"""The reader discipline of ngsdk.asset.safe_read (docs/security.md): special files, places, sizes, strict
JSON and .npy headers, each refused with one AssetError line naming the file."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest

from ngsdk.asset import limits
from ngsdk.asset.errors import AssetError
from ngsdk.asset.safe_read import check_name, inside, load_npy, loads_strict, read_json, read_regular


def _one_line(e: pytest.ExceptionInfo, path: Path, text: str) -> None:
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(f"{path}: ") and text in msg, msg


def test_read_regular_refuses_special_files_and_sizes(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"12345")
    assert read_regular(tmp_path / "f") == b"12345"
    os.mkfifo(tmp_path / "fifo")
    os.symlink("/dev/zero", tmp_path / "zero")
    (tmp_path / "dir").mkdir()
    for name, text in (("fifo", "FIFO"), ("zero", "device"), ("dir", "folder"), ("none", "not found")):
        with pytest.raises(AssetError) as e:
            read_regular(tmp_path / name)
        _one_line(e, tmp_path / name, text)
    with pytest.raises(AssetError) as e:
        read_regular(tmp_path / "f", limit=4)
    _one_line(e, tmp_path / "f", "over the limit of 4 bytes")


def test_names_and_places(tmp_path: Path) -> None:
    b = tmp_path / "b.ngasset"
    (b / "sub").mkdir(parents=True)
    (b / "a.dds").write_bytes(b"x")
    (tmp_path / "outside").write_bytes(b"x")
    os.symlink(tmp_path / "outside", b / "out.dds")
    os.symlink("a.dds", b / "in.dds")
    for bad in ("../x", "/etc/passwd", "a/../../x", ".hidden", "a\\b", "c:x", "a//b", "x\n"):
        with pytest.raises(AssetError, match="not a plain name"):
            check_name(bad, b / "manifest.json", "files")
    assert inside(b, "a.dds", "files") == b / "a.dds"
    assert inside(b, "in.dds", "files") == b / "in.dds"      # a symlink inside the bundle is fine
    with pytest.raises(AssetError) as e:
        inside(b, "out.dds", "files")
    _one_line(e, b / "out.dds", "outside the bundle")
    with pytest.raises(AssetError, match="is a folder, expected a regular file"):
        inside(b, "sub", "files")
    assert inside(b, "sub", "files", expect="dir") == b / "sub"


@pytest.mark.parametrize(("text", "problem"), [
    ('{"a": 1, "a": 2}', "duplicate JSON key 'a'"),
    ('{"a": NaN}', "NaN is not allowed"),
    ('[Infinity]', "Infinity is not allowed"),
    ('[-Infinity]', "-Infinity is not allowed"),
    ('[1e999]', "overflows a double"),
    (f'[{2 ** 64}]', "beyond 2^53"),
    ("[" * 65 + "]" * 65, "nested 65 deep"),
    ('{"a": [1, 2', "not valid JSON"),
])
def test_strict_json(text: str, problem: str, tmp_path: Path) -> None:
    with pytest.raises(AssetError) as e:
        loads_strict(text, tmp_path / "m.json")
    _one_line(e, tmp_path / "m.json", problem)


def test_strict_json_keeps_what_is_valid(tmp_path: Path) -> None:
    assert loads_strict('{"a": {"a": [1, 2.5, "[{"]}, "b": "]]]"}', tmp_path) == {"a": {"a": [1, 2.5, "[{"]},
                                                                                 "b": "]]]"}
    assert loads_strict("[" * 64 + "]" * 64, tmp_path) is not None
    (tmp_path / "big.json").write_text(" " * 100 + "{}")
    with pytest.raises(AssetError, match="over the limit"):
        read_json(tmp_path / "big.json", limit=50)


def test_load_npy_checks_the_header_before_allocating(tmp_path: Path) -> None:
    np.save(tmp_path / "ok.npy", np.arange(6, dtype=np.float32).reshape(2, 3))
    assert load_npy(tmp_path / "ok.npy").shape == (2, 3)
    head = io.BytesIO()
    np.lib.format.write_array_header_1_0(head, {"descr": "<f4", "fortran_order": False, "shape": (1 << 40,)})
    (tmp_path / "claims.npy").write_bytes(head.getvalue() + b"\0" * 16)
    with pytest.raises(AssetError) as e:
        load_npy(tmp_path / "claims.npy")
    _one_line(e, tmp_path / "claims.npy", f"over the limit of {limits.MAX_ARRAY_BYTES >> 30}.0 GiB")
    np.save(tmp_path / "short.npy", np.zeros(8, np.float32))
    data = (tmp_path / "short.npy").read_bytes()
    (tmp_path / "short.npy").write_bytes(data[:-4])
    with pytest.raises(AssetError, match="claims 32 bytes of data for shape"):
        load_npy(tmp_path / "short.npy")
    np.save(tmp_path / "obj.npy", np.array([{}], dtype=object), allow_pickle=True)
    with pytest.raises(AssetError, match="Python objects"):
        load_npy(tmp_path / "obj.npy")

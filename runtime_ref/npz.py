"""Read npz weight files safely: plain arrays only, never pickles, every problem named."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ngsdk.asset import limits
from ngsdk.asset.errors import AssetError
from ngsdk.asset.safe_read import npy_header, open_regular, zip_member_count

_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")   # a local file header, or the end record of an empty zip
_NPY_MAGIC = b"\x93NUMPY"

Expected = Mapping[str, tuple[tuple[int, ...] | None, str]]


def _describe(err: BaseException) -> str:
    """``Type: message`` on one line (library messages may span lines or be empty)."""
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def _names(keys: object) -> str:
    return ", ".join(sorted(keys)) or "none"   # type: ignore[call-overload]


def read_npz(
    path: str | Path,
    expected: Expected | None = None,
    *,
    strict: bool = False,
) -> dict[str, np.ndarray]:
    """Load every array of the npz archive at ``path`` (``np.load(..., allow_pickle=False)``).

    ``expected`` maps a key to ``(shape, dtype)``; a shape of None accepts any shape. Each expected key
    must be present with that dtype and shape. With ``strict=True`` keys that ``expected`` does not
    name are refused too. Raises :class:`AssetError` naming the file for a missing or unreadable file,
    a file that is not a zip/npz archive, a member that is not a .npy array or is corrupt, object
    (pickled) arrays, and any key, dtype or shape that differs from ``expected``.
    """
    with open_regular(path, what="npz file") as f:
        head = f.read(6)
        if head.startswith(_NPY_MAGIC):
            raise AssetError(path, "not an npz archive: it holds a single .npy array")
        if not head.startswith(_ZIP_MAGICS):
            raise AssetError(path, f"not an npz archive: no zip signature (file starts with {head[:4]!r})")
        count = zip_member_count(f, path)
        if count > limits.MAX_NPZ_MEMBERS:
            raise AssetError(path, f"archive declares {count} members, over the limit of {limits.MAX_NPZ_MEMBERS}")
        try:
            npz = np.load(f, allow_pickle=False)
        except Exception as err:    # zipfile, zlib and numpy raise many types on damaged archives
            raise AssetError(path, f"not a valid zip archive ({_describe(err)})") from None
        with npz:
            infos = npz.zip.infolist()
            members = [i.filename for i in infos]
            if len(members) > limits.MAX_NPZ_MEMBERS:
                raise AssetError(path, f"archive holds {len(members)} members, over the limit of "
                                       f"{limits.MAX_NPZ_MEMBERS}")
            if len(set(members)) != len(members):
                dup = sorted({m for m in members if members.count(m) > 1})
                raise AssetError(path, f"duplicate members {', '.join(dup)}")
            for member in members:
                if not member.endswith(".npy"):
                    raise AssetError(path, f"member {member!r} is not a .npy array")
            if expected is not None and strict:   # refuse what is not asked for before inflating anything
                extra = {m[:-4] for m in members} - set(expected)
                if extra:
                    raise AssetError(path, f"unexpected arrays {_names(extra)} (expected only: {_names(expected)})")
            _check_sizes(npz, infos, path)
            arrays = {member[:-4]: _load_member(npz, member, path) for member in members}
    if expected is not None:
        _check(arrays, expected, strict, path)
    return arrays


def _check_sizes(npz: np.lib.npyio.NpzFile, infos: list, path: str | Path) -> None:
    """Each member's declared size within the limits and equal to what its .npy header claims, before any
    array is allocated (a header claiming gigabytes, or a small archive inflating to gigabytes, stops here)."""
    total = 0
    for info in infos:
        what = f"member {info.filename!r}"
        if info.file_size > limits.MAX_ARRAY_BYTES + 65536:
            raise AssetError(path, f"{what} inflates to {info.file_size} bytes, over the limit of "
                                   f"{limits.MAX_ARRAY_BYTES}")
        total += info.file_size
        if total > limits.MAX_NPZ_BYTES:
            raise AssetError(path, f"members inflate to more than the limit of {limits.MAX_NPZ_BYTES} bytes")
        try:
            with npz.zip.open(info) as m:
                shape, _, nbytes = npy_header(m, path, what, array=f"array {info.filename[:-4]!r}")
                header = m.tell()
        except AssetError:
            raise
        except Exception as err:    # bad local header, truncated deflate stream
            raise AssetError(path, f"{what} is corrupt ({_describe(err)})") from None
        if header + nbytes != info.file_size:
            raise AssetError(path, f"{what}: .npy header claims {nbytes} bytes for shape {shape}, the member "
                                   f"holds {info.file_size - header}")


def _load_member(npz: np.lib.npyio.NpzFile, member: str, path: str | Path) -> np.ndarray:
    key = member[:-4]
    try:
        arr = npz[member]
    except ValueError as err:
        if "allow_pickle" in str(err):
            raise AssetError(path, f"array {key!r} holds Python objects (a pickle); weight files hold "
                                   f"plain arrays only") from None
        raise AssetError(path, f"member {member!r} is corrupt ({_describe(err)})") from None
    except Exception as err:    # bad CRC, truncated deflate stream, bad .npy header, ...
        raise AssetError(path, f"member {member!r} is corrupt ({_describe(err)})") from None
    if not isinstance(arr, np.ndarray):
        raise AssetError(path, f"member {member!r} is not a .npy array (no NUMPY magic)")
    if arr.dtype.hasobject:
        raise AssetError(path, f"array {key!r} has object dtype {arr.dtype}")
    return arr


def _check(arrays: dict[str, np.ndarray], expected: Expected, strict: bool, path: str | Path) -> None:
    for key, (shape, dtype) in expected.items():
        if key not in arrays:
            raise AssetError(path, f"missing array {key!r} (found: {_names(arrays)})")
        arr = arrays[key]
        want = np.dtype(dtype)
        if arr.dtype != want:
            raise AssetError(path, f"array {key!r} has dtype {arr.dtype}, expected {want}")
        if shape is not None and arr.shape != tuple(shape):
            raise AssetError(path, f"array {key!r} has shape {arr.shape}, expected {tuple(shape)}")
    if strict:
        extra = set(arrays) - set(expected)
        if extra:
            raise AssetError(path, f"unexpected arrays {_names(extra)} (expected only: {_names(expected)})")

"""Write npz weight files that are byte-identical for identical arrays.

``np.savez`` stamps the current time into each zip entry, so two exports of the same weights differ.
Here every entry has the fixed DOS date 1980-01-01 00:00:00, fixed permission bits, the keys in sorted
order and the array in C order (a Fortran-ordered input gives the same bytes as its C copy). The
result is a normal npz archive that ``np.load`` reads.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ngsdk.asset.atomic import atomic_write_bytes

_DATE_TIME = (1980, 1, 1, 0, 0, 0)    # the earliest date a zip entry can hold
_UNIX = 3                              # create_system: fixed so the bytes do not depend on the host OS
_MODE = 0o100644 << 16                 # regular file, rw-r--r--
_COMPRESS_LEVEL = 6


def _check_key(key: object) -> str:
    if not isinstance(key, str) or not key:
        raise ValueError(f"npz keys must be non-empty strings, got {key!r}")
    if any(c in key for c in "/\\\0") or key in (".", ".."):
        raise ValueError(f"npz key {key!r} must not contain '/', '\\\\' or NUL")
    return key


def encode_npz(arrays: Mapping[str, np.ndarray], *, compress: bool = False) -> bytes:
    """The bytes of an npz archive holding ``arrays`` (see the module docstring).

    Raises ``ValueError`` for object dtypes (they would need pickles) and for keys that are not plain
    names.
    """
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as zf:
        for key in sorted(_check_key(k) for k in arrays):
            arr = np.asarray(arrays[key])
            if arr.dtype.hasobject:
                raise ValueError(f"array {key!r} has object dtype {arr.dtype}; "
                                 f"npz weights hold plain arrays only")
            if not arr.flags.c_contiguous:
                arr = arr.copy(order="C")
            member = io.BytesIO()
            np.lib.format.write_array(member, arr, allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=_DATE_TIME)
            info.create_system = _UNIX
            info.external_attr = _MODE
            info.compress_type = method
            zf.writestr(info, member.getvalue(), compress_type=method,
                        compresslevel=_COMPRESS_LEVEL if compress else None)
    return buf.getvalue()


def write_npz(path: str | Path, arrays: Mapping[str, np.ndarray], *, compress: bool = False) -> None:
    """Write ``arrays`` to ``path`` as a deterministic npz archive, atomically.

    Entries are ``<key>.npy``, stored uncompressed unless ``compress=True`` (deflate, level 6).
    """
    atomic_write_bytes(path, encode_npz(arrays, compress=compress))

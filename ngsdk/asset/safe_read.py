"""The one reader discipline for bundles and input files (docs/security.md).

- Only regular files are read: a FIFO, a device, a socket or a folder where a file is expected is refused
  before any byte is read (files are opened non-blocking and checked with ``fstat``, so a FIFO swapped in
  after a check cannot hang the reader either).
- Only files inside the bundle: names in a manifest are plain relative names, and the real path (symlinks
  resolved) must lie inside the bundle's real path.
- Sizes are checked against :mod:`ngsdk.asset.limits` before reading or hashing; npz member counts and the
  sizes a .npy header declares are checked before anything is allocated.
- JSON is strict: duplicate keys, NaN/Infinity, integers beyond 2^53 and deep nesting are refused.

Every refusal is an :class:`AssetError` naming the file and the problem on one line.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ngsdk.asset import limits
from ngsdk.asset.errors import AssetError


def _size_text(n: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            return f"{n / (1 << shift):.1f} {unit}"
    return f"{n} bytes"


def _kind_of(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


# --------------------------------------------------------------------------- names and places


def check_name(name: Any, where: str | Path, field: str) -> str:
    """``name`` as a bundle file name: a non-empty ``/``-separated relative path of plain parts (no ``..``,
    ``.``, hidden or empty parts, no absolute path, backslash, colon or control character). Raises
    AssetError(where, "<field> ...") otherwise; returns the name."""
    if not isinstance(name, str) or not name:
        raise AssetError(where, f"{field}: file name {name!r} is not a non-empty string")
    bad = ("\\" in name or ":" in name or name.startswith("/") or any(ord(c) < 32 or c == "\x7f" for c in name)
           or any(not part or part.startswith(".") for part in name.split("/")))
    if bad:
        raise AssetError(where, f"{field}: file name {name!r} is not a plain name inside the bundle "
                                "(a relative path of plain parts)")
    return name


def inside(root: str | Path, name: str, field: str, *, expect: str = "file", must_exist: bool = True) -> Path:
    """The path of bundle file ``name`` under ``root``, checked: a plain name (:func:`check_name`) whose real
    path (symlinks resolved) lies inside ``root``'s real path, and (``expect``) a regular ``"file"``, a
    ``"dir"`` or ``"any"`` of the two. Raises AssetError naming the file otherwise."""
    root = Path(root)
    check_name(name, root / "manifest.json", field)
    path = root / name
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    if os.path.commonpath([real_root, real]) != real_root:
        raise AssetError(path, f"{field}: resolves to {real}, outside the bundle (a symlink out is not read)")
    try:
        st = os.stat(real)
    except FileNotFoundError:
        if must_exist:
            raise AssetError(path, "missing (listed in manifest.json)") from None
        return path
    except OSError as err:
        raise AssetError(path, f"{field}: cannot stat ({err.strerror or err})") from None
    ok = {"file": stat.S_ISREG(st.st_mode), "dir": stat.S_ISDIR(st.st_mode),
          "any": stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)}[expect]
    if not ok:
        want = {"file": "a regular file", "dir": "a folder", "any": "a regular file or a folder"}[expect]
        raise AssetError(path, f"{field}: is {_kind_of(st.st_mode)}, expected {want}")
    return path


# --------------------------------------------------------------------------- opening and reading


@contextlib.contextmanager
def open_regular(path: str | Path, *, limit: int = limits.MAX_FILE_BYTES, what: str = "file") -> Iterator[BinaryIO]:
    """Open ``path`` for reading if it is a regular file of at most ``limit`` bytes (AssetError otherwise).

    The open is non-blocking, so a FIFO never blocks it; the type is checked on the opened descriptor."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise AssetError(path, f"{what} not found") from None
    except IsADirectoryError:
        raise AssetError(path, f"{what} is a folder, expected a regular file") from None
    except OSError as err:
        raise AssetError(path, f"cannot open {what}: {err.strerror or err}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise AssetError(path, f"{what} is {_kind_of(st.st_mode)}, expected a regular file")
        if st.st_size > limit:
            raise AssetError(path, f"{what} is {_size_text(st.st_size)}, over the limit of {_size_text(limit)}")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        f = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with f:
        yield f


def read_regular(path: str | Path, *, limit: int = limits.MAX_FILE_BYTES, what: str = "file") -> bytes:
    """The bytes of the regular file ``path`` (at most ``limit``; the file may not grow past it while read)."""
    with open_regular(path, limit=limit, what=what) as f:
        try:
            data = f.read(limit + 1)
        except OSError as err:
            raise AssetError(path, f"cannot read {what}: {err.strerror or err}") from None
    if len(data) > limit:
        raise AssetError(path, f"{what} grew past the limit of {_size_text(limit)} while it was read")
    return data


# --------------------------------------------------------------------------- strict JSON

_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


def _depth(text: str) -> int:
    """Deepest nesting of ``[`` / ``{`` outside strings."""
    raw = _STRINGS.sub(b"", text.encode("utf-8", "surrogatepass"))
    b = np.frombuffer(raw, dtype=np.uint8)
    steps = (np.isin(b, (0x5B, 0x7B)).astype(np.int64) - np.isin(b, (0x5D, 0x7D)).astype(np.int64))
    return int(np.cumsum(steps).max(initial=0))


def loads_strict(text: str, path: str | Path, *, max_depth: int = limits.MAX_JSON_DEPTH) -> Any:
    """Parse JSON ``text`` strictly: refuse duplicate keys, NaN/Infinity, integers beyond 2^53 and nesting
    deeper than ``max_depth`` (AssetError naming ``path`` and the problem)."""
    depth = _depth(text)
    if depth > max_depth:
        raise AssetError(path, f"JSON nested {depth} deep, over the limit of {max_depth}")

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in items:
            if k in out:
                raise AssetError(path, f"duplicate JSON key {k!r} (readers would disagree on its value)")
            out[k] = v
        return out

    def constant(name: str) -> Any:
        raise AssetError(path, f"JSON literal {name} is not allowed (numbers must be finite)")

    def integer(s: str) -> int:
        v = int(s)
        if abs(v) > limits.MAX_JSON_INT:
            raise AssetError(path, f"JSON integer {s[:24]}{'...' if len(s) > 24 else ''} is beyond 2^53")
        return v

    def number(s: str) -> float:
        v = float(s)
        if not np.isfinite(v):
            raise AssetError(path, f"JSON number {s[:24]} overflows a double")
        return v

    try:
        return json.loads(text, object_pairs_hook=pairs, parse_constant=constant, parse_int=integer,
                          parse_float=number)
    except json.JSONDecodeError as e:
        raise AssetError(path, f"not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    except RecursionError:
        raise AssetError(path, "JSON nested too deep") from None


def read_json(path: str | Path, *, limit: int = limits.MAX_MANIFEST_BYTES, what: str = "JSON file") -> Any:
    """Read and strictly parse (:func:`loads_strict`) the regular UTF-8 JSON file ``path``."""
    data = read_regular(path, limit=limit, what=what)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise AssetError(path, f"not UTF-8 text ({e.reason} at byte {e.start})") from None
    return loads_strict(text, path)


# --------------------------------------------------------------------------- .npy headers and zip archives


def npy_header(f: BinaryIO, path: str | Path, what: str, *,
               array: str | None = None) -> tuple[tuple[int, ...], np.dtype, int]:
    """Read a .npy header from ``f``: (shape, dtype, data bytes), refusing object dtypes (named ``array``),
    more than :data:`~ngsdk.asset.limits.MAX_ARRAY_DIMS` dimensions and negative extents."""
    fmt = np.lib.format
    try:
        if f.read(6) != b"\x93NUMPY":
            raise AssetError(path, f"{what} is not a .npy array (no NUMPY magic)")
        f.seek(f.tell() - 6)
        version = fmt.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = fmt.read_array_header_1_0(f, max_header_size=10000)
        elif version in ((2, 0), (3, 0)):
            shape, _, dtype = fmt.read_array_header_2_0(f, max_header_size=10000)
        else:
            raise ValueError(f"unsupported .npy version {version}")
    except AssetError:
        raise
    except Exception as err:  # numpy raises ValueError, EOFError, SyntaxError... on damaged headers
        text = " ".join(str(err).split())[:160]
        raise AssetError(path, f"{what} is corrupt (bad .npy header: {type(err).__name__}: {text})") from None
    if dtype.hasobject:
        raise AssetError(path, f"{array or what} holds Python objects (a pickle, dtype {dtype}); only plain "
                               f"arrays are read")
    if len(shape) > limits.MAX_ARRAY_DIMS or any(not isinstance(n, int) or n < 0 for n in shape):
        raise AssetError(path, f"{what}: unusable shape {shape}")
    count = 1
    for n in shape:
        count *= n
    return tuple(shape), dtype, count * dtype.itemsize


def load_npy(path: str | Path, *, limit: int = limits.MAX_ARRAY_BYTES, what: str = ".npy file") -> np.ndarray:
    """Load the .npy array at ``path`` (a regular file) after checking that its header's size is at most
    ``limit`` and matches the file's length; never unpickles."""
    with open_regular(path, limit=limit + 65536, what=what) as f:
        size = os.fstat(f.fileno()).st_size
        shape, dtype, nbytes = npy_header(f, path, what)
        if nbytes > limit:
            raise AssetError(path, f"{what}: header claims {_size_text(nbytes)} of data, over the limit of "
                                   f"{_size_text(limit)}")
        if size - f.tell() != nbytes:
            raise AssetError(path, f"{what}: header claims {nbytes} bytes of data for shape {shape}, the file "
                                   f"holds {size - f.tell()}")
        f.seek(0)
        try:
            return np.load(f, allow_pickle=False)
        except Exception as err:
            text = " ".join(str(err).split())[:160]
            raise AssetError(path, f"{what}: unreadable ({type(err).__name__}: {text})") from None


_EOCD = struct.Struct("<4s4H2IH")


def zip_member_count(f: BinaryIO, path: str | Path) -> int:
    """Members a zip archive declares in its end-of-central-directory record (without reading the
    directory); zip64 archives count as 65535 or more."""
    size = os.fstat(f.fileno()).st_size
    tail_len = min(size, _EOCD.size + 65535)
    f.seek(size - tail_len)
    tail = f.read(tail_len)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + _EOCD.size > len(tail):
        raise AssetError(path, "not a valid zip archive (no end of central directory record)")
    _, _, _, _, total, _, _, _ = _EOCD.unpack_from(tail, at)
    f.seek(0)
    return total

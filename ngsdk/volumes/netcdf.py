"""Reader for NetCDF classic files (CDF-1, CDF-2 "64-bit offset", CDF-5), NumPy only.

The classic format is a big-endian header (dimensions, global attributes, variables with their
attributes, types and file offsets) followed by the data: every fixed-size variable is one contiguous
block, and record variables (those whose first dimension is the unlimited one) are interleaved one
record at a time. NetCDF-4 files are HDF5 containers and are refused with a clear error.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ngsdk.asset.errors import AssetError

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_TAG_DIMENSION, _TAG_VARIABLE, _TAG_ATTRIBUTE = 0x0A, 0x0B, 0x0C
_STREAMING = {4: 0xFFFFFFFF, 8: 0xFFFFFFFFFFFFFFFF}

NC_TYPES: dict[int, tuple[str, str]] = {
    1: ("byte", ">i1"),
    2: ("char", "S1"),
    3: ("short", ">i2"),
    4: ("int", ">i4"),
    5: ("float", ">f4"),
    6: ("double", ">f8"),
    7: ("ubyte", ">u1"),  # types 7..11 exist only in CDF-5
    8: ("ushort", ">u2"),
    9: ("uint", ">u4"),
    10: ("int64", ">i8"),
    11: ("uint64", ">u8"),
}
"""NetCDF external type code -> (name, big-endian NumPy dtype)."""

DEFAULT_FILL: dict[int, float | int] = {
    3: -32767,
    4: -2147483647,
    5: float(np.float32(9.9692099683868690e36)),
    6: 9.9692099683868690e36,
    8: 65535,
    9: 4294967295,
    10: -9223372036854775806,
    11: 18446744073709551614,
}
"""The library's default fill values. Bytes have none for reading: every byte value is plausible data."""


@dataclass(frozen=True)
class NcVariable:
    """One variable of a classic NetCDF file (its header entry; data is read on demand)."""

    name: str
    dims: tuple[str, ...]
    shape: tuple[int, ...]  # the record dimension counts the file's records
    nc_type: int
    attrs: dict[str, Any]
    begin: int  # file offset of the data (of record 0 for record variables)
    is_record: bool

    @property
    def dtype(self) -> np.dtype:
        """The stored (big-endian) NumPy dtype."""
        return np.dtype(NC_TYPES[self.nc_type][1])

    @property
    def type_name(self) -> str:
        return NC_TYPES[self.nc_type][0]

    def describe(self) -> str:
        """``name(dim, dim)`` for error messages and notes."""
        return f"{self.name}({', '.join(self.dims)})"


@dataclass(frozen=True)
class NcFile:
    """The parsed header of a classic NetCDF file."""

    path: Path
    version: int  # 1 (classic), 2 (64-bit offset) or 5 (64-bit data)
    dims: dict[str, int]  # the record dimension maps to the number of records
    record_dim: str | None
    numrecs: int
    record_size: int  # bytes from one record of all record variables to the next
    attrs: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, NcVariable] = field(default_factory=dict)

    def is_coordinate(self, name: str) -> bool:
        """A coordinate variable is 1D and named like its dimension (lat(lat), time(time))."""
        var = self.variables[name]
        return var.dims == (name,)


class _Header:
    """Sequential big-endian reads from the start of the file, with truncation checks."""

    def __init__(self, path: Path, f: BinaryIO, size: int):
        self.path, self.f, self.size = path, f, size
        self.version = 1

    def take(self, n: int, what: str) -> bytes:
        pos = self.f.tell()
        if n < 0 or pos + n > self.size:
            raise AssetError(self.path, f"truncated NetCDF header: {what} needs {n} bytes at offset {pos}, "
                             f"the file has {self.size}")
        return self.f.read(n)

    def uint(self, nbytes: int, what: str) -> int:
        return int.from_bytes(self.take(nbytes, what), "big")

    def count(self, what: str) -> int:
        """NON_NEG: 4 bytes, 8 in CDF-5."""
        return self.uint(8 if self.version == 5 else 4, what)

    def name(self, what: str) -> str:
        n = self.count(what)
        raw = self.take(n + (-n) % 4, what)[:n]
        return raw.decode("utf-8", errors="replace")

    def attr_list(self, what: str) -> dict[str, Any]:
        tag, n = self.uint(4, what), self.count(what)
        if tag == 0 and n == 0:
            return {}
        if tag != _TAG_ATTRIBUTE:
            raise AssetError(self.path, f"malformed NetCDF header: {what} has tag {tag:#x}")
        self.check_items(n, what)
        attrs: dict[str, Any] = {}
        for _ in range(n):
            name = self.name(f"{what} name")
            nc_type = self.nc_type(f"{what} '{name}'")
            nelems = self.count(f"{what} '{name}' length")
            dtype = np.dtype(NC_TYPES[nc_type][1])
            nbytes = nelems * dtype.itemsize
            raw = self.take(nbytes + (-nbytes) % 4, f"{what} '{name}' values")[:nbytes]
            if nc_type == 2:
                attrs[name] = raw.rstrip(b"\0").decode("utf-8", errors="replace")
            else:
                attrs[name] = np.frombuffer(raw, dtype).astype(dtype.newbyteorder("="))
        return attrs

    def check_items(self, n: int, what: str) -> None:
        """Refuse a count that cannot fit the rest of the file (each item takes at least 4 bytes)."""
        if 4 * n > self.size - self.f.tell():
            raise AssetError(self.path, f"truncated NetCDF header: {what} claims {n} entries")

    def nc_type(self, what: str) -> int:
        code = self.uint(4, what)
        if code not in NC_TYPES or (code > 6 and self.version != 5):
            raise AssetError(self.path, f"malformed NetCDF header: {what} has unknown type code {code}")
        return code


def read_header(path: str | Path) -> NcFile:
    """Parse the header of a classic NetCDF file; raise AssetError for anything else."""
    path = Path(path)
    try:
        size = os.path.getsize(path)
        f = open(path, "rb")
    except OSError as exc:
        raise AssetError(path, f"cannot read the file: {exc.strerror or exc}") from None
    with f:
        magic = f.read(8)
        if magic.startswith(_HDF5_MAGIC[:4]):
            raise AssetError(path, "NetCDF-4 (HDF5) files are not supported; convert this one to the "
                             "classic format: `nccopy -k classic in.nc out.nc` (-k cdf5 for big data)")
        if len(magic) < 4 or magic[:3] != b"CDF" or magic[3] not in (1, 2, 5):
            raise AssetError(path, f"not a NetCDF classic file (starts with {magic[:4]!r}, expected b'CDF' "
                             "and version 1, 2 or 5)")
        f.seek(4)
        h = _Header(path, f, size)
        h.version = magic[3]
        numrecs = h.count("number of records")

        dims: list[tuple[str, int]] = []
        tag, n = h.uint(4, "dimension list"), h.count("dimension list")
        if not (tag == 0 and n == 0):
            if tag != _TAG_DIMENSION:
                raise AssetError(path, f"malformed NetCDF header: dimension list has tag {tag:#x}")
            h.check_items(n, "dimension list")
            for _ in range(n):
                name = h.name("dimension name")
                dims.append((name, h.count(f"dimension '{name}' length")))
        record_dims = [i for i, (_, length) in enumerate(dims) if length == 0]
        if len(record_dims) > 1:
            raise AssetError(path, "malformed NetCDF header: more than one unlimited dimension")
        record_id = record_dims[0] if record_dims else None

        attrs = h.attr_list("global attributes")

        raw_vars = []
        tag, n = h.uint(4, "variable list"), h.count("variable list")
        if not (tag == 0 and n == 0):
            if tag != _TAG_VARIABLE:
                raise AssetError(path, f"malformed NetCDF header: variable list has tag {tag:#x}")
            h.check_items(n, "variable list")
            for _ in range(n):
                name = h.name("variable name")
                ndims = h.count(f"variable '{name}' rank")
                h.check_items(ndims, f"variable '{name}' rank")
                dimids = [h.count(f"variable '{name}' dimension ids") for _ in range(ndims)]
                if any(d >= len(dims) for d in dimids):
                    raise AssetError(path, f"malformed NetCDF header: '{name}' names an unknown dimension")
                if record_id is not None and record_id in dimids[1:]:
                    raise AssetError(path, f"malformed NetCDF header: variable '{name}' uses the unlimited "
                                     "dimension other than first")
                vattrs = h.attr_list(f"attributes of '{name}'")
                nc_type = h.nc_type(f"variable '{name}'")
                h.count(f"variable '{name}' size")  # vsize is recomputed: it saturates for huge variables
                begin = h.uint(4 if h.version == 1 else 8, f"variable '{name}' offset")
                raw_vars.append((name, dimids, vattrs, nc_type, begin))

    # One record holds every record variable's slab, each padded to 4 bytes, unless there is only one.
    rec_slabs = [math.prod(dims[d][1] for d in ids[1:]) * np.dtype(NC_TYPES[t][1]).itemsize
                 for _, ids, _, t, _ in raw_vars if ids and ids[0] == record_id]
    record_size = rec_slabs[0] if len(rec_slabs) == 1 else sum(s + (-s) % 4 for s in rec_slabs)
    if numrecs == _STREAMING[8 if h.version == 5 else 4]:  # "streaming": count what was written
        first = min((b for _, ids, _, _, b in raw_vars if ids and ids[0] == record_id), default=size)
        numrecs = (size - first) // record_size if record_size else 0

    dim_sizes = {name: (numrecs if i == record_id else length) for i, (name, length) in enumerate(dims)}
    variables = {}
    for name, dimids, vattrs, nc_type, begin in raw_vars:
        is_record = bool(dimids) and dimids[0] == record_id
        shape = tuple(numrecs if d == record_id else dims[d][1] for d in dimids)
        variables[name] = NcVariable(name, tuple(dims[d][0] for d in dimids), shape, nc_type, vattrs, begin,
                                     is_record)
    return NcFile(path, h.version, dim_sizes, None if record_id is None else dims[record_id][0], numrecs,
                  record_size, attrs, variables)


def read_variable(nc: NcFile, name: str, index: int | None = None) -> np.ndarray:
    """The stored values of variable ``name`` in native byte order (no fill or scale handling).

    ``index`` selects one position along the first axis (one record of a record variable) and
    drops that axis; ``None`` reads everything.
    """
    var = nc.variables[name]
    if var.nc_type == 2:
        raise AssetError(nc.path, f"variable '{name}' holds characters, not numbers")
    if not var.shape:
        firsts, inner = [None], ()
    else:
        n0 = var.shape[0]
        if index is not None and not 0 <= index < n0:
            raise AssetError(nc.path, f"index {index} is out of range for '{var.describe()}' ({n0} along "
                             f"'{var.dims[0]}')")
        firsts, inner = (range(n0) if index is None else [index]), var.shape[1:]
    slab = math.prod(inner) * var.dtype.itemsize
    stride = nc.record_size if var.is_record else slab
    size = os.path.getsize(nc.path)
    out = bytearray()  # the slabs, in order
    with open(nc.path, "rb") as f:
        for i in firsts:
            start = var.begin + (i or 0) * stride
            if start + slab > size:
                where = "" if i is None else f" at {var.dims[0]} {i}"
                raise AssetError(nc.path, f"truncated NetCDF file: '{name}'{where} needs bytes "
                                 f"{start}..{start + slab}, the file has {size}")
            f.seek(start)
            out += f.read(slab)
    shape = inner if index is not None or not var.shape else (len(firsts), *inner)
    return np.frombuffer(out, var.dtype).reshape(shape).astype(var.dtype.newbyteorder("="))


def _representable(value: Any, dtype: np.dtype) -> bool:
    """Whether ``value`` fits ``dtype`` (a fill of another type must not wrap around into valid data)."""
    if dtype.kind == "f":
        return True
    value = float(value)
    info = np.iinfo(dtype)
    return value.is_integer() and info.min <= value <= info.max


def unpack(var: NcVariable, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Apply the CF packing attributes: returns (float64 values, missing mask, notes).

    Missing are values equal to ``_FillValue`` or any ``missing_value`` (compared on the stored
    values, as CF says), or the library default fill when no ``_FillValue`` is set; then
    ``value = stored * scale_factor + add_offset``. Non-finite results count as missing too.
    """
    notes = []
    missing = np.zeros(raw.shape, dtype=bool)
    fills = []
    if "_FillValue" in var.attrs:
        fills += list(np.ravel(var.attrs["_FillValue"]))
    elif var.nc_type in DEFAULT_FILL:
        fills.append(DEFAULT_FILL[var.nc_type])
    if "missing_value" in var.attrs:
        fills += list(np.ravel(var.attrs["missing_value"]))
    for fill in fills:
        if _representable(fill, raw.dtype):
            # Compare in the stored type, so a float64 missing_value matches float32 data.
            missing |= raw == np.asarray(fill).astype(raw.dtype)
    values = raw.astype(np.float64)
    scale, offset = var.attrs.get("scale_factor"), var.attrs.get("add_offset")
    if scale is not None:
        values *= float(np.ravel(scale)[0])
        notes.append(f"scale_factor {float(np.ravel(scale)[0]):g} applied")
    if offset is not None:
        values += float(np.ravel(offset)[0])
        notes.append(f"add_offset {float(np.ravel(offset)[0]):g} applied")
    missing |= ~np.isfinite(values)
    return values, missing, notes

"""Reader for VTK XML ImageData (``.vti``) point data, NumPy and the standard library only.

Supported encodings: ``ascii``, inline ``binary`` (base64) and ``appended`` data (``raw`` bytes or
``base64``), with ``header_type`` UInt32 or UInt64, either ``byte_order`` and optional
``vtkZLibDataCompressor`` blocks. Binary arrays start with a header: the byte count (uncompressed) or
``[blocks, block size, last block size, compressed sizes...]`` (compressed). VTK base64-encodes the
header and the data as separate streams, so inline text may hold several padded base64 runs.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import xml.etree.ElementTree as ET
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ngsdk.asset.errors import AssetError
from ngsdk.asset.limits import MAX_INPUT_BYTES
from ngsdk.asset.safe_read import read_regular

VTK_TYPES = {
    "Int8": "i1", "UInt8": "u1", "Int16": "i2", "UInt16": "u2", "Int32": "i4", "UInt32": "u4",
    "Int64": "i8", "UInt64": "u8", "Float32": "f4", "Float64": "f8",
}
"""VTK DataArray type -> NumPy dtype code (the byte order comes from the file)."""
_ZLIB = "vtkZLibDataCompressor"


@dataclass
class VtiVolume:
    """One scalar point-data array of an ImageData file."""

    values: np.ndarray  # (z, y, x), native byte order, the array's own dtype
    spacing: tuple[float, float, float]  # x, y, z
    array_name: str
    notes: list[str] = field(default_factory=list)


def _b64decode(text: str) -> bytes:
    """Decode base64 that may be several padded runs one after another (VTK's header + data)."""
    s = "".join(text.split())
    return b"".join(base64.b64decode(run, validate=True) for run in re.split(r"(?<==)(?=[^=])", s) if run)


def _floats(path: Path, text: str | None, n: int, what: str) -> list[float]:
    try:
        values = [float(v) for v in (text or "").split()]
    except ValueError:
        values = []
    if len(values) != n:
        raise AssetError(path, f"ImageData {what} is {text!r}, expected {n} numbers")
    return values


class _Binary:
    """Reads header-prefixed (optionally compressed) binary blocks out of a byte buffer."""

    def __init__(self, path: Path, order: str, header: str, compressed: bool):
        self.path, self.order, self.compressed = path, order, compressed
        self.header = np.dtype(order + ("u4" if header == "UInt32" else "u8"))

    def _ints(self, buf: bytes, pos: int, n: int, name: str) -> list[int]:
        end = pos + n * self.header.itemsize
        if end > len(buf):
            raise AssetError(self.path, f"truncated data for array '{name}': its header needs bytes "
                             f"{pos}..{end}, {len(buf)} are there")
        return [int(v) for v in np.frombuffer(buf[pos:end], self.header)]

    def read(self, buf: bytes, pos: int, name: str) -> bytes:
        """The decoded bytes of the array that starts at ``pos``."""
        if not self.compressed:
            (nbytes,) = self._ints(buf, pos, 1, name)
            start = pos + self.header.itemsize
            if start + nbytes > len(buf):
                raise AssetError(self.path, f"truncated data for array '{name}': {nbytes} bytes announced, "
                                 f"{len(buf) - start} are there")
            return buf[start:start + nbytes]
        nblocks, block, last = self._ints(buf, pos, 3, name)
        if nblocks * block > MAX_INPUT_BYTES or nblocks > len(buf):
            raise AssetError(self.path, f"array '{name}': header claims {nblocks} blocks of {block} bytes, over "
                             f"the limit of {MAX_INPUT_BYTES} bytes")
        sizes = self._ints(buf, pos + 3 * self.header.itemsize, nblocks, name)
        start = pos + (3 + nblocks) * self.header.itemsize
        if start + sum(sizes) > len(buf):
            raise AssetError(self.path, f"truncated data for array '{name}': {sum(sizes)} compressed bytes "
                             f"announced, {len(buf) - start} are there")
        out = []
        for i, size in enumerate(sizes):
            want = last if (i == nblocks - 1 and last) else block
            try:
                inflate = zlib.decompressobj()   # at most one byte more than announced: no zlib bomb
                chunk = inflate.decompress(buf[start:start + size], want + 1)
            except zlib.error as exc:
                raise AssetError(self.path, f"array '{name}' block {i}: corrupt zlib data ({exc})") from None
            if len(chunk) != want:
                got = f"more than {want}" if len(chunk) > want else str(len(chunk))
                raise AssetError(self.path, f"array '{name}' block {i} inflates to {got} bytes, "
                                 f"the header says {want}")
            out.append(chunk)
            start += size
        return b"".join(out)


@dataclass
class _Appended:
    """The bytes after ``_`` in <AppendedData>, its encoding and every array offset into it."""

    encoding: str
    data: bytes
    offsets: list[int]


def _split_appended(path: Path, raw: bytes) -> tuple[bytes, bytes]:
    """Separate the XML from the appended block, which may be raw binary (not valid XML)."""
    tag = raw.find(b"<AppendedData")
    if tag < 0:
        return raw, b""
    close = raw.find(b">", tag)
    mark = raw.find(b"_", close)
    end = raw.rfind(b"</AppendedData>")
    if close < 0 or mark < 0 or end < mark:
        raise AssetError(path, "malformed or truncated AppendedData section (expected '_' then the data, "
                         "then </AppendedData>)")
    return raw[:close + 1] + raw[end:], raw[mark + 1:end]


def read_vti(path: str | Path, array: str | None = None) -> VtiVolume:
    """Read one single-component PointData array of a ``.vti`` file as a (z, y, x) array.

    ``array`` names it; by default the active Scalars array, or the only one.
    """
    path = Path(path)
    raw = read_regular(path, limit=MAX_INPUT_BYTES, what=".vti file")
    xml, appended_bytes = _split_appended(path, raw)
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise AssetError(path, f"not a readable VTK XML file ({exc})") from None
    if root.tag != "VTKFile" or root.get("type") != "ImageData":
        kind = root.get("type") if root.tag == "VTKFile" else f"<{root.tag}>"
        raise AssetError(path, f"not a VTK ImageData file (found {kind}); only .vti ImageData is supported")
    image = root.find("ImageData")
    if image is None:
        raise AssetError(path, "VTKFile has no <ImageData> element")

    order = {"LittleEndian": "<", "BigEndian": ">"}.get(root.get("byte_order", "LittleEndian"))
    header = root.get("header_type", "UInt32")
    compressor = root.get("compressor")
    if order is None:
        raise AssetError(path, f"unknown byte_order {root.get('byte_order')!r}")
    if header not in ("UInt32", "UInt64"):
        raise AssetError(path, f"unknown header_type {header!r} (UInt32 or UInt64)")
    if compressor not in (None, "", _ZLIB):
        raise AssetError(path, f"compressor {compressor} is not supported (only {_ZLIB}); re-save the file "
                         "uncompressed or with zlib")
    binary = _Binary(path, order, header, bool(compressor))
    section = root.find("AppendedData")
    offsets = sorted({int(d.get("offset")) for d in root.iter("DataArray")
                      if d.get("format") == "appended" and (d.get("offset") or "").isdigit()})
    encoding = "none" if section is None else section.get("encoding", "raw")
    appended = _Appended(encoding, appended_bytes, offsets)

    extent = [int(v) for v in _floats(path, image.get("WholeExtent"), 6, "WholeExtent")]
    spacing = tuple(_floats(path, image.get("Spacing", "1 1 1"), 3, "Spacing"))
    if not all(math.isfinite(s) and s > 0 for s in spacing):
        raise AssetError(path, f"ImageData Spacing {spacing} must be positive")
    dims = [extent[2 * a + 1] - extent[2 * a] + 1 for a in range(3)]  # x, y, z
    if min(dims) < 1:
        raise AssetError(path, f"empty WholeExtent {extent}")
    pieces = image.findall("Piece")
    if not pieces:
        raise AssetError(path, "ImageData has no <Piece>")

    name = _pick_array(path, pieces[0], array)
    notes = []
    direction = _floats(path, image.get("Direction", "1 0 0 0 1 0 0 0 1"), 9, "Direction")
    if direction != [1, 0, 0, 0, 1, 0, 0, 0, 1]:
        notes.append(f"ImageData Direction {direction} ignored: values are kept in index order")
    volume = None
    for piece in pieces:
        pext = [int(v) for v in _floats(path, piece.get("Extent"), 6, "Piece Extent")]
        pdims = [pext[2 * a + 1] - pext[2 * a] + 1 for a in range(3)]
        lo = [pext[2 * a] - extent[2 * a] for a in range(3)]
        if min(pdims) < 1 or min(lo) < 0 or any(lo[a] + pdims[a] > dims[a] for a in range(3)):
            raise AssetError(path, f"Piece Extent {pext} does not fit WholeExtent {extent}")
        node = next((d for d in piece.iterfind("PointData/DataArray") if d.get("Name") == name), None)
        if node is None:
            raise AssetError(path, f"a Piece with Extent {pext} lacks the PointData array '{name}'")
        data = _read_array(path, node, binary, appended, math.prod(pdims))
        if volume is None:
            volume = np.zeros(dims[::-1], data.dtype)
        # x varies fastest in VTK point order, so the flat array is (z, y, x).
        volume[lo[2]:lo[2] + pdims[2], lo[1]:lo[1] + pdims[1], lo[0]:lo[0] + pdims[0]] = \
            data.reshape(pdims[::-1])
    fmt = node.get("format", "ascii")
    how = f"appended {encoding}" if fmt == "appended" else fmt
    how += ", zlib" if compressor and fmt != "ascii" else ""
    notes.insert(0, f"VTK ImageData array '{name}' ({node.get('type')}, {how}), spacing {spacing}")
    return VtiVolume(volume, spacing, name, notes)


def _pick_array(path: Path, piece: ET.Element, array: str | None) -> str:
    """The PointData array to read: the named one, else the active Scalars, else the only one."""
    point_data = piece.find("PointData")
    nodes = [] if point_data is None else point_data.findall("DataArray")
    names = [d.get("Name", "") for d in nodes]
    listing = ", ".join(f"'{n}'" for n in names) or "none"
    if array is None:
        active = point_data.get("Scalars") if point_data is not None else None
        if active in names:
            array = active
        elif len(names) == 1:
            array = names[0]
        else:
            cells = piece.find("CellData")
            extra = " (CellData arrays are not supported)" if cells is not None and len(cells) else ""
            raise AssetError(path, f"choose a PointData array: the file has {listing}{extra}")
    if array not in names:
        raise AssetError(path, f"no PointData array '{array}'; the file has {listing}")
    node = nodes[names.index(array)]
    comps = node.get("NumberOfComponents", "1")
    if comps != "1":
        scalars = [n for n, d in zip(names, nodes) if d.get("NumberOfComponents", "1") == "1"]
        raise AssetError(path, f"PointData array '{array}' has {comps} components; only single-component "
                         f"arrays are supported (single-component: {', '.join(scalars) or 'none'})")
    return array


def _read_array(path: Path, node: ET.Element, binary: _Binary, appended: _Appended, count: int) -> np.ndarray:
    """Decode one DataArray element into a flat native-order array of ``count`` values."""
    name, vtk_type, fmt = node.get("Name", ""), node.get("type", ""), node.get("format", "ascii")
    if vtk_type not in VTK_TYPES:
        raise AssetError(path, f"array '{name}' has type {vtk_type!r}; supported: {', '.join(VTK_TYPES)}")
    dtype = np.dtype(binary.order + VTK_TYPES[vtk_type])
    if fmt == "ascii":
        try:
            data = np.array((node.text or "").split(), dtype=dtype.newbyteorder("="))
        except ValueError as exc:
            raise AssetError(path, f"array '{name}': bad ascii value ({exc})") from None
    else:
        try:
            if fmt == "binary":
                buf, pos = _b64decode(node.text or ""), 0
            elif fmt == "appended":
                buf, pos = _appended(path, node, appended)
            else:
                raise AssetError(path, f"array '{name}' has unknown format {fmt!r} (ascii, binary, appended)")
        except (binascii.Error, ValueError) as exc:
            raise AssetError(path, f"array '{name}': bad base64 data ({exc})") from None
        body = binary.read(buf, pos, name)
        if len(body) != count * dtype.itemsize:
            raise AssetError(path, f"array '{name}' holds {len(body)} bytes, the extent needs "
                             f"{count} x {dtype.itemsize}")
        data = np.frombuffer(body, dtype).astype(dtype.newbyteorder("="))
    if data.size != count:
        raise AssetError(path, f"array '{name}' has {data.size} values, the extent needs {count}")
    return data


def _appended(path: Path, node: ET.Element, appended: _Appended) -> tuple[bytes, int]:
    """The buffer and start position of an appended array (decoding its base64 run if need be)."""
    offset = node.get("offset", "")
    if not offset.isdigit():
        raise AssetError(path, f"appended array '{node.get('Name')}' has no valid offset")
    start = int(offset)
    if appended.encoding == "raw":
        return appended.data, start
    if appended.encoding != "base64":
        raise AssetError(path, f"appended array '{node.get('Name')}' but the AppendedData encoding is "
                         f"{appended.encoding!r} (raw or base64)")
    # base64 offsets count characters; this array runs to the next array's offset.
    end = min((o for o in appended.offsets if o > start), default=len(appended.data))
    return _b64decode(appended.data[start:end].decode("ascii", errors="replace")), 0

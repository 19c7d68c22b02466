"""Volume readers: the shared real volumes, and small hand-built files for every encoding path.

The tiny NetCDF classic and .vti writers below follow the published format descriptions and are
independent of the readers. Where scipy (NetCDF CDF-1/2) or VTK are installed they cross-check
both the writers and the readers; the tests that need them skip otherwise.
"""

from __future__ import annotations

import base64
import zlib
from pathlib import Path

import numpy as np
import pytest

from ngsdk.asset.errors import AssetError
from ngsdk.volumes import netcdf, vti
from ngsdk.volumes.ingest import Normalization, VolumeData, load_volume

TOS_LAND_PER_STEP = 9510  # land cells of the 170 x 180 ocean grid (fill 1e20 in every time step)


def volumes(shared_data: Path) -> Path:
    return shared_data / "volumes"


# ---------------------------------------------------------------------------------------------
# a NetCDF classic writer (CDF-1, CDF-2, CDF-5), big-endian as the format says

NC_CODES = {"i1": 1, "S1": 2, "i2": 3, "i4": 4, "f4": 5, "f8": 6, "u1": 7, "u2": 8, "u4": 9, "i8": 10,
            "u8": 11}


def _pad(b: bytes) -> bytes:
    return b + b"\0" * (-len(b) % 4)


def _big(a: np.ndarray) -> bytes:
    return a.astype(">" + a.dtype.str[1:]).tobytes()


def norm01(src: np.ndarray) -> np.ndarray:
    """The expected normalization of an array without invalid values."""
    src = src.astype(np.float64)
    return ((src - src.min()) / (src.max() - src.min())).astype(np.float32)


def write_cdf(path: Path, version: int, dims: list[tuple[str, int | None]], variables: list[dict],
              gatts: dict | None = None, streaming: bool = False) -> None:
    """Write a classic NetCDF file. ``dims``: (name, length or None for the record dimension);
    ``variables``: dicts with name, dims, data (shape incl. records) and optional attrs."""
    wide = version == 5

    def count(n: int) -> bytes:
        return n.to_bytes(8 if wide else 4, "big")

    def name(s: str) -> bytes:
        return count(len(s.encode())) + _pad(s.encode())

    def code(dt: np.dtype) -> int:
        return NC_CODES[dt.str[1:]]

    def attrs(d: dict) -> bytes:
        if not d:
            return b"\0\0\0\0" + count(0)
        out = (0x0C).to_bytes(4, "big") + count(len(d))
        for k, v in d.items():
            if isinstance(v, str):
                out += name(k) + (2).to_bytes(4, "big") + count(len(v)) + _pad(v.encode())
            else:
                a = np.atleast_1d(v)
                out += name(k) + code(a.dtype).to_bytes(4, "big") + count(a.size) + _pad(_big(a))
        return out

    record = next((i for i, (_, n) in enumerate(dims) if n is None), None)
    ids = {n: i for i, (n, _) in enumerate(dims)}
    is_rec = [record is not None and bool(v["dims"]) and ids[v["dims"][0]] == record for v in variables]
    numrecs = next((len(v["data"]) for v, r in zip(variables, is_rec) if r), 0)
    datas = [np.asarray(v["data"]) for v in variables]
    slabs = [(d[0].nbytes if r else d.nbytes) for d, r in zip(datas, is_rec)]

    def header(begins: list[int]) -> bytes:
        out = b"CDF" + bytes([version]) + (b"\xff" * (8 if wide else 4) if streaming else count(numrecs))
        out += (0x0A).to_bytes(4, "big") + count(len(dims)) if dims else b"\0\0\0\0" + count(0)
        for n, length in dims:
            out += name(n) + count(length or 0)
        out += attrs(gatts or {})
        out += (0x0B).to_bytes(4, "big") + count(len(variables))
        for v, d, s, b in zip(variables, datas, slabs, begins):
            out += name(v["name"]) + count(len(v["dims"])) + b"".join(count(ids[n]) for n in v["dims"])
            out += attrs(v.get("attrs", {})) + code(d.dtype).to_bytes(4, "big") + count(s + (-s) % 4)
            out += b.to_bytes(4 if version == 1 else 8, "big")
        return out

    size = len(header([0] * len(variables)))
    begins, pos = [], size
    for s, r in zip(slabs, is_rec):  # fixed-size variables first
        begins.append(pos if not r else 0)
        pos += 0 if r else s + (-s) % 4
    rec_vars = [i for i, r in enumerate(is_rec) if r]
    pad_records = len(rec_vars) > 1  # a lone record variable is not padded
    for i in rec_vars:
        begins[i] = pos
        pos += slabs[i] + ((-slabs[i]) % 4 if pad_records else 0)
    body = b"".join(_pad(_big(d)) for d, r in zip(datas, is_rec) if not r)
    for r in range(numrecs):
        for i in rec_vars:
            chunk = _big(datas[i][r])
            body += _pad(chunk) if pad_records else chunk
    path.write_bytes(header(begins) + body)


def rng_volume(shape, dtype, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
    if info is None:
        return rng.normal(size=shape).astype(dtype)
    return rng.integers(max(info.min, -1000), min(info.max, 1000), size=shape, endpoint=True).astype(dtype)


# ---------------------------------------------------------------------------------------------
# NetCDF: the real file


def test_tos_real_file(shared_data):
    path = volumes(shared_data) / "tos_O1_2001-2002.nc"
    vol = load_volume(path)
    assert isinstance(vol, VolumeData)
    assert vol.name == "tos_O1_2001-2002" and vol.source == str(path)
    assert vol.values.shape == (24, 170, 180) and vol.values.dtype == np.float32
    assert vol.spacing == (1.0, 1.0, 1.0)
    norm = vol.normalization
    assert norm.source_dtype == "float32"
    # Sea surface temperature in kelvin: about -2 degC (sea ice) to 32 degC.
    assert 270.0 < norm.vmin < 272.0 and 304.0 < norm.vmax < 306.0
    assert vol.values.min() == 0.0 and vol.values.max() == 1.0
    assert f"{24 * TOS_LAND_PER_STEP:,} of 734,400 voxels" in " ".join(vol.notes)
    assert "z=time, y=lat, x=lon" in vol.notes[0]

    nc = netcdf.read_header(path)
    assert nc.version == 1 and nc.record_dim == "time" and nc.numrecs == 24
    assert nc.dims == {"lon": 180, "lat": 170, "time": 24, "bnds": 2}
    assert nc.variables["tos"].attrs["units"] == "K"
    assert float(nc.variables["tos"].attrs["_FillValue"][0]) == np.float32(1e20)
    raw = netcdf.read_variable(nc, "tos")
    land = raw == np.float32(1e20)
    assert (land.sum(axis=(1, 2)) == TOS_LAND_PER_STEP).all()  # the same land mask every month
    assert (vol.values[land] == 0.0).all()
    np.testing.assert_array_equal(netcdf.read_variable(nc, "tos", index=7), raw[7])
    lat, lon = netcdf.read_variable(nc, "lat"), netcdf.read_variable(nc, "lon")
    assert lat.shape == (170,) and -80 < lat[0] < lat[-1] < 90 and lon.shape == (180,)
    time = netcdf.read_variable(nc, "time")
    assert (np.diff(time) == 30).all()  # monthly means on a 360-day calendar


def test_tos_matches_scipy(shared_data):
    scipy_netcdf = pytest.importorskip("scipy.io")
    path = volumes(shared_data) / "tos_O1_2001-2002.nc"
    with scipy_netcdf.netcdf_file(path, "r", mmap=False) as f:
        ref = {k: v[:].copy() for k, v in f.variables.items()}
    nc = netcdf.read_header(path)
    assert sorted(nc.variables) == sorted(ref)
    for k, v in ref.items():
        np.testing.assert_array_equal(netcdf.read_variable(nc, k), v)
    tos = ref["tos"].astype(np.float64)
    valid = tos[tos != np.float32(1e20)]
    vol = load_volume(path)
    assert vol.normalization.vmin == valid.min() and vol.normalization.vmax == valid.max()
    expect = np.where(tos == np.float32(1e20), 0.0, (tos - valid.min()) / (valid.max() - valid.min()))
    np.testing.assert_array_equal(vol.values, expect.astype(np.float32))


# ---------------------------------------------------------------------------------------------
# NetCDF: generated files


@pytest.mark.parametrize("version", [1, 2, 5])
def test_netcdf_versions_fixed_and_record(tmp_path, version):
    temp = rng_volume((3, 4, 5), "i2", seed=version)
    temp[1, 2, 3] = -999
    rec_a = rng_volume((4, 3, 5), "i2", seed=1)  # odd slab (30 bytes): padded per record
    rec_b = rng_volume((4, 3), "i1", seed=2)
    dims = [("t", None), ("z", 3), ("y", 4), ("x", 5), ("n", 3)]
    variables = [
        {"name": "x", "dims": ["x"], "data": np.arange(5, dtype="f8")},
        {"name": "temp", "dims": ["z", "y", "x"], "data": temp,
         "attrs": {"units": "K", "_FillValue": np.int16(-999), "scale_factor": np.float32(0.5),
                   "add_offset": np.float64(300.0)}},
        {"name": "rec_a", "dims": ["t", "n", "x"], "data": rec_a},
        {"name": "rec_b", "dims": ["t", "n"], "data": rec_b},
    ]
    path = tmp_path / f"v{version}.nc"
    write_cdf(path, version, dims, variables, gatts={"title": "test", "answer": np.int32(42)})
    nc = netcdf.read_header(path)
    assert nc.version == version and nc.numrecs == 4 and nc.record_dim == "t"
    assert nc.attrs["title"] == "test" and int(nc.attrs["answer"][0]) == 42
    assert nc.variables["temp"].attrs["units"] == "K"
    np.testing.assert_array_equal(netcdf.read_variable(nc, "rec_a"), rec_a)
    np.testing.assert_array_equal(netcdf.read_variable(nc, "rec_b"), rec_b)
    np.testing.assert_array_equal(netcdf.read_variable(nc, "x"), np.arange(5))

    vol = load_volume(path, variable="temp")
    phys = temp * np.float64(np.float32(0.5)) + 300.0
    valid = phys[temp != -999]
    assert (vol.normalization.vmin, vol.normalization.vmax) == (valid.min(), valid.max())
    assert vol.normalization.source_dtype == "int16"
    expect = np.where(temp == -999, 0.0, (phys - valid.min()) / (valid.max() - valid.min()))
    np.testing.assert_array_equal(vol.values, expect.astype(np.float32))
    assert any("1 of 60 voxels" in n for n in vol.notes)
    with pytest.raises(AssetError, match="several 3D"):
        load_volume(path)  # temp and rec_a are both 3D


def test_netcdf_single_record_variable_is_not_padded(tmp_path):
    data = rng_volume((5, 3, 3, 3), "u1", seed=3)  # 27-byte records, packed back to back
    path = tmp_path / "one.nc"
    write_cdf(path, 5, [("time", None), ("z", 3), ("y", 3), ("x", 3)],
              [{"name": "v", "dims": ["time", "z", "y", "x"], "data": data}])
    nc = netcdf.read_header(path)
    assert nc.record_size == 27 and path.stat().st_size == nc.variables["v"].begin + 5 * 27
    for t in (0, 4):
        vol = load_volume(path, time_index=t)
        np.testing.assert_array_equal(vol.values, norm01(data[t]))
        assert f"time step {t} of 5" in vol.notes[0]
    with pytest.raises(AssetError, match="index 5 is out of range"):
        load_volume(path, time_index=5)


@pytest.mark.parametrize("dtype", ["i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f4", "f8"])
def test_netcdf_cdf5_types(tmp_path, dtype):
    data = rng_volume((2, 3, 4), dtype, seed=5)
    path = tmp_path / "t.nc"
    write_cdf(path, 5, [("z", 2), ("y", 3), ("x", 4)], [{"name": "v", "dims": ["z", "y", "x"], "data": data}])
    raw = netcdf.read_variable(netcdf.read_header(path), "v")
    assert raw.dtype == np.dtype(dtype) and raw.dtype.isnative
    np.testing.assert_array_equal(raw, data)
    assert load_volume(path).normalization.source_dtype == np.dtype(dtype).name


def test_netcdf_missing_value_list_default_fill_and_nan(tmp_path):
    a = rng_volume((2, 3, 4), "f4", seed=6)
    a[0, 0, 0], a[0, 0, 1], a[1, 2, 3] = -1.0, -2.0, np.nan
    b = rng_volume((2, 3, 4), "f4", seed=7)
    b[1, 1, 1] = netcdf.DEFAULT_FILL[5]  # never written: the library's default fill
    path = tmp_path / "m.nc"
    missing = {"missing_value": np.array([-1.0, -2.0], "f4")}
    write_cdf(path, 1, [("z", 2), ("y", 3), ("x", 4)], [
        {"name": "a", "dims": ["z", "y", "x"], "data": a, "attrs": missing},
        {"name": "b", "dims": ["z", "y", "x"], "data": b},
    ])
    vol = load_volume(path, variable="a")
    assert vol.values[0, 0, 0] == vol.values[0, 0, 1] == vol.values[1, 2, 3] == 0.0
    valid = np.ones(a.shape, bool)
    valid[0, 0, 0] = valid[0, 0, 1] = valid[1, 2, 3] = False
    assert (vol.normalization.vmin, vol.normalization.vmax) == (a[valid].min(), a[valid].max())
    assert any("3 of 24 voxels" in n for n in vol.notes)
    vol = load_volume(path, variable="b")
    assert vol.normalization.vmax == b[b < 1e30].max() and vol.values[1, 1, 1] == 0.0


def test_netcdf_streaming_record_count(tmp_path):
    data = rng_volume((3, 2, 2), "f4", seed=8)
    path = tmp_path / "s.nc"
    write_cdf(path, 2, [("t", None), ("y", 2), ("x", 2)],
              [{"name": "v", "dims": ["t", "y", "x"], "data": data}], streaming=True)
    nc = netcdf.read_header(path)
    assert nc.numrecs == 3 and nc.dims["t"] == 3
    np.testing.assert_array_equal(netcdf.read_variable(nc, "v"), data)


def test_netcdf_writer_and_reader_agree_with_scipy(tmp_path):
    scipy_io = pytest.importorskip("scipy.io")
    data = rng_volume((4, 3, 5), "i2", seed=9)
    ours = tmp_path / "ours.nc"
    attrs = {"scale_factor": np.float32(2.0)}
    write_cdf(ours, 1, [("t", None), ("y", 3), ("x", 5)],
              [{"name": "v", "dims": ["t", "y", "x"], "data": data, "attrs": attrs}])
    with scipy_io.netcdf_file(ours, "r", mmap=False, maskandscale=False) as f:
        np.testing.assert_array_equal(f.variables["v"][:], data)  # the test writer is sound
    for version in (1, 2):
        theirs = tmp_path / f"scipy{version}.nc"
        with scipy_io.netcdf_file(theirs, "w", version=version) as f:
            f.createDimension("time", None)
            f.createDimension("y", 3)
            f.createDimension("x", 5)
            v = f.createVariable("v", "i2", ("time", "y", "x"))
            v[:] = data
            v._FillValue = np.int16(data[0, 0, 0])
            w = f.createVariable("w", "f8", ("time",))
            w[:] = np.arange(4.0)
        nc = netcdf.read_header(theirs)
        assert nc.version == version
        np.testing.assert_array_equal(netcdf.read_variable(nc, "v"), data)
        np.testing.assert_array_equal(netcdf.read_variable(nc, "w"), np.arange(4.0))
        vol = load_volume(theirs)
        assert vol.values[0, 0, 0] == 0.0 and any("fill" in n for n in vol.notes)


def test_netcdf_errors(tmp_path):
    ok = tmp_path / "ok.nc"
    data = rng_volume((2, 3, 4), "f4")
    write_cdf(ok, 1, [("z", 2), ("y", 3), ("x", 4)], [
        {"name": "flat", "dims": ["y", "x"], "data": data[0]},
        {"name": "v", "dims": ["z", "y", "x"], "data": data},
    ])
    raw = ok.read_bytes()
    cases = {
        "hdf5.nc": (b"\x89HDF\r\n\x1a\n" + b"\0" * 100, "NetCDF-4 \\(HDF5\\) files are not supported"),
        "magic.nc": (b"GIF89a" + b"\0" * 40, "not a NetCDF classic file"),
        "version.nc": (b"CDF\x03" + raw[4:], "not a NetCDF classic file"),
        "empty.nc": (b"", "not a NetCDF classic file"),
        "header.nc": (raw[:40], "truncated NetCDF header"),
        "data.nc": (raw[:-8], "truncated NetCDF file: 'v'"),
    }
    for fname, (content, message) in cases.items():
        bad = tmp_path / fname
        bad.write_bytes(content)
        with pytest.raises(AssetError, match=message) as err:
            load_volume(bad)
        assert err.value.path == bad and str(err.value).startswith(str(bad))
    with pytest.raises(AssetError, match=r"no variable 'tos'; the file has flat\(y, x\), v\(z, y, x\)"):
        load_volume(ok, variable="tos")
    with pytest.raises(AssetError, match="flat\\(y, x\\) has 2 axes"):
        load_volume(ok, variable="flat")
    with pytest.raises(AssetError, match="time_index applies to 4D"):
        load_volume(ok, time_index=1)
    with pytest.raises(AssetError, match="axis_order= applies to .npy and raw"):
        load_volume(ok, axis_order="xyz")


# ---------------------------------------------------------------------------------------------
# a .vti writer covering every encoding


VTK_NAMES = {"i1": "Int8", "u1": "UInt8", "i2": "Int16", "u2": "UInt16", "i4": "Int32", "u4": "UInt32",
             "i8": "Int64", "u8": "UInt64", "f4": "Float32", "f8": "Float64"}


def _binary_block(data: bytes, hdr: str, compress: bool, block: int, last_zero: bool) -> tuple[bytes, bytes]:
    """(header bytes, body bytes) of one binary array."""
    if not compress:
        return np.array([len(data)], hdr).tobytes(), data
    blocks = [data[i:i + block] for i in range(0, len(data), block)] or [b""]
    packed = [zlib.compress(b, 6) for b in blocks]
    last = len(blocks[-1]) if len(blocks[-1]) != block or not last_zero else 0
    return np.array([len(blocks), block, last, *map(len, packed)], hdr).tobytes(), b"".join(packed)


def write_vti(path: Path, arrays: dict[str, np.ndarray], fmt: str = "binary", *, compress: bool = False,
              header_type: str = "UInt32", order: str = "<", spacing=(1.0, 1.0, 1.0),
              active: str | None = None, joined: bool = False, block: int = 64, last_zero: bool = False,
              encoding: str = "raw", origin=(0, 0, 0)) -> None:
    """Write a VTK ImageData file; ``arrays`` are (z, y, x) or (z, y, x, c) point data."""
    first = next(iter(arrays.values()))
    nz, ny, nx = first.shape[:3]
    ox, oy, oz = origin
    extent = f"{ox} {ox + nx - 1} {oy} {oy + ny - 1} {oz} {oz + nz - 1}"
    hdr = order + ("u4" if header_type == "UInt32" else "u8")
    endian = "LittleEndian" if order == "<" else "BigEndian"
    comp = ' compressor="vtkZLibDataCompressor"' if compress else ""
    parts, appended, offset = [], b"", 0
    for name, a in arrays.items():
        comps = a.shape[3] if a.ndim == 4 else 1
        attrs = f'type="{VTK_NAMES[a.dtype.str[1:]]}" Name="{name}" NumberOfComponents="{comps}"'
        data = a.astype(order + a.dtype.str[1:]).tobytes()
        head, body = _binary_block(data, hdr, compress, block, last_zero)
        separate = base64.b64encode(head) + base64.b64encode(body)  # as VTK writes it
        if fmt == "ascii":
            text = " ".join(repr(v) for v in a.ravel().tolist())
            parts.append(f'<DataArray {attrs} format="ascii">{text}</DataArray>')
        elif fmt == "binary":
            text = base64.b64encode(head + body) if joined else separate
            parts.append(f'<DataArray {attrs} format="binary">\n{text.decode()}\n</DataArray>')
        else:
            parts.append(f'<DataArray {attrs} format="appended" offset="{offset}"/>')
            chunk = head + body if encoding == "raw" else separate
            appended += chunk
            offset += len(chunk)
    scalars = f' Scalars="{active}"' if active else ""
    xml = (f'<?xml version="1.0"?>\n<VTKFile type="ImageData" version="1.0" byte_order="{endian}" '
           f'header_type="{header_type}"{comp}>\n'
           f'<ImageData WholeExtent="{extent}" Origin="0 0 0" Spacing="{" ".join(map(str, spacing))}">\n'
           f'<Piece Extent="{extent}">\n<PointData{scalars}>\n' + "\n".join(parts) +
           "\n</PointData>\n<CellData/>\n</Piece>\n</ImageData>\n")
    tail = "</VTKFile>\n"
    if fmt == "appended":
        path.write_bytes(xml.encode() + f'<AppendedData encoding="{encoding}">\n_'.encode() + appended +
                         b"\n</AppendedData>\n" + tail.encode())
    else:
        path.write_text(xml + tail)


# ---------------------------------------------------------------------------------------------
# VTI: the real file


def test_hydrogen_real_file(shared_data):
    path = volumes(shared_data) / "hydrogen.vti"
    vol = load_volume(path)
    assert vol.values.shape == (64, 64, 64) and vol.spacing == (1.0, 1.0, 1.0)
    assert vol.normalization.source_dtype == "float32"
    # The file states RangeMin="0" RangeMax="1" for the array.
    assert (vol.normalization.vmin, vol.normalization.vmax) == (0.0, 1.0)
    assert "probability_density" in vol.notes[0] and "zlib" in vol.notes[0]
    image = vti.read_vti(path)
    np.testing.assert_array_equal(vol.values, image.values)  # vmin 0, vmax 1: normalization is the identity
    assert image.values.dtype == np.float32 and np.isfinite(image.values).all()
    v = image.values
    # An orbital with lobes on the z axis: mirror symmetric on every axis and about x = y, not about x = z.
    for flipped in (v[::-1], v[:, ::-1], v[:, :, ::-1], v.transpose(0, 2, 1)):
        np.testing.assert_array_equal(v, flipped)
    assert np.unravel_index(v.argmax(), v.shape) == (21, 31, 31)
    assert v[21, 31, 31] == 1.0 and v[31, 31, 21] < 0.5


def test_hydrogen_matches_vtk(shared_data):
    vtk = pytest.importorskip("vtk")
    from vtk.util.numpy_support import vtk_to_numpy

    path = volumes(shared_data) / "hydrogen.vti"
    reader = vtk.vtkXMLImageDataReader()
    reader.SetFileName(str(path))
    reader.Update()
    image = reader.GetOutput()
    nx, ny, nz = image.GetDimensions()
    ref = vtk_to_numpy(image.GetPointData().GetArray("probability_density")).reshape(nz, ny, nx)
    np.testing.assert_array_equal(vti.read_vti(path).values, ref)


# ---------------------------------------------------------------------------------------------
# VTI: generated files


VTI_CASES = [(fmt, compress, hdr, order, enc)
             for fmt in ("ascii", "binary", "joined", "appended")
             for compress in (False, True)
             for hdr in ("UInt32", "UInt64")
             for order in ("<", ">")
             for enc in (("raw", "base64") if fmt == "appended" else ("-",))
             if not (fmt == "ascii" and (compress or hdr == "UInt64"))]


@pytest.mark.parametrize(("fmt", "compress", "header_type", "order", "encoding"), VTI_CASES)
def test_vti_encodings(tmp_path, fmt, compress, header_type, order, encoding):
    a = rng_volume((3, 4, 5), "f4", seed=11)  # z, y, x all different: catches axis mix-ups
    b = rng_volume((3, 4, 5), "i2", seed=12)
    path = tmp_path / "v.vti"
    write_vti(path, {"a": a, "b": b}, "binary" if fmt == "joined" else fmt, compress=compress,
              header_type=header_type, order=order, spacing=(0.5, 2.0, 3.0), active="b",
              joined=fmt == "joined", block=48, encoding=encoding)
    image = vti.read_vti(path)  # the active Scalars
    assert image.array_name == "b" and image.spacing == (0.5, 2.0, 3.0)
    np.testing.assert_array_equal(image.values, b)
    got = vti.read_vti(path, "a").values
    assert got.dtype == np.float32 and got.dtype.isnative
    np.testing.assert_array_equal(got, a)
    vol = load_volume(path, variable="a")
    assert vol.spacing == (0.5, 2.0, 3.0) and vol.values.shape == (3, 4, 5)


@pytest.mark.parametrize("dtype", list(VTK_NAMES))
def test_vti_types(tmp_path, dtype):
    a = rng_volume((2, 3, 4), dtype, seed=13)
    path = tmp_path / "t.vti"
    write_vti(path, {"v": a}, "appended", compress=True, order=">")
    np.testing.assert_array_equal(vti.read_vti(path).values, a)


@pytest.mark.parametrize("last_zero", [False, True])
def test_vti_zlib_blocks(tmp_path, last_zero):
    a = rng_volume((4, 4, 4), "f4", seed=14)  # 256 bytes: 4 full blocks of 64, or 5 with a short last one
    for block in (64, 60):
        path = tmp_path / f"b{block}.vti"
        write_vti(path, {"v": a}, "binary", compress=True, block=block, last_zero=last_zero)
        np.testing.assert_array_equal(vti.read_vti(path).values, a)


def vti_text(pieces: list[tuple[str, str]], whole: str, compressor: bool = False) -> str:
    """A minimal ImageData file with the given (Extent, DataArray element) pieces."""
    comp = ' compressor="vtkZLibDataCompressor"' if compressor else ""
    body = "".join(f'<Piece Extent="{ext}"><PointData>{arr}</PointData></Piece>' for ext, arr in pieces)
    return (f'<VTKFile type="ImageData" version="0.1" byte_order="LittleEndian"{comp}>'
            f'<ImageData WholeExtent="{whole}" Spacing="1 1 1">{body}</ImageData></VTKFile>')


def test_vti_offset_extent_and_several_pieces(tmp_path):
    a = rng_volume((4, 3, 2), "u1", seed=15)
    path = tmp_path / "o.vti"
    write_vti(path, {"v": a}, "ascii", origin=(10, -3, 7))
    np.testing.assert_array_equal(vti.read_vti(path).values, a)

    def ascii_array(part: np.ndarray) -> str:
        text = " ".join(map(str, part.ravel().tolist()))
        return f'<DataArray type="UInt8" Name="v" format="ascii">{text}</DataArray>'

    # Two pieces sharing the z = 8 plane, as VTK writes parallel pieces.
    pieces = [("10 11 -3 -1 7 8", ascii_array(a[:2])), ("10 11 -3 -1 8 10", ascii_array(a[1:]))]
    path.write_text(vti_text(pieces, "10 11 -3 -1 7 10"))
    np.testing.assert_array_equal(vti.read_vti(path).values, a)
    path.write_text(vti_text([("10 11 -3 -1 7 11", ascii_array(a))], "10 11 -3 -1 7 10"))
    with pytest.raises(AssetError, match="does not fit WholeExtent"):
        vti.read_vti(path)


def test_vti_written_by_vtk(tmp_path):
    vtk = pytest.importorskip("vtk")
    from vtk.util.numpy_support import numpy_to_vtk

    a = rng_volume((5, 4, 3), "i2", seed=16)
    b = rng_volume((5, 4, 3), "f8", seed=17)
    image = vtk.vtkImageData()
    image.SetDimensions(3, 4, 5)
    image.SetSpacing(0.25, 1.5, 2.0)
    for name, arr in (("a", a), ("b", b)):
        data = numpy_to_vtk(arr.ravel(), deep=True)
        data.SetName(name)
        image.GetPointData().AddArray(data)
    image.GetPointData().SetActiveScalars("b")
    modes = [(0, 0, 0, 32), (1, 0, 1, 64), (1, 0, 0, 32), (2, 0, 1, 32), (2, 1, 0, 64), (2, 1, 1, 64)]
    for mode, encode, comp, hdr in modes:
        writer = vtk.vtkXMLImageDataWriter()
        writer.SetInputData(image)
        path = tmp_path / f"vtk{mode}{encode}{comp}{hdr}.vti"
        writer.SetFileName(str(path))
        writer.SetDataMode(mode)  # ascii, binary, appended
        writer.SetEncodeAppendedData(encode)
        writer.SetHeaderTypeToUInt32() if hdr == 32 else writer.SetHeaderTypeToUInt64()
        writer.SetCompressorTypeToZLib() if comp else writer.SetCompressorTypeToNone()
        writer.SetBlockSize(64)  # several blocks
        assert writer.Write() == 1
        got = vti.read_vti(path)
        assert got.array_name == "b" and got.spacing == (0.25, 1.5, 2.0)
        np.testing.assert_array_equal(got.values, b)
        np.testing.assert_array_equal(vti.read_vti(path, "a").values, a)


def test_vti_array_choice_and_errors(tmp_path):
    a = rng_volume((2, 3, 4), "f4", seed=18)
    vec = rng_volume((2, 3, 4, 3), "f4", seed=19)
    path = tmp_path / "c.vti"
    write_vti(path, {"a": a, "b": a + 1})
    with pytest.raises(AssetError, match="choose a PointData array: the file has 'a', 'b'"):
        vti.read_vti(path)
    with pytest.raises(AssetError, match="no PointData array 'c'; the file has 'a', 'b'"):
        load_volume(path, variable="c")
    write_vti(path, {"only": a})
    assert vti.read_vti(path).array_name == "only"
    write_vti(path, {"velocity": vec, "a": a}, active="velocity")
    with pytest.raises(AssetError, match="'velocity' has 3 components; .* \\(single-component: a\\)"):
        vti.read_vti(path)
    np.testing.assert_array_equal(vti.read_vti(path, "a").values, a)

    write_vti(path, {"v": a}, "appended", compress=True)
    raw = path.read_bytes()
    cases = {
        "trunc.vti": (raw[: raw.index(b">\n_") + 30] + raw[-30:], "truncated data for array 'v'"),
        "lz4.vti": (raw.replace(b"vtkZLibDataCompressor", b"vtkLZ4DataCompressor"), "LZ4.* is not supported"),
        "grid.vti": (raw.replace(b'"ImageData"', b'"UnstructuredGrid"'), "not a VTK ImageData file"),
        "xml.vti": (b"<VTKFile><ImageData>", "not a readable VTK XML file"),
        "type.vti": (raw.replace(b'type="Float32"', b'type="Bit"'), "type 'Bit'"),
    }
    for fname, (content, message) in cases.items():
        bad = tmp_path / fname
        bad.write_bytes(content)
        with pytest.raises(AssetError, match=message) as err:
            load_volume(bad)
        assert err.value.path == bad

    def one_block(name: str, sizes: list[int], body: bytes) -> Path:
        """A zlib file whose single block has the given header (blocks, size, last size, compressed size)."""
        text = base64.b64encode(np.array(sizes, "<u4").tobytes() + body).decode()
        array = f'<DataArray type="Float32" Name="v" format="binary">{text}</DataArray>'
        (tmp_path / name).write_text(vti_text([("0 3 0 2 0 1", array)], "0 3 0 2 0 1", compressor=True))
        return tmp_path / name

    body = zlib.compress(a.tobytes())
    np.testing.assert_array_equal(vti.read_vti(one_block("ok.vti", [1, 96, 0, len(body)], body)).values, a)
    with pytest.raises(AssetError, match="block 0: corrupt zlib data"):
        load_volume(one_block("zlib.vti", [1, 96, 96, 12], b"not zlib at all"[:12]))
    with pytest.raises(AssetError, match="truncated data for array 'v'"):
        load_volume(one_block("short.vti", [1, 96, 0, len(body)], body[:-9]))
    with pytest.raises(AssetError, match="block 0 inflates to more than 64 bytes, the header says 64"):
        load_volume(one_block("size.vti", [1, 64, 0, len(body)], body))

    write_vti(path, {"v": a}, "binary")
    text = path.read_text()
    start = text.index('format="binary">') + len('format="binary">\n')
    (tmp_path / "b64.vti").write_text(text[:start] + "!!" + text[start + 2:])
    with pytest.raises(AssetError, match="bad base64"):
        load_volume(tmp_path / "b64.vti")


# ---------------------------------------------------------------------------------------------
# .npy and raw


def test_npy_real_files(shared_data):
    iron = load_volume(volumes(shared_data) / "ironProt_zyx_68x68x68_uint8.npy")
    src = np.load(volumes(shared_data) / "ironProt_zyx_68x68x68_uint8.npy", allow_pickle=False)
    assert iron.values.shape == (68, 68, 68)
    assert iron.normalization == Normalization(0.0, 255.0, "uint8")
    np.testing.assert_array_equal(iron.values, (src / 255.0).astype(np.float32))
    head = load_volume(volumes(shared_data) / "headsq_zyx_64x64x93_int16.npy")
    assert head.values.shape == (93, 64, 64)  # z = 93 slices of 64 x 64
    assert head.normalization == Normalization(0.0, 3926.0, "int16")
    bunny = load_volume(volumes(shared_data) / "bunny_zyx_64x64x64_float32.npy")
    assert bunny.normalization == Normalization(0.0, 1.0, "float32")
    assert bunny.notes == ["float32 array (64, 64, 64) (zyx)"]
    for vol in (iron, head, bunny):
        assert vol.values.dtype == np.float32 and vol.values.min() == 0.0 and vol.values.max() == 1.0


@pytest.mark.parametrize("order", ["zyx", "xyz", "yxz", "ZXY"])
def test_npy_axis_order(tmp_path, order):
    zyx = rng_volume((2, 3, 4), "u2", seed=20)
    stored = zyx.transpose(["zyx".index(a) for a in order.lower()])
    path = tmp_path / "a.npy"
    np.save(path, stored)
    np.testing.assert_array_equal(load_volume(path, axis_order=order).values, norm01(zyx))


def test_nan_inf_become_vmin(tmp_path):
    a = np.linspace(-3.0, 5.0, 2 * 3 * 4).reshape(2, 3, 4).astype(np.float32)
    a[0, 0, 0], a[1, 1, 1], a[1, 2, 3] = np.nan, np.inf, -np.inf
    path = tmp_path / "nan.npy"
    np.save(path, a)
    vol = load_volume(path)
    valid = a[np.isfinite(a)]
    assert (vol.normalization.vmin, vol.normalization.vmax) == (valid.min(), valid.max())
    assert vol.values[0, 0, 0] == vol.values[1, 1, 1] == vol.values[1, 2, 3] == 0.0
    assert np.isfinite(vol.values).all() and "3 of 24 voxels" in vol.notes[-1]


@pytest.mark.parametrize("dtype", ["uint8", "<f4", ">i2", ">f8"])
def test_raw(tmp_path, dtype):
    zyx = rng_volume((3, 4, 5), np.dtype(dtype).newbyteorder("="), seed=21)
    path = tmp_path / "v.raw"
    zyx.transpose(2, 1, 0).astype(dtype).tofile(path)  # stored x-major
    vol = load_volume(path, shape=(5, 4, 3), dtype=dtype, axis_order="xyz")
    np.testing.assert_array_equal(vol.values, norm01(zyx))
    assert vol.normalization.source_dtype == np.dtype(dtype).name
    with pytest.raises(AssetError, match="raw file has .* bytes but shape \\(5, 4, 4\\)"):
        load_volume(path, shape=(5, 4, 4), dtype=dtype)


def test_normalization_dict_round_trip():
    norm = Normalization(-2.5, 7.25, "int16")
    assert norm.to_dict() == {"vmin": -2.5, "vmax": 7.25, "source_dtype": "int16"}
    assert Normalization.from_dict(norm.to_dict()) == norm
    with pytest.raises(ValueError, match="lacks vmax"):
        Normalization.from_dict({"vmin": 0, "source_dtype": "uint8"})
    with pytest.raises(ValueError, match="empty"):
        Normalization.from_dict({"vmin": 1, "vmax": 1, "source_dtype": "uint8"})


def test_input_errors(tmp_path):
    def save(name: str, a) -> Path:
        path = tmp_path / name
        np.save(path, a, allow_pickle=True)
        return path

    ok = save("ok.npy", rng_volume((2, 2, 2), "f4"))
    cases = [
        (save("flat.npy", np.zeros((1, 4, 4)) + np.arange(4)), {}, "every axis needs at least 2 voxels"),
        (save("2d.npy", np.arange(16.0).reshape(4, 4)), {}, "needs exactly 3 axes"),
        (save("const.npy", np.full((2, 3, 4), 7, "u1")), {}, "constant volume has nothing to learn"),
        (save("nan.npy", np.full((2, 3, 4), np.nan)), {}, "all 24 voxels are fill/NaN/Inf"),
        (save("obj.npy", np.array([None, 1], dtype=object)), {}, "unreadable .npy file"),
        (save("cplx.npy", np.ones((2, 2, 2), complex)), {}, "not numeric"),
        (ok, {"axis_order": "zyz"}, "permutation of 'zyx'"),
        (ok, {"shape": (2, 2, 2)}, "shape= and dtype= describe raw files"),
        (ok, {"variable": "v"}, "variable= applies to NetCDF and .vti"),
        (ok, {"time_index": 1}, "time_index= applies to NetCDF"),
        (tmp_path / "missing.npy", {}, "no such file"),
        (tmp_path / "v.raw", {}, "unknown volume format '.raw'"),
        (tmp_path / "v.raw", {"shape": (2, 2, 2)}, "needs both shape= .* and dtype="),
        (tmp_path / "v.raw", {"shape": (2, 2, 2), "dtype": "float77"}, "unknown dtype 'float77'"),
        (tmp_path / "v.raw", {"shape": (2, 2), "dtype": "u1"}, "must be 3 positive sizes"),
    ]
    (tmp_path / "v.raw").write_bytes(bytes(8))
    (tmp_path / "trunc.npy").write_bytes(ok.read_bytes()[:-5])
    (tmp_path / "fake.npy").write_bytes(b"PK\x03\x04 not numpy")
    cases += [(tmp_path / "trunc.npy", {}, "unreadable .npy file"),
              (tmp_path / "fake.npy", {}, "not a .npy file")]
    for path, kwargs, message in cases:
        with pytest.raises(AssetError, match=message) as err:
            load_volume(path, **kwargs)
        assert err.value.path == path, message


def test_range_too_wide_for_float64(tmp_path):
    a = np.zeros((2, 2, 2))
    a[0, 0, 0], a[1, 1, 1] = -1e308, 1e308
    path = tmp_path / "wide.npy"
    np.save(path, a)
    with pytest.raises(AssetError, match="too wide"):
        load_volume(path)

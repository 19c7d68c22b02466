"""Read a scalar volume (.npy, raw, NetCDF classic, VTK .vti) into normalized ``VolumeData``.

Every reader returns the source array in (z, y, x) order; ``load_volume`` then normalizes it to
float32 in [0, 1] with the minimum and maximum of the valid voxels. Invalid voxels (NetCDF fill or
missing values, NaN, +-Inf) are set to the minimum and counted in ``notes``. A constant volume is
refused: there is nothing for a model to learn, and ``vmax - vmin`` would be zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ngsdk.asset.errors import AssetError
from ngsdk.asset.limits import MAX_INPUT_BYTES
from ngsdk.asset.safe_read import load_npy, open_regular
from ngsdk.volumes import netcdf, vti

NETCDF_SUFFIXES = (".nc", ".cdf", ".nc3", ".nc4", ".netcdf")
FORMATS = ".npy, .vti, NetCDF classic (.nc), or raw binary with shape= and dtype="
_SLAB_VOXELS = 1 << 22  # normalize in z slabs of about this many voxels, so float64 temporaries stay small


@dataclass
class Normalization:
    """How stored values map back to the source: ``v = v_n * (vmax - vmin) + vmin``."""

    vmin: float  # source minimum (float64) over valid voxels
    vmax: float  # source maximum
    source_dtype: str  # NumPy dtype name of the source (byte order dropped), e.g. "uint8", "float32"

    def to_dict(self) -> dict[str, Any]:
        return {"vmin": float(self.vmin), "vmax": float(self.vmax), "source_dtype": self.source_dtype}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Normalization:
        """Inverse of :meth:`to_dict`; raises ValueError for missing keys or an empty range."""
        missing = [k for k in ("vmin", "vmax", "source_dtype") if k not in d]
        if missing:
            raise ValueError(f"normalization lacks {', '.join(missing)}")
        vmin, vmax = float(d["vmin"]), float(d["vmax"])
        if not (math.isfinite(vmin) and math.isfinite(vmax) and vmax > vmin):
            raise ValueError(f"normalization range [{vmin}, {vmax}] is empty or not finite")
        np.dtype(d["source_dtype"])  # raises TypeError for an unknown dtype
        return cls(vmin, vmax, str(d["source_dtype"]))


@dataclass
class VolumeData:
    """A scalar volume ready for training: float32 (D, H, W) = (z, y, x) values in [0, 1]."""

    name: str  # file stem
    values: np.ndarray
    normalization: Normalization
    source: str  # path as given
    spacing: tuple[float, float, float] = (1.0, 1.0, 1.0)  # x, y, z
    notes: list[str] = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(D, H, W)."""
        return tuple(self.values.shape)  # type: ignore[return-value]


def load_volume(path: str | Path, *, variable: str | None = None, axis_order: str = "zyx",
                shape: tuple[int, ...] | None = None, dtype: str | None = None,
                time_index: int = 0) -> VolumeData:
    """Read a volume file and normalize it (see the module docstring).

    ``axis_order`` names the stored axes of .npy and raw files (any permutation of ``zyx``); raw files
    need ``shape`` (in that order) and ``dtype``. ``variable`` picks the NetCDF variable or the .vti
    PointData array; ``time_index`` picks the time step of a 4D NetCDF variable. Bad input raises
    AssetError naming the file.
    """
    p = Path(path)
    if not p.is_file():
        raise AssetError(p, "no such file" if not p.exists() else "not a file")
    suffix = p.suffix.lower()
    raw_args = shape is not None or dtype is not None
    kind = {".npy": "npy", ".vti": "vti", **dict.fromkeys(NETCDF_SUFFIXES, "netcdf")}.get(suffix)
    kind = kind or ("raw" if raw_args else None)
    if kind is None:
        raise AssetError(p, f"unknown volume format {suffix or '(no suffix)'!r}: use {FORMATS}")
    if raw_args and kind != "raw":
        raise AssetError(p, f"shape= and dtype= describe raw files; a {suffix} file carries its own")
    if kind in ("npy", "raw") and variable is not None:
        raise AssetError(p, f"variable= applies to NetCDF and .vti files, not {suffix or 'raw'} files")
    if kind in ("netcdf", "vti") and axis_order.lower() != "zyx":
        raise AssetError(p, f"axis_order= applies to .npy and raw files; {suffix} files name their own axes")
    if kind != "netcdf" and time_index != 0:
        raise AssetError(p, "time_index= applies to NetCDF files only")

    spacing = (1.0, 1.0, 1.0)
    missing = None
    source_dtype = None  # set for NetCDF: the stored (packed) type, not the unpacked float64
    if kind == "npy":
        source, notes = _to_zyx(p, _read_npy(p), axis_order)
    elif kind == "raw":
        source, notes = _to_zyx(p, _read_raw(p, shape, dtype, axis_order), axis_order)
    elif kind == "vti":
        image = vti.read_vti(p, variable)
        source, notes, spacing = image.values, image.notes, image.spacing
    else:
        source, missing, notes, source_dtype = _read_netcdf(p, variable, time_index)
    if source.ndim != 3 or min(source.shape) < 2:
        raise AssetError(p, f"volume shape (D, H, W) = {source.shape}: every axis needs at least 2 voxels")
    values, vmin, vmax, invalid = _normalize(p, source, missing)
    if invalid:
        notes.append(f"{invalid:,} of {source.size:,} voxels are fill/NaN/Inf values, set to vmin ({vmin:g})")
    normalization = Normalization(vmin, vmax, source_dtype or source.dtype.name)
    return VolumeData(p.stem, values, normalization, str(path), spacing, notes)


def _check_axis_order(path: Path, axis_order: str) -> str:
    order = axis_order.lower()
    if sorted(order) != ["x", "y", "z"]:
        raise AssetError(path, f"axis_order {axis_order!r} must be a permutation of 'zyx'")
    return order


def _to_zyx(path: Path, array: np.ndarray, axis_order: str) -> tuple[np.ndarray, list[str]]:
    """Transpose an array stored in ``axis_order`` to (z, y, x)."""
    order = _check_axis_order(path, axis_order)
    if array.ndim != 3:
        raise AssetError(path, f"array has shape {array.shape}; a volume needs exactly 3 axes")
    if array.dtype.kind not in "biuf":
        raise AssetError(path, f"array dtype {array.dtype} is not numeric (bool, int, uint or float)")
    notes = [f"{array.dtype.name} array {array.shape} ({order})"]
    if order != "zyx":
        array = array.transpose([order.index(a) for a in "zyx"])
        notes[0] += f" transposed to zyx {array.shape}"
    return array, notes


def _read_npy(path: Path) -> np.ndarray:
    with open_regular(path, limit=MAX_INPUT_BYTES, what="volume file") as f:
        magic = f.read(6)
    if magic != b"\x93NUMPY":
        raise AssetError(path, f"not a .npy file (starts with {magic!r})")
    # the header's claimed size is checked against the file before anything is allocated
    try:
        return load_npy(path, limit=MAX_INPUT_BYTES, what="array")
    except AssetError as exc:
        raise AssetError(path, f"unreadable .npy file: {exc.problem}") from None


def _read_raw(path: Path, shape: tuple[int, ...] | None, dtype: str | None, axis_order: str) -> np.ndarray:
    if shape is None or dtype is None:
        raise AssetError(path, "a raw volume needs both shape= (in axis_order) and dtype=")
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise AssetError(path, f"unknown dtype {dtype!r} (e.g. uint8, int16, <f4, >u2)") from None
    if dt.kind not in "biuf":
        raise AssetError(path, f"dtype {dtype!r} is not numeric")
    dims = tuple(int(n) for n in shape)
    if len(dims) != 3 or min(dims) < 1:
        raise AssetError(path, f"shape {tuple(shape)} must be 3 positive sizes (in axis order {axis_order})")
    need, have = math.prod(dims) * dt.itemsize, path.stat().st_size
    if need != have:
        raise AssetError(path, f"raw file has {have:,} bytes but shape {dims} of {dt.name} needs {need:,}")
    return np.fromfile(path, dtype=dt).reshape(dims).astype(dt.newbyteorder("="))


def _read_netcdf(path: Path, variable: str | None,
                 time_index: int) -> tuple[np.ndarray, np.ndarray, list[str], str]:
    """(values float64 zyx, missing mask, notes, stored dtype name) of one NetCDF variable."""
    nc = netcdf.read_header(path)
    listing = ", ".join(v.describe() for v in nc.variables.values()) or "none"
    if variable is None:
        candidates = [v for v in nc.variables.values() if len(v.dims) >= 3 and not nc.is_coordinate(v.name)]
        if len(candidates) != 1:
            which = "no" if not candidates else "several"
            raise AssetError(path, f"{which} 3D+ variables; pick one with variable= (the file has {listing})")
        variable = candidates[0].name
    if variable not in nc.variables:
        raise AssetError(path, f"no variable '{variable}'; the file has {listing}")
    var = nc.variables[variable]
    if var.nc_type == 2:
        raise AssetError(path, f"variable {var.describe()} holds characters, not numbers")
    if len(var.dims) == 3:
        if time_index != 0:
            raise AssetError(path, f"time_index applies to 4D variables; {var.describe()} is read whole")
        raw = netcdf.read_variable(nc, variable)
        notes = [f"NetCDF variable {var.describe()} {var.shape} read as z={var.dims[0]}, y={var.dims[1]}, "
                 f"x={var.dims[2]}"]
    elif len(var.dims) == 4:
        raw = netcdf.read_variable(nc, variable, index=time_index)
        notes = [f"NetCDF variable {var.describe()} {var.shape}: {var.dims[0]} step {time_index} of "
                 f"{var.shape[0]}, read as z={var.dims[1]}, y={var.dims[2]}, x={var.dims[3]}"]
    else:
        raise AssetError(path, f"variable {var.describe()} has {len(var.dims)} axes; a volume needs 3 "
                         "(or 4 with a leading time axis)")
    values, missing, unpack_notes = netcdf.unpack(var, raw)
    return values, missing, notes + unpack_notes, raw.dtype.name


def _normalize(path: Path, source: np.ndarray,
               missing: np.ndarray | None) -> tuple[np.ndarray, float, float, int]:
    """(values float32 in [0, 1], vmin, vmax, invalid count); invalid voxels become 0 (= vmin)."""
    if source.dtype.kind == "f":
        nonfinite = ~np.isfinite(source)
        missing = nonfinite if missing is None else missing | nonfinite
    invalid = 0 if missing is None else int(missing.sum())
    if invalid == source.size:
        raise AssetError(path, f"all {source.size:,} voxels are fill/NaN/Inf values; nothing to learn")
    valid = source if not invalid else source[~missing]
    vmin, vmax = float(valid.min()), float(valid.max())
    if vmin == vmax:
        raise AssetError(path, f"every valid voxel equals {vmin:g}: a constant volume has nothing to learn")
    if not math.isfinite(vmax - vmin):
        raise AssetError(path, f"value range [{vmin:g}, {vmax:g}] is too wide for float64 arithmetic")
    out = np.empty(source.shape, np.float32)
    step = max(1, _SLAB_VOXELS // (source.shape[1] * source.shape[2]))
    for z in range(0, source.shape[0], step):
        slab = source[z:z + step].astype(np.float64)
        out[z:z + step] = (slab - vmin) / (vmax - vmin)
    if invalid:
        out[missing] = 0.0
    np.clip(out, 0.0, 1.0, out=out)
    return out, vmin, vmax, invalid

"""The neural-volume asset (kind ``neural_volume``): torch-free types and the manifest mapping.

A :class:`NeuralVolumeAsset` is an AMGSRN-style model of a scalar volume: per brick, a few
feature grids, each with an affine transform into its own cube, and a small MLP that maps the
concatenated features to the normalized density. Single-model assets have one brick covering the
whole volume; ensembles split the volume into bricks that each own a ``core`` box of voxels and were
trained on a slightly larger ``fit`` box.

The coordinate helpers here (:func:`voxel_positions`, :func:`local_transform`) are part of the
bit-defined decode contract (docs/decode-spec.md, "Volumes"): the trainer, the reference runtime
and engines compute voxel positions and brick-local coordinates with exactly these float32 values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ngsdk.asset.codec import FileRecords, manifest_fields
from ngsdk.asset.errors import AssetError
from ngsdk.asset.types import DECODE_MODES, DecodeMode, Decoder, DecoderLayer, GraphExport, Provenance, f32

KIND = "neural_volume"
FORMAT_VERSION = "1.0"
READABLE_MAJORS = (1,)
ARITHMETIC = "ngsdk-volume-1"
"""Names the decode arithmetic of docs/decode-spec.md "Volumes"; a change of arithmetic gets a new name."""
STORAGES = ("unorm8", "float16")
DXGI_FORMATS = {"unorm8": "R8G8B8A8_UNORM", "float16": "R16G16B16A16_FLOAT"}
VOLUME_DECODE_MODES: tuple[DecodeMode, ...] = tuple(m for m in DECODE_MODES if m != "hardware")
"""The decode modes of volumes (no ``hardware``: the decode reads grids with Load, never a texture filter)."""
OUTPUT_ACTIVATIONS = ("none", "clamp01")
"""The output layer has no activation in float; both names mean "clamped to [0, 1] on decode"."""
_NAME = re.compile(r"^[A-Za-z0-9_]+$")

Box = tuple[int, int, int, int, int, int]
"""Voxel index ranges ``z0, z1, y0, y1, x0, x1`` (half-open)."""


# --------------------------------------------------------------------------- coordinates


def voxel_positions(n: int) -> np.ndarray:
    """float32 volume coordinates of the ``n`` voxels of one axis: ``f32(2 i / (n - 1) - 1)``.

    Evaluated in float64 as ``(2.0 * i) / (n - 1) - 1.0`` and rounded once to float32, so index 0 is
    exactly -1, index ``n - 1`` exactly 1 (corner aligned).
    """
    if n < 2:
        raise ValueError(f"an axis needs at least 2 voxels, got {n}")
    i = np.arange(n, dtype=np.float64)
    return ((2.0 * i) / (n - 1) - 1.0).astype(np.float32)


def local_transform(shape: tuple[int, int, int], fit: Box) -> tuple[np.ndarray, np.ndarray]:
    """(scale, offset), float32 in x, y, z order, mapping volume coordinates to the brick's local cube.

    ``p_local = f32(f32(p * scale) + offset)`` per axis; on an axis of ``n`` voxels whose fit range
    ``[f0, f1)`` holds ``m = f1 - f0`` voxels, ``scale = f32((n - 1) / (m - 1))`` and
    ``offset = f32((n - 2 f0 - m) / (m - 1))`` (each quotient evaluated in float64, rounded once),
    so the fit voxels span ``[-1, 1]`` corner aligned. A fit box covering the whole axis gives
    ``scale = 1``, ``offset = 0``: the identity.
    """
    d, h, w = shape
    scale, offset = [], []
    for n, f0, f1 in ((w, fit[4], fit[5]), (h, fit[2], fit[3]), (d, fit[0], fit[1])):
        m = f1 - f0
        if m < 2:
            raise ValueError(f"fit box {list(fit)} spans fewer than 2 voxels on an axis")
        scale.append((n - 1) / (m - 1))
        offset.append((n - 2 * f0 - m) / (m - 1))
    return np.array(scale, dtype=np.float32), np.array(offset, dtype=np.float32)


# --------------------------------------------------------------------------- types


@dataclass
class Normalization:
    """How stored values relate to the source: ``v_n = (v - vmin) / (vmax - vmin)`` in [0, 1].

    ``source_dtype`` is the numpy dtype string of the source (``"uint8"``, ``"<f4"``); its item size
    is what the compression ratio counts per source voxel.
    """

    vmin: float
    vmax: float
    source_dtype: str

    def __post_init__(self) -> None:
        self.vmin, self.vmax = float(self.vmin), float(self.vmax)
        if not (np.isfinite(self.vmin) and np.isfinite(self.vmax)):
            raise ValueError(f"normalization range [{self.vmin}, {self.vmax}] is not finite")
        if self.vmax < self.vmin:
            raise ValueError(f"normalization vmax {self.vmax} is below vmin {self.vmin}")
        try:
            dt = np.dtype(self.source_dtype)
        except TypeError:
            raise ValueError(f"normalization source dtype {self.source_dtype!r} is not a numpy dtype") from None
        if dt.kind not in "uif":
            raise ValueError(f"normalization source dtype {self.source_dtype!r} is not numeric")
        self.source_dtype = str(self.source_dtype)

    @property
    def itemsize(self) -> int:
        return np.dtype(self.source_dtype).itemsize

    def to_dict(self) -> dict[str, Any]:
        return {"vmin": self.vmin, "vmax": self.vmax, "source_dtype": self.source_dtype}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Normalization:
        return cls(vmin=d["vmin"], vmax=d["vmax"], source_dtype=d["source_dtype"])

    @classmethod
    def coerce(cls, obj: Any) -> Normalization:
        """This class from a dict or any object with ``vmin``, ``vmax`` and ``source_dtype``."""
        if isinstance(obj, cls):
            return obj
        if isinstance(obj, Mapping):
            return cls.from_dict(obj)
        try:
            return cls(obj.vmin, obj.vmax, obj.source_dtype)
        except AttributeError:
            raise ValueError(f"normalization must have vmin, vmax and source_dtype, got {type(obj).__name__}") from None


@dataclass
class VolumeGrid:
    """One feature grid: ``values`` (R_z, R_y, R_x, F) and the transform into its cube.

    ``transform`` T (3 x 4, float32) maps a brick-local coordinate ``p`` to ``q = T[:, :3] p + T[:, 3]``
    in the grid's cube ``[-1, 1]^3`` (corner aligned). ``unorm8`` values are uint8 codes with
    ``feature = f32(code) * f32(scale) + f32(offset)``; ``float16`` values are the features (scale 1,
    offset 0). ``scale`` and ``offset`` are kept as float32 values.
    """

    name: str
    transform: np.ndarray
    storage: Literal["unorm8", "float16"]
    values: np.ndarray
    scale: float = 1.0
    offset: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ValueError(f"grid name {self.name!r} must be letters, digits or '_'")
        where = f"grid {self.name!r}"
        t = np.array(self.transform, dtype=np.float32)
        if t.shape != (3, 4):
            raise ValueError(f"{where}: transform must be 3 x 4, got shape {t.shape}")
        if not np.isfinite(t).all():
            raise ValueError(f"{where}: transform has non-finite entries")
        self.transform = t
        if self.storage not in STORAGES:
            raise ValueError(f"{where}: storage {self.storage!r} is not one of {', '.join(STORAGES)}")
        v = self.values
        if not isinstance(v, np.ndarray) or v.ndim != 4:
            raise ValueError(f"{where}: values must be a 4-D array (R_z, R_y, R_x, F), got "
                             f"{getattr(v, 'shape', type(v).__name__)}")
        if not 1 <= v.shape[3] <= 4:
            raise ValueError(f"{where}: {v.shape[3]} features per texel (1 to 4 allowed)")
        if min(v.shape[:3]) < 2:
            raise ValueError(f"{where}: resolution {v.shape[:3]} needs at least 2 nodes per axis (corner aligned)")
        want = np.uint8 if self.storage == "unorm8" else np.float16
        if v.dtype != want:
            raise ValueError(f"{where}: {self.storage} values must be {np.dtype(want)}, got {v.dtype}")
        self.values = np.ascontiguousarray(v, dtype=want)     # native byte order, C order
        if self.storage == "float16" and not np.isfinite(self.values).all():
            raise ValueError(f"{where}: float16 values include inf or NaN")
        if not (np.isfinite(self.scale) and np.isfinite(self.offset)):
            raise ValueError(f"{where}: scale {self.scale} / offset {self.offset} not finite")
        self.scale, self.offset = f32(self.scale), f32(self.offset)
        if self.storage == "float16" and (self.scale, self.offset) != (1.0, 0.0):
            raise ValueError(f"{where}: float16 grids store features directly (scale 1, offset 0), "
                             f"got scale {self.scale}, offset {self.offset}")

    @property
    def resolution(self) -> tuple[int, int, int]:
        """(R_z, R_y, R_x)."""
        return tuple(int(r) for r in self.values.shape[:3])  # type: ignore[return-value]

    @property
    def features(self) -> int:
        return int(self.values.shape[3])

    @property
    def dxgi_format(self) -> str:
        return DXGI_FORMATS[self.storage]

    def texels(self) -> np.ndarray:
        """The DDS payload (R_z, R_y, R_x, 4): the features, then zero components."""
        out = np.zeros(self.values.shape[:3] + (4,), dtype=self.values.dtype)
        out[..., : self.features] = self.values
        return out

    def stored_bytes(self) -> int:
        """Texel bytes on disk (four components per texel, whatever F)."""
        return int(np.prod(self.resolution)) * 4 * self.values.dtype.itemsize

    def dequantized(self) -> np.ndarray:
        """float32 features (R_z, R_y, R_x, F)."""
        if self.storage == "float16":
            return self.values.astype(np.float32)
        return self.values.astype(np.float32) * np.float32(self.scale) + np.float32(self.offset)


def _box(value: Any, what: str) -> Box:
    try:
        box = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be 6 integers z0, z1, y0, y1, x0, x1, got {value!r}") from None
    if len(box) != 6 or any(int(v) != v for v in value):
        raise ValueError(f"{what} must be 6 integers z0, z1, y0, y1, x0, x1, got {value!r}")
    if any(box[2 * a] >= box[2 * a + 1] or box[2 * a] < 0 for a in range(3)):
        raise ValueError(f"{what} {list(box)} has an empty or negative range")
    return box  # type: ignore[return-value]


def _box_contains(outer: Box, inner: Box) -> bool:
    return all(outer[2 * a] <= inner[2 * a] and inner[2 * a + 1] <= outer[2 * a + 1] for a in range(3))


def _box_voxels(b: Box) -> int:
    return (b[1] - b[0]) * (b[3] - b[2]) * (b[5] - b[4])


def _boxes_overlap(a: Box, b: Box) -> bool:
    return all(max(a[2 * i], b[2 * i]) < min(a[2 * i + 1], b[2 * i + 1]) for i in range(3))


@dataclass
class VolumeBrick:
    """One model of an ensemble: the voxels it owns (``core``), those it was fit on, grids and MLP.

    The decoder takes the grids' features in order (grid 0's F first) and gives one value; hidden
    layers are ``relu``, the output layer ``none`` (``clamp01`` accepted: decoding clamps either way).
    """

    name: str
    core: Box
    fit: Box
    grids: list[VolumeGrid]
    decoder: Decoder

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ValueError(f"brick name {self.name!r} must be letters, digits or '_'")
        where = f"brick {self.name!r}"
        self.core = _box(self.core, f"{where}: core")
        self.fit = _box(self.fit, f"{where}: fit")
        if not _box_contains(self.fit, self.core):
            raise ValueError(f"{where}: fit box {list(self.fit)} does not contain the core {list(self.core)}")
        if any(self.fit[2 * a + 1] - self.fit[2 * a] < 2 for a in range(3)):
            raise ValueError(f"{where}: fit box {list(self.fit)} needs at least 2 voxels per axis")
        self.grids = list(self.grids)
        if not self.grids:
            raise ValueError(f"{where}: needs at least one grid")
        names = [g.name for g in self.grids]
        if len(set(names)) != len(names):
            raise ValueError(f"{where}: duplicate grid names {names}")
        d = self.decoder
        if not isinstance(d, Decoder):
            raise ValueError(f"{where}: decoder must be an ngsdk.asset.types.Decoder")
        if d.quantized is not None:
            raise ValueError(f"{where}: volume decoders are float32 (no quantized decoder)")
        if d.inputs != self.features:
            raise ValueError(f"{where}: decoder takes {d.inputs} inputs, the grids give {self.features} features")
        if d.outputs != 1:
            raise ValueError(f"{where}: decoder gives {d.outputs} outputs, a volume needs 1")
        for i, layer in enumerate(d.layers[:-1]):
            if layer.activation != "relu":
                raise ValueError(f"{where}: hidden layer {i} activation {layer.activation!r} (only relu is defined)")
        if d.layers[-1].activation not in OUTPUT_ACTIVATIONS:
            raise ValueError(f"{where}: output activation {d.layers[-1].activation!r} "
                             f"(use one of {', '.join(OUTPUT_ACTIVATIONS)})")
        for i, layer in enumerate(d.layers):
            if not (np.isfinite(layer.weight).all() and np.isfinite(layer.bias).all()):
                raise ValueError(f"{where}: decoder layer {i} has non-finite weights")

    @property
    def features(self) -> int:
        return sum(g.features for g in self.grids)

    def grid_file(self, grid: VolumeGrid) -> str:
        return f"bricks/{self.name}/{grid.name}.dds"

    @property
    def decoder_file(self) -> str:
        return f"bricks/{self.name}/decoder.npz"

    def stored_bytes(self) -> int:
        return sum(g.stored_bytes() for g in self.grids) + self.decoder.stored_bytes()


@dataclass
class NeuralVolumeAsset:
    """A neural volume: bricks of grids + MLP reproducing a ``D x H x W`` scalar field.

    ``provenance.reference_decode["volume"]`` is the sha256 of the trainer's own decode (float32,
    z-major, in ``decode_mode``); ``provenance.metrics["psnr_db"]`` its PSNR on normalized values.
    The bricks' cores tile the volume (disjoint, covering every voxel); their fit boxes may overlap.
    """

    name: str
    shape: tuple[int, int, int]
    normalization: Normalization
    bricks: list[VolumeBrick]
    provenance: Provenance
    decode_mode: DecodeMode = "exact"
    exports: list[GraphExport] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError("asset name must be a non-empty string")
        try:
            shape = tuple(int(s) for s in self.shape)
        except (TypeError, ValueError):
            raise ValueError(f"shape must be (D, H, W) integers, got {self.shape!r}") from None
        if len(shape) != 3 or min(shape) < 2:
            raise ValueError(f"shape {self.shape!r} must be (D, H, W) with at least 2 voxels per axis")
        self.shape = shape  # type: ignore[assignment]
        self.normalization = Normalization.coerce(self.normalization)
        if self.decode_mode not in VOLUME_DECODE_MODES:
            raise ValueError(f"decode mode {self.decode_mode!r} is not one of {', '.join(VOLUME_DECODE_MODES)}")
        if not isinstance(self.provenance, Provenance):
            raise ValueError("provenance must be an ngsdk.asset.types.Provenance")
        self.bricks = list(self.bricks)
        if not self.bricks:
            raise ValueError("a volume needs at least one brick")
        names = [b.name for b in self.bricks]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate brick names {names}")
        whole: Box = (0, shape[0], 0, shape[1], 0, shape[2])
        for b in self.bricks:
            if not _box_contains(whole, b.fit):
                raise ValueError(f"brick {b.name!r}: fit box {list(b.fit)} exceeds the volume {list(shape)}")
        for i, a in enumerate(self.bricks):
            for b in self.bricks[i + 1:]:
                if _boxes_overlap(a.core, b.core):
                    raise ValueError(f"bricks {a.name!r} and {b.name!r}: core boxes {list(a.core)} and "
                                     f"{list(b.core)} overlap")
        covered = sum(_box_voxels(b.core) for b in self.bricks)
        if covered != shape[0] * shape[1] * shape[2]:
            # disjoint boxes inside the volume: equal counts <=> they tile it
            raise ValueError(f"brick cores cover {covered} of {shape[0] * shape[1] * shape[2]} voxels; "
                             f"they must tile the volume")

    def source_bytes(self) -> int:
        return int(np.prod(self.shape)) * self.normalization.itemsize

    def stored_bytes(self) -> int:
        """Texel bytes of every grid plus decoder weights and biases (headers and manifest not counted)."""
        return sum(b.stored_bytes() for b in self.bricks)

    def compression_ratio(self) -> float:
        """Source bytes (voxels x the source dtype's item size) / stored bytes."""
        return self.source_bytes() / self.stored_bytes()

    def local_transform(self, brick: VolumeBrick) -> tuple[np.ndarray, np.ndarray]:
        """See :func:`local_transform`."""
        return local_transform(self.shape, brick.fit)


# --------------------------------------------------------------------------- manifest <-> asset


def _grid_manifest(brick: VolumeBrick, g: VolumeGrid) -> dict[str, Any]:
    rz, ry, rx = g.resolution
    return {
        "name": g.name,
        "file": brick.grid_file(g),
        "dxgi_format": g.dxgi_format,
        "storage": g.storage,
        "width": rx,
        "height": ry,
        "depth": rz,
        "features": g.features,
        "transform": [[f32(v) for v in row] for row in g.transform.tolist()],
        "dequantize": {"scale": f32(g.scale), "offset": f32(g.offset)},
    }


def _decoder_manifest(brick: VolumeBrick) -> dict[str, Any]:
    d = brick.decoder
    return {
        "file": brick.decoder_file,
        "dtype": "float32",
        "layout": "out_in_row_major",
        "inputs": d.inputs,
        "outputs": d.outputs,
        "input_order": [f"{g.name}[{i}]" for g in brick.grids for i in range(g.features)],
        "layers": [
            {"weight": f"layer{i}.weight", "bias": f"layer{i}.bias", "inputs": ly.inputs,
             "outputs": ly.outputs, "activation": ly.activation}
            for i, ly in enumerate(d.layers)
        ],
    }


def to_manifest(asset: NeuralVolumeAsset, files: FileRecords) -> dict[str, Any]:
    """The ``manifest.json`` dict of ``asset``; ``files`` maps each written file to its ``file_record``."""
    bricks = []
    for b in asset.bricks:
        scale, offset = asset.local_transform(b)
        bricks.append({
            "name": b.name,
            "core": list(b.core),
            "fit": list(b.fit),
            "to_local": {"scale": [f32(v) for v in scale], "offset": [f32(v) for v in offset]},
            "grids": [_grid_manifest(b, g) for g in b.grids],
            "decoder": _decoder_manifest(b),
        })
    return {
        **manifest_fields(KIND, FORMAT_VERSION, asset, files),
        "volume": {
            "shape": list(asset.shape),
            "axes": "zyx",
            "coordinates": "corner_aligned",
            "normalization": asset.normalization.to_dict(),
        },
        "decode_mode": asset.decode_mode,
        "decode": {"arithmetic": ARITHMETIC, "output": "normalized_clamp01"},
        "bricks": bricks,
    }


def referenced_files(manifest: Mapping[str, Any]) -> list[str]:
    """Every brick's grid DDS files and decoder npz."""
    return [f for b in manifest["bricks"] for f in [*(g["file"] for g in b["grids"]), b["decoder"]["file"]]]


def decoder_npz_spec(decoder: Mapping[str, Any]) -> dict[str, tuple[tuple[int, ...], str]]:
    """The arrays a brick's ``decoder.npz`` must hold (key -> (shape, dtype)), from its manifest entry."""
    out: dict[str, tuple[tuple[int, ...], str]] = {}
    for ly in decoder["layers"]:
        out[ly["weight"]] = ((ly["outputs"], ly["inputs"]), "float32")
        out[ly["bias"]] = ((ly["outputs"],), "float32")
    return out


def grid_values(texels: np.ndarray, g: Mapping[str, Any], path: str | Path) -> np.ndarray:
    """A grid's values from its DDS texels (R_z, R_y, R_x, 4): checks shape and that unused components are 0."""
    want = (g["depth"], g["height"], g["width"], 4)
    if texels.shape != want:
        raise AssetError(path, f"texels have shape {texels.shape}, manifest says {want} (depth, height, width, 4)")
    f = g["features"]
    if f < 4 and np.any(texels[..., f:].view(np.uint8 if texels.dtype.itemsize == 1 else np.uint16)):
        raise AssetError(path, f"components {f}..3 must be 0 (the grid has {f} features)")
    dtype = np.uint8 if g["storage"] == "unorm8" else np.float16
    return np.ascontiguousarray(texels[..., :f], dtype=dtype)


def from_manifest(
    manifest: Mapping[str, Any], contents: Mapping[str, Any], path: str | Path = "manifest.json"
) -> NeuralVolumeAsset:
    """Rebuild the asset from a validated manifest and the bundle's loaded files.

    ``contents`` maps each grid's file name to its DDS texels (R_z, R_y, R_x, 4) and each decoder's file
    name to its dict of npz arrays; ``path`` (the manifest) names errors. Raises AssetError when the
    files and the manifest disagree or the asset is inconsistent.
    """
    try:
        bricks = []
        for b in manifest["bricks"]:
            grids = []
            for g in b["grids"]:
                values = grid_values(contents[g["file"]], g, Path(path).parent / g["file"])
                grids.append(VolumeGrid(
                    name=g["name"], transform=np.array(g["transform"], dtype=np.float32), storage=g["storage"],
                    values=values, scale=g["dequantize"]["scale"], offset=g["dequantize"]["offset"],
                ))
                if g["dxgi_format"] != DXGI_FORMATS[g["storage"]]:
                    raise ValueError(f"grid {g['name']!r}: {g['storage']} is stored as {DXGI_FORMATS[g['storage']]},"
                                     f" not {g['dxgi_format']}")
            d = b["decoder"]
            arrays = contents[d["file"]]
            layers = [DecoderLayer(arrays[ly["weight"]], arrays[ly["bias"]], ly["activation"]) for ly in d["layers"]]
            for spec, layer in zip(d["layers"], layers, strict=True):
                if (layer.outputs, layer.inputs) != (spec["outputs"], spec["inputs"]):
                    raise ValueError(f"{spec['weight']} has shape {layer.weight.shape}, manifest says "
                                     f"({spec['outputs']}, {spec['inputs']})")
            brick = VolumeBrick(name=b["name"], core=tuple(b["core"]), fit=tuple(b["fit"]), grids=grids,
                                decoder=Decoder(layers=layers, file=d["file"]))
            bricks.append(brick)
        v = manifest["volume"]
        p = manifest["provenance"]
        asset = NeuralVolumeAsset(
            name=manifest["name"],
            shape=tuple(v["shape"]),
            normalization=Normalization.from_dict(v["normalization"]),
            bricks=bricks,
            provenance=Provenance.from_manifest(p),
            decode_mode=manifest["decode_mode"],
            exports=[GraphExport(**x) for x in manifest.get("exports", [])],
        )
        for b, spec in zip(asset.bricks, manifest["bricks"], strict=True):
            to_local = spec.get("to_local")
            if to_local is not None:
                scale, offset = asset.local_transform(b)
                if (np.array(to_local["scale"], np.float32).tobytes() != scale.tobytes()
                        or np.array(to_local["offset"], np.float32).tobytes() != offset.tobytes()):
                    raise ValueError(f"brick {b.name!r}: to_local {to_local} disagrees with the fit box "
                                     f"(expected scale {scale.tolist()}, offset {offset.tolist()})")
        return asset
    except (ValueError, TypeError, KeyError) as e:
        raise AssetError(path, f"inconsistent with manifest.json: {e}") from None


def select_bricks(asset: NeuralVolumeAsset, p: np.ndarray) -> np.ndarray:
    """Index of the brick decoding each point (N, 3): the first whose core box, extended by half a
    voxel, contains the point clamped to ``[-1, 1]^3`` (ties to the lower index; NaN -> brick 0).

    On an axis of ``n`` voxels, core ``[c0, c1)`` extended by half a voxel holds ``x`` iff
    ``2 c0 - n <= x (n - 1) <= 2 c1 - n``; ``x (n - 1)`` is exact in float64 for float32 ``x``.
    """
    n_pts = p.shape[0]
    if len(asset.bricks) == 1:
        return np.zeros(n_pts, dtype=np.int32)
    pc = np.clip(np.asarray(p, dtype=np.float32), -1, 1).astype(np.float64)
    d, h, w = asset.shape
    t = [pc[:, 0] * (w - 1), pc[:, 1] * (h - 1), pc[:, 2] * (d - 1)]
    sel = np.full(n_pts, -1, dtype=np.int32)
    for i, b in enumerate(asset.bricks):
        c = b.core
        inside = sel < 0
        for axis, (n, c0, c1) in enumerate(((w, c[4], c[5]), (h, c[2], c[3]), (d, c[0], c[1]))):
            inside &= (t[axis] >= 2 * c0 - n) & (t[axis] <= 2 * c1 - n)
        sel[inside] = i
    sel[sel < 0] = 0
    return sel

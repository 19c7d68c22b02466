"""The multi-view PBR reconstruction asset (kind ``pbr_reconstruction``) and its manifest codec (torch-free).

A :class:`PbrReconstructionAsset` is a trained network (teacher or student, docs/pbr-reconstruction.md) that
maps three photos of a surface to its albedo, roughness, metallic and normal maps. The bundle holds the
architecture (the model spec a reader rebuilds the network from), the weights (``weights.npz``: the state dict,
float32 plus BN batch counters as int64) and a small reference set (``reference.npz``: views and the trained
model's fp32 outputs) that ``ngsdk verify`` compares the graph exports with.

Graph IO (every export): inputs ``view1``, ``view2``, ``view3`` in this order (the views the trainer calls
0, 1, 2: any three photos of the same surface, the network is trained on every order the renderer makes);
sRGB pixels, the ImageNet normalisation is inside the graph. Outputs in map order: albedo (3, sRGB),
roughness (1, linear), metallic (1, linear), normal (3, OpenGL tangent space; unit vectors as tensors,
0.5 n + 0.5 as images).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ngsdk.asset.codec import FileRecords, manifest_fields
from ngsdk.asset.errors import AssetError
from ngsdk.asset.types import GraphExport, Provenance

KIND = "pbr_reconstruction"
FORMAT_VERSION = "1.0"
READABLE_MAJORS = (1,)
ROLES = ("teacher", "student")
VIEW_INPUTS = ("view1", "view2", "view3")
"""Graph input names, in the order of ``forward(view0, view1, view2)`` (the names the NeuroPBR app uses)."""
WEIGHTS_FILE = "weights.npz"
REFERENCE_FILE = "reference.npz"
WEIGHT_DTYPES = ("float32", "int64")


@dataclass(frozen=True)
class MapInfo:
    """One predicted map: its channels, the colour space of its stored values and its encoding."""

    name: str
    channels: int
    colour_space: str
    """``srgb`` (albedo) or ``linear``."""
    encoding: str = "unorm"
    """``unorm``: values in [0, 1]; ``unit_vector``: normals, components in [-1, 1] (0.5 n + 0.5 in PNGs and
    image outputs)."""
    convention: str | None = None
    """Normals: ``gl`` (+Y towards the top of the image)."""


MAPS: tuple[MapInfo, ...] = (
    MapInfo("albedo", 3, "srgb"),
    MapInfo("roughness", 1, "linear"),
    MapInfo("metallic", 1, "linear"),
    MapInfo("normal", 3, "linear", "unit_vector", "gl"),
)
MAP_CHANNELS = sum(m.channels for m in MAPS)


def map_slices() -> dict[str, slice]:
    """Channel ranges of each map in the stacked (8, H, W) output."""
    out, c = {}, 0
    for m in MAPS:
        out[m.name] = slice(c, c + m.channels)
        c += m.channels
    return out


@dataclass
class PbrReference:
    """The reference set: ``views`` uint8 (N, 3, H, W, 3) sRGB photos; ``maps16`` the trained model's fp32
    outputs (N, 8, S, S) stored as float16 (map order, normals as unit vectors); ``at`` sorted flat indices
    into ``maps`` and ``values`` the fp32 outputs there (float32), for bounds finer than float16 resolves."""

    views: np.ndarray
    maps16: np.ndarray
    at: np.ndarray
    values: np.ndarray

    def __post_init__(self) -> None:
        self.views = np.ascontiguousarray(self.views)
        self.maps16 = np.ascontiguousarray(self.maps16)
        self.at = np.ascontiguousarray(self.at)
        self.values = np.ascontiguousarray(self.values)
        v, m = self.views, self.maps16
        if v.dtype != np.uint8 or v.ndim != 5 or v.shape[1] != 3 or v.shape[-1] != 3:
            raise ValueError(f"reference views must be uint8 (N, 3, H, W, 3), got {v.dtype} {v.shape}")
        if m.dtype != np.float16 or m.ndim != 4 or m.shape[:2] != (v.shape[0], MAP_CHANNELS):
            raise ValueError(f"reference maps must be float16 ({v.shape[0]}, {MAP_CHANNELS}, S, S), got "
                             f"{m.dtype} {m.shape}")
        if self.at.ndim != 1 or self.at.dtype.kind not in "iu" or self.values.shape != self.at.shape:
            raise ValueError("reference samples: 'at' must be 1-D integers with one float32 value each")
        if self.values.dtype != np.float32:
            raise ValueError(f"reference sample values must be float32, got {self.values.dtype}")
        if self.at.size and (int(self.at.min()) < 0 or int(self.at.max()) >= m.size):
            raise ValueError(f"reference sample indices lie outside the maps' {m.size} elements")

    @property
    def samples(self) -> int:
        return int(self.views.shape[0])

    def arrays(self) -> dict[str, np.ndarray]:
        return {"views": self.views, "maps16": self.maps16, "at": self.at, "values": self.values}

    @classmethod
    def sampled(cls, views: np.ndarray, maps: np.ndarray, count: int = 1 << 15, seed: int = 0) -> PbrReference:
        """From fp32 outputs (N, 8, S, S): all of them in float16 and ``count`` seeded elements in float32."""
        maps = np.asarray(maps, dtype=np.float32)
        at = np.sort(np.random.default_rng(seed).choice(maps.size, min(count, maps.size), replace=False))
        return cls(views, maps.astype(np.float16), at.astype(np.int64), maps.reshape(-1)[at])


@dataclass
class PbrReconstructionAsset:
    """A trained multi-view PBR network; ``architecture`` is the model spec (``ngsdk.pbr.config.ModelSpec``
    as a dict), ``weights`` its state dict."""

    name: str
    role: str
    preset: str
    architecture: dict[str, Any]
    weights: dict[str, np.ndarray]
    provenance: Provenance
    reference: PbrReference | None = None
    teacher: dict[str, Any] | None = None
    """Students: the teacher they were distilled from (spec, source, its figures)."""
    exports: list[GraphExport] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"role must be teacher or student, got {self.role!r}")
        for key in ("image_size", "mean", "std", "role"):
            if key not in self.architecture:
                raise ValueError(f"architecture has no {key!r}")
        if self.architecture["role"] != self.role:
            raise ValueError(f"architecture is a {self.architecture['role']}, the asset a {self.role}")
        if not self.weights:
            raise ValueError("no weights")
        for k, v in self.weights.items():
            if np.asarray(v).dtype.name not in WEIGHT_DTYPES:
                raise ValueError(f"weight {k!r} is {np.asarray(v).dtype}, not float32 or int64")
        if self.reference is not None:
            h, w = self.reference.views.shape[2:4]
            s = self.reference.maps16.shape[2:]
            if (h, w) != (self.input_size, self.input_size) or s != (self.output_size, self.output_size):
                raise ValueError(f"reference set is {h}x{w} -> {s[0]}x{s[1]}, the network "
                                 f"{self.input_size} -> {self.output_size}")

    @property
    def input_size(self) -> int:
        return int(self.architecture["image_size"])

    @property
    def output_size(self) -> int:
        return self.input_size * (2 if self.architecture.get("sr") else 1)

    def parameter_count(self) -> int:
        """Trained parameters (BN statistics and counters excluded)."""
        return int(sum(v.size for k, v in self.weights.items()
                       if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))))

    def weight_arrays(self) -> dict[str, np.ndarray]:
        return {k: np.asarray(v, order="C") for k, v in sorted(self.weights.items())}  # 0-d counters stay 0-d


# --------------------------------------------------------------------------- manifest <-> asset


def to_manifest(asset: PbrReconstructionAsset, files: FileRecords) -> dict[str, Any]:
    """The ``manifest.json`` dict of ``asset``; ``files`` maps each written file to its record."""
    arch = asset.architecture
    out: dict[str, Any] = {
        **manifest_fields(KIND, FORMAT_VERSION, asset, files),
        "model": {"role": asset.role, "preset": asset.preset, "architecture": dict(arch),
                  "parameters": asset.parameter_count()},
        "input": {
            "views": list(VIEW_INPUTS),
            "view_order": "any three photos of the same surface, given in the order of the graph inputs",
            "size": [asset.input_size, asset.input_size],
            "colour_space": "srgb",
            "range": [0.0, 1.0],
            "layout": "NCHW",
            "normalisation": {"mean": list(arch["mean"]), "std": list(arch["std"]), "inside_graph": True},
        },
        "output": {
            "size": [asset.output_size, asset.output_size],
            "maps": [{"name": m.name, "channels": m.channels, "colour_space": m.colour_space,
                      "encoding": m.encoding, **({"convention": m.convention} if m.convention else {})}
                     for m in MAPS],
            "upscale": "none in the graph (the NeuroPBR app resizes 1024 -> 2048 with Lanczos)",
        },
        "weights": {"file": WEIGHTS_FILE, "dtypes": list(WEIGHT_DTYPES), "arrays": len(asset.weights),
                    "layout": "torch_state_dict"},
    }
    if asset.reference is not None:
        out["reference"] = {"file": REFERENCE_FILE, "samples": asset.reference.samples,
                            "sampled_elements": int(asset.reference.at.size)}
    if asset.teacher is not None:
        out["teacher"] = asset.teacher
    return out


def referenced_files(manifest: dict[str, Any]) -> list[str]:
    """The weights npz and the reference npz (when there is one)."""
    refs = [manifest["weights"]["file"]]
    if "reference" in manifest:
        refs.append(manifest["reference"]["file"])
    return refs


def from_manifest(manifest: dict[str, Any], contents: dict[str, Any], path: Any) -> PbrReconstructionAsset:
    """Rebuild the asset from a validated manifest and the npz arrays of its files; AssetError if inconsistent."""
    try:
        w = manifest["weights"]
        weights = dict(contents[w["file"]])
        if len(weights) != w["arrays"]:
            raise ValueError(f"{w['file']} holds {len(weights)} arrays, the manifest says {w['arrays']}")
        reference = None
        if "reference" in manifest:
            r = manifest["reference"]
            arrays = contents[r["file"]]
            missing = sorted({"views", "maps16", "at", "values"} - set(arrays))
            if missing:
                raise ValueError(f"{r['file']} lacks {', '.join(missing)}")
            reference = PbrReference(arrays["views"], arrays["maps16"], arrays["at"], arrays["values"])
            if reference.samples != r["samples"]:
                raise ValueError(f"{r['file']} holds {reference.samples} samples, the manifest says {r['samples']}")
        m = manifest["model"]
        asset = PbrReconstructionAsset(
            name=manifest["name"], role=m["role"], preset=m["preset"], architecture=dict(m["architecture"]),
            weights=weights, provenance=Provenance.from_manifest(manifest["provenance"]), reference=reference,
            teacher=manifest.get("teacher"), exports=[GraphExport(**x) for x in manifest.get("exports", [])])
        size = manifest["input"]["size"]
        if size != [asset.input_size, asset.input_size]:
            raise ValueError(f"input size {size} differs from the architecture's {asset.input_size}")
        if manifest["output"]["size"] != [asset.output_size, asset.output_size]:
            raise ValueError(f"output size {manifest['output']['size']} differs from the architecture's "
                             f"{asset.output_size}")
        return asset
    except (ValueError, TypeError, KeyError) as e:
        raise AssetError(path, f"inconsistent with manifest.json: {e}") from None

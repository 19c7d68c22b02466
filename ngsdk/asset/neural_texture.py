"""The neural texture (kind ``neural_texture``): its asset types and its manifest codec (torch-free).

A :class:`NeuralTextureAsset` holds everything a bundle stores: channel semantics, quantized latent grids
with every trained level, the decoder weights, the positional encoding, the sampler state, the decode mode
and the provenance. :func:`to_manifest` / :func:`from_manifest` map it to and from ``manifest.json``
(docs/asset-format.md); ``ngsdk.exporters.neural_texture`` writes it, ``ngsdk.runtime_ref.neural_texture``
loads it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ngsdk.asset.codec import FileRecords, manifest_fields
from ngsdk.asset.errors import AssetError
from ngsdk.asset.types import (
    DECODE_MODES,
    DecodeMode,
    Decoder,
    DecoderLayer,
    GraphExport,
    IntLayer,
    Provenance,
    QuantizedDecoder,
    f32,
)

KIND = "neural_texture"
FORMAT_VERSION = "2.0"
"""2.0 replaced ``texture.grid_levels`` with ``texture.mip_inputs`` (latent taps + LOD input)."""
READABLE_MAJORS = (1, 2)
"""1.x manifests (``grid_levels``) read as one tap per grid and no LOD input."""

SEMANTICS = (
    "albedo",
    "normal",
    "roughness",
    "ao",
    "metallic",
    "specular",
    "displacement",
    "opacity",
    "emissive",
)
"""Known channel semantics; anything else is user-named as ``user:<name>``."""

ColourSpace = Literal["linear", "srgb"]


def check_semantic(semantic: str) -> str:
    """Return ``semantic`` if it is known or user-named (``user:<name>``), else raise ValueError."""
    if semantic in SEMANTICS:
        return semantic
    if semantic.startswith("user:") and len(semantic) > 5:
        return semantic
    raise ValueError(f"unknown channel semantic {semantic!r}: use one of {', '.join(SEMANTICS)} or 'user:<name>'")


@dataclass
class Channel:
    """One output channel of a decoded texture.

    ``colour_space`` is the space the engine stores/displays (``srgb`` for colour maps); the
    decoder itself always outputs linear values in [0, 1] and the engine re-encodes sRGB channels.
    ``component`` names the component within its semantic group (``r``, ``g``, ``b``, ``x``...).
    """

    name: str
    semantic: str
    component: str = "r"
    colour_space: ColourSpace = "linear"
    source: str | None = None
    normal_convention: Literal["gl", "dx"] | None = None

    def __post_init__(self) -> None:
        check_semantic(self.semantic)
        if self.colour_space not in ("linear", "srgb"):
            raise ValueError(f"channel {self.name!r}: colour space must be 'linear' or 'srgb'")


@dataclass
class FeatureGrid:
    """A quantized latent feature grid with a pyramid of levels.

    ``levels[l]`` is a uint8 array (h_l, w_l, features) of integer codes in [0, 2**bits - 1];
    a code dequantizes to ``f32(code) * f32(scale) + f32(offset)``. On disk the codes are packed
    ``8 // bits`` to a byte into R8G8B8A8 texels (see docs/asset-format.md).
    """

    name: str
    features: int
    bits: int
    scale: float
    offset: float
    levels: list[np.ndarray]
    file: str = ""

    def __post_init__(self) -> None:
        if self.bits not in (2, 4, 8):
            raise ValueError(f"grid {self.name!r}: quantization bits must be 2, 4 or 8, got {self.bits}")
        if not self.levels:
            raise ValueError(f"grid {self.name!r}: needs at least one level")
        top_h, top_w = self.levels[0].shape[:2]
        for i, lv in enumerate(self.levels):
            expect = (max(1, top_h >> i), max(1, top_w >> i), self.features)
            if lv.shape != expect or lv.dtype != np.uint8:
                raise ValueError(
                    f"grid {self.name!r} level {i}: expected uint8 {expect}, got {lv.dtype} {lv.shape}"
                )
            if int(lv.max(initial=0)) >= (1 << self.bits):
                raise ValueError(f"grid {self.name!r} level {i}: code above {2**self.bits - 1}")
        if not self.file:
            self.file = f"{self.name}.dds"

    @property
    def width(self) -> int:
        return int(self.levels[0].shape[1])

    @property
    def height(self) -> int:
        return int(self.levels[0].shape[0])

    @property
    def texel_bytes(self) -> int:
        """Bytes one texel of one level occupies on disk (whole R8G8B8A8 slices)."""
        return 4 * self.array_size

    @property
    def array_size(self) -> int:
        """Number of R8G8B8A8 array slices needed to hold the packed features."""
        per_byte = 8 // self.bits
        nbytes = -(-self.features // per_byte)
        return -(-nbytes // 4)

    def stored_bytes(self) -> int:
        return sum(lv.shape[0] * lv.shape[1] for lv in self.levels) * self.texel_bytes


@dataclass
class Encoding:
    """Positional encoding of the texture coordinate.

    ``triangle``: for each frequency f (cycles per texture at mip 0) and phase p, per axis,
    ``t = u * f32(f / 2**l) + f32(p)``, ``abs((t - floor(t)) * 2 - 1)`` in fp32, where ``l`` is
    the level of the first grid that the mip is decoded from (so the encoding keeps its period
    in grid cells across mips). Ordered frequency-major, then phase, then axis (u, v).
    Piecewise-linear: every implementation computes the same bits (no transcendentals).
    """

    kind: Literal["triangle", "none"] = "triangle"
    frequencies: list[float] = field(default_factory=lambda: [1.0, 4.0, 16.0])
    phases: list[float] = field(default_factory=lambda: [0.0, 0.25])

    @property
    def features(self) -> int:
        return 0 if self.kind == "none" else 2 * len(self.frequencies) * len(self.phases)


@dataclass
class SamplerState:
    """How latents are sampled: bilinear with texel centres at half-integers."""

    filter: Literal["bilinear", "nearest"] = "bilinear"
    address: Literal["wrap", "clamp"] = "wrap"


LOD_INPUT_MAX = 127
"""A texture's per-mip LOD input (format 2.0) is an integer in [-127, 127]; its real value is ``lod / 127``."""


@dataclass
class NeuralTextureAsset:
    """A neural texture: latent grids + decoder that reproduce a set of material channels.

    Texture mip ``m`` (size ``max(1, width >> m)`` x ``max(1, height >> m)``) is decoded from the
    latent taps ``taps[m]``: each ``(grid, level)`` is one bilinear fetch of level ``level`` of grid
    ``grid`` giving that grid's features, in order; format 2.0 bundles fetch two consecutive levels
    of one latent pyramid. ``lod_inputs[m]`` (format 2.0, optional) is an extra decoder input per mip
    that tells mips sharing the same latent levels apart.
    """

    name: str
    width: int
    height: int
    channels: list[Channel]
    grids: list[FeatureGrid]
    taps: list[list[tuple[int, int]]]
    decoder: Decoder
    encoding: Encoding
    sampler: SamplerState
    provenance: Provenance
    decode_mode: DecodeMode = "float"
    exports: list[GraphExport] = field(default_factory=list)
    lod_inputs: list[int] | None = None

    def __post_init__(self) -> None:
        self.taps = [[(int(g), int(l)) for g, l in t] for t in self.taps]
        if not self.taps:
            raise ValueError("a neural texture needs at least one mip")
        for m, t in enumerate(self.taps):
            if not t:
                raise ValueError(f"mip {m}: no latent taps")
            for g, l in t:
                if not 0 <= g < len(self.grids) or not 0 <= l < len(self.grids[g].levels):
                    raise ValueError(f"mip {m}: latent tap (grid {g}, level {l}) does not exist")
            if [g for g, _ in t] != [g for g, _ in self.taps[0]]:
                raise ValueError(f"mip {m}: taps read grids {[g for g, _ in t]}, mip 0 reads "
                                 f"{[g for g, _ in self.taps[0]]} (every mip feeds the same decoder inputs)")
        if self.lod_inputs is not None:
            self.lod_inputs = [int(x) for x in self.lod_inputs]
            if len(self.lod_inputs) != len(self.taps):
                raise ValueError(f"{len(self.lod_inputs)} LOD inputs for {len(self.taps)} mips")
            if any(abs(x) > LOD_INPUT_MAX for x in self.lod_inputs):
                raise ValueError(f"LOD inputs must lie in [-{LOD_INPUT_MAX}, {LOD_INPUT_MAX}]")
        expect_in = self.latent_inputs + self.encoding.features + (1 if self.lod_inputs is not None else 0)
        if self.decoder.inputs != expect_in:
            raise ValueError(f"decoder takes {self.decoder.inputs} inputs, taps+encoding+LOD give {expect_in}")
        if self.decoder.outputs != len(self.channels):
            raise ValueError(f"decoder gives {self.decoder.outputs} outputs for {len(self.channels)} channels")
        if self.decode_mode not in DECODE_MODES:
            raise ValueError(f"unknown decode mode {self.decode_mode!r}")
        if (self.decode_mode == "float") != (self.decoder.quantized is None):
            raise ValueError(f"decode mode {self.decode_mode!r} needs "
                             f"{'a float' if self.decode_mode == 'float' else 'an integer (quantized)'} decoder")
        if self.decoder.quantized is not None:
            q = self.decoder.quantized
            if self.encoding.kind != "none" and 2 * len(q.period_log2) != self.encoding.features:
                raise ValueError(f"quantized decoder has {len(q.period_log2)} encoding terms, encoding gives "
                                 f"{self.encoding.features // 2}")
        if self.decode_mode == "hardware":
            if any(g.bits != 8 for g in self.grids):
                raise ValueError("hardware decode mode samples latents with the texture filter: grids need 8-bit codes")
            if self.lod_inputs is not None:
                raise ValueError("hardware decode mode: no LOD input (one sampler LOD addresses every grid)")
            for m, t in enumerate(self.taps):
                if t != [(g, min(m, len(self.grids[g].levels) - 1)) for g in range(len(self.grids))]:
                    raise ValueError(f"hardware decode mode: mip {m} must read level min(mip, last) of every grid "
                                     "once, in grid order")

    @property
    def latent_inputs(self) -> int:
        """Decoder inputs that come from latent taps (the features of every tap's grid)."""
        return sum(self.grids[g].features for g, _ in self.taps[0])

    @property
    def mip_levels(self) -> int:
        return len(self.taps)

    def tap_size(self, m: int, t: int) -> tuple[int, int]:
        """(width, height) of the grid level that tap ``t`` of mip ``m`` reads."""
        g, l = self.taps[m][t]
        h, w = self.grids[g].levels[l].shape[:2]
        return int(w), int(h)

    def mip_size(self, m: int) -> tuple[int, int]:
        """(width, height) of texture mip ``m``."""
        return max(1, self.width >> m), max(1, self.height >> m)

    def stored_bytes(self) -> int:
        return sum(g.stored_bytes() for g in self.grids) + self.decoder.stored_bytes()

    def bits_per_texel(self) -> float:
        """(bytes of all grids incl. every level + bytes of decoder weights) * 8 / top-mip texels."""
        return self.stored_bytes() * 8.0 / (self.width * self.height)


# --------------------------------------------------------------------------- manifest <-> asset


def to_manifest(asset: NeuralTextureAsset, files: FileRecords) -> dict[str, Any]:
    """The manifest of ``asset``; ``files`` maps each written file to its record."""
    enc = asset.encoding
    tap_inputs = [f"tap{t}:{asset.grids[g].name}[{i}]" for t, (g, _) in enumerate(asset.taps[0])
                  for i in range(asset.grids[g].features)]
    enc_inputs = [
        f"tri(f={f:g},p={p:g},{axis})" for f in enc.frequencies for p in enc.phases for axis in "uv"
    ] if enc.kind != "none" else []
    lod_inputs = ["lod"] if asset.lod_inputs is not None else []
    mip_inputs = []
    for m, taps in enumerate(asset.taps):
        entry: dict[str, Any] = {"taps": [[int(g), int(l)] for g, l in taps]}
        if asset.lod_inputs is not None:
            entry["lod"] = int(asset.lod_inputs[m])
        mip_inputs.append(entry)
    return {
        **manifest_fields(KIND, FORMAT_VERSION, asset, files),
        "texture": {
            "width": asset.width,
            "height": asset.height,
            "mip_levels": asset.mip_levels,
            "mip_inputs": mip_inputs,
        },
        "channels": [asdict(c) for c in asset.channels],
        "grids": [
            {
                "name": g.name,
                "file": g.file,
                "dxgi_format": "R8G8B8A8_UNORM",
                "width": g.width,
                "height": g.height,
                "levels": len(g.levels),
                "features": g.features,
                "bits": g.bits,
                "array_size": g.array_size,
                "packing": "lsb_first_rgba_slices",
                "dequantize": {"scale": f32(g.scale), "offset": f32(g.offset)},
            }
            for g in asset.grids
        ],
        "decoder": _decoder_manifest(asset, tap_inputs + enc_inputs + lod_inputs),
        "encoding": {"type": enc.kind, "frequencies": list(map(float, enc.frequencies)),
                     "phases": list(map(float, enc.phases))},
        "sampler": asdict(asset.sampler),
        "decode_mode": asset.decode_mode,
    }


def _decoder_manifest(asset: NeuralTextureAsset, input_order: list[str]) -> dict[str, Any]:
    d = asset.decoder
    out: dict[str, Any] = {
        "file": d.file,
        "dtype": d.dtype,
        "layout": d.layout,
        "inputs": d.inputs,
        "outputs": d.outputs,
        "leaky_slope": f32(d.leaky_slope),
        "input_order": input_order,
    }
    q = d.quantized
    if q is None:
        out["layers"] = [
            {"weight": f"layer{i}.weight", "bias": f"layer{i}.bias", "inputs": layer.inputs,
             "outputs": layer.outputs, "activation": layer.activation}
            for i, layer in enumerate(d.layers)
        ]
        return out
    out["layers"] = [
        {"weight": f"q.layer{i}.weight", "bias": f"q.layer{i}.bias", "multiplier": f"q.layer{i}.multiplier",
         "shift": f"q.layer{i}.shift", "inputs": layer.inputs, "outputs": layer.outputs,
         "activation": layer.activation, "out_scale": f32(layer.out_scale)}
        for i, layer in enumerate(q.layers)
    ]
    out["quantized"] = {
        "scheme": q.scheme,
        "coordinate_bits": 8,
        "input_range": [-127, 127],
        "activation_range": [0, 255],
        "output": "unorm8_stored",
        "latent_shift": [asset.grids[g].bits + 9 for g, _ in asset.taps[0]],
        "encoding_terms": [{"period_log2": int(s), "phase": int(p)} for s, p in zip(q.period_log2, q.phase)],
        "input_scales": [f32(x) for x in q.input_scales],
        "reference_profile": q.reference_profile,
    }
    return out


def decoder_npz_spec(manifest: dict[str, Any]) -> dict[str, tuple[tuple[int, ...], str]]:
    """The arrays ``decoder.npz`` must hold: key -> (shape, dtype), from the manifest's decoder section."""
    d = manifest["decoder"]
    expected: dict[str, tuple[tuple[int, ...], str]] = {}
    quantized = "quantized" in d
    for layer in d["layers"]:
        shape = (layer["outputs"], layer["inputs"])
        if quantized:
            expected[layer["weight"]] = (shape, "int8")
            for key in ("bias", "multiplier", "shift"):
                expected[layer[key]] = ((layer["outputs"],), "int32")
        else:
            expected[layer["weight"]] = (shape, "float32")
            expected[layer["bias"]] = ((layer["outputs"],), "float32")
    return expected


def _decoder_from_manifest(d: dict[str, Any], arrays: dict[str, np.ndarray]) -> Decoder:
    if "quantized" not in d:
        layers = [DecoderLayer(arrays[l["weight"]], arrays[l["bias"]], l["activation"]) for l in d["layers"]]
        for spec, layer in zip(d["layers"], layers):
            if (layer.outputs, layer.inputs) != (spec["outputs"], spec["inputs"]):
                raise ValueError(
                    f"{spec['weight']} has shape {layer.weight.shape}, manifest says "
                    f"({spec['outputs']}, {spec['inputs']})"
                )
        return Decoder(layers=layers, file=d["file"], dtype=d["dtype"], layout=d["layout"],
                       leaky_slope=d.get("leaky_slope", 0.01))
    qd = d["quantized"]
    layers_q = [
        IntLayer(arrays[l["weight"]], arrays[l["bias"]], arrays[l["multiplier"]], arrays[l["shift"]],
                 l["activation"], float(np.float32(l["out_scale"])))
        for l in d["layers"]
    ]
    terms = qd.get("encoding_terms", [])
    q = QuantizedDecoder(
        layers=layers_q, period_log2=[t["period_log2"] for t in terms], phase=[t["phase"] for t in terms],
        input_scales=[float(np.float32(x)) for x in qd["input_scales"]], scheme=qd["scheme"],
        reference_profile=qd.get("reference_profile", "d3d11"),
    )
    return Decoder(layers=q.float_layers(), file=d["file"], layout=d["layout"],
                   leaky_slope=d.get("leaky_slope", 0.01), quantized=q)


def _mip_inputs(t: dict[str, Any]) -> tuple[list[list[tuple[int, int]]], list[int] | None]:
    """Per-mip latent taps and LOD inputs of a texture section: 2.x ``mip_inputs``, or 1.x ``grid_levels``
    (mip ``m`` read level ``grid_levels[m][g]`` of every grid ``g``, no LOD input)."""
    if "mip_inputs" not in t:
        return [[(g, int(l)) for g, l in enumerate(levels)] for levels in t["grid_levels"]], None
    entries = t["mip_inputs"]
    taps = [[(int(g), int(l)) for g, l in e["taps"]] for e in entries]
    has_lod = ["lod" in e for e in entries]
    if any(has_lod) and not all(has_lod):
        raise ValueError("texture.mip_inputs: 'lod' must be given for every mip or for none")
    return taps, ([int(e["lod"]) for e in entries] if all(has_lod) and entries else None)


def referenced_files(manifest: dict[str, Any]) -> list[str]:
    """The grid DDS files and the decoder npz."""
    return [g["file"] for g in manifest["grids"]] + [manifest["decoder"]["file"]]


def from_manifest(manifest: dict[str, Any], contents: dict[str, Any], path: str | Path) -> NeuralTextureAsset:
    """Rebuild the asset from a validated manifest and its files' contents: per grid file the unpacked codes
    of every level, for the decoder file its npz arrays."""
    try:
        grids = [
            FeatureGrid(
                name=g["name"], features=g["features"], bits=g["bits"], scale=g["dequantize"]["scale"],
                offset=g["dequantize"]["offset"], levels=contents[g["file"]], file=g["file"],
            )
            for g in manifest["grids"]
        ]
        decoder = _decoder_from_manifest(manifest["decoder"], contents[manifest["decoder"]["file"]])
        e = manifest["encoding"]
        encoding = Encoding(kind=e["type"], frequencies=e.get("frequencies", []), phases=e.get("phases", []))
        t = manifest["texture"]
        taps, lods = _mip_inputs(t)
        if len(taps) != t["mip_levels"]:
            raise ValueError(f"texture has latent inputs for {len(taps)} mips, mip_levels says {t['mip_levels']}")
        p = manifest["provenance"]
        return NeuralTextureAsset(
            name=manifest["name"],
            width=t["width"],
            height=t["height"],
            channels=[Channel(**c) for c in manifest["channels"]],
            grids=grids,
            taps=taps,
            lod_inputs=lods,
            decoder=decoder,
            encoding=encoding,
            sampler=SamplerState(**manifest["sampler"]),
            provenance=Provenance.from_manifest(p),
            decode_mode=manifest["decode_mode"],
            exports=[GraphExport(**x) for x in manifest.get("exports", [])],
        )
    except (ValueError, TypeError, KeyError) as e:
        raise AssetError(path, f"inconsistent with manifest.json: {e}") from None

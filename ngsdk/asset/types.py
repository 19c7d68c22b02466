"""The in-memory asset interface: what trainers produce and exporters consume (torch-free).

A :class:`NeuralTextureAsset` holds everything a bundle stores: channel semantics, quantized
latent grids with every trained level, the decoder weights, the positional encoding, the
sampler state, the decode mode and the provenance. ``ngsdk.asset.manifest`` maps it to and
from ``manifest.json``; ``exporters.bundle`` writes it to disk; ``runtime_ref.bundle`` loads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

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
DecodeMode = Literal["float", "exact", "hardware"]
ACTIVATIONS = ("none", "relu", "leaky_relu", "sigmoid", "tanh", "swish", "clamp01")
DECODE_MODES = ("float", "exact", "hardware")


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
class DecoderLayer:
    """A dense layer ``y = W x + b`` with ``weight`` of shape (out, in), float32."""

    weight: np.ndarray
    bias: np.ndarray
    activation: str = "relu"

    def __post_init__(self) -> None:
        self.weight = np.ascontiguousarray(self.weight, dtype=np.float32)
        self.bias = np.ascontiguousarray(self.bias, dtype=np.float32)
        if self.weight.ndim != 2 or self.bias.shape != (self.weight.shape[0],):
            raise ValueError(f"decoder layer: weight {self.weight.shape} and bias {self.bias.shape} disagree")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"decoder layer: unknown activation {self.activation!r}")

    @property
    def inputs(self) -> int:
        return int(self.weight.shape[1])

    @property
    def outputs(self) -> int:
        return int(self.weight.shape[0])


@dataclass
class Decoder:
    """The MLP that turns sampled latents plus encoding into channel values."""

    layers: list[DecoderLayer]
    file: str = "decoder.npz"
    dtype: str = "float32"
    layout: str = "out_in_row_major"
    leaky_slope: float = 0.01

    def __post_init__(self) -> None:
        for a, b in zip(self.layers, self.layers[1:]):
            if a.outputs != b.inputs:
                raise ValueError(f"decoder: layer outputs {a.outputs} do not feed next layer inputs {b.inputs}")

    @property
    def inputs(self) -> int:
        return self.layers[0].inputs

    @property
    def outputs(self) -> int:
        return self.layers[-1].outputs

    def stored_bytes(self) -> int:
        return sum(l.weight.nbytes + l.bias.nbytes for l in self.layers)

    def arrays(self) -> dict[str, np.ndarray]:
        """The npz payload: ``layer{i}.weight`` (out, in) and ``layer{i}.bias`` (out,), float32."""
        out: dict[str, np.ndarray] = {}
        for i, layer in enumerate(self.layers):
            out[f"layer{i}.weight"] = layer.weight
            out[f"layer{i}.bias"] = layer.bias
        return out


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


@dataclass
class Provenance:
    """Where an asset came from and how well it decodes."""

    ngsdk_version: str
    config: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    sources: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    reference_decode: dict[str, str] = field(default_factory=dict)
    """sha256 of the trainer's own decode of each mip (float32 bytes), keyed ``mip{m}``."""


@dataclass
class GraphExport:
    """A graph export (onnx, mlpackage, vgf) stored beside the bundle's own files."""

    format: str
    files: list[str]
    precision: str
    graph: str
    io: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class NeuralTextureAsset:
    """A neural texture: latent grids + decoder that reproduce a set of material channels.

    Texture mip ``m`` (size ``max(1, width >> m)`` x ``max(1, height >> m)``) is decoded from
    level ``grid_levels[m][g]`` of each grid ``g``.
    """

    name: str
    width: int
    height: int
    channels: list[Channel]
    grids: list[FeatureGrid]
    grid_levels: list[list[int]]
    decoder: Decoder
    encoding: Encoding
    sampler: SamplerState
    provenance: Provenance
    decode_mode: DecodeMode = "float"
    exports: list[GraphExport] = field(default_factory=list)

    def __post_init__(self) -> None:
        expect_in = sum(g.features for g in self.grids) + self.encoding.features
        if self.decoder.inputs != expect_in:
            raise ValueError(f"decoder takes {self.decoder.inputs} inputs, grids+encoding give {expect_in}")
        if self.decoder.outputs != len(self.channels):
            raise ValueError(f"decoder gives {self.decoder.outputs} outputs for {len(self.channels)} channels")
        if self.decode_mode not in DECODE_MODES:
            raise ValueError(f"unknown decode mode {self.decode_mode!r}")
        for m, lv in enumerate(self.grid_levels):
            if len(lv) != len(self.grids) or any(not 0 <= l < len(g.levels) for l, g in zip(lv, self.grids)):
                raise ValueError(f"mip {m}: grid levels {lv} do not match the grids' level counts")

    @property
    def mip_levels(self) -> int:
        return len(self.grid_levels)

    def mip_size(self, m: int) -> tuple[int, int]:
        """(width, height) of texture mip ``m``."""
        return max(1, self.width >> m), max(1, self.height >> m)

    def stored_bytes(self) -> int:
        return sum(g.stored_bytes() for g in self.grids) + self.decoder.stored_bytes()

    def bits_per_texel(self) -> float:
        """(bytes of all grids incl. every level + bytes of decoder weights) * 8 / top-mip texels."""
        return self.stored_bytes() * 8.0 / (self.width * self.height)

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


INT_ACT_MAX = 255
"""Hidden activations and output bytes of the integer decoder are clamped to [0, 255]."""
INT_INPUT_MAX = 127
"""Integer decoder inputs lie in [-127, 127]."""
INT_WEIGHT_MAX = 127
"""Integer decoder weights lie in [-127, 127] (symmetric int8)."""


@dataclass
class IntLayer:
    """One layer of the integer decoder (``exact`` and ``hardware`` modes, docs/decode-spec.md).

    ``acc_j = bias_j + sum_k weight_jk * x_k`` in int32, then
    ``y_j = clamp((acc_j * multiplier_j + 2^(shift_j - 1)) >> shift_j, 0, 255)`` (arithmetic shift).
    ``out_scale`` is the real value of one output step (informative: it defines the float view).
    """

    weight: np.ndarray
    bias: np.ndarray
    multiplier: np.ndarray
    shift: np.ndarray
    activation: str = "relu"
    out_scale: float = 1.0 / 255.0

    def __post_init__(self) -> None:
        w = np.asarray(self.weight)
        if w.ndim != 2 or w.dtype.kind not in "iu" or int(np.abs(w.astype(np.int64)).max(initial=0)) > INT_WEIGHT_MAX:
            raise ValueError(f"integer layer: weight must be 2-D integers in [-127, 127], got {w.dtype} {w.shape}")
        self.weight = np.ascontiguousarray(w, dtype=np.int8)
        n = self.weight.shape[0]
        for name in ("bias", "multiplier", "shift"):
            a = np.asarray(getattr(self, name))
            if a.shape != (n,) or a.dtype.kind not in "iu":
                raise ValueError(f"integer layer: {name} must be {n} integers, got {a.dtype} {a.shape}")
            setattr(self, name, np.ascontiguousarray(a, dtype=np.int32))
        if self.activation not in ("relu", "clamp01"):
            raise ValueError(f"integer layer: activation must be relu or clamp01, got {self.activation!r}")
        if (self.shift < 1).any() or (self.shift > 30).any() or (self.multiplier < 0).any():
            raise ValueError("integer layer: shifts must lie in [1, 30] and multipliers be non-negative")

    @property
    def inputs(self) -> int:
        return int(self.weight.shape[1])

    @property
    def outputs(self) -> int:
        return int(self.weight.shape[0])

    def accumulator_bound(self, input_max: np.ndarray | int) -> np.ndarray:
        """Per output channel: the largest ``|acc|`` any input in range can give (int64)."""
        xmax = np.broadcast_to(np.asarray(input_max, dtype=np.int64), (self.inputs,))
        return np.abs(self.bias.astype(np.int64)) + np.abs(self.weight.astype(np.int64)) @ xmax

    def check_overflow(self, input_max: np.ndarray | int) -> None:
        """Raise ValueError unless ``acc * multiplier + 2^(shift-1)`` fits int32 for every input."""
        top = self.accumulator_bound(input_max) * self.multiplier.astype(np.int64) + (
            np.int64(1) << (self.shift.astype(np.int64) - 1))
        if int(top.max(initial=0)) >= 2**31:
            j = int(np.argmax(top))
            raise ValueError(f"integer layer: channel {j} can overflow int32 ({int(top[j])} >= 2^31)")


@dataclass
class QuantizedDecoder:
    """The integer decoder of the ``exact`` and ``hardware`` decode modes (docs/decode-spec.md).

    Inputs: per latent tap, the bilinear latent requantized to [-127, 127] (``exact``: integer bilinear
    of the codes, shifted right by ``bits + 9``; ``hardware``: the sampler's value ``r`` mapped by
    ``((floor(r * 508) + 1) >> 1) - 127``); then per encoding term (``period_log2``, ``phase``) the
    triangle wave of tap 0's position in 1/256 texels, in [0, 127], u then v; then the mip's LOD input
    when the texture has one. Outputs are UNORM8 bytes in each channel's stored colour space.
    """

    layers: list[IntLayer]
    period_log2: list[int] = field(default_factory=list)
    phase: list[int] = field(default_factory=list)
    input_scales: list[float] = field(default_factory=list)
    scheme: str = "ngsdk-int8-v1"
    reference_profile: str = "d3d11"

    def __post_init__(self) -> None:
        if len(self.period_log2) != len(self.phase):
            raise ValueError("quantized decoder: period_log2 and phase differ in length")
        for s, p in zip(self.period_log2, self.phase):
            if not -7 <= int(s) <= 15 or not 0 <= int(p) < (1 << (8 + int(s))):
                raise ValueError(f"quantized decoder: encoding term (period_log2 {s}, phase {p}) out of range")
        for a, b in zip(self.layers, self.layers[1:]):
            if a.outputs != b.inputs:
                raise ValueError(f"quantized decoder: layer outputs {a.outputs} do not feed inputs {b.inputs}")
        if self.layers[-1].activation != "clamp01" or any(l.activation != "relu" for l in self.layers[:-1]):
            raise ValueError("quantized decoder: hidden layers are relu, the output layer clamp01")
        self.check_overflow()

    @property
    def inputs(self) -> int:
        return self.layers[0].inputs

    @property
    def outputs(self) -> int:
        return self.layers[-1].outputs

    def check_overflow(self) -> None:
        """Raise ValueError if any layer's int32 arithmetic could overflow for in-range inputs."""
        xmax: int = INT_INPUT_MAX
        for i, layer in enumerate(self.layers):
            try:
                layer.check_overflow(xmax)
            except ValueError as e:
                raise ValueError(f"quantized decoder layer {i}: {e}") from None
            xmax = INT_ACT_MAX

    def stored_bytes(self) -> int:
        return sum(l.weight.nbytes + l.bias.nbytes + l.multiplier.nbytes + l.shift.nbytes for l in self.layers)

    def arrays(self) -> dict[str, np.ndarray]:
        """npz payload: ``q.layer{i}.weight`` int8 (out, in); ``.bias``, ``.multiplier``, ``.shift`` int32 (out,)."""
        out: dict[str, np.ndarray] = {}
        for i, l in enumerate(self.layers):
            out[f"q.layer{i}.weight"] = l.weight
            out[f"q.layer{i}.bias"] = l.bias
            out[f"q.layer{i}.multiplier"] = l.multiplier
            out[f"q.layer{i}.shift"] = l.shift
        return out

    def float_layers(self) -> list[DecoderLayer]:
        """The real-valued view: ``W_real = W * m_j * out_scale / in_scale_k`` with ``m = multiplier / 2^shift``.

        Inputs in the float mode's units (latents in [-1, 1], triangle waves in [0, 1]), outputs in
        [0, 1] in each channel's stored colour space. Informative (graph exports, inspection); the
        integer arithmetic is the definition.
        """
        in_scale = np.asarray(self.input_scales, dtype=np.float64)
        if in_scale.shape != (self.inputs,):
            raise ValueError(f"quantized decoder: {len(self.input_scales)} input scales for {self.inputs} inputs")
        out = []
        for l in self.layers:
            m = l.multiplier.astype(np.float64) / np.exp2(l.shift.astype(np.float64))
            step = m * l.out_scale
            w = l.weight.astype(np.float64) * step[:, None] / in_scale[None, :]
            b = l.bias.astype(np.float64) * step
            out.append(DecoderLayer(w.astype(np.float32), b.astype(np.float32), l.activation))
            in_scale = np.full(l.outputs, l.out_scale, dtype=np.float64)
        return out


@dataclass
class Decoder:
    """The MLP that turns sampled latents plus encoding into channel values.

    ``quantized`` holds the integer decoder of the ``exact`` and ``hardware`` modes; then ``layers``
    is its real-valued view (:meth:`QuantizedDecoder.float_layers`) and only the integer arrays are
    stored.
    """

    layers: list[DecoderLayer]
    file: str = "decoder.npz"
    dtype: str = "float32"
    layout: str = "out_in_row_major"
    leaky_slope: float = 0.01
    quantized: QuantizedDecoder | None = None

    def __post_init__(self) -> None:
        if self.quantized is not None:
            self.dtype = "int8"
        for a, b in zip(self.layers, self.layers[1:]):
            if a.outputs != b.inputs:
                raise ValueError(f"decoder: layer outputs {a.outputs} do not feed next layer inputs {b.inputs}")

    @classmethod
    def from_quantized(cls, q: QuantizedDecoder, file: str = "decoder.npz") -> Decoder:
        return cls(layers=q.float_layers(), file=file, quantized=q)

    @property
    def inputs(self) -> int:
        return self.layers[0].inputs

    @property
    def outputs(self) -> int:
        return self.layers[-1].outputs

    def stored_bytes(self) -> int:
        if self.quantized is not None:
            return self.quantized.stored_bytes()
        return sum(l.weight.nbytes + l.bias.nbytes for l in self.layers)

    def arrays(self) -> dict[str, np.ndarray]:
        """The npz payload: ``layer{i}.weight`` (out, in) and ``layer{i}.bias`` (out,), float32; for a
        quantized decoder :meth:`QuantizedDecoder.arrays` instead."""
        if self.quantized is not None:
            return self.quantized.arrays()
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

    @classmethod
    def from_manifest(cls, p: dict[str, Any]) -> Provenance:
        """The ``provenance`` object of a (schema-validated) manifest."""
        return cls(ngsdk_version=p["ngsdk_version"], config=p["config"], seed=p["seed"],
                   sources=p.get("sources", {}), metrics=p.get("metrics", {}),
                   reference_decode=p.get("reference_decode", {}))


@dataclass
class GraphExport:
    """A graph export (onnx, mlpackage, vgf) stored beside the bundle's own files."""

    format: str
    files: list[str]
    precision: str
    graph: str
    io: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


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

"""The generic part of the asset interface (torch-free): decoders, provenance, graph exports, decode modes.

Every kind's asset (``ngsdk.asset.neural_texture``, ``neural_volume``, ``shading_mlp``) is built from these;
``ngsdk.asset.codec`` maps the shared fields to ``manifest.json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np

DecodeMode = Literal["exact", "hardware", "float"]
"""How a bundle is decoded (docs/decode-spec.md): ``exact`` integer decode, bit-identical everywhere (the
default); ``hardware`` the engine's texture filter on 8-bit latents + the integer decoder; ``float`` strict fp32."""
DECODE_MODES: tuple[DecodeMode, ...] = get_args(DecodeMode)
INTEGER_DECODE_MODES: tuple[DecodeMode, ...] = ("exact", "hardware")
"""The modes whose decoder is the integer one (:class:`QuantizedDecoder`)."""
ACTIVATIONS = ("none", "relu", "leaky_relu", "sigmoid", "tanh", "swish", "clamp01")


def f32(x: float) -> float:
    """``x`` rounded to float32, as a Python float: JSON carries it exactly (repr of the widened double)."""
    return float(np.float32(x))


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

"""The shading-MLP asset (kind ``shading_mlp``) and its arithmetic contract (torch-free).

A :class:`ShadingMlpAsset` is a small MLP that maps a texture coordinate ``(u, v)`` to RGB, in the
style of RTX Neural Shading's "Simple Training" sample: the coordinate is encoded (frequency or
triangle waves), then dense layers with a hidden activation and a sigmoid output.

The decode contract (docs/shading.md) fixes every rounding: the encoding is computed in float32
with the polynomial and reduction constants below (no ``sin``/``cos``/``exp`` library calls, so
NumPy and every shader agree bit for bit), and the network runs in fp16 rounding after every
multiply and add in a fixed order. The constants here are the single source the reference
runtime, the trainer and the shader generators read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ngsdk.asset.codec import FileRecords, manifest_fields
from ngsdk.asset.errors import AssetError
from ngsdk.asset.types import Decoder, DecoderLayer, GraphExport, Provenance, f32

KIND = "shading_mlp"
FORMAT_VERSION = "1.0"
READABLE_MAJORS = (1,)
ENCODINGS = ("frequency", "triangle", "none")
HIDDEN_ACTIVATIONS = ("leaky_relu", "relu", "swish", "tanh")
OUTPUT_ACTIVATIONS = ("sigmoid", "none")
TRANSFORMS = ("none", "flip", "zoom")
TARGET_FILTERS = ("nearest", "bilinear")
PRECISIONS = ("fp16", "fp32")


# --------------------------------------------------------------------------- arithmetic constants
# sin(pi r), cos(pi r) for |r| <= 1/4: Taylor series in pi*r, truncation error < 2e-9, below f32's.
SIN_PI_COEFFS: tuple[float, ...] = tuple(
    f32((-1) ** k * math.pi ** (2 * k + 1) / math.factorial(2 * k + 1)) for k in range(5)
)
"""S1, S3, S5, S7, S9: sin(pi r) = r * (S1 + z*(S3 + z*(S5 + z*(S7 + z*S9)))), z = r*r."""
COS_PI_COEFFS: tuple[float, ...] = tuple(
    f32((-1) ** k * math.pi ** (2 * k) / math.factorial(2 * k)) for k in range(6)
)
"""C0..C10 (even powers): cos(pi r) = C0 + z*(C2 + z*(C4 + z*(C6 + z*(C8 + z*C10))))."""
EXP2_COEFFS: tuple[float, ...] = tuple(f32(math.log(2.0) ** n / math.factorial(n)) for n in range(8))
"""E0..E7: 2**f = E0 + f*(E1 + ... + f*E7) for |f| <= 1/2 (Taylor, error < 6e-9)."""
TANH_COEFFS: tuple[float, ...] = tuple(
    f32(c)
    for c in (1.0, -1 / 3, 2 / 15, -17 / 315, 62 / 2835, -1382 / 155925, 21844 / 6081075, -929569 / 638512875)
)
"""T1..T15 (odd powers): tanh(x) = x * (T1 + z*(T3 + ... + z*T15)), z = x*x, used for |x| < TANH_SMALL."""
TANH_SMALL = 0.5
NEG_LOG2E = f32(-1.0 / math.log(2.0))
SIGMOID_CLAMP = 20.0
RECIP_MAGIC = 0x7EF311C3
"""Initial reciprocal guess ``bits(1/d) ~ RECIP_MAGIC - bits(d)``, refined by NEWTON_STEPS steps."""
NEWTON_STEPS = 3
MAX_ABS_INPUT = float(1 << 22)
"""Encoded inputs must satisfy |x| < 2**22 (exact argument reduction); larger inputs are clamped."""
FP16_MAX = 65504.0
TRI_FRAC_BITS = 20
"""Triangle encoding: X = floor(clamp(x, +-TRI_MAX_ABS) * 2^20) as int32; per wave j the phase in
units of 2^-21 is P = ((u32(X) << j) + j * 2^19) mod 2^21 (u32 wrap-around); the feature is
(|P - 2^20| - 2^19) * 2^-19. Integer arithmetic, so no compiler reassociation can change it."""
TRI_MAX_ABS = 1024.0


@dataclass
class ShadingEncoding:
    """How the raw inputs (u, v) become network inputs.

    ``frequency`` (RTXNS ``EncodeFrequency``): per input ``sin(pi x), cos(pi x)``, then doublings
    ``s' = (2 s) c, c' = (2 c) c - 1`` giving ``sin/cos(2^k pi x)``; ``features_per_input`` is even
    (the seed: 6, i.e. 3 octaves). ``triangle`` (RTXNS ``EncodeTriangle``): ``features_per_input``
    waves ``|frac(x 2^(j-1) + j/4) - 1/2| * 4 - 1``, computed exactly in integers on x quantized to
    ``floor(x * 2^20) / 2^20`` (see :data:`TRI_FRAC_BITS`). ``none``: the raw inputs. Features are
    ordered input-major (all of u's, then all of v's).
    """

    kind: str = "frequency"
    features_per_input: int = 6
    inputs: int = 2

    def __post_init__(self) -> None:
        if self.kind not in ENCODINGS:
            raise ValueError(f"unknown encoding {self.kind!r}: use one of {', '.join(ENCODINGS)}")
        if self.inputs < 1:
            raise ValueError("encoding needs at least one input")
        if self.kind == "frequency" and (self.features_per_input < 2 or self.features_per_input % 2):
            raise ValueError(
                f"frequency encoding needs an even number of features per input "
                f"(sin/cos pairs), got {self.features_per_input}"
            )
        if self.kind == "triangle" and not 1 <= self.features_per_input <= 24:
            raise ValueError(
                f"triangle encoding takes 1..24 features per input, got {self.features_per_input}"
            )
        if self.kind == "none":
            self.features_per_input = 1

    @property
    def features(self) -> int:
        return self.inputs * self.features_per_input

    def feature_names(self) -> list[str]:
        axes = "uvwxyz"[: self.inputs] if self.inputs <= 6 else [f"x{i}" for i in range(self.inputs)]
        names = []
        for a in axes:
            if self.kind == "none":
                names.append(str(a))
            elif self.kind == "frequency":
                for k in range(self.features_per_input // 2):
                    names += [f"sin({1 << k}pi*{a})", f"cos({1 << k}pi*{a})"]
            else:
                names += [f"tri({a}*{2.0 ** (j - 1):g}+{0.25 * j:g})" for j in range(self.features_per_input)]
        return names


@dataclass
class ShadingMlpAsset:
    """A trained shading MLP: ``(u, v) -> encoding -> dense layers -> RGB``.

    ``decoder.layers[i].weight`` is float32 (out, in), the trainer's master weights; the fp16
    contract uses their round-to-nearest-even fp16 values (:meth:`fp16_layers`). ``width`` x
    ``height`` is the image the network reproduces (evaluated at texel centres). ``transform`` and
    ``target_filter`` say how the training target was looked up in the source image.
    """

    name: str
    width: int
    height: int
    encoding: ShadingEncoding
    decoder: Decoder
    provenance: Provenance
    transform: str = "none"
    target_filter: str = "nearest"
    precision: str = "fp16"
    channels: list[str] = field(default_factory=lambda: ["r", "g", "b"])
    colour_space: str = "srgb"
    exports: list[GraphExport] = field(default_factory=list)
    portable: list[dict[str, Any]] = field(default_factory=list)
    """Portable exports beside the bundle: ``{"format", "file", "precision", "layout"}`` each."""

    def __post_init__(self) -> None:
        if self.decoder.inputs != self.encoding.features:
            raise ValueError(
                f"network takes {self.decoder.inputs} inputs, the encoding gives {self.encoding.features}"
            )
        if self.decoder.outputs != len(self.channels):
            raise ValueError(
                f"network gives {self.decoder.outputs} outputs for {len(self.channels)} channels"
            )
        for i, layer in enumerate(self.decoder.layers[:-1]):
            if layer.activation not in HIDDEN_ACTIVATIONS + ("none",):
                raise ValueError(f"layer {i}: hidden activation {layer.activation!r} not supported")
        if self.decoder.layers[-1].activation not in OUTPUT_ACTIVATIONS:
            raise ValueError(f"output activation {self.decoder.layers[-1].activation!r} not supported")
        for name, value, allowed in (
            ("transform", self.transform, TRANSFORMS),
            ("target filter", self.target_filter, TARGET_FILTERS),
            ("precision", self.precision, PRECISIONS),
        ):
            if value not in allowed:
                raise ValueError(f"unknown {name} {value!r}: use one of {', '.join(allowed)}")
        if self.width < 1 or self.height < 1:
            raise ValueError(f"image size {self.width}x{self.height} is empty")

    @property
    def layers(self) -> list[DecoderLayer]:
        return self.decoder.layers

    @property
    def leaky_slope(self) -> float:
        return float(self.decoder.leaky_slope)

    def fp16_layers(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(weight, bias) per layer rounded to fp16 (round to nearest even), as float16 arrays."""
        return [(ly.weight.astype(np.float16), ly.bias.astype(np.float16)) for ly in self.decoder.layers]

    def parameter_count(self) -> int:
        return sum(ly.weight.size + ly.bias.size for ly in self.decoder.layers)


def texel_centres(width: int, height: int) -> np.ndarray:
    """UVs of texel centres, row-major (H*W, 2): ``u = f32(x + 0.5) / f32(W)`` (correctly rounded)."""
    u = (np.arange(width, dtype=np.float32) + np.float32(0.5)) / np.float32(width)
    v = (np.arange(height, dtype=np.float32) + np.float32(0.5)) / np.float32(height)
    uu, vv = np.meshgrid(u, v)
    return np.stack([uu.ravel(), vv.ravel()], axis=1).astype(np.float32)


def build_decoder(
    weights: list[np.ndarray],
    biases: list[np.ndarray],
    hidden_activation: str,
    output_activation: str = "sigmoid",
    leaky_slope: float = 0.01,
) -> Decoder:
    """A :class:`Decoder` from per-layer (out, in) weights and biases."""
    acts = [hidden_activation] * (len(weights) - 1) + [output_activation]
    layers = [DecoderLayer(w, b, a) for w, b, a in zip(weights, biases, acts, strict=True)]
    return Decoder(
        layers=layers, file="weights.npz", dtype="float32", layout="out_in_row_major", leaky_slope=leaky_slope
    )


# --------------------------------------------------------------------------- manifest <-> asset


def to_manifest(asset: ShadingMlpAsset, files: FileRecords) -> dict[str, Any]:
    """The ``manifest.json`` dict of ``asset``; ``files`` maps each written file to its record."""
    enc = asset.encoding
    d = asset.decoder
    return {
        **manifest_fields(KIND, FORMAT_VERSION, asset, files),
        "image": {
            "width": asset.width,
            "height": asset.height,
            "channels": list(asset.channels),
            "colour_space": asset.colour_space,
            "transform": asset.transform,
            "target_filter": asset.target_filter,
            "uv": "texel_centres",
        },
        "encoding": {
            "type": enc.kind,
            "inputs": enc.inputs,
            "features_per_input": enc.features_per_input,
            "features": enc.features,
            "input_order": enc.feature_names(),
            "arithmetic": "ngsdk-1",
        },
        "weights": {
            "file": d.file,
            "dtype": "float32",
            "layout": d.layout,
            "fp16_rounding": "round_to_nearest_even",
            "leaky_slope": f32(d.leaky_slope),
            "layers": [
                {
                    "weight": f"layer{i}.weight",
                    "bias": f"layer{i}.bias",
                    "inputs": ly.inputs,
                    "outputs": ly.outputs,
                    "activation": ly.activation,
                }
                for i, ly in enumerate(d.layers)
            ],
        },
        "decode": {
            "precision": asset.precision,
            "op_order": "bias_then_inputs_ascending",
            "rounding": "after_every_multiply_and_add",
            "contraction": "none",
        },
        "portable": [dict(p) for p in asset.portable],
    }


def referenced_files(manifest: dict[str, Any]) -> list[str]:
    """The weights npz (portable exports are listed under ``files`` as they are written)."""
    return [manifest["weights"]["file"]]


def from_manifest(manifest: dict[str, Any], contents: dict[str, Any], path: Any) -> ShadingMlpAsset:
    """Rebuild the asset from a validated manifest and its files' contents (the weights file's npz arrays);
    AssetError if inconsistent."""
    try:
        w = manifest["weights"]
        arrays = contents[w["file"]]
        layers = [
            DecoderLayer(arrays[ly["weight"]], arrays[ly["bias"]], ly["activation"]) for ly in w["layers"]
        ]
        for spec, layer in zip(w["layers"], layers, strict=False):
            if (layer.outputs, layer.inputs) != (spec["outputs"], spec["inputs"]):
                raise ValueError(
                    f"{spec['weight']} has shape {layer.weight.shape}, manifest says "
                    f"({spec['outputs']}, {spec['inputs']})"
                )
        decoder = Decoder(
            layers=layers,
            file=w["file"],
            dtype=w["dtype"],
            layout=w["layout"],
            leaky_slope=w.get("leaky_slope", 0.01),
        )
        e = manifest["encoding"]
        encoding = ShadingEncoding(
            kind=e["type"], features_per_input=e["features_per_input"], inputs=e["inputs"]
        )
        img = manifest["image"]
        p = manifest["provenance"]
        return ShadingMlpAsset(
            name=manifest["name"],
            width=img["width"],
            height=img["height"],
            encoding=encoding,
            decoder=decoder,
            transform=img.get("transform", "none"),
            target_filter=img.get("target_filter", "nearest"),
            precision=manifest["decode"]["precision"],
            channels=list(img.get("channels", ["r", "g", "b"])),
            colour_space=img.get("colour_space", "srgb"),
            provenance=Provenance.from_manifest(p),
            exports=[GraphExport(**x) for x in manifest.get("exports", [])],
            portable=[dict(x) for x in manifest.get("portable", [])],
        )
    except (ValueError, TypeError, KeyError) as e:
        raise AssetError(path, f"inconsistent with manifest.json: {e}") from None


# --------------------------------------------------------------------------- binary host layout
# Portable header of NAME.<fp16|fp32>.<row|col>.bin (docs/shading.md "Binary layout"): explicit
# little-endian fields, no padding. ``struct`` formats with "<" are exactly these bytes.
BIN_MAGIC = b"NGSM"
BIN_VERSION = 1
BIN_HEADER = "<4sHHBBBBHHfII4x"
"""magic, version, header_bytes, dtype, layout, encoding, features_per_input, inputs, layers,
leaky_slope, total_bytes, crc32(payload), 4 reserved zero bytes: 32 bytes."""
BIN_LAYER = "<HHBBHII"
"""num_inputs, num_outputs, activation, reserved (0), reserved u16 (0), weight_offset, bias_offset
(byte offsets from the start of the file): 16 bytes."""
BIN_ALIGN = 16
BIN_DTYPES = {"fp16": 1, "fp32": 2}
BIN_LAYOUTS = {"row_major": 0, "col_major": 1}
BIN_ENCODINGS = {"none": 0, "frequency": 1, "triangle": 2}
BIN_ACTIVATIONS = {"none": 0, "relu": 1, "leaky_relu": 2, "sigmoid": 3, "tanh": 4, "swish": 5}

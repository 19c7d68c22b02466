"""The super-sampling asset (kind ``supersampling``, Arm NSS) and its manifest codec (torch-free).

A :class:`SupersamplingAsset` is the NSS network (the gym's AutoEncoderV1, 132,392 parameters, BatchNorm
folded) as float32 weights, optionally its int8 form (what QAT trained: int8 per-channel weights, int32
biases, every activation's scale and zero point, the sigmoid tables), the pre/post-processing constants
(scale, exposure, learned ``dm_scale``, jitter table) and a small reference clip that a torch-free runtime
replays (docs/supersampling.md). Files: ``weights.npz``, ``int8.npz`` (optional), ``reference_clip.npz``.

The int8 arithmetic is TOSA's (what the int8 VGF computes): per conv ``acc = sum((x_q - x_zp) * w_q) + b_q``
in int32, ``y = ((acc * M + 2^(n-1)) >> n) + y_zp`` saturated to int8 (``M / 2^n`` the 31-bit fixed-point
value of ``s_in * s_w / s_out``, :func:`multiplier_shift`), ReLU as ``max(y, y_zp)``; sigmoids are 256-entry
tables; nearest up-sampling and concatenation move codes (rescaled when the scales differ).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ngsdk.asset.codec import FileRecords, manifest_fields
from ngsdk.asset.errors import AssetError
from ngsdk.asset.types import GraphExport, Provenance

KIND = "supersampling"
FORMAT_VERSION = "1.0"
READABLE_MAJORS = (1,)
NETWORK = "nss-autoencoder-v1"
WEIGHTS_FILE = "weights.npz"
INT8_FILE = "int8.npz"
CLIP_FILE = "reference_clip.npz"
SIGMOID_SCALE = 1.0 / 254.0
SIGMOID_ZERO_POINT = -127


@dataclass(frozen=True)
class Layer:
    """One 3x3 conv of the network (padding 1), in graph order."""

    name: str
    cin: int
    cout: int
    stride: int
    activation: str
    """``relu`` or ``sigmoid``."""


LAYERS: tuple[Layer, ...] = (
    Layer("conv2d_0", 12, 32, 2, "relu"), Layer("conv2d_1", 32, 32, 1, "relu"),
    Layer("conv2d_2", 32, 32, 2, "relu"), Layer("conv2d_3", 32, 32, 1, "relu"),
    Layer("conv2d_4", 32, 64, 2, "relu"), Layer("conv2d_5", 64, 64, 1, "relu"),
    Layer("conv2d_6", 64, 32, 1, "relu"), Layer("conv2d_7", 32, 16, 1, "relu"),
    Layer("conv2d_8", 48, 16, 1, "relu"), Layer("conv2d_9", 16, 16, 1, "relu"),
    Layer("conv2d_10", 48, 16, 1, "relu"), Layer("conv2d_11", 16, 16, 1, "relu"),
    Layer("kpn_0_3_out_conv", 16, 4, 1, "sigmoid"), Layer("kpn_4_7_out_conv", 16, 4, 1, "sigmoid"),
    Layer("kpn_8_11_out_conv", 16, 4, 1, "sigmoid"), Layer("kpn_12_15_out_conv", 16, 4, 1, "sigmoid"),
    Layer("temporal_params_out_conv", 16, 4, 1, "sigmoid"), Layer("feedback_out_conv", 16, 4, 1, "sigmoid"),
)
"""The gym's module names, so ``weights.npz`` keys (``NAME.weight``, ``NAME.bias``) match its checkpoints."""
OUTPUTS = ("k0", "k1", "k2", "k3", "temporal", "feedback")
INPUT_CHANNELS = ("history.r", "history.g", "history.b", "colour.r", "colour.g", "colour.b", "disocclusion",
                  "feedback.0", "feedback.1", "feedback.2", "feedback.3", "luma_derivative")
UPSAMPLES = 3
CONCATS = 2
SIZE_MULTIPLE = 8


def nss_topology(conv: Any, up: Any, cat: Any, x: Any) -> list[Any]:
    """The NSS U-Net wiring over abstract conv(i, x), up(i, x), cat(i, [a, b]) ops; the six heads' outputs (one
    definition for the NumPy reference runtime and the graph exporters)."""
    x = conv(0, x)
    x = skip1 = conv(1, x)
    x = conv(2, x)
    x = skip2 = conv(3, x)
    x = conv(6, conv(5, conv(4, x)))
    x = conv(7, up(0, x))
    x = conv(8, cat(0, [x, skip2]))
    x = conv(9, up(1, x))
    x = conv(10, cat(1, [x, skip1]))
    x = up(2, conv(11, x))
    return [conv(12 + i, x) for i in range(6)]


def multiplier_shift(scale: float) -> tuple[int, int]:
    """TOSA's fixed-point form of a positive real ``scale``: ``(M, n)`` with ``scale ~ M / 2^n``,
    ``2^30 <= M < 2^31`` (the mantissa rounded to 31 bits, half to even, carried into the exponent)."""
    mantissa, exponent = math.frexp(scale)
    m = round(mantissa * (1 << 31))
    if m == 1 << 31:
        m //= 2
        exponent += 1
    shift = 31 - exponent
    if not 2 <= shift <= 62:
        raise ValueError(f"rescale factor {scale!r} is outside TOSA's range (shift {shift})")
    return m, shift


@dataclass
class QParams:
    """Per-tensor affine int8 quantization: ``x = (q - zero_point) * scale``."""

    scale: float
    zero_point: int
    qmin: int = -128
    qmax: int = 127

    def to_json(self) -> dict[str, Any]:
        return {"scale": float(self.scale), "zero_point": int(self.zero_point), "qmin": int(self.qmin),
                "qmax": int(self.qmax)}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> QParams:
        return cls(float(d["scale"]), int(d["zero_point"]), int(d.get("qmin", -128)), int(d.get("qmax", 127)))

    def same(self, other: QParams) -> bool:
        return (self.scale, self.zero_point) == (other.scale, other.zero_point)


@dataclass
class Int8Layer:
    weight: np.ndarray
    """(O, I, 3, 3) int8, symmetric per output channel."""
    bias: np.ndarray
    """(O,) int32 at ``input.scale * weight_scale``."""
    weight_scale: np.ndarray
    """(O,) float32."""
    input: QParams
    output: QParams
    """Of the conv (before the sigmoid table for heads; after ReLU otherwise)."""


@dataclass
class Int8Network:
    """The int8 network as QAT trained it (the int8 VGF's constants)."""

    input: QParams
    layers: list[Int8Layer]
    upsample: list[tuple[QParams, QParams]]
    """(input, output) of the three nearest x2 up-samplings, in graph order."""
    concat: list[tuple[list[QParams], QParams]]
    """(inputs, output) of the two skip concatenations."""
    sigmoid_tables: np.ndarray
    """(6, 256) int8: head ``i``'s output code for input code ``c - 128``."""
    outputs: list[QParams]

    def arrays(self) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {"sigmoid_tables": self.sigmoid_tables}
        for spec, ly in zip(LAYERS, self.layers, strict=True):
            out[f"{spec.name}.weight"] = ly.weight
            out[f"{spec.name}.bias"] = ly.bias
            out[f"{spec.name}.weight_scale"] = ly.weight_scale
        return out

    def stored_bytes(self) -> int:
        return sum(ly.weight.nbytes + ly.bias.nbytes + ly.weight_scale.nbytes for ly in self.layers)


@dataclass
class SupersamplingAsset:
    """A trained NSS model and what runs around it."""

    name: str
    weights: dict[str, np.ndarray]
    """BN-folded float32: ``NAME.weight`` (O, I, 3, 3), ``NAME.bias`` (O,) for every layer of :data:`LAYERS`."""
    provenance: Provenance
    scale: int = 2
    dm_scale: float = 0.5
    """Learned disocclusion scale of the float model (in [0, 1])."""
    dm_scale_int8: float | None = None
    exposure: float | None = 2.0
    """Log exposure the model was trained at (None: each frame's own)."""
    jitter_table: np.ndarray = field(default_factory=lambda: np.zeros((16, 2), np.float32))
    """(16, 2) float32 (y, x) jitters in input pixels (quantized Halton(2, 3))."""
    export_size: tuple[int, int] = (544, 960)
    """(height, width) of the graph exports' static input (multiples of 8; the gym's 540p reflect-padded)."""
    int8: Int8Network | None = None
    clip: dict[str, np.ndarray] = field(default_factory=dict)
    """The reference clip (see :data:`CLIP_ARRAYS`)."""
    exports: list[GraphExport] = field(default_factory=list)

    def __post_init__(self) -> None:
        for spec in LAYERS:
            w, b = self.weights.get(f"{spec.name}.weight"), self.weights.get(f"{spec.name}.bias")
            if w is None or b is None:
                raise ValueError(f"weights: {spec.name}.weight / .bias missing")
            if w.shape != (spec.cout, spec.cin, 3, 3) or b.shape != (spec.cout,):
                raise ValueError(f"weights: {spec.name} has {w.shape} / {b.shape}, expected "
                                 f"({spec.cout}, {spec.cin}, 3, 3) / ({spec.cout},)")
        self.weights = {k: np.ascontiguousarray(v, np.float32) for k, v in self.weights.items()}
        if self.scale != 2:
            raise ValueError(f"scale {self.scale}: NSS upscales by 2")
        if not 0.0 <= self.dm_scale <= 1.0:
            raise ValueError(f"dm_scale {self.dm_scale} is outside [0, 1]")
        h, w = self.export_size
        if h < SIZE_MULTIPLE or w < SIZE_MULTIPLE or h % SIZE_MULTIPLE or w % SIZE_MULTIPLE:
            raise ValueError(f"export size {w}x{h} must be multiples of {SIZE_MULTIPLE}")
        if np.asarray(self.jitter_table).shape != (16, 2):
            raise ValueError(f"jitter table has shape {np.asarray(self.jitter_table).shape}, expected (16, 2)")
        self.jitter_table = np.asarray(self.jitter_table, np.float32)

    def parameter_count(self) -> int:
        return sum(v.size for v in self.weights.values())


CLIP_ARRAYS: dict[str, str] = {
    "colour": "(T,3,h,w) float32 linear input colour",
    "depth": "(T,1,h,w) float32 forward-Z device depth",
    "motion": "(T,2,H,W) float32 target-pixel motion (y, x), current minus previous",
    "jitter": "(T,2) float32 (y, x) input pixels",
    "depth_params": "(T,4) float32 FSR2 deviceToViewDepth",
    "exposure": "(T,) float32 log exposure the clip runs at",
    "render_size": "(2,) int32 (h, w) of the full frame",
    "ground_truth": "(T,3,H,W) float32 linear",
    "fp32_net_input": "(T,12,h,w) float32", "fp32_net_outputs": "(T,24,h,w) float32",
    "fp32_output": "(T,3,H,W) float32 linear",
    "int8_net_input": "(T,12,h,w) float32", "int8_net_codes": "(T,24,h,w) int8",
    "int8_output": "(T,3,H,W) float32 linear",
}
CLIP_REQUIRED = ("colour", "depth", "motion", "jitter", "depth_params", "exposure", "render_size", "ground_truth",
                 "fp32_net_input", "fp32_net_outputs", "fp32_output")


def check_clip(clip: dict[str, np.ndarray], path: Any, int8: bool) -> None:
    """AssetError naming ``path`` unless the clip's arrays are present and consistent."""
    need = CLIP_REQUIRED + (("int8_net_input", "int8_net_codes", "int8_output") if int8 else ())
    missing = [k for k in need if k not in clip]
    if missing:
        raise AssetError(path, f"reference clip lacks {', '.join(missing)}")
    t, _, h, w = clip["colour"].shape
    hh, ww = clip["ground_truth"].shape[2:]
    if (hh, ww) != (2 * h, 2 * w):
        raise AssetError(path, f"ground truth {hh}x{ww} is not twice the input {h}x{w}")
    want = {"depth": (t, 1, h, w), "motion": (t, 2, hh, ww), "jitter": (t, 2), "depth_params": (t, 4),
            "exposure": (t,), "render_size": (2,), "fp32_net_input": (t, 12, h, w),
            "fp32_net_outputs": (t, 24, h, w), "fp32_output": (t, 3, hh, ww)}
    if int8:
        want |= {"int8_net_input": (t, 12, h, w), "int8_net_codes": (t, 24, h, w), "int8_output": (t, 3, hh, ww)}
    for k, shape in want.items():
        if clip[k].shape != shape:
            raise AssetError(path, f"array {k!r} has shape {clip[k].shape}, expected {shape}")
    if int8 and clip["int8_net_codes"].dtype != np.int8:
        raise AssetError(path, f"array 'int8_net_codes' has dtype {clip['int8_net_codes'].dtype}, expected int8")


def export_input(asset: SupersamplingAsset, precision: str) -> np.ndarray:
    """(12, H, W) network input at the export size: the clip's first frame repeated by reflection."""
    x = asset.clip[f"{precision}_net_input"][min(1, asset.clip["colour"].shape[0] - 1)]
    h, w = asset.export_size
    while x.shape[1] < h or x.shape[2] < w:
        x = np.pad(x, ((0, 0), (0, max(0, min(h - x.shape[1], x.shape[1] - 1))),
                       (0, max(0, min(w - x.shape[2], x.shape[2] - 1)))), mode="reflect")
    return np.ascontiguousarray(x[:, :h, :w], np.float32)


# --------------------------------------------------------------------------- manifest <-> asset

def _qp(q: QParams) -> dict[str, Any]:
    return q.to_json()


def to_manifest(asset: SupersamplingAsset, files: FileRecords) -> dict[str, Any]:
    """The ``manifest.json`` dict of ``asset``."""
    clip = asset.clip
    t, _, h, w = clip["colour"].shape
    net: dict[str, Any] = {
        "architecture": NETWORK,
        "parameters": asset.parameter_count(),
        "input": {"channels": list(INPUT_CHANNELS), "size_multiple": SIZE_MULTIPLE, "padding": "reflect"},
        "outputs": list(OUTPUTS),
        "layers": [{"name": s.name, "inputs": s.cin, "outputs": s.cout, "stride": s.stride,
                    "activation": s.activation} for s in LAYERS],
        "weights": {"file": WEIGHTS_FILE, "dtype": "float32", "layout": "OIHW", "batchnorm": "folded"},
    }
    if asset.int8 is not None:
        q = asset.int8
        net["int8"] = {
            "file": INT8_FILE, "arithmetic": "tosa-1.0-int", "weights": "per_channel_symmetric",
            "input": _qp(q.input), "outputs": [_qp(o) for o in q.outputs],
            "layers": [{"input": _qp(ly.input), "output": _qp(ly.output)} for ly in q.layers],
            "upsample": [{"input": _qp(a), "output": _qp(b)} for a, b in q.upsample],
            "concat": [{"inputs": [_qp(x) for x in a], "output": _qp(b)} for a, b in q.concat],
        }
    return {
        **manifest_fields(KIND, FORMAT_VERSION, asset, files),
        "network": net,
        "pipeline": {
            "scale": asset.scale, "dm_scale": float(asset.dm_scale),
            "dm_scale_int8": None if asset.dm_scale_int8 is None else float(asset.dm_scale_int8),
            "exposure": asset.exposure, "jitter": asset.jitter_table.astype(float).tolist(),
            "tonemap": "karis", "metric_tonemap": "reinhard", "motion": "current_minus_previous_yx_pixels",
            "depth": "forward_z_device",
        },
        "export_size": {"height": asset.export_size[0], "width": asset.export_size[1]},
        "reference_clip": {"file": CLIP_FILE, "frames": int(t), "input_size": [int(h), int(w)],
                           "int8": asset.int8 is not None},
    }


def referenced_files(manifest: dict[str, Any]) -> list[str]:
    net = manifest["network"]
    out = [net["weights"]["file"], manifest["reference_clip"]["file"]]
    if "int8" in net:
        out.append(net["int8"]["file"])
    return out


def weight_shapes(int8: bool) -> dict[str, tuple[tuple[int, ...], str]]:
    """Expected arrays of ``weights.npz`` (float) or ``int8.npz``: name -> (shape, dtype)."""
    out: dict[str, tuple[tuple[int, ...], str]] = {}
    for s in LAYERS:
        if int8:
            out[f"{s.name}.weight"] = ((s.cout, s.cin, 3, 3), "int8")
            out[f"{s.name}.bias"] = ((s.cout,), "int32")
            out[f"{s.name}.weight_scale"] = ((s.cout,), "float32")
        else:
            out[f"{s.name}.weight"] = ((s.cout, s.cin, 3, 3), "float32")
            out[f"{s.name}.bias"] = ((s.cout,), "float32")
    if int8:
        out["sigmoid_tables"] = ((6, 256), "int8")
    return out


def _int8_from(d: dict[str, Any], arrays: dict[str, np.ndarray]) -> Int8Network:
    qp = QParams.from_json
    if len(d["layers"]) != len(LAYERS) or len(d["upsample"]) != UPSAMPLES or len(d["concat"]) != CONCATS:
        raise ValueError(f"int8 network lists {len(d['layers'])} layers, {len(d['upsample'])} up-samplings and "
                         f"{len(d['concat'])} concatenations, expected {len(LAYERS)}, {UPSAMPLES}, {CONCATS}")
    layers = [Int8Layer(arrays[f"{s.name}.weight"], arrays[f"{s.name}.bias"], arrays[f"{s.name}.weight_scale"],
                        qp(e["input"]), qp(e["output"])) for s, e in zip(LAYERS, d["layers"], strict=True)]
    if any((ly.weight_scale <= 0).any() for ly in layers):
        raise ValueError("int8 weight scales must be positive")
    return Int8Network(qp(d["input"]), layers, [(qp(e["input"]), qp(e["output"])) for e in d["upsample"]],
                       [([qp(x) for x in e["inputs"]], qp(e["output"])) for e in d["concat"]],
                       arrays["sigmoid_tables"], [qp(o) for o in d["outputs"]])


def from_manifest(manifest: dict[str, Any], contents: dict[str, Any], path: str | Path) -> SupersamplingAsset:
    """The asset of a validated manifest; ``contents``: the npz arrays of each payload file."""
    try:
        net = manifest["network"]
        if net["architecture"] != NETWORK:
            raise ValueError(f"network architecture {net['architecture']!r} is not {NETWORK}")
        int8 = _int8_from(net["int8"], contents[net["int8"]["file"]]) if "int8" in net else None
        p = manifest["pipeline"]
        size = manifest["export_size"]
        clip = contents[manifest["reference_clip"]["file"]]
        check_clip(clip, Path(path).parent / manifest["reference_clip"]["file"], int8 is not None)
        return SupersamplingAsset(
            name=manifest["name"], weights=dict(contents[net["weights"]["file"]]),
            provenance=Provenance.from_manifest(manifest["provenance"]), scale=p["scale"],
            dm_scale=p["dm_scale"], dm_scale_int8=p.get("dm_scale_int8"), exposure=p.get("exposure"),
            jitter_table=np.asarray(p["jitter"], np.float32), export_size=(size["height"], size["width"]),
            int8=int8, clip=clip, exports=[GraphExport(**x) for x in manifest.get("exports", [])])
    except (ValueError, TypeError, KeyError) as e:
        raise AssetError(path, f"inconsistent with manifest.json: {e}") from None

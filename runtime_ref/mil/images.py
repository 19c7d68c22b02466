"""Image inputs and outputs of Core ML programs (``ct.ImageType``), as an app hands them over.

An image feature is a pixel buffer for Core ML: 8-bit RGB, BGR or grey, (H, W[, C]). Inside the ML Program
the feature is a float tensor (1, C, H, W) of the pixel values 0..255 (any scale and bias the converter was
given are ops of the program). An image output is the program's float tensor turned into 8-bit pixels:
clamped to [0, 255] and rounded to nearest (Core ML does not document its rounding; an app reading the
buffer sees 8-bit values either way, so the bound on image outputs allows one step).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ngsdk.asset.errors import AssetError
from ngsdk.runtime_ref.mil.interpreter import run_program
from ngsdk.runtime_ref.mil.package import MilPackage, load_mlpackage
from ngsdk.runtime_ref.mil.spec import Feature

_CHANNELS = {"GRAYSCALE": 1, "GRAYSCALE_FLOAT16": 1, "RGB": 3, "BGR": 3}


def image_features(features: tuple[Feature, ...]) -> dict[str, Feature]:
    """The image features among ``features`` (a spec's inputs or outputs), by name."""
    return {f.name: f for f in features if f.kind == "image"}


def image_to_tensor(image: np.ndarray, feature: Feature, where: Any = None) -> np.ndarray:
    """An (H, W, C) or (H, W) uint8 image -> the program's (1, C, H, W) float32 pixel values."""
    assert feature.image is not None
    width, height, space = feature.image
    if space not in _CHANNELS:
        raise AssetError(where, f"image input {feature.name!r}: colour space {space} is not supported")
    a = np.asarray(image)
    if a.dtype != np.uint8:
        raise ValueError(f"image input {feature.name!r} takes uint8 pixels, got {a.dtype}")
    if a.ndim == 2:
        a = a[..., None]
    if a.shape != (height, width, _CHANNELS[space]):
        raise ValueError(f"image input {feature.name!r} is {width}x{height} {space}, got an array of shape {a.shape}")
    if space == "BGR":
        a = a[..., ::-1]
    return np.ascontiguousarray(a.transpose(2, 0, 1)[None], dtype=np.float32)


def tensor_to_image(x: np.ndarray, feature: Feature) -> np.ndarray:
    """The program's (1, C, H, W) output -> (H, W, C) uint8 pixels (clamped, rounded to nearest)."""
    assert feature.image is not None
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 4 or a.shape[0] != 1:
        raise ValueError(f"image output {feature.name!r}: program gives shape {a.shape}, not (1, C, H, W)")
    px = np.clip(np.floor(a[0] + 0.5), 0, 255).astype(np.uint8).transpose(1, 2, 0)
    return np.ascontiguousarray(px[..., ::-1] if feature.image[2] == "BGR" else px)


def run_with_images(pkg: MilPackage | str, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Run the program with image inputs given as uint8 pixels and image outputs returned as uint8 pixels;
    tensor features pass through as in :func:`ngsdk.runtime_ref.mil.run_program`."""
    if not isinstance(pkg, MilPackage):
        pkg = load_mlpackage(pkg)
    ins = image_features(pkg.spec.inputs)
    outs = image_features(pkg.spec.outputs)
    feeds = {k: image_to_tensor(v, ins[k], pkg.model_file) if k in ins else v for k, v in inputs.items()}
    result = run_program(pkg, feeds)
    return {k: tensor_to_image(v, outs[k]) if k in outs else v for k, v in result.items()}

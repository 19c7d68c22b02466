"""Decoding the images of a material folder (Pillow): every file to its integer codes in its own range (8 or
16 bits) or float32, with the bands L, LA, RGB or RGBA; 16-bit PNGs keep all their bits."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ngsdk.asset.errors import AssetError
from ngsdk.asset.limits import MAX_SOURCE_PIXELS

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tga", ".bmp", ".tif", ".tiff", ".webp")
UNSUPPORTED_IMAGE_SUFFIXES = {
    ".exr": "OpenEXR input needs an EXR reader: imageio reads EXR only with the FreeImage binary (a separate "
    "download) and ngsdk does not use the OpenEXR package; convert the map to 16-bit PNG",
    ".hdr": "Radiance HDR input is not supported; convert the map to 16-bit PNG",
    ".dds": "DDS input is not supported (block-compressed data is already lossy); use the PNG/TGA source",
    ".ktx": "KTX input is not supported; use the PNG/TGA source",
    ".ktx2": "KTX2 input is not supported; use the PNG/TGA source",
    ".psd": "PSD input is not supported; export the layers as PNG",
}
"""Image types a material folder may hold that ngsdk refuses, with what to do instead."""


@dataclass
class DecodedImage:
    """An image's pixels in its own integer range: (H, W, bands) uint8/uint16, or float32 for 'F'."""

    pixels: np.ndarray
    bands: str  # "L", "LA", "RGB" or "RGBA"
    maxval: int  # 255, 65535, or 0 for float data already in [0, 1] units
    notes: list[str]

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    def band_index(self, letter: str) -> int | None:
        if letter == "a":
            return len(self.bands) - 1 if self.bands.endswith("A") else None
        return 0 if self.bands.startswith("L") else "rgb".index(letter)

    def opaque(self) -> bool:
        a = self.band_index("a")
        return a is None or bool(np.all(self.pixels[..., a] == (self.maxval or 1.0)))


# Pillow decodes 16-bit RGB(A) and grey+alpha PNGs to 8 bits (high bytes). The same PNG
# unfiltering with these raw modes yields the low bytes ("RGB;16L" reads byte 1 of each sample,
# the low byte of big-endian data) or every byte ("RGBA" on 4-byte LA16 pixels).
_PNG16_RAWMODES = {"RGB;16B": "RGB;16L", "RGBA;16B": "RGBA;16L", "LA;16B": "RGBA"}
_CONVERT = {"1": "L", "RGBX": "RGB", "RGBa": "RGBA", "La": "LA", "PA": "RGBA"}
_COLOUR_MODELS = ("CMYK", "YCbCr", "LAB", "HSV")


def _open(path: Path, raw: bytes) -> Image.Image:
    try:
        im = Image.open(io.BytesIO(raw))
        w, h = im.size
        if w * h > MAX_SOURCE_PIXELS:
            raise AssetError(path, f"image is {w}x{h}, over the limit of {MAX_SOURCE_PIXELS} pixels (8192x8192)")
        return im
    except UnidentifiedImageError:
        raise AssetError(path, f"cannot read image: not a {path.suffix} image Pillow can decode") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise AssetError(path, f"cannot read image: {e}") from e


def _load(path: Path, im: Image.Image) -> np.ndarray:
    try:
        im.load()
        return np.asarray(im)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise AssetError(path, f"cannot decode image: {e}") from e


def decode_image(path: Path, raw: bytes) -> DecodedImage:
    """Decode an image to its integer codes (or float32 for float images), bands L/LA/RGB/RGBA."""
    im = _open(path, raw)
    rawmode = im.tile[0][3] if im.tile else None
    rawmode = rawmode[0] if isinstance(rawmode, tuple) else rawmode
    if im.format == "PNG" and raw[24:25] == b"\x10":  # IHDR bit depth 16
        if rawmode in _PNG16_RAWMODES:
            return _decode_png16(path, raw, im, rawmode)
        if not im.mode.startswith("I"):  # a Pillow that decodes it another way: refuse to lose bits
            raise AssetError(path, f"16-bit PNG read by this Pillow as {im.mode}/{rawmode}: not supported")
    bits = getattr(im, "tag_v2", {}).get(258) if im.format == "TIFF" else None
    if bits and max(bits) > 8 and im.mode not in ("I;16", "I;16B", "I;16L", "F"):
        raise AssetError(path, f"{max(bits)}-bit {im.mode} TIFF is not supported (it would lose precision); "
                         "save it as 16-bit PNG")
    notes: list[str] = []
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return DecodedImage(_load(path, im).astype(np.uint16)[..., None], "L", 65535, notes)
    if mode == "I":
        px = _load(path, im)
        if rawmode and str(rawmode).startswith("I;16") and px.min() >= 0 and px.max() <= 65535:
            return DecodedImage(px.astype(np.uint16)[..., None], "L", 65535, notes)
        raise AssetError(path, "32-bit integer images are not supported; save the map as 16-bit PNG")
    if mode == "F":
        px = _load(path, im).astype(np.float32)
        bad = int(np.count_nonzero(~np.isfinite(px)))
        if bad:
            raise AssetError(path, f"float image holds {bad} NaN or infinite values (training needs finite texels)")
        return DecodedImage(px[..., None], "L", 0, notes)
    if mode == "P":
        target = "RGBA" if "transparency" in im.info else "RGB"
        im = _converted(path, im, target)
    elif mode in _CONVERT:
        im = _converted(path, im, _CONVERT[mode])
    elif mode in _COLOUR_MODELS:
        im = _converted(path, im, "RGB")
        notes.append(f"converted from {mode} to RGB")
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        raise AssetError(path, f"unsupported image mode {mode}")
    px = _load(path, im)
    px = px[..., None] if px.ndim == 2 else px
    return DecodedImage(px.astype(np.uint8, copy=False), im.mode, 255, notes)


def _converted(path: Path, im: Image.Image, mode: str) -> Image.Image:
    try:
        return im.convert(mode)
    except (OSError, SyntaxError, ValueError) as e:
        raise AssetError(path, f"cannot decode image: {e}") from e


def _decode_png16(path: Path, raw: bytes, im: Image.Image, rawmode: str) -> DecodedImage:
    bands = {"RGB;16B": "RGB", "RGBA;16B": "RGBA", "LA;16B": "LA"}[rawmode]
    other = _open(path, raw)
    tile = other.tile[0]
    other.tile = [(tile[0], tile[1], tile[2], _PNG16_RAWMODES[rawmode])]
    second = _load(path, other)
    if bands == "LA":
        px = second.view(">u2").reshape(second.shape[0], second.shape[1], 2).astype(np.uint16)
    else:
        high = _load(path, im)
        px = (high.astype(np.uint16) << 8) | second
    return DecodedImage(px, bands, 65535, [])

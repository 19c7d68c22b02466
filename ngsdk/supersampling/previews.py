"""Preview pictures: output | ground truth | error, tonemapped for display (numpy + Pillow)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from ngsdk.asset.atomic import atomic_write_bytes
from ngsdk.textures.colour import linear_to_srgb

ERROR_GAIN = 4.0
"""Absolute error in display space is scaled by this so small errors show."""


def display(linear: np.ndarray, exposure: float) -> np.ndarray:
    """(3, H, W) linear -> (H, W, 3) Reinhard-tonemapped at ``exposure`` (multiplier), in [0, 1]."""
    x = np.clip(linear * exposure, 0.0, None)
    return np.transpose(x / (1.0 + x), (1, 2, 0))


def preview_strip(output: np.ndarray, truth: np.ndarray, exposure: float) -> np.ndarray:
    """(H, 3W + 8, 3) uint8: output | ground truth | error, 4-pixel gaps."""
    a, b = display(output, exposure), display(truth, exposure)
    err = np.repeat(np.clip(np.abs(a - b).mean(axis=2, keepdims=True) * ERROR_GAIN, 0, 1), 3, axis=2)
    tiles = [linear_to_srgb(a), linear_to_srgb(b), err]
    gap = np.ones((a.shape[0], 4, 3), np.float32)
    strip = np.concatenate([tiles[0], gap, tiles[1], gap, tiles[2]], axis=1)
    return (np.clip(strip, 0, 1) * 255 + 0.5).astype(np.uint8)


def write_png(path: str | Path, rgb: np.ndarray) -> Path:
    """Write an (H, W, 3) uint8 image atomically."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    atomic_write_bytes(path, buf.getvalue())
    return Path(path)


def write_previews(folder: str | Path, outputs: np.ndarray, truth: np.ndarray, exposure: float,
                   prefix: str = "frame") -> list[Path]:
    """One strip per frame of (T, 3, H, W) ``outputs`` / ``truth``; returns the files."""
    folder = Path(folder)
    return [write_png(folder / f"{prefix}_{i:03d}.png", preview_strip(o, t, exposure))
            for i, (o, t) in enumerate(zip(outputs, truth))]

"""Read the image a shading MLP learns (numpy + Pillow; no torch, usable from verify)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ngsdk.asset.errors import AssetError


def load_image(path: str | Path) -> np.ndarray:
    """An image file as float32 RGB (H, W, 3) in [0, 1]: stored values, no colour conversion,
    alpha dropped, 16-bit greyscale scaled by 1/65535 and repeated to RGB."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            im.load()
            if im.mode in ("I;16", "I;16B", "I;16L", "I"):
                arr = np.asarray(im, np.float32) / 65535.0
                arr = np.repeat(arr[..., None], 3, axis=-1)
            else:
                arr = np.asarray(im.convert("RGB"), np.float32) / 255.0
    except FileNotFoundError:
        raise AssetError(path, "file not found") from None
    except OSError as e:
        raise AssetError(path, f"not a readable image ({e})") from None
    if arr.ndim != 3 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise AssetError(path, "image is empty")
    return np.ascontiguousarray(arr, np.float32)

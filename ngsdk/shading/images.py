"""Read the image a shading MLP learns (numpy + Pillow; no torch, usable from verify)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ngsdk.asset.errors import AssetError
from ngsdk.asset.limits import MAX_INPUT_BYTES, MAX_SOURCE_PIXELS
from ngsdk.asset.safe_read import read_regular


def load_image(path: str | Path) -> np.ndarray:
    """An image file as float32 RGB (H, W, 3) in [0, 1]: stored values, no colour conversion,
    alpha dropped, 16-bit greyscale scaled by 1/65535 and repeated to RGB."""
    import io

    from PIL import Image

    raw = read_regular(path, limit=MAX_INPUT_BYTES, what="image")   # a FIFO or a device is refused, not read
    try:
        with Image.open(io.BytesIO(raw)) as im:
            w, h = im.size
            if w * h > MAX_SOURCE_PIXELS:   # from the header, before decoding: no decompression bomb
                raise AssetError(path, f"image is {w}x{h}, over the limit of {MAX_SOURCE_PIXELS} pixels")
            im.load()
            if im.mode in ("I;16", "I;16B", "I;16L", "I"):
                arr = np.asarray(im, np.float32) / 65535.0
                arr = np.repeat(arr[..., None], 3, axis=-1)
            else:
                arr = np.asarray(im.convert("RGB"), np.float32) / 255.0
    except FileNotFoundError:
        raise AssetError(path, "file not found") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise AssetError(path, f"not a readable image ({e})") from None
    if arr.ndim != 3 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise AssetError(path, "image is empty")
    return np.ascontiguousarray(arr, np.float32)

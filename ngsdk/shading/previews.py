"""Preview picture of a shading MLP, as the RTXNS sample window: reference | network | loss.

The loss panel is the seed's scaled difference ``(network - reference) * 0.5 * 10 + 0.5`` per
channel (mid grey where they agree). numpy + Pillow only (usable from ``ngsdk verify``).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ngsdk.asset.atomic import atomic_write_bytes

LOSS_GAIN = 10.0


def loss_image(decoded: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """The seed's scaled loss picture, float (H, W, 3) in [0, 1]."""
    d = np.asarray(decoded, np.float32) - np.asarray(reference, np.float32)
    return np.clip(d * (0.5 * LOSS_GAIN) + 0.5, 0.0, 1.0)


def _u8(x: np.ndarray) -> np.ndarray:
    return (np.clip(np.asarray(x, np.float32), 0, 1) * 255.0 + 0.5).astype(np.uint8)


def preview_png(reference: np.ndarray, decoded: np.ndarray, title: str = "") -> bytes:
    """PNG bytes of ``reference | network | scaled loss`` side by side, labelled."""
    h, w = reference.shape[:2]
    panels = [
        _u8(reference[..., :3]),
        _u8(decoded[..., :3]),
        _u8(loss_image(decoded[..., :3], reference[..., :3])),
    ]
    strip = 18
    canvas = Image.new("RGB", (3 * w + 8, h + strip), (24, 24, 24))
    draw = ImageDraw.Draw(canvas)
    labels = ["reference", "network", f"loss x{LOSS_GAIN:g}"]
    for i, (p, label) in enumerate(zip(panels, labels, strict=False)):
        canvas.paste(Image.fromarray(p, "RGB"), (i * (w + 4), strip))
        draw.text(
            (i * (w + 4) + 4, 3), label if i or not title else f"{label}  {title}", fill=(230, 230, 230)
        )
    buf = io.BytesIO()
    canvas.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def write_preview(path: str | Path, reference: np.ndarray, decoded: np.ndarray, title: str = "") -> Path:
    """Write the preview PNG atomically; returns its path."""
    path = Path(path)
    atomic_write_bytes(path, preview_png(reference, decoded, title))
    return path

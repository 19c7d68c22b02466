"""Preview pictures: per texture ``source | decoded | error heatmap`` and a contact sheet."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ngsdk.asset.atomic import atomic_write_bytes
from ngsdk.asset.neural_texture import Channel
from ngsdk.metrics import psnr
from ngsdk.textures.colour import to_uint8
from ngsdk.textures.metrics import texture_groups, to_stored

# black -> purple -> orange -> yellow -> white, for |error| in [0, 1/ERROR_GAIN]
_HEAT_STOPS = np.array([[0, 0, 0], [80, 18, 123], [230, 92, 40], [252, 220, 60], [255, 255, 255]], np.float32)
ERROR_GAIN = 8.0


def heatmap(err: np.ndarray) -> np.ndarray:
    """(H, W) absolute error -> (H, W, 3) uint8, saturating at 1/ERROR_GAIN."""
    t = np.clip(err * ERROR_GAIN, 0, 1) * (len(_HEAT_STOPS) - 1)
    i = np.minimum(t.astype(np.int32), len(_HEAT_STOPS) - 2)
    f = (t - i)[..., None]
    return (_HEAT_STOPS[i] * (1 - f) + _HEAT_STOPS[i + 1] * f).astype(np.uint8)


def _as_rgb(x: np.ndarray) -> np.ndarray:
    if x.shape[-1] == 1:
        x = np.repeat(x, 3, axis=-1)
    elif x.shape[-1] == 2:
        x = np.concatenate([x, np.zeros_like(x[..., :1])], axis=-1)
    return to_uint8(x[..., :3])


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def _labelled(panels: list[np.ndarray], labels: list[str], title: str, max_side: int = 512) -> Image.Image:
    h, w = panels[0].shape[:2]
    scale = min(1.0, max_side / max(h, w))
    pw, ph = max(1, round(w * scale)), max(1, round(h * scale))
    bar = 18
    sheet = Image.new("RGB", (pw * len(panels), ph + 2 * bar), (24, 24, 24))
    draw = ImageDraw.Draw(sheet)
    draw.text((4, 3), title, fill=(235, 235, 235))
    for k, (p, lab) in enumerate(zip(panels, labels)):
        im = Image.fromarray(p).resize((pw, ph), Image.Resampling.BOX if scale < 1 else Image.Resampling.NEAREST)
        sheet.paste(im, (k * pw, bar))
        draw.text((k * pw + 4, ph + bar + 3), lab, fill=(235, 235, 235))
    return sheet


def write_previews(decoded: np.ndarray, source: np.ndarray, channels: list[Channel], out_dir: str | Path,
                   prefix: str = "") -> list[Path]:
    """Write one PNG per texture and ``contact_sheet.png``; both arrays linear (H, W, C)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    dec = to_stored(decoded, channels)
    src = to_stored(source, channels)
    written, rows = [], []
    for name, idx in texture_groups(channels).items():
        s, d = src[..., idx], dec[..., idx]
        err = np.abs(d - s).mean(axis=-1)
        db = psnr(float(((d.astype(np.float64) - s) ** 2).mean()))
        img = _labelled([_as_rgb(s), _as_rgb(d), heatmap(err)],
                        ["source", "decoded", f"|error| x{ERROR_GAIN:g}"], f"{prefix}{name}  {db:.2f} dB")
        path = out_dir / f"{prefix}{name.replace(':', '_')}.png"
        atomic_write_bytes(path, _png(img))
        written.append(path)
        rows.append(img)
    width = max(r.width for r in rows)
    sheet = Image.new("RGB", (width, sum(r.height for r in rows)), (24, 24, 24))
    y = 0
    for r in rows:
        sheet.paste(r, (0, y))
        y += r.height
    path = out_dir / f"{prefix}contact_sheet.png"
    atomic_write_bytes(path, _png(sheet))
    written.append(path)
    return written

"""PBR materials and images as mip-mapped textures on the render device, sampled per ray hit (torch).

Every texture has the same 9 channels: albedo RGB (linear), tangent-space normal (encoded 0..1, OpenGL
+Y up), roughness, metallic, ambient occlusion; maps a material lacks get neutral values. Sampling is
bilinear with repeat addressing in the mip level that matches the hit's footprint (nearest level).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ngsdk.asset.errors import AssetError
from ngsdk.textures.colour import srgb_to_linear

CHANNELS = 9
NEUTRAL = np.array([0.5, 0.5, 0.5, 0.5, 0.5, 1.0, 0.5, 0.0, 1.0], np.float32)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def material_maps(folder: str | Path) -> np.ndarray:
    """(H, W, 9) float32 of a PBR material folder (read by the texture ingest: name keywords, packed maps)."""
    from ngsdk.textures.ingest import load_texture_set

    ts = load_texture_set(folder)
    out = np.broadcast_to(NEUTRAL, (ts.height, ts.width, CHANNELS)).copy()
    names = ts.channel_names
    slots = {"albedo.r": 0, "albedo.g": 1, "albedo.b": 2, "normal.x": 3, "normal.y": 4, "normal.z": 5,
             "roughness": 6, "metallic": 7, "ao": 8}
    for i, n in enumerate(names):
        if n in slots:
            out[..., slots[n]] = ts.data[..., i]
    if not any(n.startswith("albedo") for n in names):
        raise AssetError(folder, "material has no albedo / base colour map")
    return out


def image_maps(path: str | Path) -> np.ndarray:
    """(H, W, 9) float32 of an sRGB picture used as a matte backdrop (flat normal, rough, dielectric)."""
    path = Path(path)
    try:
        with Image.open(path) as im:
            rgb = np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
    except (OSError, ValueError) as e:
        raise AssetError(path, f"not a readable image ({e})") from None
    out = np.broadcast_to(NEUTRAL, rgb.shape[:2] + (CHANNELS,)).copy()
    out[..., :3] = srgb_to_linear(rgb)
    out[..., 6] = 0.8
    return out


def find_images(folder: str | Path) -> list[Path]:
    return sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


@dataclass
class Texture:
    """Mip chain of one texture in the bank's flat buffer."""

    offsets: torch.Tensor
    heights: torch.Tensor
    widths: torch.Tensor
    levels: int
    size: int
    """Largest side of level 0 (texels)."""


class TextureBank:
    """Textures flattened into one (9, N) device buffer, addressed by level offset."""

    def __init__(self, maps: list[np.ndarray], device: torch.device, max_size: int):
        chunks, self.textures = [], []
        offset = 0
        for m in maps:
            t = torch.from_numpy(np.ascontiguousarray(m.transpose(2, 0, 1))).float().unsqueeze(0)
            h, w = t.shape[-2:]
            if max(h, w) > max_size:
                f = max_size / max(h, w)
                t = F.interpolate(t, size=(max(1, round(h * f)), max(1, round(w * f))), mode="area")
            offs, hs, ws = [], [], []
            while True:
                h, w = t.shape[-2:]
                offs.append(offset)
                hs.append(h)
                ws.append(w)
                chunks.append(t[0].reshape(CHANNELS, -1))
                offset += h * w
                if max(h, w) <= 4:
                    break
                t = F.interpolate(t, size=(max(1, h // 2), max(1, w // 2)), mode="area")
            self.textures.append(Texture(torch.tensor(offs, device=device), torch.tensor(hs, device=device),
                                         torch.tensor(ws, device=device), len(offs), max(hs[0], ws[0])))
        self.data = torch.cat(chunks, dim=1).to(device)

    def sample(self, index: int, u: torch.Tensor, v: torch.Tensor, lod: torch.Tensor) -> torch.Tensor:
        """(N, 9) bilinear samples of texture ``index`` at (u, v) (repeat; v down the image) in the nearest
        mip level to ``lod`` (log2 texels per pixel at level 0)."""
        tex = self.textures[index]
        lvl = torch.round(lod).clamp(0, tex.levels - 1).long()
        off, h, w = tex.offsets[lvl], tex.heights[lvl], tex.widths[lvl]
        x = u * w - 0.5
        y = v * h - 0.5
        x0, y0 = torch.floor(x), torch.floor(y)
        fx, fy = (x - x0).unsqueeze(0), (y - y0).unsqueeze(0)
        x0, y0 = x0.long(), y0.long()
        xa, xb = torch.remainder(x0, w), torch.remainder(x0 + 1, w)
        ya, yb = torch.remainder(y0, h), torch.remainder(y0 + 1, h)

        def at(yy: torch.Tensor, xx: torch.Tensor) -> torch.Tensor:
            return self.data[:, off + yy * w + xx]

        top = at(ya, xa) * (1 - fx) + at(ya, xb) * fx
        bottom = at(yb, xa) * (1 - fx) + at(yb, xb) * fx
        return (top * (1 - fy) + bottom * fy).T

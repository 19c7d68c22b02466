"""The four predicted maps of a material and their PNG files (numpy + Pillow, torch-free).

Files follow the NeuroPBR layout and what ``ngsdk train texture`` ingests: ``albedo.png`` (8-bit sRGB RGB),
``roughness.png`` and ``metallic.png`` (8-bit linear grey), ``normal.png`` (8-bit RGB, ``0.5 n + 0.5``, OpenGL:
+Y towards the top of the image), plus a ``channels.json`` that states the colour spaces and the normal
convention so the ingest guesses nothing.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from ngsdk.asset.atomic import atomic_write_bytes
from ngsdk.asset.errors import AssetError
from ngsdk.textures.colour import linear_to_srgb, to_uint8

if TYPE_CHECKING:
    from ngsdk.textures.ingest import TextureSet

MAP_FILES: dict[str, str] = {
    "albedo": "albedo.png",
    "roughness": "roughness.png",
    "metallic": "metallic.png",
    "normal": "normal.png",
}
CHANNEL_FILE: dict = {
    "version": 1,
    "files": {
        "albedo.png": {"semantic": "albedo", "colour_space": "srgb"},
        "roughness.png": {"semantic": "roughness", "colour_space": "linear"},
        "metallic.png": {"semantic": "metallic", "colour_space": "linear"},
        "normal.png": {"semantic": "normal", "colour_space": "linear", "normal_convention": "gl"},
    },
}


@dataclass
class MaterialMaps:
    """One material: ``albedo`` (H, W, 3) sRGB-encoded, ``roughness`` and ``metallic`` (H, W) linear, all in
    [0, 1]; ``normal`` (H, W, 3) unit vectors, OpenGL tangent space. float32 throughout."""

    albedo: np.ndarray
    roughness: np.ndarray
    metallic: np.ndarray
    normal: np.ndarray

    def __post_init__(self) -> None:
        self.albedo = np.asarray(self.albedo, dtype=np.float32)
        self.roughness = np.asarray(self.roughness, dtype=np.float32)
        self.metallic = np.asarray(self.metallic, dtype=np.float32)
        self.normal = np.asarray(self.normal, dtype=np.float32)
        h, w = self.roughness.shape[:2]
        shapes = {"albedo": (h, w, 3), "roughness": (h, w), "metallic": (h, w), "normal": (h, w, 3)}
        for name, shape in shapes.items():
            if getattr(self, name).shape != shape:
                raise ValueError(f"material maps: {name} is {getattr(self, name).shape}, expected {shape}")

    @property
    def size(self) -> tuple[int, int]:
        """(height, width)."""
        return self.roughness.shape[0], self.roughness.shape[1]

    def stacked(self) -> np.ndarray:
        """(H, W, 8): albedo (sRGB), roughness, metallic, normal (unit vector) — the network's output order."""
        return np.concatenate([self.albedo, self.roughness[..., None], self.metallic[..., None], self.normal], -1)

    @classmethod
    def from_stacked(cls, x: np.ndarray) -> MaterialMaps:
        x = np.asarray(x, dtype=np.float32)
        return cls(x[..., 0:3], x[..., 3], x[..., 4], x[..., 5:8])

    def write(self, folder: str | Path, *, channel_file: bool = True) -> list[Path]:
        """Write the four PNGs (and ``channels.json``) into ``folder``, each atomically; returns the paths."""
        folder = Path(folder)
        n = normalise(self.normal)
        images = {
            "albedo": to_uint8(self.albedo),
            "roughness": to_uint8(self.roughness),
            "metallic": to_uint8(self.metallic),
            "normal": to_uint8(n * 0.5 + 0.5),
        }
        paths = []
        for name, pixels in images.items():
            path = folder / MAP_FILES[name]
            atomic_write_bytes(path, png_bytes(pixels))
            paths.append(path)
        if channel_file:
            path = folder / "channels.json"
            atomic_write_bytes(path, (json.dumps(CHANNEL_FILE, indent=2) + "\n").encode())
            paths.append(path)
        return paths


def normalise(n: np.ndarray) -> np.ndarray:
    """Unit vectors along the last axis; a zero vector becomes +Z (a flat normal)."""
    n = np.asarray(n, dtype=np.float32)
    length = np.sqrt((n.astype(np.float64) ** 2).sum(-1, keepdims=True))
    flat = np.zeros_like(n)
    flat[..., 2] = 1.0
    return np.where(length > 1e-6, n / np.maximum(length, 1e-6), flat).astype(np.float32)


def png_bytes(pixels: np.ndarray) -> bytes:
    """uint8 (H, W) or (H, W, 3) -> PNG file bytes (no metadata, so equal pixels give equal bytes)."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(buf, format="PNG")
    return buf.getvalue()


def from_texture_set(ts: TextureSet, *, require_all: bool = False) -> MaterialMaps:
    """A :class:`~ngsdk.textures.ingest.TextureSet` -> maps. Missing roughness (0.5), metallic (0) and normal
    (flat) get defaults unless ``require_all``; albedo is always required. Raises AssetError naming the folder."""
    names = ts.channel_names
    h, w = ts.height, ts.width

    def take(*channels: str) -> np.ndarray | None:
        if not all(c in names for c in channels):
            return None
        return ts.data[..., [names.index(c) for c in channels]]

    albedo = take("albedo.r", "albedo.g", "albedo.b")
    rough = take("roughness")
    metal = take("metallic")
    normal = take("normal.x", "normal.y", "normal.z")
    missing = [m for m, v in (("albedo", albedo), ("roughness", rough), ("metallic", metal), ("normal", normal))
               if v is None]
    if "albedo" in missing or (require_all and missing):
        raise AssetError(ts.name, f"material has no {', '.join(missing)} map (found {', '.join(names)})")
    # ts.data is linear; the maps keep albedo in its stored sRGB encoding (what the network predicts)
    albedo_srgb = linear_to_srgb(albedo)
    rough = np.full((h, w), 0.5, np.float32) if rough is None else rough[..., 0]
    metal = np.zeros((h, w), np.float32) if metal is None else metal[..., 0]
    if normal is None:
        n = np.zeros((h, w, 3), np.float32)
        n[..., 2] = 1.0
    else:
        n = normalise(normal * 2.0 - 1.0)
    return MaterialMaps(albedo_srgb, rough, metal, n)


def read_maps(folder: str | Path) -> MaterialMaps:
    """Read a material folder with all four maps through the texture ingest (any names it recognises, 8 or
    16 bits, DirectX normals converted). Raises AssetError naming the folder or file."""
    from ngsdk.textures.ingest import load_texture_set

    return from_texture_set(load_texture_set(folder), require_all=True)

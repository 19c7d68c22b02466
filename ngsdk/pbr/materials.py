"""Real material sets as render sources, and their augmentation (crops, flips, rotations, colour jitter).

A material tensor is (8, H, W): sRGB albedo (3), roughness, metallic, unit OpenGL normal (3). Geometric
augmentations move the normal vectors with the pixels, so the normal map still matches the surface.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ngsdk.pbr.maps import MaterialMaps, from_texture_set
from ngsdk.pbr.noise import uniform


@dataclass
class MaterialSource:
    """A real material set read through the texture ingest: its folder name, maps, and the sha256 of its files."""

    name: str
    maps: torch.Tensor
    sources: dict[str, str]


def load_material_source(folder: str | Path) -> MaterialSource:
    """Read a PBR folder (any layout ``ngsdk train texture`` accepts); missing roughness/metallic/normal get
    defaults (0.5, 0, flat). Raises AssetError naming the folder for unreadable sets."""
    from ngsdk.textures.ingest import load_texture_set

    ts = load_texture_set(folder)
    return MaterialSource(ts.name, maps_to_tensor(from_texture_set(ts)), dict(ts.sources))


def maps_to_tensor(maps: MaterialMaps) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(maps.stacked().transpose(2, 0, 1)))


def tensor_to_maps(m: torch.Tensor) -> MaterialMaps:
    return MaterialMaps.from_stacked(m.detach().cpu().float().numpy().transpose(1, 2, 0))


def renormalise(m: torch.Tensor) -> torch.Tensor:
    """Unit normals again after filtering (channels 5..7 of (..., 8, H, W))."""
    n = m[..., 5:8, :, :]
    return torch.cat([m[..., :5, :, :], n / n.norm(dim=-3, keepdim=True).clamp(min=1e-6)], -3)


def resize_material(m: torch.Tensor, size: int) -> torch.Tensor:
    """(8, H, W) or (B, 8, H, W) -> size x size: area-filtered bilinear, normals renormalised."""
    batch = m.dim() == 4
    x = m if batch else m[None]
    if x.shape[-2:] != (size, size):
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False,
                          antialias=size < x.shape[-1])
        x = renormalise(x)
    return x if batch else x[0]


def flip_x(m: torch.Tensor) -> torch.Tensor:
    """Mirror left-right: the normal's x flips."""
    out = m.flip(-1).clone()
    out[..., 5, :, :] = -out[..., 5, :, :]
    return out


def flip_y(m: torch.Tensor) -> torch.Tensor:
    """Mirror top-bottom: the normal's y flips."""
    out = m.flip(-2).clone()
    out[..., 6, :, :] = -out[..., 6, :, :]
    return out


def rotate90(m: torch.Tensor, k: int) -> torch.Tensor:
    """Rotate the image ``k`` quarter turns counter-clockwise; the normal's (x, y) turns with it."""
    k %= 4
    out = torch.rot90(m, k, dims=(-2, -1)).clone()
    nx, ny = out[..., 5, :, :].clone(), out[..., 6, :, :].clone()
    c, s = round(math.cos(k * math.pi / 2)), round(math.sin(k * math.pi / 2))
    out[..., 5, :, :] = c * nx - s * ny
    out[..., 6, :, :] = s * nx + c * ny
    return out


def colour_jitter(m: torch.Tensor, gen: torch.Generator, *, hue: float = 0.06, saturation: float = 0.3,
                  brightness: float = 0.2, roughness: float = 0.1) -> torch.Tensor:
    """Hue rotation about the grey axis, saturation and brightness scaling of the albedo; a gain and offset on
    roughness. Metallic and normals are kept."""
    out = m.clone()
    a = out[0:3]
    angle = uniform(gen, -hue, hue) * 2 * math.pi
    # rotation about (1, 1, 1) / sqrt(3) (Rodrigues)
    c, s = math.cos(angle), math.sin(angle)
    k = 1 / math.sqrt(3)
    rot = torch.tensor([[c + (1 - c) / 3, (1 - c) / 3 - k * s, (1 - c) / 3 + k * s],
                        [(1 - c) / 3 + k * s, c + (1 - c) / 3, (1 - c) / 3 - k * s],
                        [(1 - c) / 3 - k * s, (1 - c) / 3 + k * s, c + (1 - c) / 3]], dtype=a.dtype)
    a = torch.einsum("ij,jhw->ihw", rot, a)
    grey = a.mean(0, keepdim=True)
    a = grey + (a - grey) * uniform(gen, 1 - saturation, 1 + saturation)
    a = a * uniform(gen, 1 - brightness, 1 + brightness)
    out[0:3] = a.clamp(0, 1)
    out[3] = (out[3] * uniform(gen, 1 - roughness, 1 + roughness) + uniform(gen, -roughness, roughness)).clamp(0.02, 1)
    return out


def relief_jitter(m: torch.Tensor, gen: torch.Generator, lo: float, hi: float) -> torch.Tensor:
    """The normal map's relief scaled by a log-uniform factor in [lo, hi] (tangent-space x, y scaled, then
    renormalised): the few real sets have gentle relief (0.3-6 degrees mean), a held-out one may not."""
    if lo == hi == 1.0:
        return m
    k = math.exp(uniform(gen, math.log(lo), math.log(hi)))
    out = m.clone()
    n = torch.cat([out[5:7] * k, out[7:8]])
    out[5:8] = n / n.norm(dim=0, keepdim=True).clamp_min(1e-6)
    return out


def augment(m: torch.Tensor, size: int, gen: torch.Generator, *, min_crop: float = 0.35,
            full_share: float = 0.3, jitter: bool = True, hue: float = 0.06,
            relief: tuple[float, float] = (1.0, 1.0)) -> torch.Tensor:
    """A random variant of the material at ``size`` x ``size``: with probability ``full_share`` the whole set
    rolled by a random offset (still tileable when the source is), else a square crop of ``min_crop``..1 of the
    shorter side taken with wrap-around; then a random flip, quarter turn, colour jitter (hue rotation up to
    ``hue`` turns) and relief scaling (:func:`relief_jitter`)."""
    _, h, w = m.shape
    m = torch.roll(m, (int(torch.randint(h, (), generator=gen)), int(torch.randint(w, (), generator=gen))), (1, 2))
    if float(torch.rand((), generator=gen)) >= full_share:
        side = max(8, int(round(min(h, w) * uniform(gen, min_crop, 1.0))))
        m = m[:, :side, :side]
    m = resize_material(m, size)
    if float(torch.rand((), generator=gen)) < 0.5:
        m = flip_x(m)
    if float(torch.rand((), generator=gen)) < 0.5:
        m = flip_y(m)
    m = rotate90(m, int(torch.randint(4, (), generator=gen)))
    return relief_jitter(colour_jitter(m, gen, hue=hue), gen, *relief) if jitter else m

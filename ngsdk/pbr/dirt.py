"""Dirty captures: cast shadows, lens smudges and scratches on top of a clean render (linear radiance).

Shadows are Voronoi cells on the plane (the same occluder in all three views, dimming the sun and part of the
sky); smudges (fBm-masked blur and haze) and scratches (thin bright or dark strokes) are per view, in screen
space, like marks on a phone's lens.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ngsdk.pbr.noise import fbm, randint, smoothstep, uniform
from ngsdk.pbr.render import RenderedViews


def shadow_mask(plane_xz: torch.Tensor, gen: torch.Generator, *, extent: float = 1.5) -> torch.Tensor:
    """(V, H, W, 1) in [0, 1]: 1 inside shadowed Voronoi cells of random sites on the plane, soft borders."""
    n = randint(gen, 4, 16)
    sites = (torch.rand(n, 2, generator=gen) * 2 - 1) * extent * 0.6
    shadowed = (torch.rand(n, generator=gen) < 0.4).float()
    shadowed[randint(gen, 0, n)] = 1.0  # at least one occluder
    p = plane_xz.cpu()
    dist = ((p[..., None, :] - sites) ** 2).sum(-1).sqrt()
    two = dist.topk(2, dim=-1, largest=False)
    near, second = two.indices[..., 0], two.indices[..., 1]
    border = two.values[..., 1] - two.values[..., 0]
    softness = uniform(gen, 0.01, 0.08)
    blend = 0.5 + 0.5 * smoothstep(0.0, softness, border)  # 1 deep inside a cell, 0.5 on its border
    mask = shadowed[near] * blend + shadowed[second] * (1 - blend)
    return mask[..., None].to(plane_xz.device)


def _screen_noise(views: int, size: int, gen: torch.Generator, **kw) -> torch.Tensor:
    return torch.stack([fbm(size, gen, **kw) for _ in range(views)])[..., None]


def _blur(x: torch.Tensor, factor: int) -> torch.Tensor:
    """Cheap wide blur of (V, H, W, 3): average-pool down, bilinear up."""
    y = x.permute(0, 3, 1, 2)
    small = F.avg_pool2d(y, factor, ceil_mode=True)
    return F.interpolate(small, size=y.shape[-2:], mode="bilinear", align_corners=False).permute(0, 2, 3, 1)


def _scratches(views: int, size: int, gen: torch.Generator) -> torch.Tensor:
    """(V, H, W, 1): thin strokes (segments) with a signed strength per stroke (bright or dark)."""
    c = (torch.arange(size, dtype=torch.float32) + 0.5) / size
    py, px = torch.meshgrid(c, c, indexing="ij")
    out = torch.zeros(views, size, size)
    for v in range(views):
        for _ in range(randint(gen, 2, 12)):
            a = torch.rand(2, generator=gen)
            b = a + (torch.rand(2, generator=gen) * 2 - 1) * uniform(gen, 0.1, 0.6)
            ab = b - a
            t = (((px - a[0]) * ab[0] + (py - a[1]) * ab[1]) / (ab @ ab).clamp(min=1e-8)).clamp(0, 1)
            d = torch.sqrt((px - a[0] - t * ab[0]) ** 2 + (py - a[1] - t * ab[1]) ** 2)
            width = uniform(gen, 0.5, 1.5) / size
            sign = 1.0 if float(torch.rand((), generator=gen)) < 0.7 else -1.0
            out[v] += sign * uniform(gen, 0.3, 1.0) * (1 - smoothstep(0.0, width, d))
    return out[..., None]


def dirty_radiance(views: RenderedViews, gen: torch.Generator) -> torch.Tensor:
    """Linear radiance (V, H, W, 3) of the dirty capture of ``views``."""
    dev = views.sun.device
    nviews, size = views.sun.shape[0], views.sun.shape[1]
    shadow = shadow_mask(views.plane_xz, gen) * views.on_plane
    strength = uniform(gen, 0.5, 0.9)
    hdr = views.sun * (1 - strength * shadow) + views.sky * (1 - 0.3 * strength * shadow)

    smudge = smoothstep(uniform(gen, -0.5, 0.5), uniform(gen, 1.0, 2.0), _screen_noise(nviews, size, gen, beta=3.0))
    smudge = smudge.to(dev) * uniform(gen, 0.2, 0.7)
    mean = hdr.mean(dim=(1, 2), keepdim=True)
    haze = mean * uniform(gen, 0.3, 0.9) * torch.tensor([1.0, 0.97, 0.92], device=dev)
    hdr = hdr * (1 - smudge) + (_blur(hdr, max(2, size // 32)) * 0.7 + haze * 0.3) * smudge

    scratches = _scratches(nviews, size, gen).to(dev)
    return (hdr + scratches * mean * uniform(gen, 0.5, 1.5)).clamp(min=0)

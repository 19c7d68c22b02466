"""Noise fields for procedural materials and dirt (torch, seeded generators, CPU-generated for determinism).

Material fields are periodic (they tile on the plane): fBm by spectral synthesis (filtered white noise through
an FFT is periodic by construction) and Voronoi cells measured on the torus. Screen-space fields (dirt) use the
same functions; their periodicity does no harm there.
"""

from __future__ import annotations

import torch


def fbm(size: int, gen: torch.Generator, *, beta: float = 2.0, low: float = 2.0, high: float | None = None,
        aniso: tuple[float, float] = (1.0, 1.0)) -> torch.Tensor:
    """Periodic fractal noise (size, size) with power spectrum 1 / f^beta between frequencies ``low`` and
    ``high`` (cycles per period), scaled to zero mean and unit standard deviation. ``aniso`` stretches the
    frequencies along (x, y): (1, 8) gives streaks along x (brushed metal, wood grain)."""
    white = torch.randn(size, size, generator=gen)
    spec = torch.fft.rfft2(white)
    fy = torch.fft.fftfreq(size) * size * aniso[1]
    fx = torch.fft.rfftfreq(size) * size * aniso[0]
    f = torch.sqrt(fy[:, None] ** 2 + fx[None, :] ** 2)
    amp = f.clamp(min=1e-6) ** (-beta / 2)
    amp = torch.where(f < low, torch.zeros_like(amp), amp)
    if high is not None:
        amp = torch.where(f > high, torch.zeros_like(amp), amp)
    out = torch.fft.irfft2(spec * amp, s=(size, size))
    return (out - out.mean()) / out.std().clamp(min=1e-8)


def voronoi(size: int, points: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Periodic Voronoi cells of ``points`` random sites: (F1, F2 - F1, cell index), each (size, size).
    Distances are in units of the period; F2 - F1 is small on cell borders (grout, cracks)."""
    sites = torch.rand(points, 2, generator=gen)
    c = (torch.arange(size, dtype=torch.float32) + 0.5) / size
    py, px = torch.meshgrid(c, c, indexing="ij")
    dx = (px[..., None] - sites[:, 0]).abs()
    dy = (py[..., None] - sites[:, 1]).abs()
    dx = torch.minimum(dx, 1 - dx)
    dy = torch.minimum(dy, 1 - dy)
    dist = torch.sqrt(dx * dx + dy * dy)
    two = dist.topk(2, dim=-1, largest=False)
    return two.values[..., 0], two.values[..., 1] - two.values[..., 0], two.indices[..., 0]


def height_to_normal(height: torch.Tensor, strength: float) -> torch.Tensor:
    """Periodic height field (H, W) in texture units -> unit OpenGL normals (3, H, W).

    ``strength`` scales the slopes (height change per texel). OpenGL +Y is towards the top of the image, so
    ``n_y`` follows the height's increase down the rows."""
    dx = (torch.roll(height, -1, 1) - torch.roll(height, 1, 1)) * 0.5
    drow = (torch.roll(height, -1, 0) - torch.roll(height, 1, 0)) * 0.5
    n = torch.stack([-dx * strength, drow * strength, torch.ones_like(height)], 0)
    return n / n.norm(dim=0, keepdim=True)


def smoothstep(e0: float, e1: float, x: torch.Tensor) -> torch.Tensor:
    t = ((x - e0) / (e1 - e0)).clamp(0, 1)
    return t * t * (3 - 2 * t)


def uniform(gen: torch.Generator, lo: float, hi: float) -> float:
    return lo + (hi - lo) * float(torch.rand((), generator=gen))


def randint(gen: torch.Generator, lo: int, hi: int) -> int:
    """An integer in [lo, hi)."""
    return int(torch.randint(lo, hi, (), generator=gen))

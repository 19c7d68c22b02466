"""Procedural materials: tileable albedo/roughness/metallic/normal sets for variety beyond the real scans.

Each generator returns a material tensor (8, S, S): sRGB albedo, roughness, metallic, unit OpenGL normal, the
layout the renderer and the training targets share. Kinds: ``noise`` (two-tone fBm), ``cells`` (Voronoi
stones with grout), ``tiles`` (bricks or tiles with mortar), ``metal`` (brushed metal with rust), ``painted``
(painted metal with chips: the metallic mask follows the chips).
"""

from __future__ import annotations

import colorsys

import torch

from ngsdk.pbr.noise import fbm, height_to_normal, randint, smoothstep, uniform, voronoi

KINDS = ("noise", "cells", "tiles", "metal", "painted")
_METALS = {  # sRGB base colours of common metals
    "iron": (0.77, 0.78, 0.78), "silver": (0.98, 0.97, 0.95), "aluminium": (0.96, 0.96, 0.97),
    "gold": (1.0, 0.86, 0.57), "copper": (0.98, 0.82, 0.76), "brass": (0.96, 0.89, 0.68),
}


def _colour(gen: torch.Generator, sat: tuple[float, float] = (0.05, 0.6),
            val: tuple[float, float] = (0.15, 0.85)) -> torch.Tensor:
    h, s, v = uniform(gen, 0, 1), uniform(gen, *sat), uniform(gen, *val)
    return torch.tensor(colorsys.hsv_to_rgb(h, s, v), dtype=torch.float32)


def _jitter(c: torch.Tensor, gen: torch.Generator, amount: float) -> torch.Tensor:
    return (c * (1 + (torch.rand(3, generator=gen) * 2 - 1) * amount)).clamp(0, 1)


def _assemble(albedo: torch.Tensor, rough: torch.Tensor, metal: torch.Tensor, height: torch.Tensor,
              strength: float) -> torch.Tensor:
    return torch.cat([albedo.clamp(0, 1), rough.clamp(0.02, 1)[None], metal.clamp(0, 1)[None],
                      height_to_normal(height, strength)], 0)


def _noise(size: int, gen: torch.Generator) -> torch.Tensor:
    c1, c2 = _colour(gen), _colour(gen)
    t = torch.sigmoid(fbm(size, gen, beta=uniform(gen, 1.5, 3.0)) * uniform(gen, 1, 4))
    detail = fbm(size, gen, beta=1.2, low=size / 16)
    albedo = c1[:, None, None] * (1 - t) + c2[:, None, None] * t
    albedo = albedo * (1 + 0.08 * detail)
    rough = uniform(gen, 0.3, 0.95) + 0.12 * fbm(size, gen, beta=2.0)
    height = fbm(size, gen, beta=uniform(gen, 2.0, 3.0)) + 0.3 * detail
    return _assemble(albedo, rough, torch.zeros_like(rough), height, uniform(gen, 0.5, 3.0) * 64 / size)


def _cells(size: int, gen: torch.Generator) -> torch.Tensor:
    n = randint(gen, 8, 40)
    f1, edge, idx = voronoi(size, n, gen)
    base = _colour(gen, val=(0.25, 0.8))
    cell_colours = torch.stack([_jitter(base, gen, 0.25) for _ in range(n)])
    grout_w = uniform(gen, 0.004, 0.02)
    grout = 1 - smoothstep(grout_w * 0.5, grout_w, edge)
    grout_colour = _colour(gen, sat=(0.0, 0.2), val=(0.1, 0.5))
    albedo = cell_colours[idx].permute(2, 0, 1) * (1 - grout) + grout_colour[:, None, None] * grout
    albedo = albedo * (1 + 0.1 * fbm(size, gen, beta=1.5, low=size / 32))
    bevel = smoothstep(0.0, uniform(gen, 0.03, 0.1), edge)
    height = bevel * 4 + 0.4 * fbm(size, gen, beta=2.2) - f1 * 2
    cell_rough = torch.rand(n, generator=gen) * 0.4 + 0.4
    rough = cell_rough[idx] * (1 - grout) + 0.95 * grout
    return _assemble(albedo, rough, torch.zeros_like(rough), height, uniform(gen, 0.5, 2.0) * 64 / size)


def _tiles(size: int, gen: torch.Generator) -> torch.Tensor:
    offset = 0.5 if uniform(gen, 0, 1) < 0.6 else 0.0
    rows = randint(gen, 1, 5) * 2 if offset else randint(gen, 2, 9)  # staggered rows tile only in pairs
    cols = randint(gen, 1, 5)
    c = (torch.arange(size, dtype=torch.float32) + 0.5) / size
    y = c[:, None] * rows
    row = y.floor()
    x = c[None, :] * cols + offset * (row % 2)
    fx, fy = x - x.floor(), y - row
    # distance to the nearest mortar line in brick units; the brick index for colour
    edge = torch.minimum(torch.minimum(fx, 1 - fx) * rows / cols, torch.minimum(fy, 1 - fy))
    brick = (row * (cols + 1) + (x.floor() % cols)).long()
    base = _colour(gen, val=(0.2, 0.8))
    colours = torch.stack([_jitter(base, gen, 0.2) for _ in range(rows * (cols + 1))])
    mortar_w = uniform(gen, 0.02, 0.08)
    mortar = 1 - smoothstep(mortar_w * 0.5, mortar_w, edge)
    mortar_colour = _colour(gen, sat=(0.0, 0.15), val=(0.3, 0.8))
    albedo = colours[brick].permute(2, 0, 1) * (1 - mortar) + mortar_colour[:, None, None] * mortar
    albedo = albedo * (1 + 0.1 * fbm(size, gen, beta=1.5, low=size / 32))
    height = smoothstep(mortar_w * 0.5, mortar_w * 2, edge) * 3 + 0.3 * fbm(size, gen, beta=2.0, low=4)
    rough = (uniform(gen, 0.2, 0.8) + 0.1 * fbm(size, gen, beta=2.0)) * (1 - mortar) + 0.9 * mortar
    return _assemble(albedo, rough, torch.zeros_like(rough), height, uniform(gen, 0.5, 2.0) * 64 / size)


def _metal(size: int, gen: torch.Generator) -> torch.Tensor:
    names = list(_METALS)
    base = _jitter(torch.tensor(_METALS[names[randint(gen, 0, len(names))]]), gen, 0.05)
    streaks = fbm(size, gen, beta=1.5, low=2, aniso=(1.0, uniform(gen, 4, 16)))
    rough = uniform(gen, 0.15, 0.5) + 0.06 * streaks
    albedo = base[:, None, None] * (1 + 0.03 * streaks)
    metal = torch.ones(size, size)
    height = 0.3 * streaks
    if uniform(gen, 0, 1) < 0.6:  # rust or dirt patches: dielectric, rough, slightly raised
        patch = fbm(size, gen, beta=2.5)
        mask = smoothstep(uniform(gen, 0.3, 1.2), uniform(gen, 1.3, 2.0), patch)
        rust = torch.tensor([0.45, 0.22, 0.1])[:, None, None] * (1 + 0.3 * fbm(size, gen, beta=1.2, low=size / 16))
        albedo = albedo * (1 - mask) + rust * mask
        rough = rough * (1 - mask) + 0.9 * mask
        metal = 1 - mask
        height = height + 2 * mask
    return _assemble(albedo, rough, metal, height, uniform(gen, 0.5, 1.5) * 64 / size)


def _painted(size: int, gen: torch.Generator) -> torch.Tensor:
    paint = _colour(gen, sat=(0.3, 0.9), val=(0.3, 0.9))
    metal_c = torch.tensor(_METALS["iron"])
    chips = smoothstep(uniform(gen, 1.0, 1.6), uniform(gen, 1.7, 2.3), fbm(size, gen, beta=2.2))
    grain = fbm(size, gen, beta=1.2, low=size / 16)
    albedo = paint[:, None, None] * (1 - chips) * (1 + 0.05 * grain) + metal_c[:, None, None] * chips
    rough = uniform(gen, 0.25, 0.6) * (1 - chips) + uniform(gen, 0.2, 0.45) * chips + 0.04 * grain
    height = (1 - chips) * 1.5 + 0.2 * grain
    return _assemble(albedo, rough, chips, height, uniform(gen, 0.5, 1.5) * 64 / size)


_GENERATORS = {"noise": _noise, "cells": _cells, "tiles": _tiles, "metal": _metal, "painted": _painted}


def procedural_material(kind: str, size: int, gen: torch.Generator) -> torch.Tensor:
    """A tileable material (8, size, size) of ``kind`` (one of :data:`KINDS`), drawn from ``gen``."""
    if kind not in _GENERATORS:
        raise ValueError(f"unknown procedural material {kind!r}: use one of {', '.join(KINDS)}")
    return _GENERATORS[kind](size, gen).float().contiguous()

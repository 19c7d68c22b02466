"""A seeded smoke plume for the volume corpus: a small semi-Lagrangian smoke solver in NumPy (no torch).

Density rises from a noisy disc source near the bottom (z = 0), pushed up by buoyancy; the velocity lives
on a grid of half the resolution (advected by itself, made nearly divergence-free by a few Jacobi
iterations of the pressure Poisson equation), the density on the full grid (advected by the trilinearly
upsampled velocity). A seeded low-frequency swirl at the source breaks the symmetry, so the plume rolls
up into fronts and sheets: fine structure that is hard to compress, as in a real simulation.

Deterministic: the same ``size``, ``steps`` and ``seed`` give the same bytes (NumPy float32 arithmetic in a
fixed order, one seeded generator). 128^3 takes about 30-40 s on one CPU core.

    python -m ngsdk.volumes.synth_plume --size 128 --out .bench_data/volumes/plume_zyx_128x128x128_float32.npy
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from ngsdk.asset.atomic import atomic_open


def _sample(field: np.ndarray, z: np.ndarray, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Trilinear samples of ``field`` (D, H, W) at continuous indices, clamped to the grid."""
    d, h, w = field.shape
    z = np.clip(z, 0, d - 1.001)
    y = np.clip(y, 0, h - 1.001)
    x = np.clip(x, 0, w - 1.001)
    z0, y0, x0 = z.astype(np.int32), y.astype(np.int32), x.astype(np.int32)
    tz, ty, tx = z - z0, y - y0, x - x0
    flat = field.ravel()
    base = (z0 * h + y0) * w + x0
    out = np.zeros(z.shape, np.float32)
    for dz, wz in ((0, 1 - tz), (1, tz)):
        for dy, wy in ((0, 1 - ty), (1, ty)):
            wzy = wz * wy
            for dx, wx in ((0, 1 - tx), (1, tx)):
                out += wzy * wx * flat[base + ((dz * h + dy) * w + dx)]
    return out


def _upsample2(v: np.ndarray) -> np.ndarray:
    """Twice the resolution on the last three axes, cell-centred linear interpolation (0.25 / 0.75 weights)."""
    for axis in range(v.ndim - 3, v.ndim):
        n = v.shape[axis]
        lo = np.take(v, np.r_[0, np.arange(n - 1)], axis=axis)
        hi = np.take(v, np.r_[np.arange(1, n), n - 1], axis=axis)
        a = 0.75 * v + 0.25 * lo
        b = 0.75 * v + 0.25 * hi
        v = np.stack([a, b], axis=axis + 1).reshape(v.shape[:axis] + (2 * n,) + v.shape[axis + 1:])
    return v.astype(np.float32)


def _project(u: np.ndarray, iterations: int) -> np.ndarray:
    """Subtract the gradient of a Jacobi solution of lap(p) = div(u) (closed box, unit cells)."""
    div = np.zeros(u.shape[1:], np.float32)
    for axis in range(3):
        c = u[axis]
        g = np.gradient(c, axis=axis) if c.shape[axis] > 1 else np.zeros_like(c)
        div += g.astype(np.float32)
    p = np.zeros_like(div)
    for _ in range(iterations):
        pad = np.pad(p, 1, mode="edge")
        p = (pad[2:, 1:-1, 1:-1] + pad[:-2, 1:-1, 1:-1] + pad[1:-1, 2:, 1:-1] + pad[1:-1, :-2, 1:-1]
             + pad[1:-1, 1:-1, 2:] + pad[1:-1, 1:-1, :-2] - div) / np.float32(6.0)
    for axis in range(3):
        u[axis] -= np.gradient(p, axis=axis).astype(np.float32)
    return u


def smoke_plume(size: int = 128, steps: int | None = None, seed: int = 0, *, buoyancy: float = 0.06,
                jacobi: int = 12) -> np.ndarray:
    """The plume's density, float32 (z, y, x) = (size, size, size), z up, values >= 0.

    ``steps`` defaults to ``size * 0.7`` (the plume then reaches about three quarters of the height).
    """
    if size < 16 or size % 2:
        raise ValueError(f"plume size must be even and at least 16, got {size}")
    steps = int(size * 0.7) if steps is None else steps
    if steps < 1:
        raise ValueError(f"plume steps must be at least 1, got {steps}")
    rng = np.random.default_rng(seed)
    n, c = size, size // 2
    dens = np.zeros((n, n, n), np.float32)
    u = np.zeros((3, c, c, c), np.float32)  # z, y, x components, in coarse cells per step
    fz, fy, fx = np.meshgrid(*(np.arange(n, dtype=np.float32),) * 3, indexing="ij")
    cz, cy, cx = np.meshgrid(*(np.arange(c, dtype=np.float32),) * 3, indexing="ij")
    # source: a disc near the bottom, its edge modulated by seeded noise
    r = np.hypot(fy[0] - n / 2 + 0.5, fx[0] - n / 2 + 0.5)
    angle = np.arctan2(fy[0] - n / 2, fx[0] - n / 2)
    k = np.arange(1, 6)
    wobble = (rng.normal(0, 0.12, 5)[:, None, None] * np.cos(k[:, None, None] * angle
                                                            + rng.uniform(0, 2 * np.pi, 5)[:, None, None])).sum(0)
    disc = np.clip((n * 0.09 * (1 + wobble) - r) / 2.0, 0, 1).astype(np.float32)
    src_depth = max(2, n // 32)
    # seeded swirl near the source: a few random vortex rings' worth of horizontal forcing
    phases = rng.uniform(0, 2 * np.pi, (3, 4))
    freqs = rng.integers(1, 4, (3, 4))
    for step in range(steps):
        t = np.float32(step / max(steps - 1, 1))
        dens[:src_depth] = np.maximum(dens[:src_depth], disc[None] * np.float32(1.0 - 0.3 * t))
        # buoyancy from the coarse density, and the seeded swirl in the lower third
        dc = dens.reshape(c, 2, c, 2, c, 2).mean(axis=(1, 3, 5))
        u[0] += np.float32(buoyancy) * dc
        low = np.exp(-cz / (c / 3)).astype(np.float32)
        for axis in (1, 2):
            swirl = sum(np.sin(freqs[axis, j] * 2 * np.pi * (cz if j % 2 else cy if axis == 2 else cx) / c
                               + phases[axis, j] + 0.15 * step) for j in range(4))
            u[axis] += np.float32(0.03) * low * swirl.astype(np.float32)
        u *= np.float32(0.995)
        # self-advection of the velocity (semi-Lagrangian), then the projection
        bz, by, bx = cz - u[0], cy - u[1], cx - u[2]
        u = np.stack([_sample(u[a], bz, by, bx) for a in range(3)])
        u = _project(u, jacobi)
        # density advection on the fine grid (velocity in fine cells: twice the coarse)
        uf = _upsample2(u) * np.float32(2.0)
        dens = _sample(dens, fz - uf[0], fy - uf[1], fx - uf[2])
        dens *= np.float32(0.998)
    return np.ascontiguousarray(dens, dtype=np.float32)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Write a seeded smoke plume volume (.npy, float32, z y x).")
    p.add_argument("--size", type=int, default=128, help="voxels per axis (even, >= 16)")
    p.add_argument("--steps", type=int, help="solver steps (default 0.7 * size)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True, help=".npy file to write")
    args = p.parse_args(argv)
    try:
        vol = smoke_plume(args.size, args.steps, args.seed)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    with atomic_open(args.out) as f:
        np.save(f, vol, allow_pickle=False)
    print(f"wrote {args.out}: {vol.shape} float32, range [{vol.min():.4g}, {vol.max():.4g}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())

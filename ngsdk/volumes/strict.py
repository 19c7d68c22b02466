"""The trainer's decode of a neural volume asset in the bundle's decode arithmetic (torch, CPU or CUDA).

An implementation of docs/decode-spec.md "Volumes" beside runtime_ref's NumPy one; the
reconstruction hash it records in the provenance is what ``ngsdk verify`` reproduces. ``exact``:
float32 transforms without contraction (every product and sum is its own torch op, so each result is
rounded to float32 and nothing fuses into an FMA), 1/256-texel integer weights, the integer trilinear
sum of the unorm8 codes, and the decoder MLP accumulated in a fixed order. ``float``: dequantized
features, float32 trilinear (``grid_sample``) and a plain float32 MLP (reference quality, not bit-defined).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ngsdk.asset.neural_volume import local_transform, select_bricks, voxel_positions

F32 = torch.float32
I32 = torch.int32
CHUNK = 1 << 18


def _c(x: float, device: torch.device) -> torch.Tensor:
    return torch.tensor(np.float32(x), dtype=F32, device=device)


def voxel_points(shape: tuple[int, int, int], box: tuple[int, ...] | None = None,
                 device: torch.device | str = "cpu") -> torch.Tensor:
    """Volume coordinates (N, 3) as x, y, z of the voxels in ``box`` (z0, z1, y0, y1, x0, x1; default
    all), z-major, at the spec's float32 voxel positions (``ngsdk.asset.neural_volume.voxel_positions``)."""
    d, h, w = shape
    box = box or (0, d, 0, h, 0, w)
    axes = [torch.from_numpy(voxel_positions(n)[box[2 * a]:box[2 * a + 1]]).to(device)
            for a, n in enumerate((d, h, w))]
    z, y, x = torch.meshgrid(*axes, indexing="ij")
    return torch.stack([x.reshape(-1), y.reshape(-1), z.reshape(-1)], dim=1)


# ---------------------------------------------------------------------------------------------------
# exact


def exact_local(transforms: torch.Tensor, p: torch.Tensor) -> list[torch.Tensor]:
    """Per row r of T (G, 3, 4) float32: ``q_r = ((T_r0 x + T_r1 y) + T_r2 z) + T_r3``, one rounding per op;
    three (G, N) tensors."""
    x, y, z = p[None, :, 0], p[None, :, 1], p[None, :, 2]
    rows = []
    for r in range(3):
        t = transforms[:, r, :, None]
        a = t[:, 0] * x
        b = t[:, 1] * y
        c = t[:, 2] * z
        rows.append(((a + b) + c) + t[:, 3])
    return rows


def exact_taps(q: torch.Tensor, res: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Lower tap index and the upper tap's weight in 1/256 texels (int32) along one axis."""
    u = (q + _c(1.0, q.device)) * _c(0.5 * (res - 1), q.device)
    v = torch.floor(u * _c(256.0, q.device))
    v = torch.where(torch.isnan(v), _c(-(2.0**30), q.device), torch.clamp(v, -(2.0**30), 2.0**30))
    xi = v.to(I32)
    return torch.bitwise_right_shift(xi, 8), torch.bitwise_and(xi, 255)


class GridSet:
    """Grids of one brick with equal resolution, feature count and storage, prepared for the decode."""

    def __init__(self, grids: list[Any], device: torch.device | str):
        g0 = grids[0]
        self.storage = g0.storage
        self.res = tuple(int(r) for r in g0.values.shape[:3])
        self.nf = int(g0.values.shape[3])
        dt = np.int32 if self.storage == "unorm8" else np.float32
        vals = np.stack([g.values.astype(dt).reshape(-1, self.nf) for g in grids])
        self.table = torch.from_numpy(np.ascontiguousarray(vals.reshape(-1, self.nf))).to(device)
        self.rows = int(np.prod(self.res))
        self.transforms = torch.from_numpy(np.stack([np.asarray(g.transform, np.float32) for g in grids])).to(device)
        self.a = torch.tensor([np.float32(np.float64(g.scale) * 2.0**-16) for g in grids], dtype=F32,
                              device=device)[:, None, None]
        self.b = torch.tensor([np.float32(np.float64(g.offset) * 2.0**-16) for g in grids], dtype=F32,
                              device=device)[:, None, None]
        self.dequant = torch.from_numpy(np.stack([g.dequantized().transpose(3, 0, 1, 2) for g in grids])).to(device)
        self.count = len(grids)

    def exact(self, p: torch.Tensor) -> torch.Tensor:
        """Features (N, G * F) float32 at brick-local points p (N, 3)."""
        dev = p.device
        rz, ry, rx = self.res
        g, n, nf = self.count, p.shape[0], self.nf
        qx, qy, qz = exact_local(self.transforms, p)
        axes = []
        for q, r in ((qx, rx), (qy, ry), (qz, rz)):
            i0, w = exact_taps(q, r)
            taps = []
            for d, wd in ((0, 256 - w), (1, w)):
                j = i0 + d
                taps.append(((j >= 0) & (j < r), j.clamp(0, r - 1), wd))
            axes.append(taps)
        base = (torch.arange(g, device=dev, dtype=I32) * self.rows)[:, None]
        if self.storage == "unorm8":
            s_tot = torch.zeros(g, n, nf, dtype=I32, device=dev)
            w_tot = torch.zeros(g, n, dtype=I32, device=dev)
        else:
            acc = torch.zeros(g, n, nf, dtype=F32, device=dev)
        for okz, jz, wz in axes[2]:
            if self.storage == "unorm8":
                s_z = torch.zeros(g, n, nf, dtype=I32, device=dev)
                w_z = torch.zeros(g, n, dtype=I32, device=dev)
            for oky, jy, wy in axes[1]:
                row = base + (jz * ry + jy) * rx
                okzy = okz & oky
                for okx, jx, wx in axes[0]:
                    ok = okzy & okx
                    vals = self.table[(row + jx).long()]
                    if self.storage == "unorm8":
                        wxy = torch.where(ok, wx * wy, 0)
                        s_z += wxy[..., None] * vals
                        w_z += wxy
                    else:
                        wt = (wx * wy).to(F32) * wz.to(F32)
                        acc = torch.where(ok[..., None], acc + wt[..., None] * vals, acc)
            if self.storage == "unorm8":
                s_tot += torch.bitwise_right_shift(s_z, 8) * wz[..., None]
                w_tot += torch.bitwise_right_shift(w_z, 8) * wz
        if self.storage == "unorm8":
            feats = s_tot.to(F32) * self.a + w_tot.to(F32)[..., None] * self.b
        else:
            feats = acc * _c(2.0**-24, dev)
        return feats.permute(1, 0, 2).reshape(n, g * nf)

    def float(self, p: torch.Tensor) -> torch.Tensor:
        """Features (N, G * F): dequantized float32 grids, float32 trilinear (corner aligned, zero padding)."""
        q = torch.einsum("gij,nj->gni", self.transforms[:, :, :3], p) + self.transforms[:, None, :, 3]
        g, n = self.count, p.shape[0]
        out = F.grid_sample(self.dequant, q.reshape(g, 1, 1, n, 3), mode="bilinear", padding_mode="zeros",
                            align_corners=True)
        return out.reshape(g, self.nf, n).permute(2, 0, 1).reshape(n, g * self.nf)


def grid_sets(grids: list[Any], device: torch.device | str) -> list[GridSet]:
    """Consecutive grids of equal resolution, features and storage grouped (decoder input order kept)."""
    sets: list[list[Any]] = []
    for g in grids:
        key = (g.values.shape, g.storage)
        if sets and (sets[-1][0].values.shape, sets[-1][0].storage) == key:
            sets[-1].append(g)
        else:
            sets.append([g])
    return [GridSet(s, device) for s in sets]


def exact_mlp(layers: list[tuple[torch.Tensor, torch.Tensor]], x: torch.Tensor) -> torch.Tensor:
    """``acc = b_j``, then ``acc = f32(acc + f32(W_jk x_k))`` for k ascending (separate multiply and add:
    no FMA); hidden ReLU ``acc > 0 ? acc : +0``; output ``acc > 0 ? min(acc, 1) : +0`` (N,)."""
    dev = x.device
    zero, one = _c(0.0, dev), _c(1.0, dev)
    xt = x.T.contiguous()
    for i, (w, b) in enumerate(layers):
        acc = b[:, None].expand(w.shape[0], xt.shape[1]).clone()
        tmp = torch.empty_like(acc)
        for k in range(w.shape[1]):
            torch.mul(w[:, k:k + 1], xt[k][None, :], out=tmp)
            acc.add_(tmp)
        xt = torch.where(acc > zero, acc, zero) if i < len(layers) - 1 else acc
    y = xt[0]
    # NaN and -0.0 become +0.0
    return torch.where(y > zero, torch.where(y < one, y, one), zero)


# ---------------------------------------------------------------------------------------------------
# float


def float_mlp(layers: list[tuple[torch.Tensor, torch.Tensor]], x: torch.Tensor) -> torch.Tensor:
    for i, (w, b) in enumerate(layers):
        x = x @ w.T + b
        if i < len(layers) - 1:
            x = torch.relu(x)
    return x[:, 0].clamp(0, 1)


# ---------------------------------------------------------------------------------------------------
# bricks and assets


class PreparedBrick:
    """One brick's grids and decoder as tensors on a device, for repeated decoding."""

    def __init__(self, brick: Any, device: torch.device | str = "cpu"):
        self.brick = brick
        self.sets = grid_sets(brick.grids, device)
        self.layers = [(torch.from_numpy(np.asarray(ly.weight, np.float32)).to(device),
                        torch.from_numpy(np.asarray(ly.bias, np.float32)).to(device)) for ly in brick.decoder.layers]
        # CPU: small chunks keep the MLP's (64, chunk) activations in cache
        self.chunk = CHUNK if torch.device(device).type == "cuda" else 1 << 13

    def __call__(self, p_local: torch.Tensor, mode: str = "exact") -> torch.Tensor:
        out = torch.empty(p_local.shape[0], dtype=F32, device=p_local.device)
        for s in range(0, p_local.shape[0], self.chunk):
            p = p_local[s:s + self.chunk]
            if mode == "exact":
                x = torch.cat([gs.exact(p) for gs in self.sets], dim=1)
                out[s:s + self.chunk] = exact_mlp(self.layers, x)
            else:
                x = torch.cat([gs.float(p) for gs in self.sets], dim=1)
                out[s:s + self.chunk] = float_mlp(self.layers, x)
        return out


def decode_brick(brick: Any, p_local: torch.Tensor, mode: str = "exact") -> torch.Tensor:
    """Normalized values (N,) of one brick at brick-local points (N, 3)."""
    return PreparedBrick(brick, p_local.device)(p_local, mode)


def brick_local(p: torch.Tensor, shape: tuple[int, int, int], fit: tuple[int, ...]) -> torch.Tensor:
    """Volume coordinates (N, 3) to the brick frame: ``f32(f32(p * s) + o)`` per axis with the asset's
    float32 (s, o) (``ngsdk.asset.neural_volume.local_transform``; the identity for a whole-volume fit box)."""
    scale, offset = local_transform(shape, tuple(fit))
    s = torch.from_numpy(scale).to(p.device)
    o = torch.from_numpy(offset).to(p.device)
    return p * s[None, :] + o[None, :]


def brick_of_points(asset: Any, p: torch.Tensor) -> torch.Tensor:
    """Index (N,) of the brick decoding each point (:func:`ngsdk.asset.neural_volume.select_bricks`)."""
    sel = select_bricks(asset, p.detach().to("cpu", torch.float32).numpy())
    return torch.from_numpy(sel.astype(np.int64)).to(p.device)


def decode_points(asset: Any, p: torch.Tensor, mode: str | None = None) -> torch.Tensor:
    """Normalized values (N,) at volume points p (N, 3) float32, decoded by the owning bricks."""
    mode = mode or asset.decode_mode
    p = p.to(F32)
    out = torch.empty(p.shape[0], dtype=F32, device=p.device)
    owner = brick_of_points(asset, p)
    for b, brick in enumerate(asset.bricks):
        sel = torch.nonzero(owner == b)[:, 0]
        if sel.numel() == 0:
            continue
        out[sel] = decode_brick(brick, brick_local(p[sel], asset.shape, brick.fit), mode)
    return out


def reconstruct(asset: Any, mode: str | None = None, device: torch.device | str = "cpu",
                progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """float32 (D, H, W) normalized values at every voxel position, each decoded by the brick whose core
    holds it (through the brick-local map, as runtime_ref and engines do)."""
    mode = mode or asset.decode_mode
    d, h, w = asset.shape
    out = torch.empty((d, h, w), dtype=F32, device=device)
    total = d * h * w
    done = 0
    with torch.no_grad():
        for brick in asset.bricks:
            z0, z1, y0, y1, x0, x1 = brick.core
            prepared = PreparedBrick(brick, device)
            step = max(1, (1 << 22) // ((y1 - y0) * (x1 - x0)))  # z slabs of about 4 M voxels
            for zs in range(z0, z1, step):
                ze = min(z1, zs + step)
                box = (zs, ze, y0, y1, x0, x1)
                pts = brick_local(voxel_points((d, h, w), box, device), asset.shape, brick.fit)
                vals = prepared(pts, mode)
                out[zs:ze, y0:y1, x0:x1] = vals.reshape(ze - zs, y1 - y0, x1 - x0)
                done += vals.numel()
                if progress is not None:
                    progress(done, total)
    return out.cpu().numpy()

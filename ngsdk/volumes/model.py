"""The AMGSRN model in torch: adaptive feature grids with learned affine transforms and an MLP decoder.

All ``G`` grids live in one parameter tensor ``(G, F, R, R, R)`` (z, y, x order in the last three
axes) and are sampled in one batched ``grid_sample`` call: the grids are the batch and every grid
gets the points moved by its own transform ``q = T_g[:, :3] p + T_g[:, 3]`` (``p`` = volume
coordinates x, y, z in [-1, 1]). ``T_g`` is composed from a log-scale, a unit quaternion rotation, a
shear and a translation: ``A = diag(exp(s)) @ U(shear) @ R(quat)``; ``U`` is unit upper triangular,
so ``|det A| = prod(exp(s))``, the grid's feature density inside its cube.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ngsdk.volumes.config import VolumeTrainConfig


def quaternion_matrix(q: torch.Tensor) -> torch.Tensor:
    """Rotation matrices (..., 3, 3) of quaternions (..., 4) ordered (w, x, y, z), normalized here."""
    q = q / q.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    w, x, y, z = q.unbind(-1)
    rows = [
        1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
        2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
        2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
    ]
    return torch.stack(rows, dim=-1).reshape(*q.shape[:-1], 3, 3)


def compose_transforms(log_scale: torch.Tensor, rotation: torch.Tensor, shear: torch.Tensor,
                       translation: torch.Tensor) -> torch.Tensor:
    """Affine transforms (G, 3, 4) mapping volume coordinates into each grid's local cube.

    ``log_scale`` (G, 3) per local axis, ``rotation`` (G, 4) quaternions (w, x, y, z), ``shear``
    (G, 3) the upper-triangle entries (xy, xz, yz), ``translation`` (G, 3). Identity parameters
    (zeros, (1, 0, 0, 0), zeros, zeros) give ``[I | 0]``.
    """
    g = log_scale.shape[0]
    rot = quaternion_matrix(rotation)
    one = torch.ones(g, dtype=shear.dtype, device=shear.device)
    zero = torch.zeros_like(one)
    upper = torch.stack([one, shear[:, 0], shear[:, 1], zero, one, shear[:, 2], zero, zero, one],
                        dim=-1).reshape(g, 3, 3)
    a = torch.exp(log_scale)[:, :, None] * (upper @ rot)
    return torch.cat([a, translation[:, :, None]], dim=2)


def local_points(transforms: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """Points (N, 3) in every grid's local frame: (G, N, 3)."""
    return torch.einsum("gij,nj->gni", transforms[:, :, :3], p) + transforms[:, None, :, 3]


def sample_grids(features: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Trilinear samples of grids (G, F, Rz, Ry, Rx) at local points q (G, N, 3) as (N, G * F).

    One ``grid_sample`` call (corner aligned, zero padding) with the grids as its batch.
    """
    g, f = features.shape[:2]
    n = q.shape[1]
    out = F.grid_sample(features, q.reshape(g, 1, 1, n, 3).to(features.dtype), mode="bilinear",
                        padding_mode="zeros", align_corners=True)
    return out.reshape(g, f, n).permute(2, 0, 1).reshape(n, g * f)


class _FixedPointGather(torch.autograd.Function):
    """``table[idx]`` whose backward sums gradients in 64-bit fixed point.

    Integer additions are associative, so the scatter-add gives the same bits in any order: the
    backward is deterministic even with CUDA atomics (``grid_sample``'s float atomics are not).
    """

    @staticmethod
    def forward(ctx, table: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(idx)
        ctx.rows = table.shape[0]
        return table.index_select(0, idx)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        (idx,) = ctx.saved_tensors
        g64 = grad.double()
        # a power-of-two scale keeping any node's sum below 2^62: exact scaling, one rounding per term
        peak = g64.abs().max().clamp_min(1e-300) * float(idx.numel())
        scale = torch.exp2(torch.floor(62.0 - torch.log2(peak)))
        fixed = torch.round(g64 * scale).long()
        acc = torch.zeros(ctx.rows, grad.shape[1], dtype=torch.int64, device=grad.device)
        prev, warn = torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled()
        # integer atomics are order-independent: skip torch's sort-based deterministic index_add
        torch.use_deterministic_algorithms(False)
        try:
            acc.index_add_(0, idx, fixed)
        finally:
            torch.use_deterministic_algorithms(prev, warn_only=warn)
        return (acc.double() / scale).to(grad.dtype), None


def sample_grids_gather(features: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """The same trilinear sampling as :func:`sample_grids` by explicit gathers, with a deterministic
    backward for the features (see :class:`_FixedPointGather`); gradients reach ``q`` through the weights."""
    g, f, rz, ry, rx = features.shape
    n = q.shape[1]
    sizes = torch.tensor([rx, ry, rz], dtype=q.dtype, device=q.device)
    u = (q + 1) * (0.5 * (sizes - 1))
    u0 = torch.floor(u).detach()
    w1 = u - u0
    i0 = u0.long()
    table = features.permute(0, 2, 3, 4, 1).reshape(g * rz * ry * rx, f)
    base = (torch.arange(g, device=q.device) * (rz * ry * rx))[:, None]
    idx, wts = [], []
    for dz in (0, 1):
        for dy in (0, 1):
            for dx in (0, 1):
                ix, iy, iz = i0[..., 0] + dx, i0[..., 1] + dy, i0[..., 2] + dz
                ok = (ix >= 0) & (ix < rx) & (iy >= 0) & (iy < ry) & (iz >= 0) & (iz < rz)
                w = ((w1[..., 0] if dx else 1 - w1[..., 0]) * (w1[..., 1] if dy else 1 - w1[..., 1])
                     * (w1[..., 2] if dz else 1 - w1[..., 2]))
                node = (iz.clamp(0, rz - 1) * ry + iy.clamp(0, ry - 1)) * rx + ix.clamp(0, rx - 1)
                idx.append(base + node)
                wts.append(w * ok)
    vals = _FixedPointGather.apply(table, torch.stack(idx, dim=-1).reshape(-1))  # (G * N * 8, F)
    out = (vals.reshape(g, n, 8, f) * torch.stack(wts, dim=-1)[..., None].to(features.dtype)).sum(dim=2)
    return out.permute(1, 0, 2).reshape(n, g * f)


def snap_to_texel_256(q: torch.Tensor, res: torch.Tensor) -> torch.Tensor:
    """Move local points onto the 1/256-texel lattice the exact decode uses (floor), gradients passing
    straight through; ``res`` holds the grid sizes (x, y, z)."""
    half = 0.5 * (res - 1)
    u = (q + 1) * half
    snapped = torch.floor(u * 256) / 256 / half - 1
    return q + (snapped - q).detach()


class VolumeModel(nn.Module):
    """``G`` transformed feature grids and an MLP decoder of their concatenated features."""

    def __init__(self, cfg: VolumeTrainConfig, seed: int = 0, init_value: float = 0.5):
        super().__init__()
        self.cfg = cfg
        g, f, r = cfg.grids, cfg.features, cfg.grid_res
        gen = torch.Generator().manual_seed(seed)

        def uniform(shape: tuple[int, ...], lo: float, hi: float) -> torch.Tensor:
            return torch.rand(shape, generator=gen) * (hi - lo) + lo

        self.features = nn.Parameter(uniform((g, f, r, r, r), -1e-2, 1e-2))
        # grids start covering the volume with a margin, slightly turned and moved so they differ
        self.log_scale = nn.Parameter(uniform((g, 3), math.log(0.8), math.log(0.95)))
        axis = uniform((g, 3), -1.0, 1.0)
        angle = uniform((g, 1), -0.15, 0.15)
        self.rotation = nn.Parameter(torch.cat([torch.cos(angle), torch.sin(angle) * axis
                                                / axis.norm(dim=1, keepdim=True).clamp_min(1e-6)], dim=1))
        self.shear = nn.Parameter(uniform((g, 3), -0.05, 0.05))
        self.translation = nn.Parameter(uniform((g, 3), -0.1, 0.1))
        dims = [g * f] + [cfg.hidden] * cfg.hidden_layers + [1]
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(dims, dims[1:])):
            lin = nn.Linear(a, b)
            bound = 1.0 / math.sqrt(a)
            with torch.no_grad():
                lin.weight.copy_(uniform((b, a), -bound, bound) * math.sqrt(6.0 if i < len(dims) - 2 else 1.0))
                lin.bias.copy_(uniform((b,), -bound, bound) if i < len(dims) - 2 else torch.full((b,), init_value))
            layers.append(lin)
            if i < len(dims) - 2:
                layers.append(nn.ReLU())
        self.decoder = nn.Sequential(*layers)
        self.register_buffer("frozen_transforms", torch.zeros(0))
        self.register_buffer("q_scale", torch.zeros(0))
        self.register_buffer("q_offset", torch.zeros(0))
        self.register_buffer("res_xyz", torch.tensor([float(r)] * 3))
        self.storage = cfg.storage
        self.sampler = "grid_sample"
        """``grid_sample``, ``gather`` or ``fused`` (:attr:`VolumeTrainConfig.sampler`, resolved by the trainer)."""
        self.snap = False

    # -- transforms --------------------------------------------------------------------------------

    def transform_parameters(self) -> list[nn.Parameter]:
        return [self.log_scale, self.rotation, self.shear, self.translation]

    @property
    def frozen(self) -> bool:
        return self.frozen_transforms.numel() > 0

    def transforms(self) -> torch.Tensor:
        """(G, 3, 4) float32: the frozen matrices once frozen (exactly what the asset stores)."""
        if self.frozen:
            return self.frozen_transforms
        return compose_transforms(self.log_scale, self.rotation, self.shear, self.translation)

    def freeze_transforms(self) -> None:
        """Fix the transforms as float32 matrices; they stop training."""
        with torch.no_grad():
            self.frozen_transforms = self.transforms().detach().float().clone()
        for prm in self.transform_parameters():
            prm.requires_grad_(False)

    def density(self, p: torch.Tensor, sharpness: float | None = None,
                transforms: torch.Tensor | None = None) -> torch.Tensor:
        """Feature density (N,) at volume points: sum over grids of ``|det A_g|`` where the point lies in
        grid g's cube. ``sharpness`` None: a hard indicator; else a smooth box (sigmoids of that slope),
        through which the density loss moves the grids."""
        t = self.transforms() if transforms is None else transforms
        det = torch.linalg.det(t[:, :, :3]).abs()
        q = local_points(t, p)
        if sharpness is None:
            inside = (q.abs() <= 1).all(dim=-1).to(p.dtype)
        else:
            inside = torch.sigmoid(sharpness * (1 - q.abs())).prod(dim=-1)
        return (det[:, None] * inside).sum(dim=0)

    # -- features ----------------------------------------------------------------------------------

    def set_quantization(self) -> None:
        """Fix each grid's stored value range (unorm8: scale and offset of its codes) from its features."""
        with torch.no_grad():
            f = self.features.detach()
            lo = f.amin(dim=(1, 2, 3, 4)).float()
            hi = f.amax(dim=(1, 2, 3, 4)).float()
            scale = torch.clamp((hi - lo) / 255.0, min=1e-8)
            # the float32 values stored in the manifest
            self.q_scale = scale.float().clone()
            self.q_offset = lo.float().clone()

    @property
    def quantized(self) -> bool:
        return self.q_scale.numel() > 0

    def clamp_features(self) -> None:
        """Keep features inside the stored range once quantization is on."""
        if self.quantized and self.storage == "unorm8":
            with torch.no_grad():
                lo = self.q_offset[:, None, None, None, None]
                hi = lo + 255.0 * self.q_scale[:, None, None, None, None]
                self.features.copy_(torch.maximum(torch.minimum(self.features, hi), lo))

    def codes(self) -> torch.Tensor:
        """unorm8 codes (G, F, R, R, R) as float."""
        s = self.q_scale[:, None, None, None, None]
        o = self.q_offset[:, None, None, None, None]
        return torch.clamp(torch.round((self.features - o) / s), 0, 255)

    def stored_features(self) -> torch.Tensor:
        """Features as the asset stores them, with straight-through gradients once quantization is on."""
        f = self.features
        if not self.quantized:
            return f
        if self.storage == "unorm8":
            s = self.q_scale[:, None, None, None, None]
            o = self.q_offset[:, None, None, None, None]
            fq = self.codes() * s + o
        else:
            fq = f.half().float()
        return f + (fq - f).detach()

    # -- forward -----------------------------------------------------------------------------------

    def sample(self, p: torch.Tensor, transforms: torch.Tensor | None = None) -> torch.Tensor:
        """Concatenated grid features (N, G * F) at volume points p (N, 3)."""
        t = self.transforms() if transforms is None else transforms
        q = local_points(t, p)
        if self.snap:
            q = snap_to_texel_256(q, self.res_xyz)
        feats = self.stored_features()
        if self.sampler == "fused":
            from ngsdk.volumes.fused_sampler import sample_grids_fused

            return sample_grids_fused(feats, q)
        return sample_grids_gather(feats, q) if self.sampler == "gather" else sample_grids(feats, q)

    def decode(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(x)[:, 0]

    def forward(self, p: torch.Tensor) -> torch.Tensor:
        """Normalized values (N,) at volume points (unclamped)."""
        return self.decode(self.sample(p))


class FastDecoder:
    """Throughput decode of a neural volume asset on one device in float32, float16 or bfloat16.

    Per brick, all grids are dequantized into one ``(G, F, R, R, R)`` tensor and sampled by a single
    batched ``grid_sample``; the MLP then runs on the features as ``(G * F, N)`` so no transpose copy is
    needed. Not bit-exact (the bundle's ``exact`` decode is :mod:`ngsdk.volumes.strict`): this is the
    renderer-style fast path. ``compile=True`` wraps the per-brick decode in ``torch.compile`` and falls
    back to eager mode (with ``compile_error`` set) when compilation fails on this machine.
    """

    def __init__(self, asset, device: torch.device | str = "cuda", dtype: torch.dtype = torch.float16,
                 compile: bool = False):
        self.asset, self.device, self.dtype = asset, torch.device(device), dtype
        self.compile_error: str | None = None
        from ngsdk.asset.neural_volume import local_transform

        self.bricks = []
        for brick in asset.bricks:
            shapes = {g.values.shape for g in brick.grids}
            if len(shapes) != 1:
                raise ValueError(f"brick {brick.name!r}: FastDecoder needs grids of one resolution and feature count")
            feats = np.stack([g.dequantized().transpose(3, 0, 1, 2) for g in brick.grids])
            t = np.stack([np.asarray(g.transform, np.float32) for g in brick.grids])
            s, o = local_transform(asset.shape, brick.fit)
            # fold the brick-local map into the grid transforms: q = T (s p + o) = (T diag s) p + T o + t;
            # as one (3, G * 3) matrix and a (1, G * 3) bias, all grids move the points in one addmm
            a = t[:, :, :3] * s[None, None, :]
            b = t[:, :, 3] + np.einsum("gij,j->gi", t[:, :, :3], o)
            self.bricks.append({
                "grids": torch.from_numpy(feats).to(self.device, dtype),
                # positions are moved in the decode dtype too: half the memory traffic of float32 points
                "a": torch.from_numpy(a.transpose(2, 0, 1).reshape(3, -1).astype(np.float32)).to(self.device, dtype),
                "b": torch.from_numpy(b.reshape(1, -1).astype(np.float32)).to(self.device, dtype),
                "layers": [(torch.from_numpy(ly.weight).to(self.device, dtype),
                            torch.from_numpy(ly.bias).to(self.device, dtype)[:, None])
                           for ly in brick.decoder.layers],
            })
        self._fn = self._decode_brick
        if compile:
            try:
                self._fn = torch.compile(self._decode_brick, dynamic=False)
                if asset.bricks:
                    self(torch.zeros(8, 3, device=self.device))  # compile now, so failures show here
            except Exception as e:  # any backend / toolchain failure: stay eager
                self.compile_error = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
                self._fn = self._decode_brick

    def _decode_brick(self, p: torch.Tensor, grids: torch.Tensor, a: torch.Tensor, b: torch.Tensor,
                      layers: list[tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
        g, f = grids.shape[:2]
        n = p.shape[0]
        # (N, G * 3) viewed as (G, 1, 1, N, 3) without a copy: grid_sample reads the grid through strides
        q = torch.addmm(b, p.to(a.dtype), a).view(n, g, 3).permute(1, 0, 2)
        x = F.grid_sample(grids, q.reshape(g, 1, 1, n, 3), mode="bilinear", padding_mode="zeros",
                          align_corners=True).reshape(g * f, n)
        for i, (w, bias) in enumerate(layers):
            x = torch.addmm(bias, w, x)
            if i < len(layers) - 1:
                x = torch.relu(x)
        return x[0].clamp(0, 1)

    @torch.no_grad()
    def __call__(self, p: torch.Tensor) -> torch.Tensor:
        """Normalized values (N,) in the decoder's dtype at volume points p (N, 3) float32 on its device."""
        if len(self.bricks) == 1:
            bk = self.bricks[0]
            return self._fn(p, bk["grids"], bk["a"], bk["b"], bk["layers"])
        from ngsdk.volumes.strict import brick_of_points

        owner = brick_of_points(self.asset, p)
        out = torch.empty(p.shape[0], dtype=self.dtype, device=p.device)
        for i, bk in enumerate(self.bricks):
            sel = torch.nonzero(owner == i)[:, 0]
            if sel.numel():
                out[sel] = self._fn(p[sel], bk["grids"], bk["a"], bk["b"], bk["layers"])
        return out

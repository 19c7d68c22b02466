"""Fused trilinear sampling of the feature grids for training (Triton): the ``fused`` training sampler.

The torch ``gather`` sampler (:func:`ngsdk.volumes.model.sample_grids_gather`) materialises, per step, every
corner's index, weight and feature row (``G x N x 8`` of each: gigabytes at 32 grids and 2^18 points) and a
float64 copy of their gradient. Here one kernel samples all grids for a tile of points and writes the (N, G * F)
features; a second one recomputes the corners in the backward, accumulates the feature gradients into int64
fixed point with integer atomics (integer addition is associative, so the gradients, and the trained bundle,
are the same bits on every run whatever order the threads arrive in) and, while the transforms train, writes the
gradient of each point's local coordinates. Same arithmetic as the torch sampler (corner-aligned, zero outside
the grid); the fixed-point scale is the power of two keeping any node's sum below 2^62 (a node takes at most one
term per point: the bound uses N where the torch sampler's uses G x N x 8, so the two agree to rounding).

Runs where :func:`ngsdk.training.triton_available` says so: CUDA, or the CPU under ``TRITON_INTERPRET=1``
(the tests).
"""

from __future__ import annotations

import torch

try:
    import triton
    import triton.language as tl
except ImportError:  # pragma: no cover - Triton ships with CUDA builds of torch
    triton = None

BLOCK = 128


if triton is not None:

    @triton.jit
    def _axis(q, res):
        """Corner index 0, fraction and d(u)/d(q) along one axis (corner-aligned: -1 -> node 0, +1 -> res - 1)."""
        half = 0.5 * (res - 1.0)
        u = (q + 1.0) * half
        u0 = tl.floor(u)
        return u0.to(tl.int32), u - u0, half

    @triton.jit
    def _tile(q_ptr, n, RX, RY, RZ, BLOCK: tl.constexpr):
        """This program's points (rows of grid ``g``) and their corner-0 index and fraction along x, y, z."""
        # 64-bit offsets: G * N * F and the grids' nodes may pass 2^31 at the largest settings
        rows = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
        g = tl.program_id(1).to(tl.int64)
        live = rows < n
        qb = q_ptr + (g * n + rows) * 3
        x0, wx, hx = _axis(tl.load(qb, mask=live, other=0.0), RX)
        y0, wy, hy = _axis(tl.load(qb + 1, mask=live, other=0.0), RY)
        z0, wz, hz = _axis(tl.load(qb + 2, mask=live, other=0.0), RZ)
        return rows, g, live, x0, wx, hx, y0, wy, hy, z0, wz, hz

    @triton.jit
    def _corner(x0, y0, z0, wx, wy, wz, live, g, RX, RY, RZ, dx: tl.constexpr, dy: tl.constexpr,
                dz: tl.constexpr):
        """Corner (dx, dy, dz): its table row (clamped), inside-the-grid mask, per-axis weights and weight."""
        ix = x0 + dx
        iy = y0 + dy
        iz = z0 + dz
        ok = (ix >= 0) & (ix < RX) & (iy >= 0) & (iy < RY) & (iz >= 0) & (iz < RZ) & live
        ax = wx * dx + (1.0 - wx) * (1 - dx)
        ay = wy * dy + (1.0 - wy) * (1 - dy)
        az = wz * dz + (1.0 - wz) * (1 - dz)
        w = tl.where(ok, ax * ay * az, 0.0)
        node = g * RZ * RY * RX + ((tl.minimum(tl.maximum(iz, 0), RZ - 1) * RY
                                    + tl.minimum(tl.maximum(iy, 0), RY - 1)) * RX
                                   + tl.minimum(tl.maximum(ix, 0), RX - 1)).to(tl.int64)
        return node, ok, ax, ay, az, w

    @triton.jit
    def _forward_kernel(table_ptr, q_ptr, out_ptr, n, G, RX, RY, RZ, F: tl.constexpr, FP: tl.constexpr,
                        BLOCK: tl.constexpr):
        rows, g, live, x0, wx, _hx, y0, wy, _hy, z0, wz, _hz = _tile(q_ptr, n, RX, RY, RZ, BLOCK)
        f = tl.arange(0, FP)
        fm = f < F
        acc = tl.zeros((BLOCK, FP), dtype=tl.float32)
        for dz in tl.static_range(2):
            for dy in tl.static_range(2):
                for dx in tl.static_range(2):
                    node, ok, _ax, _ay, _az, w = _corner(x0, y0, z0, wx, wy, wz, live, g, RX, RY, RZ, dx, dy, dz)
                    v = tl.load(table_ptr + node[:, None] * F + f[None, :], mask=ok[:, None] & fm[None, :], other=0.0)
                    acc += v * w[:, None]
        tl.store(out_ptr + rows[:, None] * (G * F) + g * F + f[None, :], acc, mask=live[:, None] & fm[None, :])

    @triton.jit
    def _backward_kernel(grad_ptr, table_ptr, q_ptr, scale_ptr, acc_ptr, gq_ptr, n, G, RX, RY, RZ,
                         F: tl.constexpr, FP: tl.constexpr, NEED_Q: tl.constexpr, BLOCK: tl.constexpr):
        rows, g, live, x0, wx, hx, y0, wy, hy, z0, wz, hz = _tile(q_ptr, n, RX, RY, RZ, BLOCK)
        f = tl.arange(0, FP)
        fm = f < F
        m2 = live[:, None] & fm[None, :]
        go = tl.load(grad_ptr + rows[:, None] * (G * F) + g * F + f[None, :], mask=m2, other=0.0)
        scale = tl.load(scale_ptr)
        gs = go * scale
        gux = tl.zeros((BLOCK,), dtype=tl.float32)
        guy = tl.zeros((BLOCK,), dtype=tl.float32)
        guz = tl.zeros((BLOCK,), dtype=tl.float32)
        for dz in tl.static_range(2):
            for dy in tl.static_range(2):
                for dx in tl.static_range(2):
                    node, ok, ax, ay, az, w = _corner(x0, y0, z0, wx, wy, wz, live, g, RX, RY, RZ, dx, dy, dz)
                    cm = ok[:, None] & fm[None, :]
                    term = tl.floor(gs * w[:, None] + 0.5).to(tl.int64)
                    tl.atomic_add(acc_ptr + node[:, None] * F + f[None, :], term, mask=cm, sem="relaxed")
                    if NEED_Q:
                        v = tl.load(table_ptr + node[:, None] * F + f[None, :], mask=cm, other=0.0)
                        gv = tl.where(ok, tl.sum(go * v, axis=1), 0.0)
                        # d w / d u along each axis: +-1 times the other two axes' weights
                        gux += gv * (ay * az) * (2 * dx - 1)
                        guy += gv * (ax * az) * (2 * dy - 1)
                        guz += gv * (ax * ay) * (2 * dz - 1)
        if NEED_Q:
            gb = gq_ptr + (g * n + rows) * 3
            tl.store(gb, gux * hx, mask=live)
            tl.store(gb + 1, guy * hy, mask=live)
            tl.store(gb + 2, guz * hz, mask=live)


def _launch_grid(n: int, g: int) -> tuple[int, int]:
    return (triton.cdiv(n, BLOCK), g)


class _FusedTrilinear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, features: torch.Tensor, q: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        g, f, rz, ry, rx = features.shape
        n = q.shape[1]
        table = features.detach().permute(0, 2, 3, 4, 1).contiguous().float()
        qc = q.detach().contiguous().float()
        out = torch.empty((n, g * f), dtype=torch.float32, device=features.device)
        if n:
            _forward_kernel[_launch_grid(n, g)](table, qc, out, n, g, rx, ry, rz, F=f, FP=triton.next_power_of_2(f),
                                                BLOCK=BLOCK)
        ctx.save_for_backward(table, qc)
        ctx.shape = features.shape
        return out

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        table, qc = ctx.saved_tensors
        g, f, rz, ry, rx = ctx.shape
        n = qc.shape[1]
        need_q = bool(ctx.needs_input_grad[1])
        if n == 0:
            return table.new_zeros(ctx.shape), (torch.zeros_like(qc) if need_q else None)
        grad = grad.contiguous().float()
        # a power-of-two scale keeping any node's sum below 2^62 (a node takes at most one term per point, each
        # at most max |grad|): on the device, no host sync
        peak = grad.abs().amax().double().clamp_min(1e-30) * n
        scale = torch.exp2(torch.floor(62.0 - torch.log2(peak)).clamp(-120.0, 120.0))
        acc = torch.zeros((g * rz * ry * rx, f), dtype=torch.int64, device=grad.device)
        gq = torch.empty((g, n, 3), dtype=torch.float32, device=grad.device) if need_q else acc
        _backward_kernel[_launch_grid(n, g)](grad, table, qc, scale.float().reshape(1), acc, gq, n, g, rx, ry, rz,
                                                 F=f, FP=triton.next_power_of_2(f), NEED_Q=need_q, BLOCK=BLOCK)
        gfeat = (acc.double() / scale).float().reshape(g, rz, ry, rx, f).permute(0, 4, 1, 2, 3)
        return gfeat, (gq if need_q else None)


def sample_grids_fused(features: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """:func:`ngsdk.volumes.model.sample_grids_gather` in two Triton kernels: trilinear samples of grids
    (G, F, Rz, Ry, Rx) at local points q (G, N, 3) as (N, G * F), gradients to the features (deterministic,
    int64 fixed point) and to q."""
    if triton is None:
        raise RuntimeError("the fused volume sampler needs Triton")
    return _FusedTrilinear.apply(features, q)

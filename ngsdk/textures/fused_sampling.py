"""Fused latent sampling for training on CUDA (Triton): every tap's bilinear fetch in one kernel.

The torch version of the sampling (``LatentPyramid.sample``) launches about twenty kernels per tap
and its backward scatters through a sort; this does the forward in one kernel and the backward in
one more. The backward accumulates into int64 fixed point (``round(grad * 2^40 * batch)``) with
integer atomics: integer addition is associative, so the latent gradients, and the trained bundle,
are the same bits on every run, whatever order the GPU's threads arrive in.

Used by :class:`ngsdk.textures.model.NeuralTextureModel` for the float training phases when the model
lives on a CUDA device and Triton is importable; the CPU path and the integer (QAT) phase use torch.
"""

from __future__ import annotations

import torch

try:
    import triton
    import triton.language as tl
except ImportError:  # pragma: no cover - Triton ships with CUDA builds of torch
    triton = None

FIXED_POINT_BITS = 40
"""Gradient fixed-point fraction bits (times the batch size, which undoes the loss mean)."""


if triton is not None:

    @triton.jit
    def _taps(table_ptr, u, v, lev, lw_ptr, lh_ptr, loff_ptr, WRAP: tl.constexpr):
        """Row indices of the four texels around (u, v) at level ``lev`` and the bilinear weights."""
        w = tl.load(lw_ptr + lev)
        h = tl.load(lh_ptr + lev)
        base = tl.load(loff_ptr + lev)
        x = u * w.to(tl.float32) - 0.5
        y = v * h.to(tl.float32) - 0.5
        x0f = tl.floor(x)
        y0f = tl.floor(y)
        fx = x - x0f
        fy = y - y0f
        x0 = x0f.to(tl.int32)
        y0 = y0f.to(tl.int32)
        x1 = x0 + 1
        y1 = y0 + 1
        if WRAP:
            x0 = ((x0 % w) + w) % w
            x1 = ((x1 % w) + w) % w
            y0 = ((y0 % h) + h) % h
            y1 = ((y1 % h) + h) % h
        else:
            x0 = tl.minimum(tl.maximum(x0, 0), w - 1)
            x1 = tl.minimum(tl.maximum(x1, 0), w - 1)
            y0 = tl.minimum(tl.maximum(y0, 0), h - 1)
            y1 = tl.minimum(tl.maximum(y1, 0), h - 1)
        r0 = base + y0 * w
        r1 = base + y1 * w
        return r0 + x0, r0 + x1, r1 + x0, r1 + x1, fx, fy

    @triton.jit
    def _forward_kernel(table_ptr, mip_ptr, u_ptr, v_ptr, taplev_ptr, lw_ptr, lh_ptr, loff_ptr, out_ptr,
                        n, out_stride, F: tl.constexpr, NTAPS: tl.constexpr, WRAP: tl.constexpr,
                        BLOCK: tl.constexpr):
        rows = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        live = rows < n
        mip = tl.load(mip_ptr + rows, mask=live, other=0)
        u = tl.load(u_ptr + rows, mask=live, other=0.5)
        v = tl.load(v_ptr + rows, mask=live, other=0.5)
        f = tl.arange(0, F)
        m2 = live[:, None]
        for t in tl.static_range(NTAPS):
            lev = tl.load(taplev_ptr + mip * NTAPS + t, mask=live, other=0)
            i00, i10, i01, i11, fx, fy = _taps(table_ptr, u, v, lev, lw_ptr, lh_ptr, loff_ptr, WRAP)
            c00 = tl.load(table_ptr + i00[:, None] * F + f[None, :], mask=m2, other=0.0)
            c10 = tl.load(table_ptr + i10[:, None] * F + f[None, :], mask=m2, other=0.0)
            c01 = tl.load(table_ptr + i01[:, None] * F + f[None, :], mask=m2, other=0.0)
            c11 = tl.load(table_ptr + i11[:, None] * F + f[None, :], mask=m2, other=0.0)
            wx = fx[:, None]
            wy = fy[:, None]
            top = c00 + wx * (c10 - c00)
            bot = c01 + wx * (c11 - c01)
            val = top + wy * (bot - top)
            tl.store(out_ptr + rows[:, None] * out_stride + t * F + f[None, :], val, mask=m2)

    @triton.jit
    def _backward_kernel(grad_ptr, grad_stride, mip_ptr, u_ptr, v_ptr, taplev_ptr, lw_ptr, lh_ptr, loff_ptr,
                         acc_ptr, n, scale, F: tl.constexpr, NTAPS: tl.constexpr, WRAP: tl.constexpr,
                         BLOCK: tl.constexpr):
        rows = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        live = rows < n
        mip = tl.load(mip_ptr + rows, mask=live, other=0)
        u = tl.load(u_ptr + rows, mask=live, other=0.5)
        v = tl.load(v_ptr + rows, mask=live, other=0.5)
        f = tl.arange(0, F)
        m2 = live[:, None]
        for t in tl.static_range(NTAPS):
            lev = tl.load(taplev_ptr + mip * NTAPS + t, mask=live, other=0)
            i00, i10, i01, i11, fx, fy = _taps(acc_ptr, u, v, lev, lw_ptr, lh_ptr, loff_ptr, WRAP)
            g = tl.load(grad_ptr + rows[:, None] * grad_stride + t * F + f[None, :], mask=m2, other=0.0)
            g = g.to(tl.float32) * scale
            wx = fx[:, None]
            wy = fy[:, None]
            # d val / d c: (1 - wx)(1 - wy), wx (1 - wy), (1 - wx) wy, wx wy
            g00 = tl.floor(g * ((1.0 - wx) * (1.0 - wy)) + 0.5).to(tl.int64)
            g10 = tl.floor(g * (wx * (1.0 - wy)) + 0.5).to(tl.int64)
            g01 = tl.floor(g * ((1.0 - wx) * wy) + 0.5).to(tl.int64)
            g11 = tl.floor(g * (wx * wy) + 0.5).to(tl.int64)
            tl.atomic_add(acc_ptr + i00[:, None] * F + f[None, :], g00, mask=m2, sem="relaxed")
            tl.atomic_add(acc_ptr + i10[:, None] * F + f[None, :], g10, mask=m2, sem="relaxed")
            tl.atomic_add(acc_ptr + i01[:, None] * F + f[None, :], g01, mask=m2, sem="relaxed")
            tl.atomic_add(acc_ptr + i11[:, None] * F + f[None, :], g11, mask=m2, sem="relaxed")


BLOCK = 128


class _FusedSample(torch.autograd.Function):
    @staticmethod
    def forward(ctx, table, mip, u, v, taplev, lw, lh, loff, wrap: bool):
        n = u.shape[0]
        feats = table.shape[1]
        ntaps = taplev.shape[1]
        out = torch.empty((n, ntaps * feats), dtype=torch.float32, device=table.device)
        grid = (triton.cdiv(n, BLOCK),)
        _forward_kernel[grid](table, mip, u, v, taplev, lw, lh, loff, out, n, out.stride(0), F=feats,
                              NTAPS=ntaps, WRAP=wrap, BLOCK=BLOCK)
        ctx.save_for_backward(mip, u, v, taplev, lw, lh, loff)
        ctx.shape = table.shape
        ctx.wrap = wrap
        return out

    @staticmethod
    def backward(ctx, grad):
        mip, u, v, taplev, lw, lh, loff = ctx.saved_tensors
        if grad.stride(1) != 1:
            grad = grad.contiguous()
        n = u.shape[0]
        rows, feats = ctx.shape
        acc = torch.zeros((rows, feats), dtype=torch.int64, device=grad.device)
        scale = float(2.0**FIXED_POINT_BITS * n)
        grid = (triton.cdiv(n, BLOCK),)
        _backward_kernel[grid](grad, grad.stride(0), mip, u, v, taplev, lw, lh, loff, acc, n, scale, F=feats,
                               NTAPS=taplev.shape[1], WRAP=ctx.wrap, BLOCK=BLOCK)
        return (acc.to(torch.float32) * (1.0 / scale),) + (None,) * 8


def sample_taps(table: torch.Tensor, mip: torch.Tensor, u: torch.Tensor, v: torch.Tensor, taplev: torch.Tensor,
                lw: torch.Tensor, lh: torch.Tensor, loff: torch.Tensor, wrap: bool) -> torch.Tensor:
    """Bilinear latents of every tap of one grid: (N, taps * F) float32, taps in order.

    ``table`` (rows, F) float32 holds every level of the grid (level ``l`` from row ``loff[l]``, ``lw[l]``
    x ``lh[l]`` texels, row-major); ``taplev`` (mips, taps) int32 is the level each tap of each mip reads;
    ``mip`` int32, ``u``, ``v`` float32 per sample. Gradients flow to ``table`` only.
    """
    return _FusedSample.apply(table, mip, u, v, taplev, lw, lh, loff, wrap)

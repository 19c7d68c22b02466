"""Texture sampling as the gym's shaders do it (torch, differentiable in the sampled image).

Coordinates are normalised ``uv`` in [0, 1] with (y, x) order; pixel ``i`` covers [i, i + 1) / size.
``clamp`` repeats the edge texel; ``zero`` drops taps outside the image without renormalising (the
shaders' ``clamp_to_edge = false``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def pixel_uv(height: int, width: int, batch: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, H, W) uv of every pixel centre."""
    y = (torch.arange(height, device=device, dtype=torch.float32) + 0.5) / height
    x = (torch.arange(width, device=device, dtype=torch.float32) + 0.5) / width
    return y.view(1, -1, 1).expand(batch, height, width), x.view(1, 1, -1).expand(batch, height, width)


def bilinear(img: torch.Tensor, uv_y: torch.Tensor, uv_x: torch.Tensor, border: str = "clamp") -> torch.Tensor:
    """Bilinear sample of ``img`` (B, C, H, W) at ``uv`` (B, h, w) -> (B, C, h, w)."""
    # grid_sample with align_corners=False maps -1..1 onto the outer pixel edges, i.e. uv * 2 - 1
    grid = torch.stack([uv_x * 2.0 - 1.0, uv_y * 2.0 - 1.0], dim=-1)
    mode = {"clamp": "border", "zero": "zeros"}[border]
    return F.grid_sample(img, grid, mode="bilinear", padding_mode=mode, align_corners=False)


def catmull_rom(img: torch.Tensor, uv_y: torch.Tensor, uv_x: torch.Tensor) -> torch.Tensor:
    """5-tap Catmull-Rom (corner taps dropped, weights renormalised) with de-ringing: where any channel
    comes out negative, the result is clamped to the taps' range (the gym's history sampler)."""
    h, w = img.shape[-2:]

    def axis(uv: torch.Tensor, size: int) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        p = uv * size
        tc = torch.floor(p - 0.5) + 0.5
        f = p - tc
        f2, f3 = f * f, f * f * f
        w0 = f2 - 0.5 * (f3 + f)
        w1 = 1.5 * f3 - 2.5 * f2 + 1.0
        w3 = 0.5 * (f3 - f2)
        w2 = 1.0 - w0 - w1 - w3
        w12 = w1 + w2
        return [(tc - 1.0) / size, (tc + w2 / w12) / size, (tc + 2.0) / size], [w0, w12, w3]

    (y0, y1, y2), (wy0, wy1, wy2) = axis(uv_y, h)
    (x0, x1, x2), (wx0, wx1, wx2) = axis(uv_x, w)
    taps = ((y0, x1, wy0 * wx1), (y1, x0, wy1 * wx0), (y1, x1, wy1 * wx1), (y1, x2, wy1 * wx2), (y2, x1, wy2 * wx1))
    samples = [bilinear(img, ty, tx, "clamp") for ty, tx, _ in taps]
    weights = [tw.unsqueeze(1) for _, _, tw in taps]
    total = sum(s * wt for s, wt in zip(samples, weights))
    colour = total / sum(weights)
    stack = torch.stack(samples)
    lo, hi = stack.amin(dim=0), stack.amax(dim=0)
    negative = (colour < 0).any(dim=1, keepdim=True)
    return torch.where(negative, torch.minimum(torch.maximum(colour, lo), hi), colour)


def warp_zero(img: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Backward warp of ``img`` by ``flow`` (B, 2, H, W; (y, x) pixels): sample at ``pixel - flow``, zero
    where that falls outside the image (the gym's ``bilinear_oob_zero``, used by its temporal loss)."""
    b, _, h, w = img.shape
    py = torch.arange(h, device=img.device, dtype=img.dtype).view(1, -1, 1) - flow[:, 0]
    px = torch.arange(w, device=img.device, dtype=img.dtype).view(1, 1, -1) - flow[:, 1]
    inside = ((py >= 0) & (py < h) & (px >= 0) & (px < w)).unsqueeze(1).to(img.dtype)
    return bilinear(img, (py + 0.5) / h, (px + 0.5) / w, "clamp") * inside

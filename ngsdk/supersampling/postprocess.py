"""NSS post-processing at target resolution (torch; the gym's ``post_process_v1`` shader, default path).

Per output pixel: a 4x4 kernel over the jittered input samples whose positions fall on the window's
output pixels (the jitter LUT says which), weighted by the network's 16 taps (bilinearly up-sampled);
history warped by the target-resolution motion with a 5-tap Catmull-Rom, blended towards the filtered
colour by ``theta``; the pixel's own input sample (if the jitter put one there) accumulated with
``alpha * 0.35 + 0.05`` in Karis space; clamp, inverse tone map -> output and next frame's history.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ngsdk.supersampling.sampling import catmull_rom, pixel_uv
from ngsdk.supersampling.tonemap import HALF_MAX, karis, karis_inverse

EPS = 1e-7
KERNEL_TAPS = tuple(((i % 4) - 1, (i // 4) - 1) for i in range(16))
"""(dy, dx) of kernel channel ``i``: column-major over the 4x4 window, as the gym's four heads emit them."""
ALPHA_SCALE, ALPHA_MIN = 0.35, 0.05
RESET_MOTION = 20000.0
"""What the gym writes into the motion of a reset frame, so the history falls off-screen."""


def jitter_phase(jitter: torch.Tensor, scale: int) -> torch.Tensor:
    """(B, 2) integer (y, x) phase inside each ``scale x scale`` output block that the frame's input sample
    lands on (the gym's LR->HR LUT for integer scales; its offsets are all zero there)."""
    return torch.floor((jitter + 0.5) * scale).long()


def postprocess(colour: torch.Tensor, history: torch.Tensor, kpn: torch.Tensor, temporal: torch.Tensor,
                motion: torch.Tensor, exposure: torch.Tensor, jitter: torch.Tensor, scale: int,
                reset: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One frame's reconstruction; returns (output, filtered), both linear (B, 3, H, W).

    ``colour`` (B,3,h,w) linear; ``history`` (B,3,H,W); ``kpn`` (B,16,h,w) and ``temporal`` (B,4,h,w) sigmoid
    outputs; ``motion`` (B,2,H,W) target pixels; ``exposure`` (B,) multiplier; ``jitter`` (B,2);
    ``reset`` (B,) bool: first frame of a sequence (temporal parameters zeroed, history off-screen).
    """
    b, _, h, w = colour.shape
    hh, ww = h * scale, w * scale
    dev = colour.device
    exp = exposure.view(b, 1, 1, 1)
    rst = reset.view(b, 1, 1, 1)
    temporal = torch.where(rst, torch.zeros_like(temporal), temporal)
    motion = torch.where(rst, torch.full_like(motion, RESET_MOTION), motion)
    weights = F.interpolate(kpn, size=(hh, ww), mode="bilinear", align_corners=False).clamp_min(EPS)
    params = F.interpolate(temporal[:, :2], size=(hh, ww), mode="bilinear", align_corners=False)
    theta = params[:, :1]
    alpha = params[:, 1:2] * ALPHA_SCALE + ALPHA_MIN
    # input samples on the output grid: output pixel p reads input pixel p // scale (edge-clamped)
    exposed = (colour * exp).clamp_max(HALF_MAX)
    upsampled = exposed.repeat_interleave(scale, dim=2).repeat_interleave(scale, dim=3)
    padded = F.pad(upsampled, (1, 2, 1, 2), mode="replicate")
    phase = jitter_phase(jitter, scale)
    ys = torch.arange(hh, device=dev).view(1, -1, 1)
    xs = torch.arange(ww, device=dev).view(1, 1, -1)
    py, px = phase[:, 0].view(b, 1, 1), phase[:, 1].view(b, 1, 1)
    acc = torch.zeros_like(upsampled)
    wsum = torch.zeros_like(weights[:, :1])
    for i, (dy, dx) in enumerate(KERNEL_TAPS):
        # the shader's abs(tap % scale): C remainder semantics for the -1 tap at the border
        valid = ((torch.fmod(ys + dy, scale).abs() == py) & (torch.fmod(xs + dx, scale).abs() == px)).unsqueeze(1)
        wt = weights[:, i:i + 1] * valid
        acc = acc + padded[:, :, 1 + dy:1 + dy + hh, 1 + dx:1 + dx + ww] * wt
        wsum = wsum + wt
    filtered = acc / wsum.clamp_min(EPS)
    uv_y, uv_x = pixel_uv(hh, ww, b, dev)
    vec = motion * (torch.sqrt(motion[:, :1] ** 2 + motion[:, 1:] ** 2) > 0.1)
    ry = uv_y - vec[:, 0] / hh
    rx = uv_x - vec[:, 1] / ww
    onscreen = ((ry >= 0) & (ry <= 1) & (rx >= 0) & (rx <= 1)).unsqueeze(1).to(colour.dtype)
    warped = (catmull_rom(history, ry, rx) * exp).clamp_max(HALF_MAX)
    rectified = filtered + (warped - filtered) * (theta * onscreen)
    own = ((ys % scale == py) & (xs % scale == px)).unsqueeze(1).to(colour.dtype)
    rect_tm = karis(rectified)
    accumulated = rect_tm + (karis(upsampled) - rect_tm) * (alpha * own)
    out = karis_inverse(accumulated.clamp(0.0, 1.0 - EPS)) / exp
    return out, filtered / exp

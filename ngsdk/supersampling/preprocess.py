"""NSS pre-processing at input resolution (torch; the gym's ``pre_process_v1`` shader, default path).

Per input pixel: 3x3 nearest-depth dilation, motion at the nearest sample (zeroed under 0.1 px), FSR2's
depth-clip disocclusion against last frame's dilated depth (1 at the far plane, scaled by the learned
``dm_scale`` where motion is at most 0.5 px), bilinear warps of history, feedback and the luma
derivative, and the 12-channel network input (order fixed by :data:`INPUT_CHANNELS`).
Gradients flow into history, feedback and ``dm_scale`` only, as in the gym.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ngsdk.supersampling.sampling import bilinear, pixel_uv
from ngsdk.supersampling.tonemap import karis, luminance

INPUT_CHANNELS = ("history.r", "history.g", "history.b", "colour.r", "colour.g", "colour.b", "disocclusion",
                  "feedback.0", "feedback.1", "feedback.2", "feedback.3", "luma_derivative")
NEAREST_OFFSETS = ((0, 0), (1, 0), (0, 1), (0, -1), (-1, 0), (-1, 1), (1, 1), (-1, -1), (1, -1))
"""(dy, dx) in the order the shader visits them (ties keep the earlier one)."""
MOTION_MIN_PX = 0.1
DM_MOTION_PX = 0.5
KSEP = 1.37e-05
BILINEAR_WEIGHT_MIN = 0.1
DERIV_DISOCCLUDED = 0.01
DERIV_MIN, DERIV_MAX, DERIV_POW, DERIV_ALPHA = 0.05, 0.3, 1.5, 0.1


@dataclass
class PreprocessOut:
    net_input: torch.Tensor
    """(B, 12, h, w)."""
    derivative: torch.Tensor
    """(B, 2, h, w): accumulated luma derivative and this frame's luma (next frame's ``derivative_tm1``)."""
    depth_dilated: torch.Tensor
    """(B, 1, h, w): next frame's ``depth_tm1``."""
    disocclusion: torch.Tensor
    """(B, 1, h, w) before ``dm_scale`` (for inspection)."""


def dilate_depth(depth: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Nearest (smallest forward-Z) depth of each 3x3 neighbourhood and its (y, x) integer coordinate."""
    b, _, h, w = depth.shape
    # off-screen neighbours never win: pad with +inf
    padded = torch.nn.functional.pad(depth, (1, 1, 1, 1), value=float("inf"))
    best = depth.clone()
    iy = torch.arange(h, device=depth.device).view(1, 1, -1, 1).expand(b, 1, h, w)
    ix = torch.arange(w, device=depth.device).view(1, 1, 1, -1).expand(b, 1, h, w)
    by, bx = iy.clone(), ix.clone()
    for dy, dx in NEAREST_OFFSETS[1:]:
        cand = padded[:, :, 1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
        closer = cand < best
        best = torch.where(closer, cand, best)
        by = torch.where(closer, iy + dy, by)
        bx = torch.where(closer, ix + dx, bx)
    return best, by, bx


def depth_clip(depth_tm1: torch.Tensor, uv_y: torch.Tensor, uv_x: torch.Tensor, current: torch.Tensor,
               params: torch.Tensor, render_size: tuple[int, int]) -> torch.Tensor:
    """FSR2's depth-clip disocclusion (the gym's variant: off-screen taps count as disoccluded).

    ``current`` (B, 1, h, w) device depth; ``params`` (B, 4) ``deviceToViewDepth``; returns (B, 1, h, w)."""
    b, _, h, w = depth_tm1.shape
    p0, p1, p2, p3 = (params[:, i].view(b, 1, 1, 1) for i in range(4))
    cur = current
    cur_view = p1 / (cur - p0)
    py = uv_y.unsqueeze(1) * h - 0.5
    px = uv_x.unsqueeze(1) * w - 0.5
    y0, x0 = torch.floor(py), torch.floor(px)
    fy, fx = py - y0, px - x0
    rh, rw = render_size
    diag = (rh * rh + rw * rw) ** 0.5
    power = 1.0 + 2.0 * min(max(diag / (1080.0 ** 2 + 1920.0 ** 2) ** 0.5, 0.0), 1.0)
    # Kfov: corner over centre of the view-space plane; the shader feeds (row, col) as (x, y)
    cy, cx = int(rh * 0.5), int(rw * 0.5)
    ndc_c = (cy / rh * 2.0 - 1.0, cx / rw * -2.0 + 1.0)
    centre = torch.sqrt((p2 * ndc_c[0]) ** 2 + (p3 * ndc_c[1]) ** 2 + 1.0)
    corner = torch.sqrt(p2 ** 2 + p3 ** 2 + 1.0)
    kfov = corner / centre
    flat = depth_tm1.reshape(b, -1)
    acc = torch.zeros_like(cur)
    wsum = torch.zeros_like(cur)
    for oy, ox, wt in ((0, 0, (1 - fy) * (1 - fx)), (1, 0, fy * (1 - fx)), (0, 1, (1 - fy) * fx), (1, 1, fy * fx)):
        ty, tx = y0 + oy, x0 + ox
        onscreen = (ty >= 0) & (ty < h) & (tx >= 0) & (tx < w)
        wsum = wsum + torch.where(onscreen, 0.0, wt)
        idx = (ty.clamp(0, h - 1) * w + tx.clamp(0, w - 1)).long().view(b, -1)
        prev = torch.gather(flat, 1, idx).view_as(cur)
        prev_view = p1 / (prev - p0)
        diff = cur_view - prev_view
        use = onscreen & (wt > BILINEAR_WEIGHT_MIN) & (diff > 0)
        # the plane's depth cancels in Kfov (both positions share it); only the threshold needs view depth
        required = KSEP * kfov * diag * torch.maximum(cur_view, prev_view)
        ratio = (required / torch.where(use, diff, torch.ones_like(diff))).clamp(0.0, 1.0)
        acc = acc + torch.where(use, ratio ** power * wt, 0.0)
        wsum = wsum + torch.where(use, wt, 0.0)
    return torch.where(wsum > 0, (1.0 - acc / wsum.clamp_min(1e-30)).clamp(0.0, 1.0), torch.zeros_like(wsum))


def preprocess(colour: torch.Tensor, history: torch.Tensor, motion: torch.Tensor, depth: torch.Tensor,
               depth_tm1: torch.Tensor, jitter_tm1: torch.Tensor, feedback_tm1: torch.Tensor,
               derivative_tm1: torch.Tensor, depth_params: torch.Tensor, exposure: torch.Tensor,
               render_size: tuple[int, int], dm_scale: torch.Tensor) -> PreprocessOut:
    """One frame's pre-processing.

    ``colour`` (B,3,h,w) linear; ``history`` (B,3,H,W) last output, linear; ``motion`` (B,2,Hm,Wm) (y, x) in
    its own pixels at any resolution (the gym trains with the target-resolution motion); ``depth``,
    ``depth_tm1`` (B,1,h,w); ``jitter_tm1`` (B,2) input pixels; ``feedback_tm1`` (B,4,h,w);
    ``derivative_tm1`` (B,2,h,w); ``depth_params`` (B,4); ``exposure`` (B,) multiplier (not log);
    ``dm_scale`` scalar tensor (clamped to [0, 1] here).
    """
    b, _, h, w = colour.shape
    dev = colour.device
    exp = exposure.view(b, 1, 1, 1)
    uv_y, uv_x = pixel_uv(h, w, b, dev)
    depth_dil, ny, nx = dilate_depth(depth)
    mh, mw = motion.shape[-2:]
    near_uv_y = (ny[:, 0].float() + 0.5) / h
    near_uv_x = (nx[:, 0].float() + 0.5) / w
    vec = bilinear(motion, near_uv_y, near_uv_x, "clamp") * torch.tensor([h / mh, w / mw], device=dev).view(1, 2, 1, 1)
    length = torch.sqrt(vec[:, :1] ** 2 + vec[:, 1:] ** 2)
    vec = vec * (length > MOTION_MIN_PX)
    length = torch.sqrt(vec[:, :1] ** 2 + vec[:, 1:] ** 2)
    reproj_y = uv_y - vec[:, 0] / h
    reproj_x = uv_x - vec[:, 1] / w
    unjit_y = reproj_y - jitter_tm1[:, 0].view(b, 1, 1) / h
    unjit_x = reproj_x - jitter_tm1[:, 1].view(b, 1, 1) / w
    with torch.no_grad():
        mask = depth_clip(depth_tm1, unjit_y, unjit_x, depth_dil, depth_params, render_size)
        mask = torch.where(depth_dil == 1.0, torch.ones_like(mask), mask)
    dm = dm_scale.clamp(0.0, 1.0)
    mask_scaled = mask * torch.where(length > DM_MOTION_PX, torch.ones_like(length), dm)
    jittered = karis(colour * exp)
    hist = karis(bilinear(history, reproj_y, reproj_x, "zero") * exp)
    with torch.no_grad():
        luma_t = luminance(jittered)
        prev = bilinear(derivative_tm1, reproj_y, reproj_x, "zero")
        d_tm1, luma_tm1 = prev[:, :1], prev[:, 1:]
        d_t = (luma_t - luma_tm1).abs()
        d_t = torch.where(d_t > DERIV_MIN, d_t.clamp_max(DERIV_MAX), torch.zeros_like(d_t))
        d_t = d_t ** DERIV_POW / DERIV_MAX ** DERIV_POW
        alpha = DERIV_ALPHA + (DERIV_ALPHA * 0.1 - DERIV_ALPHA) * (d_tm1.clamp_max(DERIV_MAX) / DERIV_MAX)
        deriv = d_tm1 + (d_t - d_tm1) * alpha
        deriv = torch.where(mask_scaled > DERIV_DISOCCLUDED, torch.zeros_like(deriv), deriv)
    feedback = bilinear(feedback_tm1, reproj_y, reproj_x, "zero")
    net_input = torch.cat([hist, jittered, mask_scaled, feedback, deriv], dim=1)
    return PreprocessOut(net_input, torch.cat([deriv, luma_t], dim=1), depth_dil, mask)

"""The reference runtime of super-sampling bundles (numpy only): the loader, NSS pre-processing, the network
in float32 and in TOSA int8 arithmetic, post-processing, and the replay of the bundle's reference clip.

Every step mirrors ``ngsdk.supersampling`` (the torch model the trainer ran); the int8 network follows the
arithmetic in ``ngsdk.asset.supersampling`` (what the int8 VGF computes), so its output codes are exact.
Images here are one frame, channels first: (C, h, w) at input resolution, (C, H, W) at target resolution.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ngsdk.asset.errors import AssetError
from ngsdk.asset.manifest import read_manifest
from ngsdk.asset.supersampling import (
    KIND,
    LAYERS,
    SIZE_MULTIPLE,
    Int8Network,
    QParams,
    SupersamplingAsset,
    from_manifest,
    multiplier_shift,
    nss_topology,
    weight_shapes,
)
from ngsdk.runtime_ref.npz import read_npz

F32 = np.float32
HALF_MAX = 65504.0
KARIS_TOP = HALF_MAX / (1.0 + HALF_MAX)
LUMA = (0.2126, 0.7152, 0.0722)
NEAREST_OFFSETS = ((0, 0), (1, 0), (0, 1), (0, -1), (-1, 0), (-1, 1), (1, 1), (-1, -1), (1, -1))
MOTION_MIN_PX, DM_MOTION_PX, KSEP, BILINEAR_WEIGHT_MIN = 0.1, 0.5, 1.37e-05, 0.1
DERIV_DISOCCLUDED, DERIV_MIN, DERIV_MAX, DERIV_POW, DERIV_ALPHA = 0.01, 0.05, 0.3, 1.5, 0.1
KERNEL_TAPS = tuple(((i % 4) - 1, (i // 4) - 1) for i in range(16))
ALPHA_SCALE, ALPHA_MIN, RESET_MOTION, EPS = 0.35, 0.05, 20000.0, 1e-7


# --------------------------------------------------------------------------- loading

def load_supersampling(bundle: str | Path, manifest: dict[str, Any] | None = None) -> SupersamplingAsset:
    """Load a super-sampling bundle (manifest, sha256 of every file, arrays' names, dtypes and shapes)."""
    bundle = Path(bundle)
    if manifest is None:
        manifest = read_manifest(bundle)
    if manifest["kind"] != KIND:
        raise AssetError(bundle / "manifest.json", f"kind is {manifest['kind']!r}, not a super-sampling bundle")
    net = manifest["network"]
    contents = {net["weights"]["file"]: read_npz(bundle / net["weights"]["file"], weight_shapes(False),
                                                 strict=True)}
    if "int8" in net:
        contents[net["int8"]["file"]] = read_npz(bundle / net["int8"]["file"], weight_shapes(True), strict=True)
    clip = manifest["reference_clip"]["file"]
    contents[clip] = read_npz(bundle / clip)
    return from_manifest(manifest, contents, bundle / "manifest.json")


# --------------------------------------------------------------------------- tone mapping and sampling

def karis(x: np.ndarray) -> np.ndarray:
    x = np.maximum(x, F32(0))
    return np.clip(x / (F32(1) + x.max(axis=0, keepdims=True)), 0, 1).astype(F32)


def karis_inverse(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0, F32(KARIS_TOP))
    return (x / (F32(1) - x.max(axis=0, keepdims=True))).astype(F32)


def reinhard(x: np.ndarray) -> np.ndarray:
    x = np.maximum(x, F32(0))
    return np.clip(x / (F32(1) + x), 0, 1).astype(F32)


def luminance(rgb: np.ndarray) -> np.ndarray:
    return (F32(LUMA[0]) * rgb[0] + F32(LUMA[1]) * rgb[1] + F32(LUMA[2]) * rgb[2])[None]


def pixel_uv(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    y = (np.arange(h, dtype=F32) + F32(0.5)) / F32(h)
    x = (np.arange(w, dtype=F32) + F32(0.5)) / F32(w)
    return np.broadcast_to(y[:, None], (h, w)), np.broadcast_to(x[None, :], (h, w))


def bilinear(img: np.ndarray, uv_y: np.ndarray, uv_x: np.ndarray, border: str = "clamp") -> np.ndarray:
    """Bilinear sample of (C, H, W) at uv (h, w) -> (C, h, w); pixel i covers [i, i+1)/size; ``clamp`` repeats
    the edge, ``zero`` drops taps outside (torch grid_sample, align_corners=False)."""
    c, h, w = img.shape
    py = ((uv_y * F32(2) - F32(1) + F32(1)) * F32(h) - F32(1)) / F32(2)
    px = ((uv_x * F32(2) - F32(1) + F32(1)) * F32(w) - F32(1)) / F32(2)
    if border == "clamp":
        py, px = np.clip(py, 0, h - 1), np.clip(px, 0, w - 1)
    y0, x0 = np.floor(py), np.floor(px)
    fy, fx = (py - y0).astype(F32), (px - x0).astype(F32)
    out = np.zeros((c,) + uv_y.shape, F32)
    for oy, ox, wt in ((0, 0, (1 - fy) * (1 - fx)), (0, 1, (1 - fy) * fx), (1, 0, fy * (1 - fx)), (1, 1, fy * fx)):
        ty, tx = (y0 + oy).astype(np.int64), (x0 + ox).astype(np.int64)
        inside = (ty >= 0) & (ty < h) & (tx >= 0) & (tx < w)
        v = img[:, np.clip(ty, 0, h - 1), np.clip(tx, 0, w - 1)]
        out += v * np.where(inside, wt, F32(0)).astype(F32)
    return out


def catmull_rom(img: np.ndarray, uv_y: np.ndarray, uv_x: np.ndarray) -> np.ndarray:
    """5-tap Catmull-Rom with de-ringing (the gym's history sampler)."""
    h, w = img.shape[-2:]

    def axis(uv: np.ndarray, size: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
        p = uv * F32(size)
        tc = np.floor(p - F32(0.5)) + F32(0.5)
        f = p - tc
        f2, f3 = f * f, f * f * f
        w0 = f2 - F32(0.5) * (f3 + f)
        w1 = F32(1.5) * f3 - F32(2.5) * f2 + F32(1)
        w3 = F32(0.5) * (f3 - f2)
        w2 = F32(1) - w0 - w1 - w3
        w12 = w1 + w2
        return [(tc - F32(1)) / F32(size), (tc + w2 / w12) / F32(size), (tc + F32(2)) / F32(size)], [w0, w12, w3]

    (y0, y1, y2), (wy0, wy1, wy2) = axis(uv_y, h)
    (x0, x1, x2), (wx0, wx1, wx2) = axis(uv_x, w)
    taps = ((y0, x1, wy0 * wx1), (y1, x0, wy1 * wx0), (y1, x1, wy1 * wx1), (y1, x2, wy1 * wx2), (y2, x1, wy2 * wx1))
    samples = [bilinear(img, ty, tx, "clamp") for ty, tx, _ in taps]
    total = sum(s * tw[None] for s, (_, _, tw) in zip(samples, taps))
    colour = total / sum(tw for _, _, tw in taps)[None]
    stack = np.stack(samples)
    lo, hi = stack.min(axis=0), stack.max(axis=0)
    negative = (colour < 0).any(axis=0, keepdims=True)
    return np.where(negative, np.minimum(np.maximum(colour, lo), hi), colour).astype(F32)


def upsample_bilinear(x: np.ndarray, scale: int) -> np.ndarray:
    """(C, h, w) -> (C, h*scale, w*scale), half-pixel centres, edge clamped (F.interpolate, bilinear)."""
    def coords(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        src = np.maximum((np.arange(n * scale, dtype=F32) + F32(0.5)) / F32(scale) - F32(0.5), F32(0))
        i0 = np.floor(src).astype(np.int64)
        return i0, np.minimum(i0 + 1, n - 1), (src - i0).astype(F32)

    _, h, w = x.shape
    y0, y1, ly = coords(h)
    x0, x1, lx = coords(w)
    top = x[:, y0][:, :, x0] * (1 - lx) + x[:, y0][:, :, x1] * lx
    bot = x[:, y1][:, :, x0] * (1 - lx) + x[:, y1][:, :, x1] * lx
    return (top * (1 - ly)[:, None] + bot * ly[:, None]).astype(F32)


# --------------------------------------------------------------------------- pre-processing

@dataclass
class History:
    output: np.ndarray
    depth: np.ndarray
    jitter: np.ndarray
    feedback: np.ndarray
    derivative: np.ndarray
    fresh: bool = True

    @staticmethod
    def reset(h: int, w: int, jitter: np.ndarray, scale: int = 2) -> History:
        z = np.zeros
        return History(z((3, h * scale, w * scale), F32), z((1, h, w), F32), np.asarray(jitter, F32),
                       z((4, h, w), F32), z((2, h, w), F32))


def dilate_depth(depth: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    _, h, w = depth.shape
    padded = np.pad(depth, ((0, 0), (1, 1), (1, 1)), constant_values=np.inf)
    best = depth.copy()
    iy = np.broadcast_to(np.arange(h)[:, None], (h, w))[None]
    ix = np.broadcast_to(np.arange(w)[None, :], (h, w))[None]
    by, bx = iy.copy(), ix.copy()
    for dy, dx in NEAREST_OFFSETS[1:]:
        cand = padded[:, 1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
        closer = cand < best
        best = np.where(closer, cand, best)
        by = np.where(closer, iy + dy, by)
        bx = np.where(closer, ix + dx, bx)
    return best, by, bx


def depth_clip(depth_tm1: np.ndarray, uv_y: np.ndarray, uv_x: np.ndarray, current: np.ndarray,
               params: np.ndarray, render_size: tuple[int, int]) -> np.ndarray:
    """FSR2's depth-clip disocclusion, as ``ngsdk.supersampling.preprocess.depth_clip``."""
    _, h, w = depth_tm1.shape
    p0, p1, p2, p3 = (F32(v) for v in params)
    cur_view = p1 / (current - p0)
    py = uv_y[None] * F32(h) - F32(0.5)
    px = uv_x[None] * F32(w) - F32(0.5)
    y0, x0 = np.floor(py), np.floor(px)
    fy, fx = py - y0, px - x0
    rh, rw = render_size
    diag = (rh * rh + rw * rw) ** 0.5
    power = 1.0 + 2.0 * min(max(diag / (1080.0 ** 2 + 1920.0 ** 2) ** 0.5, 0.0), 1.0)
    cy, cx = int(rh * 0.5), int(rw * 0.5)
    ndc = (cy / rh * 2.0 - 1.0, cx / rw * -2.0 + 1.0)
    centre = np.sqrt((p2 * F32(ndc[0])) ** 2 + (p3 * F32(ndc[1])) ** 2 + F32(1))
    corner = np.sqrt(p2 ** 2 + p3 ** 2 + F32(1))
    kfov = corner / centre
    acc = np.zeros_like(current)
    wsum = np.zeros_like(current)
    for oy, ox, wt in ((0, 0, (1 - fy) * (1 - fx)), (1, 0, fy * (1 - fx)), (0, 1, (1 - fy) * fx), (1, 1, fy * fx)):
        ty, tx = y0 + oy, x0 + ox
        onscreen = (ty >= 0) & (ty < h) & (tx >= 0) & (tx < w)
        wsum = wsum + np.where(onscreen, F32(0), wt)
        prev = depth_tm1[0][np.clip(ty, 0, h - 1).astype(np.int64), np.clip(tx, 0, w - 1).astype(np.int64)]
        prev_view = p1 / (prev - p0)
        diff = cur_view - prev_view
        use = onscreen & (wt > BILINEAR_WEIGHT_MIN) & (diff > 0)
        required = F32(KSEP) * kfov * F32(diag) * np.maximum(cur_view, prev_view)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.clip(required / np.where(use, diff, F32(1)), 0, 1)
        acc = acc + np.where(use, ratio ** F32(power) * wt, F32(0))
        wsum = wsum + np.where(use, wt, F32(0))
    return np.where(wsum > 0, np.clip(1 - acc / np.maximum(wsum, F32(1e-30)), 0, 1), F32(0)).astype(F32)


def preprocess(colour: np.ndarray, depth: np.ndarray, motion: np.ndarray, depth_params: np.ndarray,
               exposure: float, render_size: tuple[int, int], hist: History,
               dm_scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(net_input (12, h, w), derivative (2, h, w), dilated depth (1, h, w)) of one frame; ``exposure`` is the
    multiplier, ``motion`` (2, Hm, Wm) (y, x) in its own pixels."""
    _, h, w = colour.shape
    exp = F32(exposure)
    uv_y, uv_x = pixel_uv(h, w)
    depth_dil, ny, nx = dilate_depth(depth)
    mh, mw = motion.shape[-2:]
    near_y = (ny[0].astype(F32) + F32(0.5)) / F32(h)
    near_x = (nx[0].astype(F32) + F32(0.5)) / F32(w)
    vec = bilinear(motion, near_y, near_x, "clamp") * np.array([h / mh, w / mw], F32)[:, None, None]
    length = np.sqrt(vec[:1] ** 2 + vec[1:] ** 2)
    vec = vec * (length > MOTION_MIN_PX)
    length = np.sqrt(vec[:1] ** 2 + vec[1:] ** 2)
    reproj_y = uv_y - vec[0] / F32(h)
    reproj_x = uv_x - vec[1] / F32(w)
    unjit_y = reproj_y - F32(hist.jitter[0]) / F32(h)
    unjit_x = reproj_x - F32(hist.jitter[1]) / F32(w)
    mask = depth_clip(hist.depth, unjit_y, unjit_x, depth_dil, depth_params, render_size)
    mask = np.where(depth_dil == 1.0, F32(1), mask)
    dm = F32(min(max(dm_scale, 0.0), 1.0))
    mask_scaled = mask * np.where(length > DM_MOTION_PX, F32(1), dm)
    jittered = karis(colour * exp)
    history = karis(bilinear(hist.output, reproj_y, reproj_x, "zero") * exp)
    luma_t = luminance(jittered)
    prev = bilinear(hist.derivative, reproj_y, reproj_x, "zero")
    d_tm1, luma_tm1 = prev[:1], prev[1:]
    d_t = np.abs(luma_t - luma_tm1)
    d_t = np.where(d_t > DERIV_MIN, np.minimum(d_t, F32(DERIV_MAX)), F32(0))
    d_t = d_t ** F32(DERIV_POW) / F32(DERIV_MAX ** DERIV_POW)
    alpha = F32(DERIV_ALPHA) + F32(DERIV_ALPHA * 0.1 - DERIV_ALPHA) * (np.minimum(d_tm1, F32(DERIV_MAX)) /
                                                                      F32(DERIV_MAX))
    deriv = d_tm1 + (d_t - d_tm1) * alpha
    deriv = np.where(mask_scaled > DERIV_DISOCCLUDED, F32(0), deriv)
    feedback = bilinear(hist.feedback, reproj_y, reproj_x, "zero")
    net_input = np.concatenate([history, jittered, mask_scaled, feedback, deriv]).astype(F32)
    return net_input, np.concatenate([deriv, luma_t]).astype(F32), depth_dil.astype(F32)


# --------------------------------------------------------------------------- post-processing

def postprocess(colour: np.ndarray, history: np.ndarray, kpn: np.ndarray, temporal: np.ndarray, motion: np.ndarray,
                exposure: float, jitter: np.ndarray, reset: bool, scale: int = 2) -> np.ndarray:
    """The upscaled frame (3, H, W) linear, as ``ngsdk.supersampling.postprocess.postprocess``."""
    _, h, w = colour.shape
    hh, ww = h * scale, w * scale
    exp = F32(exposure)
    if reset:
        temporal = np.zeros_like(temporal)
        motion = np.full_like(motion, RESET_MOTION)
    weights = np.maximum(upsample_bilinear(kpn, scale), F32(EPS))
    params = upsample_bilinear(temporal[:2], scale)
    theta = params[:1]
    alpha = params[1:2] * F32(ALPHA_SCALE) + F32(ALPHA_MIN)
    exposed = np.minimum(colour * exp, F32(HALF_MAX))
    up = exposed.repeat(scale, axis=1).repeat(scale, axis=2)
    padded = np.pad(up, ((0, 0), (1, 2), (1, 2)), mode="edge")
    py, px = (int(v) for v in np.floor((np.asarray(jitter, F32) + F32(0.5)) * F32(scale)))
    ys = np.arange(hh)[:, None]
    xs = np.arange(ww)[None, :]
    acc = np.zeros_like(up)
    wsum = np.zeros_like(weights[:1])
    for i, (dy, dx) in enumerate(KERNEL_TAPS):
        valid = (np.abs(np.fmod(ys + dy, scale)) == py) & (np.abs(np.fmod(xs + dx, scale)) == px)
        wt = weights[i:i + 1] * valid
        acc = acc + padded[:, 1 + dy:1 + dy + hh, 1 + dx:1 + dx + ww] * wt
        wsum = wsum + wt
    filtered = acc / np.maximum(wsum, F32(EPS))
    uv_y, uv_x = pixel_uv(hh, ww)
    vec = motion * (np.sqrt(motion[:1] ** 2 + motion[1:] ** 2) > 0.1)
    ry = uv_y - vec[0] / F32(hh)
    rx = uv_x - vec[1] / F32(ww)
    onscreen = ((ry >= 0) & (ry <= 1) & (rx >= 0) & (rx <= 1))[None].astype(F32)
    warped = np.minimum(catmull_rom(history, ry, rx) * exp, F32(HALF_MAX))
    rectified = filtered + (warped - filtered) * (theta * onscreen)
    own = ((ys % scale == py) & (xs % scale == px))[None].astype(F32)
    rect_tm = karis(rectified)
    accumulated = rect_tm + (karis(up) - rect_tm) * (alpha * own)
    return (karis_inverse(np.clip(accumulated, 0, 1 - EPS)) / exp).astype(F32)


# --------------------------------------------------------------------------- the network

def _windows(x: np.ndarray, stride: int, pad_value: float) -> np.ndarray:
    """(C, H, W) -> (C, Ho, Wo, 3, 3) windows of the padded input."""
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1)), constant_values=pad_value)
    return sliding_window_view(xp, (3, 3), axis=(1, 2))[:, ::stride, ::stride]


def _conv(x: np.ndarray, w: np.ndarray, stride: int, dtype: type) -> np.ndarray:
    win = _windows(x.astype(dtype), stride, 0.0)
    return np.tensordot(w.astype(dtype), win, axes=([1, 2, 3], [0, 3, 4]))


def _pad8(x: np.ndarray) -> np.ndarray:
    h, w = x.shape[-2:]
    return np.pad(x, ((0, 0), (0, (-h) % SIZE_MULTIPLE), (0, (-w) % SIZE_MULTIPLE)), mode="reflect")


def net_float(asset: SupersamplingAsset, x: np.ndarray) -> np.ndarray:
    """(12, h, w) -> (24, h, w) float32 (k0..k3, temporal, feedback), reflect-padded to multiples of 8."""
    h, w = x.shape[-2:]
    wts = asset.weights

    def conv(i: int, v: np.ndarray) -> np.ndarray:
        s = LAYERS[i]
        y = _conv(v, wts[f"{s.name}.weight"], s.stride, F32) + wts[f"{s.name}.bias"][:, None, None]
        return np.maximum(y, F32(0)) if s.activation == "relu" else (F32(1) / (F32(1) + np.exp(-y))).astype(F32)

    outs = nss_topology(conv, lambda i, v: v.repeat(2, axis=1).repeat(2, axis=2),
                     lambda i, vs: np.concatenate(vs), _pad8(x.astype(F32)))
    return np.concatenate(outs)[:, :h, :w].astype(F32)


def quantize(x: np.ndarray, q: QParams) -> np.ndarray:
    """``clamp(round_half_even(f32(x) * f32(1/scale)) + zero_point)`` (ExecuTorch's quantize_per_tensor)."""
    v = np.rint(np.asarray(x, F32) * F32(1.0 / q.scale)).astype(np.int64) + q.zero_point
    return np.clip(v, q.qmin, q.qmax).astype(np.int8)


def dequantize(codes: np.ndarray, q: QParams) -> np.ndarray:
    return ((codes.astype(F32) - F32(q.zero_point)) * F32(q.scale)).astype(F32)


def _rescale(v: np.ndarray, factors: np.ndarray, zp: int) -> np.ndarray:
    """TOSA RESCALE of int64 ``v`` by per-channel (axis 0) real ``factors``: single rounding, saturating."""
    ms = [multiplier_shift(float(f)) for f in np.atleast_1d(factors)]
    m = np.array([a for a, _ in ms], np.int64).reshape(-1, *([1] * (v.ndim - 1)))
    n = np.array([b for _, b in ms], np.int64).reshape(-1, *([1] * (v.ndim - 1)))
    y = (v * m + (np.int64(1) << (n - 1))) >> n
    return np.clip(y + zp, -128, 127)


def net_int8(q: Int8Network, x: np.ndarray) -> np.ndarray:
    """(12, h, w) float32 -> (24, h, w) int8 output codes, in TOSA int8 arithmetic."""
    h, w = x.shape[-2:]

    def conv(i: int, v: tuple[np.ndarray, QParams]) -> tuple[np.ndarray, QParams]:
        codes, qp = v
        ly, s = q.layers[i], LAYERS[i]
        # |acc| < 2^31 (int32 accumulator): float64 sums of these integer products are exact
        acc = np.rint(_conv(codes.astype(np.int64) - ly.input.zero_point, ly.weight, s.stride, np.float64))
        acc = acc.astype(np.int64) + ly.bias.astype(np.int64)[:, None, None]
        factors = np.array([ly.input.scale * float(sw) / ly.output.scale for sw in ly.weight_scale])
        y = _rescale(acc, factors, ly.output.zero_point)
        if s.activation == "relu":
            return np.maximum(y, ly.output.zero_point).astype(np.int8), ly.output
        table = q.sigmoid_tables[i - 12]
        return table[y.astype(np.int64) + 128], q.outputs[i - 12]

    def requant(v: tuple[np.ndarray, QParams], out: QParams) -> np.ndarray:
        codes, qp = v
        if qp.same(out):
            return codes
        return _rescale(codes.astype(np.int64) - qp.zero_point, np.array([qp.scale / out.scale]),
                        out.zero_point).astype(np.int8)

    def up(i: int, v: tuple[np.ndarray, QParams]) -> tuple[np.ndarray, QParams]:
        out = q.upsample[i][1]
        return requant((v[0].repeat(2, axis=1).repeat(2, axis=2), v[1]), out), out

    def cat(i: int, vs: list[tuple[np.ndarray, QParams]]) -> tuple[np.ndarray, QParams]:
        out = q.concat[i][1]
        return np.concatenate([requant(v, out) for v in vs]), out

    xin = _pad8(np.asarray(x, F32))
    outs = nss_topology(conv, up, cat, (quantize(xin, q.input), q.input))
    return np.concatenate([o for o, _ in outs])[:, :h, :w].astype(np.int8)


def dequantize_outputs(q: Int8Network, codes: np.ndarray) -> np.ndarray:
    return np.concatenate([dequantize(codes[4 * i:4 * i + 4], o) for i, o in enumerate(q.outputs)])


# --------------------------------------------------------------------------- sequences

@dataclass
class Frame:
    colour: np.ndarray
    depth: np.ndarray
    motion: np.ndarray
    jitter: np.ndarray
    depth_params: np.ndarray
    exposure: float
    """Multiplier (``exp`` of the log exposure)."""


def run_frames(asset: SupersamplingAsset, frames: list[Frame], render_size: tuple[int, int], precision: str = "fp32",
               hist: History | None = None, progress: Callable[[int, int], None] | None = None
               ) -> dict[str, np.ndarray]:
    """The pipeline over consecutive frames from a reset history: ``output`` (T,3,H,W), ``net_input``
    (T,12,h,w), ``net_outputs`` (T,24,h,w) float32 and, for int8, ``net_codes`` (T,24,h,w) int8.
    ``progress(done, total)`` is called after each frame."""
    if precision == "int8" and asset.int8 is None:
        raise ValueError(f"bundle {asset.name!r} has no int8 network")
    dm = asset.dm_scale if precision == "fp32" else (asset.dm_scale_int8 if asset.dm_scale_int8 is not None
                                                     else asset.dm_scale)
    got: dict[str, list[np.ndarray]] = {"output": [], "net_input": [], "net_outputs": [], "net_codes": []}
    for f in frames:
        if hist is None:
            hist = History.reset(*f.colour.shape[-2:], f.jitter, asset.scale)
        x, deriv, depth_dil = preprocess(f.colour, f.depth, f.motion, f.depth_params, f.exposure, render_size,
                                         hist, dm)
        if precision == "int8":
            codes = net_int8(asset.int8, x)
            outs = dequantize_outputs(asset.int8, codes)
            got["net_codes"].append(codes)
        else:
            outs = net_float(asset, x)
        out = postprocess(f.colour, hist.output, outs[:16], outs[16:20], f.motion, f.exposure, f.jitter, hist.fresh,
                          asset.scale)
        hist = History(out, depth_dil, np.asarray(f.jitter, F32), outs[20:24], deriv, False)
        got["output"].append(out)
        got["net_input"].append(x)
        got["net_outputs"].append(outs)
        if progress is not None:
            progress(len(got["output"]), len(frames))
    return {k: np.stack(v) for k, v in got.items() if v}


def clip_frames(clip: dict[str, np.ndarray]) -> list[Frame]:
    return [Frame(clip["colour"][t], clip["depth"][t], clip["motion"][t], clip["jitter"][t], clip["depth_params"][t],
                  float(np.exp(F32(clip["exposure"][t])))) for t in range(clip["colour"].shape[0])]


def replay_clip(asset: SupersamplingAsset, precision: str = "fp32") -> dict[str, np.ndarray]:
    """The pipeline over the bundle's reference clip (what verify compares with the recorded arrays)."""
    clip = asset.clip
    return run_frames(asset, clip_frames(clip), tuple(int(v) for v in clip["render_size"]), precision)

"""Quality of predicted maps against ground truth, and the naive baseline (numpy only, torch-free).

Per map: PSNR, SSIM and MAE on the stored encoding ([0, 1]; albedo sRGB, normals as 0.5 n + 0.5); for normals
also the angle between predicted and true vectors in degrees (mean, median, 90th percentile). The baseline
predicts what needs no model: the mean of the three views as albedo, a flat normal, roughness 0.5, metallic 0.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image

from ngsdk.metrics import psnr
from ngsdk.pbr.maps import MaterialMaps, normalise


def _gauss(size: int = 11, sigma: float = 1.5) -> np.ndarray:
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2
    g = np.exp(-x * x / (2 * sigma * sigma))
    return g / g.sum()


def _blur(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """'valid' separable filter of (H, W) with the 1-D kernel g."""
    y = np.tensordot(sliding_window_view(x, g.size, axis=0), g, axes=([-1], [0]))
    return np.tensordot(sliding_window_view(y, g.size, axis=1), g, axes=([-1], [0]))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM of two images in [0, 1], (H, W) or (H, W, C) (channels averaged); 11-tap Gaussian, sigma 1.5."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim == 3:
        return float(np.mean([ssim(a[..., c], b[..., c]) for c in range(a.shape[-1])]))
    if min(a.shape) < 11:
        raise ValueError(f"SSIM needs images of at least 11x11 pixels, got {a.shape}")
    g = _gauss()
    mu_a, mu_b = _blur(a, g), _blur(b, g)
    va = _blur(a * a, g) - mu_a**2
    vb = _blur(b * b, g) - mu_b**2
    cov = _blur(a * b, g) - mu_a * mu_b
    c1, c2 = 0.01**2, 0.03**2
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (va + vb + c2))
    return float(s.mean())


def normal_angles(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Angles in degrees between unit vectors (..., 3)."""
    cos = (normalise(pred).astype(np.float64) * normalise(target).astype(np.float64)).sum(-1)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def map_metrics(pred: MaterialMaps, target: MaterialMaps) -> dict[str, float]:
    """``<map>_psnr``, ``<map>_ssim``, ``<map>_mae`` for the four maps and ``normal_angle_{mean,median,p90}``."""
    if pred.size != target.size:
        raise ValueError(f"predicted maps are {pred.size}, ground truth {target.size}")
    enc_p = {"albedo": pred.albedo, "roughness": pred.roughness, "metallic": pred.metallic,
             "normal": normalise(pred.normal) * 0.5 + 0.5}
    enc_t = {"albedo": target.albedo, "roughness": target.roughness, "metallic": target.metallic,
             "normal": normalise(target.normal) * 0.5 + 0.5}
    out: dict[str, float] = {}
    for name in enc_p:
        p, t = enc_p[name].astype(np.float64), enc_t[name].astype(np.float64)
        out[f"{name}_psnr"] = psnr(float(((p - t) ** 2).mean()))
        out[f"{name}_ssim"] = ssim(p, t)
        out[f"{name}_mae"] = float(np.abs(p - t).mean())
    ang = normal_angles(pred.normal, target.normal)
    out["normal_angle_mean"] = float(ang.mean())
    out["normal_angle_median"] = float(np.median(ang))
    out["normal_angle_p90"] = float(np.percentile(ang, 90))
    return out


def naive_baseline(views: np.ndarray, size: tuple[int, int]) -> MaterialMaps:
    """The no-model prediction at ``size`` (H, W) from (3, h, w, 3) uint8 views."""
    h, w = size
    mean = views.astype(np.float32).mean(0) / 255.0
    albedo = np.stack([np.asarray(Image.fromarray(mean[..., c]).resize((w, h), Image.Resampling.BILINEAR))
                       for c in range(3)], -1).clip(0, 1)
    normal = np.zeros((h, w, 3), np.float32)
    normal[..., 2] = 1.0
    return MaterialMaps(albedo, np.full((h, w), 0.5, np.float32), np.zeros((h, w), np.float32), normal)


def mean_metrics(rows: list[dict[str, float]]) -> dict[str, float]:
    """Average of per-sample metric dicts (same keys)."""
    if not rows:
        return {}
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}

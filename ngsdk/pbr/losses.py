"""Losses of the seed: per-map L1, (1 - SSIM) on albedo, (1 - cos) on normals, hinge GAN; and distillation
(Bernoulli KL at temperature T for the sigmoid maps, MSE for normals, both scaled by T^2).

Maps are (B, 8, H, W): albedo 0:3, roughness 3, metallic 4, normal 5:8 (unit vectors).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ngsdk.pbr.config import MAPS

SLICES = {"albedo": slice(0, 3), "roughness": slice(3, 4), "metallic": slice(4, 5), "normal": slice(5, 8)}


def _gauss_window(size: int = 11, sigma: float = 1.5, device: torch.device | None = None) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float32, device=device) - (size - 1) / 2
    g = torch.exp(-x * x / (2 * sigma * sigma))
    return g / g.sum()


def ssim(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean SSIM of (B, C, H, W) images in [0, 1] (11-tap Gaussian, sigma 1.5, the usual constants)."""
    c = a.shape[1]
    g = _gauss_window(device=a.device)
    kx = g.reshape(1, 1, 1, -1).repeat(c, 1, 1, 1)
    ky = g.reshape(1, 1, -1, 1).repeat(c, 1, 1, 1)

    def blur(x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.conv2d(x, kx, groups=c), ky, groups=c)

    mu_a, mu_b = blur(a), blur(b)
    va = blur(a * a) - mu_a**2
    vb = blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    c1, c2 = 0.01**2, 0.03**2
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (va + vb + c2))
    return s.mean()


def reconstruction_loss(pred: torch.Tensor, target: torch.Tensor, *, w_l1: float, w_ssim: float, w_normal: float,
                        map_weights: dict[str, float]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Sum over maps of weight x L1, plus w_ssim (1 - SSIM) on albedo and w_normal (1 - cos) on normals; also
    the detached terms (tensors, so a CUDA step does not wait for them)."""
    parts: dict[str, torch.Tensor] = {}
    for m in MAPS:
        parts[f"l1_{m}"] = w_l1 * map_weights.get(m, 1.0) * (pred[:, SLICES[m]] - target[:, SLICES[m]]).abs().mean()
    if w_ssim:
        parts["ssim"] = w_ssim * (1 - ssim(pred[:, 0:3], target[:, 0:3]))
    if w_normal:
        parts["normal_cos"] = w_normal * (1 - (pred[:, 5:8] * target[:, 5:8]).sum(1)).mean()
    total = torch.stack(list(parts.values())).sum()
    return total, {k: v.detach() for k, v in parts.items()}


def hinge_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return F.relu(1 - real).mean() + F.relu(1 + fake).mean()


def hinge_g(fake: torch.Tensor) -> torch.Tensor:
    return -fake.mean()


def distillation_loss(student_logits: torch.Tensor, teacher_maps: torch.Tensor, temperature: float) -> torch.Tensor:
    """Soft-target loss against the teacher's maps (B, 8, H, W): Bernoulli KL between the teacher's and the
    student's sigmoid outputs softened by T (teacher logits recovered as logit(p)), MSE on unit normals; x T^2."""
    t = temperature
    p_t = teacher_maps[:, :5].clamp(1e-4, 1 - 1e-4)
    q_t = torch.sigmoid(torch.logit(p_t) / t)
    z_s = student_logits[:, :5] / t
    # KL(q_t || sigmoid(z_s)) for Bernoulli variables, with log-sigmoid for stability
    kl = (q_t * (torch.log(q_t) - F.logsigmoid(z_s)) + (1 - q_t) * (torch.log1p(-q_t) - F.logsigmoid(-z_s))).mean()
    n_s = F.normalize(student_logits[:, 5:8], dim=1, eps=1e-6)
    mse = ((n_s - teacher_maps[:, 5:8]) ** 2).mean()
    return (kl + mse) * t * t

"""Tone mappers of the NSS pipeline (torch): Karis inside the model, Reinhard for loss and metrics."""

from __future__ import annotations

import torch

HALF_MAX = 65504.0
"""Largest float16: the model's colour buffers are half precision in an engine."""
LUMA = (0.2126, 0.7152, 0.0722)
"""ITU-R BT.709 luma weights."""
_KARIS_TOP = HALF_MAX / (1.0 + HALF_MAX)


def karis(x: torch.Tensor) -> torch.Tensor:
    """``x / (1 + max(r, g, b))`` over channel axis -3, inputs clamped at 0, result in [0, 1]."""
    x = x.clamp_min(0.0)
    return (x / (1.0 + x.amax(dim=-3, keepdim=True))).clamp(0.0, 1.0)


def karis_inverse(x: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`karis` (inputs clamped to the image of the half-float range)."""
    x = x.clamp(0.0, _KARIS_TOP)
    return x / (1.0 - x.amax(dim=-3, keepdim=True))


def reinhard(x: torch.Tensor) -> torch.Tensor:
    """Per-channel ``x / (1 + x)``, clamped to [0, 1] (the gym's loss and metric tonemapper)."""
    x = x.clamp_min(0.0)
    return (x / (1.0 + x)).clamp(0.0, 1.0)


def luminance(rgb: torch.Tensor) -> torch.Tensor:
    """BT.709 luma over channel axis -3, keeping the axis."""
    r, g, b = rgb.unbind(dim=-3)
    return (LUMA[0] * r + LUMA[1] * g + LUMA[2] * b).unsqueeze(-3)

"""LARS-Adam and the cosine schedule with linear warm-up (the gym's recipe; torch)."""

from __future__ import annotations

import math

import torch

TRUST_COEF = 1e-3
LARS_EPS = 1e-8


class LarsAdam(torch.optim.Adam):
    """Adam on layer-wise rescaled gradients: each tensor's gradient is multiplied by
    ``|p| / ((|g| + eps) * trust)`` where both norms are non-zero (the gym's LARS wrapper, which divides by
    the trust coefficient; weight decay 0)."""

    def __init__(self, params, lr: float = 2e-3, trust_coef: float = TRUST_COEF, lars_eps: float = LARS_EPS):
        super().__init__(params, lr=lr)
        self.trust_coef = trust_coef
        self.lars_eps = lars_eps

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                pn, gn = p.norm(), p.grad.norm()
                ok = (pn > 0) & (gn > 0)
                factor = torch.where(ok, pn / ((gn + self.lars_eps) * self.trust_coef), torch.ones_like(pn))
                p.grad.mul_(factor)
        return super().step(closure)


def cosine_lr(progress: float, base: float, minimum: float, warmup: float = 0.05) -> float:
    """Learning rate at ``progress`` (0..1) of a phase: linear from ``minimum`` to ``base`` over the first
    ``warmup`` of it, then cosine down to ``minimum``."""
    progress = min(max(progress, 0.0), 1.0)
    if progress < warmup:
        return minimum + (base - minimum) * progress / warmup
    c = (progress - warmup) / max(1.0 - warmup, 1e-12)
    return minimum + 0.5 * (base - minimum) * (1.0 + math.cos(math.pi * c))

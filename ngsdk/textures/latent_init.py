"""Initial latent values: the principal components of the texture around each latent texel.

A latent texel of a level covers a block of texels; the 2x2 sub-blocks of that block (all channels)
form one vector per latent texel, and its projection on the level's leading principal components
starts the latents. The decoder then begins from latents that already separate what the texture
holds, instead of uniform noise it has to organise first.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

PCA_RANGE_SIGMAS = 2.5
"""A component's value of this many standard deviations maps to the edge of the code range."""


def _block_vectors(image: torch.Tensor, w: int, h: int) -> torch.Tensor:
    """(h * w, k * k * C) vectors of the ``k x k`` sub-blocks (k = 2 where the texture allows) per latent texel."""
    _, c, H, W = image.shape
    k = 2 if (2 * w <= W and 2 * h <= H) else 1
    small = F.adaptive_avg_pool2d(image, (k * h, k * w))[0]          # (C, k h, k w)
    blocks = small.reshape(c, h, k, w, k).permute(1, 3, 2, 4, 0)      # (h, w, k, k, C)
    return blocks.reshape(h * w, k * k * c)


def pca_latents(target: np.ndarray, sizes: list[tuple[int, int]], features: int, spread: float,
                generator: torch.Generator) -> torch.Tensor:
    """Initial values (sum of w * h over ``sizes``, ``features``) in [-1, 1] for one latent pyramid.

    ``target`` is mip 0 of the texture (H, W, C) in the units the decoder outputs. Components beyond
    the vector's dimension start uniform in [-spread, spread] as without PCA.
    """
    image = torch.from_numpy(np.ascontiguousarray(target, dtype=np.float32)).permute(2, 0, 1)[None]
    out = []
    for w, h in sizes:
        x = _block_vectors(image, w, h).double()
        init = (torch.rand(w * h, features, generator=generator, dtype=torch.float64) * 2 - 1) * spread
        if x.shape[0] > 1:
            x = x - x.mean(dim=0, keepdim=True)
            cov = x.T @ x / x.shape[0]
            evals, evecs = torch.linalg.eigh(cov)                          # ascending
            n = min(features, x.shape[1])
            top = evecs[:, torch.argsort(evals, descending=True)[:n]]
            # a fixed sign per component (largest loading positive) so the result does not depend on the solver
            signs = torch.sign(top[top.abs().argmax(dim=0), torch.arange(n)])
            proj = x @ (top * torch.where(signs == 0, 1.0, signs))
            std = proj.std(dim=0).clamp(min=1e-8)
            init[:, :n] = (proj / (PCA_RANGE_SIGMAS * std)).clamp(-1.0, 1.0)
        out.append(init)
    return torch.cat(out).float()

"""Cross-view fusion: a ViT over the tokens of all three views' bottleneck features.

Each view's bottleneck map is projected (1x1 conv) to the fusion width D and flattened to tokens; a learned
per-view embedding tells the views apart; the three views' tokens are concatenated and pass through pre-norm
transformer blocks (so every position attends to every position of every view); the three views' tokens of
one position are then concatenated and merged back to D (Linear(3D -> D) + LayerNorm) as a feature map.
Attention is written as matmul + softmax (no fused attention op), which Core ML conversion maps 1:1.
"""

from __future__ import annotations

import torch
from torch import nn

from ngsdk.pbr.config import VIEWS


class DropPath(nn.Module):
    """Stochastic depth: drops a whole residual branch per sample while training."""

    def __init__(self, p: float):
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = (torch.rand(x.shape[0], *([1] * (x.dim() - 1)), dtype=x.dtype, device=x.device) >= self.p)
        return x * keep / (1 - self.p)


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = torch.softmax((q * self.scale) @ k.transpose(-2, -1), dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, d))


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, mlp_ratio: float, drop_path: float):
        super().__init__()
        hidden = int(dim * mlp_ratio)
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path(self.attn(self.norm1(x)))
        return x + self.drop_path(self.mlp(self.norm2(x)))


class ViewFusion(nn.Module):
    """(B * 3, C, h, w) bottleneck features of the views (view-major within a sample) -> (B, D, h, w)."""

    def __init__(self, channels: int, dim: int, heads: int, depth: int, mlp_ratio: float, drop_path: float):
        super().__init__()
        self.proj = nn.Conv2d(channels, dim, 1)
        self.view_embed = nn.Parameter(torch.zeros(VIEWS, 1, dim))
        nn.init.trunc_normal_(self.view_embed, std=0.02)
        rates = [drop_path * i / max(depth - 1, 1) for i in range(depth)]
        self.blocks = nn.Sequential(*[Block(dim, heads, mlp_ratio, r) for r in rates])
        self.norm = nn.LayerNorm(dim)
        self.merge = nn.Linear(VIEWS * dim, dim)
        self.merge_norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.proj(x)
        _, d, h, w = x.shape
        tokens = x.reshape(-1, VIEWS, d, h * w).transpose(2, 3) + self.view_embed  # (B, 3, hw, D)
        y = self.norm(self.blocks(tokens.reshape(-1, VIEWS * h * w, d)))
        y = y.reshape(-1, VIEWS, h * w, d).permute(0, 2, 1, 3).reshape(-1, h * w, VIEWS * d)
        y = self.merge_norm(self.merge(y))
        return y.transpose(1, 2).reshape(-1, d, h, w)

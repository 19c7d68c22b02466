"""ConvAttn fusion: the ``convattn`` student's bottleneck, convolutions in place of the ViT (linear in the number
of positions, so the student can run at 1024^2).

After NeuroPBR's ConvAttn student (its reading of ESC, "Emulating Self-attention with Convolution"), rebuilt
here from the description in docs/pbr-reconstruction.md:

* the views are merged *before* the PLK blocks: each view's bottleneck map gets its own residual refinement
  (depthwise 3x3, BN, GELU, 1x1), the three are concatenated along channels and a 1x1 conv + BN + GELU
  merges them to the width C;
* a 1x1 conv + BN + GELU, then ``depth`` PLK blocks that all use one large depthwise kernel (K x K, one filter
  per channel), computed once per forward from a learned tensor normalised to unit L1 mass per channel (the
  "pre-computed large kernel"), a 1x1 conv + BN, and a residual around the whole stack;
* one PLK block: x + gamma * SE(GELU(BN(conv1x1(dwconv_K(BN(x)))))) where SE is a squeeze-excitation gate
  (spatial mean, 1x1 to max(C/4, 32), ReLU, 1x1 back, sigmoid), the instance-adaptive part, and gamma a
  learned scalar starting at 0.1;
* a 1x1 conv + BN + GELU to the width of the deepest encoder skip, the decoder's input.

Every op is a plain convolution, norm or elementwise op, so Core ML and ONNX conversion map it 1:1 (the kernel
normalisation acts on a constant and folds away).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ngsdk.pbr.config import VIEWS


def conv1x1_bn_gelu(cin: int, cout: int, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 1, groups=groups, bias=False), nn.BatchNorm2d(cout), nn.GELU())


def se_width(channels: int) -> int:
    """Hidden width of a PLK block's channel gate."""
    return max(channels // 4, 32)


class SharedKernel(nn.Module):
    """The large depthwise kernel all PLK blocks share: (C, 1, K, K), each channel's filter scaled to unit
    L1 mass. Starts as the same radially decaying bump in every channel (a local average to begin with)."""

    def __init__(self, channels: int, size: int):
        super().__init__()
        r = torch.arange(size, dtype=torch.float32) - size // 2
        dist = torch.sqrt(r[:, None] ** 2 + r[None, :] ** 2)
        bump = torch.exp(-dist * (4.0 / size))
        self.weight = nn.Parameter(bump.expand(channels, 1, size, size).clone())

    def forward(self) -> torch.Tensor:
        w = self.weight
        return w / (w.abs().sum(dim=(2, 3), keepdim=True) + 1e-6)


class PLKBlock(nn.Module):
    """Pre-norm residual block: shared large depthwise kernel -> 1x1 mix -> channel gate, scaled by gamma."""

    def __init__(self, channels: int):
        super().__init__()
        hidden = se_width(channels)
        self.norm = nn.BatchNorm2d(channels)
        self.mix = conv1x1_bn_gelu(channels, channels)
        self.gate = nn.Sequential(nn.Conv2d(channels, hidden, 1), nn.ReLU(), nn.Conv2d(hidden, channels, 1),
                                  nn.Sigmoid())
        self.gamma = nn.Parameter(torch.full((1,), 0.1))

    def forward(self, x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
        k = kernel.shape[-1]
        y = self.mix(F.conv2d(self.norm(x), kernel, padding=k // 2, groups=x.shape[1]))
        y = y * self.gate(y.mean(dim=(2, 3), keepdim=True))
        return x + self.gamma * y


class ViewMerge(nn.Module):
    """(B, 3C, h, w) (the views' maps side by side in channels) -> (B, width, h, w): per-view residual
    refinement, written as grouped convolutions over the three views' channels, then a 1x1 merge."""

    def __init__(self, channels: int, width: int):
        super().__init__()
        total = VIEWS * channels
        self.refine = nn.Sequential(
            nn.Conv2d(total, total, 3, padding=1, groups=total, bias=False),  # each view's own depthwise 3x3
            nn.BatchNorm2d(total), nn.GELU(),
            nn.Conv2d(total, total, 1, groups=VIEWS, bias=False),  # each view's own 1x1
        )
        self.merge = conv1x1_bn_gelu(total, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.merge(x + self.refine(x))


class ConvAttnFusion(nn.Module):
    """(B * 3, C_enc, h, w) bottleneck features of the views (view-major within a sample) -> (B, out, h, w)."""

    def __init__(self, channels: int, dim: int, depth: int, kernel: int, out_channels: int):
        super().__init__()
        self.views = ViewMerge(channels, dim)
        self.proj = conv1x1_bn_gelu(dim, dim)
        self.kernel = SharedKernel(dim, kernel)
        self.blocks = nn.ModuleList([PLKBlock(dim) for _ in range(depth)])
        self.last = nn.Sequential(nn.Conv2d(dim, dim, 1, bias=False), nn.BatchNorm2d(dim))
        self.out = conv1x1_bn_gelu(dim, out_channels)
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, c, h, w = x.shape
        x = self.proj(self.views(x.reshape(-1, VIEWS * c, h, w)))
        kernel = self.kernel()  # once per forward, shared by every block
        y = x
        for block in self.blocks:
            y = block(y, kernel)
        return self.out(self.last(y) + x)

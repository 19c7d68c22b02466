"""UNet decoder, x2 super-resolution head and the four map heads.

Decoder stages go from the fused bottleneck (1/16) up to full resolution: bilinear x2, conv3x3 + BN + ReLU,
concatenation with the view-averaged encoder skip, then two conv3x3 + BN + ReLU. A stage's width is its skip's
channel count if that is at most 64, else half of it (MobileNetV3-Large gives 56/40/24/16, the shipped student's
decoder). A last conv3x3 widens to ``head_features`` for the heads (or the SR head).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ngsdk.pbr.config import MAP_CHANNELS, MAPS


def conv_bn_relu(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


def stage_width(skip: int) -> int:
    return skip if skip <= 64 else skip // 2


class UpStage(nn.Module):
    def __init__(self, cin: int, skip: int, cout: int):
        super().__init__()
        self.up = conv_bn_relu(cin, cout)
        self.fuse = nn.Sequential(conv_bn_relu(cout + skip, cout), conv_bn_relu(cout, cout))

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
        return self.fuse(torch.cat([self.up(x), skip], 1))


class UNetDecoder(nn.Module):
    """``skips`` channel counts from full resolution to 1/8; input (B, dim, H/16, W/16)."""

    def __init__(self, dim: int, skips: list[int], head_features: int):
        super().__init__()
        widths = [stage_width(c) for c in skips]
        stages, cin = [], dim
        for skip, width in zip(reversed(skips), reversed(widths)):
            stages.append(UpStage(cin, skip, width))
            cin = width
        self.stages = nn.ModuleList(stages)
        self.final = conv_bn_relu(cin, head_features)
        self.widths = list(reversed(widths))

    def forward(self, x: torch.Tensor, skips: list[torch.Tensor]) -> torch.Tensor:
        for stage, skip in zip(self.stages, reversed(skips)):
            x = stage(x, skip)
        return self.final(x)


class SuperResolution(nn.Module):
    """x2: conv3x3 (C -> F), conv3x3 (F -> 4F), PixelShuffle, conv3x3 (F -> M), conv1x1 (M -> C); ReLU between."""

    def __init__(self, channels: int, features: int, mid: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, features, 3, 1, 1), nn.ReLU(inplace=True),
            nn.Conv2d(features, 4 * features, 3, 1, 1), nn.PixelShuffle(2), nn.ReLU(inplace=True),
            nn.Conv2d(features, mid, 3, 1, 1), nn.ReLU(inplace=True),
            nn.Conv2d(mid, channels, 1), nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class MapHeads(nn.Module):
    """One 1x1 conv per map; returns the raw (pre-activation) outputs concatenated: (B, 8, H, W)."""

    def __init__(self, channels: int):
        super().__init__()
        self.heads = nn.ModuleDict({m: nn.Conv2d(channels, MAP_CHANNELS[m], 1) for m in MAPS})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.heads[m](x) for m in MAPS], 1)

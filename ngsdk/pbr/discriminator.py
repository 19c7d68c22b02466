"""PatchGAN discriminator on the 8-channel map stack (albedo, roughness, metallic, normal).

``layers`` stride-2 conv4x4 layers (LeakyReLU 0.2, instance norm after the first), then a stride-1 conv4x4
and a conv4x4 to one logit per patch. Receptive field: 70 px for 3 layers, 142 for 4, 574 for 6 (the seed's
choice for 2048^2 maps).
"""

from __future__ import annotations

import torch
from torch import nn


def receptive_field(layers: int) -> int:
    rf = 1 + 3 + 3  # the two stride-1 conv4x4 at the end
    for _ in range(layers):
        rf = rf * 2 + 2
    return rf


def default_layers(output_size: int) -> int:
    """6 layers at >= 1024 px (the seed), 4 at >= 256, else 3 (a 128 px map has room for three)."""
    return 6 if output_size >= 1024 else 4 if output_size >= 256 else 3


class PatchDiscriminator(nn.Module):
    def __init__(self, channels: int = 8, features: int = 64, layers: int = 4):
        super().__init__()
        seq: list[nn.Module] = [nn.Conv2d(channels, features, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
        cin = features
        for i in range(1, layers):
            cout = features * min(2**i, 8)
            seq += [nn.Conv2d(cin, cout, 4, 2, 1), nn.InstanceNorm2d(cout), nn.LeakyReLU(0.2, inplace=True)]
            cin = cout
        cout = features * min(2**layers, 8)
        seq += [nn.Conv2d(cin, cout, 4, 1, 1), nn.InstanceNorm2d(cout), nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(cout, 1, 4, 1, 1)]
        self.net = nn.Sequential(*seq)

    def forward(self, maps: torch.Tensor) -> torch.Tensor:
        return self.net(maps)

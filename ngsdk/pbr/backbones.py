"""Encoders built in ngsdk: ResNet (teachers) and MobileNetV3 (students).

torchvision is not usable here (its PyPI wheel for torch 2.13 links the CUDA runtime of torch and fails to
load beside the CPU build), so the backbones are defined in ngsdk. Parameter names follow torchvision's
(``conv1``, ``layer1.0.bn1``, ``features.3.block.1.0.weight``...), so a torchvision state dict, saved as
safetensors or npz, loads with :func:`ngsdk.pbr.weights.load_backbone`.

Both return five feature maps, from full to 1/16 resolution with ``stem_stride`` 1: four skips for the UNet
decoder and the bottleneck for the fusion.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin: int, width: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, width, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _shortcut(cin, width, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu(y + (x if self.downsample is None else self.downsample(x)))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin: int, width: int, stride: int):
        super().__init__()
        out = width * self.expansion
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)  # stride on the 3x3 ("ResNet v1.5")
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _shortcut(cin, out, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return self.relu(y + (x if self.downsample is None else self.downsample(x)))


def _shortcut(cin: int, cout: int, stride: int) -> nn.Module | None:
    if stride == 1 and cin == cout:
        return None
    return nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))


class ResNetEncoder(nn.Module):
    """ResNet-18/34 (``basic``) or -50/101/152 (``bottleneck``) without its classifier."""

    def __init__(self, block: str, layers: tuple[int, ...], width: int = 64, stem_stride: int = 1):
        super().__init__()
        kind = {"basic": BasicBlock, "bottleneck": Bottleneck}[block]
        self.conv1 = nn.Conv2d(3, width, 7, stem_stride, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = width
        stages = []
        for i, n in enumerate(layers):
            w = width * 2**i
            blocks = []
            for j in range(n):
                blocks.append(kind(cin, w, 2 if (j == 0 and i > 0) else 1))
                cin = w * kind.expansion
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.channels = [width] + [width * 2**i * kind.expansion for i in range(4)]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        s0 = self.relu(self.bn1(self.conv1(x)))
        s1 = self.layer1(self.maxpool(s0))
        s2 = self.layer2(s1)
        s3 = self.layer3(s2)
        return [s0, s1, s2, s3, self.layer4(s3)]


def make_divisible(v: float, divisor: int = 8) -> int:
    """Round a channel count to a multiple of ``divisor``, never more than 10 % below ``v`` (MobileNet rule)."""
    new = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new + divisor if new < 0.9 * v else new


def _conv_bn_act(cin: int, cout: int, k: int, stride: int = 1, groups: int = 1,
                 act: Callable[[], nn.Module] | None = None) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False),
                               nn.BatchNorm2d(cout, eps=0.001, momentum=0.01)]
    if act is not None:
        layers.append(act())
    return nn.Sequential(*layers)


class SqueezeExcitation(nn.Module):
    def __init__(self, channels: int, squeeze: int):
        super().__init__()
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)
        self.activation = nn.ReLU()
        self.scale_activation = nn.Hardsigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = x.mean(dim=(2, 3), keepdim=True)
        return x * self.scale_activation(self.fc2(self.activation(self.fc1(s))))


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, k: int, exp: int, cout: int, se: bool, hs: bool, stride: int):
        super().__init__()
        act = nn.Hardswish if hs else nn.ReLU
        layers: list[nn.Module] = []
        if exp != cin:
            layers.append(_conv_bn_act(cin, exp, 1, act=act))
        layers.append(_conv_bn_act(exp, exp, k, stride, groups=exp, act=act))
        if se:
            layers.append(SqueezeExcitation(exp, make_divisible(exp // 4)))
        layers.append(_conv_bn_act(exp, cout, 1))
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(x)
        return x + y if self.residual else y


# MobileNetV3-Large: (kernel, expansion, out, squeeze-excite, hard-swish, stride)
MNV3_LARGE = (
    (3, 16, 16, False, False, 1), (3, 64, 24, False, False, 2), (3, 72, 24, False, False, 1),
    (5, 72, 40, True, False, 2), (5, 120, 40, True, False, 1), (5, 120, 40, True, False, 1),
    (3, 240, 80, False, True, 2), (3, 200, 80, False, True, 1), (3, 184, 80, False, True, 1),
    (3, 184, 80, False, True, 1), (3, 480, 112, True, True, 1), (3, 672, 112, True, True, 1),
    (5, 672, 160, True, True, 2), (5, 960, 160, True, True, 1), (5, 960, 160, True, True, 1),
)
# one block per stage of the above (CI scale): the same strides, skips and channel counts
MNV3_COMPACT = (
    (3, 16, 16, False, False, 1), (3, 64, 24, False, False, 2), (5, 72, 40, True, False, 2),
    (3, 240, 80, False, True, 2), (3, 480, 112, True, True, 1), (5, 672, 160, True, True, 2),
)


class MobileNetV3Encoder(nn.Module):
    """MobileNetV3 feature extractor (``features`` as in torchvision, classifier dropped); ``width`` scales
    every channel count."""

    def __init__(self, blocks: str = "large", width: float = 1.0, stem_stride: int = 1):
        super().__init__()
        table = {"large": MNV3_LARGE, "compact": MNV3_COMPACT}[blocks]
        stem = make_divisible(16 * width)
        layers: list[nn.Module] = [_conv_bn_act(3, stem, 3, stem_stride, act=nn.Hardswish)]
        cin = stem
        # a skip is taken at the last block of each resolution
        taps, strides = [], [b[5] for b in table]
        for i, (k, exp, out, se, hs, stride) in enumerate(table):
            cout = make_divisible(out * width)
            layers.append(InvertedResidual(cin, k, make_divisible(exp * width), cout, se, hs, stride))
            cin = cout
            if i + 1 < len(table) and strides[i + 1] == 2:
                taps.append((len(layers) - 1, cout))
        last = 6 * cin
        layers.append(_conv_bn_act(cin, last, 1, act=nn.Hardswish))
        taps.append((len(layers) - 1, last))
        if len(taps) != 5:
            raise ValueError(f"MobileNetV3 table gives {len(taps)} resolutions, the decoder needs 5")
        self.features = nn.Sequential(*layers)
        self.taps = [t for t, _ in taps]
        self.channels = [c for _, c in taps]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        out = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in self.taps:
                out.append(x)
        return out

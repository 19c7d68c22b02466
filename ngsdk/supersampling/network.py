"""The NSS network (the gym's AutoEncoderV1, 132,392 parameters) and its BN-folded float weights.

A U-Net of 3x3 conv + BN + ReLU blocks on the 12-channel input at input resolution (H, W multiples of 8):
encoder 12->32 s2, 32->32 | 32->32 s2, 32->32 | 32->64 s2, 64->64 | bottleneck 64->32; decoder
nearest x2, 32->16, concat skip, 48->16 | x2, 16->16, concat, 48->16, 16->16 | x2; six sigmoid heads
16->4: kernel taps 0-3, 4-7, 8-11, 12-15, temporal (theta, alpha, 2 spare), feedback (4). Module names
match the gym's, so its checkpoints map key for key.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

PARAMETER_COUNT = 132_392


@dataclass(frozen=True)
class LayerSpec:
    name: str
    cin: int
    cout: int
    stride: int
    bn: bool
    activation: str


LAYERS: tuple[LayerSpec, ...] = (
    LayerSpec("conv2d_0", 12, 32, 2, False, "relu"),
    LayerSpec("conv2d_1", 32, 32, 1, True, "relu"),
    LayerSpec("conv2d_2", 32, 32, 2, True, "relu"),
    LayerSpec("conv2d_3", 32, 32, 1, True, "relu"),
    LayerSpec("conv2d_4", 32, 64, 2, True, "relu"),
    LayerSpec("conv2d_5", 64, 64, 1, True, "relu"),
    LayerSpec("conv2d_6", 64, 32, 1, True, "relu"),
    LayerSpec("conv2d_7", 32, 16, 1, True, "relu"),
    LayerSpec("conv2d_8", 48, 16, 1, True, "relu"),
    LayerSpec("conv2d_9", 16, 16, 1, True, "relu"),
    LayerSpec("conv2d_10", 48, 16, 1, True, "relu"),
    LayerSpec("conv2d_11", 16, 16, 1, True, "relu"),
    LayerSpec("kpn_0_3_out_conv", 16, 4, 1, False, "sigmoid"),
    LayerSpec("kpn_4_7_out_conv", 16, 4, 1, False, "sigmoid"),
    LayerSpec("kpn_8_11_out_conv", 16, 4, 1, False, "sigmoid"),
    LayerSpec("kpn_12_15_out_conv", 16, 4, 1, False, "sigmoid"),
    LayerSpec("temporal_params_out_conv", 16, 4, 1, False, "sigmoid"),
    LayerSpec("feedback_out_conv", 16, 4, 1, False, "sigmoid"),
)
"""Every conv in graph order: what an integer runtime needs beside the weights."""
OUTPUTS = ("k0", "k1", "k2", "k3", "temporal", "feedback")
HEADS = tuple(s.name for s in LAYERS[12:])


class ConvBlock(nn.Module):
    """3x3 conv, optional BatchNorm, activation (the gym's module names: ``conv2d``, ``bn``, ``act``)."""

    def __init__(self, spec: LayerSpec):
        super().__init__()
        self.conv2d = nn.Conv2d(spec.cin, spec.cout, 3, stride=spec.stride, padding=1)
        self.bn = nn.BatchNorm2d(spec.cout) if spec.bn else nn.Identity()
        self.act = nn.ReLU() if spec.activation == "relu" else nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv2d(x)))


class NSSNet(nn.Module):
    """12 channels in; (k0, k1, k2, k3, temporal, feedback), each (B, 4, H, W), out."""

    def __init__(self):
        super().__init__()
        self.upsample = nn.UpsamplingNearest2d(scale_factor=2)
        for spec in LAYERS:
            setattr(self, spec.name, ConvBlock(spec))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = self.conv2d_0(x)
        x = skip1 = self.conv2d_1(x)
        x = self.conv2d_2(x)
        x = skip2 = self.conv2d_3(x)
        x = self.conv2d_5(self.conv2d_4(x))
        x = self.conv2d_6(x)
        x = self.conv2d_7(self.upsample(x))
        x = self.conv2d_8(torch.cat([x, skip2], dim=1))
        x = self.conv2d_9(self.upsample(x))
        x = self.conv2d_10(torch.cat([x, skip1], dim=1))
        x = self.upsample(self.conv2d_11(x))
        return tuple(getattr(self, name)(x) for name in HEADS)


def count_parameters(module: nn.Module) -> int:
    """Trainable parameters (BatchNorm running statistics are buffers and do not count)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def folded_weights(net: NSSNet) -> dict[str, np.ndarray]:
    """Float32 weights with BatchNorm folded in (its running statistics): ``NAME.weight`` (O, I, 3, 3) and
    ``NAME.bias`` (O,) for every layer of :data:`LAYERS`."""
    out: dict[str, np.ndarray] = {}
    with torch.no_grad():
        for spec in LAYERS:
            block = getattr(net, spec.name)
            wt = block.conv2d.weight.detach().double()
            bias = block.conv2d.bias.detach().double()
            if spec.bn:
                bn = block.bn
                k = bn.weight.double() / torch.sqrt(bn.running_var.double() + bn.eps)
                wt = wt * k.view(-1, 1, 1, 1)
                bias = (bias - bn.running_mean.double()) * k + bn.bias.double()
            out[f"{spec.name}.weight"] = wt.float().cpu().numpy()
            out[f"{spec.name}.bias"] = bias.float().cpu().numpy()
    return out


def folded_net(net: NSSNet) -> NSSNet:
    """A copy of ``net`` with BatchNorm folded into the convs (what the exports trace)."""
    weights = folded_weights(net)
    out = NSSNet()
    with torch.no_grad():
        for spec in LAYERS:
            block = getattr(out, spec.name)
            block.conv2d.weight.copy_(torch.from_numpy(weights[f"{spec.name}.weight"]))
            block.conv2d.bias.copy_(torch.from_numpy(weights[f"{spec.name}.bias"]))
            block.bn = nn.Identity()
    return out.eval()

"""The recurrent NSS model: pre-processing -> network -> post-processing per frame, with the history
buffers the gym keeps (output, dilated depth, jitter, feedback, luma derivative) reset at a window's
first frame (torch)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ngsdk.supersampling.network import NSSNet
from ngsdk.supersampling.postprocess import postprocess
from ngsdk.supersampling.preprocess import preprocess
from ngsdk.supersampling.tonemap import reinhard

DM_SCALE_INIT = 0.5


@dataclass
class FrameBatch:
    """One frame of ``B`` windows, on the model's device (float32)."""

    colour: torch.Tensor
    """(B, 3, h, w) linear."""
    depth: torch.Tensor
    """(B, 1, h, w)."""
    motion: torch.Tensor
    """(B, 2, H, W) target pixels."""
    jitter: torch.Tensor
    """(B, 2) input pixels."""
    depth_params: torch.Tensor
    """(B, 4)."""
    exposure: torch.Tensor
    """(B,) multiplier (``exp`` of the stored log exposure, or the recipe's fixed one)."""
    render_size: tuple[int, int]


@dataclass
class History:
    output: torch.Tensor
    depth: torch.Tensor
    jitter: torch.Tensor
    feedback: torch.Tensor
    derivative: torch.Tensor
    fresh: bool

    @staticmethod
    def reset(frame: FrameBatch, scale: int) -> History:
        b, _, h, w = frame.colour.shape
        z = frame.colour.new_zeros
        return History(z(b, 3, h * scale, w * scale), z(b, 1, h, w), frame.jitter, z(b, 4, h, w), z(b, 2, h, w), True)

    def detach(self) -> History:
        return History(self.output.detach(), self.depth.detach(), self.jitter.detach(), self.feedback.detach(),
                       self.derivative.detach(), self.fresh)


@dataclass
class FrameOutput:
    output: torch.Tensor
    """(B, 3, H, W) linear: the upscaled frame (and next history)."""
    filtered: torch.Tensor
    """(B, 3, H, W) linear: the kernel-filtered frame before temporal accumulation (loss only)."""
    net_input: torch.Tensor
    """(B, 12, h, w): what the network saw."""
    net_outputs: tuple[torch.Tensor, ...]
    """(k0, k1, k2, k3, temporal, feedback), each (B, 4, h, w)."""


class NSSModel(nn.Module):
    """The network plus the learned disocclusion scale; ``net`` may be swapped for a QAT graph."""

    def __init__(self, scale: int = 2, net: nn.Module | None = None):
        super().__init__()
        self.scale = scale
        self.net = net if net is not None else NSSNet()
        self.dm_scale = nn.Parameter(torch.tensor([DM_SCALE_INIT]))

    def train(self, mode: bool = True) -> NSSModel:
        if isinstance(self.net, torch.fx.GraphModule):
            # an exported graph refuses .train(): its BatchNorm and observers switch through torchao
            from ngsdk.supersampling.quant import set_mode

            # switching rewrites the graph (slow): only when the mode changes
            if getattr(self.net, "_nss_mode", None) != mode:
                set_mode(self.net, mode)
                self.net._nss_mode = mode
            self.training = mode
            return self
        return super().train(mode)

    def run_net(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The network on (B, 12, h, w), reflect-padded to multiples of 8 and cropped back."""
        h, w = x.shape[-2:]
        ph, pw = (-h) % 8, (-w) % 8
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="reflect")
        outs = self.net(x)
        return tuple(o[..., :h, :w] for o in outs)

    def step(self, frame: FrameBatch, hist: History) -> tuple[FrameOutput, History]:
        b = frame.colour.shape[0]
        pre = preprocess(frame.colour, hist.output, frame.motion, frame.depth, hist.depth, hist.jitter, hist.feedback,
                         hist.derivative, frame.depth_params, frame.exposure, frame.render_size, self.dm_scale[0])
        outs = self.run_net(pre.net_input)
        kpn = torch.cat(outs[:4], dim=1)
        reset = torch.full((b,), hist.fresh, dtype=torch.bool, device=kpn.device)
        out, filtered = postprocess(frame.colour, hist.output, kpn, outs[4], frame.motion, frame.exposure,
                                    frame.jitter, self.scale, reset)
        nxt = History(out, pre.depth_dilated, frame.jitter, outs[5], pre.derivative, False)
        return FrameOutput(out, filtered, pre.net_input, outs), nxt

    def run(self, frames: list[FrameBatch], hist: History | None = None,
            keep: tuple[str, ...] = ("output", "filtered")) -> dict[str, torch.Tensor]:
        """Run a window (history reset at its first frame unless ``hist`` continues one); returns the
        ``keep`` fields stacked on axis 1, (B, T, ...)."""
        hist = hist or History.reset(frames[0], self.scale)
        got: dict[str, list] = {k: [] for k in keep}
        for frame in frames:
            res, hist = self.step(frame, hist)
            for k in keep:
                v = getattr(res, k)
                got[k].append(torch.cat(v, dim=1) if isinstance(v, tuple) else v)
        return {k: torch.stack(v, dim=1) for k, v in got.items()}


def display(linear: torch.Tensor, exposure: torch.Tensor) -> torch.Tensor:
    """Reinhard-tonemapped ``linear * exposure`` (the gym's loss and metric space); ``exposure`` has the
    leading axes of ``linear`` ((B,) or (B, T))."""
    return reinhard(linear * exposure.reshape(exposure.shape + (1,) * (linear.dim() - exposure.dim())))

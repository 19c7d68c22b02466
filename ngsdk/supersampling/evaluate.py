"""Running a trained model over whole sequences: outputs, network tensors and PSNR (torch)."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ngsdk.metrics import psnr
from ngsdk.supersampling.dataset import Window, to_window
from ngsdk.supersampling.frames import FrameSequence
from ngsdk.supersampling.pipeline import History, NSSModel, display


@torch.no_grad()
def run_window(model: NSSModel, window: Window, keep: tuple[str, ...] = ("output",)) -> dict[str, torch.Tensor]:
    """The model over a window, history reset at its first frame, in eval mode (restored afterwards)."""
    was = model.training
    model.eval()
    try:
        return model.run(window.frames, History.reset(window.frames[0], model.scale), keep=keep)
    finally:
        model.train(was)


def window_psnr(output: torch.Tensor, truth: torch.Tensor, exposure: torch.Tensor) -> float:
    """PSNR in dB of (B, T, 3, H, W) linear frames, Reinhard-tonemapped at ``exposure`` (B, T) (the gym's
    metric space, data range 1), over all frames."""
    mse = torch.mean((display(output.flatten(0, 1), exposure.flatten()) -
                      display(truth.flatten(0, 1), exposure.flatten())) ** 2).item()
    return psnr(mse) if math.isfinite(mse) else 0.0


def bilinear_baseline(window: Window) -> torch.Tensor:
    """(B, T, 3, H, W) bilinear up-sampling of the jittered input (no jitter compensation, no history)."""
    hh, ww = window.truth.shape[-2:]
    return torch.stack([F.interpolate(f.colour, size=(hh, ww), mode="bilinear", align_corners=False)
                        for f in window.frames], dim=1)


def sequence_window(seq: FrameSequence, device: torch.device, exposure: float | None) -> Window:
    """A whole :class:`FrameSequence` as a batch-of-one window."""
    return to_window([seq], device, exposure)


def run_sequence(model: NSSModel, seq: FrameSequence, device: torch.device, exposure: float | None,
                 keep: tuple[str, ...] = ("output",)) -> dict[str, np.ndarray]:
    """The model over ``seq`` from a reset history; numpy (T, ...) arrays of the ``keep`` fields."""
    out = run_window(model, sequence_window(seq, device, exposure), keep)
    return {k: v[0].detach().cpu().numpy() for k, v in out.items()}

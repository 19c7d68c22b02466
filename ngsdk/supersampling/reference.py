"""A small reference clip for verification: what a torch-free runtime must reproduce (numpy out).

For ``frames`` frames of a sequence (history reset at the first) it records the raw inputs, then for the
float model and for the int8 model (the converted QAT graph inside the same pipeline): the 12-channel
network inputs, the 24 network output channels (k0..k3, temporal, feedback) and the upscaled frames;
plus the ground truth. The int8 path also stores the network outputs as int8 codes (scale 1/254, zero
point -127), what an int8 VGF returns.
"""

from __future__ import annotations

import numpy as np
import torch

from ngsdk.supersampling.evaluate import run_sequence
from ngsdk.supersampling.frames import FrameSequence
from ngsdk.supersampling.pipeline import NSSModel
from ngsdk.supersampling.quant import SIGMOID_SCALE, SIGMOID_ZERO_POINT

KEEP = ("net_input", "net_outputs", "output")


def sigmoid_codes(x: np.ndarray) -> np.ndarray:
    """int8 codes of sigmoid outputs under the fixed 1/254, -127 quantization (round half to even)."""
    q = np.round(x.astype(np.float32) / np.float32(SIGMOID_SCALE)) + SIGMOID_ZERO_POINT
    return np.clip(q, -127, 127).astype(np.int8)


def reference_clip(seq: FrameSequence, float_model: NSSModel, int8_model: NSSModel | None, *, frames: int = 8,
                   exposure: float | None = 2.0, device: torch.device | str = "cpu") -> dict[str, np.ndarray]:
    """The clip's arrays (float32 unless noted), ready for ``np.savez``. ``int8_model``: the pipeline around
    the converted int8 graph (``SupersamplingTrainResult.int8_model``), or None."""
    device = torch.device(device)
    part = seq.frames(0, min(frames, len(seq)))
    out: dict[str, np.ndarray] = {
        "colour": part.colour, "depth": part.depth, "motion": part.motion, "motion_lr": part.motion_lr,
        "jitter": part.jitter, "depth_params": part.depth_params, "ground_truth": part.ground_truth,
        "exposure": np.full(len(part), exposure, np.float32) if exposure is not None else part.exposure,
        "render_size": np.array(part.full_render_size, np.int32),
    }
    got = run_sequence(float_model.to(device), part, device, exposure, KEEP)
    out |= {f"fp32_{k}": v for k, v in got.items()}
    if int8_model is not None:
        got = run_sequence(int8_model.to(device), part, device, exposure, KEEP)
        out |= {f"int8_{k}": v for k, v in got.items()}
        out["int8_net_codes"] = sigmoid_codes(got["net_outputs"])
    return out

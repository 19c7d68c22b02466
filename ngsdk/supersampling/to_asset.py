"""A trained NSS model as a :class:`~ngsdk.asset.supersampling.SupersamplingAsset` (torch): float weights, the
int8 network read off the converted QAT graph, and the reference clip.

The clip's int8 path runs the converted graph with its conv requantization done in integers as TOSA does
(``ngsdk.exporters.graph.int8_reference``), so the recorded int8 network outputs are the codes the int8 VGF
and ``ngsdk.runtime_ref.supersampling.net_int8`` give, not the float simulation's (which can differ by one
step where a value sits on a rounding boundary).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from ngsdk import __version__
from ngsdk.asset.supersampling import (
    SIGMOID_SCALE,
    SIGMOID_ZERO_POINT,
    SupersamplingAsset,
)
from ngsdk.asset.types import Provenance
from ngsdk.exporters.graph.supersampling_int8 import int8_network
from ngsdk.supersampling.dataset import open_sequences
from ngsdk.supersampling.evaluate import run_sequence
from ngsdk.supersampling.pipeline import NSSModel
from ngsdk.supersampling.reference import sigmoid_codes
from ngsdk.supersampling.train import SupersamplingTrainResult

CLIP_FRAMES = 8
CLIP_INPUT = (72, 128)
"""Largest (h, w) input crop of the reference clip (the spec's 128x72 -> 256x144)."""


def _clip_sequence(data_dir: str | Path, frames: int, scale: int) -> Any:
    seq = open_sequences(data_dir, scale)[0]
    n = min(frames, len(seq))
    h, w = seq.lr_size
    ch, cw = min(h, CLIP_INPUT[0]), min(w, CLIP_INPUT[1])
    y, x = (h - ch) // 2, (w - cw) // 2
    return seq.read(0, n, (y * scale, x * scale, ch * scale, cw * scale))


def build_clip(res: SupersamplingTrainResult, data_dir: str | Path, frames: int = CLIP_FRAMES) -> dict[str, np.ndarray]:
    """The reference clip: raw inputs of the first sequence's first frames (centre crop), the float and int8
    pipelines' network inputs, outputs and frames, the ground truth."""
    from ngsdk.exporters.graph.int8_reference import int8_reference

    seq = _clip_sequence(data_dir, frames, res.scale)
    exposure = res.exposure
    cpu = torch.device("cpu")
    clip: dict[str, np.ndarray] = {
        "colour": seq.colour, "depth": seq.depth, "motion": seq.motion, "jitter": seq.jitter,
        "depth_params": seq.depth_params, "ground_truth": seq.ground_truth,
        "exposure": (np.full(len(seq), exposure, np.float32) if exposure is not None else seq.exposure)
        .astype(np.float32),
        "render_size": np.array(seq.full_render_size, np.int32),
    }
    res.float_model.to(cpu).eval()
    got = run_sequence(res.float_model, seq, cpu, exposure, ("net_input", "net_outputs", "output"))
    clip |= {f"fp32_{k}": v for k, v in got.items()}
    if res.int8_model is not None:
        exact = NSSModel(res.scale)
        del exact.net  # the integer reference is a callable, not a module
        exact.net = int8_reference(res.int8_model.net.to(cpu))
        with torch.no_grad():
            exact.dm_scale.copy_(res.int8_model.dm_scale.detach().cpu())
        got = run_sequence(exact, seq, cpu, exposure, ("net_input", "net_outputs", "output"))
        clip |= {"int8_net_input": got["net_input"], "int8_net_codes": sigmoid_codes(got["net_outputs"]),
                 "int8_output": got["output"]}
    return {k: np.ascontiguousarray(v) for k, v in clip.items()}


def build_asset(res: SupersamplingTrainResult, data_dir: str | Path, *, name: str,
                export_size: tuple[int, int] = (544, 960), sources: dict[str, str] | None = None,
                clip_frames: int = CLIP_FRAMES) -> SupersamplingAsset:
    """The bundle's asset from a training result (``data_dir``: the folder it trained on; the clip's source)."""
    int8 = int8_network(res.int8_model.net.cpu()) if res.int8_model is not None else None
    if int8 is not None and any(o.scale != np.float32(SIGMOID_SCALE) and abs(o.scale - SIGMOID_SCALE) > 1e-9
                                or o.zero_point != SIGMOID_ZERO_POINT for o in int8.outputs):
        raise ValueError("int8 network outputs are not at the fixed sigmoid quantization (1/254, -127)")
    metrics = dict(res.metrics) | {"train_seconds": round(res.seconds, 3), "steps": res.steps,
                                   "qat_steps": res.qat_steps}
    prov = Provenance(ngsdk_version=__version__, config=res.config.to_dict(), seed=res.config.seed,
                      sources=dict(sources or {}), metrics=metrics)
    return SupersamplingAsset(
        name=name, weights=res.weights, provenance=prov, scale=res.scale, dm_scale=res.dm_scale,
        dm_scale_int8=res.dm_scale_int8, exposure=res.exposure, jitter_table=res.jitter_table,
        export_size=export_size, int8=int8, clip=build_clip(res, data_dir, clip_frames))

"""Training of NSS super sampling: a data folder in, a :class:`SupersamplingTrainResult` out (torch).

Two phases, as in the gym: float32 training of the network (and the disocclusion scale) on random
recurrent windows with LossV1 and LARS-Adam under a cosine schedule; then int8 quantization-aware
training of a copy through the gym's quantizer settings (:mod:`ngsdk.supersampling.quant`). The result
holds both models, the BN-folded float weights and the int8 graph as numpy arrays, and what an asset
needs beside them (dm_scale, exposure, jitter table, metrics). Deterministic for a fixed seed and step
counts on the CPU.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ngsdk import __version__
from ngsdk.metrics import psnr
from ngsdk.supersampling import checkpoint as ckpt
from ngsdk.supersampling.config import SupersamplingTrainConfig
from ngsdk.supersampling.dataset import WindowSampler, open_sequences, to_window
from ngsdk.supersampling.evaluate import bilinear_baseline, run_window, window_psnr
from ngsdk.supersampling.jitter import jitter_table
from ngsdk.supersampling.loss import nss_loss
from ngsdk.supersampling.network import folded_net, folded_weights
from ngsdk.supersampling.optim import LarsAdam, cosine_lr
from ngsdk.supersampling.pipeline import NSSModel, display
from ngsdk.supersampling.previews import write_previews
from ngsdk.training import TrainProgress, pick_device, setup_determinism

EVAL_CROP = 512
"""Largest side (target pixels) of the fixed evaluation / preview window."""
PREVIEW_FRAMES = 4
LPIPS_DEVIATION = ("LPIPS term off (no --lpips-weights): the spatial loss is L1 only, where the gym adds "
                   "0.2 x LPIPS-VGG")


@dataclass
class SupersamplingTrainResult:
    """A trained NSS model and everything the asset, export and verify layers take from it."""

    config: SupersamplingTrainConfig
    float_model: NSSModel
    """After the float32 phase, eval mode (BatchNorm not folded; ``folded_net`` gives the export form)."""
    qat_model: NSSModel | None
    """After QAT, eval mode; ``qat_model.net`` is the prepared pt2e graph (``export_vgf`` converts it)."""
    weights: dict[str, np.ndarray]
    """BN-folded float32 weights of ``float_model``: ``LAYER.weight`` (O, I, 3, 3), ``LAYER.bias`` (O,)."""
    int8_model: NSSModel | None
    """The converted int8 reference graph (quantize / dequantize around float ops) in the pipeline."""
    int8_nodes: list[dict[str, Any]] | None
    """The converted int8 graph (:func:`quant.describe_graph`), with ``int8_arrays`` its constants."""
    int8_arrays: dict[str, np.ndarray] | None
    int8_io: dict[str, Any] | None
    """Input and output scale / zero point of the int8 network."""
    dm_scale: float
    """Learned disocclusion scale of the float model (clamped to [0, 1] as the model uses it)."""
    dm_scale_int8: float | None
    exposure: float | None
    """Log exposure applied to every frame (None: each frame's own)."""
    scale: int
    jitter_table: np.ndarray
    """(16, 2) (y, x) jitters of the synthetic data's Halton sequence (4x capture tile)."""
    steps: int
    qat_steps: int
    seconds: float
    metrics: dict[str, float]
    history: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    previews: list[Path] = field(default_factory=list)
    device: str = "cpu"
    ngsdk_version: str = __version__


def _phase_limits(cfg: SupersamplingTrainConfig) -> tuple[int | None, float | None, int | None, float | None]:
    budget = cfg.time_budget
    f_budget = None if budget is None else budget * (1 - cfg.qat_fraction)
    q_budget = None if budget is None else budget * cfg.qat_fraction
    return cfg.steps, f_budget, cfg.qat_step_count(), q_budget


def _fraction(step: int, steps: int | None, seconds: float, budget: float | None) -> float:
    f = 0.0
    if steps is not None:
        f = max(f, step / steps if steps else 1.0)
    if budget is not None:
        f = max(f, seconds / budget if budget > 0 else 1.0)
    return min(f, 1.0)


def _eval_window(seqs: list, cfg: SupersamplingTrainConfig, device: torch.device):
    seq = seqs[0]
    n = min(seq.length, cfg.frames)
    s = seq.scale
    hh, ww = seq.hr_size
    ch, cw = min(hh, EVAL_CROP), min(ww, EVAL_CROP)
    y, x = (hh - ch) // 2 // s * s, (ww - cw) // 2 // s * s
    return to_window([seq.read(0, n, (y, x, ch, cw))], device, cfg.exposure)


def train_supersampling(data_dir: str | Path, cfg: SupersamplingTrainConfig, *,
                        progress: Callable[[TrainProgress], None] | None = None,
                        log: Callable[[str], None] | None = None,
                        previews: str | Path | None = None,
                        checkpoint: str | Path | None = None,
                        resume: str | Path | None = None) -> SupersamplingTrainResult:
    """Train on the sequences of ``data_dir`` (gym safetensors or EXR capture tree).

    ``previews``: folder for output | ground truth | error strips of the evaluation window (float and
    int8); ``checkpoint``: file written at the end (and every ``cfg.checkpoint_every`` steps);
    ``resume``: a checkpoint to continue (the step counts of ``cfg`` are totals).
    """
    log = log or (lambda s: None)
    cfg.check()
    device = pick_device(cfg.device)
    setup_determinism(device)
    torch.manual_seed(cfg.seed)
    seqs = open_sequences(data_dir, cfg.scale)
    sampler = WindowSampler(seqs, cfg.frames, cfg.crop, cfg.augment, cfg.seed + 1)
    notes: list[str] = []
    model = NSSModel(cfg.scale).to(device)
    if cfg.init:
        from ngsdk.supersampling.gym_checkpoint import load_gym_checkpoint

        notes += load_gym_checkpoint(cfg.init, model)
    lpips = None
    if cfg.lpips_weights:
        from ngsdk.supersampling.lpips import LPIPS

        lpips = LPIPS.from_files(cfg.lpips_weights).to(device)
    else:
        notes.append(LPIPS_DEVIATION)
    for n in notes:
        log(n)
    f_steps, f_budget, q_steps, q_budget = _phase_limits(cfg)
    evalw = _eval_window(seqs, cfg, device)
    history: list[dict[str, Any]] = []
    phase, step, qstep, spent = "fp32", 0, 0, {"fp32": 0.0, "qat": 0.0}
    float_model: NSSModel | None = None
    opt = LarsAdam(model.parameters(), lr=cfg.lr)
    if resume is not None:
        meta, arrays = ckpt.read(resume)
        phase, step, qstep, history = meta["phase"], meta["step"], meta["qat_step"], meta["history"]
        spent = dict(meta["seconds"])
        if phase == "qat":
            float_model = model
            float_model.load_state_dict({k[6:]: torch.from_numpy(v).to(device) for k, v in arrays.items()
                                         if k.startswith("float/")})
            float_model.eval()
            model = _to_qat(float_model, sampler, cfg, device)
            opt = LarsAdam(model.parameters(), lr=cfg.qat_lr)
        ckpt.restore(resume, arrays, meta, model, opt, sampler.gen)
        log(f"resumed {resume} at {phase} step {step if phase == 'fp32' else qstep}")
    t0 = time.perf_counter() - sum(spent.values())
    clock = {"phase_start": time.perf_counter()}

    def phase_seconds() -> float:
        return spent[phase] + time.perf_counter() - clock["phase_start"]

    def save_checkpoint() -> None:
        if checkpoint is None:
            return
        extra = {}
        if phase == "qat":
            extra = {f"float/{k}": v.detach().cpu().numpy() for k, v in float_model.state_dict().items()}
        meta = {"phase": phase, "step": step, "qat_step": qstep, "seconds": spent | {phase: phase_seconds()},
                "history": history, "config": cfg.to_dict()}
        ckpt.save(checkpoint, model, opt, sampler.gen, meta, extra)

    def one_step(lr: float, n: int) -> None:
        for g in opt.param_groups:
            g["lr"] = lr
        win = to_window(sampler.sample(cfg.batch), device, cfg.exposure)
        model.train()
        outs = model.run(win.frames)
        out_tm, filt_tm, true_tm = (display(x, win.exposure) for x in (outs["output"], outs["filtered"], win.truth))
        loss = nss_loss(out_tm, filt_tm, true_tm, win.motion, lpips)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        db = psnr(torch.mean((out_tm.detach() - true_tm) ** 2).item())
        elapsed = time.perf_counter() - t0
        rec = {"phase": phase, "step": n, "loss": float(loss.item()), "psnr": db, "lr": lr, "seconds": elapsed}
        if cfg.eval_every and n % cfg.eval_every == 0:
            rec["eval_psnr"] = window_psnr(run_window(model, evalw)["output"], evalw.truth, evalw.exposure)
        history.append(rec)
        if progress:
            progress(TrainProgress(n, f_steps if phase == "fp32" else q_steps, elapsed, db, phase))
        if cfg.checkpoint_every and n % cfg.checkpoint_every == 0:
            save_checkpoint()

    if phase == "fp32":
        while (frac := _fraction(step, f_steps, phase_seconds(), f_budget)) < 1.0:
            step += 1
            one_step(cosine_lr(frac, cfg.lr, cfg.min_lr, cfg.warmup), step)
        float_model = model.eval()
        log(f"float phase: {step} steps")
        if (q_steps is None or q_steps > 0) and (q_budget is None or q_budget > 0):
            spent["fp32"] = phase_seconds()
            phase = "qat"
            clock["phase_start"] = time.perf_counter()  # tracing and fake-quant insertion count as QAT time
            model = _to_qat(float_model, sampler, cfg, device)
            opt = LarsAdam(model.parameters(), lr=cfg.qat_lr)
            log("int8 QAT: network traced and fake-quantized (per-channel weights, sigmoid outputs 1/254, -127)")
    if phase == "qat":
        # at least one step: the activation observers take their ranges from the first batches
        while (frac := _fraction(qstep, q_steps, phase_seconds(), q_budget)) < 1.0 or qstep == 0:
            qstep += 1
            one_step(cosine_lr(frac, cfg.qat_lr, cfg.qat_min_lr, cfg.warmup), qstep)
        model.eval()
        log(f"QAT phase: {qstep} steps")
    save_checkpoint()
    seconds = time.perf_counter() - t0
    return _finish(cfg, float_model, model if phase == "qat" else None, evalw, step, qstep, seconds, history,
                   notes, previews, device, log)


def _to_qat(float_model: NSSModel, sampler: WindowSampler, cfg: SupersamplingTrainConfig,
            device: torch.device) -> NSSModel:
    from ngsdk.supersampling.quant import prepare_qat

    h, w = (s // cfg.scale for s in sampler.size)
    example = torch.zeros(max(cfg.batch, 2), 12, h + (-h) % 8, w + (-w) % 8, device=device)
    # BatchNorm folded first (running statistics): QAT trains the conv weights the int8 graph keeps, and
    # converting needs no conv-BN pattern folding (torchao's takes ~20 s of CPU)
    net = folded_net(float_model.net).to(device)
    qat = NSSModel(cfg.scale, prepare_qat(net, example)).to(device)
    with torch.no_grad():
        qat.dm_scale.copy_(float_model.dm_scale)
    return qat


def _finish(cfg, float_model, qat_model, evalw, step, qstep, seconds, history, notes, previews, device,
            log) -> SupersamplingTrainResult:
    from ngsdk.supersampling import quant

    float_model.eval()
    out_f = run_window(float_model, evalw)["output"]
    metrics = {"psnr_fp32": window_psnr(out_f, evalw.truth, evalw.exposure),
               "psnr_bilinear": window_psnr(bilinear_baseline(evalw), evalw.truth, evalw.exposure)}
    nodes = arrays = io = int8_model = None
    dm_int8 = None
    files: list[Path] = []
    exposure = float(evalw.exposure[0, 0])
    if previews is not None:
        k = min(PREVIEW_FRAMES, out_f.shape[1])
        files += write_previews(previews, out_f[0, -k:].cpu().numpy(), evalw.truth[0, -k:].cpu().numpy(),
                                exposure, prefix="fp32")
    if qat_model is not None:
        qat_model.eval()
        out_q = run_window(qat_model, evalw)["output"]
        metrics["psnr_int8"] = window_psnr(out_q, evalw.truth, evalw.exposure)
        converted = quant.convert(qat_model.net)
        nodes, arrays = quant.describe_graph(converted)
        io = quant.io_qparams(converted)
        int8_model = NSSModel(cfg.scale, converted).to(device)
        with torch.no_grad():
            int8_model.dm_scale.copy_(qat_model.dm_scale)
        int8_model.eval()
        dm_int8 = float(qat_model.dm_scale.detach().clamp(0, 1))
        if previews is not None:
            k = min(PREVIEW_FRAMES, out_q.shape[1])
            files += write_previews(previews, out_q[0, -k:].cpu().numpy(), evalw.truth[0, -k:].cpu().numpy(),
                                    exposure, prefix="int8")
    log("eval window: " + ", ".join(f"{k} {v:.2f} dB" for k, v in metrics.items()))
    return SupersamplingTrainResult(
        config=cfg, float_model=float_model, qat_model=qat_model, weights=folded_weights(float_model.net),
        int8_model=int8_model, int8_nodes=nodes, int8_arrays=arrays, int8_io=io,
        dm_scale=float(float_model.dm_scale.detach().clamp(0, 1)), dm_scale_int8=dm_int8, exposure=cfg.exposure,
        scale=cfg.scale, jitter_table=jitter_table(4 * cfg.scale), steps=step, qat_steps=qstep, seconds=seconds,
        metrics=metrics, history=history, notes=notes, previews=files, device=str(device))

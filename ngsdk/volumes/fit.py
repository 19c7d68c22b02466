"""Fitting one model (one brick) of a neural volume (AMGSRN): a float32 (D, H, W) volume in, a trained
:class:`VolumeModel` and its :class:`VolumeBrick` out.

Three phases by the fraction of the run (steps or time budget): ``fit`` trains features, decoder and
the grid transforms, with a KL density loss pulling grid density (``|det|`` inside each grid) towards
where the reconstruction error is; ``refine`` freezes the transforms (as the float32 matrices the asset
stores) and fine-tunes features and decoder; ``qat`` fixes each grid's stored range and trains through
the storage rounding (unorm8 codes or float16, straight-through), for ``exact`` decoding also with the
sample positions snapped to the decode's 1/256-texel weights.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from ngsdk.asset.neural_volume import Box, VolumeBrick, VolumeGrid, voxel_positions
from ngsdk.asset.types import Decoder, DecoderLayer
from ngsdk.metrics import psnr
from ngsdk.training import TrainProgress, pick_device, setup_determinism, triton_available
from ngsdk.volumes.config import VolumeTrainConfig
from ngsdk.volumes.model import VolumeModel


@dataclass
class FitResult:
    """One trained model (one brick) and how its run went."""

    model: VolumeModel
    steps: int
    seconds: float
    history: list[dict[str, float]] = field(default_factory=list)
    stopped: str = "limit"


def resolve_sampler(name: str, device: torch.device) -> str:
    """The sampler a run uses: ``auto`` is ``gather`` on CUDA (deterministic) and ``grid_sample`` on the CPU
    (deterministic there); ``fused`` needs Triton on the device."""
    if name == "auto":
        return "gather" if device.type == "cuda" else "grid_sample"
    if name == "fused" and not triton_available(device):
        raise ValueError(f"--sampler fused needs Triton and a CUDA device (it cannot run on {device}); "
                         "use gather or grid_sample")
    return name


def default_batch(device: torch.device) -> int:
    return 1 << 18 if device.type == "cuda" else 1 << 14


def _positions(n: int, device: torch.device) -> torch.Tensor:
    return torch.from_numpy(voxel_positions(n)).to(device)


def _trilinear(vol: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Values of vol (D, H, W) at continuous indices c (N, 3) as (z, y, x), inside the volume."""
    d, h, w = vol.shape
    hi = torch.tensor([d - 2, h - 2, w - 2], device=c.device).clamp_min(0)
    c0 = torch.minimum(torch.floor(c).long(), hi)
    t = c - c0
    flat = vol.reshape(-1)
    out = torch.zeros(c.shape[0], dtype=vol.dtype, device=vol.device)
    for dz in (0, 1):
        for dy in (0, 1):
            for dx in (0, 1):
                idx = ((c0[:, 0] + dz) * h + c0[:, 1] + dy) * w + c0[:, 2] + dx
                wt = ((t[:, 0] if dz else 1 - t[:, 0]) * (t[:, 1] if dy else 1 - t[:, 1])
                      * (t[:, 2] if dx else 1 - t[:, 2]))
                out = out + wt * flat[idx]
    return out


def fit_volume(values: np.ndarray, cfg: VolumeTrainConfig, *, device: torch.device | None = None,
               time_budget: float | None = None, progress: Callable[[TrainProgress], None] | None = None,
               log: Callable[[str], None] | None = None, label: str = "") -> FitResult:
    """Train one model on ``values`` (float32 (D, H, W) in [0, 1]), its corner voxels at +-1.

    Stops at ``cfg.steps``, the time budget (``time_budget``, default ``cfg.time_budget``) or an
    early stop. Deterministic for a fixed seed and step count on the same machine.
    """
    log = log or (lambda s: None)
    device = device or pick_device(cfg.device)
    budget = cfg.time_budget if time_budget is None else time_budget
    if cfg.steps is None and budget is None:
        raise ValueError("give --steps or --time-budget (or both)")
    setup_determinism(device)
    torch.manual_seed(cfg.seed)
    d, h, w = values.shape
    if min(d, h, w) < 2:
        raise ValueError(f"volume shape {values.shape}: every axis needs at least 2 voxels")
    vol = torch.from_numpy(np.ascontiguousarray(values, dtype=np.float32)).to(device)
    model = VolumeModel(cfg, cfg.seed, init_value=float(values.mean())).to(device)
    model.sampler = resolve_sampler(cfg.sampler, device)
    batch = cfg.batch_size or default_batch(device)
    opt = torch.optim.Adam([
        {"params": [model.features], "lr": cfg.lr},
        {"params": model.decoder.parameters(), "lr": cfg.lr * cfg.decoder_lr_ratio},
        {"params": model.transform_parameters(), "lr": cfg.transform_lr},
    ], betas=(0.9, 0.99), eps=1e-10)
    base_lrs = [g["lr"] for g in opt.param_groups]
    gen = torch.Generator(device=device).manual_seed(cfg.seed + 1)
    pos = [_positions(n, device) for n in (d, h, w)]
    dims = torch.tensor([d, h, w], device=device)
    span = (dims - 1).to(torch.float32)
    n_vox = d * h * w
    eval_gen = torch.Generator().manual_seed(cfg.seed + 2)
    eval_idx = (torch.arange(n_vox) if n_vox <= cfg.eval_points
                else torch.randint(0, n_vox, (cfg.eval_points,), generator=eval_gen)).to(device)
    eval_zyx = torch.stack([eval_idx // (h * w), (eval_idx // w) % h, eval_idx % w], dim=1)
    eval_p = torch.stack([pos[2][eval_zyx[:, 2]], pos[1][eval_zyx[:, 1]], pos[0][eval_zyx[:, 0]]], dim=1)
    eval_v = vol.reshape(-1)[eval_idx]
    n_jitter = int(round(batch * cfg.jitter_fraction))
    n_dens = min(cfg.density_points, batch)
    history: list[dict[str, float]] = []
    step, best, since_best, qat_at = 0, -math.inf, 0, cfg.qat_fraction
    stopped = "limit"
    phase = "fit"
    t0 = time.perf_counter()
    tag = f"[{label}] " if label else ""

    def fraction() -> float:
        f = 0.0
        if cfg.steps:
            f = max(f, step / cfg.steps)
        if budget:
            f = max(f, (time.perf_counter() - t0) / budget)
        return min(1.0, f)

    def eval_psnr() -> float:
        with torch.no_grad():
            pred = torch.cat([model(eval_p[s:s + (1 << 16)]) for s in range(0, eval_p.shape[0], 1 << 16)])
            return psnr(torch.mean((pred.clamp(0, 1) - eval_v) ** 2).item())

    def enter(new: str) -> None:
        nonlocal phase
        if new in ("refine", "qat") and not model.frozen:
            model.freeze_transforms()
            log(f"{tag}step {step}: transforms frozen; features and decoder fine-tune")
        if new == "qat" and not model.quantized:
            model.set_quantization()
            model.snap = cfg.decode_mode == "exact"
            log(f"{tag}step {step}: quantization-aware fine-tuning ({cfg.storage} features"
                f"{', 1/256-texel weights' if model.snap else ''})")
        phase = new

    while True:
        frac = fraction()
        if frac >= 1.0:
            break
        want = "fit" if frac < cfg.freeze_fraction else "refine" if frac < qat_at else "qat"
        if want != phase and not (phase == "qat" and want != "qat"):
            enter(want)
        lr_scale = 0.5 * (1 + math.cos(math.pi * frac)) * 0.95 + 0.05
        for g, base in zip(opt.param_groups, base_lrs):
            g["lr"] = base * lr_scale
        # voxel samples at the decode's exact positions, plus jittered ones against trilinear data
        idx = (torch.rand(batch, 3, generator=gen, device=device) * dims).long().minimum(dims - 1)
        p = torch.stack([pos[2][idx[:, 2]], pos[1][idx[:, 1]], pos[0][idx[:, 0]]], dim=1)
        target = vol[idx[:, 0], idx[:, 1], idx[:, 2]]
        if n_jitter:
            c = (idx[:n_jitter].float() + torch.rand(n_jitter, 3, generator=gen, device=device) - 0.5)
            c = torch.minimum(c.clamp_min(0), span)
            p[:n_jitter] = (c * (2.0 / span) - 1).flip(1)
            target[:n_jitter] = _trilinear(vol, c)
        if phase == "fit":
            t = model.transforms()
            pred = model.decode(model.sample(p, t))
            loss = torch.mean((pred - target) ** 2)
            if cfg.density_weight > 0:
                # KL(target || model density): target density proportional to the current error
                err = (pred[:n_dens] - target[:n_dens]).detach().abs() + 1e-6
                dens = model.density(p[:n_dens], sharpness=20.0, transforms=t) + 1e-12
                tgt = err / err.sum()
                loss = loss + cfg.density_weight * torch.sum(tgt * (torch.log(tgt) - torch.log(dens / dens.sum())))
        else:
            pred = model(p)
            loss = torch.mean((pred - target) ** 2)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        model.clamp_features()
        step += 1
        if step % cfg.eval_every == 0:
            db = eval_psnr()
            elapsed = time.perf_counter() - t0
            history.append({"step": step, "seconds": elapsed, "psnr": db})
            if progress:
                progress(TrainProgress(step, cfg.steps, elapsed, db, phase, label))
            if cfg.early_stop_patience and phase != "fit":
                if db > best + 0.05:
                    best, since_best = db, 0
                else:
                    since_best += 1
                    if since_best >= cfg.early_stop_patience:
                        if phase == "qat":
                            log(f"{tag}early stop at step {step}: PSNR plateau at {best:.2f} dB")
                            stopped = "plateau"
                            break
                        # plateau before quantization: start the last phase now
                        qat_at, best, since_best = frac, -math.inf, 0
    seconds = time.perf_counter() - t0
    if not model.quantized:
        enter("qat")  # the run ended early: the asset still needs frozen transforms and a stored range
    return FitResult(model=model, steps=step, seconds=seconds, history=history, stopped=stopped)


def model_brick(model: VolumeModel, name: str, core: Box, fit: Box) -> VolumeBrick:
    """Freeze a trained model into a :class:`VolumeBrick` (codes or float16 features, float32 decoder)."""
    with torch.no_grad():
        t = model.transforms().detach().cpu().numpy().astype(np.float32)
        if model.storage == "unorm8":
            vals = model.codes().detach().cpu().numpy().astype(np.uint8)
            scale = model.q_scale.cpu().numpy().astype(np.float32)
            offset = model.q_offset.cpu().numpy().astype(np.float32)
        else:
            vals = model.features.detach().half().cpu().numpy()
            scale = np.ones(vals.shape[0], np.float32)
            offset = np.zeros(vals.shape[0], np.float32)
    grids = [VolumeGrid(name=f"grid{g:02d}", transform=t[g], storage=model.storage,
                        values=np.ascontiguousarray(vals[g].transpose(1, 2, 3, 0)),
                        scale=float(scale[g]), offset=float(offset[g]))
             for g in range(vals.shape[0])]
    linears = [m for m in model.decoder if isinstance(m, torch.nn.Linear)]
    layers = [DecoderLayer(lin.weight.detach().cpu().numpy(), lin.bias.detach().cpu().numpy(),
                           "relu" if i < len(linears) - 1 else "none") for i, lin in enumerate(linears)]
    return VolumeBrick(name=name, core=core, fit=fit, grids=grids, decoder=Decoder(layers=layers))

"""Training of teachers (reconstruction losses + hinge PatchGAN) and students (distilled from stored teacher
outputs, no GAN), with a step and/or time budget, resume, previews and progress reports.

Schedule: AdamW (seed: lr 2e-4, betas (0.5, 0.999), weight decay 1e-4), linear warm-up over
``warmup_fraction`` of the run, then cosine to ``min_lr``; gradients clipped to ``grad_clip``. The run's
fraction is steps / steps, or elapsed / time budget when only a budget is given (then the step count, and so
the result, depends on the machine). A fixed seed with ``steps`` gives identical weights on the same machine
(seeded initialisation, batch order and stochastic depth; deterministic kernels).
"""

from __future__ import annotations

import math
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ngsdk.metrics import psnr
from ngsdk.pbr.config import ModelSpec, PBRTrainConfig
from ngsdk.pbr.data import Entry, PBRData
from ngsdk.pbr.discriminator import PatchDiscriminator, default_layers
from ngsdk.pbr.losses import distillation_loss, hinge_d, hinge_g, reconstruction_loss
from ngsdk.pbr.model import PBRGenerator, activate, build_model, parameter_count
from ngsdk.pbr.previews import write_preview
from ngsdk.pbr.shards import SHARDS_FILE, TeacherShards, write_teacher_shards
from ngsdk.pbr.weights import load_backbone, load_checkpoint, load_model, save_checkpoint
from ngsdk.training import TrainProgress, pick_device, setup_determinism

_EVAL_SAMPLES = 8


@dataclass
class PBRTrainResult:
    """A finished run: the model (eval mode, CPU), what made it, and its figures."""

    model: PBRGenerator
    role: str
    config: PBRTrainConfig
    steps: int
    elapsed: float
    history: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    """Validation figures at the end (``<map>_psnr``, ``psnr``, ``normal_angle``...)."""
    teacher: dict[str, Any] | None = None
    backbone_init: dict[str, Any] | None = None
    step_seconds: float = 0.0

    @property
    def spec(self) -> ModelSpec:
        return self.model.spec

    def info(self) -> dict[str, Any]:
        """What to record beside the weights (config, figures, teacher provenance)."""
        return {"role": self.role, "config": self.config.to_dict(), "steps": self.steps, "elapsed": self.elapsed,
                "metrics": self.metrics, "teacher": self.teacher, "backbone_init": self.backbone_init,
                "parameters": parameter_count(self.model)}


def _lr_factor(frac: float, cfg: PBRTrainConfig) -> float:
    if cfg.warmup_fraction > 0 and frac < cfg.warmup_fraction:
        return max(frac / cfg.warmup_fraction, 1e-3)
    t = (frac - cfg.warmup_fraction) / max(1 - cfg.warmup_fraction, 1e-9)
    floor = cfg.min_lr / cfg.lr
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(max(t, 0.0), 1.0)))


def _resolve_teacher(teacher: Any, data: PBRData, size: int, device: torch.device, shards: str | Path | None,
                     cleanup: list[Path]) -> tuple[TeacherShards, dict[str, Any]]:
    """A shard folder, a model file, a PBRGenerator or a PBRTrainResult -> shards at the student's size."""
    if isinstance(teacher, (str, Path)) and (Path(teacher) / SHARDS_FILE).is_file():
        s = TeacherShards(teacher)
        return s, {"shards": str(teacher), "spec": s.record["teacher"]}
    if isinstance(teacher, (str, Path)):
        model, info = load_model(teacher)
        source = str(teacher)
    elif isinstance(teacher, PBRTrainResult):
        model, info, source = teacher.model, teacher.info(), "in-memory result"
    elif isinstance(teacher, PBRGenerator):
        model, info, source = teacher, {}, "in-memory model"
    else:
        raise TypeError("teacher must be a shard folder, a model file, a PBRGenerator or a PBRTrainResult")
    if model.spec.role != "teacher":
        raise ValueError(f"the teacher model ({source}) is a {model.spec.role}")
    if shards is None:
        tmp = Path(tempfile.mkdtemp(prefix="ngsdk-pbr-shards-"))
        cleanup.append(tmp)
        shards = tmp
    write_teacher_shards(model, data, shards, size=size, device=device)
    return TeacherShards(shards), {"source": source, "spec": model.spec.to_dict(),
                                   "metrics": info.get("metrics", {}), "steps": info.get("steps")}


@torch.no_grad()
def evaluate(model: PBRGenerator, data: PBRData, entries: list[Entry], device: torch.device) -> dict[str, float]:
    """Mean per-map PSNR (stored encodings), their mean ``psnr``, and the mean normal angle in degrees."""
    if not entries:
        return {}
    model.eval()
    sums: dict[str, float] = {}
    for i in range(0, len(entries), 4):
        views, target = data.batch(entries[i:i + 4])
        pred = torch.cat(model(*[v.to(device) for v in views]), 1).cpu()
        for b in range(pred.shape[0]):
            p, t = pred[b], target[b]
            enc_p = torch.cat([p[:5], p[5:8] * 0.5 + 0.5])
            enc_t = torch.cat([t[:5], t[5:8] * 0.5 + 0.5])
            for name, sl in (("albedo", slice(0, 3)), ("roughness", slice(3, 4)), ("metallic", slice(4, 5)),
                             ("normal", slice(5, 8))):
                mse = float(((enc_p[sl] - enc_t[sl]) ** 2).mean())
                sums[f"{name}_psnr"] = sums.get(f"{name}_psnr", 0.0) + psnr(mse)
            cos = (p[5:8] * t[5:8]).sum(0).clamp(-1, 1)
            sums["normal_angle"] = sums.get("normal_angle", 0.0) + float(torch.rad2deg(torch.acos(cos)).mean())
    out = {k: v / len(entries) for k, v in sums.items()}
    out["psnr"] = sum(out[f"{m}_psnr"] for m in ("albedo", "roughness", "metallic", "normal")) / 4
    return out


def train_pbr(data_dir: str | Path, cfg: PBRTrainConfig, role: str = "teacher", *, teacher: Any = None,
              shards: str | Path | None = None, progress: Callable[[TrainProgress], None] | None = None,
              log: Callable[[str], None] | None = None) -> PBRTrainResult:
    """Train a ``role`` model of preset ``cfg.preset`` on the NeuroPBR folder ``data_dir``.

    Students need ``teacher``: a shard folder, a model file (``save_model``), a PBRGenerator or a
    PBRTrainResult; a model is run over the data first and its outputs stored in ``shards`` (a temporary
    folder, removed afterwards, when None). ``progress`` gets a TrainProgress every ``cfg.eval_every`` steps
    (PSNR: mean over the four maps on the validation split)."""
    cfg.check(role)
    if role == "student" and teacher is None:
        raise ValueError("a student needs a teacher: a shard folder, a teacher model file or model")
    say = log or (lambda _msg: None)
    device = pick_device(cfg.device)
    setup_determinism(device)
    torch.manual_seed(cfg.seed)
    spec = cfg.spec(role)
    out_size = spec.output_size()
    data = PBRData(data_dir, curriculum=cfg.curriculum, input_size=spec.image_size, output_size=out_size,
                   val_ratio=cfg.val_ratio, seed=cfg.seed)
    say(f"{role} {cfg.preset}: {len(data.train)} training and {len(data.val)} validation entries, "
        f"{spec.image_size} -> {out_size} px, device {device}")
    model = build_model(spec).to(device)
    backbone = None
    if cfg.init_backbone:
        backbone = {"file": str(cfg.init_backbone), **load_backbone(model.encoder, cfg.init_backbone)}
        say(f"encoder initialised from {cfg.init_backbone}: {backbone['loaded']} tensors")
    cleanup: list[Path] = []
    # every op here writes all of its output, so filling fresh memory (on by default in deterministic mode)
    # only costs time: ~40 % of a CPU step at the CI scale
    fill_before = torch.utils.deterministic.fill_uninitialized_memory
    torch.utils.deterministic.fill_uninitialized_memory = False
    try:
        teacher_shards, teacher_info = (None, None)
        if role == "student":
            teacher_shards, teacher_info = _resolve_teacher(teacher, data, out_size, device, shards, cleanup)
        use_gan = role == "teacher" and cfg.gan and cfg.w_gan > 0
        disc = opt_d = None
        if use_gan:
            layers = cfg.d_layers or default_layers(out_size)
            features = cfg.d_features or min(64, max(8, out_size // 8))
            disc = PatchDiscriminator(8, features, layers).to(device)
            opt_d = torch.optim.Adam(disc.parameters(), lr=cfg.d_lr, betas=cfg.betas)
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=cfg.betas, weight_decay=cfg.weight_decay)
        gen = torch.Generator().manual_seed(cfg.seed + 1)
        step, elapsed_before, history = 0, 0.0, []
        if cfg.resume:
            step, elapsed_before, history, _ = load_checkpoint(cfg.resume, model=model, opt=opt, disc=disc,
                                                               opt_d=opt_d, data_gen=gen)
            say(f"resumed from {cfg.resume} at step {step}")
        start_step = step
        eval_entries = (data.val or data.train)[:_EVAL_SAMPLES]
        preview_entries = eval_entries[:2]
        t0 = time.perf_counter()
        train_time = 0.0

        def elapsed() -> float:
            return elapsed_before + time.perf_counter() - t0

        def fraction() -> float:
            parts = []
            if cfg.steps:
                parts.append(step / cfg.steps)
            if cfg.time_budget:
                parts.append(elapsed() / cfg.time_budget)
            return min(max(parts), 1.0)

        def checkpoint() -> None:
            if cfg.checkpoint:
                # "ck_{step:06d}.npz" keeps every checkpoint, a plain name keeps the latest
                path = cfg.checkpoint.format(step=step) if "{step" in cfg.checkpoint else cfg.checkpoint
                save_checkpoint(path, model=model, opt=opt, disc=disc, opt_d=opt_d, data_gen=gen,
                                step=step, elapsed=elapsed(), history=history, config=cfg.to_dict())

        def preview(tag: str) -> None:
            if not cfg.previews:
                return
            model.eval()
            with torch.no_grad():
                views, target = data.batch(preview_entries)
                pred = torch.cat(model(*[v.to(device) for v in views]), 1).cpu()
            write_preview(Path(cfg.previews) / f"{role}_{tag}.png", torch.stack(views, 1), pred, target)

        def report(phase: str) -> None:
            figures = evaluate(model, data, eval_entries, device)
            rounded = {k: round(v, 4) for k, v in figures.items()}
            history.append({"step": step, "elapsed": round(elapsed(), 3), **rounded})
            if progress:
                progress(TrainProgress(step, cfg.steps, elapsed(), figures.get("psnr", 0.0), phase, role))

        while True:
            frac = fraction()
            if (cfg.steps and step >= cfg.steps) or (cfg.time_budget and elapsed() >= cfg.time_budget):
                break
            t_step = time.perf_counter()
            model.train()
            for g in opt.param_groups:
                g["lr"] = cfg.lr * _lr_factor(frac, cfg)
            idx = torch.randint(len(data.train), (cfg.batch_size,), generator=gen).tolist()
            entries = [data.train[i] for i in idx]
            views, target = data.batch(entries)
            views, target = [v.to(device) for v in views], target.to(device)
            logits = model.logits(*views)
            pred = activate(logits)
            loss, _parts = reconstruction_loss(pred, target, w_l1=cfg.w_l1, w_ssim=cfg.w_ssim, w_normal=cfg.w_normal,
                                               map_weights=cfg.map_weights)
            phase = role
            if teacher_shards is not None:
                soft = teacher_shards.maps(data, entries, out_size).to(device)
                loss = (1 - cfg.alpha) * loss + cfg.alpha * distillation_loss(logits, soft, cfg.temperature)
            if disc is not None and opt_d is not None and frac >= cfg.gan_start:
                phase = "gan"
                for g in opt_d.param_groups:
                    g["lr"] = cfg.d_lr * _lr_factor(frac, cfg)
                d_loss = hinge_d(disc(target), disc(pred.detach()))
                opt_d.zero_grad(set_to_none=True)
                d_loss.backward()
                torch.nn.utils.clip_grad_norm_(disc.parameters(), cfg.grad_clip)
                opt_d.step()
                loss = loss + cfg.w_gan * hinge_g(disc(pred))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
            step += 1
            train_time += time.perf_counter() - t_step
            if cfg.eval_every and step % cfg.eval_every == 0:
                report(phase)
            if cfg.checkpoint_every and step % cfg.checkpoint_every == 0:
                checkpoint()
            if cfg.preview_every and step % cfg.preview_every == 0:
                preview(f"{step:06d}")
        if not history or history[-1]["step"] != step:
            report("done")
        checkpoint()
        preview("final")
        metrics = {k: v for k, v in history[-1].items() if k not in ("step", "elapsed")}
        model = model.cpu().eval()
        return PBRTrainResult(model, role, cfg, step, elapsed(), history, metrics, teacher_info, backbone,
                              step_seconds=train_time / max(step - start_step, 1))
    finally:
        torch.utils.deterministic.fill_uninitialized_memory = fill_before
        for folder in cleanup:
            shutil.rmtree(folder, ignore_errors=True)

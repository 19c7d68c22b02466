"""Train a shading MLP to reproduce a (transformed) image from UV, as RTXNS "Simple Training".

Each step draws random UVs in [0, 1)^2, looks the target up in the image (nearest texel as the
seed, or bilinear), and takes an Adam step on the L2 loss (sum over RGB, mean over the batch).
Numerics follow the seed: float32 master weights; fp16 weights, activations and gradients with a
loss scale on CUDA; on the CPU the same fp16 storage rounding is emulated (``fp16_emulated``) so
a CPU-trained network behaves like a CUDA-trained one. Deterministic for a fixed seed and
``--steps`` on the same machine and thread count.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ngsdk import __version__
from ngsdk.asset.digest import decode_hash, sha256_file
from ngsdk.asset.shading_mlp import ShadingEncoding, ShadingMlpAsset
from ngsdk.asset.types import Provenance
from ngsdk.shading.images import load_image
from ngsdk.shading.model import ShadingMLP
from ngsdk.training import TrainProgress, pick_device

__all__ = ["ShadingTrainConfig", "TrainResult", "load_image", "train_shading"]


@dataclass
class ShadingTrainConfig:
    """Everything that determines a training run (recorded in the bundle's provenance)."""

    transform: str = "none"
    encoding: str = "frequency"
    frequencies: int = 6
    """Encoded features per input (the seed's 6: sin/cos of pi, 2pi, 4pi; or 6 triangle waves)."""
    hidden: int = 64
    layers: int = 4
    activation: str = "leaky_relu"
    leaky_slope: float = 0.01
    target_filter: str = "nearest"
    steps: int | None = None
    time_budget: float | None = None
    seed: int = 0
    device: str = "auto"
    batch_size: int = 1024
    lr: float = 1e-3
    lr_min: float = 1e-4
    lr_schedule: str = "budget"
    """``seed``: flat for 200k steps then cosine over 200k (RTXNS); ``budget``: flat for the first
    half of the run, then cosine to ``lr_min`` at the end (by steps, or by time with a budget)."""
    loss_scale: float = 1024.0
    numerics: str = "auto"
    """``fp16`` (native, CUDA), ``fp16_emulated`` (CPU), ``fp32``, or ``auto`` (fp16 on CUDA)."""
    compile: bool = False
    fused_adam: bool = False
    eval_every: float = 2.0
    """Seconds between PSNR evaluations for the progress bar."""
    eval_texels: int = 1 << 13
    eval_at: tuple[float, ...] = ()
    """Extra evaluations at these seconds of training (benchmarks: PSNR against time)."""
    warmup_steps: int = 0
    """Steps run before the clock starts (compilation, autotuning), then undone: parameters,
    optimizer, loss scale and sampler restart from their initial state."""
    threads: int | None = None
    """CPU threads for torch (None: one per 16k samples of batch, at least 1; small batches run
    fastest on one thread, and a fixed count keeps CPU runs reproducible)."""

    def check(self) -> None:
        from ngsdk.asset.shading_mlp import TARGET_FILTERS, TRANSFORMS
        from ngsdk.shading.model import ACTIVATIONS

        for name, value, allowed in (
            ("transform", self.transform, TRANSFORMS),
            ("target filter", self.target_filter, TARGET_FILTERS),
            ("activation", self.activation, ACTIVATIONS),
            ("device", self.device, ("auto", "cpu", "cuda")),
            ("lr schedule", self.lr_schedule, ("seed", "budget", "constant")),
            ("numerics", self.numerics, ("auto", "fp16", "fp16_emulated", "fp32")),
        ):
            if value not in allowed:
                raise ValueError(f"unknown {name} {value!r}: use one of {', '.join(allowed)}")
        ShadingEncoding(self.encoding, self.frequencies)  # validates the encoding
        if self.steps is None and self.time_budget is None:
            raise ValueError("give --steps or --time-budget")
        if self.batch_size < 1:
            raise ValueError("batch size must be positive")


@dataclass
class TrainResult:
    asset: ShadingMlpAsset
    model: ShadingMLP
    steps: int
    seconds: float
    history: list[dict[str, float]] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    reference: np.ndarray | None = None
    decoded: np.ndarray | None = None


def target_coords(uv: torch.Tensor, transform: str) -> torch.Tensor:
    """Torch twin of ngsdk.runtime_ref.shading_mlp.target_coords."""
    if transform == "zoom":
        return uv * 0.5 + 0.25
    if transform == "flip":
        return uv.flip(1)
    return uv


def lookup(image: torch.Tensor, st: torch.Tensor, filter: str) -> torch.Tensor:
    """Torch twin of ngsdk.runtime_ref.shading_mlp.lookup (image (H, W, C), st (N, 2) normalized)."""
    h, w = image.shape[:2]
    s, t = st[:, 0], st[:, 1]
    if filter == "nearest":
        x = torch.floor(s * w).clamp_(0, w - 1).long()
        y = torch.floor(t * h).clamp_(0, h - 1).long()
        return image[y, x]
    fx, fy = s * w - 0.5, t * h - 0.5
    x0, y0 = torch.floor(fx), torch.floor(fy)
    ax, ay = (fx - x0)[:, None], (fy - y0)[:, None]
    x0i, y0i = x0.long(), y0.long()
    xa, xb = x0i.clamp(0, w - 1), (x0i + 1).clamp(0, w - 1)
    ya, yb = y0i.clamp(0, h - 1), (y0i + 1).clamp(0, h - 1)
    top = image[ya, xa] * (1 - ax) + image[ya, xb] * ax
    bot = image[yb, xa] * (1 - ax) + image[yb, xb] * ax
    return top * (1 - ay) + bot * ay


def seed_learning_rate(
    step: int, base: float = 1e-3, low: float = 1e-4, flat: int = 200_000, decay: int = 200_000
) -> float:
    """RTXNS's schedule: ``base`` for ``flat`` steps, then cosine to ``low`` over ``decay`` steps."""
    if step < flat:
        return base
    r = min(1.0, (step - flat) / decay)
    return low + (base - low) * 0.5 * (1 + math.cos(r * math.pi))


def _budget_lr(progress: float, base: float, low: float) -> float:
    if progress < 0.5:
        return base
    r = min(1.0, (progress - 0.5) / 0.5)
    return low + (base - low) * 0.5 * (1 + math.cos(r * math.pi))


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = float(torch.mean((a.double() - b.double()) ** 2))
    return float("inf") if mse == 0 else 10 * math.log10(1 / mse)


class _Trainer:
    """One training run's state: image, model, optimizer, sampling, loss scaling."""

    def __init__(self, image: np.ndarray, cfg: ShadingTrainConfig):
        cfg.check()
        self.cfg = cfg
        self.device = pick_device(cfg.device)
        numerics = cfg.numerics
        if numerics == "auto":
            numerics = "fp16" if self.device.type == "cuda" else "fp16_emulated"
        if numerics == "fp16" and self.device.type != "cuda":
            numerics = "fp16_emulated"  # CPU half kernels are slow and not what the GPU does
        self.numerics = numerics
        self.height, self.width = image.shape[:2]
        gen = torch.Generator().manual_seed(cfg.seed)
        enc = ShadingEncoding(cfg.encoding, cfg.frequencies)
        self.model = ShadingMLP(
            enc, cfg.hidden, cfg.layers, cfg.activation, 3, cfg.leaky_slope, numerics, generator=gen
        ).to(self.device)
        self.image = torch.from_numpy(image).to(self.device)
        self.sample_gen = torch.Generator(device=self.device).manual_seed(cfg.seed + 1)
        adam_kw: dict[str, Any] = {"lr": cfg.lr, "betas": (0.9, 0.999), "eps": 1e-8}
        if cfg.fused_adam and self.device.type == "cuda":
            adam_kw["fused"] = True
        else:
            adam_kw["foreach"] = True
        self.opt = torch.optim.Adam(self.model.parameters(), **adam_kw)
        self.scaler = None
        if numerics != "fp32":
            self.scaler = torch.amp.GradScaler(
                self.device.type, init_scale=cfg.loss_scale, growth_interval=2000
            )
        step_fn = self._loss
        if cfg.compile:
            step_fn = torch.compile(step_fn, dynamic=False)
        self._compiled_loss = step_fn
        # fixed evaluation texels (centres) for the progress bar
        from ngsdk.runtime_ref.shading_mlp import reference_image, texel_centres

        n = self.width * self.height
        idx = (
            np.arange(n)
            if n <= cfg.eval_texels
            else np.random.default_rng(cfg.seed).choice(n, cfg.eval_texels, replace=False)
        )
        ref = reference_image(image, self.width, self.height, cfg.transform, cfg.target_filter).reshape(-1, 3)
        self.eval_uv = torch.from_numpy(texel_centres(self.width, self.height)[idx]).to(self.device)
        self.eval_ref = torch.from_numpy(ref[idx]).to(self.device)

    def _loss(self, uv: torch.Tensor) -> torch.Tensor:
        target = lookup(self.image, target_coords(uv, self.cfg.transform), self.cfg.target_filter)
        pred = self.model(uv)
        return ((pred - target) ** 2).sum(dim=1).mean()

    def step(self, lr: float) -> None:
        uv = torch.rand((self.cfg.batch_size, 2), generator=self.sample_gen, device=self.device)
        for g in self.opt.param_groups:
            g["lr"] = lr
        self.opt.zero_grad(set_to_none=True)
        loss = self._compiled_loss(uv)
        if self.scaler is None:
            loss.backward()
            self.opt.step()
            return
        # fp16 gradients: scaled loss; a step whose gradients overflowed is skipped and the scale
        # halved (the seed uses a fixed scale of 1024 and zeroes non-finite gradients)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.opt)
        self.scaler.update()

    def sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def warm_up(self, steps: int, lr: float) -> None:
        """Run ``steps`` steps (compiling kernels), then restore the initial training state."""
        import copy

        model = copy.deepcopy(self.model.state_dict())
        opt = copy.deepcopy(self.opt.state_dict())
        scaler = copy.deepcopy(self.scaler.state_dict()) if self.scaler is not None else None
        gen = self.sample_gen.get_state()
        for _ in range(steps):
            self.step(lr)
        self.eval_psnr()
        self.sync()
        self.model.load_state_dict(model)
        self.opt.load_state_dict(opt)
        if scaler is not None:
            self.scaler.load_state_dict(scaler)
        self.sample_gen.set_state(gen)

    @torch.no_grad()
    def eval_psnr(self) -> float:
        pred = self.model(self.eval_uv)
        return _psnr(pred, self.eval_ref)


def train_shading(
    image: np.ndarray | str | Path,
    cfg: ShadingTrainConfig,
    *,
    name: str = "shading",
    progress: bool | Callable[[TrainProgress], None] = True,
    log: Callable[[str], None] | None = None,
    exact_metrics: bool = True,
) -> TrainResult:
    """Train on ``image`` (a path or float32 RGB (H, W, 3) in [0, 1]) and return the asset.

    ``progress``: True for a tqdm bar, or a callback that gets a TrainProgress at every evaluation (the CLI's
    bar or plain lines, ngsdk.cli.progress).

    With ``exact_metrics`` the final PSNR is measured on runtime_ref's exact fp16 decode of the
    whole image (what engines show), and its hash is recorded for ``ngsdk verify``.
    """
    log = log or (lambda s: None)
    sources = {}
    if not isinstance(image, np.ndarray):
        path = Path(image)
        sources[path.name] = sha256_file(path)
        image = load_image(path)
    torch.manual_seed(cfg.seed)
    old_threads = torch.get_num_threads()
    try:
        if pick_device(cfg.device).type == "cpu":
            torch.set_num_threads(cfg.threads or max(1, min(old_threads, cfg.batch_size // 16384)))
        return _train(image, cfg, name, progress, log, exact_metrics, sources)
    finally:
        torch.set_num_threads(old_threads)


def _train(
    image: np.ndarray,
    cfg: ShadingTrainConfig,
    name: str,
    progress: bool | Callable[[TrainProgress], None],
    log: Callable[[str], None],
    exact_metrics: bool,
    sources: dict[str, str],
) -> TrainResult:
    tr = _Trainer(image, cfg)
    log(
        f"device {tr.device}, numerics {tr.numerics}, {tr.model.encoding.features} inputs -> "
        f"{cfg.layers}x{cfg.hidden} {cfg.activation} -> 3, batch {cfg.batch_size}"
    )
    bar = None
    report = progress if callable(progress) else None
    if progress is True:
        from tqdm import tqdm

        bar = tqdm(total=cfg.steps if cfg.steps else None, unit="step", dynamic_ncols=True, leave=True)
    history: list[dict[str, float]] = []
    if cfg.warmup_steps:
        t_w = time.perf_counter()
        tr.warm_up(cfg.warmup_steps, cfg.lr)
        log(f"warm-up: {cfg.warmup_steps} steps in {time.perf_counter() - t_w:.1f} s (not counted)")
    # the training clock excludes evaluations, so budgets and PSNR-vs-time measure training only
    t0 = time.perf_counter()
    paused = 0.0
    last_eval = t0
    marks = sorted(cfg.eval_at)
    step = 0
    psnr = float("nan")

    def evaluate(train_seconds: float) -> float:
        nonlocal paused
        t_e = time.perf_counter()
        value = tr.eval_psnr()
        history.append({"seconds": train_seconds, "step": step, "psnr": value})
        paused += time.perf_counter() - t_e
        return value

    while True:
        elapsed = time.perf_counter() - t0 - paused
        if cfg.steps is not None and step >= cfg.steps:
            break
        if cfg.time_budget is not None and elapsed >= cfg.time_budget:
            break
        if marks and elapsed >= marks[0]:
            tr.sync()
            while marks and elapsed >= marks[0]:
                marks.pop(0)
            psnr = evaluate(time.perf_counter() - t0 - paused)
        if cfg.lr_schedule == "seed":
            lr = seed_learning_rate(step + 1, cfg.lr, cfg.lr_min)
        elif cfg.lr_schedule == "constant":
            lr = cfg.lr
        else:
            frac = [step / cfg.steps] if cfg.steps else []
            if cfg.time_budget:
                frac.append(elapsed / cfg.time_budget)
            lr = _budget_lr(max(frac), cfg.lr, cfg.lr_min)
        tr.step(lr)
        step += 1
        if bar is not None:
            bar.update(1)
        now = time.perf_counter()
        if now - last_eval - paused >= cfg.eval_every:
            psnr = evaluate(now - t0 - paused)
            last_eval = now - paused
            if bar is not None:
                bar.set_postfix_str(f"PSNR {psnr:.2f} dB")
            if report is not None:
                report(TrainProgress(step, cfg.steps, now - t0 - paused, psnr, "train"))
    tr.sync()
    seconds = time.perf_counter() - t0 - paused
    psnr = evaluate(seconds)
    if bar is not None:
        bar.set_postfix_str(f"PSNR {psnr:.2f} dB")
        bar.close()
    final_scale = float(tr.scaler.get_scale()) if tr.scaler is not None else 1.0
    log(
        f"trained {step} steps in {seconds:.1f} s, PSNR {psnr:.2f} dB on {len(tr.eval_uv)} texels "
        f"(torch, {tr.numerics}), loss scale {final_scale:g}"
    )

    tr.model.eval()
    enc = tr.model.encoding
    metrics: dict[str, Any] = {
        "steps": step,
        "train_seconds": round(seconds, 3),
        "psnr_train_eval": round(psnr, 4),
        "loss_scale": final_scale,
        "numerics": tr.numerics,
        "device": str(tr.device),
    }
    asset = ShadingMlpAsset(
        name=name,
        width=tr.width,
        height=tr.height,
        encoding=enc,
        decoder=tr.model.to_decoder(),
        provenance=Provenance(
            ngsdk_version=__version__,
            config=_config_dict(cfg),
            seed=cfg.seed,
            sources=sources,
            metrics=metrics,
        ),
        transform=cfg.transform,
        target_filter=cfg.target_filter,
    )
    result = TrainResult(
        asset=asset, model=tr.model, steps=step, seconds=seconds, history=history, metrics=metrics
    )
    if exact_metrics:
        from ngsdk.runtime_ref.shading_mlp import decode_image, reference_image
        from ngsdk.runtime_ref.shading_mlp import psnr as np_psnr

        t1 = time.perf_counter()
        ref = reference_image(image, tr.width, tr.height, cfg.transform, cfg.target_filter)
        dec = decode_image(asset, "fp16")
        dec32 = decode_image(asset, "fp32")
        metrics["psnr_fp16"] = round(float(np_psnr(dec, ref)), 4)
        metrics["psnr_fp32"] = round(float(np_psnr(dec32, ref)), 4)
        asset.provenance.reference_decode["fp16"] = decode_hash(dec)
        asset.provenance.reference_decode["fp32"] = decode_hash(dec32)
        result.reference, result.decoded = ref, dec
        log(
            f"exact decode ({time.perf_counter() - t1:.1f} s): PSNR {metrics['psnr_fp16']:.2f} dB fp16, "
            f"{metrics['psnr_fp32']:.2f} dB fp32"
        )
    return result


def _config_dict(cfg: ShadingTrainConfig) -> dict[str, Any]:
    skip = ("eval_every", "eval_texels", "eval_at", "warmup_steps")
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(cfg).items() if k not in skip}

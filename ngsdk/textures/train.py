"""Training of neural textures: a texture set in, a :class:`NeuralTextureAsset` out.

Latent quantization-aware training: uniform noise of one quantization step first, then
straight-through rounding, so the exported codes are exactly what the decoder saw. The last
phase's decoder is evaluated with the strict arithmetic of the asset's decode mode; its hashes
and metrics go into the provenance.

Decode modes ``exact`` and ``hardware`` train against each channel's stored colour space (the
decoder outputs UNORM8 bytes) and switch, after the float warm-up, to the integer decoder itself
(:meth:`NeuralTextureModel.forward_int`, straight-through gradients), so the trained model is
the decoded model bit for bit.

Speed (docs/benchmarks.md, "Neural texture training speed"): one step is a fixed sequence of tensor
operations with static shapes and no host synchronisation (samples are drawn on the device, the
learning rate lives in a device tensor), so on CUDA each phase's step is captured once as a CUDA
graph and replayed; the host only checks the clock between chunks of steps.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ngsdk import __version__
from ngsdk.asset.digest import decode_hash
from ngsdk.asset.neural_texture import Encoding, FeatureGrid, NeuralTextureAsset, SamplerState
from ngsdk.asset.types import INTEGER_DECODE_MODES, Decoder, DecoderLayer, Provenance, QuantizedDecoder
from ngsdk.textures.checkpoint import load_checkpoint, save_checkpoint
from ngsdk.textures.config import TextureTrainConfig, layout_for, plan_grids
from ngsdk.textures.ingest import TextureSet
from ngsdk.textures.loss_weights import check_loss_weights
from ngsdk.textures.metrics import texture_metrics
from ngsdk.textures.mips import build_mips
from ngsdk.textures.model import NeuralTextureModel
from ngsdk.textures.stored import bytes_to_linear, stored_targets
from ngsdk.textures.strict import strict_decode_mip
from ngsdk.training import TrainProgress, pick_device, setup_determinism, triton_available

CHUNK_STEPS = 25
"""CUDA: steps replayed between two looks at the clock (the learning rate is set once per chunk)."""


@dataclass
class TrainResult:
    asset: NeuralTextureAsset
    steps: int
    seconds: float
    history: list[dict[str, float]] = field(default_factory=list)
    decoded_mip0: np.ndarray | None = None
    source_mip0: np.ndarray | None = None
    samples: int = 0
    """Training samples drawn (steps x batch)."""


def channel_weights(ts: TextureSet, weights: dict[str, float]) -> torch.Tensor:
    """Per-channel loss weights from ``NAME=W`` entries naming a channel or a texture (semantic);
    unknown names are refused (:func:`ngsdk.textures.loss_weights.check_loss_weights`)."""
    check_loss_weights(ts.channels, weights)
    w = [float(weights.get(ch.name, weights.get(ch.semantic, 1.0))) for ch in ts.channels]
    return torch.tensor(w, dtype=torch.float32)


class _Sampler:
    """Draws training batches on the device: mip by area-falloff probability, texel uniformly within it."""

    def __init__(self, mips: list[np.ndarray], targets: list[np.ndarray], cfg: TextureTrainConfig,
                 device: torch.device):
        nch = targets[0].shape[-1]
        self.flat = torch.from_numpy(np.concatenate([m.reshape(-1, nch) for m in targets])).to(device)
        self.w = torch.tensor([m.shape[1] for m in mips], device=device)
        self.h = torch.tensor([m.shape[0] for m in mips], device=device)
        self.off = torch.tensor(np.cumsum([0] + [m.shape[0] * m.shape[1] for m in mips])[:-1], device=device)
        probs = np.array([cfg.mip_falloff ** m for m in range(len(mips))], dtype=np.float64)
        cdf = np.cumsum(probs / probs.sum())
        cdf[-1] = 1.0
        self.cdf = torch.tensor(cdf, dtype=torch.float32, device=device)
        self.mips = len(mips)

    def draw(self, batch: int, gen: torch.Generator | None):
        device = self.cdf.device
        mip = torch.searchsorted(self.cdf, torch.rand(batch, generator=gen, device=device)).clamp_(max=self.mips - 1)
        r = torch.rand(batch, generator=gen, device=device)
        w, h = self.w[mip], self.h[mip]
        n = w * h
        idx = (r * n.float()).long().minimum(n - 1)
        ix, iy = idx % w, idx // w
        u = (ix.float() + 0.5) / w.float()
        v = (iy.float() + 0.5) / h.float()
        return mip, ix, iy, u, v, self.flat[self.off[mip] + idx]


class _Stepper:
    """One optimisation step per phase; on CUDA (``cfg.cuda_graphs``) captured as a graph and replayed."""

    def __init__(self, model: NeuralTextureModel, sampler: _Sampler, cw: torch.Tensor, cfg: TextureTrainConfig,
                 device: torch.device, batch: int):
        self.model, self.sampler, self.cw, self.batch = model, sampler, cw, batch
        self.graphs = device.type == "cuda" and cfg.cuda_graphs
        if cfg.fused_sampling and device.type == "cuda":
            pow2 = all(g.cfg.features & (g.cfg.features - 1) == 0 for g in model.grids)
            model.fused = triton_available(device) and pow2
        latents = [g.values for g in model.grids]
        self.base_lrs = [cfg.lr_latents, cfg.resolved_lr_decoder]
        groups = [{"params": latents, "lr": cfg.lr_latents}, {"params": list(model.mlp.parameters()),
                                                             "lr": cfg.resolved_lr_decoder}]
        if self.graphs:
            for g in groups:
                g["lr"] = torch.tensor(g["lr"], dtype=torch.float32, device=device)
            self.opt = torch.optim.Adam(groups, betas=(0.9, 0.99), eps=1e-9, capturable=True, foreach=True)
            # captured graphs draw from the device's default generator
            torch.cuda.manual_seed(cfg.seed + 1)
            self.gen = None
        else:
            self.opt = torch.optim.Adam(groups, betas=(0.9, 0.99), eps=1e-9)
            self.gen = torch.Generator(device=device).manual_seed(cfg.seed + 1)
        self._captured: dict[str, torch.cuda.CUDAGraph | None] = {}
        self.params = list(model.parameters())
        self.ema_decay = cfg.ema
        self.ema: list[torch.Tensor] | None = None

    def start_ema(self) -> None:
        """Average the parameters from here on (before the phase that updates the average is captured)."""
        if self.ema_decay is not None and self.ema is None:
            self.ema = [p.detach().clone() for p in self.params]

    def use_ema(self) -> None:
        if self.ema is not None:
            with torch.no_grad():
                torch._foreach_copy_(self.params, self.ema)

    def set_lr(self, scale: float) -> None:
        for g, base in zip(self.opt.param_groups, self.base_lrs):
            if torch.is_tensor(g["lr"]):
                g["lr"].fill_(base * scale)
            else:
                g["lr"] = base * scale

    def _step(self, phase: str) -> None:
        mip, ix, iy, u, v, target = self.sampler.draw(self.batch, self.gen)
        if phase == "qat":
            pred = self.model.forward_int(mip, ix, iy, "ste") / 255.0
        else:
            pred = self.model(mip, u, v, phase, self.gen)
        loss = torch.mean((pred - target) ** 2 * self.cw)
        self.opt.zero_grad(set_to_none=not self.graphs)
        loss.backward()
        self.opt.step()
        with torch.no_grad():
            for g in self.model.grids:
                g.values.clamp_(-1.0, 1.0)
            if self.ema is not None:       # set from the first integer/STE step on
                torch._foreach_lerp_(self.ema, self.params, 1.0 - self.ema_decay)

    def run(self, phase: str, steps: int) -> None:
        """``steps`` optimisation steps of ``phase`` (``noise``, ``ste`` or ``qat``)."""
        if not self.graphs:
            for _ in range(steps):
                self._step(phase)
            return
        if phase not in self._captured:
            # warm up on a side stream (allocations, autograd state), then capture one step
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                for _ in range(2):
                    self._step(phase)
            torch.cuda.current_stream().wait_stream(side)
            steps -= 2
            graph = torch.cuda.CUDAGraph()
            try:
                with torch.cuda.graph(graph):
                    self._step(phase)
            except RuntimeError as e:
                # an op that cannot be captured: keep training, one launch at a time
                warnings.warn(f"CUDA graph capture of the {phase} step failed ({str(e).splitlines()[0]}); "
                              "running it without graphs", RuntimeWarning, stacklevel=2)
                graph = None
            self._captured[phase] = graph
        graph = self._captured[phase]
        for _ in range(max(0, steps)):
            if graph is None:
                self._step(phase)
            else:
                graph.replay()


def train_texture(
    ts: TextureSet,
    cfg: TextureTrainConfig,
    *,
    progress: Callable[[TrainProgress], None] | None = None,
    checkpoint: str | Path | None = None,
    resume: str | Path | None = None,
    log: Callable[[str], None] | None = None,
) -> TrainResult:
    """Fit a neural texture to ``ts``. Stops at ``cfg.steps``, ``cfg.time_budget`` or a PSNR plateau.

    Deterministic for a fixed ``cfg.seed`` and ``cfg.steps`` on the same machine (a time budget
    ends the run by the clock, so its step count can vary).
    """
    if cfg.steps is None and cfg.time_budget is None:
        raise ValueError("give --steps or --time-budget (or both)")
    log = log or (lambda s: None)
    device = pick_device(cfg.device)
    torch.manual_seed(cfg.seed)
    setup_determinism(device)
    nch = len(ts.channels)
    cw = channel_weights(ts, cfg.loss_weights).to(device)
    mips = build_mips(ts.data)
    if not cfg.grids:
        cfg.grids = plan_grids(ts.width, ts.height, nch, cfg)
    cfg.check()
    plan = layout_for(cfg.grids, len(mips), cfg)
    integer = cfg.decode_mode in INTEGER_DECODE_MODES
    qat_start = cfg.noise_fraction if cfg.qat_start is None else cfg.qat_start
    # integer modes output bytes in each channel's stored colour space: train against those values
    targets = [stored_targets(m, ts.channels) for m in mips] if integer else mips
    model = NeuralTextureModel(cfg, plan, ts.width, ts.height, nch, cfg.seed, targets[0]).to(device)
    sampler = _Sampler(mips, targets, cfg, device)
    batch = cfg.resolved_batch(device.type)
    stepper = _Stepper(model, sampler, cw, cfg, device, batch)

    step, elapsed_before = 0, 0.0
    history: list[dict[str, float]] = []
    if resume is not None:
        step, elapsed_before, history, ema = load_checkpoint(resume, model, stepper.opt, stepper.gen)
        if ema and cfg.ema is not None:
            stepper.ema = ema
        log(f"resumed from {resume} at step {step}")

    eval_idx = torch.randint(0, mips[0].shape[0] * mips[0].shape[1], (1 << 14,),
                             generator=torch.Generator().manual_seed(cfg.seed + 2)).to(device)
    best, since_best = -math.inf, 0
    t0 = time.perf_counter() - elapsed_before
    phase = "noise"
    chunk = CHUNK_STEPS if stepper.graphs else 1

    def fraction() -> float:
        f = 0.0
        if cfg.steps:
            f = max(f, step / cfg.steps)
        if cfg.time_budget:
            f = max(f, (time.perf_counter() - t0) / cfg.time_budget)
        return min(1.0, f)

    def eval_psnr() -> float:
        with torch.no_grad():
            w0 = mips[0].shape[1]
            iy, ix = eval_idx // w0, eval_idx % w0
            zero = torch.zeros_like(eval_idx)
            if integer and model.calibrated:
                pred = model.forward_int(zero, ix, iy, "hard") / 255.0
            else:
                u = (ix.float() + 0.5) / w0
                v = (iy.float() + 0.5) / mips[0].shape[0]
                pred = model(zero, u, v, "hard").clamp(0, 1)
            mse = torch.mean((pred - sampler.flat[eval_idx]) ** 2).item()
        return 10 * math.log10(1.0 / max(mse, 1e-12))

    next_eval = (step // cfg.eval_every + 1) * cfg.eval_every
    while True:
        frac = fraction()
        if frac >= 1.0:
            break
        if integer:
            phase = "noise" if frac < qat_start else "qat"
        else:
            phase = "noise" if frac < cfg.noise_fraction else "ste"
        if phase == "qat" and not model.calibrated:
            mip, ix, iy, u, v, _ = sampler.draw(batch, stepper.gen)
            model.calibrate(mip, u, v)
            log(f"step {step}: integer decoder training starts (activation scales "
                f"per unit, layer maxima {', '.join(f'{float(x.max()):.4g}' for x in model.act_scales)})")
        if phase in ("qat", "ste"):
            stepper.start_ema()
        stepper.set_lr(0.5 * (1 + math.cos(math.pi * frac)) * 0.95 + 0.05)
        n = chunk
        if cfg.steps:
            n = min(n, cfg.steps - step)
        n = min(n, next_eval - step)
        stepper.run(phase, n)
        step += n
        if stepper.graphs:
            torch.cuda.synchronize(device)
        if step >= next_eval:
            next_eval += cfg.eval_every
            psnr = eval_psnr()
            history.append({"step": step, "seconds": time.perf_counter() - t0, "psnr": psnr})
            if progress:
                progress(TrainProgress(step, cfg.steps, time.perf_counter() - t0, psnr, phase))
            if cfg.early_stop_patience and phase in ("ste", "qat"):
                if psnr > best + 0.05:
                    best, since_best = psnr, 0
                else:
                    since_best += 1
                    if since_best >= cfg.early_stop_patience:
                        log(f"early stop at step {step}: PSNR plateau at {best:.2f} dB")
                        break
            if checkpoint is not None:
                save_checkpoint(checkpoint, model, stepper.opt, stepper.gen, step, time.perf_counter() - t0,
                                history, stepper.ema)
    seconds = time.perf_counter() - t0
    if integer and not model.calibrated:
        # the run ended before the integer phase: calibrate on mip-0 texel centres so it still exports
        w0, h0 = mips[0].shape[1], mips[0].shape[0]
        iy, ix = eval_idx // w0, eval_idx % w0
        model.calibrate(torch.zeros_like(eval_idx), (ix.float() + 0.5) / w0, (iy.float() + 0.5) / h0)
    if checkpoint is not None:
        save_checkpoint(checkpoint, model, stepper.opt, stepper.gen, step, seconds, history, stepper.ema)
    stepper.use_ema()       # after the checkpoint: a resumed run goes on from the trained parameters
    asset = to_asset(model, ts, cfg)
    decoded0 = finalize_provenance(asset, mips, device)
    # deterministic facts of the run for `ngsdk verify`'s training check (convergence): the steps and the
    # evaluation PSNRs, no wall-clock times (same --seed and --steps must give the same bytes)
    asset.provenance.metrics["steps"] = step
    asset.provenance.metrics["eval_psnr"] = [[int(h["step"]), round(float(h["psnr"]), 4)] for h in history]
    return TrainResult(asset=asset, steps=step, seconds=seconds, history=history, decoded_mip0=decoded0,
                       source_mip0=mips[0], samples=step * batch)


def to_asset(model: NeuralTextureModel, ts: TextureSet, cfg: TextureTrainConfig) -> NeuralTextureAsset:
    """Freeze the model into the asset interface: integer codes, fp32 decoder, encoding."""
    grids = []
    for grid in model.grids:
        grids.append(FeatureGrid(
            name=grid.cfg.name, features=grid.cfg.features, bits=grid.cfg.bits,
            scale=float(np.float32(grid.scale)), offset=float(np.float32(grid.offset)),
            levels=[c.numpy() for c in grid.codes()],
        ))
    linears = [m for m in model.mlp if isinstance(m, torch.nn.Linear)]
    if cfg.decode_mode in INTEGER_DECODE_MODES:
        with torch.no_grad():
            params = model.int_params()
        q = QuantizedDecoder(
            layers=[p.to_layer("relu" if i < len(params) - 1 else "clamp01") for i, p in enumerate(params)],
            period_log2=list(model.periods), phase=list(model.phase_units),
            input_scales=[float(x) for x in model.input_scales.cpu()], reference_profile="d3d11",
        )
        decoder = Decoder.from_quantized(q)
    else:
        layers = []
        for i, lin in enumerate(linears):
            act = cfg.activation if i < len(linears) - 1 else "clamp01"
            layers.append(DecoderLayer(lin.weight.detach().cpu().numpy(), lin.bias.detach().cpu().numpy(), act))
        decoder = Decoder(layers=layers)
    cfg_dict = cfg.to_dict()
    return NeuralTextureAsset(
        name=ts.name,
        width=ts.width,
        height=ts.height,
        channels=list(ts.channels),
        grids=grids,
        taps=model.taps,
        lod_inputs=model.lod_inputs,
        decoder=decoder,
        encoding=Encoding(kind="triangle", frequencies=[float(f) for f in model.frequencies],
                          phases=list(model.phases)),
        sampler=SamplerState(filter="bilinear", address="wrap" if cfg.address == "wrap" else "clamp"),
        provenance=Provenance(ngsdk_version=__version__, config=cfg_dict, seed=cfg.seed,
                              sources=dict(ts.sources)),
        decode_mode=cfg.decode_mode,
    )


def finalize_provenance(asset: NeuralTextureAsset, mips: list[np.ndarray],
                        device: torch.device | str = "cpu") -> np.ndarray:
    """Decode every mip with the strict arithmetic; record hashes, PSNR and bpp; return mip 0."""
    per_mip: list[dict[str, Any]] = []
    decoded0 = None
    for m in range(asset.mip_levels):
        decoded = strict_decode_mip(asset, m, device=device).numpy()
        # integer modes: sha256 of the bytes as float32 values (decode_hash), metrics on linear values
        asset.provenance.reference_decode[f"mip{m}"] = decode_hash(decoded)
        if decoded.dtype == np.uint8:
            decoded = bytes_to_linear(decoded, asset.channels)
        if m == 0:
            decoded0 = decoded
        per_mip.append(texture_metrics(decoded, mips[m], asset.channels, perceptual=m == 0))
    asset.provenance.metrics = {
        "bpp": asset.bits_per_texel(),
        "psnr_db": per_mip[0]["overall_db"],
        "per_mip": per_mip,
    }
    return decoded0

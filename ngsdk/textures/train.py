"""Training of neural textures: a texture set in, a :class:`NeuralTextureAsset` out.

Latent quantization-aware training: uniform noise of one quantization step first (annealed
away over ``noise_fraction`` of the run), then straight-through rounding, so the exported
codes are exactly what the decoder saw. The last phase's decoder is evaluated with the strict
arithmetic of the asset's decode mode; its hashes and metrics go into the provenance.

Decode modes ``exact`` and ``hardware`` train against each channel's stored colour space (the
decoder outputs UNORM8 bytes) and switch, after the float warm-up, to the integer decoder itself
(:meth:`NeuralTextureModel.forward_int`, straight-through gradients), so the trained model is
the decoded model bit for bit.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ngsdk import __version__
from ngsdk.asset.digest import decode_hash
from ngsdk.asset.types import (
    Decoder,
    DecoderLayer,
    Encoding,
    FeatureGrid,
    NeuralTextureAsset,
    Provenance,
    QuantizedDecoder,
    SamplerState,
)
from ngsdk.textures.checkpoint import load_checkpoint, save_checkpoint
from ngsdk.textures.config import TextureTrainConfig, plan_grids
from ngsdk.textures.ingest import TextureSet
from ngsdk.textures.metrics import texture_metrics
from ngsdk.textures.mips import build_mips
from ngsdk.textures.model import NeuralTextureModel
from ngsdk.textures.stored import bytes_to_linear, stored_targets
from ngsdk.textures.strict import strict_decode_mip
from ngsdk.training import TrainProgress, pick_device, setup_determinism


@dataclass
class TrainResult:
    asset: NeuralTextureAsset
    steps: int
    seconds: float
    history: list[dict[str, float]] = field(default_factory=list)
    decoded_mip0: np.ndarray | None = None
    source_mip0: np.ndarray | None = None


def _channel_weights(ts: TextureSet, weights: dict[str, float]) -> torch.Tensor:
    w = []
    for ch in ts.channels:
        group = ch.semantic
        w.append(float(weights.get(ch.name, weights.get(group, 1.0))))
    return torch.tensor(w, dtype=torch.float32)


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
    if not cfg.grids:
        cfg.grids = plan_grids(ts.width, ts.height, nch, cfg)
    cfg.check()
    integer = cfg.decode_mode in ("exact", "hardware")
    qat_start = cfg.noise_fraction if cfg.qat_start is None else cfg.qat_start
    model = NeuralTextureModel(cfg, ts.width, ts.height, nch, cfg.seed).to(device)

    mips = build_mips(ts.data)
    # integer modes output bytes in each channel's stored colour space: train against those values
    targets = [stored_targets(m, ts.channels) for m in mips] if integer else mips
    flat = torch.from_numpy(np.concatenate([m.reshape(-1, nch) for m in targets])).to(device)
    mip_w = torch.tensor([m.shape[1] for m in mips], device=device)
    mip_h = torch.tensor([m.shape[0] for m in mips], device=device)
    mip_off = torch.tensor(np.cumsum([0] + [m.shape[0] * m.shape[1] for m in mips])[:-1], device=device)
    probs = torch.tensor([cfg.mip_falloff**m for m in range(len(mips))], dtype=torch.float64)
    probs = (probs / probs.sum()).to(device)
    cw = _channel_weights(ts, cfg.loss_weights).to(device)

    latents = [g.values for g in model.grids]
    opt = torch.optim.Adam(
        [{"params": latents, "lr": cfg.lr_latents}, {"params": model.mlp.parameters(), "lr": cfg.lr_decoder}],
        betas=(0.9, 0.99), eps=1e-9,
    )
    base_lrs = [g["lr"] for g in opt.param_groups]
    gen = torch.Generator(device=device).manual_seed(cfg.seed + 1)
    step, elapsed_before = 0, 0.0
    history: list[dict[str, float]] = []
    if resume is not None:
        step, elapsed_before, history = load_checkpoint(resume, model, opt, gen)
        log(f"resumed from {resume} at step {step}")

    eval_idx = torch.randint(0, mips[0].shape[0] * mips[0].shape[1], (1 << 14,),
                             generator=torch.Generator().manual_seed(cfg.seed + 2)).to(device)
    best, since_best = -math.inf, 0
    t0 = time.perf_counter() - elapsed_before
    phase = "noise"

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
            mse = torch.mean((pred - flat[eval_idx]) ** 2).item()
        return 10 * math.log10(1.0 / max(mse, 1e-12))

    while True:
        frac = fraction()
        if frac >= 1.0:
            break
        if integer:
            phase = "noise" if frac < qat_start else "qat"
        else:
            phase = "noise" if frac < cfg.noise_fraction else "ste"
        lr_scale = 0.5 * (1 + math.cos(math.pi * frac)) * 0.95 + 0.05
        for g, base in zip(opt.param_groups, base_lrs):
            g["lr"] = base * lr_scale
        mip = torch.multinomial(probs, cfg.batch_size, replacement=True, generator=gen)
        r = torch.rand(cfg.batch_size, generator=gen, device=device)
        idx = (r * (mip_w[mip] * mip_h[mip]).float()).long().minimum(mip_w[mip] * mip_h[mip] - 1)
        ix, iy = idx % mip_w[mip], idx // mip_w[mip]
        u = (ix.float() + 0.5) / mip_w[mip].float()
        v = (iy.float() + 0.5) / mip_h[mip].float()
        target = flat[mip_off[mip] + idx]
        if phase == "qat":
            if not model.calibrated:
                model.calibrate(mip, u, v)
                log(f"step {step}: integer decoder training starts (activation scales "
                    f"{', '.join(f'{float(x):.4g}' for x in model.act_scales)})")
            pred = model.forward_int(mip, ix, iy, "ste") / 255.0
        else:
            pred = model(mip, u, v, phase, gen)
        loss = torch.mean((pred - target) ** 2 * cw)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        for g in model.grids:
            g.clamp_()
        step += 1
        if step % cfg.eval_every == 0:
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
                save_checkpoint(checkpoint, model, opt, gen, step, time.perf_counter() - t0, history)
    seconds = time.perf_counter() - t0
    if integer and not model.calibrated:
        # the run ended before the integer phase: calibrate on mip-0 texel centres so it still exports
        w0, h0 = mips[0].shape[1], mips[0].shape[0]
        iy, ix = eval_idx // w0, eval_idx % w0
        model.calibrate(torch.zeros_like(eval_idx), (ix.float() + 0.5) / w0, (iy.float() + 0.5) / h0)
    if checkpoint is not None:
        save_checkpoint(checkpoint, model, opt, gen, step, seconds, history)
    asset = to_asset(model, ts, cfg)
    decoded0 = finalize_provenance(asset, mips)
    return TrainResult(asset=asset, steps=step, seconds=seconds, history=history, decoded_mip0=decoded0,
                       source_mip0=mips[0])


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
    if cfg.decode_mode in ("exact", "hardware"):
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
        grid_levels=model.grid_levels,
        decoder=decoder,
        encoding=Encoding(kind="triangle", frequencies=[float(f) for f in model.frequencies],
                          phases=list(model.phases)),
        sampler=SamplerState(filter="bilinear", address="wrap" if cfg.address == "wrap" else "clamp"),
        provenance=Provenance(ngsdk_version=__version__, config=cfg_dict, seed=cfg.seed,
                              sources=dict(ts.sources)),
        decode_mode=cfg.decode_mode,
    )


def finalize_provenance(asset: NeuralTextureAsset, mips: list[np.ndarray]) -> np.ndarray:
    """Decode every mip with the strict arithmetic; record hashes, PSNR and bpp; return mip 0."""
    per_mip: list[dict[str, Any]] = []
    decoded0 = None
    for m in range(asset.mip_levels):
        decoded = strict_decode_mip(asset, m).numpy()
        # integer modes: sha256 of the bytes as float32 values (decode_hash), metrics on linear values
        asset.provenance.reference_decode[f"mip{m}"] = decode_hash(decoded)
        if decoded.dtype == np.uint8:
            decoded = bytes_to_linear(decoded, asset.channels)
        if m == 0:
            decoded0 = decoded
        per_mip.append(texture_metrics(decoded, mips[m], asset.channels))
    asset.provenance.metrics = {
        "bpp": asset.bits_per_texel(),
        "psnr_db": per_mip[0]["overall_db"],
        "per_mip": per_mip,
    }
    return decoded0

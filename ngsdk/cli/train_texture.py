"""``ngsdk train texture``: neural texture compression of a PBR material folder."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ngsdk.asset.types import DECODE_MODES
from ngsdk.cli.common import DEVICE, FILE_ONLY, friendly_errors, log, verbosity_options
from ngsdk.cli.config_file import config_option

# config field -> (option key, value converter): the replay of a bundle's training (ngsdk.cli.replay)
REPLAY: dict[str, tuple[str, Callable[[Any], Any] | None]] = {
    "bpp": ("bpp", None), "steps": ("steps", None), "time_budget": ("time-budget", None),
    "seed": ("seed", None), "device": ("device", None), "latent_bits": ("latent-bits", str),
    "decode_mode": ("decode", None), "qat_start": ("qat-start", None), "hidden": ("hidden", None),
    "batch_size": ("batch-size", None), "address": ("tiling", lambda a: a == "wrap"),
    "loss_weights": ("loss-weight", lambda w: [f"{k}={v:g}" for k, v in w.items()]),
    "early_stop_patience": ("early-stop", None),
}


def default_config() -> dict[str, Any]:
    """The trainer's default configuration (replay notes the recorded fields no option sets that differ)."""
    from ngsdk.textures.config import TextureTrainConfig

    return TextureTrainConfig().to_dict()


def _parse_weights(items: tuple[str, ...]) -> dict[str, float]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            raise click.BadParameter(f"{item!r}: expected NAME=WEIGHT, e.g. albedo=2",
                                     param_hint="'--loss-weight'") from None
    return out


@click.command("texture")
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="Bundle folder to write (NAME.ngasset).")
@click.option("--bpp", default=None, type=click.FloatRange(0.5, 32), show_default="5",
              help="Bits per texel, mips and decoder included (presets 1-20; the actual figure is reported).")
@click.option("--target-psnr", type=click.FloatRange(1, 99), metavar="DB",
              help="Instead of --bpp: the smallest preset rate whose mip-0 PSNR reaches DB dB (a binary search "
                   "over the presets, a few trainings of --time-budget/--steps each).")
@click.option("--steps", type=click.IntRange(1), help="Training steps (reproducible runs use --steps).")
@click.option("--time-budget", type=click.FloatRange(1), show_default="60 s when --steps is not given",
              help="Stop after this many seconds of training.")
@click.option("--seed", default=0, type=int, help="Seed of initialisation, batches and quantization noise.")
@click.option("--device", default="auto", type=DEVICE, help="auto, cpu, cuda or cuda:N (the N-th GPU).")
@click.option("--latent-bits", default=None, type=click.Choice(["2", "4", "8"]),
              show_default="4; 8 with --decode hardware, which requires it", help="Bits per latent code.")
@click.option("--decode", "decode_mode", default="exact",
              type=click.Choice(DECODE_MODES),
              help="Decode mode the model is trained in and shipped with (docs/decode-spec.md): exact = integer "
                   "decode, bit-identical on every engine; hardware = texture-filtered 8-bit latents + integer "
                   "MLP; float = strict fp32 reference.")
@click.option("--qat-start", type=click.FloatRange(0, 1), show_default="the latent-noise fraction, 0.8",
              help="exact/hardware: fraction of the run after which the integer decoder itself trains.")
@click.option("--hidden", default=64, type=click.IntRange(8, 256),
              help="Decoder hidden width (128: about +0.5 dB at 5 bpp for 3.5x the decode multiply-adds).")
@click.option("--hidden-layers", default=3, type=click.IntRange(1, 6), help="Decoder hidden layers.")
@click.option("--latent-features", default=0, type=click.IntRange(0, 64), show_default="0: one RGBA8 texel",
              help="Features per latent texel (the default 4-bit latents: 8).")
@click.option("--batch-size", default=None, type=click.IntRange(256), show_default="131072 on CUDA, 8192 on the CPU",
              help="Texels per training step.")
@click.option("--tiling/--no-tiling", default=True, help="Seamless tiling (latents wrap around).")
@click.option("--loss-weight", "loss_weights", multiple=True, metavar="NAME=W",
              help="Loss weight of a texture (albedo) or channel (albedo.r), repeatable; an unknown name is an "
                   "error listing the material's names.")
@click.option("--early-stop", default=0, type=click.IntRange(0),
              help="Stop after N evaluations without PSNR gain (0: off).")
@click.option("--channels", "channel_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Channel file overriding filename guessing.")
@click.option("--checkpoint", type=click.Path(path_type=Path),
              help="Write a resumable checkpoint here during training.")
@click.option("--resume", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Resume from a checkpoint.")
@click.option("--previews", type=click.Path(file_okay=False, path_type=Path),
              show_default="OUT_previews beside the bundle", help="Folder for preview PNGs.")
@click.option("--no-previews", is_flag=True, help="Skip preview pictures.")
@click.option("--log", "log_file", type=click.Path(dir_okay=False, path_type=Path),
              show_default="OUT.log beside the bundle", help="Log file.")
@config_option("train-texture")
@verbosity_options
@friendly_errors
def command(source: Path, out: Path, bpp: float | None, target_psnr: float | None, steps: int | None,
            time_budget: float | None, seed: int, device: str, latent_bits: str | None, decode_mode: str,
            qat_start: float | None, hidden: int, hidden_layers: int, latent_features: int,
            batch_size: int | None, tiling: bool,
            loss_weights: tuple[str, ...], early_stop: int, channel_file: Path | None,
            checkpoint: Path | None, resume: Path | None, previews: Path | None, no_previews: bool,
            log_file: Path | None) -> None:
    """Compress the material in SOURCE (a folder of maps) into a neural texture bundle.

    \b
    Example:
      ngsdk train texture ngsdk/samples/ground068_512 --out build/ground.ngasset --bpp 5 --time-budget 60
    """
    import torch  # noqa: F401 - without the train extra: one line naming it, before any work

    from ngsdk.cli.preflight import check_train_options, check_weights
    from ngsdk.cli.progress import log_file as logging_to
    from ngsdk.textures.config import TextureTrainConfig
    from ngsdk.textures.ingest import load_texture_set
    from ngsdk.textures.loss_weights import check_loss_weights

    if steps is None and time_budget is None:
        time_budget = 60.0
    if target_psnr is not None and bpp is not None:
        raise click.UsageError("give --bpp or --target-psnr, not both")
    weights = _parse_weights(loss_weights)
    check_weights(weights)
    check_train_options(out, checkpoint=checkpoint, resume=resume, log_file=log_file)
    with logging_to(log_file or out.with_name(out.name + ".log")):
        ts = load_texture_set(source, channel_file=channel_file)
        try:
            check_loss_weights(ts.channels, weights)
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="'--loss-weight'") from None
        log.info("source %s: %dx%d, %d channels (%s)", source, ts.width, ts.height, len(ts.channels),
                 ", ".join(c.name for c in ts.channels))
        for note in ts.notes:
            log.info("  note: %s", note)
        if latent_bits is None:
            latent_bits = "8" if decode_mode == "hardware" else "4"
        cfg = TextureTrainConfig(bpp=5.0 if bpp is None else bpp, latent_bits=int(latent_bits),
                                 decode_mode=decode_mode, qat_start=qat_start, hidden=hidden,
                                 hidden_layers=hidden_layers, latent_features=latent_features, steps=steps,
                                 time_budget=time_budget, batch_size=batch_size, seed=seed, device=device,
                                 address="wrap" if tiling else "clamp", loss_weights=weights,
                                 early_stop_patience=early_stop)
        if target_psnr is not None:
            if checkpoint is not None or resume is not None:
                raise click.UsageError("--target-psnr trains several models: it takes no --checkpoint/--resume")
            from ngsdk.textures.rate import train_to_target

            search = train_to_target(ts, cfg, target_psnr, train=lambda t, c: _train_with_progress(t, c, None, None),
                                     log=lambda s: log.info("%s", s))
            result = search.result
            if not search.reached:
                log.warning("no preset up to %.3g bpp reaches %.2f dB: kept the largest (%.2f dB)",
                            result.asset.provenance.metrics["bpp"], target_psnr,
                            result.asset.provenance.metrics["psnr_db"])
        else:
            result = _train_with_progress(ts, cfg, checkpoint, resume)
        from ngsdk.exporters.neural_texture import write_neural_texture

        asset = result.asset
        m = asset.provenance.metrics
        write_neural_texture(asset, out)
        log.info("wrote %s: %s decode, %.3f bpp, mip0 PSNR %.2f dB (%s), %d steps in %.1f s", out,
                 asset.decode_mode, m["bpp"], m["psnr_db"],
                 ", ".join(f"{k} {v:.2f}" for k, v in m["per_mip"][0]["textures_db"].items()),
                 result.steps, result.seconds)
        if not no_previews:
            from ngsdk.textures.previews import write_previews

            pdir = previews or out.with_name(out.name.removesuffix(".ngasset") + "_previews")
            files = write_previews(result.decoded_mip0, result.source_mip0, asset.channels, pdir)
            log.info("previews: %s (%d files)", pdir, len(files))
        log.info("summary: %s", json.dumps({"bpp": round(m["bpp"], 4), "psnr_db": round(m["psnr_db"], 3),
                                            "steps": result.steps, "seconds": round(result.seconds, 2)}),
                 extra=FILE_ONLY)


def _train_with_progress(ts, cfg, checkpoint, resume):  # noqa: ANN001, ANN202 - torch types stay lazy
    from ngsdk.cli.progress import TrainingProgress
    from ngsdk.textures.train import train_texture

    with TrainingProgress(cfg.steps, cfg.time_budget) as progress:
        return train_texture(ts, cfg, progress=progress, checkpoint=checkpoint, resume=resume,
                             log=lambda s: log.info("%s", s))

"""``ngsdk train texture``: neural texture compression of a PBR material folder."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ngsdk.cli.common import friendly_errors


def _parse_weights(items: tuple[str, ...]) -> dict[str, float]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            raise click.BadParameter(f"{item!r}: expected NAME=WEIGHT, e.g. albedo=2") from None
    return out


@click.command("texture")
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="Bundle folder to write (NAME.ngasset).")
@click.option("--bpp", default=5.0, show_default=True, type=click.FloatRange(0.5, 32), help="Target bits per texel (1-20 typical).")
@click.option("--steps", type=click.IntRange(1), help="Training steps (reproducible runs use --steps).")
@click.option("--time-budget", type=click.FloatRange(1), help="Stop after this many seconds of training.")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--device", default="auto", show_default=True, type=click.Choice(["auto", "cpu", "cuda"]))
@click.option("--latent-bits", default=None, type=click.Choice(["2", "4", "8"]),
              help="Bits per latent code (default 4; 8 for --decode hardware, which requires it).")
@click.option("--decode", "decode_mode", default="exact", show_default=True,
              type=click.Choice(["exact", "hardware", "float"]),
              help="Decode mode the model is trained in and shipped with (docs/decode-spec.md): exact = integer "
                   "decode, bit-identical on every engine; hardware = texture-filtered 8-bit latents + integer "
                   "MLP; float = strict fp32 reference.")
@click.option("--qat-start", type=click.FloatRange(0, 1), help="exact/hardware: fraction of the run after which "
              "the integer decoder itself trains (default: the latent-noise fraction, 0.6).")
@click.option("--hidden", default=64, show_default=True, type=click.IntRange(8, 256), help="Decoder hidden width.")
@click.option("--batch-size", default=1 << 14, show_default=True, type=click.IntRange(256))
@click.option("--tiling/--no-tiling", default=True, show_default=True, help="Seamless tiling (latents wrap around).")
@click.option("--loss-weight", "loss_weights", multiple=True, metavar="NAME=W", help="Per texture/channel loss weight, repeatable.")
@click.option("--early-stop", default=0, show_default=True, type=click.IntRange(0), help="Stop after N evaluations without PSNR gain (0: off).")
@click.option("--channels", "channel_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Channel file overriding filename guessing.")
@click.option("--checkpoint", type=click.Path(path_type=Path), help="Write a resumable checkpoint here during training.")
@click.option("--resume", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Resume from a checkpoint.")
@click.option("--previews", type=click.Path(file_okay=False, path_type=Path), help="Folder for preview PNGs (default: OUT_previews beside the bundle).")
@click.option("--no-previews", is_flag=True, help="Skip preview pictures.")
@click.option("--log", "log_file", type=click.Path(dir_okay=False, path_type=Path), help="Log file (default: OUT.log beside the bundle).")
@friendly_errors
def command(source: Path, out: Path, bpp: float, steps: int | None, time_budget: float | None, seed: int,
            device: str, latent_bits: str | None, decode_mode: str, qat_start: float | None, hidden: int,
            batch_size: int, tiling: bool,
            loss_weights: tuple[str, ...], early_stop: int, channel_file: Path | None,
            checkpoint: Path | None, resume: Path | None, previews: Path | None, no_previews: bool,
            log_file: Path | None) -> None:
    """Compress the material in SOURCE (a folder of maps) into a neural texture bundle."""
    from ngsdk.textures.config import TextureTrainConfig
    from ngsdk.textures.ingest import load_texture_set

    if steps is None and time_budget is None:
        time_budget = 60.0
    log_path = log_file or out.with_name(out.name + ".log")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    logf = open(log_path, "w", encoding="utf-8")

    def log(msg: str, echo: bool = True) -> None:
        logf.write(msg + "\n")
        logf.flush()
        if echo:
            click.echo(msg)

    ts = load_texture_set(source, channel_file=channel_file)
    log(f"source {source}: {ts.width}x{ts.height}, {len(ts.channels)} channels "
        f"({', '.join(c.name for c in ts.channels)})")
    for note in ts.notes:
        log(f"  note: {note}")
    if latent_bits is None:
        latent_bits = "8" if decode_mode == "hardware" else "4"
    cfg = TextureTrainConfig(bpp=bpp, latent_bits=int(latent_bits), decode_mode=decode_mode, qat_start=qat_start,
                             hidden=hidden, steps=steps,
                             time_budget=time_budget, batch_size=batch_size, seed=seed, device=device,
                             address="wrap" if tiling else "clamp", loss_weights=_parse_weights(loss_weights),
                             early_stop_patience=early_stop)
    result = _train_with_progress(ts, cfg, checkpoint, resume, log)
    from exporters.bundle import write_bundle

    asset = result.asset
    write_bundle(asset, out)
    m = asset.provenance.metrics
    log(f"wrote {out}: {asset.decode_mode} decode, {m['bpp']:.3f} bpp, mip0 PSNR {m['psnr_db']:.2f} dB "
        f"({', '.join(f'{k} {v:.2f}' for k, v in m['per_mip'][0]['textures_db'].items())}), "
        f"{result.steps} steps in {result.seconds:.1f} s")
    if not no_previews:
        from ngsdk.textures.previews import write_previews

        pdir = previews or out.with_name(out.name.removesuffix(".ngasset") + "_previews")
        files = write_previews(result.decoded_mip0, result.source_mip0, asset.channels, pdir)
        log(f"previews: {pdir} ({len(files)} files)")
    log("summary: " + json.dumps({"bpp": round(m["bpp"], 4), "psnr_db": round(m["psnr_db"], 3),
                                  "steps": result.steps, "seconds": round(result.seconds, 2)}), echo=False)
    logf.close()


def _train_with_progress(ts, cfg, checkpoint, resume, log):
    from ngsdk.textures.train import train_texture

    try:
        from tqdm import tqdm
    except ImportError:  # tqdm ships with the train extra; plain lines otherwise
        tqdm = None
    total = cfg.steps
    bar = tqdm(total=total, unit="step", dynamic_ncols=True) if tqdm and sys.stderr.isatty() else None
    last = [0]

    def progress(p) -> None:
        if bar is not None:
            bar.update(p.step - last[0])
            bar.set_postfix_str(f"{p.psnr:.2f} dB {p.phase} {p.elapsed:.0f}s")
        log(f"step {p.step} {p.elapsed:.1f}s psnr {p.psnr:.2f} dB ({p.phase})", echo=bar is None)
        last[0] = p.step

    try:
        return train_texture(ts, cfg, progress=progress, checkpoint=checkpoint, resume=resume,
                             log=lambda s: log(s))
    finally:
        if bar is not None:
            bar.close()

"""``ngsdk train supersampling``: the NSS network on a folder of sequences (gym safetensors or EXR capture
tree), float32 then int8 QAT, written as a super-sampling bundle with its reference clip."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ngsdk.cli.common import DEVICE, friendly_errors, log, verbosity_options
from ngsdk.cli.config_file import config_option

# config field -> (option key, value converter): the replay of a bundle's training (ngsdk.cli.replay)
REPLAY: dict[str, tuple[str, Callable[[Any], Any] | None]] = {
    "steps": ("steps", None), "qat_steps": ("qat-steps", None), "time_budget": ("time-budget", None),
    "batch": ("batch", None), "frames": ("recurrent", None), "crop": ("crop", None), "lr": ("lr", None),
    "seed": ("seed", None), "device": ("device", None), "init": ("init", None),
}


def default_config() -> dict[str, Any]:
    """The trainer's defaults (its config module is torch-free)."""
    from ngsdk.supersampling.config import SupersamplingTrainConfig

    return SupersamplingTrainConfig().to_dict()


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise click.BadParameter(f"{text!r} is not WIDTHxHEIGHT") from None
    return h, w


@click.command("supersampling")
@click.argument("data", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), show_default="build/DATA_NAME.ngasset",
              help="Bundle folder to write.")
@click.option("--steps", type=click.IntRange(0), help="Float32 steps (reproducible runs use --steps).")
@click.option("--qat-steps", type=click.IntRange(0), show_default="2/15 of --steps",
              help="Int8 QAT steps after them (0: no QAT, no int8 network).")
@click.option("--time-budget", type=click.FloatRange(0.1), show_default="60 s when --steps is not given",
              help="Seconds for both phases (QAT gets 2/17).")
@click.option("--batch", default=8, show_default=True, type=click.IntRange(1), help="Windows per step.")
@click.option("--recurrent", default=16, show_default=True, type=click.IntRange(2), help="Frames per window.")
@click.option("--crop", default=256, show_default=True, type=click.IntRange(16), help="Target-pixel crop side.")
@click.option("--lr", default=2e-3, show_default=True, type=click.FloatRange(0, min_open=True))
@click.option("--export-size", default="960x544", show_default=True,
              help="WIDTHxHEIGHT static input of the graph exports (multiples of 8).")
@click.option("--lpips-weights", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="VGG16 + LPIPS head weights (files); without them the LPIPS term is off.")
@click.option("--init", type=click.Path(exists=True, dir_okay=False), help="A gym NSS checkpoint to start from.")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--device", default="auto", show_default=True, type=DEVICE, help="auto, cpu, cuda or cuda:N.")
@click.option("--resume", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Continue this checkpoint (written as OUT.ckpt.npz).")
@click.option("--previews", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for output | ground truth | error strips.")
@config_option("train-supersampling")
@verbosity_options
@friendly_errors
def command(data: Path, out: Path | None, steps: int | None, qat_steps: int | None, time_budget: float | None,
            batch: int, recurrent: int, crop: int, lr: float, export_size: str, lpips_weights: tuple[str, ...],
            init: str | None, seed: int, device: str, resume: Path | None, previews: Path | None) -> None:
    """Train NSS super sampling on the sequences in DATA and write an .ngasset bundle.

    \b
    Example:
      ngsdk synth frames build/frames --materials ../shared/data/textures/rock --images ../shared/data/images
      ngsdk train supersampling build/frames --out build/nss.ngasset --steps 2000
    """
    import torch  # noqa: F401 - without the train extra: one line naming it, before any work

    from ngsdk.cli.preflight import check_finite, check_out_bundle, check_output_file
    from ngsdk.exporters.supersampling import write_supersampling
    from ngsdk.supersampling.config import SupersamplingTrainConfig
    from ngsdk.supersampling.to_asset import build_asset
    from ngsdk.supersampling.train import train_supersampling

    if steps is None and time_budget is None:
        time_budget = 60.0
    size = _size(export_size)
    out = out or Path("build") / f"{data.name}.ngasset"
    check_out_bundle(out)
    check_finite(lr, "--lr")
    check_output_file(out.with_name(out.name + ".ckpt.npz"), "--out (its checkpoint OUT.ckpt.npz)")
    cfg = SupersamplingTrainConfig(steps=steps, qat_steps=qat_steps, time_budget=time_budget, batch=batch,
                                   frames=recurrent, crop=crop, lr=lr, lpips_weights=list(lpips_weights), init=init,
                                   seed=seed, device=device)
    try:
        cfg.check()
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    name = out.name[: -len(".ngasset")] if out.name.endswith(".ngasset") else out.name
    res = train_supersampling(data, cfg, log=lambda s: log.info("%s", s), previews=previews,
                              checkpoint=out.with_name(out.name + ".ckpt.npz"), resume=resume)
    asset = build_asset(res, data, name=name or "nss", export_size=size)
    write_supersampling(asset, out)
    m = res.metrics
    log.info(f"wrote {out}: {res.steps} + {res.qat_steps} QAT steps in {res.seconds:.1f} s; "
             + ", ".join(f"{k} {v:.2f} dB" for k, v in m.items()))

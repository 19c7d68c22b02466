"""``ngsdk train shading``: a UV -> RGB shading MLP (RTX Neural Shading "Simple Training" style)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ngsdk.cli.common import DEVICE, friendly_errors, log, verbosity_options
from ngsdk.cli.config_file import config_option

# config field -> (option key, value converter): the replay of a bundle's training (ngsdk.cli.replay)
REPLAY: dict[str, tuple[str, Callable[[Any], Any] | None]] = {
    "transform": ("transform", None), "encoding": ("encoding", None), "frequencies": ("frequencies", None),
    "hidden": ("hidden", None), "layers": ("layers", None), "activation": ("activation", None),
    "target_filter": ("filter", None), "steps": ("steps", None), "time_budget": ("time-budget", None),
    "seed": ("seed", None), "device": ("device", None), "batch_size": ("batch-size", None), "lr": ("lr", None),
    "lr_schedule": ("lr-schedule", None), "numerics": ("numerics", None), "compile": ("compile", None),
    "fused_adam": ("fused-adam", None),
}


def default_config() -> dict[str, Any]:
    """The trainer's default configuration: none known here (ngsdk.shading.train imports torch, and ``ngsdk
    inspect --config`` must not), so replay notes no unreplayable fields for shading MLPs."""
    return {}


@click.command("shading")
@click.argument("image", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    show_default="build/IMAGE_NAME.ngasset",
    help="Bundle folder to write.",
)
@click.option(
    "--transform",
    default="none",
    show_default=True,
    type=click.Choice(["none", "flip", "zoom"]),
    help="What the network learns: the image, its transpose (flip) or its centre at 2x (zoom).",
)
@click.option(
    "--encoding",
    default="frequency",
    show_default=True,
    type=click.Choice(["frequency", "triangle"]),
    help="UV encoding (the seed's EncodeFrequency or EncodeTriangle).",
)
@click.option(
    "--frequencies",
    default=6,
    show_default=True,
    type=click.IntRange(1, 24),
    help="Encoded features per input (frequency: sin/cos pairs, so even; 6 = the seed's 12 inputs).",
)
@click.option(
    "--hidden", default=64, show_default=True, type=click.IntRange(1, 256), help="Neurons per hidden layer."
)
@click.option("--layers", default=4, show_default=True, type=click.IntRange(1, 16), help="Hidden layers.")
@click.option(
    "--activation",
    default="leaky_relu",
    show_default=True,
    type=click.Choice(["leaky_relu", "relu", "swish", "tanh"]),
)
@click.option(
    "--filter",
    "target_filter",
    default="nearest",
    show_default=True,
    type=click.Choice(["nearest", "bilinear"]),
    help="How training targets are looked up.",
)
@click.option("--steps", type=click.IntRange(1), help="Training steps (reproducible runs use --steps).")
@click.option("--time-budget", type=click.FloatRange(0.1), show_default="60 s when --steps is not given",
              help="Stop after this many seconds of training.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of initialisation and batches.")
@click.option("--device", default="auto", show_default=True, type=DEVICE,
              help="auto, cpu, cuda or cuda:N (the N-th GPU).")
@click.option(
    "--batch-size",
    default=1024,
    show_default=True,
    type=click.IntRange(1),
    help="UV samples per step (the seed: 32x32).",
)
@click.option("--lr", default=1e-3, show_default=True, type=click.FloatRange(0, min_open=True))
@click.option(
    "--lr-schedule",
    default="budget",
    show_default=True,
    type=click.Choice(["budget", "seed", "constant"]),
    help="budget: flat, then cosine to 1e-4 over the second half of the run; seed: RTXNS's 200k+200k.",
)
@click.option(
    "--numerics",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "fp16", "fp16_emulated", "fp32"]),
    help="auto: fp16 on CUDA, emulated fp16 rounding on the CPU.",
)
@click.option("--compile", "compile_", is_flag=True, help="torch.compile the training step (CUDA).")
@click.option("--fused-adam", is_flag=True, help="Fused Adam (CUDA).")
@click.option(
    "--no-portable", is_flag=True, help="Skip the JSON / binary / shader exports inside the bundle."
)
@click.option(
    "--previews",
    type=click.Path(file_okay=False, path_type=Path),
    show_default="beside the bundle",
    help="Folder for the preview PNG.",
)
@click.option("--no-previews", is_flag=True, help="Skip the preview picture.")
@config_option("train-shading")
@verbosity_options
@friendly_errors
def command(
    image: Path,
    out: Path | None,
    transform: str,
    encoding: str,
    frequencies: int,
    hidden: int,
    layers: int,
    activation: str,
    target_filter: str,
    steps: int | None,
    time_budget: float | None,
    seed: int,
    device: str,
    batch_size: int,
    lr: float,
    lr_schedule: str,
    numerics: str,
    compile_: bool,
    fused_adam: bool,
    no_portable: bool,
    previews: Path | None,
    no_previews: bool,
) -> None:
    """Train a shading MLP to reproduce IMAGE from UV and write an .ngasset bundle.

    \b
    Example:
      ngsdk train shading ../shared/data/images/kodim01.png --out build/kodim01.ngasset --time-budget 30
    """
    import torch  # noqa: F401 - without the train extra: one line naming it, before any work

    from ngsdk.cli.preflight import check_train_options
    from ngsdk.cli.progress import TrainingProgress
    from ngsdk.exporters.shading_mlp import write_shading_mlp
    from ngsdk.shading.previews import write_preview
    from ngsdk.shading.train import ShadingTrainConfig, train_shading

    if steps is None and time_budget is None:
        time_budget = 60.0
    out = out or Path("build") / f"{image.stem}.ngasset"
    check_train_options(out)
    cfg = ShadingTrainConfig(
        transform=transform,
        encoding=encoding,
        frequencies=frequencies,
        hidden=hidden,
        layers=layers,
        activation=activation,
        target_filter=target_filter,
        steps=steps,
        time_budget=time_budget,
        seed=seed,
        device=device,
        batch_size=batch_size,
        lr=lr,
        lr_schedule=lr_schedule,
        numerics=numerics,
        compile=compile_,
        fused_adam=fused_adam,
    )
    name = out.name[: -len(".ngasset")] if out.name.endswith(".ngasset") else out.name
    with TrainingProgress(steps, time_budget) as progress:
        result = train_shading(image, cfg, name=name or "shading", progress=progress,
                               log=lambda s: log.info("%s", s))
    write_shading_mlp(result.asset, out, portable=not no_portable)
    m = result.metrics
    log.info(
        f"wrote {out}: {result.steps} steps in {result.seconds:.1f} s, "
        f"PSNR {m['psnr_fp16']:.2f} dB (exact fp16 decode)"
    )
    if not no_previews and result.reference is not None and result.decoded is not None:
        folder = previews or out.parent
        p = write_preview(
            folder / f"{name}_preview.png",
            result.reference,
            result.decoded.astype("float32"),
            f"{m['psnr_fp16']:.2f} dB",
        )
        log.info(f"preview: {p}")
    click.echo(json.dumps({"psnr_fp16": m["psnr_fp16"], "steps": result.steps}))

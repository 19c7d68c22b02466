"""``ngsdk train pbr``: a multi-view PBR reconstruction teacher (GAN) or a student distilled from one."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ngsdk.cli.common import DEVICE, friendly_errors, log, verbosity_options
from ngsdk.cli.config_file import config_option

TEACHER_PRESETS = ("tiny", "base", "neuropbr")
STUDENT_PRESETS = ("tiny", "mobile512", "convattn_tiny", "convattn")

# config field -> (option key, value converter): the replay of a bundle's training (ngsdk.cli.replay)
REPLAY: dict[str, tuple[str, Callable[[Any], Any] | None]] = {
    "role": ("role", None), "preset": ("preset", None), "image_size": ("image-size", None), "steps": ("steps", None),
    "time_budget": ("time-budget", None), "batch_size": ("batch-size", None), "lr": ("lr", None),
    "gan": ("gan", None), "curriculum": ("curriculum", None), "alpha": ("alpha", None),
    "temperature": ("temperature", None), "seed": ("seed", None), "device": ("device", None),
    "init_backbone": ("init-backbone", None), "eval_every": ("eval-every", None),
}


def default_config() -> dict[str, Any]:
    """The trainer's default configuration (torch-free: ngsdk.pbr.config)."""
    from ngsdk.pbr.config import PBRTrainConfig

    return PBRTrainConfig().to_dict()


def _teacher(path: Path) -> Any:
    """--teacher: an .ngasset bundle (its network), a model file (.npz) or a folder of stored teacher outputs."""
    from ngsdk.asset.manifest import MANIFEST_NAME

    if (path / MANIFEST_NAME).is_file():
        from ngsdk.pbr.bundle import network
        from ngsdk.runtime_ref.pbr_reconstruction import load_pbr_reconstruction

        asset = load_pbr_reconstruction(path)
        if asset.role != "teacher":
            raise click.BadParameter(f"{path} holds a {asset.role}, not a teacher", param_hint="'--teacher'")
        return network(asset)
    return path


@click.command("pbr")
@click.argument("data", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--role", type=click.Choice(["teacher", "student"]), default="teacher",
              help="teacher: ResNet + ViT + UNet with the PatchGAN; student: MobileNetV3 distilled from --teacher.")
@click.option("--teacher", "teacher_path", type=click.Path(exists=True, path_type=Path),
              help="Students: the teacher bundle (.ngasset), model file (.npz) or stored-outputs folder.")
@click.option("--out", type=click.Path(path_type=Path), show_default="build/pbr_ROLE.ngasset",
              help="Bundle folder to write.")
@click.option("--preset", default="tiny", show_default=True,
              type=click.Choice(sorted(set(TEACHER_PRESETS + STUDENT_PRESETS))),
              help="Teachers: tiny (CI), base (ResNet-18, 512), neuropbr (the seed's, 2048). Students: tiny (CI), "
                   "mobile512 (the shipped Core ML student, 512 -> 1024), convattn (PLK convolutions instead of "
                   "the ViT, 1024 -> 1024), convattn_tiny (CI, 128 -> 128).")
@click.option("--image-size", type=click.IntRange(16), show_default="the preset's", help="Network input size.")
@click.option("--steps", type=click.IntRange(1), help="Training steps (reproducible runs use --steps).")
@click.option("--time-budget", type=click.FloatRange(0.1), show_default="60 s when --steps is not given",
              help="Stop after this many seconds of training.")
@click.option("--batch-size", default=2, show_default=True, type=click.IntRange(1))
@click.option("--lr", default=2e-4, show_default=True, type=click.FloatRange(0, min_open=True))
@click.option("--gan/--no-gan", default=True, show_default=True, help="Teachers: the hinge PatchGAN loss.")
@click.option("--curriculum", default=1, show_default=True, type=click.IntRange(0, 2),
              help="0 clean views, 1 clean and dirty as the data holds them, 2 dirty.")
@click.option("--alpha", default=0.3, show_default=True, type=click.FloatRange(0, 1),
              help="Students: weight of the distillation loss.")
@click.option("--temperature", default=4.0, show_default=True, type=click.FloatRange(0, min_open=True),
              help="Students: distillation temperature.")
@click.option("--init-backbone", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Encoder weights to start from (.safetensors or .npz with torchvision names; none ship).")
@click.option("--eval-every", default=25, show_default=True, type=click.IntRange(0),
              help="Validation every N steps (0: only at the end).")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of initialisation and batches.")
@click.option("--device", default="auto", show_default=True, type=DEVICE, help="auto, cpu, cuda or cuda:N.")
@click.option("--previews", type=click.Path(file_okay=False, path_type=Path),
              help="Write preview sheets (views, predicted and true maps) here.")
@config_option("train-pbr")
@verbosity_options
@friendly_errors
def command(data: Path, role: str, teacher_path: Path | None, out: Path | None, preset: str, image_size: int | None,
            steps: int | None, time_budget: float | None, batch_size: int, lr: float, gan: bool, curriculum: int,
            alpha: float, temperature: float, init_backbone: Path | None, eval_every: int, seed: int, device: str,
            previews: Path | None) -> None:
    """Train a PBR reconstruction network on the NeuroPBR folder DATA and write an .ngasset bundle.

    \b
    Example:
      ngsdk synth pbr-views ../shared/data/textures/* --out build/pbr_data --samples 12 --res 128
      ngsdk train pbr build/pbr_data --role teacher --steps 10 --out build/teacher.ngasset
      ngsdk train pbr build/pbr_data --role student --teacher build/teacher.ngasset --steps 10 --out build/s.ngasset
    """
    import torch  # noqa: F401 - without the train extra: one line naming it, before any work

    from ngsdk.cli.preflight import check_finite, check_out_bundle
    from ngsdk.cli.progress import TrainingProgress
    from ngsdk.exporters.pbr_reconstruction import write_pbr_reconstruction
    from ngsdk.pbr.bundle import asset_from_model
    from ngsdk.pbr.config import PBRTrainConfig
    from ngsdk.pbr.train import train_pbr

    presets = TEACHER_PRESETS if role == "teacher" else STUDENT_PRESETS
    if preset not in presets:
        raise click.BadParameter(f"{role} presets are {', '.join(presets)}, not {preset!r}", param_hint="'--preset'")
    if role == "student" and teacher_path is None:
        raise click.UsageError("a student needs --teacher (a teacher bundle, model file or stored outputs)")
    if role == "teacher" and teacher_path is not None:
        raise click.UsageError("--teacher applies to --role student")
    if steps is None and time_budget is None:
        time_budget = 60.0
    out = out or Path("build") / f"pbr_{role}.ngasset"
    check_out_bundle(out)
    check_finite(lr, "--lr")
    cfg = PBRTrainConfig(preset=preset, image_size=image_size, steps=steps, time_budget=time_budget,
                         batch_size=batch_size, lr=lr, gan=gan, curriculum=curriculum, alpha=alpha,
                         temperature=temperature, seed=seed, device=device, eval_every=eval_every,
                         init_backbone=str(init_backbone) if init_backbone else None,
                         previews=str(previews) if previews else None)
    teacher = _teacher(teacher_path) if teacher_path is not None else None
    name = out.name[: -len(".ngasset")] if out.name.endswith(".ngasset") else out.name
    with TrainingProgress(steps, time_budget) as progress:
        result = train_pbr(data, cfg, role, teacher=teacher, progress=progress, log=lambda s: log.info("%s", s))
    info = result.info()
    if isinstance(info.get("teacher"), dict) and teacher_path is not None:
        info["teacher"] = {**info["teacher"], "source": str(teacher_path)}
    asset = asset_from_model(result.model, name=name or "pbr", preset=preset, info=info, data_dir=data)
    write_pbr_reconstruction(asset, out)
    m = result.metrics
    log.info(f"wrote {out}: {role} {preset}, {result.steps} steps in {result.elapsed:.1f} s, "
             f"validation PSNR {m.get('psnr', float('nan')):.2f} dB (mean of the four maps)")
    click.echo(json.dumps({"steps": result.steps, "psnr": round(m.get("psnr", float("nan")), 4),
                           "parameters": asset.parameter_count()}))

"""``ngsdk synth``: render synthetic training data (``pbr-views``: NeuroPBR captures of material sets)."""

from __future__ import annotations

from pathlib import Path

import click

from ngsdk.cli.common import DEVICE, friendly_errors, log, verbosity_options


@click.group("synth")
def command() -> None:
    """Render synthetic training data for a use case.

    \b
    Example:
      ngsdk synth pbr-views ../shared/data/textures/* --out build/pbr_data --samples 500 --res 512
    """


@command.command("pbr-views")
@click.argument("materials", nargs=-1, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Data folder to write (NeuroPBR layout; the held-out material goes to OUT/test).")
@click.option("--samples", default=200, show_default=True, type=click.IntRange(1), help="Training samples.")
@click.option("--res", default=512, show_default=True, type=click.IntRange(16), help="View size in pixels.")
@click.option("--map-res", type=click.IntRange(16), show_default="--res",
              help="Ground-truth map size (2 x --res for students with the x2 head is not needed: maps are resized).")
@click.option("--dirty", default=0.5, show_default=True, type=click.FloatRange(0, 1),
              help="Share of samples that also get dirty views (shadows, smudges, scratches).")
@click.option("--procedural", default=0.5, show_default=True, type=click.FloatRange(0, 1),
              help="Share of training samples from procedural materials.")
@click.option("--holdout", show_default="the last real set by name",
              help="Material folder name kept out of training for DATA/test ('' keeps none).")
@click.option("--test-samples", type=click.IntRange(1), show_default="max(2, samples / 10)",
              help="Samples of the held-out material.")
@click.option("--camera", default="aligned", show_default=True, type=click.Choice(["aligned", "free"]),
              help="aligned: upright cameras over a tile's centre, so views and maps share orientation; free: "
                   "NeuroPBR's random roll (the maps' orientation cannot be recovered from the views).")
@click.option("--hue", type=click.FloatRange(0, 0.5), show_default="0.06",
              help="Largest hue rotation of a real set's albedo, in turns (0.5: any hue).")
@click.option("--relief", nargs=2, type=click.FloatRange(min=0.01), show_default="1 1",
              metavar="LO HI", help="Range of the (log-uniform) factor on a real set's normal relief.")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--device", default="cpu", show_default=True, type=DEVICE, help="cpu, cuda or cuda:N.")
@verbosity_options
@friendly_errors
def pbr_views(materials: tuple[Path, ...], out: Path, samples: int, res: int, map_res: int | None, dirty: float,
              procedural: float, holdout: str | None, test_samples: int | None, camera: str, hue: float | None,
              relief: tuple[float, float] | None, seed: int, device: str) -> None:
    """Render three views per sample (clean and dirty) of MATERIALS (PBR folders `ngsdk train texture` reads;
    none: procedural materials only) plus the ground-truth maps, in the NeuroPBR layout.

    \b
    Example:
      ngsdk synth pbr-views ../shared/data/textures/rock --out build/pbr_data --samples 12 --res 128
    """
    import torch  # noqa: F401 - without the train extra: one line naming it, before any work

    from ngsdk.cli.progress import Counter
    from ngsdk.pbr.synth import SynthConfig, synth_pbr_views

    cfg = SynthConfig(samples=samples, res=res, map_res=map_res, dirty=dirty, procedural=procedural,
                      holdout=holdout, test_samples=test_samples, camera=camera, seed=seed,
                      device="cpu" if device == "auto" else device,
                      **({} if hue is None else {"hue": hue}),
                      **({"relief": (float(relief[0]), float(relief[1]))} if relief else {}))
    with Counter(0, "synth") as counter:
        def progress(done: int, total: int) -> None:
            counter.expect(total - counter.total)  # test samples come on top of --samples
            counter.step(f"sample {done}/{total}")

        report = synth_pbr_views(list(materials), out, cfg, progress=progress)
    log.info(f"wrote {out}: {report.train_samples} training samples, held out {report.holdout or 'none'}")
    click.echo(str(out))


# `synth frames` (super sampling, issue 15) lives in its own module
from ngsdk.cli.synth_frames import frames as _frames  # noqa: E402

command.add_command(_frames)

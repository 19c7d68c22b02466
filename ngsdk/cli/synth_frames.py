"""``ngsdk synth frames``: render super-sampling training sequences (issue 15; the ``synth`` group's command)."""

from __future__ import annotations

from pathlib import Path

import click

from ngsdk.cli.common import DEVICE, friendly_errors, log, verbosity_options

SAMPLE_MATERIAL = Path(__file__).resolve().parents[1] / "samples" / "ground068_512"
"""The material the package ships: the default when no ``--materials`` are given."""


def _size(text: str) -> tuple[int, int]:
    """``WxH`` -> (width, height)."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise click.BadParameter(f"{text!r} is not WIDTHxHEIGHT") from None
    if w < 1 or h < 1:
        raise click.BadParameter(f"{text!r}: width and height must be positive")
    return w, h


def _images(paths: tuple[Path, ...]) -> list[Path]:
    """Picture files, folders expanded to the pictures they hold (sorted)."""
    from ngsdk.supersampling.synth.materials import find_images

    out: list[Path] = []
    for p in paths:
        out += find_images(p) if p.is_dir() else [p]
    return out


@click.command("frames")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--materials", multiple=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              show_default="the packaged ground068_512 sample",
              help="PBR material folder (what `ngsdk train texture` reads); repeat for more.")
@click.option("--images", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Backdrop pictures: files or folders of them; repeat for more.")
@click.option("--sequences", default=8, show_default=True, type=click.IntRange(1), help="Sequences to render.")
@click.option("--frames", default=32, show_default=True, type=click.IntRange(1), help="Frames per sequence.")
@click.option("--size", default="256x144", show_default=True,
              help="WIDTHxHEIGHT of the ground truth (target); the input is SIZE / --scale.")
@click.option("--scale", default=2, show_default=True, type=click.IntRange(2), help="Upscaling factor.")
@click.option("--capture", default=4, show_default=True, type=click.IntRange(1),
              help="Capture samples per target pixel and axis (4: 16 per ground-truth pixel).")
@click.option("--max-texture", default=1024, show_default=True, type=click.IntRange(16),
              help="Largest texture side kept in the texture bank.")
@click.option("--exr", is_flag=True, help="Also write the gym's EXR capture tree under OUT/exr.")
@click.option("--resume", is_flag=True,
              help="Keep the sequence files in OUT that the same settings wrote and render only the missing ones "
                   "(an interrupted run goes on; not with --exr).")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--device", default="auto", show_default=True, type=DEVICE, help="auto, cpu, cuda or cuda:N.")
@verbosity_options
@friendly_errors
def frames(out: Path, materials: tuple[Path, ...], images: tuple[Path, ...], sequences: int, frames: int,
           size: str, scale: int, capture: int, max_texture: int, exr: bool, resume: bool, seed: int,
           device: str) -> None:
    """Render SEQUENCES x FRAMES super-sampling frames (jittered input, 16-sample ground truth, depth, motion)
    into OUT as the gym's per-sequence .safetensors files, for `ngsdk train supersampling OUT`.

    \b
    Example:
      ngsdk synth frames build/frames --materials ../shared/data/textures/rock \\
          --images ../shared/data/images --sequences 20 --frames 32 --size 1920x1080 --device cuda
    """
    import torch  # noqa: F401 - without the train extra: one line naming it, before any work

    from ngsdk.cli.progress import Counter
    from ngsdk.supersampling.synth.render import SynthConfig, synthesize_frames

    cfg = SynthConfig(sequences=sequences, frames=frames, target=_size(size), ratio=scale, capture=capture,
                      seed=seed, device=device, max_texture=max_texture)
    try:
        cfg.check()
    except ValueError as e:
        raise click.UsageError(str(e).replace("--target", "--size").replace("--ratio", "--scale")) from None
    if resume and exr:
        raise click.UsageError("--resume keeps finished .safetensors files only: it cannot be combined with --exr")
    mats = list(materials) or [SAMPLE_MATERIAL]
    with Counter(sequences * frames, "synth") as counter:
        def progress(seq: int, done: int, total: int) -> None:  # after each rendered frame
            counter.step(f"sequence {seq + 1}/{sequences}: {done}/{total} frames")

        written = synthesize_frames(mats, _images(images), out, cfg, progress=progress,
                                    log=lambda s: log.info("%s", s), exr=exr, resume=resume)
    log.info(f"wrote {out}: {len(written)} sequences x {frames} frames, {cfg.target[0]}x{cfg.target[1]} "
             f"from {cfg.target[0] // scale}x{cfg.target[1] // scale}")
    click.echo(str(out))

"""``ngsdk infer <use case>``: run a trained network on new inputs (``pbr``: three photos -> material maps)."""

from __future__ import annotations

from pathlib import Path

import click

from ngsdk.cli.common import DEVICE, friendly_errors, log, verbosity_options


@click.group("infer")
def command() -> None:
    """Run a trained network on new inputs and write what it predicts.

    \b
    Example:
      ngsdk infer pbr build/student.ngasset photo0.jpg photo1.jpg photo2.jpg --out build/material
    """


@command.command("pbr")
@click.argument("bundle", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("views", nargs=3, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Material folder to write (albedo.png sRGB, roughness.png, metallic.png linear, normal.png "
                   "OpenGL, channels.json): `ngsdk train texture OUT` ingests it as it is.")
@click.option("--device", default="cpu", show_default=True, type=DEVICE, help="cpu, cuda or cuda:N.")
@verbosity_options
@friendly_errors
def pbr(bundle: Path, views: tuple[Path, Path, Path], out: Path, device: str) -> None:
    """Predict the PBR maps of one surface from three photos (VIEWS: any size, resized to the network's input)
    with the teacher or student network of BUNDLE.

    \b
    Example:
      ngsdk infer pbr build/student.ngasset v0.png v1.png v2.png --out build/material
    """
    import torch  # noqa: F401 - without the train extra: one line naming it, before any work

    from ngsdk.pbr.bundle import network
    from ngsdk.pbr.infer import infer_pbr
    from ngsdk.runtime_ref.pbr_reconstruction import load_pbr_reconstruction

    asset = load_pbr_reconstruction(bundle)
    maps = infer_pbr(network(asset), *views, out=out, device="cpu" if device == "auto" else device)
    log.info(f"wrote {out}: {maps.size[1]}x{maps.size[0]} albedo, roughness, metallic, normal ({asset.role} "
             f"{asset.preset})")
    click.echo(str(out))

"""``ngsdk decode``: decode a bundle with the reference runtime, through its kind's decode (ngsdk.kinds): a
neural texture into image files (one per map), a neural volume into a .npy file."""

from __future__ import annotations

from pathlib import Path

import click

from ngsdk import kinds
from ngsdk.asset.neural_volume import VOLUME_DECODE_MODES
from ngsdk.cli.common import fail, friendly_errors, kind_options, verbosity_options

TEXTURE_FORMATS = ("png", "exr", "dds", "bc")
KIND_OPTIONS = ("fmt", "mips", "all_mips", "normal_y", "denormalize", "points", "source", "backend")
"""The options each kind's decode takes or refuses (ngsdk.cli.common.kind_options)."""


@click.command("decode")
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option("--out", required=True, type=click.Path(path_type=Path),
              help="Texture: the folder for the maps (created). Volume: the .npy file. Written atomically.")
@click.option("--mode", type=click.Choice(VOLUME_DECODE_MODES), show_default="the bundle's decode mode",
              help="Decode arithmetic (textures: float is the real-valued view of an integer decoder, exact the "
                   "bundle's integer decode).")
@click.option("--format", "fmt", type=click.Choice(TEXTURE_FORMATS), default="png",
              help="Textures: png (8-bit, stored colour space), exr (float32 linear), dds (8-bit, mip chain), "
                   "bc (BC7/BC5/BC4 DDS with etcpak, the fallback for engines without neural decode).")
@click.option("--mip", "mips", type=click.IntRange(0), multiple=True, show_default="0 for png/exr, all for dds/bc",
              help="Textures: decode this mip (repeatable).")
@click.option("--all-mips", is_flag=True, help="Textures: decode every mip (png/exr: one file per mip).")
@click.option("--normal-y", type=click.Choice(["gl", "dx"]), show_default="the bundle's, gl",
              help="Textures: normal map convention of the output (dx flips green, for DirectX-convention engines "
                   "such as Unreal).")
@click.option("--denormalize", is_flag=True, help="Volumes: source units (v * (vmax - vmin) + vmin), not [0, 1].")
@click.option("--points", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Volumes: decode these points instead of every voxel: a .npy of shape (N, 3), x y z in [-1, 1].")
@click.option("--source", type=click.Path(exists=True, path_type=Path),
              help="Volumes: print PSNR and max error of the full reconstruction against this source volume.")
@click.option("--backend", type=click.Choice(["numpy", "cupy"]), default="numpy",
              help="Volumes: array backend (cupy gives the same bits on a GPU).")
@verbosity_options
@friendly_errors
def command(bundle: Path, out: Path, mode: str | None, fmt: str, mips: tuple[int, ...], all_mips: bool,
            normal_y: str | None, denormalize: bool, points: Path | None, source: Path | None,
            backend: str) -> None:
    """Decode BUNDLE with the reference runtime, exactly as an engine does.

    A neural texture becomes one file per map (albedo, normal, roughness, ...) in OUT, each in its own colour
    space and normal convention, with maps.json listing them; a neural volume becomes every voxel (D, H, W)
    z-major, or the points of --points (N,), in the .npy file OUT.

    \b
    Examples:
      ngsdk decode build/ground.ngasset --out build/ground_maps --format bc --all-mips
      ngsdk decode build/v.ngasset --out build/v.npy --denormalize
    """
    from ngsdk.asset.manifest import read_manifest

    manifest = read_manifest(bundle)
    kind = kinds.of(manifest)
    if kind.decode is None:
        fail(f"{bundle}: ngsdk decode reads {' and '.join(k.name for k in kinds.KINDS if k.decode)} bundles, this "
             f"one is {kind.name!r}")
    options = kind_options(kind, "decode", KIND_OPTIONS)
    kind.part("decode")(bundle, manifest, out, mode=mode, **options)

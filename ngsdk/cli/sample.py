"""``ngsdk sample``: sample a DDS texture the way a named sampler profile does (a public debugging tool).

    ngsdk sample TEXTURE.dds --uv UV.npy [--lod LOD.npy] [--layer N]
        --filter nearest|linear|trilinear --address repeat|mirror|clamp|border [--border R,G,B,A]
        --profile ideal|d3d11|lavapipe|lavapipe-mesa25|nvidia|bounded --out OUT.npy

UV.npy: float32 N x 2 (N x 3 for a 3D texture); LOD.npy: float32 N (or a single value). OUT.npy:
float32 N x 4 RGBA, or N x 2 x 4 (lower, upper) for ``bounded``. Only NumPy is needed.
"""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from ngsdk.asset.atomic import atomic_open
from ngsdk.asset.errors import AssetError
from ngsdk.cli.common import fail, verbosity_options
from ngsdk.runtime_ref.sampling import ADDRESS_MODES, FILTERS, PROFILES


def _load_array(path: Path, what: str, ndims: tuple[int, ...]) -> np.ndarray:
    from ngsdk.asset.safe_read import load_npy

    try:
        arr = load_npy(path, what=".npy file")
    except AssetError as err:
        raise AssetError(path, f"cannot read {what}: {err.problem}") from None
    if not isinstance(arr, np.ndarray):
        raise AssetError(path, f"{what} must be a single .npy array, not an .npz archive")
    if arr.dtype != np.float32:
        raise AssetError(path, f"{what} must be float32, got {arr.dtype} (convert with .astype(np.float32))")
    if arr.ndim not in ndims:
        wanted = " or ".join(f"{d}-D" for d in ndims)
        raise AssetError(path, f"{what} has shape {arr.shape}; expected {wanted}")
    return arr


def _parse_border(text: str | None) -> tuple[float, float, float, float] | None:
    if text is None:
        return None
    parts = text.split(",")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 4 or not all(np.isfinite(values)):
        raise click.BadParameter(f"expected four numbers R,G,B,A, got {text!r}", param_hint="--border")
    return values


@click.command("sample")
@click.argument("texture", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--uv", "uv_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="float32 N x 2 (N x 3 for 3D) normalized coordinates (.npy)")
@click.option("--lod", "lod_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              show_default="level 0", help="float32 N explicit levels of detail (.npy)")
@click.option("--layer", type=click.IntRange(min=0), default=0, show_default=True, help="array layer")
@click.option("--filter", "filter_", required=True, type=click.Choice(FILTERS),
              help="nearest, linear (nearest mip) or trilinear (linear mip blend)")
@click.option("--address", required=True, type=click.Choice(ADDRESS_MODES), help="address mode on every axis")
@click.option("--border", "border_text", default=None, metavar="R,G,B,A",
              show_default="0,0,0,0", help="border colour for --address border")
@click.option("--profile", required=True, type=click.Choice(list(PROFILES)), help="sampler profile")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="output .npy: float32 N x 4, or N x 2 x 4 for bounded")
@verbosity_options
def command(texture: Path, uv_path: Path, lod_path: Path | None, layer: int, filter_: str, address: str,
            border_text: str | None, profile: str, out_path: Path) -> None:
    """Sample TEXTURE (a DDS file) at UV coordinates with an engine-faithful sampler profile.

    \b
    Example:
      ngsdk sample grid0.dds --uv uv.npy --filter linear --address repeat --profile lavapipe --out s.npy
    """
    from ngsdk.runtime_ref.dds import read_dds
    from ngsdk.runtime_ref.sampling import NotMeasuredError, sample

    border = _parse_border(border_text)
    if border is not None and address != "border":
        raise click.UsageError("--border is only used with --address border")
    try:
        tex = read_dds(texture)
        dims = 3 if tex.dimension == "3d" else 2
        uv = _load_array(uv_path, "UV array", (2,))
        if uv.shape[1] != dims:
            raise AssetError(uv_path, f"UV array has shape {uv.shape}; a {tex.dimension.upper()} texture "
                                      f"needs N x {dims}")
        lod = None
        if lod_path is not None:
            lod = _load_array(lod_path, "LOD array", (0, 1, 2))
            if (lod.ndim == 2 and lod.shape[1] != 1) or (lod.ndim >= 1 and lod.shape[0] != uv.shape[0]):
                raise AssetError(lod_path, f"LOD array has shape {lod.shape}; expected ({uv.shape[0]},) "
                                           "to match the UV array")
        if layer >= tex.array_size and tex.dimension == "2d":
            raise click.UsageError(f"--layer {layer} out of range: {texture} has {tex.array_size} layer(s)")
        if tex.dimension == "3d" and layer:
            raise click.UsageError("--layer applies to 2D array textures only")
        try:
            result = sample(tex, uv, lod=lod, layer=layer, filter=filter_, address=address, border=border,
                            profile=profile)
        except NotMeasuredError as err:
            raise click.UsageError(str(err)) from None
        except ValueError as err:
            raise click.UsageError(f"{uv_path}: {err}") from None
    except AssetError as err:
        fail(str(err))
    with atomic_open(out_path) as f:
        np.save(f, result, allow_pickle=False)
    shape = " x ".join(str(s) for s in result.shape)
    click.echo(f"{out_path}: {shape} float32 ({profile}, {filter_}, {address})")

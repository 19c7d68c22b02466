"""``ngsdk render``: a ray-marched picture of a neural volume, beside the data it was trained on.

    ngsdk render VOLUME.ngasset --out IMAGE.png [--azimuth 45] [--elevation 30] [--colormap viridis]
        [--spp 256] [--size 512 | 640x480] [--transfer 0:0,0.3:0.05,1:0.8] [--mode float|exact]
        [--source DATA] [--no-compare]

With the source data (``--source``, or the file named in the bundle's ``provenance.sources`` when it can
be found) the PNG holds three panels: the network, the raw data through the same camera and transfer
function, and their amplified difference. Only NumPy and Pillow are needed.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import numpy as np

from ngsdk.asset.atomic import atomic_write_bytes
from ngsdk.asset.errors import AssetError
from ngsdk.asset.neural_volume import VOLUME_DECODE_MODES
from ngsdk.cli.common import friendly_errors, verbosity_options
from ngsdk.runtime_ref.colormaps import NAMES as COLORMAPS
from ngsdk.runtime_ref.volume_render import TransferFunction, compare, png_bytes, raw_field, render

# load_volume keyword arguments a trainer may record in provenance.config (top level or under "ingest")
_LOAD_KEYS = ("variable", "axis_order", "shape", "dtype", "time_index")


def parse_size(text: str) -> tuple[int, int]:
    """``"512"`` -> (512, 512); ``"640x480"`` -> (640, 480) (width x height)."""
    m = re.fullmatch(r"\s*(\d+)\s*(?:[xX]\s*(\d+)\s*)?", text)
    if not m:
        raise ValueError(f"image size {text!r}: expected N or WIDTHxHEIGHT, e.g. 512 or 640x480")
    width = int(m.group(1))
    height = int(m.group(2) or width)
    if not (1 <= width <= 8192 and 1 <= height <= 8192):
        raise ValueError(f"image size {width}x{height}: each side must be 1..8192 pixels")
    return width, height


def recorded_source(bundle: Path, sources: dict[str, str]) -> tuple[Path | None, str | None]:
    """The first recorded source file that exists (as given, or beside the bundle), and a note when none does."""
    for key in sources:
        for candidate in (Path(key), bundle.parent / key, bundle.parent / Path(key).name):
            if candidate.is_file():
                return candidate, None
    if sources:
        return None, (f"source data {', '.join(sources)} recorded in {bundle} not found; "
                      "rendering the network only (name it with --source)")
    return None, None


def load_options(config: dict[str, Any]) -> dict[str, Any]:
    """``load_volume`` keyword arguments recorded in a bundle's provenance.config."""
    found = {k: config[k] for k in _LOAD_KEYS if k in config}
    ingest = config.get("ingest")
    if isinstance(ingest, dict):
        found.update({k: ingest[k] for k in _LOAD_KEYS if k in ingest})
    if isinstance(found.get("shape"), list):
        found["shape"] = tuple(found["shape"])
    return found


def recorded_spacing(config: dict[str, Any]) -> tuple[float, float, float]:
    """Voxel spacing (x, y, z) recorded in provenance.config, else (1, 1, 1)."""
    spacing = config.get("spacing")
    if isinstance(spacing, (list, tuple)) and len(spacing) == 3:
        try:
            values = tuple(float(s) for s in spacing)
        except (TypeError, ValueError):
            return (1.0, 1.0, 1.0)
        if all(np.isfinite(v) and v > 0 for v in values):
            return values
    return (1.0, 1.0, 1.0)


def side_by_side(network: Callable[[np.ndarray], np.ndarray], data: np.ndarray | None, shape: tuple[int, ...],
                 labels: tuple[str, str], *, progress: Callable[[str], Any] | None = None,
                 **options: Any) -> np.ndarray:
    """Render the network field and, when ``data`` (normalized D x H x W) is given, the data with the same
    camera and transfer function, composed by :func:`compare` with their difference."""
    def run(field: Callable[[np.ndarray], np.ndarray], label: str) -> np.ndarray:
        callback = progress(label) if progress else None
        return render(field, shape, progress=callback, **options)

    net = run(network, labels[0])
    if data is None:
        return net
    if tuple(data.shape) != tuple(shape):
        raise ValueError(f"source data has shape {tuple(data.shape)} but the volume was trained on {tuple(shape)}")
    return compare([net, run(raw_field(data), labels[1])], list(labels))


def _progress_bar(label: str) -> Callable[[int, int], None]:
    state: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        if "bar" not in state:
            state["bar"] = click.progressbar(length=total, label=f"rendering {label}", file=sys.stderr)
            state["bar"].__enter__()
            state["done"] = 0
        state["bar"].update(done - state["done"])
        state["done"] = done
        if done >= total:
            state["bar"].__exit__(None, None, None)

    return update


@click.command("render")
@click.argument("bundle", type=click.Path(exists=True, path_type=Path))
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="output PNG")
@click.option("--azimuth", default=45.0, show_default=True, type=float, help="camera angle about +z (degrees)")
@click.option("--elevation", default=30.0, show_default=True, type=float,
              help="camera angle above the xy plane (degrees)")
@click.option("--colormap", default="viridis", show_default=True, type=click.Choice(COLORMAPS))
@click.option("--spp", default=256, show_default=True, type=click.IntRange(1, 4096),
              help="samples along the box diagonal (shorter rays get proportionally fewer)")
@click.option("--size", "size_text", default="512", show_default=True, metavar="N|WxH", help="image size")
@click.option("--transfer", "transfer_text", default=None, metavar="V:A,...",
              show_default=str(TransferFunction()), help="opacity ramp as value:opacity points")
@click.option("--mode", type=click.Choice(VOLUME_DECODE_MODES), default=None,
              show_default="the bundle's decode mode", help="decode arithmetic")
@click.option("--source", "source", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              show_default="the bundle's recorded source, if found", help="source data to compare with")
@click.option("--no-compare", is_flag=True, help="render the network only")
@verbosity_options
@friendly_errors
def command(bundle: Path, out_path: Path, azimuth: float, elevation: float, colormap: str, spp: int,
            size_text: str, transfer_text: str | None, mode: str | None, source: Path | None,
            no_compare: bool) -> None:
    """Render the neural volume BUNDLE to a PNG, beside its source data and their difference.

    \b
    Example:
      ngsdk render build/v.ngasset --out build/v.png --azimuth 30 --colormap magma
    """
    try:
        size = parse_size(size_text)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--size") from None
    try:
        transfer = TransferFunction.parse(transfer_text) if transfer_text else TransferFunction()
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--transfer") from None
    try:
        from ngsdk.runtime_ref.neural_volume import VolumeDecoder, load_neural_volume
    except ImportError as err:
        raise click.ClickException(f"the neural volume runtime is not available ({err})") from None

    asset = load_neural_volume(bundle)
    shape = tuple(int(s) for s in asset.shape)
    mode = mode or asset.decode_mode
    data, spacing, data_label = None, recorded_spacing(asset.provenance.config), ""
    if not no_compare:
        if source is None:
            source, note = recorded_source(bundle, asset.provenance.sources)
            if note:
                click.echo(note, err=True)
        if source is not None:
            try:
                from ngsdk.volumes.ingest import load_volume
            except ImportError as err:
                raise click.ClickException(f"the volume readers are not available ({err})") from None
            volume = load_volume(source, **load_options(asset.provenance.config))
            if tuple(volume.values.shape) != shape:
                raise AssetError(source, f"has shape {tuple(volume.values.shape)} (D, H, W) but {bundle} was "
                                         f"trained on {shape}; pass the right --source or --no-compare")
            data, spacing, data_label = volume.values, tuple(volume.spacing), f"data: {source.name}"

    network = VolumeDecoder(asset, mode)           # prepares the grids once for every batch of samples
    image = side_by_side(network, data, shape, (f"network ({mode})", data_label), progress=_progress_bar,
                         azimuth=azimuth, elevation=elevation, size=size, spp=spp, colormap=colormap,
                         transfer=transfer, spacing=spacing)
    atomic_write_bytes(out_path, png_bytes(image))
    panels = "network, data, difference" if data is not None else "network"
    click.echo(f"{out_path}: {image.shape[1]}x{image.shape[0]} PNG ({panels}; azimuth {azimuth:g}, "
               f"elevation {elevation:g}, {colormap}, spp {spp}, transfer {transfer}, decode {mode})")

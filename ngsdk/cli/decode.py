"""``ngsdk decode``: decode a neural volume bundle with the reference runtime into a .npy file."""

from __future__ import annotations

import time
from pathlib import Path

import click
import numpy as np

from ngsdk.cli.common import fail, friendly_errors


@click.command("decode")
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Write the decoded values here (.npy, written atomically).")
@click.option("--mode", type=click.Choice(["float", "exact"]),
              help="Decode arithmetic (default: the bundle's decode_mode).")
@click.option("--denormalize", is_flag=True, help="Write source units (v * (vmax - vmin) + vmin) instead of [0, 1].")
@click.option("--points", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Decode these points instead of every voxel: a .npy of shape (N, 3), x y z in [-1, 1].")
@click.option("--source", type=click.Path(exists=True, path_type=Path),
              help="Print PSNR and max error of the full reconstruction against this source volume.")
@click.option("--backend", type=click.Choice(["numpy", "cupy"]), default="numpy", show_default=True,
              help="Array backend (cupy gives the same bits on a GPU).")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@friendly_errors
def command(bundle: Path, out: Path, mode: str | None, denormalize: bool, points: Path | None,
            source: Path | None, backend: str, quiet: bool) -> None:
    """Decode the neural volume BUNDLE: every voxel (D, H, W) z-major, or the points of --points (N,)."""
    from ngsdk.asset.atomic import atomic_open
    from ngsdk.asset.errors import AssetError
    from ngsdk.asset.manifest import read_manifest
    from runtime_ref.neural_volume import VolumeDecoder, load_neural_volume
    from runtime_ref.neural_volume import denormalize as to_source_units

    manifest = read_manifest(bundle)
    if manifest["kind"] != "neural_volume":
        fail(f"{bundle}: ngsdk decode reads neural_volume bundles, this one is {manifest['kind']!r}")
    if points is not None and source is not None:
        fail("--source compares a full reconstruction; leave out --points")
    asset = load_neural_volume(bundle, manifest)
    dec = VolumeDecoder(asset, mode, backend=backend)
    t0 = time.perf_counter()
    if points is not None:
        try:
            p = np.load(points, allow_pickle=False)
        except (OSError, ValueError) as e:
            raise AssetError(points, f"cannot read as .npy: {e}") from None
        if p.ndim != 2 or p.shape[1] != 3 or p.dtype.kind != "f":
            raise AssetError(points, f"expected float points of shape (N, 3), found {p.dtype} {p.shape}")
        values = dec(p.astype(np.float32))
        what = f"{len(values)} points"
    else:
        values = dec.reconstruct()
        what = "x".join(map(str, asset.shape[::-1])) + " voxels"
    secs = time.perf_counter() - t0
    result = to_source_units(asset, values) if denormalize else values
    with atomic_open(out) as f:
        np.save(f, result, allow_pickle=False)
    if quiet:
        return
    click.echo(f"decoded {what} ({dec.mode}) in {secs:.2f} s -> {out}"
               + (" (source units)" if denormalize else " (normalized)"))
    if source is not None:
        from ngsdk.verify.volume import load_source, volume_metrics

        m = volume_metrics(values, load_source(source, asset), asset)
        click.echo(f"PSNR {m['psnr_db']:.2f} dB (normalized, range 1), max abs error {m['max_abs_error']:.4g}; "
                   f"source units: PSNR {m['psnr_source_db']:.2f} dB (peak {m['source_peak']:g}), "
                   f"max abs error {m['max_abs_error_source']:.4g}")

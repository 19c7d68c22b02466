"""``ngsdk decode``: decode a bundle with the reference runtime: a neural texture into image files (one per
map), a neural volume into a .npy file."""

from __future__ import annotations

import time
from pathlib import Path

import click
import numpy as np

from ngsdk.cli.common import fail, friendly_errors, log, quiet, verbosity_options

TEXTURE_FORMATS = ("png", "exr", "dds", "bc")


@click.command("decode")
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option("--out", required=True, type=click.Path(path_type=Path),
              help="Texture: the folder for the maps (created). Volume: the .npy file. Written atomically.")
@click.option("--mode", type=click.Choice(["float", "exact"]), show_default="the bundle's decode mode",
              help="Decode arithmetic (textures: float is the real-valued view of an integer decoder).")
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
    kind = manifest["kind"]
    texture_only = {"--format": fmt != "png", "--mip": bool(mips), "--all-mips": all_mips, "--normal-y": normal_y}
    volume_only = {"--denormalize": denormalize, "--points": points, "--source": source,
                   "--backend": backend != "numpy"}
    if kind == "neural_texture":
        given = [k for k, v in volume_only.items() if v]
        if given:
            fail(f"{', '.join(given)} appl{'y' if len(given) > 1 else 'ies'} to neural volumes, not textures")
        _decode_texture(bundle, manifest, out, mode, fmt, mips, all_mips, normal_y or "gl")
    elif kind == "neural_volume":
        given = [k for k, v in texture_only.items() if v]
        if given:
            fail(f"{', '.join(given)} appl{'y' if len(given) > 1 else 'ies'} to neural textures, not volumes")
        _decode_volume(bundle, manifest, out, mode, denormalize, points, source, backend)
    else:
        fail(f"{bundle}: ngsdk decode reads neural_texture and neural_volume bundles, this one is {kind!r}")


def _decode_texture(bundle: Path, manifest: dict, out: Path, mode: str | None, fmt: str, mips: tuple[int, ...],
                    all_mips: bool, normal_y: str) -> None:
    from exporters.texture_maps import write_index, write_maps
    from ngsdk.cli.progress import Counter
    from ngsdk.textures.colour import to_uint8
    from ngsdk.textures.metrics import to_stored
    from ngsdk.textures.stored import bytes_to_linear
    from runtime_ref.bundle import load_neural_texture

    asset = load_neural_texture(bundle, manifest)
    if mips and all_mips:
        fail("give --mip or --all-mips, not both")
    bad = [m for m in mips if m >= asset.mip_levels]
    if bad:
        fail(f"--mip {bad[0]}: {bundle} has mips 0 to {asset.mip_levels - 1}")
    if fmt == "bc":
        from ngsdk.textures.bcn import bc_codecs

        bc_codecs()  # fail before decoding when etcpak is missing
    wanted = sorted(set(mips)) or (list(range(asset.mip_levels)) if all_mips or fmt in ("dds", "bc") else [0])
    if mode == "exact" and asset.decode_mode == "float":
        fail(f"--mode exact: {bundle} has a float decoder only (decode mode float)")
    float_view = mode == "float" or asset.decode_mode == "float"
    stored8: dict[int, np.ndarray] = {}
    linear: dict[int, np.ndarray] = {}
    with Counter(len(wanted) + 1, "decode") as counter:
        for m in wanted:
            w, h = asset.mip_size(m)
            counter.step(f"mip {m} ({w}x{h})")
            if float_view:
                from runtime_ref.neural_texture import decode_mip as float_mip

                linear[m] = np.asarray(float_mip(asset, m), dtype=np.float32)
                stored8[m] = to_uint8(to_stored(linear[m], asset.channels))
            else:
                from runtime_ref.neural_texture_modes import decode_mip

                stored8[m] = decode_mip(asset, m)
                linear[m] = bytes_to_linear(stored8[m], asset.channels)
        counter.step(f"write {fmt} maps")
        out.mkdir(parents=True, exist_ok=True)
        entries = write_maps(stored8, linear, asset.channels, out, fmt, normal_y=normal_y)
        write_index(out, entries, bundle.name)
    for e in [] if quiet() else entries:
        click.echo(f"{out / e['file']}: {e['texture']} {e['width']}x{e['height']}, {e['format']}, "
                   f"{e['colour_space']}, mips {e['mips'][0]}" + (f"-{e['mips'][-1]}" if len(e["mips"]) > 1 else ""))


def _decode_volume(bundle: Path, manifest: dict, out: Path, mode: str | None, denormalize: bool,
                   points: Path | None, source: Path | None, backend: str) -> None:
    from ngsdk.asset.atomic import atomic_open
    from ngsdk.asset.errors import AssetError
    from runtime_ref.neural_volume import VolumeDecoder, load_neural_volume
    from runtime_ref.neural_volume import denormalize as to_source_units

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
        log.info("decoding %s voxels ...", "x".join(map(str, asset.shape[::-1])))
        values = dec.reconstruct()
        what = "x".join(map(str, asset.shape[::-1])) + " voxels"
    secs = time.perf_counter() - t0
    result = to_source_units(asset, values) if denormalize else values
    with atomic_open(out) as f:
        np.save(f, result, allow_pickle=False)
    if quiet():
        return
    click.echo(f"decoded {what} ({dec.mode}) in {secs:.2f} s -> {out}"
               + (" (source units)" if denormalize else " (normalized)"))
    if source is not None:
        from ngsdk.verify.volume import load_source, volume_metrics

        m = volume_metrics(values, load_source(source, asset), asset)
        click.echo(f"PSNR {m['psnr_db']:.2f} dB (normalized, range 1), max abs error {m['max_abs_error']:.4g}; "
                   f"source units: PSNR {m['psnr_source_db']:.2f} dB (peak {m['source_peak']:g}), "
                   f"max abs error {m['max_abs_error_source']:.4g}")

"""``ngsdk export``: write engine files for a bundle (dds-npz now; graph formats via exporters.graph)."""

from __future__ import annotations

from pathlib import Path

import click

from ngsdk.cli.common import friendly_errors

FORMATS = ("dds-npz", "onnx", "coreml", "vgf")


@click.command("export")
@click.argument("bundle", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--format", "formats", default="dds-npz", show_default=True,
              help=f"Comma-separated formats: {', '.join(FORMATS)}.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Write a copy of the bundle here instead of adding to BUNDLE.")
@click.option("--precision", type=click.Choice(["fp32", "fp16", "int8"]),
              help="One precision for every format (default: onnx fp32, coreml fp32+fp16, vgf fp32+int8).")
@click.option("--calibration", type=click.Path(exists=True, path_type=Path), help="Calibration data for int8.")
@click.option("--opset", default=17, show_default=True, type=int, help="ONNX opset.")
@click.option("--mip", default=0, show_default=True, type=int, help="Mip of the whole-mip decode graph.")
@friendly_errors
def command(bundle: Path, formats: str, out: Path | None, precision: str | None, calibration: Path | None,
            opset: int, mip: int) -> None:
    """Export BUNDLE to engine formats; the files are listed in its manifest with checksums."""
    from exporters.bundle import write_bundle
    from runtime_ref.bundle import load_neural_texture

    wanted = [f.strip() for f in formats.split(",") if f.strip()]
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown:
        raise click.BadParameter(f"unknown format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    asset = load_neural_texture(bundle)
    target = out or bundle
    if out is not None or "dds-npz" in wanted:
        if out is not None:
            asset.exports = []
        write_bundle(asset, target)
        click.echo(f"dds-npz: {target} ({asset.bits_per_texel():.3f} bpp)")
    graph = [f for f in wanted if f != "dds-npz"]
    if graph:
        from exporters.graph.bundle_exports import export_texture_graphs, merge_exports

        entries = export_texture_graphs(asset, target, graph, precision=precision, calibration=calibration,
                                        opset=opset, mip=mip)
        asset.exports = merge_exports(asset.exports, entries)
        write_bundle(asset, target)
        for e in entries:
            click.echo(f"{e.format:<7} {e.precision:<5} {e.graph:<11} {', '.join(e.files)}")

"""``ngsdk export``: write engine files for a bundle and list them in its manifest."""

from __future__ import annotations

from pathlib import Path

import click

from ngsdk.cli.common import friendly_errors

FORMATS = ("dds-npz", "onnx", "coreml", "vgf")
GRAPH_FORMATS = ("onnx", "coreml", "vgf")


@click.command("export")
@click.argument("bundle", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--format", "formats", default="dds-npz", show_default=True,
              help=f"Comma-separated formats: {', '.join(FORMATS)} (dds-npz: the bundle's own files).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Write a copy of the bundle here instead of adding to BUNDLE.")
@click.option("--precision", type=click.Choice(["fp32", "fp16", "int8"]),
              help="One precision for every format (default: onnx fp32, coreml fp32+fp16, vgf fp32+int8).")
@click.option("--calibration", type=click.Path(exists=True, path_type=Path),
              help="int8 calibration inputs: .npy files (N, K); default: inputs sampled from the bundle.")
@click.option("--opset", default=17, show_default=True, type=int, help="ONNX opset.")
@click.option("--mip", default=0, show_default=True, type=int, help="Mip of the whole-mip decode graph (textures).")
@friendly_errors
def command(bundle: Path, formats: str, out: Path | None, precision: str | None, calibration: Path | None,
            opset: int, mip: int) -> None:
    """Export BUNDLE to engine formats; the files are listed in its manifest with checksums."""
    from ngsdk.asset.manifest import read_manifest

    wanted = [f.strip() for f in formats.split(",") if f.strip()]
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown:
        raise click.BadParameter(f"unknown format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    kind = read_manifest(bundle)["kind"]
    if kind == "neural_texture":
        from exporters.bundle import write_bundle
        from runtime_ref.bundle import load_neural_texture

        asset, write = load_neural_texture(bundle), write_bundle
    elif kind == "shading_mlp":
        from exporters.shading.bundle import write_shading_bundle
        from runtime_ref.shading_bundle import load_shading_mlp

        asset, write = load_shading_mlp(bundle), write_shading_bundle
    elif kind == "neural_volume":
        from exporters.volume_bundle import write_volume_bundle
        from runtime_ref.neural_volume import load_neural_volume

        asset, write = load_neural_volume(bundle), write_volume_bundle
    else:
        raise ValueError(f"{bundle}: no exporter for asset kind {kind!r}")
    target = out or bundle
    if out is not None:
        asset.exports = []
    if out is not None or "dds-npz" in wanted:
        write(asset, target)
        click.echo(f"bundle: {target}")
    graph = [f for f in wanted if f in GRAPH_FORMATS]
    if not graph:
        return
    from exporters.graph.bundle_exports import (
        export_shading_graphs,
        export_texture_graphs,
        export_volume_graphs,
        merge_exports,
    )

    if kind == "neural_texture":
        entries = export_texture_graphs(asset, target, graph, precision=precision, calibration=calibration,
                                        opset=opset, mip=mip)
    elif kind == "neural_volume":
        entries = export_volume_graphs(asset, target, graph, precision=precision, calibration=calibration,
                                       opset=opset)
    else:
        entries = export_shading_graphs(asset, target, graph, precision=precision, calibration=calibration,
                                        opset=opset)
    asset.exports = merge_exports(asset.exports, entries)
    write(asset, target)
    for e in entries:
        click.echo(f"{e.format:<7} {e.precision:<5} {e.graph:<20} {', '.join(e.files)}")

"""``ngsdk export``: write engine files for a bundle and list them in its manifest."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from ngsdk import kinds
from ngsdk.cli.common import fail, friendly_errors, kind_options, log, missing_extra, size_text, verbosity_options

FORMATS = ("dds-npz", "onnx", "coreml", "vgf")
GRAPH_FORMATS = ("onnx", "coreml", "vgf")
KIND_OPTIONS = ("mip", "coreml_io", "deployment_target")
"""The options each kind's graph export takes or refuses (ngsdk.cli.common.kind_options)."""


@click.command("export")
@click.argument("bundle", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--format", "formats", default="dds-npz",
              help=f"Comma-separated formats: {', '.join(FORMATS)} (dds-npz: the bundle's own files).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Write a copy of the bundle here instead of adding to BUNDLE.")
@click.option("--precision", type=click.Choice(["fp32", "fp16", "int8"]),
              show_default="onnx fp32, coreml fp32+fp16, vgf fp32+int8", help="One precision for every format.")
@click.option("--calibration", type=click.Path(exists=True, path_type=Path),
              show_default="inputs sampled from the bundle", help="int8 calibration inputs: .npy files (N, K).")
@click.option("--opset", default=17, type=int, help="ONNX opset.")
@click.option("--mip", default=0, type=int, help="Mip of the whole-mip decode graph (textures).")
@click.option("--coreml-io", type=click.Choice(["image", "tensor"]), default="image",
              help="Core ML IO of PBR reconstruction networks: images as an app hands them over, or float tensors.")
@click.option("--deployment-target", type=click.Choice(["iOS16", "iOS17", "iOS18"]), default="iOS17",
              help="Core ML minimum deployment target (PBR reconstruction networks).")
@verbosity_options
@friendly_errors
def command(bundle: Path, formats: str, out: Path | None, precision: str | None, calibration: Path | None,
            opset: int, mip: int, coreml_io: str, deployment_target: str) -> None:
    """Export BUNDLE to engine formats; the files are listed in its manifest with checksums.

    Everything is written into a temporary folder beside the target and renamed into place at the end, so
    a failed export leaves BUNDLE (or --out) exactly as it was.

    \b
    Example:
      ngsdk export build/ground.ngasset --format dds-npz,onnx,coreml,vgf
    """
    from ngsdk.asset.atomic import EXPORT_STAGING, remove_stale_staging, replace_folder
    from ngsdk.asset.manifest import MANIFEST_NAME, read_manifest
    from ngsdk.asset.payload import split_files
    from ngsdk.exporters.graph.bundle_exports import merge_exports

    wanted = [f.strip() for f in formats.split(",") if f.strip()]
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown:
        raise click.BadParameter(f"unknown format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}",
                                 param_hint="'--format'")
    remove_stale_staging(bundle, EXPORT_STAGING)   # what a killed export left, before the bundle is read
    kind = kinds.of(read_manifest(bundle))
    asset = kind.part("load")(bundle)
    graph = [f for f in wanted if f in GRAPH_FORMATS]
    if graph and kind.graphs is None:
        fail(f"{bundle}: {kind.title} bundles have no graph exports")
    in_place = out is None or out.resolve() == bundle.resolve()
    target = bundle if in_place else out
    if not in_place:
        asset.exports = []
    entries = []

    def fill(tmp: Path) -> dict:
        nonlocal entries
        if not in_place:
            # the kind's writer rebuilds ``tmp`` through its own folder swap, which replaces only a folder that
            # holds a manifest (in place it is among ``keep``): the source's stands in until the writer's own
            shutil.copy2(bundle / MANIFEST_NAME, tmp / MANIFEST_NAME)
        if graph:
            try:
                export_graphs = kind.part("graphs")  # imports torch
                entries = export_graphs(asset, tmp, graph, precision=precision, calibration=calibration,
                                        opset=opset, **kind_options(kind, "graphs", KIND_OPTIONS))
            except ImportError as e:
                hint = missing_extra(e, extra="export")
                if hint is None:
                    raise
                fail(f"ngsdk export --format {','.join(graph)}: {hint}")
            asset.exports = merge_exports(asset.exports, entries)
        return kind.part("write")(asset, tmp)

    # In place, the files of the exports kept and the manifest (the nested writer checks it) go along.
    keep = [MANIFEST_NAME, *(f.split("/")[0] for e in asset.exports for f in e.files)] if in_place else []
    manifest = replace_folder(target, fill, marker=MANIFEST_NAME, keep=keep)
    for e in entries:
        click.echo(f"{e.format:<7} {e.precision:<5} {e.graph:<20} {', '.join(e.files)}")
    payload, verification = split_files(manifest)
    log.info("wrote %s: %d exports; engine payload %s, verification data %s", target,
             len(manifest.get("exports", [])), size_text(sum(payload.values())), size_text(sum(verification.values())))


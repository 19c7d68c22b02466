"""``ngsdk verify``: decode a bundle with the reference runtime and check everything."""

from __future__ import annotations

from pathlib import Path

import click

from ngsdk.asset.errors import AssetError
from ngsdk.asset.manifest import read_manifest


@click.command("verify")
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option("--source", type=click.Path(exists=True, path_type=Path),
              help="Source data to measure quality against.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="Write the report as JSON.")
@click.option("--html", "html_out", type=click.Path(dir_okay=False, path_type=Path), help="Write the report as HTML.")
@click.option("--previews", type=click.Path(file_okay=False, path_type=Path),
              help="Write source|decoded|error PNGs here.")
@click.option("--min-psnr", type=float, help="Fail when mip-0 PSNR is below this (dB).")
@click.option("--mip", "mips", type=int, multiple=True, help="Decode only these mips (default: all).")
@click.option("--engine", type=click.Choice(["unreal", "vulkan", "generic"]),
              help="Check the bundle's decode mode against this engine's sampler rules (NT008): exact, or bounded "
                   "with the worst-case error.")
@click.option("--profile", "profile", help="With --engine: a known sampler implementation instead of the engine's "
              "bounds (lavapipe, lavapipe-mesa25, nvidia, d3d11).")
@click.option("-q", "--quiet", is_flag=True, help="Print only the verdict line.")
def command(bundle: Path, source: Path | None, json_out: Path | None, html_out: Path | None,
            previews: Path | None, min_psnr: float | None, mips: tuple[int, ...], engine: str | None,
            profile: str | None, quiet: bool) -> None:
    """Verify BUNDLE: schema, checksums, decode consistency, bpp and (with --source) PSNR per mip."""
    try:
        manifest = read_manifest(bundle, check_files=False)
    except AssetError as e:
        click.echo(f"FAIL: {e}", err=True)
        raise SystemExit(1) from None
    kind = manifest["kind"]
    if kind == "neural_texture":
        from ngsdk.verify.texture import verify_texture_bundle

        rep = verify_texture_bundle(bundle, source, manifest=manifest, min_psnr=min_psnr, previews=previews,
                                    mips=list(mips) or None, engine=engine, profile=profile)
    elif engine is not None or profile is not None:
        click.echo(f"FAIL: {bundle}: --engine/--profile apply to neural textures, not {kind!r}", err=True)
        raise SystemExit(1)
    elif kind == "shading_mlp":
        from ngsdk.verify.shading import verify_shading_bundle

        rep = verify_shading_bundle(bundle, source, manifest=manifest, min_psnr=min_psnr, previews=previews)
    elif kind == "neural_volume":
        from ngsdk.verify.volume import verify_volume_bundle

        rep = verify_volume_bundle(bundle, source, manifest=manifest, min_psnr=min_psnr, previews=previews)
    else:
        click.echo(f"FAIL: {bundle}: no verifier for asset kind {kind!r}", err=True)
        raise SystemExit(1)
    if rep.passed and manifest.get("exports"):
        from ngsdk.verify.exports import verify_exports

        asset = None
        if kind == "neural_texture":
            from runtime_ref.bundle import load_neural_texture

            asset = load_neural_texture(bundle, manifest)
        elif kind == "neural_volume":
            from runtime_ref.neural_volume import load_neural_volume

            asset = load_neural_volume(bundle, manifest)
        verify_exports(rep, bundle, manifest, asset)
    if json_out:
        rep.write_json(json_out)
    if html_out:
        from ngsdk.verify.html import write_html

        write_html(rep, html_out)
    if not quiet:
        click.echo(rep.text())
    failed = [c for c in rep.checks if c.status == "fail"]
    if failed:
        click.echo(f"FAIL: {failed[0].message}", err=True)
        raise SystemExit(1)
    if quiet:
        click.echo("PASS")

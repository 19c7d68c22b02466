"""``ngsdk verify``: decode a bundle with the reference runtime and check everything."""

from __future__ import annotations

from pathlib import Path

import click

from ngsdk import kinds
from ngsdk.asset.errors import AssetError
from ngsdk.asset.manifest import read_manifest
from ngsdk.cli.common import fail, kind_options, log, quiet, verbosity_options
from ngsdk.verify.catalog import Status
from ngsdk.verify.catalog import neural_texture as NT

KIND_OPTIONS = ("mips", "engine", "profile")
"""The options each kind's verifier takes or refuses (ngsdk.cli.common.kind_options)."""


@click.command("verify")
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option("--source", type=click.Path(exists=True, path_type=Path),
              help="Source data to measure quality against (must be the files the bundle was trained on).")
@click.option("--json", "json_out", is_flag=False, flag_value="-", type=click.Path(dir_okay=False, allow_dash=True),
              help="Write the report as JSON: to FILE, or with no value (or -) to stdout (the text report then goes "
                   "to stderr).")
@click.option("--html", "html_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report as a self-contained HTML page.")
@click.option("--previews", type=click.Path(file_okay=False, path_type=Path),
              help="Write source|decoded|error PNGs here.")
@click.option("--min-psnr", type=float, help="Fail when mip-0 PSNR is below this (dB): measured with --source, else "
              "the PSNR the trainer recorded (the report says which).")
@click.option("--mip", "mips", type=click.IntRange(min=0), multiple=True, show_default="all",
              help="Decode only these mips.")
@click.option("--engine", type=click.Choice(["unreal", "vulkan", "generic"]),
              help=f"Check the bundle's decode mode against this engine's sampler rules ({NT.ENGINE}): exact, or "
                   "bounded with the worst-case error.")
@click.option("--profile", "profile", help="With --engine: a known sampler implementation instead of the engine's "
              "bounds (lavapipe, lavapipe-mesa25, nvidia, d3d11).")
@click.option("--allow-missing-reference", is_flag=True,
              help="Warn instead of failing when the bundle records no reference decode hash (bundles written "
                   "by older ngsdk versions); without one, changed weights cannot be told from trained ones.")
@click.option("--strict", is_flag=True, help="Fail when a check is skipped because a tool is missing (CI machines "
              "that must run every export check).")
@verbosity_options
def command(bundle: Path, source: Path | None, json_out: str | None, html_out: Path | None,
            previews: Path | None, min_psnr: float | None, mips: tuple[int, ...], engine: str | None,
            profile: str | None, allow_missing_reference: bool, strict: bool) -> None:
    """Verify BUNDLE: schema, checksums, decode consistency, bpp, graph exports and (with --source) PSNR per mip.

    Exit code 0 on PASS, 1 on FAIL (the first failed check is the last line on stderr), 2 on bad usage.
    Without the export tools (pip install 'ngsdk[export]') the export runs are SKIPPED, not failed.

    \b
    Example:
      ngsdk verify build/ground.ngasset --source ngsdk/samples/ground068_512 --html report.html --min-psnr 20
    """
    from ngsdk.cli.progress import Counter
    from ngsdk.verify.report import allow_missing_reference as allowing_missing_reference

    if profile is not None:
        from ngsdk.runtime_ref.sampling import PROFILES

        if profile not in PROFILES:
            fail(f"--profile: unknown sampler profile {profile!r} (use one of {', '.join(PROFILES)})")
        if engine is None:
            fail("--profile needs --engine (it replaces that engine's bounds)")
    try:
        manifest = read_manifest(bundle, check_files=False)
    except AssetError as e:
        fail(str(e), code=1)
    kind = kinds.of(manifest)
    options = kind_options(kind, "verify", KIND_OPTIONS)
    if "mips" in options:
        options["mips"] = list(options["mips"])
    with Counter(0, "verify") as counter, allowing_missing_reference(allow_missing_reference):
        try:
            rep = kind.part("verify")(bundle, source, manifest=manifest, min_psnr=min_psnr, previews=previews,
                                      log=lambda s: log.debug("%s", s), progress=counter,
                                      context=html_out is not None, **options)
        except ValueError as e:  # a usage error the verifier found before decoding: --min-psnr with no PSNR
            fail(f"{bundle}: {e}")
    rep.strict = strict
    try:
        if json_out:
            if json_out == "-":
                import json

                click.echo(json.dumps(rep.to_json(), indent=2))
            else:
                rep.write_json(json_out)
        if html_out:
            from ngsdk.verify.html import write_html

            write_html(rep, html_out)
    except OSError as e:   # a full disk, a read-only folder, a path under a file: one line, not a traceback
        fail(f"{e.filename or json_out or html_out}: cannot write the report: {e.strerror or e}")
    # the report is the result: stdout, unless stdout carries the JSON; -q keeps only the verdict line
    text = rep.verdict() if quiet() else rep.text()
    click.echo(text, err=json_out == "-")
    failed = rep.failing()
    if failed:
        c = failed[0]
        why = c.message if c.status == Status.FAIL else f"skipped under --strict: {c.message}"
        fail(f"{c.code} {c.name}: {why}", code=1)


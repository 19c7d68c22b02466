"""``ngsdk inspect``: a human summary of a bundle (reads the manifest; checks nothing heavy)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ngsdk import kinds
from ngsdk.cli.common import friendly_errors, log, size_text, verbosity_options


def describe(manifest: dict[str, Any]) -> str:
    """Render the manifest as an aligned, human-readable summary: the kind's own lines (ngsdk.kinds), then
    metrics, provenance, exports and files."""
    lines = [f"{manifest['name']}  ({manifest['kind']}, ngasset {manifest['format_version']})"]
    lines += kinds.of(manifest).part("inspect")(manifest)
    prov = manifest["provenance"]
    m = prov.get("metrics", {})
    if m:
        head = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in m.items() if k != "per_mip"}
        lines.append(f"metrics      {json.dumps(head)}")
        if "per_mip" in m:
            tex = m["per_mip"][0]["textures_db"]
            lines.append("  mip0 PSNR   " + ", ".join(f"{k} {v:.2f} dB" for k, v in tex.items()))
    lines.append(f"provenance   ngsdk {prov['ngsdk_version']}, seed {prov['seed']}, "
                 f"{len(prov.get('sources', {}))} source files, {len(prov.get('reference_decode', {}))} decode hashes")
    for x in manifest.get("exports", []):
        lines.append(f"export       {x['format']:<8} {x['precision']:<5} {x['graph']:<10} {', '.join(x['files'])}")
    from ngsdk.asset.payload import split_files

    payload, verification = split_files(manifest)
    total = sum(payload.values()) + sum(verification.values())
    lines.append(f"files        {len(manifest['files'])} files, {size_text(total)}: engine payload "
                 f"{size_text(sum(payload.values()))} ({len(payload)} files), verification data "
                 f"{size_text(sum(verification.values()))} ({len(verification)} export reference files, read "
                 f"only by ngsdk verify)")
    return "\n".join(lines)


def write_output(text: str, dest: str) -> None:
    """``-``: print ``text`` on stdout; a path: write it atomically and print the path (for ``$(...)``)."""
    if dest == "-":
        click.echo(text, nl=not text.endswith("\n"))
        return
    from ngsdk.asset.atomic import atomic_write_bytes

    atomic_write_bytes(dest, text.encode("utf-8"))
    click.echo(dest)


@click.command("inspect")
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option("--json", "json_out", is_flag=False, flag_value="-", type=click.Path(dir_okay=False, allow_dash=True),
              help="The manifest as JSON: to FILE, or with no value (or -) to stdout.")
@click.option("--config", "config_out", is_flag=False, flag_value="-",
              type=click.Path(dir_okay=False, allow_dash=True),
              help="The recorded training configuration as an `ngsdk train --config` TOML file: to FILE (its path "
                   "is printed), or with no value (or -) to stdout.")
@verbosity_options
@friendly_errors
def command(bundle: Path, json_out: str | None, config_out: str | None) -> None:
    """Summarise BUNDLE: channels, grids, decoder, metrics, provenance, exports, files (engine payload and
    verification data separately).

    \b
    Examples:
      ngsdk inspect build/ground.ngasset
      ngsdk train texture SRC --out again.ngasset --config $(ngsdk inspect build/ground.ngasset --config cfg.toml)
    """
    from ngsdk.asset.manifest import read_manifest

    manifest = read_manifest(bundle, check_files=False)
    if config_out is not None:
        from ngsdk.cli.config_file import toml_lines
        from ngsdk.cli.replay import replay_config

        usecase, values, notes = replay_config(manifest)
        for note in notes:
            log.warning("%s", note)
        head = (f"# ngsdk train {usecase} --config: the training of {bundle} "
                f"(ngsdk {manifest['provenance']['ngsdk_version']})\n")
        write_output(head + toml_lines(values), config_out)
    if json_out is not None:
        write_output(json.dumps(manifest, indent=2) + "\n", json_out)
    if config_out is None and json_out is None:
        try:
            text = describe(manifest)
        except (KeyError, TypeError, IndexError, AttributeError, ValueError) as e:
            # the schemas leave some fields open (metrics, provenance.config): say which one is malformed
            from ngsdk.asset.errors import AssetError

            raise AssetError(bundle / "manifest.json", f"malformed field for inspect ({type(e).__name__}: "
                                                       f"{' '.join(str(e).split())[:160]})") from None
        click.echo(text)

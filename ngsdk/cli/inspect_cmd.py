"""``ngsdk inspect``: a human summary of a bundle (reads the manifest; checks nothing heavy)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ngsdk.cli.common import friendly_errors


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def describe(manifest: dict) -> str:
    """Render the manifest as an aligned, human-readable summary."""
    lines = [f"{manifest['name']}  ({manifest['kind']}, ngasset {manifest['format_version']})"]
    prov = manifest["provenance"]
    if manifest["kind"] == "neural_texture":
        t = manifest["texture"]
        sampler = manifest["sampler"]
        lines.append(f"texture      {t['width']}x{t['height']}, {t['mip_levels']} mips, decode mode "
                     f"{manifest['decode_mode']}, sampler {sampler['filter']}/{sampler['address']}")
        lines.append("channels")
        for c in manifest["channels"]:
            extra = f", {c['normal_convention'].upper()} normal" if c.get("normal_convention") else ""
            lines.append(f"  {c['name']:<14} {c['semantic']:<13} {c['colour_space']}{extra}"
                         f"{'  <- ' + c['source'] if c.get('source') else ''}")
        lines.append("grids")
        for g in manifest["grids"]:
            lines.append(f"  {g['name']:<8} {g['width']}x{g['height']} x {g['levels']} levels, "
                         f"{g['features']} features x {g['bits']} bits -> {g['array_size']} RGBA8 slices  {g['file']} "
                         f"({_size(manifest['files'][g['file']]['bytes'])})")
        d = manifest["decoder"]
        dims = " -> ".join([str(d["inputs"])] + [f"{l['outputs']} {l['activation']}" for l in d["layers"]])
        lines.append(f"decoder      {dims}  ({d['file']}, {d['dtype']})")
        e = manifest["encoding"]
        lines.append(f"encoding     {e['type']} frequencies {e.get('frequencies')} phases {e.get('phases')}")
    elif manifest["kind"] == "shading_mlp":
        img, enc, wts = manifest["image"], manifest["encoding"], manifest["weights"]
        lines.append(f"image        {img['width']}x{img['height']} {','.join(img['channels'])} "
                     f"{img.get('colour_space', '')}, transform {img.get('transform', 'none')}")
        lines.append(f"encoding     {enc['type']}, {enc['inputs']} inputs x {enc['features_per_input']} features")
        dims = " -> ".join([str(wts["layers"][0].get("inputs", "?"))] +
                           [f"{l.get('outputs', '?')} {l.get('activation', '')}".strip() for l in wts["layers"]])
        lines.append(f"network      {dims}  ({wts['file']}, decode {manifest['decode']['precision']})")
        for p in manifest.get("portable", []):
            lines.append(f"portable     {p.get('format', '?'):<8} {p.get('precision', ''):<5} {p.get('file', '')}")
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
    total = sum(f["bytes"] for f in manifest["files"].values())
    lines.append(f"files        {len(manifest['files'])} files, {_size(total)}")
    return "\n".join(lines)


@click.command("inspect")
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the manifest JSON instead.")
@friendly_errors
def command(bundle: Path, as_json: bool) -> None:
    """Summarise BUNDLE: channels, grids, decoder, metrics, provenance, exports, files."""
    from ngsdk.asset.manifest import read_manifest

    manifest = read_manifest(bundle, check_files=False)
    click.echo(json.dumps(manifest, indent=2) if as_json else describe(manifest))

"""``ngsdk inspect``: a human summary of a bundle (reads the manifest; checks nothing heavy)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ngsdk.cli.common import friendly_errors, log, verbosity_options


def size_text(n: int) -> str:
    """A byte count for people: ``655.4 KiB``."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def _box(b: list[int]) -> str:
    return f"z[{b[0]},{b[1]}) y[{b[2]},{b[3]}) x[{b[4]},{b[5]})"


def _transform(t: list[list[float]]) -> str:
    """Diagonal, |det| and translation of a grid transform (q = T[:, :3] p + T[:, 3]); notes off-diagonal terms."""
    import numpy as np

    a = np.array(t, dtype=np.float64)
    diag = ", ".join(f"{v:.3g}" for v in np.diag(a[:, :3]))
    off = np.abs(a[:, :3] - np.diag(np.diag(a[:, :3]))).max()
    text = (f"transform diag ({diag}) |det| {abs(np.linalg.det(a[:, :3])):.3g}, "
            f"translation ({', '.join(f'{v:.3g}' for v in a[:, 3])})")
    return text + (f", off-diagonal up to {off:.3g}" if off > 0 else "")


def _taps_line(texture: dict[str, Any], grid_names: list[str]) -> str:
    """The latent taps: the grids they read, each mip's levels (tap levels joined by /) and LOD inputs;
    format 1.x (``grid_levels``) reads as one tap per grid."""
    if "mip_inputs" in texture:
        taps = [e["taps"] for e in texture["mip_inputs"]]
        lods = [str(e["lod"]) for e in texture["mip_inputs"] if "lod" in e]
    else:
        taps = [[[g, lv] for g, lv in enumerate(row)] for row in texture["grid_levels"]]
        lods = []
    grids = ", ".join(grid_names[g] for g, _ in taps[0])
    levels = " ".join("/".join(str(lv) for _, lv in row) for row in taps)
    return (f"taps         {len(taps[0])} per mip ({grids}), levels by mip {levels}"
            + (f"; LOD inputs {' '.join(lods)}" if lods else ""))


def _volume_lines(manifest: dict) -> list[str]:
    import numpy as np

    v = manifest["volume"]
    d, h, w = v["shape"]
    nrm = v["normalization"]
    dec = manifest.get("decode", {})
    lines = [f"volume       {w}x{h}x{d} (x, y, z; stored {v.get('axes', 'zyx')}), source {nrm['source_dtype']}, "
             f"normalized from [{nrm['vmin']:g}, {nrm['vmax']:g}]",
             f"decode       {manifest['decode_mode']} ({dec.get('arithmetic', '?')}, output {dec.get('output', '?')})"]
    grid_bytes = dec_bytes = 0
    lines.append(f"bricks       {len(manifest['bricks'])}")
    for b in manifest["bricks"]:
        lines.append(f"  {b['name']:<10} core {_box(b['core'])}  fit {_box(b['fit'])}")
        for g in b["grids"]:
            texel = 4 if g["storage"] == "unorm8" else 8
            grid_bytes += g["width"] * g["height"] * g["depth"] * texel
            deq = g.get("dequantize", {})
            q = f", scale {deq['scale']:.4g} offset {deq['offset']:.4g}" if g["storage"] == "unorm8" else ""
            lines.append(f"    {g['name']:<8} {g['width']}x{g['height']}x{g['depth']} x {g['features']} features "
                         f"{g['storage']}{q}; {_transform(g['transform'])}  {g['file']}")
        dd = b["decoder"]
        dec_bytes += sum(ly["outputs"] * (ly["inputs"] + 1) * 4 for ly in dd["layers"])
        dims = " -> ".join([str(dd["inputs"])] + [f"{ly['outputs']} {ly['activation']}" for ly in dd["layers"]])
        lines.append(f"    decoder  {dims}  ({dd['file']}, {dd.get('dtype', 'float32')})")
    stored = grid_bytes + dec_bytes
    source = d * h * w * np.dtype(nrm["source_dtype"]).itemsize
    lines.append(f"stored       {size_text(stored)} (grids {size_text(grid_bytes)}, decoders "
                 f"{size_text(dec_bytes)}); source {size_text(source)}; compression {source / stored:.1f}:1")
    psnr = manifest["provenance"].get("metrics", {}).get("psnr_db")
    if psnr is not None:
        lines.append(f"PSNR         {psnr:.2f} dB (normalized, from provenance)")
    return lines


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
                         f"({size_text(manifest['files'][g['file']]['bytes'])})")
        lines.append(_taps_line(manifest["texture"], [g["name"] for g in manifest["grids"]]))
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
    elif manifest["kind"] == "neural_volume":
        lines += _volume_lines(manifest)
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
        click.echo(describe(manifest))

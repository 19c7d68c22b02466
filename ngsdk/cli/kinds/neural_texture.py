"""The neural texture's share of the CLI: its ``ngsdk inspect`` lines and ``ngsdk decode`` (maps as png, exr,
dds or bc files)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import numpy as np

from ngsdk.cli.common import fail, quiet, size_text


def describe(manifest: dict[str, Any]) -> list[str]:
    """Texture size and mips, channels, grids, latent taps, decoder and encoding."""
    lines: list[str] = []
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
    return lines


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


def decode(bundle: Path, manifest: dict[str, Any], out: Path, *, mode: str | None = None, fmt: str = "png",
           mips: tuple[int, ...] = (), all_mips: bool = False, normal_y: str | None = None) -> None:
    """``ngsdk decode`` of a neural texture: one file per map (albedo, normal, roughness, ...) in the folder
    ``out``, each in its own colour space and normal convention (``normal_y``, default gl), with maps.json."""
    from ngsdk.cli.progress import Counter
    from ngsdk.exporters.neural_texture_maps import write_index, write_maps
    from ngsdk.runtime_ref.neural_texture import load_neural_texture
    from ngsdk.textures.colour import to_uint8
    from ngsdk.textures.metrics import to_stored
    from ngsdk.textures.stored import bytes_to_linear

    normal_y = normal_y or "gl"
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
                from ngsdk.runtime_ref.neural_texture import decode_mip as float_mip

                linear[m] = np.asarray(float_mip(asset, m), dtype=np.float32)
                stored8[m] = to_uint8(to_stored(linear[m], asset.channels))
            else:
                from ngsdk.runtime_ref.neural_texture_modes import decode_mip

                stored8[m] = decode_mip(asset, m)
                linear[m] = bytes_to_linear(stored8[m], asset.channels)
        counter.step(f"write {fmt} maps")
        out.mkdir(parents=True, exist_ok=True)
        entries = write_maps(stored8, linear, asset.channels, out, fmt, normal_y=normal_y)
        write_index(out, entries, bundle.name)
    for e in [] if quiet() else entries:
        click.echo(f"{out / e['file']}: {e['texture']} {e['width']}x{e['height']}, {e['format']}, "
                   f"{e['colour_space']}, mips {e['mips'][0]}" + (f"-{e['mips'][-1]}" if len(e["mips"]) > 1 else ""))

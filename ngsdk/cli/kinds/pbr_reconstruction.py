"""The PBR reconstruction network's share of the CLI: its ``ngsdk inspect`` lines (no ``ngsdk decode``: the
maps come from ``ngsdk infer pbr``)."""

from __future__ import annotations

from typing import Any


def describe(manifest: dict[str, Any]) -> list[str]:
    """Role and preset, architecture, IO sizes and maps, reference set, teacher."""
    m, arch = manifest["model"], manifest["model"]["architecture"]
    ins, outs = manifest["input"], manifest["output"]
    lines = [f"network      {m['role']} {m['preset']}: {arch.get('encoder', '?')} encoder, ViT fusion "
             f"{arch.get('dim', '?')} wide x {arch.get('depth', '?')}, {m.get('parameters', 0):,} parameters"]
    lines.append(f"input        {', '.join(ins['views'])}: {ins['size'][0]}x{ins['size'][1]} {ins['colour_space']} "
                 "(normalisation inside the graph)")
    maps = ", ".join(f"{x['name']} {x['colour_space']}" + (f" {x['convention'].upper()}" if x.get("convention") else "")
                     for x in outs["maps"])
    lines.append(f"output       {outs['size'][0]}x{outs['size'][1]}: {maps}")
    if "reference" in manifest:
        lines.append(f"reference    {manifest['reference']['samples']} samples ({manifest['reference']['file']})")
    teacher = manifest.get("teacher")
    if teacher:
        spec = teacher.get("spec", {})
        lines.append(f"teacher      {spec.get('encoder', '?')} {spec.get('image_size', '?')} px "
                     f"({teacher.get('source') or teacher.get('shards') or 'stored outputs'})")
    return lines

"""The shading MLP's share of the CLI: its ``ngsdk inspect`` lines (shading bundles have no ``ngsdk decode``)."""

from __future__ import annotations

from typing import Any


def describe(manifest: dict[str, Any]) -> list[str]:
    """Image, encoding, network and portable exports."""
    lines: list[str] = []
    img, enc, wts = manifest["image"], manifest["encoding"], manifest["weights"]
    lines.append(f"image        {img['width']}x{img['height']} {','.join(img['channels'])} "
                 f"{img.get('colour_space', '')}, transform {img.get('transform', 'none')}")
    lines.append(f"encoding     {enc['type']}, {enc['inputs']} inputs x {enc['features_per_input']} features")
    dims = " -> ".join([str(wts["layers"][0].get("inputs", "?"))] +
                       [f"{l.get('outputs', '?')} {l.get('activation', '')}".strip() for l in wts["layers"]])
    lines.append(f"network      {dims}  ({wts['file']}, decode {manifest['decode']['precision']})")
    for p in manifest.get("portable", []):
        lines.append(f"portable     {p.get('format', '?'):<8} {p.get('precision', ''):<5} {p.get('file', '')}")
    return lines

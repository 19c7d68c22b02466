"""Render a verification report as a self-contained HTML page (previews embedded)."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from ngsdk.asset.atomic import atomic_write_bytes
from ngsdk.verify.report import Report

_CSS = """body{font:14px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}th{background:#f3f3f3}.pass{color:#0a7a2f}
.fail{color:#b00020;font-weight:bold}.warn{color:#a36b00}.skip{color:#777}img{max-width:100%;margin:6px 0}"""


def _per_mip_table(per_mip: dict) -> str:
    names = list(next(iter(per_mip.values()))["textures_db"])
    head = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    rows = []
    for mip, m in per_mip.items():
        cells = "".join(f"<td>{m['textures_db'][n]:.2f}</td>" for n in names)
        rows.append(f"<tr><td>{mip} ({m['width']}x{m['height']})</td><td>{m['overall_db']:.2f}</td>{cells}</tr>")
    return f"<table><tr><th>mip</th><th>overall dB</th>{head}</tr>{''.join(rows)}</table>"


def render_html(rep: Report) -> str:
    e = html.escape
    verdict = "PASS" if rep.passed else "FAIL"
    parts = [f"<!doctype html><meta charset=utf-8><title>ngsdk verify {e(rep.bundle)}</title><style>{_CSS}</style>",
             f"<h1>{e(Path(rep.bundle).name)} <span class={verdict.lower()}>{verdict}</span></h1>",
             f"<p>kind {e(rep.kind)}; " + "; ".join(f"{e(str(k))}: {e(str(v))}" for k, v in rep.summary.items()
                                                     if k not in ("textures_db",)) + "</p>",
             "<table><tr><th>code</th><th>check</th><th>status</th><th>message</th></tr>"]
    for c in rep.checks:
        parts.append(f"<tr><td>{e(c.code)}</td><td>{e(c.name)}</td><td class={e(c.status)}>{e(c.status.upper())}"
                     f"</td><td>{e(c.message)}</td></tr>")
    parts.append("</table>")
    for c in rep.checks:
        if "per_mip" in c.details:
            parts.append("<h2>PSNR per mip and texture</h2>" + _per_mip_table(c.details["per_mip"]))
        if "formats" in c.details:
            parts.append("<h2>Graph exports</h2><table><tr><th>format</th><th>result</th></tr>")
            for k, v in c.details["formats"].items():
                parts.append(f"<tr><td>{e(k)}</td><td>{e(str(v))}</td></tr>")
            parts.append("</table>")
    if rep.previews:
        parts.append("<h2>Previews</h2>")
        for p in rep.previews:
            data = base64.b64encode(Path(p).read_bytes()).decode()
            parts.append(f"<div><img alt='{e(Path(p).name)}' src='data:image/png;base64,{data}'></div>")
    return "\n".join(parts) + "\n"


def write_html(rep: Report, path: str | Path) -> None:
    atomic_write_bytes(path, render_html(rep).encode("utf-8"))

"""Render a verification report as a self-contained HTML page (previews embedded)."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from ngsdk.asset.atomic import atomic_write_bytes
from ngsdk.verify.catalog import Status
from ngsdk.verify.report import Report

_CSS = """body{font:14px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}th{background:#f3f3f3}.pass{color:#0a7a2f}
.fail{color:#b00020;font-weight:bold}.warn{color:#a36b00}.skip{color:#777}img{max-width:100%;margin:6px 0}
table.summary th{text-align:right;width:12em}.context{background:#f5f8ff;border-left:4px solid #5b7fd6;padding:6px 10px}
.warnbox{background:#fff6e5;border-left:4px solid #a36b00;padding:6px 10px}"""


def _per_mip_table(per_mip: dict) -> str:
    names = list(next(iter(per_mip.values()))["textures_db"])
    head = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    rows = []
    for mip, m in per_mip.items():
        cells = "".join(f"<td>{m['textures_db'][n]:.2f}</td>" for n in names)
        rows.append(f"<tr><td>{mip} ({m['width']}x{m['height']})</td><td>{m['overall_db']:.2f}</td>{cells}</tr>")
    return f"<table><tr><th>mip</th><th>overall dB</th>{head}</tr>{''.join(rows)}</table>"


def _fmt(v: object) -> str:
    """A summary value for people: floats rounded, lists joined, dicts as ``key value`` pairs."""
    if isinstance(v, float):
        return f"{v:.3f}"
    if isinstance(v, (list, tuple)):
        return ", ".join(_fmt(x) for x in v)
    if isinstance(v, dict):
        return "; ".join(f"{k} {_fmt(x)}" for k, x in v.items())
    return str(v)


def _header_rows(rep: Report) -> list[tuple[str, str]]:
    """(label, text) rows of the summary table at the top of the page."""
    s = rep.summary
    rows = [("material", f"{s.get('name') or Path(rep.bundle).name.removesuffix('.ngasset')} ({rep.kind})")]
    if rep.kind == "neural_texture":
        if "size" in s:
            rows.append(("size", f"{s['size'][0]}x{s['size'][1]}, {s.get('mips', '?')} mips, "
                                 f"{len(s.get('channels', []))} channels"))
        rows.append(("decode mode", str(s.get("decode_mode", "?"))))
        if "bpp" in s:
            rows.append(("bits per texel", f"{s['bpp']:.3f} bpp"))
        if "psnr_db" in s:
            how = s.get("psnr_source", "measured against --source")
            per = ", ".join(f"{k} {v:.2f}" for k, v in s.get("textures_db", {}).items())
            rows.append(("PSNR mip 0", f"{s['psnr_db']:.2f} dB ({how})" + (f"; {per}" if per else "")))
        else:
            rows.append(("PSNR mip 0", "not measured (give --source)"))
    else:
        for k, v in s.items():
            if k not in ("exports", "textures_db", "name"):
                rows.append((k.replace("_", " "), _fmt(v)))
    counts = {st: sum(1 for c in rep.checks if c.status == st) for st in Status}
    rows.append(("checks", ", ".join(f"{n} {st}" for st, n in counts.items() if n) or "none"))
    return rows


def _context(rep: Report) -> list[str]:
    """Paragraphs that put the result in context: BCn on the same source, convergence warnings."""
    e = html.escape
    out = []
    s = rep.summary
    bcn = s.get("bcn")
    if isinstance(bcn, dict) and "overall_db" in bcn:
        per = ", ".join(f"{k} {v:.2f}" for k, v in bcn.get("textures_db", {}).items())
        ours = f"{s['psnr_db']:.2f} dB at {s['bpp']:.2f} bpp" if "psnr_db" in s and "bpp" in s else "see above"
        out.append(f"<p class=context><b>Block compression of the same source</b> ({e(bcn['layout'])}, "
                   f"{e(bcn.get('encoder', ''))}): {bcn['overall_db']:.2f} dB at {bcn['bpp']:.2f} bpp ({e(per)}). "
                   f"This bundle: {e(ours)}.</p>")
    elif isinstance(bcn, dict) and "unavailable" in bcn:
        out.append(f"<p class=context>BCn figure for this source not computed: {e(bcn['unavailable'])}</p>")
    elif rep.kind == "neural_texture" and "psnr_db" not in s:
        out.append("<p class=context>Give <code>--source</code> to measure PSNR and see the BCn figure of the "
                   "same source beside it.</p>")
    for c in rep.checks:
        if c.status == Status.WARN:
            out.append(f"<p class=warnbox><b>{e(c.code)} {e(c.name)}</b>: {e(c.message)}</p>")
    return out


def render_html(rep: Report) -> str:
    e = html.escape
    verdict = rep.verdict()
    parts = [f"<!doctype html><meta charset=utf-8><title>ngsdk verify {e(rep.bundle)}</title><style>{_CSS}</style>",
             f"<h1>{e(Path(rep.bundle).name)} <span class={'pass' if rep.passed else 'fail'}>{e(verdict)}</span></h1>",
             "<table class=summary>" + "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>"
                                               for k, v in _header_rows(rep)) + "</table>",
             *_context(rep),
             "<h2>Checks</h2><table><tr><th>code</th><th>check</th><th>status</th><th>message</th></tr>"]
    for c in rep.checks:
        parts.append(f"<tr><td>{e(c.code)}</td><td>{e(c.name)}</td><td class={c.status.value}>{c.status.value.upper()}"
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

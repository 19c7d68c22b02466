"""The library report: ``OUT/report.json`` (every item's record, row and output paths) and ``OUT/report.html``
(a table with one row per item, the worst error map as a thumbnail, and a rate-distortion plot over the
library drawn as inline SVG, so the page needs no plotting package and no second file). Fields: docs/batch.md.
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ngsdk import __version__
from ngsdk.asset.atomic import atomic_write_bytes
from ngsdk.batch import records
from ngsdk.batch.library import Item

_CSS = """body{font:14px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}th{background:#f3f3f3}
.ok{color:#0a7a2f}.failed{color:#b00020;font-weight:bold}.missing{color:#777}td.num{text-align:right}
.tex td{border:none;padding:0 6px 0 0}img{image-rendering:pixelated}"""
OURS, BCN = "#2f6fd6", "#e07a10"


def report_rows(out: Path, items: list[Item]) -> list[dict[str, Any]]:
    """One entry per library item: its record's fields and row, or ``status: missing`` (never trained)."""
    rows = []
    for item in items:
        rec = records.read_record(out, item.name) or {}
        entry: dict[str, Any] = {"name": item.name, "source": str(item.source),
                                 "status": rec.get("status", "missing")}
        for k in ("key", "error", "finished"):
            if k in rec:
                entry[k] = rec[k]
        if rec.get("status") == "ok":
            entry.update(rec.get("row", {}))
            entry["bundle"] = records.bundle_path(out, item.name).relative_to(out).as_posix()
            if records.thumbnail_path(out, item.name).is_file():
                entry["thumbnail"] = records.thumbnail_path(out, item.name).relative_to(out).as_posix()
        if records.log_path(out, item.name).is_file():
            entry["log"] = records.log_path(out, item.name).relative_to(out).as_posix()
        rows.append(entry)
    return rows


def write_report(out: Path, kind: str, library: Path, items: list[Item],
                 log: Callable[[str], None] | None = None) -> Path:
    """Write ``report.json`` and ``report.html`` into ``out``; return the JSON's path."""
    rows = report_rows(out, items)
    counts = {s: sum(r["status"] == s for r in rows) for s in ("ok", "failed", "missing")}
    doc = {"ngsdk": __version__, "kind": kind, "library": str(library), "items": rows, "counts": counts,
           "written": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    path = out / "report.json"
    atomic_write_bytes(path, (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode())
    atomic_write_bytes(out / "report.html", render_html(out, doc).encode())
    if log:
        log(f"report: {path} and {out / 'report.html'} ({counts['ok']} ok, {counts['failed']} failed, "
            f"{counts['missing']} not trained)")
    return path


def _f(v: Any, fmt: str = ".2f") -> str:
    return format(v, fmt) if isinstance(v, (int, float)) and v == v else "–"


def _thumb(out: Path, row: dict[str, Any]) -> str:
    if "thumbnail" not in row:
        return ""
    try:
        data = base64.b64encode((out / row["thumbnail"]).read_bytes()).decode()
    except OSError:
        return ""
    what = f"|error| of {row.get('worst_texture', 'the worst texture')}"
    return f'<img src="data:image/png;base64,{data}" title="{html.escape(what)}" alt="{html.escape(what)}">'


def _texture_cells(row: dict[str, Any]) -> str:
    tex = row.get("textures_db", {})
    bc = (row.get("bcn") or {}).get("textures_db", {})
    lines = "".join(f"<tr><td>{html.escape(k)}</td><td>{_f(v)}</td><td>{_f(bc.get(k)) if bc else ''}</td></tr>"
                    for k, v in tex.items())
    head = "<tr><td></td><td>ours</td><td>BCn</td></tr>" if bc else ""
    return f'<table class="tex">{head}{lines}</table>'


def _row_html(out: Path, kind: str, r: dict[str, Any]) -> str:
    name = html.escape(r["name"])
    status = f'<span class="{r["status"]}">{r["status"]}</span>'
    if r["status"] != "ok":
        return (f"<tr><td>{name}</td><td>{status}</td><td colspan=7>{html.escape(r.get('error', ''))}</td>"
                f"<td>{html.escape(r['source'])}</td></tr>")
    if kind == "texture":
        chans = r.get("channels", [])
        bc = r.get("bcn")
        bc_txt = f"<br>BCn {_f(bc['bpp'])} bpp, {_f(bc['psnr_db'])} dB ({html.escape(bc['layout'])})" if bc else ""
        cells = [f'<td title="{html.escape(", ".join(chans))}">{len(chans)}</td>',
                 f"<td>{r.get('width')}x{r.get('height')}</td>",
                 f'<td class="num">{_f(r.get("bpp"))}</td>',
                 f'<td class="num">{_f(r.get("psnr_db"))}{bc_txt}</td>',
                 f"<td>{_texture_cells(r)}</td>"]
    else:
        shape = "x".join(str(s) for s in reversed(r.get("shape", [])))
        cells = [f"<td>{r.get('bricks', 1)}</td>", f"<td>{shape}</td>",
                 f'<td class="num">{_f(r.get("bpp"), ".3f")}</td>',
                 f'<td class="num">{_f(r.get("psnr_db"))}</td>',
                 f"<td>{_f(r.get('compression_ratio'), '.1f')}:1</td>"]
    time_txt = f"{_f(r.get('train_seconds'), '.1f')} s ({r.get('steps', '?')} steps)"
    return (f"<tr><td>{name}</td><td>{status}</td>{''.join(cells)}<td>{time_txt}</td>"
            f"<td>{html.escape(str(r.get('device', '')))}</td><td>{_thumb(out, r)}</td></tr>")


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    step = 10 ** math.floor(math.log10((hi - lo) / n)) if hi > lo else 1.0
    for m in (1, 2, 5, 10):
        if (hi - lo) / (step * m) <= n:
            step *= m
            break
    start = math.ceil(lo / step) * step
    return [start + i * step for i in range(int((hi - start) / step + 1e-9) + 1)]


def rd_plot_svg(rows: list[dict[str, Any]], x_label: str) -> str:
    """Rate (``bpp``) against PSNR of every item, ours as dots and BCn (where measured) as squares."""
    pts = [(r["bpp"], r["psnr_db"], r["name"], OURS) for r in rows if r["status"] == "ok" and "bpp" in r]
    pts += [(r["bcn"]["bpp"], r["bcn"]["psnr_db"], r["name"] + " (BCn)", BCN)
            for r in rows if r["status"] == "ok" and r.get("bcn")]
    pts = [p for p in pts if all(math.isfinite(v) for v in p[:2])]
    if not pts:
        return ""
    w, h, ml, mb, mt, mr = 560, 320, 56, 44, 12, 16
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    x0, x1 = 0.0, max(xs) * 1.1 or 1.0
    y0, y1 = math.floor(min(ys) - 1), math.ceil(max(ys) + 1)

    def sx(x: float) -> float:
        return ml + (x - x0) / (x1 - x0) * (w - ml - mr)

    def sy(y: float) -> float:
        return h - mb - (y - y0) / (y1 - y0) * (h - mb - mt)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-size="11">',
             f'<rect x="{ml}" y="{mt}" width="{w - ml - mr}" height="{h - mb - mt}" fill="none" stroke="#888"/>']
    for t in _ticks(x0, x1):
        parts.append(f'<line x1="{sx(t):.1f}" y1="{h - mb}" x2="{sx(t):.1f}" y2="{h - mb + 4}" stroke="#888"/>'
                     f'<text x="{sx(t):.1f}" y="{h - mb + 16}" text-anchor="middle">{t:g}</text>')
    for t in _ticks(y0, y1):
        parts.append(f'<line x1="{ml - 4}" y1="{sy(t):.1f}" x2="{ml}" y2="{sy(t):.1f}" stroke="#888"/>'
                     f'<text x="{ml - 6}" y="{sy(t) + 4:.1f}" text-anchor="end">{t:g}</text>')
    parts.append(f'<text x="{(ml + w - mr) / 2}" y="{h - 8}" text-anchor="middle">{html.escape(x_label)}</text>'
                 f'<text x="14" y="{(mt + h - mb) / 2}" text-anchor="middle" '
                 f'transform="rotate(-90 14 {(mt + h - mb) / 2})">PSNR (dB)</text>')
    for x, y, name, colour in pts:
        title = f"<title>{html.escape(name)}: {x:.2f}, {y:.2f} dB</title>"
        if colour == OURS:
            parts.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="4" fill="{colour}">{title}</circle>')
        else:
            parts.append(f'<rect x="{sx(x) - 4:.1f}" y="{sy(y) - 4:.1f}" width="8" height="8" fill="{colour}">'
                         f'{title}</rect>')
    legend = [("ngsdk", OURS)] + ([("BCn (BC7/BC5/BC4)", BCN)] if any(p[3] == BCN for p in pts) else [])
    for k, (label, colour) in enumerate(legend):
        y = mt + 14 + 16 * k
        parts.append(f'<rect x="{w - mr - 150}" y="{y - 8}" width="8" height="8" fill="{colour}"/>'
                     f'<text x="{w - mr - 136}" y="{y}">{label}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_html(out: Path, doc: dict[str, Any]) -> str:
    kind, rows = doc["kind"], doc["items"]
    if kind == "texture":
        head = ["material", "status", "channels", "size", "bpp", "PSNR dB (mip 0)", "per texture dB", "training",
                "device", "worst error"]
        x_label = "bits per texel"
    else:
        head = ["volume", "status", "bricks", "size (x y z)", "bits/voxel", "PSNR dB", "compression", "training",
                "device", "error (mid z)"]
        x_label = "bits per voxel"
    c = doc["counts"]
    missing_bcn = next((r["bcn_missing"] for r in rows if r.get("bcn_missing")), None)
    note = f"<p>BCn figures not measured: {html.escape(missing_bcn)}</p>" if missing_bcn else ""
    plot = rd_plot_svg(rows, x_label)
    body = "".join(_row_html(out, kind, r) for r in rows)
    return (f"<!doctype html><html><head><meta charset=utf-8><title>ngsdk batch {kind} report</title>"
            f"<style>{_CSS}</style></head><body><h1>ngsdk batch {kind}: {html.escape(doc['library'])}</h1>"
            f"<p>{c['ok']} ok, {c['failed']} failed, {c['missing']} not trained · ngsdk {html.escape(doc['ngsdk'])}"
            f" · {html.escape(doc['written'])}</p>{note}"
            + (f"<h2>Rate and quality over the library</h2>{plot}" if plot else "")
            + "<h2>Items</h2><table><tr>" + "".join(f"<th>{h}</th>" for h in head) + f"</tr>{body}</table>"
            + "</body></html>\n")

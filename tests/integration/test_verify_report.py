"""Issue 12 item 14: the verify HTML report opens with a readable summary (material, size, bpp, PSNR, decode
mode, checks) and puts the result in context: the BCn figure of the same source beside ours (etcpak, the
bench extra) and a warning when training stopped far from convergence."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from click.testing import CliRunner

from ngsdk.cli import main
from ngsdk.verify.catalog import neural_texture as NT


def test_html_header_is_a_readable_summary(small_bundle: Path, small_material: Path, tmp_path: Path) -> None:
    page, report = tmp_path / "r.html", tmp_path / "r.json"
    res = CliRunner().invoke(main, ["verify", str(small_bundle), "--source", str(small_material), "--html",
                                    str(page), "--json", str(report)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    text = html.unescape(re.sub(r"<[^>]+>", " ", page.read_text().split("<h2>Checks</h2>")[0]))
    text = " ".join(text.split())
    summary = json.loads(report.read_text())["summary"]
    assert "{'" not in text and "': " not in text  # no Python dict dump
    assert f"material {summary['name']} (neural_texture)" in text and "size 256x256, 9 mips, 9 channels" in text
    assert f"bits per texel {summary['bpp']:.3f} bpp" in text and "decode mode exact" in text
    assert f"PSNR mip 0 {summary['psnr_db']:.2f} dB (measured against --source)" in text
    assert re.search(r"checks \d+ pass, 1 warn", text)
    bcn = summary["bcn"]
    assert bcn["layout"] == "BC7 albedo + BC5 normal + BC4 x3" and bcn["bpp"] == 28.0 and bcn["overall_db"] > 25
    assert (f"Block compression of the same source (BC7 albedo + BC5 normal + BC4 x3, etcpak): "
            f"{bcn['overall_db']:.2f} dB at 28.00 bpp") in text
    # the small bundle trained 30 steps: far from convergence, and the page says so
    assert f"{NT.TRAINING} training : training stopped after 30 steps, far from convergence" in text


def test_without_source_the_page_says_what_is_missing(small_bundle: Path, tmp_path: Path) -> None:
    page = tmp_path / "r.html"
    res = CliRunner().invoke(main, ["verify", str(small_bundle), "--html", str(page)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "PSNR mip 0</th><td>not measured (give --source)" in page.read_text()

"""The BCn side of tools/bench_textures.py on crops of real materials (no training)."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from ngsdk.textures.ingest import TextureSet, load_texture_set

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench():
    path = REPO / "tools" / "bench_textures.py"
    spec = importlib.util.spec_from_file_location("bench_textures", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def _crop(ts: TextureSet, y: int, x: int, h: int, w: int) -> TextureSet:
    data = np.ascontiguousarray(ts.data[y:y + h, x:x + w])
    return TextureSet(ts.name, w, h, ts.channels, data, ts.sources)


def _finite_lossy(db: float) -> bool:
    # 99 dB is the metric's cap for an exact match (a constant region); anything else must be real.
    return math.isfinite(db) and 10.0 < db <= 99.0


def test_ground068_bc7_bc5_bc4_in_real_range(bench, shared_data):
    ts = _crop(load_texture_set(shared_data / "textures" / "ground068_1k"), 256, 384, 128, 128)
    records = {r["method"]: r for r in bench.bcn_records(ts)}
    assert set(records) == {"BCn", "BCn packed"}  # roughness, ao, displacement: three single channels
    sep, packed = records["BCn"], records["BCn packed"]
    assert sep["layout"] == "BC7 albedo + BC5 normal + BC4 x3"
    assert sep["bpp"] == 8 + 8 + 3 * 4
    assert packed["bpp"] == 24  # BC7 + BC5 + BC7: the usual 9-channel layout
    for r in (sep, packed):
        assert _finite_lossy(r["overall_db"])
        assert all(_finite_lossy(v) for v in r["textures_db"].values()), r["textures_db"]
        assert r["overall_db"] < 60  # lossy: a decode equal to the source would be a broken pipeline
    assert sep["textures_db"]["albedo"] > 35  # BC7 on an sRGB colour map
    for single in ("roughness", "ao", "displacement"):
        assert 35 < sep["textures_db"][single] < 70  # BC4 per channel
    # Packing three channels into one BC7 costs quality against three BC4s.
    assert packed["textures_db"]["roughness"] < sep["textures_db"]["roughness"]
    # The normal is scored with z rebuilt; the notes give x, y alone (the BC5 payload) and the floor
    # that the rebuild alone sets on this source, whose normals are not unit length.
    xy = [n for n in sep["notes"] if n.startswith("BC5 normal x, y alone")]
    assert len(xy) == 1 and float(xy[0].split(": ")[1].split(" dB")[0]) > 33
    assert 25 < sep["textures_db"]["normal"] < 40


def test_boombox_emissive_and_odd_size(bench, shared_data):
    # 126 x 70 is not a multiple of 4: the encoder input is edge-padded and the decode cropped back.
    ts = _crop(load_texture_set(shared_data / "textures" / "boombox_2k"), 600, 900, 70, 126)
    records = {r["method"]: r for r in bench.bcn_records(ts)}
    sep = records["BCn"]
    assert sep["layout"] == "BC7 albedo + BC5 normal + BC7 emissive + BC4 x3"
    assert sep["textures_db"].keys() == {"albedo", "normal", "roughness", "ao", "metallic", "emissive"}
    assert all(_finite_lossy(v) for v in sep["textures_db"].values())
    assert sep["textures_db"]["albedo"] > 40
    stored8 = np.zeros((70, 126, len(ts.channels)), dtype=np.uint8)
    stored8[:] = np.asarray(np.arange(126) * 2, dtype=np.uint8)[None, :, None]
    blocks = bench.plan_bcn(ts.channels, packed=False)
    out, nbytes = bench.bcn_decode(stored8, ts.channels, blocks)
    assert out.shape == stored8.shape and nbytes == (72 // 4) * (128 // 4) * (16 * 3 + 8 * 3)


def test_roundtrip_constant_blocks_are_exact(bench):
    # A constant block is representable exactly in BC4, BC5 and BC7: the independent decoder must agree.
    planes = np.full((8, 12, 3), (37, 140, 251), dtype=np.uint8)
    for fmt, k in (("BC7", 3), ("BC5", 2), ("BC4", 1)):
        dec, nbytes = bench.bc_roundtrip(np.ascontiguousarray(planes[..., :k]), fmt)
        assert np.array_equal(dec, planes[..., :k]), fmt
        assert nbytes == 6 * {"BC7": 16, "BC5": 16, "BC4": 8}[fmt]


def test_docs_section_is_replaced_and_others_kept():
    from tools.bench_common import replace_section

    other = "# Benchmarks\n\n## Volumes\n\nby someone else\n"
    once = replace_section(other, "bench_textures", "nt-vs-bcn", "## Neural texture compression vs BCn\n\nv1")
    assert once.startswith(other.rstrip("\n")) and "v1" in once
    twice = replace_section(once + "\n## Later section\n\nkept\n", "bench_textures", "nt-vs-bcn", "## NTC\n\nv2")
    assert "v1" not in twice and "v2" in twice and "by someone else" in twice and "kept" in twice
    assert twice.count("<!-- BEGIN bench_textures:nt-vs-bcn") == 1
    legacy = "<!-- BEGIN bench_decode_modes:quality -->\nold\n<!-- END bench_decode_modes:quality -->\n"
    assert "old" not in replace_section(legacy, "bench_decode_modes", "quality", "new")  # markers without a note
    with pytest.raises(ValueError, match="begin marker"):
        replace_section(twice.replace("<!-- END bench_textures:nt-vs-bcn -->", ""), "bench_textures", "nt-vs-bcn",
                        "x")


def test_convergence_time(bench):
    history = [{"step": 10, "seconds": 1.0, "psnr": 20.0}, {"step": 20, "seconds": 2.0, "psnr": 29.0},
               {"step": 30, "seconds": 3.0, "psnr": 30.0}, {"step": 40, "seconds": 4.0, "psnr": 30.4}]
    c = bench.convergence(history)
    assert (c["within_s"], c["within_step"], c["final_eval_db"]) == (2.0, 20, 30.4)
    with pytest.raises(ValueError, match="no evaluation points"):
        bench.convergence([])


def test_saved_records_render_verdict_and_docs(bench, tmp_path, capsys):
    per = {"albedo": 40.0, "normal": 38.0}
    bcn = {"material": "m", "channels": 6, "method": "BCn", "layout": "BC7 albedo + BC5 normal",
           "target_bpp": None, "bpp": 16.0, "overall_db": 39.0, "textures_db": per, "notes": []}
    ours = {**bcn, "method": "ngsdk", "layout": "5 bpp preset", "target_bpp": 5.0, "bpp": 4.98,
            "overall_db": 39.5, "train_s": 60.0, "steps": 1000, "batch_size": 16384, "samples_per_s": 2.7e5,
            "device": "test", "time_budget": 60.0, "step_limit": None, "seed": 0}
    big = {**ours, "target_bpp": 10.0, "bpp": 9.9, "overall_db": 45.0}
    low = {**ours, "target_bpp": 2.5, "bpp": 2.49, "overall_db": 36.5}
    saved = tmp_path / "r.json"
    saved.write_text(json.dumps({"mode": "table", "meta": {"commands": ["x"], "date": "d", "ngsdk": "0"},
                                 "records": [big, ours, low, bcn]}))
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\n## Someone else's section\n")
    assert bench.main(["--from-json", str(saved), "--write-docs", "--docs", str(docs)]) == 0
    out = capsys.readouterr().out
    # The 10 bpp run does not count: the verdict takes the best run at <= 5 bpp; 2.5 bpp is held to BCn - 2 dB.
    assert "m: ngsdk <= 5 bpp reaches BCn PSNR: yes (39.50 dB at 4.98 bpp vs BCn 39.00 dB at 16 bpp, +0.50 dB)" in out
    assert "2.5 bpp NOT within 2 dB (-2.50 dB)" in out
    assert out.index("| BCn (") < out.index("| ngsdk 5 bpp |") < out.index("| ngsdk 10 bpp |")
    text = docs.read_text()
    assert "Someone else's section" in text and "## Neural texture compression vs BCn" in text

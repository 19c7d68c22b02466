"""The rate-distortion table of tools/bench_volumes.py --rd: which baselines a row compares against, and the
header of a table merged from several runs."""

from __future__ import annotations

import json
from pathlib import Path

from tools.bench_volumes_rd import _merge, render, section


def _row(method: str, psnr: float, nbytes: int, reached: bool = True) -> dict:
    return {"volume": "v", "method": method, "ratio_target": 50.0, "psnr_db": psnr, "bytes": nbytes,
            "ratio": 1000.0 / nbytes, "max_abs_error": 0.1, "reached": reached, "shape": [4, 4, 4],
            "source_dtype": "uint8"}


def _verdict(rows: list[dict]) -> str:
    return render(rows).splitlines()[-1].rstrip(" |").rsplit("| ", 1)[-1]


def test_a_baseline_counts_when_it_matched_spent_more_or_beat_ngsdk_with_fewer_bytes() -> None:
    ng = _row("ngsdk", 30.0, 20)
    # matched and lower; spent more and higher; fewer bytes but lower PSNR (not comparable)
    assert _verdict([ng, _row("zfp-rate", 25.0, 20), _row("zfp-accuracy", 35.0, 40, False),
                     _row("sz3-abs", 28.0, 10, False)]) == "1/2"
    # fewer bytes and a higher PSNR: it beats ngsdk on both axes, so it counts (against ngsdk)
    assert _verdict([ng, _row("zfp-rate", 25.0, 20), _row("zfp-accuracy", 35.0, 40, False),
                     _row("sz3-abs", 31.0, 10, False)]) == "1/3"


def test_a_merged_table_names_every_run(tmp_path: Path) -> None:
    paths = []
    for i, (cmd, budget) in enumerate((("python tools/bench_volumes.py --rd A", 40.0),
                                       ("python tools/bench_volumes.py --rd B", 15.0))):
        row = dict(_row("ngsdk", 30.0, 20), volume=f"v{i}", device="GPU (CUDA 13.0)")
        meta = {"command": cmd, "date": "2026-12-07", "ngsdk": "0.1.0", "time_budget": budget}
        paths.append(tmp_path / f"{i}.json")
        paths[-1].write_text(json.dumps({"meta": meta, "rd": [row]}))
    records, meta = _merge(paths)
    assert [r["volume"] for r in records] == ["v0", "v1"]
    text = section(records, meta, [], tmp_path / "benchmarks.md")
    assert "`python tools/bench_volumes.py --rd A` and `python tools/bench_volumes.py --rd B`" in text
    assert "40 s per model, 15 s per model" in text

"""Rate control of neural volumes end to end on real data (a 20^3 crop of ironProt, uint8): ``ngsdk train volume
--ratio`` and ``--target-psnr``, ``ngsdk verify`` reporting ratio, PSNR, max error and the ZFP/SZ3 figures, and a
tiny rate-distortion run of tools/bench_volumes.py (train, then baselines merged from its JSON)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from ngsdk.verify.catalog import Status
from ngsdk.verify.catalog import neural_volume as VX
from ngsdk.volumes import baselines as bl
from ngsdk.volumes.rate import RATIO_TOLERANCE

IRONPROT = "volumes/ironProt_zyx_68x68x68_uint8.npy"


def _cli(*args: object):  # noqa: ANN202
    from ngsdk.cli import main

    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def crop(shared_data: Path, tmp_path_factory) -> Path:
    a = np.load(shared_data / IRONPROT, allow_pickle=False)
    path = tmp_path_factory.mktemp("vol") / "iron20.npy"
    np.save(path, np.ascontiguousarray(a[24:44, 24:44, 24:44]), allow_pickle=False)
    return path


def test_train_ratio_sizes_the_model_and_verify_reports_rate_and_baselines(crop: Path, tmp_path: Path) -> None:
    from ngsdk.runtime_ref.neural_volume import load_neural_volume
    from ngsdk.verify.neural_volume import verify_neural_volume

    out = tmp_path / "v.ngasset"
    res = _cli("train", "volume", crop, "--out", out, "--ratio", 4, "--steps", 6, "--eval-every", 3, "--device", "cpu")
    assert res.exit_code == 0, res.output
    asset = load_neural_volume(out)
    m = asset.provenance.metrics
    assert 4 <= m["decode_ratio"] <= 4 / (1 - RATIO_TOLERANCE) * 1.1
    assert m["decode_bytes"] == bl.decode_bytes(asset)
    assert all(g.values.shape[-1] == 4 for b in asset.bricks for g in b.grids)

    rep = verify_neural_volume(out, crop)
    assert rep.passed
    checks = {c.code: c for c in rep.checks}
    rd = checks[VX.RATE_DISTORTION.code]
    assert rd.status == Status.PASS and rd.details["ratio"] == pytest.approx(m["decode_ratio"])
    assert rd.details["psnr_db"] == pytest.approx(m["psnr_db"], abs=1e-6)
    assert rd.details["max_abs_error"] == pytest.approx(m["max_abs_error"], abs=1e-6)
    base = checks[VX.BASELINES.code]
    if not bl.available_methods():
        assert base.status == Status.SKIP and "pip install" in base.message
        return
    assert base.status == Status.PASS
    rows = base.details["baselines"]
    assert [r["method"] for r in rows] == list(bl.available_methods())
    assert all(r["compressed_bytes"] <= m["decode_bytes"] for r in rows)   # never more bytes than ngsdk's

    no_source = verify_neural_volume(out)
    skipped = {c.code: c for c in no_source.checks}
    assert skipped[VX.BASELINES.code].status == Status.SKIP
    assert skipped[VX.RATE_DISTORTION.code].details["measured"] is False


def test_ratio_option_refuses_a_preset_and_unreachable_ratios(crop: Path, tmp_path: Path) -> None:
    res = _cli("train", "volume", crop, "--out", tmp_path / "a.ngasset", "--ratio", 10, "--preset", "tiny",
               "--steps", 2)
    assert res.exit_code == 2 and "--ratio and --target-psnr size the model" in res.output
    res = _cli("train", "volume", crop, "--out", tmp_path / "b.ngasset", "--ratio", 5000, "--steps", 2)
    assert res.exit_code == 2 and "below the smallest model" in res.output
    assert not (tmp_path / "b.ngasset").exists()


def test_target_psnr_searches_ratios_and_records_the_attempts(crop: Path, tmp_path: Path) -> None:
    from ngsdk.runtime_ref.neural_volume import load_neural_volume

    out = tmp_path / "t.ngasset"
    res = _cli("train", "volume", crop, "--out", out, "--target-psnr", 12, "--steps", 6, "--eval-every", 3,
               "--device", "cpu")
    assert res.exit_code == 0, res.output
    search = load_neural_volume(out).provenance.metrics["rate_search"]
    assert search["target_db"] == 12 and search["attempts"]
    tried = [a["ratio"] for a in search["attempts"]]
    assert len(tried) == len(set(tried)) <= 4    # a binary search over the reachable ladder
    if search["reached"]:
        chosen = load_neural_volume(out).provenance.metrics["psnr_db"]
        assert chosen >= 12
        # every larger ratio tried fell short
        best = max(a["ratio"] for a in search["attempts"] if a["psnr_db"] >= 12)
        assert all(a["psnr_db"] < 12 for a in search["attempts"] if a["ratio"] > best)


def test_rd_bench_trains_then_merges_baselines(crop: Path, tmp_path: Path) -> None:
    from tools.bench_volumes import main

    data = crop.parent
    first = tmp_path / "train.json"
    assert main(["--rd", "--data", str(data), "--steps", "4", "--eval-every", "2", "--ratios", "4,20000",
                 "--device", "cpu", "--no-baselines", "--json", str(first)]) == 0
    rows = json.loads(first.read_text())["rd"]
    ng = {r["ratio_target"]: r for r in rows if r["method"] == "ngsdk"}
    assert ng[4.0]["psnr_db"] > 0 and ng[4.0]["bytes"] > 0 and ng[20000.0]["error"].startswith("unreachable")
    assert all(r["method"] == "ngsdk" for r in rows)

    merged = tmp_path / "merged.json"
    assert main(["--rd", "--no-train", "--data", str(data), "--ratios", "4,20000", "--from-json", str(first),
                 "--json", str(merged), "--plots", str(tmp_path / "plots")]) == 0
    rows = json.loads(merged.read_text())["rd"]
    again = {r["ratio_target"]: r for r in rows if r["method"] == "ngsdk"}
    assert again[4.0] == ng[4.0]    # the GPU rows are kept as they were
    base = [r for r in rows if r["method"] != "ngsdk" and r["ratio_target"] == 4.0]
    assert [r["method"] for r in base] == list(bl.available_methods())
    assert all(r["target_bytes"] == ng[4.0]["bytes"] for r in base)   # matched to ngsdk's bytes
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return
    assert (tmp_path / "plots" / "volumes_rd_iron20.png").stat().st_size > 1000

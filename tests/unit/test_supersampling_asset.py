"""The super-sampling codec and reference runtime without torch: bundle round trip, bad inputs named, the
TOSA fixed-point rule, and the NumPy pipeline on a synthetic asset."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ngsdk.asset.errors import AssetError
from ngsdk.asset.supersampling import LAYERS, SupersamplingAsset, multiplier_shift
from ngsdk.asset.types import Provenance
from ngsdk.exporters.supersampling import write_supersampling
from ngsdk.runtime_ref.supersampling import load_supersampling, net_float, replay_clip, run_frames
from ngsdk.runtime_ref.supersampling_metrics import sequence_metrics, ssim


def _asset(t: int = 2, h: int = 8, w: int = 8) -> SupersamplingAsset:
    rng = np.random.default_rng(0)
    weights = {}
    for s in LAYERS:
        weights[f"{s.name}.weight"] = (rng.standard_normal((s.cout, s.cin, 3, 3)) * 0.1).astype(np.float32)
        weights[f"{s.name}.bias"] = np.zeros(s.cout, np.float32)
    clip = {"colour": rng.random((t, 3, h, w), np.float32), "depth": rng.random((t, 1, h, w), np.float32) * 0.5,
            "motion": np.zeros((t, 2, 2 * h, 2 * w), np.float32), "jitter": np.zeros((t, 2), np.float32),
            "depth_params": np.tile(np.array([1.0, 0.1, 1.0, 1.0], np.float32), (t, 1)),
            "exposure": np.zeros(t, np.float32), "render_size": np.array([h, w], np.int32),
            "ground_truth": rng.random((t, 3, 2 * h, 2 * w), np.float32)}
    asset = SupersamplingAsset(name="t", weights=weights, provenance=Provenance(ngsdk_version="test"), clip=clip,
                               export_size=(8, 8))
    got = replay_clip(asset, "fp32")
    clip |= {"fp32_net_input": got["net_input"], "fp32_net_outputs": got["net_outputs"], "fp32_output": got["output"]}
    return asset


def test_round_trip(tmp_path: Path) -> None:
    asset = _asset()
    m = write_supersampling(asset, tmp_path / "a.ngasset")
    back = load_supersampling(tmp_path / "a.ngasset")
    assert m["kind"] == "supersampling" and back.int8 is None
    assert all(np.array_equal(back.weights[k], v) for k, v in asset.weights.items())
    assert all(np.array_equal(back.clip[k], v) for k, v in asset.clip.items())
    assert back.export_size == (8, 8) and back.dm_scale == 0.5
    # deterministic bytes
    write_supersampling(asset, tmp_path / "b.ngasset")
    for f in ("manifest.json", "weights.npz", "reference_clip.npz"):
        assert (tmp_path / "a.ngasset" / f).read_bytes() == (tmp_path / "b.ngasset" / f).read_bytes()
    # the NumPy pipeline replays its own clip exactly
    assert np.array_equal(replay_clip(back)["output"], asset.clip["fp32_output"])


def test_bad_inputs_are_named(tmp_path: Path) -> None:
    asset = _asset()
    write_supersampling(asset, tmp_path / "a.ngasset")
    man = tmp_path / "a.ngasset" / "manifest.json"
    d = json.loads(man.read_text())
    d["pipeline"]["dm_scale"] = 2.0
    man.write_text(json.dumps(d))
    with pytest.raises(AssetError, match="manifest.json.*dm_scale"):
        load_supersampling(tmp_path / "a.ngasset")
    write_supersampling(asset, tmp_path / "a.ngasset")
    w = tmp_path / "a.ngasset" / "weights.npz"
    w.write_bytes(w.read_bytes()[:100])
    with pytest.raises(AssetError, match="weights.npz"):
        load_supersampling(tmp_path / "a.ngasset")
    with pytest.raises(ValueError, match="conv2d_0"):
        SupersamplingAsset(name="x", weights={}, provenance=Provenance(ngsdk_version="t"))


def test_multiplier_shift_is_tosa_fixed_point() -> None:
    for s in (0.5, 0.123456789, 1e-3, 0.9999999999):
        m, n = multiplier_shift(s)
        assert 1 << 30 <= m < 1 << 31 and abs(m / 2.0 ** n - s) <= 2.0 ** -31 * s * 2
    assert multiplier_shift(1.0) == (1 << 30, 30)


def test_network_pads_and_metrics() -> None:
    asset = _asset()
    x = np.random.default_rng(1).random((12, 10, 13), np.float32)
    out = net_float(asset, x)
    assert out.shape == (24, 10, 13) and np.all((out >= 0) & (out <= 1))
    assert ssim(np.ones((3, 16, 16)), np.ones((3, 16, 16))) == pytest.approx(1.0)
    m = sequence_metrics([asset.clip["ground_truth"]], [asset.clip["ground_truth"]], [np.ones(2, np.float32)])
    assert m["psnr"] == 99.0
    with pytest.raises(ValueError, match="no int8"):
        run_frames(asset, [], (8, 8), "int8")

"""Issue 15's CI acceptance on 2 cores: synthesize 2 sequences x 6 frames at 64x64 (`ngsdk synth frames`), train 20
float32 + 5 int8 QAT steps, write the bundle, export VGF int8 + fp32 + ONNX at 32x32 input, verify torch-free: float
and int8 networks, whole-clip replay, the int8 VGF on lavapipe against runtime_ref (0 mismatches), the fp32 exports,
quality with baselines on the source; then `ngsdk run supersampling` over a sequence."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")
pytest.importorskip("executorch")

from ngsdk.cli import main  # noqa: E402
from ngsdk.exporters.graph.bundle_exports import merge_exports  # noqa: E402
from ngsdk.exporters.graph.supersampling import export_graphs  # noqa: E402
from ngsdk.exporters.supersampling import write_supersampling  # noqa: E402
from ngsdk.runtime_ref.supersampling import load_supersampling  # noqa: E402
from ngsdk.supersampling.config import SupersamplingTrainConfig  # noqa: E402
from ngsdk.supersampling.to_asset import build_asset  # noqa: E402
from ngsdk.supersampling.train import train_supersampling  # noqa: E402
from ngsdk.verify.catalog import Status  # noqa: E402
from ngsdk.verify.catalog import graph_exports as GX  # noqa: E402
from ngsdk.verify.catalog import supersampling as SS  # noqa: E402
from ngsdk.verify.supersampling import verify_supersampling  # noqa: E402


def _cli(*args: object) -> str:
    res = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output


def test_acceptance(shared_data: Path, tmp_path: Path) -> None:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        t0 = time.perf_counter()
        data = tmp_path / "frames"
        _cli("synth", "frames", data, "--materials", shared_data / "textures" / "rock", "--materials",
             shared_data / "textures" / "metal", "--images", shared_data / "images" / "kodim01.png",
             "--sequences", 2, "--frames", 6, "--size", "64x64", "--device", "cpu", "--max-texture", 256)
        assert sorted(p.name for p in data.glob("*.safetensors")) == ["0000.safetensors", "0001.safetensors"]
        res = train_supersampling(data, SupersamplingTrainConfig(steps=20, qat_steps=5, batch=2, frames=4, crop=64,
                                                                 device="cpu", seed=0))
        asset = build_asset(res, data, name="nss", export_size=(32, 32))
        bundle = tmp_path / "nss.ngasset"
        write_supersampling(asset, bundle)
        again = build_asset(res, data, name="nss", export_size=(32, 32))
        write_supersampling(again, tmp_path / "again.ngasset")
        assert (bundle / "int8.npz").read_bytes() == (tmp_path / "again.ngasset" / "int8.npz").read_bytes()
        loaded = load_supersampling(bundle)
        loaded.exports = merge_exports(loaded.exports, export_graphs(loaded, bundle, ["vgf"], precision="int8"))
        loaded.exports = merge_exports(loaded.exports, export_graphs(loaded, bundle, ["vgf", "onnx"],
                                                                     precision="fp32"))
        write_supersampling(loaded, bundle)
        rep = verify_supersampling(bundle, data)
        seconds = time.perf_counter() - t0
    finally:
        torch.set_num_threads(before)
    by = {c.code: c for c in rep.checks}
    print(f"acceptance: {seconds:.1f} s;", "; ".join(f"{c.code} {c.status} {c.message[:120]}" for c in rep.checks))
    assert rep.passed, [(c.code, c.status, c.message) for c in rep.checks if c.status == Status.FAIL]
    assert by[SS.INT8_NETWORK.code].status == Status.PASS and by[SS.INT8_NETWORK.code].details["mismatches"] == 0
    assert by[SS.INT8_VGF.code].status == Status.PASS, by[SS.INT8_VGF.code].message
    assert "0 mismatches" in by[SS.INT8_VGF.code].message
    assert by[SS.FLOAT_NETWORK.code].status == Status.PASS and by[SS.CLIP_REPLAY.code].status == Status.PASS
    q = rep.summary["quality"]
    assert set(q) == {"fp32", "int8", "bilinear", "taau"} and all(np.isfinite(v["psnr"]) for v in q.values())
    # the int8 VGF and both fp32 graphs against their recorded torch references
    assert sum(1 for c in rep.checks if c.code == GX.RECORDED_REFERENCE.code and c.status == Status.PASS) >= 3
    assert {(e.format, e.precision) for e in load_supersampling(bundle).exports} == {
        ("vgf", "int8"), ("vgf", "fp32"), ("onnx", "fp32")}
    side = (bundle / "supersampling.int8.vgf.json").read_text()
    assert '"R8G8B8A8_SNORM"' in side and '"zero_point": -127' in side
    assert seconds < 240

    # ngsdk run supersampling: frames, strip (bilinear | ngsdk | ground truth) and the PSNR line
    out = tmp_path / "run"
    _cli("run", "supersampling", bundle, data / "0000.safetensors", "--out", out, "--frames", 3)
    assert sorted(p.name for p in out.iterdir()) == ["0000.png", "0001.png", "0002.png", "strip.png"]
    with Image.open(out / "0001.png") as im:
        assert im.size == (64, 64)
    with Image.open(out / "strip.png") as im:  # 3 rows (frames), 3 tiles a row, 4-pixel gaps
        assert im.size == (3 * 64 + 2 * 4, 3 * 64 + 2 * 4)
    res2 = CliRunner().invoke(main, ["run", "supersampling", str(bundle), str(tmp_path / "nothing"), "--out",
                                     str(out)])
    assert res2.exit_code != 0

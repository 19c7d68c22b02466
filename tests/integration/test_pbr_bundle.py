"""Issue 16's CI acceptance through the real CLI, on the shared material sets: synth 12 samples at 128^2, the tiny
teacher 10 steps with the GAN, the tiny student 10 steps distilled from the teacher bundle, Core ML fp16 + fp32
(image IO) and ONNX exports, verify with the MIL interpreter and onnxruntime (and --source against the naive
baseline), then `infer pbr` output ingested by `train texture --steps 5`. Also: a fixed seed gives a
byte-identical bundle, Core ML tensor IO, and a tampered export fails verify."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

pytest.importorskip("torch")
pytest.importorskip("coremltools")
pytest.importorskip("onnxruntime")

from ngsdk.asset.digest import sha256_tree  # noqa: E402
from ngsdk.cli import main  # noqa: E402


def ngsdk(*args: object) -> str:
    res = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output


@pytest.fixture(scope="module")
def run(tmp_path_factory, shared_data) -> Path:
    root = tmp_path_factory.mktemp("pbr_cli")
    materials = sorted(p for p in (shared_data / "textures").iterdir() if p.is_dir())
    ngsdk("synth", "pbr-views", *materials, "--out", root / "data", "--samples", 12, "--res", 128, "-q")
    ngsdk("train", "pbr", root / "data", "--role", "teacher", "--preset", "tiny", "--steps", 10, "--eval-every", 5,
          "--device", "cpu", "--out", root / "t.ngasset", "-q")
    ngsdk("train", "pbr", root / "data", "--role", "student", "--preset", "tiny", "--teacher", root / "t.ngasset",
          "--steps", 10, "--eval-every", 0, "--device", "cpu", "--out", root / "s.ngasset", "-q")
    ngsdk("export", root / "s.ngasset", "--format", "coreml,onnx", "-q")
    return root


def test_student_bundle_exports_and_verifies(run: Path) -> None:
    bundle = run / "s.ngasset"
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["kind"] == "pbr_reconstruction" and manifest["model"]["role"] == "student"
    assert manifest["input"]["size"] == [128, 128] and manifest["output"]["size"] == [256, 256]
    assert manifest["teacher"]["spec"]["role"] == "teacher"
    exports = {(e["format"], e["precision"]) for e in manifest["exports"]}
    assert exports == {("coreml", "fp16"), ("coreml", "fp32"), ("onnx", "fp32")}
    ops = next(e for e in manifest["exports"] if e["format"] == "coreml")["details"]["record"]["details"]["mil_ops"]
    assert {"thresholded_relu", "reduce_l2_norm", "sigmoid_hard"} <= set(ops)
    assert all(e["details"]["record"]["target"] == "iOS17" for e in manifest["exports"] if e["format"] == "coreml")

    out = ngsdk("verify", bundle, "--source", run / "data" / "test", "--json", run / "v.json")
    rep = json.loads((run / "v.json").read_text())
    checks = {(c["code"], c["name"]): c for c in rep["checks"]}
    assert all(c["status"] == "pass" for c in checks.values()), out
    fp16 = next(c for (code, name), c in checks.items() if "coreml fp16" in name)
    assert min(fp16["details"]["psnr"].values()) >= 40
    onnx = next(c for (code, name), c in checks.items() if "onnx fp32" in name)
    assert onnx["details"]["max_abs_error"] <= 1e-4
    q = rep["summary"]["quality"]
    assert q["samples"] == 2 and set(q["network"]) == set(q["naive_baseline"])
    assert {"albedo_psnr", "albedo_ssim", "albedo_mae", "normal_angle_median", "normal_angle_p90"} <= set(q["network"])


def test_infer_output_feeds_train_texture(run: Path) -> None:
    views = sorted((run / "data" / "test" / "input" / "dirty" / "sample_0000").glob("*.png"))
    ngsdk("infer", "pbr", run / "s.ngasset", *views, "--out", run / "mat", "-q")
    assert {p.name for p in (run / "mat").iterdir()} >= {"albedo.png", "roughness.png", "metallic.png",
                                                         "normal.png", "channels.json"}
    ngsdk("train", "texture", run / "mat", "--out", run / "mat.ngasset", "--steps", 5, "--device", "cpu",
          "--no-previews", "-q")
    manifest = json.loads((run / "mat.ngasset" / "manifest.json").read_text())
    assert manifest["kind"] == "neural_texture"


def test_same_seed_gives_the_same_bundle(run: Path, tmp_path: Path) -> None:
    again = tmp_path / "t.ngasset"
    ngsdk("train", "pbr", run / "data", "--role", "teacher", "--preset", "tiny", "--steps", 10, "--eval-every", 5,
          "--device", "cpu", "--out", again, "-q")
    assert sha256_tree(again) == sha256_tree(run / "t.ngasset")


def test_tensor_io_and_a_tampered_export(run: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "s.ngasset"
    shutil.copytree(run / "s.ngasset", bundle)
    ngsdk("export", bundle, "--format", "coreml", "--precision", "fp32", "--coreml-io", "tensor", "-q")
    rep_path = tmp_path / "v.json"
    ngsdk("verify", bundle, "--json", rep_path)
    rep = json.loads(rep_path.read_text())
    tensor = next(c for c in rep["checks"] if "pbr_reconstruction_tensor" in c["name"])
    assert tensor["status"] == "pass" and tensor["details"]["max_abs_error"] <= 1e-4
    # damaged weights of the fp16 program: verify fails and names the package
    weights = bundle / "pbr_reconstruction.fp16.mlpackage" / "Data" / "com.apple.CoreML" / "weights" / "weight.bin"
    data = bytearray(weights.read_bytes())
    data[-64:] = np.full(64, 0x7C, np.uint8).tobytes()
    weights.write_bytes(bytes(data))
    res = CliRunner().invoke(main, ["verify", str(bundle)])
    assert res.exit_code == 1 and "pbr_reconstruction.fp16.mlpackage" in res.output

"""The ConvAttn student at CI size through the real CLI, on the shared material sets: synth 8 samples at 128^2, the
tiny teacher 5 steps with the GAN, the convattn_tiny student (3 PLK blocks, 17x17 kernel, 128 -> 128) 5 steps
distilled from the teacher bundle, Core ML fp16 + fp32 (image IO, and fp32 tensor IO) and ONNX exports, verified
with the MIL interpreter and onnxruntime; a fixed seed gives the same student weights."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("torch")
pytest.importorskip("coremltools")
pytest.importorskip("onnxruntime")

from ngsdk.cli import main  # noqa: E402
from ngsdk.runtime_ref.mil.ops import OPS  # noqa: E402


def ngsdk(*args: object) -> str:
    res = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output


def train_student(root: Path, out: Path) -> None:
    ngsdk("train", "pbr", root / "data", "--role", "student", "--preset", "convattn_tiny", "--teacher",
          root / "t.ngasset", "--steps", 5, "--eval-every", 0, "--device", "cpu", "--out", out, "-q")


@pytest.fixture(scope="module")
def run(tmp_path_factory, shared_data) -> Path:
    root = tmp_path_factory.mktemp("pbr_convattn")
    materials = sorted(p for p in (shared_data / "textures").iterdir() if p.is_dir())
    ngsdk("synth", "pbr-views", *materials, "--out", root / "data", "--samples", 8, "--res", 128, "-q")
    ngsdk("train", "pbr", root / "data", "--role", "teacher", "--preset", "tiny", "--steps", 5, "--eval-every", 0,
          "--device", "cpu", "--out", root / "t.ngasset", "-q")
    train_student(root, root / "s.ngasset")
    ngsdk("export", root / "s.ngasset", "--format", "coreml,onnx", "-q")
    ngsdk("export", root / "s.ngasset", "--format", "coreml", "--precision", "fp32", "--coreml-io", "tensor", "-q")
    return root


def test_convattn_student_exports_and_verifies(run: Path) -> None:
    bundle = run / "s.ngasset"
    manifest = json.loads((bundle / "manifest.json").read_text())
    model = manifest["model"]
    assert model["role"] == "student" and model["preset"] == "convattn_tiny"
    arch = model["architecture"]
    assert (arch["fusion"], arch["depth"], arch["plk_kernel"], arch["sr"]) == ("convattn", 3, 17, False)
    assert manifest["input"]["size"] == [128, 128] and manifest["output"]["size"] == [128, 128]
    assert manifest["teacher"]["spec"]["role"] == "teacher"
    exports = {(e["format"], e["precision"], e["io"]["kind"]) for e in manifest["exports"]}
    assert exports == {("coreml", "fp16", "image"), ("coreml", "fp32", "image"), ("coreml", "fp32", "tensor"),
                       ("onnx", "fp32", "tensor")}
    for e in manifest["exports"]:
        if e["format"] == "coreml":
            ops = set(e["details"]["record"]["details"]["mil_ops"])
            # the PLK blocks: 17x17 depthwise conv, pre-norm batch_norm, the gate's mean; all in the interpreter
            assert {"conv", "batch_norm", "reduce_mean", "sigmoid", "gelu"} <= ops
            assert ops - {"const"} <= set(OPS), sorted(ops - {"const"} - set(OPS))

    out = ngsdk("verify", bundle, "--json", run / "v.json")
    rep = json.loads((run / "v.json").read_text())
    checks = {c["name"]: c for c in rep["checks"] if c["status"] != "skip"}
    assert all(c["status"] == "pass" for c in checks.values()), out
    fp16 = next(c for name, c in checks.items() if "coreml fp16" in name)
    assert min(fp16["details"]["psnr"].values()) >= 40
    tensor = next(c for name, c in checks.items() if "pbr_reconstruction_tensor" in name)
    assert tensor["details"]["max_abs_error"] <= 1e-4
    onnx = next(c for name, c in checks.items() if "onnx fp32" in name)
    assert onnx["details"]["max_abs_error"] <= 1e-4


def test_same_seed_gives_the_same_student(run: Path, tmp_path: Path) -> None:
    again = tmp_path / "s.ngasset"
    train_student(run, again)
    assert (again / "weights.npz").read_bytes() == (run / "s.ngasset" / "weights.npz").read_bytes()

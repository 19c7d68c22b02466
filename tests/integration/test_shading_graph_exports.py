"""Graph exports of a shading MLP bundle (ONNX, Core ML fp32/fp16, VGF fp32/int8) through the real CLI:
train a tiny network on a crop of kodim05, export every format, and ``ngsdk verify`` them (against
the stored torch references and against runtime_ref's fp32 evaluate). A failing format library gives a
one-line error and exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

torch = pytest.importorskip("torch")

from ngsdk.asset.shading_mlp import ShadingEncoding  # noqa: E402
from ngsdk.cli import main  # noqa: E402
from ngsdk.exporters.graph.shading_mlp import graph_encode  # noqa: E402
from ngsdk.runtime_ref.shading_mlp import encode, texel_centres  # noqa: E402
from ngsdk.verify.catalog import graph_exports as GX  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def crop(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 64x48 crop of kodim05 (real data, small enough for exact decodes in seconds)."""
    img = Image.open(shared_data / "images" / "kodim05.png").convert("RGB").crop((320, 200, 384, 248))
    path = tmp_path_factory.mktemp("shading_graph") / "kodim05_crop.png"
    img.save(path)
    return path


def _cli(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def exported(crop: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A tiny trained bundle with every graph export; returns (bundle, export command output)."""
    bundle = tmp_path_factory.mktemp("bundles") / "k.ngasset"
    res = _cli("train", "shading", crop, "--out", bundle, "--steps", "200", "--hidden", "32", "--batch-size",
               "512", "--device", "cpu", "--no-previews", "--quiet")
    assert res.exit_code == 0, res.output
    res = _cli("export", bundle, "--format", "onnx,coreml,vgf")
    assert res.exit_code == 0, res.output
    return bundle, res.output


def test_export_writes_every_format_and_precision(exported: tuple[Path, str]) -> None:
    bundle, _ = exported
    manifest = json.loads((bundle / "manifest.json").read_text())
    got = sorted((e["format"], e["precision"], e["graph"]) for e in manifest["exports"])
    assert got == [
        ("coreml", "fp16", "shading_mlp"),
        ("coreml", "fp32", "shading_mlp"),
        ("onnx", "fp32", "shading_mlp"),
        ("vgf", "fp32", "shading_mlp"),
        ("vgf", "int8", "shading_mlp_features"),
    ]
    by_key = {(e["format"], e["precision"]): e for e in manifest["exports"]}
    assert [t["name"] for t in by_key["onnx", "fp32"]["io"]["inputs"]] == ["uv"]
    int8_in = by_key["vgf", "int8"]["io"]["inputs"][0]
    assert int8_in["name"] == "features" and int8_in["shape"] == ["batch", 12]
    # fp16 Core ML keeps the encoding in float32 (the contract's); the dense layers compute in fp16
    assert by_key["coreml", "fp16"]["details"]["record"]["details"]["fp32_input_stage"] is True
    sidecar = json.loads((bundle / "shading_mlp_features.int8.vgf.json").read_text())
    assert sidecar["inputs"][0]["dtype"] == "int8" and sidecar["inputs"][0]["quantization"]["scale"] > 0


def test_verify_passes_with_bounded_errors(exported: tuple[Path, str], crop: Path, tmp_path: Path) -> None:
    bundle, _ = exported
    report = tmp_path / "report.json"
    res = _cli("verify", bundle, "--source", crop, "--json", report)
    assert res.exit_code == 0, res.output
    checks = json.loads(report.read_text())["checks"]
    gx = {(c["code"], c["name"]): c for c in checks if c["code"].startswith("GX")}
    assert all(c["status"] == "pass" for c in gx.values()), res.output
    assert {n for code, n in gx if code == GX.RUNTIME_REF.code} == {
        "onnx fp32 shading_mlp", "coreml fp32 shading_mlp", "vgf fp32 shading_mlp"}

    def max_error(code: str, name: str) -> float:
        runs = gx[code, name]["details"]["report"]["runs"]
        return max(r["max_abs_error"] for r in runs.values())

    # measured on this bundle: fp32 graphs about 2e-7 against torch and 3e-7 against runtime_ref
    for name in ("onnx fp32 shading_mlp", "coreml fp32 shading_mlp", "vgf fp32 shading_mlp"):
        assert max_error(GX.RECORDED_REFERENCE.code, name) < 1e-6
        assert max_error(GX.RUNTIME_REF.code, name) < 1e-6
    assert max_error(GX.RECORDED_REFERENCE.code, "coreml fp16 shading_mlp") < 2.0**-8
    int8 = gx[GX.RECORDED_REFERENCE.code, "vgf int8 shading_mlp_features"]["details"]["report"]["runs"]["lavapipe"]
    assert int8["mismatches"] == 0


@pytest.mark.parametrize(("kind", "count"), [("frequency", 6), ("frequency", 16), ("triangle", 6),
                                             ("triangle", 24)])
def test_graph_encoding_equals_the_contract_bit_for_bit(kind: str, count: int) -> None:
    enc = ShadingEncoding(kind=kind, features_per_input=count)
    rng = np.random.default_rng(7)
    uv = np.concatenate([
        texel_centres(768, 512)[::37],
        rng.random((20000, 2), dtype=np.float32) * 4 - 2,
        (rng.standard_normal((4000, 2)) * 600).astype(np.float32),  # beyond the triangle clamp (1024)
        np.array([[0.0, -0.0], [1.0, -1.0], [2.0**-21, 3 * 2.0**-21], [1024.0, -1024.0]], np.float32),
    ])
    want = encode(uv, enc, "fp32")
    got = graph_encode(torch.from_numpy(uv), enc).numpy()
    assert np.array_equal(got.view(np.uint32), want.view(np.uint32))


def test_a_failing_format_library_is_one_line_exit_2(exported: tuple[Path, str], tmp_path: Path) -> None:
    bundle, _ = exported
    # torch.onnx itself rejects the opset: a failure inside the format library, not an argument check of ours
    res = subprocess.run(
        [sys.executable, "-m", "ngsdk", "export", str(bundle), "--format", "onnx", "--opset", "99",
         "--out", str(tmp_path / "copy.ngasset")],
        capture_output=True, text=True, cwd=REPO, timeout=300,
    )
    assert res.returncode == 2, res.stderr[-2000:]
    assert "Traceback" not in res.stderr + res.stdout
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("error: onnx export failed: shading_mlp fp32: ") and "99" in last

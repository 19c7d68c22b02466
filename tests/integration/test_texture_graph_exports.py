"""Graph exports of a neural texture bundle through the real CLI: train a small float-decode bundle on a crop
of Ground068, export ONNX, Core ML and VGF, and ``ngsdk verify`` it (against the stored torch
references and against runtime_ref's float decode). The int8 VGF must equal its reference exactly, also
on fresh inputs from every mip and on uniformly random inputs: the reference requantizes like TOSA
(ngsdk.exporters.graph.int8_reference), so the agreement holds by construction."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from ngsdk.verify.catalog import graph_exports as GX
from tests.integration.conftest import train_small
from tests.integration.graph_nets import require_toolchain

GRAPHS_FP32 = {"onnx fp32 nt_decoder", "onnx fp32 nt_mip0", "coreml fp32 nt_decoder", "coreml fp32 nt_mip0",
               "vgf fp32 nt_decoder"}


def _cli(*args: object):  # noqa: ANN202
    from ngsdk.cli import main

    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def bundle(small_material: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_toolchain()
    out = tmp_path_factory.mktemp("texture_graphs") / "g.ngasset"
    # hidden 64 (the default width), seed 2: measured, the float-simulated int8 model misses the VGF on 63 of
    # 368640 outputs of this bundle, so the exactness below is not luck
    res = train_small(small_material, out, seed=2, extra=["--decode", "float", "--hidden", "64"])
    assert res.exit_code == 0, res.output
    res = _cli("export", out, "--format", "onnx,coreml,vgf")
    assert res.exit_code == 0, res.output
    return out


def test_verify_passes_with_exact_int8(bundle: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    res = _cli("verify", bundle, "--json", report)
    assert res.exit_code == 0, res.output
    gx = {(c["code"], c["name"]): c for c in json.loads(report.read_text())["checks"] if c["code"][:2] == "GX"}
    assert gx and all(c["status"] == "pass" for c in gx.values()), res.output
    assert {n for code, n in gx if code == GX.RUNTIME_REF.code} == GRAPHS_FP32

    def max_error(code: str, name: str) -> float:
        return max(r["max_abs_error"] for r in gx[code, name]["details"]["report"]["runs"].values())

    # measured: fp32 graphs within 5e-7 of torch and of runtime_ref's float decode
    for name in GRAPHS_FP32:
        assert max_error(GX.RECORDED_REFERENCE.code, name) < 1e-5 and max_error(GX.RUNTIME_REF.code, name) < 1e-5, name
    for graph in ("nt_decoder", "nt_mip0"):
        assert max_error(GX.RECORDED_REFERENCE.code, f"coreml fp16 {graph}") < 2.0**-8
    lavapipe = gx[GX.RECORDED_REFERENCE.code, "vgf int8 nt_decoder"]["details"]["report"]["runs"]["lavapipe"]
    assert lavapipe["mismatches"] == 0 and lavapipe["outputs"]["channels"]["elements"] == 4096 * 9

    manifest = json.loads((bundle / "manifest.json").read_text())
    (int8,) = [e for e in manifest["exports"] if e["precision"] == "int8"]
    ref = int8["details"]["record"]["details"]["int8_reference"]
    layers = len(manifest["decoder"]["layers"])  # every Linear of the decoder runs in integer arithmetic
    assert ref["integer_layers"] == ["linear"] + [f"linear_{i}" for i in range(1, layers)]
    assert ref["float_simulation"]["max_steps"] <= 1


def test_int8_vgf_equals_integer_reference_on_fresh_inputs(bundle: Path) -> None:
    import torch

    from ngsdk.exporters.graph.bundle_exports import VGF_BATCH
    from ngsdk.exporters.graph.int8_reference import float_simulation_gap, int8_reference
    from ngsdk.exporters.graph.neural_texture import decoder_module, int8_calibration, sample_decoder_inputs
    from ngsdk.exporters.graph.vgf_export import quantize_ptq
    from ngsdk.runtime_ref.graph_verify import verify_export
    from ngsdk.runtime_ref.neural_texture import load_neural_texture

    asset = load_neural_texture(bundle)
    manifest = json.loads((bundle / "manifest.json").read_text())
    (entry,) = [e for e in manifest["exports"] if e["precision"] == "int8"]
    rec = entry["details"]["record"]
    # Rebuild the quantized model the export used (PTQ is deterministic) and check it is the same one.
    examples = (torch.from_numpy(sample_decoder_inputs(asset, VGF_BATCH, seed=0, mip=0)),)
    quantized = quantize_ptq(decoder_module(asset), examples, int8_calibration(asset))
    side = json.loads((bundle / rec["details"]["sidecar"]).read_text())
    q_in = [n for n in quantized.graph.nodes if n.op == "call_function"
            and str(n.target).endswith("quantize_per_tensor.default") and "dequant" not in str(n.target)][0]
    assert side["inputs"][0]["quantization"]["scale"] == float(q_in.args[1])

    rng = np.random.default_rng(11)
    x = np.concatenate([
        sample_decoder_inputs(asset, 6 * VGF_BATCH, seed=7, mip=None),  # texel centres of every mip
        rng.uniform(-1.0, 1.0, (2 * VGF_BATCH, asset.decoder.inputs)).astype(np.float32),  # off the data
    ])
    reference = int8_reference(quantized)
    want = reference(torch.from_numpy(x)).numpy()
    rep = verify_export(rec, bundle, {"inputs": x}, {"channels": want})
    run = rep["runs"]["lavapipe"]
    assert rep["ok"] and run["mismatches"] == 0, rep["errors"]
    assert run["outputs"]["channels"]["elements"] == x.shape[0] * 9
    # the float-simulated converted model may differ on rounding boundaries, never by more than 1 step
    gap = float_simulation_gap(quantized, reference, (torch.from_numpy(x),))
    print(f"int8 decoder: VGF == integer reference on {gap['elements']} outputs; float simulation differs "
          f"on {gap['differ']} (max {gap['max_steps']} step)")
    assert gap["max_steps"] <= 1

"""Issue 12 on the quickstart's own bundle: the shipped sample material (512x512, 5 bpp) trained a few steps and
exported in every format from a shell whose PATH has no export tool on it.

- item 0: the VGF export finds ``model-converter`` beside the interpreter (a clean PATH, no venv activated);
- item 1: the C++ loader (``ngsdk_decode --all --check-reference``) and the Vulkan sample accept the bundle with
  every export kind, .mlpackage folders included (one folder digest in Python and C++), bit-identical to
  runtime_ref;
- item 7: the bundle is small: engine payload and verification data reported apart, references stored once,
  compressed, whole mips sampled; under 5 MB in all;
- item 8: with ``pip install .`` only (numpy, click, jsonschema, pillow), verify exits 0 with the export runs
  SKIPPED and the install line, ``--strict`` makes them fail, export and train say in one line what to install;
- item 10: export prints no third-party noise: only its own progress lines on stderr;
- item 11: ``verify --json -`` writes the JSON report to stdout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from ngsdk.verify.catalog import graph_exports as GX
from ngsdk.verify.catalog import neural_texture as NT
from tests.integration.engine_build import REPO, cmake_build
from tests.integration.graph_nets import require_toolchain
from tests.integration.numpy_only import clean_env, numpy_only_python

SAMPLE = REPO / "ngsdk" / "samples" / "ground068_512"
EXPORT_TOOLS = ("model-converter", "model_converter", "scenario_runner", "vgf_dump")


def clean_path() -> str:
    """System folders only, none holding an export tool: the tools must be found beside the interpreter."""
    dirs = [d for d in ("/usr/local/bin", "/usr/bin", "/bin")
            if Path(d).is_dir() and not any(Path(d, t).exists() for t in EXPORT_TOOLS)]
    return os.pathsep.join(dirs)


def ngsdk(*args: object, python: str | Path = sys.executable, env: dict | None = None,
          cwd: Path = REPO) -> subprocess.CompletedProcess:
    """``python -m ngsdk ARGS`` in the checkout (or ``cwd``), as a user runs it (no venv activated)."""
    return subprocess.run([str(python), "-m", "ngsdk", *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env=env or clean_env(PATH=clean_path()))


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    require_toolchain()
    bundle = tmp_path_factory.mktemp("quickstart") / "ground068.ngasset"
    res = ngsdk("train", "texture", SAMPLE, "--out", bundle, "--bpp", "5", "--steps", "3", "--seed", "0",
                "--device", "cpu", "--no-previews")
    assert res.returncode == 0, res.stderr[-3000:]
    res = ngsdk("export", bundle, "--format", "dds-npz,onnx,coreml,vgf")
    return bundle, res


def test_export_finds_the_converter_beside_the_interpreter(exported) -> None:
    bundle, res = exported
    env_path = clean_path()
    assert not any(shutil.which(t, path=env_path) for t in EXPORT_TOOLS), "the test PATH must hold no export tool"
    assert res.returncode == 0, res.stderr[-3000:]
    assert (bundle / "nt_decoder.fp32.vgf").is_file() and (bundle / "nt_decoder.int8.vgf").is_file()


def test_missing_converter_names_the_package() -> None:
    from ngsdk.toolchain import ToolchainError, require_executable

    with pytest.raises(ToolchainError) as e:
        require_executable("ngsdk-no-such-converter", "pip package 'ai-ml-sdk-model-converter'")
    msg = str(e.value)
    assert "ai-ml-sdk-model-converter" in msg and "pip install 'ngsdk[export]'" in msg and sys.executable in msg


def test_export_prints_only_its_own_lines(exported) -> None:
    _, res = exported
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    ours = [ln for ln in lines if ln.startswith(("exporting ", "wrote "))]
    assert lines == ours, "third-party output on stderr:\n" + "\n".join(ln for ln in lines if ln not in ours)
    assert len(ours) == 9  # 8 exports (onnx 2, coreml 4, vgf 2) and the summary
    assert res.stdout.count("\n") == 8  # one result line per export


def test_quickstart_bundle_is_small(exported) -> None:
    from ngsdk.asset.manifest import read_manifest
    from ngsdk.asset.payload import split_files

    bundle, _ = exported
    manifest = read_manifest(bundle)
    payload, verification = split_files(manifest)
    total = sum(payload.values()) + sum(verification.values())
    print(f"payload {sum(payload.values())} B, verification {sum(verification.values())} B, total {total} B")
    assert total < 5 * 2**20
    # one reference per distinct content: float nt_decoder (onnx, coreml x2, vgf fp32), int8 nt_decoder, nt_mip0
    assert len(verification) == 3 and all(".ref-" in n for n in verification)
    for name in verification:
        with zipfile.ZipFile(bundle / name) as z:
            assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in z.infolist()), name
    mip_ref = next(n for n in verification if n.startswith("nt_mip0."))
    from ngsdk.exporters.graph.reference import SAMPLE_SIZE
    from ngsdk.runtime_ref.graph_verify import Sampled, load_reference

    rec = next(e for e in manifest["exports"] if e["graph"] == "nt_mip0")["details"]["record"]
    _, expected = load_reference(rec, bundle)
    assert isinstance(expected["channels"], Sampled) and expected["channels"].values.size == SAMPLE_SIZE
    assert rec["details"]["reference"] == mip_ref
    res = ngsdk("inspect", bundle)
    assert "engine payload" in res.stdout and "verification data" in res.stdout, res.stdout


def test_cpp_loader_accepts_every_export(exported) -> None:
    from ngsdk.runtime_ref.neural_texture import load_neural_texture

    bundle, _ = exported
    kinds = {(e["format"], e["precision"]) for e in json.loads((bundle / "manifest.json").read_text())["exports"]}
    assert {("onnx", "fp32"), ("coreml", "fp32"), ("coreml", "fp16"), ("vgf", "fp32"), ("vgf", "int8")} <= kinds
    build = cmake_build(REPO / "engine_plugins" / "common", "common")
    res = subprocess.run([str(build / "ngsdk_decode"), str(bundle), "--all", "--check-reference"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.count("matches reference") == load_neural_texture(bundle).mip_levels


def test_vulkan_sample_accepts_every_export(exported, tmp_path: Path) -> None:
    import numpy as np

    from ngsdk.runtime_ref.neural_texture import load_neural_texture
    from ngsdk.runtime_ref.neural_texture_exact import decode_mip

    bundle, _ = exported
    exe = cmake_build(REPO / "engine_plugins" / "vulkan", "vulkan") / "ngsdk_vulkan_sample"
    raw = tmp_path / "mip1.bin"
    res = subprocess.run([str(exe), str(bundle), "--mip", "1", "--raw", str(raw), "--check-reference"],
                         capture_output=True, text=True, timeout=600, env={**os.environ, "XDG_RUNTIME_DIR": "/tmp"})
    assert res.returncode == 0 and "matches reference" in res.stdout, res.stdout + res.stderr
    assert np.array_equal(np.fromfile(raw, dtype=np.uint8), decode_mip(load_neural_texture(bundle), 1).ravel())


def test_verify_json_goes_to_stdout(exported) -> None:
    bundle, _ = exported
    res = ngsdk("verify", bundle, "--json", "-")
    assert res.returncode == 0, res.stderr[-3000:]
    report = json.loads(res.stdout)
    assert report["result"] == "PASS" and report["kind"] == "neural_texture"
    assert f"{NT.DECODE_CONSISTENCY} {NT.DECODE_CONSISTENCY.title}" in res.stderr  # the text report moved to stderr


@pytest.fixture(scope="module")
def numpy_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    python = numpy_only_python(tmp_path_factory.mktemp("numpy_only"))
    probe = subprocess.run([str(python), "-c", "import torch"], capture_output=True, env=clean_env())
    assert probe.returncode != 0, "the numpy-only interpreter must not see torch"
    return python


def test_numpy_only_verify_skips_export_runs(exported, numpy_only: Path, tmp_path: Path) -> None:
    bundle, _ = exported
    report = tmp_path / "r.json"
    res = ngsdk("verify", bundle, "--json", report, python=numpy_only, env=clean_env(PATH=clean_path()), cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.rstrip().splitlines()[-1].startswith("PASS (4 checks skipped: pip install 'ngsdk[export]'")
    checks = json.loads(report.read_text())["checks"]
    status = {c["name"]: c["status"] for c in checks if c["code"] == GX.RECORDED_REFERENCE.code}
    assert status == {"onnx fp32 nt_decoder": "skip", "onnx fp32 nt_mip0": "skip", "vgf fp32 nt_decoder": "skip",
                      "vgf int8 nt_decoder": "skip", "coreml fp32 nt_decoder": "pass", "coreml fp16 nt_decoder": "pass",
                      "coreml fp32 nt_mip0": "pass", "coreml fp16 nt_mip0": "pass"}
    for c in checks:
        if c["status"] == "skip":
            assert "files match their sha256" in c["message"] and "pip install 'ngsdk[export]'" in c["message"]
    strict = ngsdk("verify", bundle, "--strict", "-q", python=numpy_only, env=clean_env(PATH=clean_path()),
                   cwd=tmp_path)
    assert strict.returncode == 1 and "skipped under --strict" in strict.stderr


def test_numpy_only_export_and_train_name_the_extra(exported, numpy_only: Path, tmp_path: Path) -> None:
    bundle, _ = exported
    env = clean_env(PATH=clean_path())
    res = ngsdk("export", bundle, "--format", "onnx", "--out", tmp_path / "copy.ngasset", python=numpy_only, env=env,
                cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [res.stderr.strip()] and "pip install 'ngsdk[export]'" in res.stderr
    assert not (tmp_path / "copy.ngasset").exists()
    res = ngsdk("train", "texture", SAMPLE, "--out", tmp_path / "t.ngasset", "--steps", "1", python=numpy_only, env=env,
                cwd=tmp_path)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.strip() == ("error: this command needs PyTorch (module 'torch' is not installed): "
                                  "pip install 'ngsdk[train]'")

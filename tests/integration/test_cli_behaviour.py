"""Issue 12: what a new user hits on the command line, on a small real bundle (a 256x256 crop of Ground068).

- item 2: ``verify --source`` with a material the bundle was not trained on FAILs the source check naming the files;
- item 3: ``verify --min-psnr`` without ``--source`` checks the PSNR the trainer recorded and says so;
- item 4: a mistyped ``--loss-weight`` name is an error listing the material's names;
- item 5: ``--device cuda:N`` reaches the trainer;
- item 6: a failed ``export`` leaves ``--out`` absent and the bundle unchanged;
- item 11: one error style; -q/-v, an example and one way of showing defaults on every command; ETA lines.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from ngsdk.cli import main
from ngsdk.verify.catalog import neural_texture as NT
from tests.integration.conftest import SMALL, train_small


def cli(*args: object):  # noqa: ANN201 - click's Result
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def one_error_line(res) -> str:  # noqa: ANN001
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) >= 1 and lines[-1].startswith("error: "), res.stderr
    assert "Traceback" not in res.output
    return lines[-1]


@pytest.fixture(scope="module")
def bark(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same 256x256 crop of another real material with the same maps (ambientCG Bark014)."""
    out = tmp_path_factory.mktemp("bark_256")
    for f in sorted((shared_data / "textures" / "bark").iterdir()):
        with Image.open(f) as im:
            im.crop((384, 384, 384 + SMALL, 384 + SMALL)).save(out / (f.stem + ".png"))
    return out


# ------------------------------------------------------------------------------------------ item 2


def test_verify_against_another_material_fails_nt006(small_bundle: Path, bark: Path, tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    res = cli("verify", small_bundle, "--source", bark, "--json", report)
    assert res.exit_code == 1
    checks = {c["code"]: c for c in json.loads(report.read_text())["checks"]}
    assert checks[NT.SOURCE.code]["status"] == "fail"
    msg = checks[NT.SOURCE.code]["message"]
    assert "not among the trained files: albedo.png, ao.png, displacement.png, normal.png, roughness.png" in msg
    assert "missing: Ground068_1K-JPG_AmbientOcclusion.png, Ground068_1K-JPG_Color.png" in msg
    assert checks[NT.QUALITY.code]["status"] == "skip"  # no PSNR against the wrong material
    assert one_error_line(res).startswith(f"error: {NT.SOURCE} source: ")


def test_verify_names_a_changed_source_file(small_bundle: Path, small_material: Path, tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(small_material, src)
    rough = src / "Ground068_1K-JPG_Roughness.png"
    img = np.asarray(Image.open(rough)).copy()
    img[0, 0] ^= 1
    Image.fromarray(img).save(rough)
    res = cli("verify", small_bundle, "--source", src)
    assert res.exit_code == 1
    assert "changed since training: Ground068_1K-JPG_Roughness.png" in one_error_line(res)


def test_source_mismatch_rules() -> None:
    from ngsdk.verify.neural_texture import source_mismatch

    rec = {"a.png": "1" * 64, "b.png": "2" * 64}
    assert source_mismatch(rec, dict(rec)) is None
    assert source_mismatch({}, {"x.png": "3" * 64}) is None  # nothing recorded: nothing to hold it to
    assert "not among the trained files: c.png" in source_mismatch(rec, {**rec, "c.png": "3" * 64})
    assert "missing: b.png" in source_mismatch(rec, {"a.png": "1" * 64})


# ------------------------------------------------------------------------------------------ item 3


def test_min_psnr_without_source_uses_the_recorded_psnr(small_bundle: Path, tmp_path: Path) -> None:
    recorded = json.loads((small_bundle / "manifest.json").read_text())["provenance"]["metrics"]["psnr_db"]
    report = tmp_path / "r.json"
    res = cli("verify", small_bundle, "--min-psnr", f"{recorded + 1:.2f}", "--json", report)
    assert res.exit_code == 1
    nt7 = {c["code"]: c for c in json.loads(report.read_text())["checks"]}[NT.QUALITY.code]
    assert nt7["status"] == "fail" and nt7["name"] == "quality (recorded)"
    assert "recorded by the trainer" in nt7["message"] and "below --min-psnr" in nt7["message"]
    res = cli("verify", small_bundle, "--min-psnr", f"{recorded - 1:.2f}")
    assert res.exit_code == 0 and "as recorded by the trainer (no --source: not measured here)" in res.stdout


def test_min_psnr_without_source_or_record_is_a_usage_error(small_bundle: Path, tmp_path: Path) -> None:
    from ngsdk.asset.manifest import dump_manifest

    bundle = tmp_path / small_bundle.name
    shutil.copytree(small_bundle, bundle)
    m = json.loads((bundle / "manifest.json").read_text())
    del m["provenance"]["metrics"]["psnr_db"]
    (bundle / "manifest.json").write_bytes(dump_manifest(m))
    res = cli("verify", bundle, "--min-psnr", "30")
    assert res.exit_code == 2 and "records no PSNR; give --source" in one_error_line(res)


# ------------------------------------------------------------------------------------------ item 4


def test_mistyped_loss_weight_lists_the_valid_names(small_material: Path, tmp_path: Path) -> None:
    res = train_small(small_material, tmp_path / "w.ngasset", steps=1, extra=["--loss-weight", "albdo=2"])
    assert res.exit_code == 2
    line = one_error_line(res)
    assert "'albdo'" in line and "albedo, normal, roughness, ao, displacement, albedo.r" in line
    assert not (tmp_path / "w.ngasset").exists()


def test_loss_weight_by_texture_and_channel_is_recorded(small_material: Path, tmp_path: Path) -> None:
    out = tmp_path / "w.ngasset"
    res = train_small(small_material, out, steps=1, extra=["--loss-weight", "albedo=2", "--loss-weight", "ao=0.5"])
    assert res.exit_code == 0, res.output
    cfg = json.loads((out / "manifest.json").read_text())["provenance"]["config"]
    assert cfg["loss_weights"] == {"albedo": 2.0, "ao": 0.5}


# ------------------------------------------------------------------------------------------ item 5


def test_device_cuda_n_reaches_the_trainer(small_material: Path, tmp_path: Path) -> None:
    import torch

    res = train_small(small_material, tmp_path / "d.ngasset", steps=1, extra=["--device", "cuda:1"])
    if torch.cuda.device_count() >= 2:
        assert res.exit_code == 0, res.output
        return
    line = one_error_line(res)
    assert res.exit_code == 2 and "Invalid value" not in line
    assert line.startswith("error: --device cuda:1: ")  # the trainer's own message: no such device here
    res = train_small(small_material, tmp_path / "d.ngasset", steps=1, extra=["--device", "gpu"])
    assert res.exit_code == 2 and "is not auto, cpu, cuda or cuda:N" in one_error_line(res)


# ------------------------------------------------------------------------------------------ item 6


def test_export_to_a_copy_with_a_graph_format(small_bundle: Path, tmp_path: Path) -> None:
    """--out with a graph export: the kind's writer swaps the staging folder, which once refused it ("exists and
    is not an ngsdk bundle") because only an in-place export put a manifest there first."""
    before = tree(small_bundle)
    out = tmp_path / "copy.ngasset"
    res = cli("export", small_bundle, "--format", "onnx", "--out", out)
    assert res.exit_code == 0, res.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["exports"] and {e["format"] for e in manifest["exports"]} == {"onnx"}
    assert all((out / f).is_file() for e in manifest["exports"] for f in e["files"])
    assert tree(small_bundle) == before  # the source bundle is not touched
    assert cli("verify", out, "-q").exit_code == 0


def test_failed_export_leaves_no_partial_copy(small_bundle: Path, tmp_path: Path) -> None:
    bad = tmp_path / "calib.npy"
    np.save(bad, np.zeros((8, 3), np.float32))  # the decoder takes more inputs than 3: int8 calibration fails
    out = tmp_path / "copy.ngasset"
    res = cli("export", small_bundle, "--format", "onnx,vgf", "--out", out, "--calibration", bad)
    assert res.exit_code == 2 and "calib.npy" in one_error_line(res)
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["calib.npy"]


def test_failed_export_in_place_leaves_the_bundle_as_it_was(small_bundle: Path, tmp_path: Path) -> None:
    bundle = tmp_path / small_bundle.name
    shutil.copytree(small_bundle, bundle)
    before = tree(bundle)
    bad = tmp_path / "calib.npy"
    np.save(bad, np.zeros((8, 3), np.float32))
    res = cli("export", bundle, "--format", "onnx,vgf", "--calibration", bad)
    assert res.exit_code == 2
    assert tree(bundle) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([bundle.name, "calib.npy"])


# ------------------------------------------------------------------------------------------ item 11


def test_usage_errors_are_one_line(small_material: Path, tmp_path: Path) -> None:
    res = cli("train", "texture", small_material, "--out", tmp_path / "x.ngasset", "--bpp", "99")
    assert res.exit_code == 2 and res.stdout == ""
    assert res.stderr.count("\n") == 1 and res.stderr.startswith("error: Invalid value for '--bpp'")
    assert "(see 'ngsdk train texture --help')" in res.stderr


def _commands():  # noqa: ANN202
    import click

    ctx = click.Context(main)
    for name in main.list_commands(ctx):
        cmd = main.get_command(ctx, name)
        if isinstance(cmd, click.Group):
            for sub in cmd.list_commands(ctx):
                yield f"{name} {sub}", cmd.get_command(ctx, sub)
        else:
            yield name, cmd


@pytest.mark.parametrize("name", [n for n, _ in _commands()])
def test_every_command_has_verbosity_an_example_and_one_default_style(name: str) -> None:
    res = cli(*name.split(), "--help")
    assert res.exit_code == 0
    text = " ".join(res.output.split())
    assert "-q, --quiet" in text and "-v, --verbose" in text, name
    assert "Example" in text, name
    assert "(default" not in text and "[16]" not in text, name  # defaults only as click's [default: ...]


def test_json_dash_and_flag_print_json(small_bundle: Path) -> None:
    res = cli("inspect", small_bundle, "--json")
    assert res.exit_code == 0 and json.loads(res.stdout)["kind"] == "neural_texture"
    res = cli("inspect", small_bundle, "--json", "-")
    assert res.exit_code == 0 and json.loads(res.stdout)["format"] == "ngasset"


def test_quiet_and_verbose(small_bundle: Path) -> None:
    res = cli("verify", small_bundle, "-q")
    assert res.exit_code == 0 and res.stdout == "PASS\n" and res.stderr == ""
    res = cli("verify", small_bundle, "-v")
    assert res.exit_code == 0 and "verify [1/" in res.stderr and "took" in res.stderr  # debug timings


def test_training_reports_eta(small_material: Path, tmp_path: Path) -> None:
    res = train_small(small_material, tmp_path / "eta.ngasset", steps=200, extra=["--time-budget", "8"])
    assert res.exit_code == 0, res.output
    assert "eta " in res.stderr, res.stderr
    log = (tmp_path / "eta.ngasset.log").read_text()
    assert "summary: " in log and "summary: " not in res.stderr  # file-only line

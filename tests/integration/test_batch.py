"""``ngsdk batch`` on a local Ray of 2 CPUs (issue 17's acceptance): three small materials, one broken; two
bundles that verify, one recorded failure, the library report; a batch killed after its first bundle resumes
without retraining it; a volume ensemble's bricks trained as Ray tasks give the same bundle bytes.

The materials are real (ambientCG rock and metal, box-downscaled to 64x64); the budget is a few steps."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

pytest.importorskip("ray", reason="ngsdk batch needs the batch extra: pip install 'ngsdk[batch]'")

SIZE = 64
TRAIN = ["--steps", "20", "--bpp", "16", "--hidden", "16", "--hidden-layers", "1", "--batch-size", "1024",
         "--local-cpus", "2", "--cpus-per-task", "1", "--gpus-per-task", "0"]


@pytest.fixture(scope="module")
def library(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """broken/ (an albedo.png that is no PNG), metal/ and rock/ (real maps at 64x64), in name order."""
    lib = tmp_path_factory.mktemp("library")
    for name in ("metal", "rock"):
        (lib / name).mkdir()
        for f in sorted((shared_data / "textures" / name).iterdir()):
            with Image.open(f) as im:
                im.resize((SIZE, SIZE), Image.Resampling.BOX).save(lib / name / (f.stem + ".png"))
    (lib / "broken").mkdir()
    (lib / "broken" / "albedo.png").write_bytes(b"this is not a png")
    (lib / "broken" / "roughness.png").write_bytes((lib / "rock" / "roughness.png").read_bytes())
    return lib


def _batch(library: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "ngsdk", "batch", "texture", str(library), "--out", str(out), *TRAIN, *extra]


def _record(out: Path, name: str) -> dict | None:
    try:
        return json.loads((out / f"{name}.batch.json").read_text())
    except (OSError, ValueError):
        return None


def test_batch_killed_after_first_bundle_resumes_without_retraining(library: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    # one task at a time: broken (fails), metal (the first bundle), then rock; kill once metal is recorded
    proc = subprocess.Popen(_batch(library, out, "--max-parallel", "1"), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while (_record(out, "metal") or {}).get("status") != "ok":
            assert proc.poll() is None, proc.stdout.read().decode()
            assert time.monotonic() < deadline, "no first bundle within 240 s"
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the batch and the local Ray it started
        proc.wait()
    # rock (a few steps at 64x64) may have finished in the moment between metal's record and the kill: whatever
    # has an ok record then is done, and a bundle without its record (killed between the two) is trained again
    done = [n for n in ("metal", "rock") if (_record(out, n) or {}).get("status") == "ok"]
    assert "metal" in done
    first = {n: _record(out, n) for n in done}
    mtimes = {n: (out / f"{n}.ngasset" / "manifest.json").stat().st_mtime_ns for n in done}

    res = subprocess.run(_batch(library, out), capture_output=True, text=True, timeout=300)
    log = res.stderr
    assert res.returncode == 1, log  # exit 0 only if every material succeeded
    assert "3 texture item(s)" in log and f"{len(done)} up to date, {3 - len(done)} to train" in log, log
    trained = log.split("to train", 1)[1].split("report:")[0]
    for n in done:  # not trained again
        assert f"{n}:" not in trained, log
        assert _record(out, n) == first[n]
        assert (out / f"{n}.ngasset" / "manifest.json").stat().st_mtime_ns == mtimes[n]

    # two bundles that verify against their sources, one failure with its one-line error
    from ngsdk.cli import main

    for name in ("metal", "rock"):
        assert _record(out, name)["status"] == "ok"
        v = CliRunner().invoke(main, ["verify", str(out / f"{name}.ngasset"), "--source", str(library / name)])
        assert v.exit_code == 0, v.output
    broken = _record(out, "broken")
    assert broken["status"] == "failed"
    assert broken["error"].startswith(str(library / "broken" / "albedo.png") + ": ") and "\n" not in broken["error"]
    assert not (out / "broken.ngasset").exists()
    assert not [p for p in out.rglob(".*") if p.name != ".batch.lock"], "temporary files left behind"

    report = json.loads((out / "report.json").read_text())
    assert report["counts"] == {"ok": 2, "failed": 1, "missing": 0}
    rows = {r["name"]: r for r in report["items"]}
    rock = rows["rock"]
    assert rock["width"] == SIZE and len(rock["channels"]) == 9 and rock["bpp"] > 0
    assert set(rock["textures_db"]) == {"albedo", "normal", "roughness", "ao", "displacement"}
    assert rock["device"].startswith("cpu") and rock["train_seconds"] > 0
    assert (out / rock["thumbnail"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if "bcn" in rock:  # the bench extra (etcpak) is installed
        assert set(rock["bcn"]["textures_db"]) == set(rock["textures_db"])
    html = (out / "report.html").read_text()
    assert "<svg" in html and "data:image/png;base64," in html and "albedo.png" in html

    # a third run: nothing to train but the broken material, which fails again
    again = subprocess.run(_batch(library, out), capture_output=True, text=True, timeout=300)
    assert again.returncode == 1 and "2 up to date, 1 to train" in again.stderr, again.stderr


def test_batch_bundle_equals_train_texture(library: Path, tmp_path: Path) -> None:
    """A material trained in a batch task is byte-identical to ``ngsdk train texture`` with the same options;
    a changed option retrains it (the key), the same options skip it."""
    from ngsdk.cli.train_texture import command as train_texture

    lib = tmp_path / "lib"
    shutil.copytree(library / "rock", lib / "rock")
    out = tmp_path / "out"
    res = subprocess.run(_batch(lib, out), capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    single = tmp_path / "single.ngasset"
    args = [str(library / "rock"), "--out", str(single), *TRAIN[:10], "--device", "cpu", "--no-previews"]
    r = CliRunner().invoke(train_texture, args, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    files = sorted(p.relative_to(single) for p in single.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(out / "rock.ngasset") for p in (out / "rock.ngasset").rglob("*")
                           if p.is_file())
    for f in files:
        assert (single / f).read_bytes() == (out / "rock.ngasset" / f).read_bytes(), f
    res = subprocess.run(_batch(lib, out, "--seed", "1"), capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and "0 up to date, 1 to train" in res.stderr, res.stderr


@pytest.fixture(scope="module")
def local_ray():
    from ngsdk.batch.pool import start_ray, stop_ray

    start_ray(num_cpus=2, num_gpus=0)
    yield
    stop_ray()


def test_volume_bricks_on_ray_give_the_same_bytes(shared_data: Path, tmp_path: Path, local_ray: None) -> None:
    """``train volume --bricks`` through Ray tasks equals the in-process path byte for byte (seeded bricks)."""
    import torch

    from ngsdk.batch.bricks import RayBricks
    from ngsdk.exporters.neural_volume import write_neural_volume
    from ngsdk.volumes.config import VolumeTrainConfig
    from ngsdk.volumes.ingest import load_volume
    from ngsdk.volumes.train import train_volume

    vol = load_volume(shared_data / "volumes" / "ironProt_zyx_68x68x68_uint8.npy")
    vol.values = np.ascontiguousarray(vol.values[18:50, 18:50, 18:50])  # 32^3 of the real data: a short test

    def cfg() -> VolumeTrainConfig:
        return VolumeTrainConfig(steps=12, device="cpu", bricks=(1, 1, 2), ghost=4).apply_preset("tiny")

    lines: list[str] = []
    runner = RayBricks(gpus=0, device="cpu")
    assert runner.slots == 2
    # CPU float sums depend on the thread count: the in-process run uses the Ray task's one thread per brick
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        here = train_volume(vol, cfg())
    finally:
        torch.set_num_threads(before)
    ray = train_volume(vol, cfg(), runner=runner, log=lines.append)
    assert "Ray (2 at a time, 1 CPU each)" in lines[0] and any(s.startswith("brick001 done") for s in lines)
    a, b = tmp_path / "here.ngasset", tmp_path / "ray.ngasset"
    write_neural_volume(here.asset, a)
    write_neural_volume(ray.asset, b)
    names = sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file())
    for n in names:
        assert (a / n).read_bytes() == (b / n).read_bytes(), n


def test_batch_volume(shared_data: Path, tmp_path: Path, local_ray: None) -> None:
    """``run_batch`` of volumes: a real crop and a file that is no volume; report rows and the record."""
    from ngsdk.batch.driver import BatchSpec, run_batch
    from ngsdk.batch.library import find_volumes
    from ngsdk.batch.pool import Resources
    from ngsdk.batch.volume_task import train_volume_item
    from ngsdk.volumes.config import VolumeTrainConfig

    lib = tmp_path / "vols"
    (lib / "sub").mkdir(parents=True)
    iron = np.load(shared_data / "volumes" / "ironProt_zyx_68x68x68_uint8.npy", allow_pickle=False)
    np.save(lib / "sub" / "iron.npy", np.ascontiguousarray(iron[20:44, 20:44, 20:44]))
    (lib / "bad.npy").write_bytes(b"not an npy file")
    cfg = VolumeTrainConfig(steps=10, device="cpu").apply_preset("tiny")
    spec = BatchSpec("volume", find_volumes, train_volume_item, cfg.to_dict(), {"reader": {"axis_order": "zyx"}})
    out = tmp_path / "out"
    s = run_batch(lib, out, spec, resources=Resources(cpus=1), log=lambda m: None)
    assert s.trained == ["sub/iron"] and list(s.failed) == ["bad"] and not s.ok
    assert s.failed["bad"].startswith(str(lib / "bad.npy")), s.failed
    report = json.loads((out / "report.json").read_text())
    row = next(r for r in report["items"] if r["name"] == "sub/iron")
    assert row["shape"] == [24, 24, 24] and row["psnr_db"] > 10 and row["bricks"] == 1
    assert (out / "sub" / "iron.ngasset" / "manifest.json").is_file()
    again = run_batch(lib, out, spec, resources=Resources(cpus=1), log=lambda m: None)
    assert again.skipped == ["sub/iron"] and again.trained == []


def test_train_volume_ray_option(shared_data: Path, tmp_path: Path, local_ray: None) -> None:
    """``ngsdk train volume --bricks 1x1x2 --ray local`` (the Ray of this process) writes a bundle that verifies."""
    from ngsdk.cli import main
    from ngsdk.cli.train_volume import command as train_volume

    iron = np.load(shared_data / "volumes" / "ironProt_zyx_68x68x68_uint8.npy", allow_pickle=False)
    src = tmp_path / "iron24.npy"
    np.save(src, np.ascontiguousarray(iron[20:44, 20:44, 20:44]))
    out = tmp_path / "v.ngasset"
    r = CliRunner().invoke(train_volume, [str(src), "--out", str(out), "--preset", "tiny", "--bricks", "1x1x2",
                                          "--ghost", "2", "--steps", "8", "--device", "cpu", "--ray", "local"],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "on Ray (2 at a time, 1 CPU each)" in (tmp_path / "v.ngasset.log").read_text()
    v = CliRunner().invoke(main, ["verify", str(out), "--source", str(src)])
    assert v.exit_code == 0, v.output

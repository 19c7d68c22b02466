"""Hostile training inputs and options (issue 14, classes 4-6): ``ngsdk train texture`` refuses them before
the first step, in one line (exit 2), instead of training on the rest or failing at the end of the run."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from ngsdk.asset.errors import AssetError
from ngsdk.textures.ingest import load_texture_set

pytest.importorskip("torch")

@pytest.fixture
def material(tmp_path: Path) -> Path:
    """A small material folder: albedo and roughness at 32x32."""
    out = tmp_path / "mat"
    out.mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(out / "mat_albedo.png")
    Image.fromarray(rng.integers(0, 256, (32, 32), dtype=np.uint8)).save(out / "mat_roughness.png")
    return out


def _train(*args: str | Path) -> tuple[int, str]:
    from ngsdk.cli.train_texture import command

    res = CliRunner().invoke(command, [str(a) for a in args], catch_exceptions=False)
    return res.exit_code, res.output


@pytest.mark.parametrize("make", ["folder", "fifo", "device"])
def test_a_map_that_is_not_a_regular_file_is_an_error(make: str, material: Path) -> None:
    bad = material / "mat_normal.png"
    if make == "folder":
        bad.mkdir()
    elif make == "fifo":
        os.mkfifo(bad)
    else:
        os.symlink("/dev/zero", bad)
    with pytest.raises(AssetError) as e:
        load_texture_set(material)
    assert str(e.value).startswith(f"{bad}: is ") and "regular image file" in str(e.value)


def test_nan_in_a_float_tiff_is_an_error(material: Path) -> None:
    data = np.ones((32, 32), np.float32)
    data[3, 4] = np.nan
    Image.fromarray(data, mode="F").save(material / "mat_height.tif")
    with pytest.raises(AssetError, match="1 NaN or infinite values"):
        load_texture_set(material)


def test_a_decompression_bomb_is_refused_from_its_header(material: Path) -> None:
    Image.new("L", (9000, 8000)).save(material / "mat_height.png", optimize=True)   # 72 Mpx of zeros: ~70 kB
    with pytest.raises(AssetError, match="9000x8000, over the limit"):
        load_texture_set(material)


@pytest.mark.parametrize(("args", "problem"), [
    (["--loss-weight", "albedo=nan"], "a weight is a finite number >= 0"),
    (["--loss-weight", "albedo=-inf"], "a weight is a finite number >= 0"),
    (["--out", "FILE"], "exists and is not a folder"),
    (["--out", "NOTBUNDLE"], "is a folder that is not an ngsdk bundle"),
    (["--checkpoint", "DIR"], "is a folder; give a file name"),
    (["--resume", "EMPTY"], "the checkpoint is empty"),
    (["--resume", "TRUNCATED"], "not a readable ngsdk checkpoint"),
    (["--resume", "NOTCKPT"], "not an ngsdk checkpoint (no meta, rng array)"),
    (["--resume", "NANCKPT"], "array 'w' holds NaN or infinite values"),
])
def test_bad_options_fail_before_training(args: list[str], problem: str, material: Path, tmp_path: Path) -> None:
    (tmp_path / "FILE").write_text("x")
    (tmp_path / "NOTBUNDLE").mkdir()
    (tmp_path / "NOTBUNDLE" / "keep.txt").write_text("x")
    (tmp_path / "DIR").mkdir()
    (tmp_path / "EMPTY").write_bytes(b"")
    ckpt = tmp_path / "ck.npz"
    np.savez(ckpt, meta=np.zeros(4, np.uint8), rng=np.zeros(4, np.uint8), w=np.zeros(1000, np.float32))
    (tmp_path / "TRUNCATED").write_bytes(ckpt.read_bytes()[:-100])
    np.savez(tmp_path / "NANCKPT", meta=np.zeros(4, np.uint8), rng=np.zeros(4, np.uint8), w=np.full(3, np.nan))
    shutil.move(tmp_path / "NANCKPT.npz", tmp_path / "NANCKPT")
    np.savez(tmp_path / "NOTCKPT", w=np.zeros(3))
    shutil.move(tmp_path / "NOTCKPT.npz", tmp_path / "NOTCKPT")
    args = [str(tmp_path / a) if a.isupper() else a for a in args]
    opts = {"--out": str(tmp_path / "o.ngasset")}
    for flag, value in zip(args[::2], args[1::2]):
        opts[flag] = value
    code, out = _train(material, "--steps", "1", "--device", "cpu", *[x for kv in opts.items() for x in kv])
    assert code == 2, out
    assert problem in out, out
    assert not (tmp_path / "o.ngasset").exists() and not (tmp_path / "o.ngasset.log").exists()


def test_shading_image_fifo_and_bomb_are_refused(tmp_path: Path) -> None:
    from ngsdk.shading.images import load_image

    os.mkfifo(tmp_path / "pipe.png")
    with pytest.raises(AssetError, match="FIFO"):
        load_image(tmp_path / "pipe.png")
    Image.new("L", (9000, 8000)).save(tmp_path / "bomb.png", optimize=True)
    with pytest.raises(AssetError, match="9000x8000, over the limit"):
        load_image(tmp_path / "bomb.png")


@pytest.mark.parametrize("use_case", ["supersampling", "pbr"])
def test_new_use_cases_check_out_and_lr_before_training(use_case: str, tmp_path: Path) -> None:
    """The super-sampling and PBR trainers share the preflight: a file at --out and a NaN learning rate end in
    one usage line (exit 2) before any data is read."""
    from ngsdk.cli import main

    data = tmp_path / "data"
    data.mkdir()
    (tmp_path / "afile").write_bytes(b"x")
    role = ["--role", "teacher"] if use_case == "pbr" else []
    for extra, problem in ((["--out", str(tmp_path / "afile")], "is not a folder"),
                           (["--out", str(tmp_path / "b.ngasset"), "--lr", "nan"], "not a finite number")):
        res = CliRunner().invoke(main, ["train", use_case, str(data), *role, *extra])
        assert res.exit_code == 2, res.output
        assert problem in res.output and "Traceback" not in res.output
        assert not (tmp_path / "b.ngasset").exists()


@pytest.fixture
def small_disk(tmp_path: Path):  # noqa: ANN201 - a generator fixture
    """A 12 KiB tmpfs: a bundle does not fit (needs root to mount; skipped otherwise, saying so)."""
    import subprocess

    mnt = tmp_path / "small_disk"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12k", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {r.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_a_full_disk_ends_in_one_line_and_keeps_the_old_bundle(tmp_path: Path, small_disk: Path) -> None:
    """Disk full during the final write: one ``error:`` line naming the file, exit 2, no temporary folder left,
    and a bundle already at --out (here a small placeholder bundle folder) is not touched."""
    material = tmp_path / "mat64"
    material.mkdir()
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(material / "m_albedo.png")
    Image.fromarray(rng.integers(0, 256, (64, 64), dtype=np.uint8)).save(material / "m_roughness.png")
    out = small_disk / "x.ngasset"
    out.mkdir()
    (out / "manifest.json").write_text("{}")
    code, output = _train(material, "--out", out, "--steps", "3", "--bpp", "30", "--device", "cpu", "--no-previews")
    assert code == 2, output
    assert "No space left on device" in output and "Traceback" not in output
    assert output.strip().splitlines()[-1].startswith("error: ")
    assert (out / "manifest.json").read_text() == "{}"
    assert not [p for p in small_disk.iterdir() if p.name.endswith(".tmp")]

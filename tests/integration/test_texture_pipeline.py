"""End to end on real data: train -> bundle -> reference decode -> verify, and every failure path."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from ngsdk.asset.digest import decode_hash
from ngsdk.cli import main
from ngsdk.runtime_ref.neural_texture import load_neural_texture
from ngsdk.runtime_ref.neural_texture_modes import decode_mip, decode_uv
from ngsdk.verify.catalog import neural_texture as NT

from .conftest import train_small

REPO = Path(__file__).resolve().parents[2]


def _files(bundle: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(bundle.iterdir())}


def _grid_file(bundle: Path, i: int = 0) -> str:
    """File of latent grid ``i`` (the default pyramid layout has one grid, ``latents.dds``)."""
    return json.loads((bundle / "manifest.json").read_text())["grids"][i]["file"]


def test_decode_equals_trained_model_bit_for_bit(small_bundle: Path) -> None:
    torch = pytest.importorskip("torch")
    from ngsdk.textures.strict import strict_decode_mip

    asset = load_neural_texture(small_bundle)
    assert asset.mip_levels == 9
    for m in range(asset.mip_levels):
        ours = decode_mip(asset, m)
        theirs = strict_decode_mip(asset, m).numpy()
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
        assert np.max(np.abs(ours - theirs)) == 0.0
        assert np.array_equal(ours, theirs)
        assert decode_hash(ours) == asset.provenance.reference_decode[f"mip{m}"]
    assert torch.get_num_threads() >= 1


def test_decode_uv_matches_whole_mip_at_texel_centres(small_bundle: Path) -> None:
    asset = load_neural_texture(small_bundle)
    full = decode_mip(asset, 1)
    h, w = full.shape[:2]
    rng = np.random.default_rng(1)
    ij = rng.integers(0, [h, w], size=(500, 2))
    uv = np.stack([(ij[:, 1].astype(np.float32) + np.float32(0.5)) / np.float32(w),
                   (ij[:, 0].astype(np.float32) + np.float32(0.5)) / np.float32(h)], axis=1)
    assert np.array_equal(decode_uv(asset, uv, mip=1), full[ij[:, 0], ij[:, 1]])


def test_every_trained_level_is_exported(small_bundle: Path) -> None:
    from ngsdk.runtime_ref.dds import read_dds

    manifest = json.loads((small_bundle / "manifest.json").read_text())
    assert manifest["format_version"] == "2.0"
    for g in manifest["grids"]:
        tex = read_dds(small_bundle / g["file"])
        assert tex.mip_count == g["levels"] <= max(g["width"], g["height"]).bit_length()
    # every stored level is read by some tap, and only stored levels are
    used = {(g, lv) for mip in manifest["texture"]["mip_inputs"] for g, lv in mip["taps"]}
    assert used == {(i, lv) for i, g in enumerate(manifest["grids"]) for lv in range(g["levels"])}


def test_grid_dds_top_level_opens_in_pillow(small_bundle: Path) -> None:
    from ngsdk.runtime_ref.dds import read_dds

    tex = read_dds(small_bundle / _grid_file(small_bundle))
    with Image.open(small_bundle / _grid_file(small_bundle)) as im:
        assert im.size == (tex.width, tex.height)
        assert np.array_equal(np.asarray(im.convert("RGBA")), tex.mips[0][0])


def test_same_seed_gives_byte_identical_bundle(small_material: Path, tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.ngasset", tmp_path / "b.ngasset", tmp_path / "c.ngasset"
    assert train_small(small_material, a, steps=12, seed=7).exit_code == 0
    assert train_small(small_material, b, steps=12, seed=7).exit_code == 0
    assert train_small(small_material, c, steps=12, seed=8).exit_code == 0
    assert _files(a) == _files(b)
    assert _files(a)[_grid_file(a)] != _files(c)[_grid_file(c)]


def test_resume_from_checkpoint_continues_the_same_run(small_material: Path, tmp_path: Path) -> None:
    ck = tmp_path / "run.ckpt.npz"
    straight, resumed = tmp_path / "s.ngasset", tmp_path / "r.ngasset"
    assert train_small(small_material, straight, steps=20, seed=3).exit_code == 0
    assert train_small(small_material, tmp_path / "half.ngasset", steps=10, seed=3,
                       extra=["--checkpoint", str(ck)]).exit_code == 0
    # the checkpoint of a 10-step run resumed with a 20-step schedule: the schedule differs from the
    # straight run for steps 0-9, so compare the resumed run with itself resumed twice instead
    r1 = train_small(small_material, resumed, steps=20, seed=3, extra=["--resume", str(ck)])
    assert r1.exit_code == 0, r1.output
    assert "resumed from" in r1.output
    again = tmp_path / "r2.ngasset"
    assert train_small(small_material, again, steps=20, seed=3, extra=["--resume", str(ck)]).exit_code == 0
    assert _files(resumed) == _files(again)


def test_exported_parameters_are_the_checkpointed_average(small_material: Path, tmp_path: Path) -> None:
    """The integer phase exports the moving average of the parameters, and the checkpoint carries it: resuming
    a finished run re-exports the same bytes only if the average comes back (the checkpoint's model holds the
    last step's parameters)."""
    ck = tmp_path / "run.ckpt.npz"
    first, again = tmp_path / "a.ngasset", tmp_path / "b.ngasset"
    assert train_small(small_material, first, steps=20, seed=5, extra=["--checkpoint", str(ck)]).exit_code == 0
    arrays = np.load(ck, allow_pickle=False)
    assert any(k.startswith("ema/") for k in arrays.files), "the checkpoint holds no parameter average"
    res = train_small(small_material, again, steps=20, seed=5, extra=["--resume", str(ck)])
    assert res.exit_code == 0, res.output
    assert _files(first) == _files(again)
    from ngsdk.textures.config import TextureTrainConfig
    from ngsdk.textures.ingest import load_texture_set
    from ngsdk.textures.train import train_texture

    ts = load_texture_set(small_material)
    kw = dict(bpp=12, hidden=32, steps=20, seed=5, device="cpu", batch_size=4096)
    with_avg = train_texture(ts, TextureTrainConfig(**kw)).asset
    without = train_texture(ts, TextureTrainConfig(**kw, ema=None)).asset
    # the average changes what ships: the decoder's weights differ from the last step's
    assert any(not np.array_equal(a.weight, b.weight) for a, b in zip(with_avg.decoder.layers, without.decoder.layers))


def test_verify_json_report(small_bundle: Path, small_material: Path, tmp_path: Path) -> None:
    rep = tmp_path / "r.json"
    html = tmp_path / "r.html"
    res = CliRunner().invoke(main, ["verify", str(small_bundle), "--source", str(small_material),
                                    "--json", str(rep), "--html", str(html), "--previews", str(tmp_path / "p")])
    assert res.exit_code == 0, res.output
    data = json.loads(rep.read_text())
    assert data["result"] == "PASS"
    checks = {c["code"]: c for c in data["checks"]}
    assert checks[NT.DECODE_CONSISTENCY.code]["status"] == "pass"
    assert set(checks[NT.DECODE_CONSISTENCY.code]["details"]["mips"].values()) == {"match"}
    per_mip = checks[NT.QUALITY.code]["details"]["per_mip"]
    assert len(per_mip) == 9
    tex = per_mip["mip0"]["textures_db"]
    assert set(tex) == {"albedo", "normal", "roughness", "ao", "displacement"}
    assert all(10.0 < v < 99.0 for v in tex.values())
    assert 0 < data["summary"]["bpp"] <= 12.0
    assert (tmp_path / "p" / "contact_sheet.png").is_file()
    assert "data:image/png;base64" in html.read_text()


def test_min_psnr_fails_verify(small_bundle: Path, small_material: Path) -> None:
    res = CliRunner().invoke(main, ["verify", str(small_bundle), "--source", str(small_material),
                                    "--min-psnr", "60", "-q"])
    assert res.exit_code == 1


def _run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ngsdk", *args], capture_output=True, text=True, cwd=REPO)


@pytest.mark.parametrize("damage", ["dds_byte", "delete_npz", "truncate_manifest", "wrong_version",
                                    "dds_header"])
def test_damaged_bundle_fails_with_one_line_naming_the_file(small_bundle: Path, tmp_path: Path,
                                                            damage: str) -> None:
    b = tmp_path / "b.ngasset"
    shutil.copytree(small_bundle, b)
    grid = _grid_file(b)
    if damage == "dds_byte":
        p = b / grid
        data = bytearray(p.read_bytes())
        data[len(data) // 2] ^= 0x01
        p.write_bytes(bytes(data))
        name = grid
    elif damage == "delete_npz":
        (b / "decoder.npz").unlink()
        name = "decoder.npz"
    elif damage == "truncate_manifest":
        p = b / "manifest.json"
        p.write_bytes(p.read_bytes()[:200])
        name = "manifest.json"
    elif damage == "wrong_version":
        p = b / "manifest.json"
        m = json.loads(p.read_text())
        m["format_version"] = "3.0"
        p.write_text(json.dumps(m))
        name = "manifest.json"
    else:
        p = b / grid
        data = bytearray(p.read_bytes())
        data[4] = 99  # dwSize must be 124
        p.write_bytes(bytes(data))
        m = json.loads((b / "manifest.json").read_text())
        from ngsdk.asset.manifest import dump_manifest, file_record

        m["files"][grid] = file_record(p)
        (b / "manifest.json").write_bytes(dump_manifest(m))
        name = grid
    res = _run_cli("verify", str(b), "-q")
    assert res.returncode != 0
    lines = [l for l in res.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, res.stderr
    assert name in lines[0] and "Traceback" not in res.stderr


def test_verify_and_inspect_work_without_torch(small_bundle: Path, small_material: Path) -> None:
    code = (
        "import sys\n"
        "sys.modules['torch'] = None  # any 'import torch' now raises ImportError\n"
        "from ngsdk.cli import main\n"
        "for args in (['inspect', BUNDLE], ['verify', BUNDLE, '--source', SOURCE, '-q']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit as e:\n"
        "        assert e.code in (0, None), (args, e.code)\n"
        "assert sys.modules['torch'] is None\n"
        "print('TORCH-FREE OK')\n"
    ).replace("BUNDLE", repr(str(small_bundle))).replace("SOURCE", repr(str(small_material)))
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert res.returncode == 0, res.stderr
    assert "TORCH-FREE OK" in res.stdout and "PASS" in res.stdout


def test_inspect_summary(small_bundle: Path) -> None:
    res = CliRunner().invoke(main, ["inspect", str(small_bundle)])
    assert res.exit_code == 0
    assert "latents" in res.output and "albedo.r" in res.output and "bpp" in res.output
    # the default layout: two taps of one pyramid per mip, at consecutive levels, and a LOD input
    assert "taps         2 per mip (latents, latents), levels by mip 0/1 0/1 1/2" in res.output
    assert "LOD inputs -127 127" in res.output


def test_export_dds_npz_copy_is_loadable(small_bundle: Path, tmp_path: Path) -> None:
    out = tmp_path / "copy.ngasset"
    res = CliRunner().invoke(main, ["export", str(small_bundle), "--format", "dds-npz", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert _files(out) == _files(small_bundle)

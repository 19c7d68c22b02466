"""``ngsdk verify`` and ``ngsdk decode`` on neural volume bundles built from a real volume (no training).

The test asset stores the iron protein density itself as one unorm8 grid per brick (identity transform,
a 1 -> 1 identity decoder), so its decode is close to the source and every check has real numbers.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from ngsdk.asset.digest import decode_hash
from ngsdk.asset.manifest import dump_manifest, file_record
from ngsdk.asset.neural_volume import NeuralVolumeAsset, Normalization, VolumeBrick, VolumeGrid
from ngsdk.asset.types import Decoder, DecoderLayer, Provenance
from ngsdk.cli.decode import command as decode_cmd
from ngsdk.cli.verify import command as verify_cmd
from ngsdk.exporters.neural_volume import write_neural_volume
from ngsdk.runtime_ref.neural_volume import decode_points, denormalize, reconstruct
from ngsdk.verify.catalog import codes_of
from ngsdk.verify.catalog import neural_volume as VX
from ngsdk.verify.neural_volume import verify_neural_volume

IRON = "volumes/ironProt_zyx_68x68x68_uint8.npy"
IDENTITY = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]], dtype=np.float32)


@pytest.fixture(scope="module")
def iron(shared_data: Path) -> tuple[Path, np.ndarray]:
    path = shared_data / IRON
    return path, np.load(path, allow_pickle=False)


def identity_asset(data: np.ndarray, bricks: int = 1, seam_offset: int = 0, mode: str = "exact",
                   record: bool = True) -> NeuralVolumeAsset:
    """The volume stored as codes: one brick, or two split along x at the middle with 4 ghost voxels each
    side; ``seam_offset`` adds to brick 1's codes (a deliberate seam)."""
    d, h, w = data.shape
    if bricks == 1:
        boxes = [((0, d, 0, h, 0, w), (0, d, 0, h, 0, w))]
    else:
        m = w // 2
        boxes = [((0, d, 0, h, 0, m), (0, d, 0, h, 0, m + 4)), ((0, d, 0, h, m, w), (0, d, 0, h, m - 4, w))]
    out = []
    for i, (core, fit) in enumerate(boxes):
        codes = data[fit[0]:fit[1], fit[2]:fit[3], fit[4]:fit[5]].astype(np.int32) + (seam_offset if i else 0)
        grid = VolumeGrid("grid00", IDENTITY, "unorm8", np.clip(codes, 0, 255).astype(np.uint8)[..., None],
                          scale=1 / 255, offset=0.0)
        dec = Decoder([DecoderLayer(np.ones((1, 1)), np.zeros(1), "none")])
        out.append(VolumeBrick(f"brick{i:03d}", core, fit, [grid], dec))
    asset = NeuralVolumeAsset("iron", data.shape, Normalization(0.0, 255.0, "uint8"), out,
                              Provenance(ngsdk_version="test", seed=0), decode_mode=mode)
    if record:       # what the trainer records: the hash of its decode in the asset's mode
        asset.provenance.reference_decode["volume"] = decode_hash(reconstruct(asset))
    return asset


def _checks(rep) -> dict[str, str]:
    return {c.code: c.status for c in rep.checks}


def _expect(*statuses: str) -> dict[str, str]:
    """Code -> status for every volume check, in catalog order."""
    return {c.code: s for c, s in zip(codes_of(VX), statuses, strict=True)}


# ---------------------------------------------------------------------------------------------- verify


def test_cli_verify_passes_on_real_volume(iron, tmp_path: Path) -> None:
    src, data = iron
    bundle = tmp_path / "iron.ngasset"
    write_neural_volume(identity_asset(data), bundle)
    out, page = tmp_path / "report.json", tmp_path / "report.html"
    r = CliRunner().invoke(verify_cmd, [str(bundle), "--source", str(src), "--json", str(out), "--html", str(page),
                                        "--previews", str(tmp_path / "previews")])
    assert r.exit_code == 0, r.output
    rep = json.loads(out.read_text())
    assert rep["result"] == "PASS" and rep["kind"] == "neural_volume"
    status = {c["code"]: c["status"] for c in rep["checks"]}
    assert status == _expect("pass", "pass", "pass", "pass", "skip", "pass", "pass", "pass")
    q = next(c for c in rep["checks"] if c["code"] == VX.QUALITY.code)["details"]
    # codes are the source bytes: only the 1/256 weights and the >> 8 truncation cost anything
    assert 45 < q["psnr_db"] < 99 and q["max_abs_error"] < 0.05
    assert q["psnr_source_db"] == pytest.approx(q["psnr_db"]) and q["source_peak"] == 255.0
    assert q["max_abs_error_source"] == pytest.approx(q["max_abs_error"] * 255)
    ratio = next(c for c in rep["checks"] if c["code"] == VX.COMPRESSION.code)["details"]["ratio"]
    assert ratio == pytest.approx(68**3 / (68**3 * 4 + 8))
    assert VX.QUALITY.code in page.read_text() and len(rep["previews"]) == 3
    assert all(Path(p).is_file() for p in rep["previews"])


def test_verify_quality_threshold(iron, tmp_path: Path) -> None:
    src, data = iron
    bundle = tmp_path / "iron.ngasset"
    write_neural_volume(identity_asset(data), bundle)
    rep = verify_neural_volume(bundle, src, min_psnr=95)
    assert _checks(rep)[VX.QUALITY.code] == "fail" and "below --min-psnr 95" in rep.checks[3].message
    r = CliRunner().invoke(verify_cmd, [str(bundle), "--source", str(src), "--min-psnr", "95"])
    assert r.exit_code == 1


def test_verify_fails_when_decode_differs_from_training(iron, tmp_path: Path) -> None:
    src, data = iron
    asset = identity_asset(data)
    asset.provenance.reference_decode["volume"] = "0" * 64
    bundle = tmp_path / "iron.ngasset"
    write_neural_volume(asset, bundle)
    out = tmp_path / "r.json"
    r = CliRunner().invoke(verify_cmd, [str(bundle), "--source", str(src), "--json", str(out)])
    assert r.exit_code == 1
    rep = json.loads(out.read_text())
    assert rep["result"] == "FAIL"
    vx3 = next(c for c in rep["checks"] if c["code"] == VX.DECODE_CONSISTENCY.code)
    assert vx3["status"] == "fail" and vx3["details"]["sha256"] != "0" * 64


def test_verify_bad_files(iron, tmp_path: Path) -> None:
    _, data = iron
    bundle = tmp_path / "iron.ngasset"
    asset = identity_asset(data[:20, :24, :28])
    write_neural_volume(asset, bundle)
    name = "bricks/brick000/grid00.dds"
    good = (bundle / name).read_bytes()
    bad = bytearray(good)
    bad[-1] ^= 1
    (bundle / name).write_bytes(bytes(bad))
    rep = verify_neural_volume(bundle)
    assert _checks(rep) == {VX.MANIFEST_AND_FILES.code: "fail"} and name in rep.checks[0].message
    # consistent checksums but a stray unused component: the DDS check names the file
    bad = bytearray(good)
    bad[148 + 1] = 7
    (bundle / name).write_bytes(bytes(bad))
    m = json.loads((bundle / "manifest.json").read_text())
    m["files"][name] = file_record(bundle / name)
    (bundle / "manifest.json").write_bytes(dump_manifest(m))
    rep = verify_neural_volume(bundle)
    assert _checks(rep) == {VX.MANIFEST_AND_FILES.code: "pass", VX.GRIDS_AND_DECODERS.code: "fail"}
    assert name in rep.checks[1].message


def test_verify_ensemble_seams(iron, tmp_path: Path) -> None:
    src, data = iron
    bundle = tmp_path / "iron2.ngasset"
    write_neural_volume(identity_asset(data, bricks=2), bundle)
    rep = verify_neural_volume(bundle, src, max_seam=0.01)
    assert _checks(rep) == _expect("pass", "pass", "pass", "pass", "pass", "pass", "pass", "pass")
    seam = rep.checks[4].details
    assert seam["pairs"][0]["box"] == [0, 68, 0, 68, 30, 38] and seam["pairs"][0]["voxels"] == 68 * 68 * 8
    assert seam["max_abs"] < 0.01
    # brick 1 stores codes raised by 6: its overlap with brick 0 decodes 6/255 higher (unless clipped at 255)
    write_neural_volume(identity_asset(data, bricks=2, seam_offset=6), bundle)
    rep = verify_neural_volume(bundle, src, max_seam=0.01)
    assert _checks(rep)[VX.SEAMS.code] == "fail"
    # the offset plus at most the two models' own disagreement measured above
    assert abs(rep.checks[4].details["max_abs"] - 6 / 255) <= seam["max_abs"] + 1e-6


def test_verify_float_mode_and_no_source(iron, tmp_path: Path) -> None:
    _, data = iron
    bundle = tmp_path / "f.ngasset"
    write_neural_volume(identity_asset(data[:16, :16, :16], mode="float", record=False), bundle)
    rep = verify_neural_volume(bundle)
    assert _checks(rep) == _expect("pass", "pass", "skip", "skip", "skip", "pass", "pass", "skip")
    assert "no reference hash recorded" in rep.checks[2].message and rep.passed


def test_verify_source_shape_mismatch(iron, tmp_path: Path) -> None:
    src, data = iron
    bundle = tmp_path / "s.ngasset"
    write_neural_volume(identity_asset(data[:16, :16, :16]), bundle)
    rep = verify_neural_volume(bundle, src)
    assert _checks(rep)[VX.QUALITY.code] == "fail" and "(68, 68, 68)" in rep.checks[3].message


# ---------------------------------------------------------------------------------------------- decode


def test_cli_decode(iron, tmp_path: Path) -> None:
    src, data = iron
    asset = identity_asset(data, bricks=2)
    bundle = tmp_path / "iron.ngasset"
    write_neural_volume(asset, bundle)
    run = CliRunner().invoke
    out = tmp_path / "recon.npy"
    r = run(decode_cmd, [str(bundle), "--out", str(out), "--source", str(src)])
    assert r.exit_code == 0, r.output
    assert "PSNR" in r.output and "source units" in r.output
    recon = np.load(out)
    assert recon.dtype == np.float32 and recon.shape == (68, 68, 68)
    assert recon.tobytes() == reconstruct(asset).tobytes()

    r = run(decode_cmd, [str(bundle), "--out", str(out), "--denormalize", "--mode", "float", "-q"])
    assert r.exit_code == 0 and r.output == ""
    assert np.load(out).tobytes() == denormalize(asset, reconstruct(asset, "float")).tobytes()

    p = np.random.default_rng(0).uniform(-1, 1, (1000, 3)).astype(np.float32)
    np.save(tmp_path / "p.npy", p)
    r = run(decode_cmd, [str(bundle), "--out", str(out), "--points", str(tmp_path / "p.npy")])
    assert r.exit_code == 0 and "1000 points" in r.output
    assert np.load(out).tobytes() == decode_points(asset, p).tobytes()

    r = run(decode_cmd, [str(bundle), "--out", str(out), "--points", str(tmp_path / "p.npy"), "--source", str(src)])
    assert r.exit_code == 2 and "leave out --points" in r.output
    np.save(tmp_path / "bad.npy", p[:, :2])
    r = run(decode_cmd, [str(bundle), "--out", str(out), "--points", str(tmp_path / "bad.npy")])
    assert r.exit_code == 2 and "bad.npy" in r.output and "(N, 3)" in r.output
    (bundle / "bricks/brick001/decoder.npz").unlink()
    r = run(decode_cmd, [str(bundle), "--out", str(out)])
    assert r.exit_code == 2 and "brick001/decoder.npz: missing" in r.output


def test_volume_verify_and_decode_are_torch_free(iron, tmp_path: Path) -> None:
    import subprocess
    import sys

    src, data = iron
    bundle = tmp_path / "t.ngasset"
    write_neural_volume(identity_asset(data[:8, :8, :8]), bundle)
    code = ("import sys\n"
            "from ngsdk.verify.neural_volume import verify_neural_volume\n"
            "import ngsdk.cli.decode, ngsdk.runtime_ref.neural_volume, ngsdk.exporters.neural_volume\n"
            f"assert verify_neural_volume({str(bundle)!r}).passed\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'onnx', 'coremltools'))\n"
            "print(bad)\nsys.exit(1 if bad else 0)\n")
    repo = Path(__file__).resolve().parents[2]
    r = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr[-500:]

"""Graph exports of a neural volume bundle through the real CLI: a two-brick model of ironProt (68^3, uint8)
whose grids hold the real data and whose output layers are ridge least-squares fits, written with
write_neural_volume; ``ngsdk export --format onnx,coreml,vgf`` gives one ``nv_decoder_<brick>`` graph per
brick in every format and precision, and ``ngsdk verify`` checks each (against the stored torch
references and against runtime_ref's float MLP). ``ngsdk inspect`` summarises the bundle."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from ngsdk.verify.catalog import graph_exports as GX
from ngsdk.verify.catalog import neural_volume as VX
from tests.integration.graph_nets import require_toolchain

SHAPE = (68, 68, 68)
CORES = [(0, 68, 0, 68, 0, 34), (0, 68, 0, 68, 34, 68)]
FITS = [(0, 68, 0, 68, 0, 38), (0, 68, 0, 68, 30, 68)]
# per brick: grid00 unorm8 10x16x12 (x, y, z) x 4 features, grid01 float16 6x7x6 x 2 features; 6 -> 32 -> 32 -> 1
GRIDS = [("grid00", "unorm8", (12, 16, 10), 4), ("grid01", "float16", (6, 7, 6), 2)]
HIDDEN = 32
GRAPHS = ("nv_decoder_brick000", "nv_decoder_brick001")
EXPORTS = {(f, p) for f, p in [("onnx", "fp32"), ("coreml", "fp32"), ("coreml", "fp16"), ("vgf", "fp32"),
                                ("vgf", "int8")]}


def _cli(*args: object):  # noqa: ANN202
    from ngsdk.cli import main

    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def _transform(rng: np.random.Generator) -> np.ndarray:
    # a slightly rotated / sheared cube a little larger than the brick (|det| < 1), off centre
    a = np.eye(3) * rng.uniform(0.85, 0.95, 3) + rng.uniform(-0.05, 0.05, (3, 3))
    return np.concatenate([a, rng.uniform(-0.05, 0.05, (3, 1))], axis=1).astype(np.float32)


def _grid_from_data(vol: np.ndarray, fit: tuple, name: str, storage: str, res: tuple[int, int, int], f: int,
                    rng: np.random.Generator):
    """A grid whose nodes hold the volume (nearest voxel) at the node and at 1-voxel shifts along x, y, z."""
    from ngsdk.asset.neural_volume import VolumeGrid, local_transform

    t = _transform(rng).astype(np.float64)
    rz, ry, rx = res
    qz, qy, qx = np.meshgrid(*(np.linspace(-1.0, 1.0, r) for r in res), indexing="ij")
    q = np.stack([qx.ravel(), qy.ravel(), qz.ravel()], axis=1)
    p_local = np.linalg.solve(t[:, :3], (q - t[:, 3]).T).T
    s, o = local_transform(SHAPE, fit)
    p = (p_local - o.astype(np.float64)) / s.astype(np.float64)
    idx = [np.clip(np.rint((p[:, a] + 1.0) * 0.5 * (n - 1)), 0, n - 1).astype(np.int64)
           for a, n in enumerate(SHAPE[::-1])]  # x, y, z
    feats = []
    for shift in [(0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1)][:f]:
        x, y, z = (np.clip(i + d, 0, n - 1) for i, d, n in zip(idx, shift, SHAPE[::-1], strict=True))
        feats.append(vol[z, y, x])
    values = np.stack(feats, axis=1).reshape(rz, ry, rx, f)
    if storage == "unorm8":
        return VolumeGrid(name, t, "unorm8", np.rint(values * 255).astype(np.uint8), scale=1 / 255, offset=0.0)
    return VolumeGrid(name, t, "float16", (values - 0.5).astype(np.float16))


def ironprot_asset(path: Path):
    """Two bricks (cores split at x = 34, 4-voxel ghost fit boxes) modelling the real ironProt volume."""
    from ngsdk.asset.digest import decode_hash, sha256_file
    from ngsdk.asset.neural_volume import NeuralVolumeAsset, Normalization, VolumeBrick, voxel_positions
    from ngsdk.asset.types import Decoder, DecoderLayer, Provenance
    from ngsdk.exporters.graph.neural_volume import brick_features
    from ngsdk.runtime_ref.neural_volume import reconstruct

    raw = np.load(path, allow_pickle=False)
    assert raw.shape == SHAPE and raw.dtype == np.uint8
    vmin, vmax = float(raw.min()), float(raw.max())
    vol = ((raw - vmin) / (vmax - vmin)).astype(np.float32)
    rng = np.random.default_rng(0)
    nrm = Normalization(vmin, vmax, "uint8")
    parts = []
    for core, fit in zip(CORES, FITS, strict=True):
        grids = [_grid_from_data(vol, fit, *g, rng) for g in GRIDS]
        k = sum(g.features for g in grids)
        hidden = [DecoderLayer(rng.standard_normal((HIDDEN, k)).astype(np.float32) * 2 / math.sqrt(k),
                               rng.uniform(-0.5, 0.5, HIDDEN).astype(np.float32), "relu"),
                  DecoderLayer(rng.standard_normal((HIDDEN, HIDDEN)).astype(np.float32) / math.sqrt(HIDDEN),
                               rng.uniform(-0.2, 0.2, HIDDEN).astype(np.float32), "relu")]
        parts.append((core, fit, grids, hidden))
    zero = DecoderLayer(np.zeros((1, HIDDEN), np.float32), np.zeros(1, np.float32), "none")
    probe = NeuralVolumeAsset("probe", SHAPE, nrm, [VolumeBrick(f"brick{b:03d}", core, fit, grids,
                                                                Decoder(hidden + [zero]))
                                                    for b, (core, fit, grids, hidden) in enumerate(parts)],
                              Provenance(ngsdk_version="test"))
    bricks = []
    for b, (core, fit, grids, hidden) in enumerate(parts):
        # the output layer: fit to the fit box's voxels (every other one) from the hidden activations
        z0, z1, y0, y1, x0, x1 = fit
        pz, py, px = np.meshgrid(voxel_positions(SHAPE[0])[z0:z1:2], voxel_positions(SHAPE[1])[y0:y1:2],
                                 voxel_positions(SHAPE[2])[x0:x1:2], indexing="ij")
        h = brick_features(probe, b, np.stack([px.ravel(), py.ravel(), pz.ravel()], axis=1)).astype(np.float64)
        for layer in hidden:
            h = np.maximum(h @ layer.weight.T.astype(np.float64) + layer.bias, 0.0)
        target = vol[z0:z1:2, y0:y1:2, x0:x1:2].ravel()
        # ridge (bias unpenalized) keeps the weights small, as training would: plain least squares cancels
        # large weights, which int8 activations cannot follow
        a = np.concatenate([h, np.ones((len(h), 1))], axis=1)
        reg = 1e-3 * len(a) * np.eye(a.shape[1])
        reg[-1, -1] = 0.0
        coef = np.linalg.solve(a.T @ a + reg, a.T @ target)
        out = DecoderLayer(coef[None, :-1].astype(np.float32), coef[-1:].astype(np.float32), "none")
        bricks.append(VolumeBrick(f"brick{b:03d}", core, fit, grids, Decoder(hidden + [out])))
    asset = NeuralVolumeAsset("ironProt", SHAPE, nrm, bricks,
                              Provenance(ngsdk_version="test", config={"test": "least-squares output layers"},
                                         sources={path.name: sha256_file(path)}))
    decoded = reconstruct(asset)
    mse = float(np.mean((decoded.astype(np.float64) - vol) ** 2))
    asset.provenance.metrics["psnr_db"] = 10 * math.log10(1 / mse)
    asset.provenance.reference_decode["volume"] = decode_hash(decoded)
    return asset


SOURCE = Path("volumes") / "ironProt_zyx_68x68x68_uint8.npy"


@pytest.fixture(scope="module")
def asset(shared_data: Path):  # noqa: ANN201
    return ironprot_asset(shared_data / SOURCE)


@pytest.fixture(scope="module")
def exported(asset, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:  # noqa: ANN001
    from ngsdk.exporters.neural_volume import write_neural_volume

    require_toolchain()
    bundle = tmp_path_factory.mktemp("volume_graphs") / "iron.ngasset"
    write_neural_volume(asset, bundle)
    res = _cli("export", bundle, "--format", "onnx,coreml,vgf")
    assert res.exit_code == 0, res.output
    return bundle, res.output


def test_graph_on_sampled_features_is_runtime_ref_float_decode(asset) -> None:  # noqa: ANN001
    """The exporter's features (float64 trilinear from the asset) through the torch graph reproduce
    runtime_ref's float decode of the same points: the graph input means what the IO description says."""
    import torch

    from ngsdk.exporters.graph.neural_volume import brick_features, decoder_module, sample_points
    from ngsdk.runtime_ref.neural_volume import decode_points, select_bricks

    for b, brick in enumerate(asset.bricks):
        p = np.concatenate([sample_points(asset, b, 3000, seed=5),
                            sample_points(asset, b, 3000, seed=6, continuous=True)])
        assert (select_bricks(asset, p) == b).all()
        with torch.no_grad():
            got = decoder_module(brick)(torch.from_numpy(brick_features(asset, b, p))).numpy()[:, 0]
        want = decode_points(asset, p, "float")
        # measured 2.4e-7 (float32 vs float64 trilinear sums); values span the range, not clamped flat
        assert np.abs(got - want).max() < 2e-6, np.abs(got - want).max()
        assert 0.05 < np.mean((want > 0) & (want < 1))


def test_export_lists_every_graph_and_file(exported: tuple[Path, str]) -> None:
    from ngsdk.asset.manifest import read_manifest

    bundle, output = exported
    manifest = read_manifest(bundle)  # checks every listed file's sha256
    got = {(e["format"], e["precision"], e["graph"]) for e in manifest["exports"]}
    assert got == {(f, p, g) for f, p in EXPORTS for g in GRAPHS}
    for e in manifest["exports"]:
        assert e["files"] and all(f in manifest["files"] and manifest["files"][f]["sha256"] for f in e["files"])
        (tin,), (tout,) = e["io"]["inputs"], e["io"]["outputs"]
        assert (tin["name"], tin["shape"]) == ("features", ["batch", 6])
        assert tin["channels"] == ["grid00[0]", "grid00[1]", "grid00[2]", "grid00[3]", "grid01[0]", "grid01[1]"]
        assert (tout["name"], tout["shape"], tout["value_range"]) == ("value", ["batch", 1], [0.0, 1.0])
        assert e["graph"] in output
    sidecar = json.loads((bundle / "nv_decoder_brick001.int8.vgf.json").read_text())
    assert sidecar["inputs"][0]["dtype"] == "int8" and sidecar["inputs"][0]["quantization"]["scale"] > 0


def test_verify_checks_every_export(exported: tuple[Path, str], shared_data: Path, tmp_path: Path) -> None:
    bundle, _ = exported
    report = tmp_path / "report.json"
    res = _cli("verify", bundle, "--source", shared_data / SOURCE, "--json", report)
    assert res.exit_code == 0, res.output
    checks = json.loads(report.read_text())["checks"]
    assert next(c for c in checks if c["code"] == VX.DECODE_CONSISTENCY.code)["status"] == "pass"
    gx = {(c["code"], c["name"]): c for c in checks if c["code"].startswith("GX")}
    assert all(c["status"] == "pass" for c in gx.values()), res.output
    assert {n for code, n in gx if code == GX.RECORDED_REFERENCE.code} == {f"{f} {p} {g}" for f, p in EXPORTS
                                                                         for g in GRAPHS}
    fp32 = {f"{f} fp32 {g}" for f in ("onnx", "coreml", "vgf") for g in GRAPHS}
    assert {n for code, n in gx if code == GX.RUNTIME_REF.code} == fp32

    def max_error(code: str, name: str) -> float:
        return max(r["max_abs_error"] for r in gx[code, name]["details"]["report"]["runs"].values())

    exports = json.loads((bundle / "manifest.json").read_text())["exports"]
    measured = {}
    for name in sorted(fp32):
        measured[name] = (max_error(GX.RECORDED_REFERENCE.code, name), max_error(GX.RUNTIME_REF.code, name))
        assert max(measured[name]) < 1e-5, name
    for g in GRAPHS:
        measured[f"coreml fp16 {g}"] = (max_error(GX.RECORDED_REFERENCE.code, f"coreml fp16 {g}"),)
        assert measured[f"coreml fp16 {g}"][0] < 2.0**-8
        run = gx[GX.RECORDED_REFERENCE.code, f"vgf int8 {g}"]["details"]["report"]["runs"]["lavapipe"]
        assert run["mismatches"] == 0 and run["outputs"]["value"]["elements"] == 4096
        # int8 against the float model on the same stored inputs: the quantization error itself
        refs = {e["precision"]: e["details"]["record"]["details"]["reference"] for e in exports
                if e["graph"] == g and e["format"] in ("vgf", "onnx") and e["precision"] in ("int8", "fp32")}
        with np.load(bundle / refs["int8"]) as q, np.load(bundle / refs["fp32"]) as f:
            assert np.array_equal(q["in.features"], f["in.features"])
            measured[f"vgf int8 {g} (vs float model)"] = (float(np.abs(q["out.value"] - f["out.value"]).max()),)
    for name, errs in measured.items():
        print(f"{name}: max error " + " / ".join(f"{e:.3g}" for e in errs))
    # int8 PTQ (6 features spanning about [-0.5, 1], 8-bit activations): measured 0.023 and 0.012
    assert max(measured[f"vgf int8 {g} (vs float model)"][0] for g in GRAPHS) < 0.05


def test_inspect_summarises_the_volume(exported: tuple[Path, str], asset) -> None:  # noqa: ANN001
    bundle, _ = exported
    res = _cli("inspect", bundle)
    assert res.exit_code == 0, res.output
    out = res.output
    print(out)
    assert out.startswith("ironProt  (neural_volume, ngasset 1.0)")
    assert "volume       68x68x68 (x, y, z; stored zyx), source uint8, normalized from [" in out
    assert "decode       exact (ngsdk-volume-1" in out
    assert "bricks       2" in out
    assert "brick001   core z[0,68) y[0,68) x[34,68)  fit z[0,68) y[0,68) x[30,68)" in out
    assert "grid00   10x16x12 x 4 features unorm8, scale 0.003922 offset 0; transform diag (" in out
    assert "grid01   6x7x6 x 2 features float16; transform diag (" in out
    assert " |det| " in out and ", translation (" in out
    assert "decoder  6 -> 32 relu -> 32 relu -> 1 none  (bricks/brick000/decoder.npz, float32)" in out
    ratio = asset.compression_ratio()
    assert f"compression {ratio:.1f}:1" in out
    assert f"PSNR         {asset.provenance.metrics['psnr_db']:.2f} dB" in out
    assert sum(line.startswith("export ") for line in out.splitlines()) == 10

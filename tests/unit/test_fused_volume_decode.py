"""The fused Triton float decode of neural volumes (ngsdk.volumes.fused_decode) against runtime_ref's float decode.

Triton's interpreter runs the kernel on the CPU (TRITON_INTERPRET=1, set before Triton is imported, hence the
subprocess); a CUDA machine compiles the same kernel (tools/bench_volume_decode.py times it there).

Assets: tiny-preset models trained for a few CPU steps on a crop of the real ironProt volume (unorm8 and float16
grids, and a two-brick ensemble), a medium-preset-shaped model (16 x 32^3 x 2 unorm8, 64-wide MLP) with random
weights, and a hand-made two-brick asset that takes every configuration the format allows at once: mixed storages
in one brick, 1 to 4 features per grid, non-cubic resolutions, rotated transforms, unequal non-power-of-two hidden
widths, three hidden layers, and a brick whose decoder is a single linear layer.

Error bound (``fp16_bound``, per point): the kernel rounds the MLP's inputs and weights to fp16 (unit roundoff
u = 2^-11) and accumulates in fp32. From the point's exact (float64) activations x, each hidden layer's error
grows as ``e' = |W| e (1 + 3u) + (2u + u^2 + g) |W| |x| + g |b|`` (g = 2^-17 for the fp32 sums; ReLU and the
final clamp do not amplify), the fp32 output layer adds ``|w| e + g (|w| |x| + |b|)``. The features start with
``6 R max|v| 2^-19`` of slack: the kernel folds the brick and grid maps into one float32 affine map, whose
texel coordinate differs from the reference's by at most ``R 2^-19`` per axis (R nodes). ``fp16x3`` splits
inputs and weights into hi + lo fp16 parts (u = 2^-21 in the formula); it must also agree with the float decode
to float32 level (``SPLIT_MAX_DIFF``, ten times what it measured).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("triton")

ROOT = Path(__file__).resolve().parents[2]
IRONPROT = "volumes/ironProt_zyx_68x68x68_uint8.npy"
MIN_PSNR_DB = 60.0
"""Fused fp16 reconstruction vs the fp32 (runtime_ref float) reconstruction."""
FP16_MAX_DIFF = 1e-3
"""fp16 against the fp32 decode, on every point: one fp16 ulp at 1.0 (2^-10); the rigorous per-point bound above
is far looser (its terms add in absolute value), the roundings mostly cancel (measured: at most 2.6e-4)."""
SPLIT_MAX_DIFF = 2e-5
"""fp16x3 against the fp32 decode: float32-level agreement (measured: at most 2e-6 on these assets)."""

SCRIPT = textwrap.dedent("""
    import itertools, json, math, sys
    import numpy as np
    import torch
    from ngsdk.asset.neural_volume import (NeuralVolumeAsset, Normalization, VolumeBrick, VolumeGrid,
                                           local_transform, select_bricks, voxel_positions)
    from ngsdk.asset.types import Decoder, DecoderLayer, Provenance
    from ngsdk.runtime_ref.neural_volume import decode_points, reconstruct
    from ngsdk.volumes.config import VolumeTrainConfig
    from ngsdk.volumes.fused_decode import FusedVolumeDecoder
    from ngsdk.volumes.ingest import VolumeData, load_volume
    from ngsdk.volumes.train import train_volume

    rng = np.random.default_rng(5)

    def trained(storage, bricks=(1, 1, 1)):
        vol = load_volume(sys.argv[1])
        crop = VolumeData(name="iron_crop", values=np.ascontiguousarray(vol.values[20:40, 22:40, 18:42]),
                          normalization=vol.normalization, source=vol.source)
        cfg = VolumeTrainConfig(steps=12, eval_every=12, device="cpu", storage=storage, batch_size=4096,
                                bricks=bricks, ghost=2, seed=0).apply_preset("tiny")
        return train_volume(crop, cfg).asset

    def transform(spread=0.15):
        q = rng.normal(size=4)
        q /= np.linalg.norm(q)
        w, x, y, z = q
        rot = np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])
        a = rot * rng.uniform(0.6, 1.3, 3)[:, None] + rng.uniform(-spread, spread, (3, 3))
        return np.concatenate([a, rng.uniform(-0.3, 0.3, (3, 1))], axis=1).astype(np.float32)

    def grid(name, res, features, storage):
        if storage == "unorm8":
            return VolumeGrid(name, transform(), "unorm8", rng.integers(0, 256, (*res, features), dtype=np.uint8),
                              scale=float(np.float32(2 / 255)), offset=-1.0)
        return VolumeGrid(name, transform(), "float16", rng.uniform(-1, 1, (*res, features)).astype(np.float16))

    def decoder(widths):
        layers = []
        for i, (a, b) in enumerate(zip(widths, widths[1:])):
            last = i == len(widths) - 2
            w = rng.normal(0, (0.5 if last else math.sqrt(2.0)) / math.sqrt(a), (b, a)).astype(np.float32)
            bias = (np.full(b, 0.5) if last else rng.normal(0, 0.1, b)).astype(np.float32)
            layers.append(DecoderLayer(w, bias, "none" if last else "relu"))
        return Decoder(layers)

    def medium_shaped():
        grids = [grid(f"g{i:02d}", (32, 32, 32), 2, "unorm8") for i in range(16)]
        brick = VolumeBrick("brick000", (0, 14, 0, 12, 0, 16), (0, 14, 0, 12, 0, 16), grids,
                            decoder([32, 64, 64, 1]))
        return NeuralVolumeAsset("medium_shaped", (14, 12, 16), Normalization(0.0, 1.0, "<f4"), [brick],
                                 Provenance(ngsdk_version="test"), decode_mode="float")

    def every_configuration():
        g0 = [grid("a", (5, 7, 9), 1, "unorm8"), grid("b", (6, 4, 3), 3, "float16"), grid("c", (2, 2, 2), 4, "unorm8"),
              grid("d", (9, 3, 6), 2, "float16"), grid("e", (4, 5, 4), 4, "float16")]
        b0 = VolumeBrick("brick000", (0, 9, 0, 10, 0, 7), (0, 9, 0, 10, 0, 9), g0,
                         decoder([sum(g.features for g in g0), 24, 40, 17, 1]))
        g1 = [grid("a", (3, 3, 11), 2, "float16"), grid("b", (7, 2, 5), 1, "float16")]
        b1 = VolumeBrick("brick001", (0, 9, 0, 10, 7, 12), (0, 9, 0, 10, 5, 12), g1, decoder([3, 1]))
        return NeuralVolumeAsset("every_configuration", (9, 10, 12), Normalization(0.0, 1.0, "<f4"), [b0, b1],
                                 Provenance(ngsdk_version="test"), decode_mode="float")

    def features(asset, brick, p):
        # float64 grid features of float32 points p (N, 3) in volume coordinates (the spec's float mode)
        s, o = local_transform(asset.shape, brick.fit)
        pl = (p * s + o).astype(np.float64)
        out = []
        for g in brick.grids:
            v = g.dequantized().astype(np.float64)
            t = g.transform.astype(np.float64)
            res = np.array(g.resolution[::-1])                      # x, y, z
            with np.errstate(invalid="ignore"):
                u = (pl @ t[:, :3].T + t[:, 3] + 1) * 0.5 * (res - 1)
            u = np.clip(np.where(np.isfinite(u), u, -2), -2, res + 1)
            i0 = np.floor(u).astype(np.int64)
            frac = u - i0
            acc = np.zeros((p.shape[0], g.features))
            for dz, dy, dx in itertools.product((0, 1), repeat=3):
                idx = i0 + np.array([dx, dy, dz])
                w = np.prod(np.where(np.array([dx, dy, dz]) == 1, frac, 1 - frac), axis=1)
                ok = np.all((idx >= 0) & (idx < res), axis=1)
                c = np.clip(idx, 0, res - 1)
                acc += np.where(ok, w, 0)[:, None] * v[c[:, 2], c[:, 1], c[:, 0]]
            out.append(acc)
        return np.concatenate(out, axis=1)

    def fp16_bound(asset, p, u):
        # per point: the fused decode's largest deviation from the float decode (module docstring)
        gamma = 2.0**-17                                           # fp32 sums of at most 64 terms, generous
        sel = select_bricks(asset, p)
        out = np.zeros(p.shape[0])
        for bi, brick in enumerate(asset.bricks):
            rows = np.nonzero(sel == bi)[0]
            x = features(asset, brick, p[rows])
            err = np.concatenate([np.full((len(rows), g.features), 6 * max(g.resolution) * 2.0**-19
                                          * max(float(np.abs(g.dequantized()).max()), 1.0)) for g in brick.grids],
                                 axis=1)
            layers = brick.decoder.layers
            for ly in layers[:-1]:
                w = np.abs(ly.weight.astype(np.float64))
                gain = np.abs(x) @ w.T
                err = (err @ w.T) * (1 + 3 * u) + (2 * u + u * u + gamma) * gain + gamma * np.abs(ly.bias)
                x = np.maximum(x @ ly.weight.T.astype(np.float64) + ly.bias, 0)
            w = np.abs(layers[-1].weight[0].astype(np.float64))
            out[rows] = err @ w + gamma * (np.abs(x) @ w + abs(float(layers[-1].bias[0])))
        return out

    def points(asset, n):
        p = (rng.random((n, 3)) * 2.6 - 1.3).astype(np.float32)
        d, h, w = asset.shape
        vox = np.stack([rng.choice(voxel_positions(w), 64), rng.choice(voxel_positions(h), 64),
                        rng.choice(voxel_positions(d), 64)], axis=1)
        special = np.array([[np.nan, 0, 0], [0.1, np.inf, -0.2], [-np.inf, 0.3, 0.3], [1, 1, 1], [-1, -1, -1],
                            [0, 0, 0], [1.0, -1.0, 0.5], [7.0, 0.2, -9.0]], dtype=np.float32)
        return np.concatenate([p, vox, special]).astype(np.float32)

    cases = {"tiny unorm8 (trained)": trained("unorm8"), "tiny float16 (trained)": trained("float16"),
             "tiny unorm8, 1x1x2 bricks (trained)": trained("unorm8", (1, 1, 2)),
             "medium-shaped unorm8 (random)": medium_shaped(), "every configuration (random)": every_configuration()}
    out = {}
    for name, asset in cases.items():
        p = points(asset, 600)
        want = decode_points(asset, p, "float")
        ref = reconstruct(asset, "float")
        d, h, w = asset.shape
        z, y, x = np.meshgrid(voxel_positions(d), voxel_positions(h), voxel_positions(w), indexing="ij")
        vox = np.stack([x.ravel(), y.ravel(), z.ravel()], axis=1)
        for precision, records in (("fp16", "uint8"), ("fp16x3", "float16")):
            u = 2.0**-11 if precision == "fp16" else 2.0**-21
            dec = FusedVolumeDecoder(asset, "cpu", precision=precision, unorm8_records=records)
            got = dec(torch.from_numpy(p)).numpy()
            rec = dec.reconstruct().numpy()
            mse = float(np.mean((rec.astype(np.float64) - ref) ** 2))
            sel = dec.select_bricks(torch.from_numpy(p)).numpy()
            out[f"{name} / {precision}"] = {
                "bricks": len(asset.bricks), "max_diff": float(np.abs(got - want).max()),
                "max_diff_reconstruction": float(np.abs(rec - ref).max()),
                "over_bound": float(np.max(np.abs(got - want) - fp16_bound(asset, p, u))),
                "over_bound_reconstruction": float(np.max(np.abs(rec - ref).ravel() - fp16_bound(asset, vox, u))),
                "bound": float(np.max(fp16_bound(asset, p, u))),
                "psnr_db": 99.0 if mse <= 1e-10 else 10 * math.log10(1 / mse),
                "spread": float(ref.std()), "finite": bool(np.isfinite(got).all()),
                "same_bricks": bool((sel == select_bricks(asset, p)).all()), "shape": list(rec.shape),
            }
    wide = every_configuration()
    wide.bricks[1].decoder = decoder([3, 300, 1])
    try:
        FusedVolumeDecoder(wide, "cpu")
        out["errors"] = "no error"
    except ValueError as e:
        out["errors"] = str(e)
    print(json.dumps(out))
""")


def test_fused_decode_matches_the_float_reference(shared_data: Path) -> None:
    env = dict(os.environ, TRITON_INTERPRET="1", PYTHONPATH=str(ROOT), OMP_NUM_THREADS="2")
    res = subprocess.run([sys.executable, "-c", SCRIPT, str(shared_data / IRONPROT)], capture_output=True,
                         text=True, env=env, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    cases = json.loads(res.stdout.strip().splitlines()[-1])
    assert "brick 'brick001': hidden width 300 exceeds" in cases.pop("errors")
    assert len(cases) == 10
    for name, c in cases.items():
        assert c["finite"] and c["same_bricks"], (name, c)
        assert c["spread"] > 0.02, (name, c)  # the reference decode is not a constant: the comparison means something
        assert c["over_bound"] <= 0 and c["over_bound_reconstruction"] <= 0, (name, c)  # every point within its bound
        assert c["psnr_db"] >= MIN_PSNR_DB, (name, c)
        assert c["max_diff"] <= FP16_MAX_DIFF and c["max_diff_reconstruction"] <= FP16_MAX_DIFF, (name, c)
        if name.endswith("fp16x3"):
            assert c["max_diff"] <= SPLIT_MAX_DIFF and c["max_diff_reconstruction"] <= SPLIT_MAX_DIFF, (name, c)
    assert {c["bricks"] for c in cases.values()} == {1, 2}


def test_unsupported_settings_raise_value_error() -> None:
    import numpy as np

    from ngsdk.volumes.fused_decode import FusedVolumeDecoder
    from tests.fixtures.decode_vectors import tiny_volume

    asset = tiny_volume()
    for kwargs, match in (({"precision": "fp8"}, "precision"), ({"block": 48}, "block"),
                          ({"chunk_features": 8}, "chunk_features"), ({"unorm8_records": "int4"}, "unorm8_records")):
        with pytest.raises(ValueError, match=match):
            FusedVolumeDecoder(asset, "cpu", **kwargs)
    with pytest.raises(ValueError, match="NeuralVolumeAsset"):
        FusedVolumeDecoder(np.zeros(3), "cpu")  # type: ignore[arg-type]
    if os.environ.get("TRITON_INTERPRET") != "1":
        with pytest.raises(ValueError, match="CUDA"):
            FusedVolumeDecoder(asset, "cpu")

"""ZFP and SZ3 baselines tuned to a size, the volume rate control's sizing, the shared search helper and the
smoke plume generator, on real data (headsq: 93x64x64 int16 CT of a head)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from ngsdk.ratesearch import first_passing
from ngsdk.volumes import baselines as bl
from ngsdk.volumes.config import VolumeTrainConfig
from ngsdk.volumes.rate import RATIO_TOLERANCE, predicted_bytes, size_for_bytes, size_for_ratio, source_bytes

HEADSQ = "volumes/headsq_zyx_64x64x93_int16.npy"


@pytest.fixture(scope="module")
def headsq(shared_data: Path):
    from ngsdk.volumes.ingest import load_volume

    return load_volume(shared_data / HEADSQ)


@pytest.mark.parametrize("method", bl.METHODS)
@pytest.mark.parametrize("ratio", [10.0, 40.0])
def test_baseline_reaches_requested_ratio_and_round_trips(headsq, method: str, ratio: float) -> None:
    if bl.missing(method):
        pytest.skip(bl.missing(method))  # the bench extra: zfpy, pysz
    values = headsq.values
    src = source_bytes(values.shape, headsq.normalization.source_dtype)
    target = bl.target_for_ratio(src, ratio)
    b = bl.match_size(method, values, target, src)
    assert b.compressed_bytes <= target   # never more bytes than asked
    if method == "zfp-accuracy" and not b.reached:
        # its sizes move in whole bit planes (tolerance powers of 2): the next finer one must not fit
        assert bl.compress(method, values, b.parameter / 2)[0] + bl.NORMALIZATION_BYTES > target
    else:
        assert b.reached, b
        assert target * (1 - bl.REACH_SLACK) <= b.compressed_bytes
        assert ratio <= b.ratio <= ratio / (1 - bl.REACH_SLACK)
    # the reported figures are those of a fresh round trip at the chosen setting
    n, decoded = bl.compress(method, values, b.parameter)
    assert n + bl.NORMALIZATION_BYTES == b.compressed_bytes and decoded.shape == values.shape
    db, max_err = bl.quality(decoded, values)
    assert db == pytest.approx(b.psnr_db) and max_err == pytest.approx(b.max_abs_error)
    assert 15 < db < 99
    if method == "sz3-abs":  # an absolute error bound holds
        assert max_err <= b.parameter * (1 + 1e-5)


def test_baselines_at_runs_the_installed_methods_and_refuses_unknown(headsq) -> None:
    src = source_bytes(headsq.values.shape, "int16")
    rows = bl.baselines_at(headsq.values, src // 20, src)
    assert [r.method for r in rows] == list(bl.available_methods())
    with pytest.raises(ValueError, match="unknown baseline"):
        bl.missing("jpeg")
    with pytest.raises(ValueError, match="nothing for the compressed stream"):
        bl.match_size("sz3-abs", headsq.values, 10, src)


@pytest.mark.parametrize("shape,dtype", [((256, 256, 256), "uint8"), ((128, 128, 128), "float32"),
                                         ((93, 64, 64), "int16")])
@pytest.mark.parametrize("ratio", [10.0, 50.0, 100.0, 300.0])
def test_size_for_ratio_lands_within_tolerance(shape, dtype, ratio: float) -> None:
    cfg = size_for_ratio(VolumeTrainConfig(steps=1), shape, dtype, ratio)
    cfg.check()
    got = source_bytes(shape, dtype) / predicted_bytes(cfg)
    assert ratio <= got <= ratio / (1 - RATIO_TOLERANCE) * 1.06, (cfg.grids, cfg.grid_res, cfg.hidden, got)
    assert cfg.features == 4   # a texel holds 4 components: fewer features save nothing
    # the fused CUDA decode keeps the decoder in constant memory: sized models fit it
    from ngsdk.runtime_ref import neural_volume_cuda
    from ngsdk.volumes.rate import FUSED_KERNEL_WEIGHTS

    assert FUSED_KERNEL_WEIGHTS == neural_volume_cuda._MAX_CONSTANT_WEIGHTS
    dims = [cfg.grids * cfg.features] + [cfg.hidden] * cfg.hidden_layers + [1]
    assert sum(a * b + b for a, b in zip(dims, dims[1:])) <= FUSED_KERNEL_WEIGHTS


def test_size_for_bytes_respects_fixed_grids_and_refuses_tiny_budgets() -> None:
    cfg = size_for_bytes(VolumeTrainConfig(steps=1), 400_000, grids=8, hidden=32)
    assert (cfg.grids, cfg.hidden) == (8, 32) and predicted_bytes(cfg) <= 400_000
    assert predicted_bytes(VolumeTrainConfig(steps=1, grids=8, hidden=32, features=4,
                                             grid_res=cfg.grid_res + 1)) > 400_000
    with pytest.raises(ValueError, match="below the smallest model"):
        size_for_bytes(VolumeTrainConfig(steps=1), 500)


def test_predicted_bytes_equal_the_trained_assets_decode_bytes(headsq) -> None:
    from ngsdk.volumes.ingest import VolumeData
    from ngsdk.volumes.train import train_volume

    small = VolumeData(name="headsq_crop", values=np.ascontiguousarray(headsq.values[40:56, 20:36, 20:36]),
                       normalization=headsq.normalization, source=headsq.source)
    cfg = size_for_ratio(VolumeTrainConfig(steps=3, eval_every=3, device="cpu"), small.values.shape, "int16", 4.0)
    result = train_volume(small, cfg)
    m = result.asset.provenance.metrics
    assert m["decode_bytes"] == bl.decode_bytes(result.asset) == predicted_bytes(cfg)
    assert m["decode_ratio"] == pytest.approx(small.values.size * 2 / predicted_bytes(cfg))


def test_first_passing_finds_the_boundary_with_few_probes() -> None:
    for count in (1, 2, 7, 12):
        for boundary in range(count + 1):   # indices >= boundary pass
            probes: list[int] = []

            def passes(i: int, probes: list[int] = probes, boundary: int = boundary) -> bool:
                probes.append(i)
                return i >= boundary

            got = first_passing(count, passes)
            assert got == (boundary if boundary < count else None)
            assert len(probes) <= math.ceil(math.log2(count + 1))


def test_smoke_plume_is_deterministic_and_structured() -> None:
    from ngsdk.volumes.synth_plume import smoke_plume

    a = smoke_plume(32, seed=3)
    b = smoke_plume(32, seed=3)
    c = smoke_plume(32, seed=4)
    assert a.dtype == np.float32 and a.shape == (32, 32, 32)
    assert a.tobytes() == b.tobytes() and a.tobytes() != c.tobytes()
    assert a.max() > 0.3 and 0.01 < float((a > 0.05).mean()) < 0.6   # a plume, not empty nor full
    assert a[8:].sum() > 1.0   # it has risen well above the source (z < 2)
    with pytest.raises(ValueError, match="even"):
        smoke_plume(17)

"""The PBR reconstruction kind without torch: the MIL ops the student needs (against their numpy formulas), image
IO of Core ML programs, the manifest codec and bundle round trip, and bad bundles failing with the file named."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ngsdk.asset.errors import AssetError
from ngsdk.asset.manifest import read_manifest
from ngsdk.asset.pbr_reconstruction import MAP_CHANNELS, PbrReconstructionAsset, PbrReference
from ngsdk.asset.types import Provenance
from ngsdk.exporters.pbr_reconstruction import write_pbr_reconstruction
from ngsdk.pbr.config import model_spec
from ngsdk.runtime_ref.mil.images import image_to_tensor, tensor_to_image
from ngsdk.runtime_ref.mil.ops import OPS, Args
from ngsdk.runtime_ref.mil.spec import Feature
from ngsdk.runtime_ref.pbr_reconstruction import encode_maps, load_pbr_reconstruction, tensor_views
from ngsdk.verify.catalog import Status
from ngsdk.verify.catalog import pbr_reconstruction as PB
from ngsdk.verify.pbr_reconstruction import verify_pbr_reconstruction


def run_op(name: str, **inputs: object) -> np.ndarray:
    return np.asarray(OPS[name].fn(Args(name, {k: [v] for k, v in inputs.items()})))


# --------------------------------------------------------------------------- MIL ops


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
@pytest.mark.parametrize("alpha", [-3.0, 0.0, 1.0])
def test_thresholded_relu_keeps_values_above_alpha(dtype, alpha) -> None:
    x = np.random.default_rng(0).normal(0, 3, (2, 5, 7)).astype(dtype)
    x[0, 0, :3] = [alpha, alpha - 1e-3, alpha + 1e-3]
    got = run_op("thresholded_relu", x=x, alpha=np.float32(alpha))
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, np.where(x > alpha, x, 0).astype(dtype))


def test_thresholded_relu_default_alpha_is_one() -> None:
    x = np.array([0.5, 1.0, 1.5], np.float32)
    np.testing.assert_array_equal(run_op("thresholded_relu", x=x), [0, 0, 1.5])


def test_hard_swish_as_coremltools_writes_it() -> None:
    x = np.linspace(-5, 5, 101).astype(np.float32)
    y = run_op("thresholded_relu", x=x, alpha=np.float32(-3)) * run_op(
        "sigmoid_hard", x=x, alpha=np.float32(1 / 6), beta=np.float32(0.5))
    np.testing.assert_allclose(y, x * np.clip(x + 3, 0, 6) / 6, atol=1e-6)


@pytest.mark.parametrize(("axes", "keep"), [([1], True), ([1], False), ([-1, -2], True), (None, False)])
def test_reduce_l2_norm(axes, keep) -> None:
    x = np.random.default_rng(1).normal(size=(2, 3, 4, 5)).astype(np.float32)
    inputs = {"x": x, "keep_dims": np.bool_(keep)}
    if axes is not None:
        inputs["axes"] = np.asarray(axes, np.int32)
    got = run_op("reduce_l2_norm", **inputs)
    want = np.sqrt((x.astype(np.float64) ** 2).sum(axis=None if axes is None else tuple(axes), keepdims=keep))
    np.testing.assert_allclose(got, want, rtol=1e-12)


# --------------------------------------------------------------------------- image IO


def test_image_features_in_and_out() -> None:
    rgb, bgr, grey = (Feature("v", "", "image", None, (), (), (4, 3, s)) for s in ("RGB", "BGR", "GRAYSCALE"))
    img = np.arange(36, dtype=np.uint8).reshape(3, 4, 3)
    t = image_to_tensor(img, rgb)
    assert t.shape == (1, 3, 3, 4) and t.dtype == np.float32 and t[0, 2, 1, 3] == img[1, 3, 2]
    assert image_to_tensor(img, bgr)[0, 0, 1, 3] == img[1, 3, 2]
    assert image_to_tensor(img[..., 0], grey).shape == (1, 1, 3, 4)
    with pytest.raises(ValueError, match="takes uint8"):
        image_to_tensor(img.astype(np.float32), rgb)
    with pytest.raises(ValueError, match="4x3 RGB"):
        image_to_tensor(img[:2], rgb)
    out = tensor_to_image(np.array([[[[-3.0, 0.49, 0.5, 254.6]]]]), Feature("o", "", "image", None, (), (),
                                                                            (4, 1, "GRAYSCALE")))
    np.testing.assert_array_equal(out[..., 0], [[0, 0, 1, 255]])


# --------------------------------------------------------------------------- codec and bundle


def small_asset(with_reference: bool = True) -> PbrReconstructionAsset:
    spec = model_spec("student", "tiny").to_dict()
    spec["image_size"] = 32
    rng = np.random.default_rng(3)
    weights = {"encoder.stem.weight": rng.normal(size=(8, 3, 3, 3)).astype(np.float32),
               "encoder.stem.bn.num_batches_tracked": np.array(5, np.int64)}
    ref = None
    if with_reference:
        views = rng.integers(0, 256, (2, 3, 32, 32, 3), dtype=np.uint8)
        maps = rng.uniform(0, 1, (2, MAP_CHANNELS, 64, 64)).astype(np.float32)
        n = rng.normal(size=(2, 3, 64, 64))
        maps[:, 5:8] = n / np.linalg.norm(n, axis=1, keepdims=True)
        ref = PbrReference.sampled(views, maps, count=500)
    return PbrReconstructionAsset(name="s", role="student", preset="tiny", architecture=spec, weights=weights,
                                  provenance=Provenance(ngsdk_version="test", config={"seed": 0}), reference=ref)


def test_round_trip_and_determinism(tmp_path: Path) -> None:
    asset = small_asset()
    write_pbr_reconstruction(asset, tmp_path / "a.ngasset")
    write_pbr_reconstruction(asset, tmp_path / "b.ngasset")
    for name in ("manifest.json", "weights.npz", "reference.npz"):
        assert (tmp_path / "a.ngasset" / name).read_bytes() == (tmp_path / "b.ngasset" / name).read_bytes()
    back = load_pbr_reconstruction(tmp_path / "a.ngasset")
    assert (back.role, back.preset, back.input_size, back.output_size) == ("student", "tiny", 32, 64)
    assert back.architecture == asset.architecture and back.parameter_count() == 8 * 27
    for k, v in asset.weights.items():
        got = back.weights[k]
        assert np.array_equal(got, v) and got.dtype == v.dtype and got.shape == v.shape
    assert back.reference is not None and asset.reference is not None
    np.testing.assert_array_equal(back.reference.maps16, asset.reference.maps16)
    m = read_manifest(tmp_path / "a.ngasset")
    assert [x["name"] for x in m["output"]["maps"]] == ["albedo", "roughness", "metallic", "normal"]
    assert m["output"]["maps"][0]["colour_space"] == "srgb" and m["output"]["maps"][3]["convention"] == "gl"
    assert m["input"]["normalisation"]["mean"] == list(asset.architecture["mean"])


def test_helpers_encode_as_the_files_store() -> None:
    maps = np.zeros((1, MAP_CHANNELS, 2, 2), np.float32)
    maps[:, 7] = 1.0
    enc = encode_maps(maps)
    assert enc[0, 5, 0, 0] == 0.5 and enc[0, 7, 0, 0] == 1.0 and enc[0, 0, 0, 0] == 0.0
    t = tensor_views(np.full((1, 3, 2, 2, 3), 255, np.uint8))
    assert list(t) == ["view1", "view2", "view3"] and t["view2"].shape == (1, 3, 2, 2) and t["view1"].max() == 1.0


def test_verify_passes_a_good_bundle_without_exports(tmp_path: Path) -> None:
    write_pbr_reconstruction(small_asset(), tmp_path / "s.ngasset")
    rep = verify_pbr_reconstruction(tmp_path / "s.ngasset")
    status = {c.code: c.status for c in rep.checks}
    assert rep.passed and status[PB.REFERENCE.code] == Status.PASS and status[PB.COREML.code] == Status.SKIP


def _edit_manifest(bundle: Path, edit) -> None:  # noqa: ANN001 - a callable on the dict
    m = json.loads((bundle / "manifest.json").read_text())
    edit(m)
    (bundle / "manifest.json").write_text(json.dumps(m))


def test_bad_bundles_name_the_file(tmp_path: Path) -> None:
    b = tmp_path / "s.ngasset"
    write_pbr_reconstruction(small_asset(), b)
    _edit_manifest(b, lambda m: m["weights"].update(arrays=3))
    with pytest.raises(AssetError, match="weights.npz holds 2 arrays, the manifest says 3"):
        load_pbr_reconstruction(b)
    write_pbr_reconstruction(small_asset(), b)
    _edit_manifest(b, lambda m: m["model"].update(role="tutor"))
    with pytest.raises(AssetError, match="manifest.json.*schema violation at model/role"):
        load_pbr_reconstruction(b)
    write_pbr_reconstruction(small_asset(), b)
    _edit_manifest(b, lambda m: m["output"].update(size=[128, 128]))
    with pytest.raises(AssetError, match="output size \\[128, 128\\] differs"):
        load_pbr_reconstruction(b)
    write_pbr_reconstruction(small_asset(), b)
    (b / "reference.npz").write_bytes(b"PK\x03\x04 not really")
    rep = verify_pbr_reconstruction(b)
    assert not rep.passed and rep.failing()[0].code == PB.FILES.code and "reference.npz" in rep.failing()[0].message


def test_reference_set_must_match_the_network() -> None:
    asset = small_asset()
    with pytest.raises(ValueError, match="reference set is 32x32 -> 64x64, the network 64 -> 128"):
        PbrReconstructionAsset(name="s", role="student", preset="tiny",
                               architecture={**asset.architecture, "image_size": 64}, weights=asset.weights,
                               provenance=asset.provenance, reference=asset.reference)
    with pytest.raises(ValueError, match="reference views must be uint8"):
        PbrReference(np.zeros((1, 3, 4, 4, 3), np.float32), np.zeros((1, 8, 4, 4), np.float16),
                     np.zeros(0, np.int64), np.zeros(0, np.float32))
    with pytest.raises(ValueError, match="architecture is a teacher"):
        PbrReconstructionAsset(name="s", role="student", preset="tiny",
                               architecture={**asset.architecture, "role": "teacher"}, weights=asset.weights,
                               provenance=asset.provenance)

"""Training shading MLPs on real images: PSNR improves, runs are reproducible, targets match the
numpy reference, and a bundle written by the CLI verifies (PASS) and fails when damaged."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

torch = pytest.importorskip("torch")

from ngsdk.cli import main  # noqa: E402
from ngsdk.exporters.shading_mlp import write_shading_mlp  # noqa: E402
from ngsdk.runtime_ref import shading_mlp as rr  # noqa: E402
from ngsdk.runtime_ref.shading_mlp import load_shading_mlp  # noqa: E402
from ngsdk.shading.images import load_image  # noqa: E402
from ngsdk.shading.train import ShadingTrainConfig, lookup, target_coords, train_shading  # noqa: E402
from ngsdk.verify.catalog import codes_of  # noqa: E402
from ngsdk.verify.catalog import shading_mlp as SM  # noqa: E402
from ngsdk.verify.shading_mlp import verify_shading_mlp  # noqa: E402


@pytest.fixture(scope="module")
def crop(shared_data, tmp_path_factory):
    """A 96x64 crop of kodim05 as a PNG (small enough for exact decodes in unit tests)."""
    img = Image.open(shared_data / "images" / "kodim05.png").convert("RGB").crop((300, 200, 396, 264))
    path = tmp_path_factory.mktemp("shading") / "kodim05_crop.png"
    img.save(path)
    return path


def _cfg(**kw) -> ShadingTrainConfig:
    base = {"steps": 120, "device": "cpu", "seed": 3, "eval_every": 1e9, "batch_size": 512, "hidden": 32}
    base.update(kw)
    return ShadingTrainConfig(**base)


def test_short_training_improves_psnr_of_the_exact_decode(crop):
    before = train_shading(crop, _cfg(steps=1), progress=False)
    after = train_shading(crop, _cfg(steps=300), progress=False)
    assert after.metrics["psnr_fp16"] > before.metrics["psnr_fp16"] + 2.0
    # the exact fp16 decode is what the torch model (emulated fp16) computes, up to summation order
    assert abs(after.metrics["psnr_fp16"] - after.metrics["psnr_train_eval"]) < 0.3
    assert after.asset.provenance.reference_decode.keys() == {"fp16", "fp32"}


def test_training_is_deterministic_for_a_seed(crop):
    a = train_shading(crop, _cfg(), progress=False, exact_metrics=False)
    b = train_shading(crop, _cfg(), progress=False, exact_metrics=False)
    c = train_shading(crop, _cfg(seed=4), progress=False, exact_metrics=False)
    for la, lb in zip(a.asset.decoder.layers, b.asset.decoder.layers, strict=True):
        assert np.array_equal(la.weight.view(np.uint32), lb.weight.view(np.uint32))
        assert np.array_equal(la.bias.view(np.uint32), lb.bias.view(np.uint32))
    assert not np.array_equal(a.asset.decoder.layers[0].weight, c.asset.decoder.layers[0].weight)


@pytest.mark.parametrize("transform", ["none", "flip", "zoom"])
@pytest.mark.parametrize("filter", ["nearest", "bilinear"])
def test_torch_targets_match_the_numpy_reference(crop, transform, filter):
    img = load_image(crop)
    uv = np.random.default_rng(0).random((4000, 2)).astype(np.float32)
    uv = np.concatenate([uv, rr.texel_centres(img.shape[1], img.shape[0])])
    want = rr.lookup(img, rr.target_coords(uv, transform), filter)
    got = lookup(torch.from_numpy(img), target_coords(torch.from_numpy(uv), transform), filter).numpy()
    assert np.abs(want - got).max() < 1e-6
    if filter == "nearest":
        assert np.array_equal(want, got)


def test_transforms_change_what_is_learned(crop):
    img = load_image(crop)
    h, w = img.shape[:2]
    assert np.array_equal(rr.reference_image(img, w, h, "none"), img)
    zoom = rr.reference_image(img, w, h, "zoom")
    assert np.array_equal(zoom[0, 0], img[h // 4, w // 4]) and np.array_equal(
        zoom[-1, -1], img[3 * h // 4 - 1, 3 * w // 4 - 1]
    )
    flip = rr.reference_image(img, w, h, "flip")
    assert np.array_equal(flip[0, 0], img[0, 0]) and np.array_equal(flip[-1, 0], img[0, -1])


def test_bundle_round_trip_and_verify(crop, tmp_path):
    res = train_shading(crop, _cfg(steps=60, activation="swish", encoding="triangle"), progress=False)
    out = tmp_path / "k.ngasset"
    manifest = write_shading_mlp(res.asset, out)
    assert manifest["kind"] == "shading_mlp" and "k.fp16.row.bin" not in manifest["files"]
    assert f"{res.asset.name}.fp16.row.bin" in manifest["files"]
    back = load_shading_mlp(out)
    for la, lb in zip(res.asset.decoder.layers, back.decoder.layers, strict=True):
        assert np.array_equal(la.weight, lb.weight) and la.activation == lb.activation
    rep = verify_shading_mlp(out, crop, previews=tmp_path / "prev")
    assert rep.passed, rep.text()
    codes = {c.code: c.status for c in rep.checks}
    assert codes == {c.code: "pass" for c in codes_of(SM)}
    assert rep.summary["psnr_fp16"] == pytest.approx(res.metrics["psnr_fp16"], abs=1e-3)
    assert (tmp_path / "prev").is_dir() and rep.previews
    # a changed byte in a shipped layout is caught by its checksum, naming the file
    binary = out / f"{res.asset.name}.fp16.col.bin"
    data = bytearray(binary.read_bytes())
    data[-3] ^= 0x40
    binary.write_bytes(bytes(data))
    rep = verify_shading_mlp(out, crop)
    assert not rep.passed and binary.name in rep.checks[-1].message


def test_cli_trains_and_verify_passes(crop, tmp_path):
    out = tmp_path / "cli.ngasset"
    res = CliRunner().invoke(
        main,
        [
            "train",
            "shading",
            str(crop),
            "--out",
            str(out),
            "--steps",
            "40",
            "--hidden",
            "16",
            "--layers",
            "2",
            "--quiet",
            "--no-previews",
        ],
    )
    assert res.exit_code == 0, res.output
    last = json.loads(res.output.strip().splitlines()[-1])
    assert last["steps"] == 40 and last["psnr_fp16"] > 5
    res = CliRunner().invoke(main, ["verify", str(out), "--source", str(crop)])
    assert res.exit_code == 0, res.output
    assert SM.QUALITY.code in res.output and "PASS" in res.output


def test_cli_rejects_an_odd_frequency_count(crop, tmp_path):
    res = CliRunner().invoke(
        main,
        [
            "train",
            "shading",
            str(crop),
            "--out",
            str(tmp_path / "x.ngasset"),
            "--steps",
            "1",
            "--frequencies",
            "5",
            "--quiet",
        ],
    )
    assert res.exit_code == 2 and "even" in res.output

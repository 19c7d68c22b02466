"""The integer decode modes: arithmetic steps, bundles on disk, verify --engine, and training == decode."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from ngsdk.asset.digest import decode_hash
from ngsdk.asset.types import IntLayer, QuantizedDecoder
from ngsdk.runtime_ref import neural_texture_int as ni
from ngsdk.verify.catalog import neural_texture as NT
from tests.fixtures.decode_vectors import tiny_asset

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("n_out,n_grid", [(1, 1), (9, 5), (7, 3), (1024, 280), (37, 140), (3, 1000), (16384, 4099)])
def test_mip_positions_are_the_exact_floor(n_out, n_grid):
    got = ni.mip_positions(n_out, n_grid)
    idx = np.linspace(0, n_out - 1, min(n_out, 300)).astype(int)
    for i in idx:
        want = int(Fraction((2 * int(i) + 1) * n_grid * 128, n_out).__floor__()) - 128
        assert got[i] == want
    assert int((2 * (n_out - 1) + 1) * n_grid) < 2**31  # the int32 form stays in range


def test_uv_positions_round_once_and_floor():
    u = np.array([0.0, 0.5, -0.25, 1.0 / 3.0, 3.999], dtype=np.float32)
    got = ni.uv_positions(u, 7)
    want = [int(np.floor(np.float32(x) * np.float32(256 * 7))) - 128 for x in u]
    assert got.tolist() == want
    with pytest.raises(ValueError, match="2\\^31"):
        ni.uv_positions(np.array([1e6], np.float32), 4096)


@pytest.mark.parametrize("bits", [2, 4, 8])
def test_latent_input_at_texels_and_rounding(bits):
    q = (1 << bits) - 1
    codes = np.arange(q + 1)
    at_texel = ni.latent_input(codes * 65536, bits)
    scale = 2 ** (7 - bits) * 2  # 2^(16-k) * q per unit of (2c - q) / q
    want = np.clip(np.floor((2 * codes - q) * scale / 2 + 0.5), -127, 127)
    assert at_texel.tolist() == want.astype(int).tolist()
    assert at_texel.min() >= -127 and at_texel.max() <= 127


def test_triangle_encoding_is_periodic_and_in_range():
    e = np.arange(0, 4096)
    x = ni.encoding_inputs(e, e, [2], [256])
    assert x.min() == 0 and x.max() == 127
    assert np.array_equal(x[:1024], x[1024:2048])             # period 2^2 texels = 1024 units
    assert x[768, 0] == 127 and x[256, 0] == 0                 # phase 1/4: peak at t = 0


def test_requantize_rounds_half_up_and_clamps():
    acc = np.array([[-10.0, 0.0, 3.0, 5.0, 1e6]])
    got = ni.requantize(acc, np.array([1] * 5), np.array([1] * 5))  # (acc + 1) >> 1
    assert got.tolist() == [[0.0, 0.0, 2.0, 3.0, 255.0]]


def test_overflow_is_rejected():
    w = np.full((1, 64), 127)
    with pytest.raises(ValueError, match="overflow"):
        IntLayer(w, np.array([0]), np.array([2048]), np.array([1])).check_overflow(255)
    IntLayer(w, np.array([0]), np.array([255]), np.array([1])).check_overflow(255)  # 528e6 < 2^31: fine
    layer = IntLayer(np.full((1, 64), 127), np.array([0]), np.array([1 << 18]), np.array([1]), activation="clamp01")
    with pytest.raises(ValueError, match="overflow"):
        QuantizedDecoder([layer], input_scales=[1.0] * 64)


def test_interval_mlp_contains_every_point():
    asset = tiny_asset("hardware", "wrap")
    q = asset.decoder.quantized
    rng = np.random.default_rng(0)
    lo = rng.integers(-127, 120, size=(500, q.inputs))
    hi = lo + rng.integers(0, 8, size=lo.shape)
    blo, bhi = ni.run_int_mlp_interval(q, lo, hi)
    for _ in range(20):
        x = rng.integers(lo, hi + 1)
        y = ni.run_int_mlp(q, x)
        assert ((blo <= y) & (y <= bhi)).all()


@pytest.mark.parametrize("layout", ["grids", "pyramid"])
@pytest.mark.parametrize("address", ["wrap", "clamp"])
def test_exact_uv_at_texel_centres_equals_whole_mip(address, layout):
    from ngsdk.runtime_ref.neural_texture_exact import decode_mip, decode_uv

    asset = tiny_asset("exact", address, layout)
    for m in range(asset.mip_levels):
        full = decode_mip(asset, m)
        h, w = full.shape[:2]
        jj, ii = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
        uv = np.stack([(ii.ravel().astype(np.float32) + np.float32(0.5)) / np.float32(w),
                       (jj.ravel().astype(np.float32) + np.float32(0.5)) / np.float32(h)], axis=1)
        assert np.array_equal(decode_uv(asset, uv, m), full.reshape(-1, full.shape[-1]))


def _write(asset, path: Path) -> Path:
    from ngsdk.exporters.neural_texture import write_neural_texture
    from ngsdk.runtime_ref.neural_texture_modes import decode_mip

    for m in range(asset.mip_levels):
        asset.provenance.reference_decode[f"mip{m}"] = decode_hash(decode_mip(asset, m))
    write_neural_texture(asset, path)
    return path


@pytest.mark.parametrize("mode", ["exact", "hardware"])
def test_bundle_round_trip(tmp_path, mode):
    from ngsdk.runtime_ref.neural_texture import load_neural_texture

    asset = tiny_asset(mode, "wrap")
    b = _write(asset, tmp_path / f"{mode}.ngasset")
    m = json.loads((b / "manifest.json").read_text())
    assert m["format_version"] == "2.0" and m["decoder"]["dtype"] == "int8" and m["decode_mode"] == mode
    with np.load(b / "decoder.npz", allow_pickle=False) as z:
        assert sorted(z.files) == sorted(f"q.layer{i}.{k}" for i in range(3)
                                         for k in ("weight", "bias", "multiplier", "shift"))
        assert z["q.layer0.weight"].dtype == np.int8 and z["q.layer0.shift"].dtype == np.int32
    back = load_neural_texture(b)
    for a, c in zip(asset.decoder.quantized.layers, back.decoder.quantized.layers):
        for k in ("weight", "bias", "multiplier", "shift"):
            assert np.array_equal(getattr(a, k), getattr(c, k))
    assert back.decoder.quantized.period_log2 == [2, 2] and back.decoder.quantized.phase == [0, 256]
    assert back.bits_per_texel() == asset.bits_per_texel()


def test_damaged_int_decoder_is_refused(tmp_path):
    from ngsdk.asset.errors import AssetError
    from ngsdk.asset.manifest import dump_manifest, file_record
    from ngsdk.exporters.npz import write_npz
    from ngsdk.runtime_ref.neural_texture import load_neural_texture

    b = _write(tiny_asset("exact", "wrap"), tmp_path / "x.ngasset")
    with np.load(b / "decoder.npz", allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["q.layer0.weight"] = arrays["q.layer0.weight"].astype(np.int32)
    write_npz(b / "decoder.npz", arrays)
    m = json.loads((b / "manifest.json").read_text())
    m["files"]["decoder.npz"] = file_record(b / "decoder.npz")
    (b / "manifest.json").write_bytes(dump_manifest(m))
    with pytest.raises(AssetError, match="q.layer0.weight.*int32"):
        load_neural_texture(b)


def test_verify_engine_reports(tmp_path):
    from ngsdk.cli import main

    exact = _write(tiny_asset("exact", "clamp"), tmp_path / "e.ngasset")
    hw = _write(tiny_asset("hardware", "wrap"), tmp_path / "h.ngasset")
    res = CliRunner().invoke(main, ["verify", str(exact), "--engine", "unreal", "--json", str(tmp_path / "e.json")])
    assert res.exit_code == 0, res.output
    nt = {c["code"]: c for c in json.loads((tmp_path / "e.json").read_text())["checks"]}
    assert nt[NT.DECODE_CONSISTENCY.code]["status"] == "pass" and nt[NT.ENGINE.code]["details"]["result"] == "exact"
    assert nt[NT.ENGINE.code]["details"]["max_error"] == 0.0
    errors = {}
    for engine, profile, result in (("vulkan", None, "bounded"), ("generic", None, "bounded"),
                                    ("vulkan", "d3d11", "exact"), ("vulkan", "lavapipe", None)):
        args = ["verify", str(hw), "--engine", engine, "--json", str(tmp_path / "h.json")]
        args += ["--profile", profile] if profile else []
        res = CliRunner().invoke(main, args)
        assert res.exit_code == 0, res.output
        d = {c["code"]: c for c in json.loads((tmp_path / "h.json").read_text())["checks"]}[NT.ENGINE.code]["details"]
        if result:
            assert d["result"] == result
        errors[engine, profile] = d["max_error_bytes"]
    # random weights make loose intervals; the coarser generic rules can only widen them
    assert 0 < errors["vulkan", None] <= errors["generic", None] <= 255
    res = CliRunner().invoke(main, ["verify", str(hw), "--engine", "vulkan", "--profile", "nope"])
    assert res.exit_code == 2 and "unknown sampler profile" in res.output


def test_training_forward_is_the_decode():
    """The model's integer forward (what training optimises) gives runtime_ref's bytes at every texel."""
    torch = pytest.importorskip("torch")
    from ngsdk.asset.neural_texture import Channel
    from ngsdk.runtime_ref.neural_texture_modes import decode_mip
    from ngsdk.textures.config import GridConfig, TextureTrainConfig, layout_for
    from ngsdk.textures.ingest import TextureSet
    from ngsdk.textures.model import NeuralTextureModel
    from ngsdk.textures.train import to_asset

    rng = np.random.default_rng(3)
    w, h = 23, 17
    chans = [Channel("albedo.r", "albedo", "r", "srgb"), Channel("roughness", "roughness", "r")]
    ts = TextureSet("t", w, h, chans, rng.random((h, w, 2), dtype=np.float32), {})
    cases = (("exact", 4, "wrap", "pyramid"), ("exact", 2, "clamp", "pyramid"), ("exact", 4, "clamp", "grids"),
             ("hardware", 8, "wrap", "grids"))
    for mode, bits, address, layout in cases:
        grids = ([GridConfig("latents", 7, 5, 1, bits)] if layout == "pyramid" else
                 [GridConfig("grid0", 7, 5, 1, bits), GridConfig("grid1", 4, 3, 2, bits)])
        cfg = TextureTrainConfig(decode_mode=mode, latent_bits=bits, address=address, hidden=16, layout=layout,
                                 latent_features=32 // bits, grids=grids)
        cfg.check()
        model = NeuralTextureModel(cfg, layout_for(grids, 5, cfg), w, h, 2, seed=5)
        with torch.no_grad():
            for g in model.grids:
                g.values.uniform_(-1, 1, generator=torch.Generator().manual_seed(1))
        n = w * h
        idx = torch.arange(n)
        model.calibrate(torch.zeros(n, dtype=torch.int64), (idx % w + 0.5) / w, (idx // w + 0.5) / h)
        asset = to_asset(model, ts, cfg)
        for m in (0, 1, 3):
            mw, mh = asset.mip_size(m)
            k = torch.arange(mw * mh)
            with torch.no_grad():
                y = model.forward_int(torch.full_like(k, m), k % mw, k // mw, "hard")
            got = y.numpy().astype(np.uint8).reshape(mh, mw, -1)
            assert np.array_equal(y.numpy(), np.round(y.numpy()))
            assert np.array_equal(got, decode_mip(asset, m)), (mode, bits, address, layout, m)

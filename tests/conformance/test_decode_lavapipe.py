"""The shared shader decode of real, trained bundles on a Vulkan driver vs runtime_ref, bit for bit.

Bundles are trained here on small crops of the shared materials (few steps), written to disk and loaded
back. Both forms of the one shader source run: the WGSL generated from NeuralTextureDecode.ush and the
.ush itself compiled from HLSL to SPIR-V by glslang. ``exact`` bundles: whole mips and arbitrary
coordinates equal runtime_ref, and each mip hashes to the value the trainer recorded (the expected
output). ``hardware`` bundles: equal to runtime_ref under the driver's sampler profile (``lavapipe`` in
CI, ``nvidia`` on the GPU machine) and inside the ``bounded`` profile's byte bounds. Comparisons are
appended to ``NGSDK_CONFORMANCE_REPORT`` (JSON lines) when it is set, for docs/conformance.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ngsdk.asset.digest import decode_hash
from ngsdk.runtime_ref.sampling import NotMeasuredError
from ngsdk.textures.ingest import TextureSet, load_texture_set
from tests.conformance.sampler_driver import record

pytestmark = pytest.mark.conformance
REPO = Path(__file__).resolve().parents[2]

# name -> (material, crop x, y, w, h, decode mode, latent bits, address, seed)
BUNDLES = {
    "exact_wrap": ("ground068_1k", 300, 200, 48, 40, "exact", 4, "wrap", 0),
    "exact_clamp_2bit": ("onyx", 500, 100, 37, 29, "exact", 2, "clamp", 1),
    "hardware_wrap": ("rock", 100, 600, 40, 40, "hardware", 8, "wrap", 2),
    "hardware_clamp": ("fabric_pattern_07_1k", 200, 300, 33, 27, "hardware", 8, "clamp", 3),
}
EXACT = [k for k, v in BUNDLES.items() if v[5] == "exact"]
HARDWARE = [k for k, v in BUNDLES.items() if v[5] == "hardware"]
SOURCES = ("wgsl", "hlsl")


def _train(shared_data: Path, out: Path, spec) -> Path:
    from ngsdk.exporters.neural_texture import write_neural_texture
    from ngsdk.textures.config import TextureTrainConfig
    from ngsdk.textures.train import train_texture

    material, x, y, w, h, mode, bits, address, seed = spec
    ts = load_texture_set(shared_data / "textures" / material)
    ts = TextureSet(ts.name, w, h, ts.channels, np.ascontiguousarray(ts.data[y:y + h, x:x + w]), ts.sources)
    # exact: the default pyramid layout (2 taps + LOD input; 2-bit codes need 16 features to fill a slice);
    # hardware: the grids layout it requires
    layout = dict(layout="grids") if mode == "hardware" else dict(latent_features=max(8, 32 // bits))
    cfg = TextureTrainConfig(bpp=40, hidden=32, steps=30, batch_size=2048, device="cpu", seed=seed,
                             decode_mode=mode, latent_bits=bits, address=address, eval_every=1000, **layout)
    write_neural_texture(train_texture(ts, cfg).asset, out)
    return out


@pytest.fixture(scope="module")
def bundles(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    pytest.importorskip("torch")
    from ngsdk.runtime_ref.neural_texture import load_neural_texture

    root = tmp_path_factory.mktemp("decode_bundles")
    return {name: load_neural_texture(_train(shared_data, root / f"{name}.ngasset", spec))
            for name, spec in BUNDLES.items()}


def _probe_hlsl() -> None:
    """Create the HLSL pipeline in a child process first: a shader-reader panic aborts its process."""
    code = ("from tools.vulkan_harness.ntd_decode import ShaderDecoder\n"
            "ShaderDecoder(source='hlsl')._build()\nprint('HLSL-OK')\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    if "HLSL-OK" not in res.stdout:
        tail = "\n".join((res.stdout + res.stderr).strip().splitlines()[-15:])
        pytest.fail(f"the HLSL .ush did not compile/load through glslang + wgpu:\n{tail}")


@pytest.fixture(scope="module", params=SOURCES)
def shader(request):
    try:
        import wgpu  # noqa: F401
    except ImportError:
        pytest.fail("wgpu is not installed: pip install 'wgpu>=0.19' (the vulkan extra)")
    from tools.vulkan_harness.ntd_decode import ShaderDecoder, glslang
    from tools.vulkan_harness.wgpu_sampler import open_device

    if request.param == "hlsl":
        if glslang() is None:
            pytest.skip("glslangValidator not installed (apt-get install glslang-tools): HLSL form not run")
        _probe_hlsl()
    try:
        dev = open_device()
    except RuntimeError as err:
        pytest.fail(f"{err} - on Debian: apt-get install mesa-vulkan-drivers libvulkan1")
    return ShaderDecoder(dev, source=request.param)


def _driver_profile(shader) -> str:
    from tools.vulkan_harness.wgpu_sampler import profile_for

    profile = profile_for(shader.dev.description)
    if profile is None:
        pytest.fail(f"no sampler profile claims bit-exactness for {shader.dev.description!r}; "
                    "set NGSDK_SAMPLER_PROFILE")
    return profile


def _report(shader, case: str, profile: str, got: np.ndarray, ref: np.ndarray, bounds=None) -> None:
    bad = np.any(got.reshape(-1, got.shape[-1]) != ref.reshape(-1, ref.shape[-1]), axis=1)
    fields = dict(kind="decode", case=case, profile=profile, driver=shader.description, samples=int(bad.size),
                  mismatches=int(bad.sum()),
                  max_abs_error=float(np.abs(got.astype(np.int64) - ref).max(initial=0)) / 255.0)
    if bounds is not None:
        lo, hi = bounds
        outside = np.any(((got < lo) | (got > hi)).reshape(-1, got.shape[-1]), axis=1)
        fields.update(outside_bounded=int(outside.sum()),
                      bounded_mean_width=float(np.mean(hi.astype(np.int64) - lo)) / 255.0)
    record(**fields)


def _edge_uvs(asset, n: int, seed: int) -> np.ndarray:
    """Random coordinates in [-3, 4] plus texel edges and centres of every grid level (ties)."""
    rng = np.random.default_rng(seed)
    uv = rng.uniform(-3.0, 4.0, size=(n, 2)).astype(np.float32)
    special = []
    for g in asset.grids:
        for lv in g.levels:
            h, w = lv.shape[:2]
            k = np.arange(-w, 2 * w + 1, dtype=np.float32)
            special += [np.stack([k / np.float32(w), np.float32(0.5) + 0 * k], 1),
                        np.stack([(k + np.float32(0.5)) / np.float32(w), (k % h) / np.float32(h)], 1)]
    return np.concatenate([uv] + special).astype(np.float32)


@pytest.mark.parametrize("name", EXACT)
def test_exact_whole_mips_equal_runtime_ref_and_recorded_hashes(shader, bundles, name):
    from ngsdk.runtime_ref.neural_texture_exact import decode_mip

    asset = bundles[name]
    for m in range(asset.mip_levels):
        got = shader.decode_mip(asset, m)
        ref = decode_mip(asset, m)
        _report(shader, f"{name} mip{m}", "exact", got, ref)
        assert np.array_equal(got, ref), f"{name} mip {m}: {int(np.sum(got != ref))} bytes differ"
        assert decode_hash(got) == asset.provenance.reference_decode[f"mip{m}"]


@pytest.mark.parametrize("name", EXACT)
def test_exact_coordinates_equal_runtime_ref(shader, bundles, name):
    from ngsdk.runtime_ref.neural_texture_exact import decode_uv

    asset = bundles[name]
    uv = _edge_uvs(asset, 4000, seed=7)
    for m in (0, 1, asset.mip_levels - 1):
        got = shader.decode_uv(asset, uv, mip=m)
        ref = decode_uv(asset, uv, mip=m)
        _report(shader, f"{name} uv mip{m}", "exact", got, ref)
        assert np.array_equal(got, ref), f"{name} mip {m}: {int(np.any(got != ref, axis=1).sum())} samples differ"


@pytest.mark.parametrize("name", HARDWARE)
def test_hardware_whole_mips_match_profile_and_bounds(shader, bundles, name):
    from ngsdk.runtime_ref.neural_texture_hw import HardwareDecoder

    asset = bundles[name]
    profile = _driver_profile(shader)
    dec = HardwareDecoder(asset)
    for m in range(asset.mip_levels):
        got = shader.decode_mip(asset, m)
        try:
            ref = dec.decode_mip(m, profile=profile)
        except NotMeasuredError as err:
            pytest.skip(str(err))
        b = dec.decode_mip(m, profile="bounded")
        lo, hi = b[..., 0, :], b[..., 1, :]
        _report(shader, f"{name} mip{m}", profile, got, ref, (lo, hi))
        assert np.array_equal(got, ref), f"{name} mip {m}: {int(np.sum(got != ref))} bytes differ from {profile}"
        assert ((lo <= got) & (got <= hi)).all(), f"{name} mip {m}: driver bytes outside bounded"


@pytest.mark.parametrize("filter", ["linear", "trilinear"])
@pytest.mark.parametrize("name", HARDWARE)
def test_hardware_coordinates_match_profile_and_bounds(shader, bundles, name, filter):
    from ngsdk.runtime_ref.neural_texture_hw import HardwareDecoder

    asset = bundles[name]
    profile = _driver_profile(shader)
    uv = _edge_uvs(asset, 3000, seed=11)
    rng = np.random.default_rng(12)
    lod = rng.uniform(-0.5, asset.mip_levels + 0.5, size=uv.shape[0]).astype(np.float32)
    lod[::7] = np.round(lod[::7])
    dec = HardwareDecoder(asset)
    got = shader.decode_uv(asset, uv, lod=lod, filter=filter)
    try:
        ref = dec.decode_uv(uv, lod, filter=filter, profile=profile)
    except NotMeasuredError as err:
        pytest.skip(str(err))
    b = dec.decode_uv(uv, lod, filter=filter, profile="bounded")
    lo, hi = b[:, 0], b[:, 1]
    _report(shader, f"{name} uv {filter}", profile, got, ref, (lo, hi))
    bad = np.any(got != ref, axis=1)
    assert not bad.any(), (f"{name} {filter}: {int(bad.sum())} of {len(uv)} samples differ from {profile}; first "
                           f"at uv={uv[np.argmax(bad)].tolist()} lod={float(lod[np.argmax(bad)])}")
    assert ((lo <= got) & (got <= hi)).all(), f"{name} {filter}: driver bytes outside bounded"


@pytest.mark.parametrize("mode,layout", [("exact", "grids"), ("exact", "pyramid"), ("hardware", "grids")])
@pytest.mark.parametrize("address", ["wrap", "clamp"])
def test_vector_asset(shader, mode, layout, address):
    """The fixed assets of docs/decode-spec.md's test vectors decode identically on the driver."""
    from ngsdk.runtime_ref.neural_texture_modes import decode_mip, decode_uv
    from tests.fixtures.decode_vectors import tiny_asset, vector_uvs

    asset = tiny_asset(mode, address, layout)
    profile = "exact" if mode == "exact" else _driver_profile(shader)
    for m in range(asset.mip_levels):
        ref = decode_mip(asset, m, profile=None if mode == "exact" else profile)
        got = shader.decode_mip(asset, m)
        _report(shader, f"vectors {mode} {layout} {address} mip{m}", profile, got, ref)
        assert np.array_equal(got, ref)
    uv = vector_uvs()
    if mode == "exact":
        for m in range(asset.mip_levels):
            assert np.array_equal(shader.decode_uv(asset, uv, mip=m), decode_uv(asset, uv, mip=m)), m
    else:
        lod = np.float32(0.75)
        ref = decode_uv(asset, uv, lod=lod, filter="trilinear", profile=profile)
        assert np.array_equal(shader.decode_uv(asset, uv, lod=lod, filter="trilinear"), ref)

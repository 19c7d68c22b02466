"""The Vulkan sample (engine_plugins/vulkan) on lavapipe against the reference runtime.

The sample compiles the shared decode source (engine_plugins/shaders/NeuralTextureDecode.ush) to
SPIR-V and decodes real trained bundles on the CPU Vulkan driver: the exact mode must give
ngsdk.runtime_ref.neural_texture_exact's bytes for every mip, the hardware mode runtime_ref's hardware
decode under the lavapipe sampler profile (lavapipe's filter arithmetic is known bit for bit).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ngsdk.runtime_ref import neural_texture, neural_texture_exact, neural_texture_hw
from ngsdk.runtime_ref.neural_texture import load_neural_texture

from .engine_build import REPO, cmake_build, train_variants

GPU_VARIANTS = ["exact-wrap-4bit", "exact-clamp-8bit", "hardware-wrap-8bit", "hardware-clamp-8bit"]


@pytest.fixture(scope="session")
def engine_bundles(small_material: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return train_variants(small_material, tmp_path_factory)


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    exe = cmake_build(REPO / "engine_plugins" / "vulkan", "vulkan") / "ngsdk_vulkan_sample"
    res = subprocess.run([str(exe), "--list-devices"], capture_output=True, text=True)
    assert res.returncode == 0, f"no Vulkan device (install mesa-vulkan-drivers for lavapipe): {res.stderr}"
    assert "llvmpipe" in res.stdout, f"expected lavapipe, got {res.stdout}"
    return exe


def run_sample(exe: Path, *args) -> subprocess.CompletedProcess:
    return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("name", GPU_VARIANTS)
def test_vulkan_decode_is_bit_identical_on_lavapipe(name: str, engine_bundles, sample: Path, tmp_path: Path):
    bundle = engine_bundles[name]
    asset = load_neural_texture(bundle)
    hardware = asset.decode_mode == "hardware"
    decoder = neural_texture_hw.HardwareDecoder(asset) if hardware else None
    for m in range(asset.mip_levels):
        raw = tmp_path / f"mip{m}.bin"
        args = [bundle, "--mip", m, "--raw", raw]
        res = run_sample(sample, *args, *([] if hardware else ["--check-reference"]))
        assert res.returncode == 0, res.stdout + res.stderr
        if hardware:
            want = decoder.decode_mip(m, profile="lavapipe")
        else:
            want = neural_texture_exact.decode_mip(asset, m)
            assert "matches reference" in res.stdout
        got = np.fromfile(raw, dtype=np.uint8)
        assert got.size == want.size
        assert np.array_equal(got, want.ravel()), f"{name} mip {m}: {(got != want.ravel()).sum()} bytes differ"


# (mode, latent layout, written as format 1.x)
VECTOR_CASES = [("exact", "grids", False), ("exact", "pyramid", False), ("hardware", "grids", False),
                ("exact", "grids", True)]


@pytest.mark.parametrize("mode,layout,format_1x", VECTOR_CASES)
def test_vulkan_decodes_the_spec_vector_assets(mode: str, layout: str, format_1x: bool, sample: Path, tmp_path: Path):
    """docs/decode-spec.md's vector assets (both latent layouts; a 1.x manifest too) decode on lavapipe to
    runtime_ref's bytes."""
    from tests.fixtures.decode_vectors import tiny_asset, write_vector_bundle

    asset = tiny_asset(mode, "clamp", layout)
    bundle = write_vector_bundle(asset, tmp_path / "v.ngasset", format_1x=format_1x)
    decoder = neural_texture_hw.HardwareDecoder(asset) if mode == "hardware" else None
    for m in range(asset.mip_levels):
        raw = tmp_path / f"mip{m}.bin"
        res = run_sample(sample, bundle, "--mip", m, "--raw", raw, *([] if decoder else ["--check-reference"]))
        assert res.returncode == 0, res.stdout + res.stderr
        want = decoder.decode_mip(m, profile="lavapipe") if decoder else neural_texture_exact.decode_mip(asset, m)
        assert np.array_equal(np.fromfile(raw, dtype=np.uint8), want.ravel()), f"mip {m}"


def test_vulkan_sample_writes_png_and_refuses_mismatch(engine_bundles, sample: Path, tmp_path: Path):
    bundle = engine_bundles["exact-wrap-4bit"]
    asset = load_neural_texture(bundle)
    png = tmp_path / "out.png"
    res = run_sample(sample, bundle, "--mip", 1, "--out", png)
    assert res.returncode == 0, res.stderr
    groups = len({c.semantic for c in asset.channels})  # Ground068: albedo, normal, roughness, ao, displacement
    with Image.open(png) as im:
        assert im.size == (asset.mip_size(1)[0] * groups, asset.mip_size(1)[1])
    res = run_sample(sample, bundle, "--mip", 1, "--expect", "0" * 64)
    assert res.returncode == 3 and "DIFFERS from expected" in res.stdout


def test_vulkan_sample_float_mode_runs_the_cpu_reference(engine_bundles, sample: Path, tmp_path: Path):
    """The shared shader is the integer decoder; --mode float decodes on the CPU and says so."""
    bundle = engine_bundles["float-wrap-4bit"]
    raw = tmp_path / "f.bin"
    res = run_sample(sample, bundle, "--mip", 2, "--mode", "float", "--raw", raw, "--check-reference")
    assert res.returncode == 0 and "matches reference" in res.stdout, res.stdout + res.stderr
    assert "decodes on the CPU" in res.stderr
    want = np.ascontiguousarray(neural_texture.decode_mip(load_neural_texture(bundle), 2), dtype="<f4")
    assert raw.read_bytes() == want.tobytes()
    res = run_sample(sample, bundle, "--mip", 0, "--mode", "exact")
    assert res.returncode == 1 and "no integer decoder" in res.stderr

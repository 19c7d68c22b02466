"""The Unreal plugin without Unreal: what CI can check, and the material decode path on lavapipe.

- tools/ci/check_unreal_plugin.sh: the .uplugin is valid JSON with Runtime and Editor modules (each
  with its Build.cs), an installed copy's loader sources compile as Unreal builds them, and the shared
  .ush compiles with glslang's HLSL front end both alone and inside a harness shaped like Unreal's
  generated Custom node code (engine_plugins/unreal/shim);
- that harness (ngsdk_material_harness) decodes real bundles on lavapipe through the plugin's material
  binding (NeuralTextureMaterial.ush) bit-identically to runtime_ref's decode_uv.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from ngsdk.runtime_ref import neural_texture_exact, neural_texture_hw
from ngsdk.runtime_ref.neural_texture import load_neural_texture
from ngsdk.runtime_ref.neural_texture_hw import mip_coordinates

from .engine_build import REPO, cmake_build, train_variants

PLUGIN = REPO / "engine_plugins" / "unreal" / "NeuralGraphics"


@pytest.fixture(scope="session")
def bundles(small_material: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return train_variants(small_material, tmp_path_factory)


@pytest.fixture(scope="session")
def harness() -> Path:
    return cmake_build(REPO / "engine_plugins" / "vulkan", "vulkan") / "ngsdk_material_harness"


def test_uplugin_declares_runtime_and_editor_modules():
    desc = json.loads((PLUGIN / "NeuralGraphics.uplugin").read_text())
    types = {m["Name"]: m["Type"] for m in desc["Modules"]}
    assert "Runtime" in types.values() and "Editor" in types.values()
    for name in types:
        assert (PLUGIN / "Source" / name / f"{name}.Build.cs").is_file()
    assert desc["EngineVersion"].startswith("5.")


def test_check_unreal_plugin_script(tmp_path: Path):
    res = subprocess.run(["bash", str(REPO / "tools" / "ci" / "check_unreal_plugin.sh"), str(tmp_path)],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert "plugin checks passed" in res.stdout
    installed = tmp_path / "Plugins" / "NeuralGraphics"
    shared = REPO / "engine_plugins" / "shaders" / "NeuralTextureDecode.ush"
    assert (installed / "Shaders" / "Private" / "ngsdk" / shared.name).read_bytes() == shared.read_bytes()
    assert (installed / "Source" / "NeuralGraphicsCore" / "Public" / "ngsdk" / "bundle.h").is_file()


def test_importer_writes_the_custom_node_code_the_harness_compiles():
    """The Custom node code the importer stores (2 grids) is the code CI compiles and runs."""
    code = (REPO / "engine_plugins" / "unreal" / "shim" / "custom_node_2grids.txt").read_text().splitlines()
    importer = (PLUGIN / "Source" / "NeuralGraphicsEditor" / "Private" / "NeuralTextureImport.cpp").read_text()
    assert code[0] == "NTD_MaterialBind2(Params, Grid0, Grid1, Grid0Sampler);"
    for line in code[1:]:
        assert f'"{line}\\n"' in importer or f'TEXT("{line}\\n"' in importer, line


def _check_material_decode(harness: Path, bundle: Path, mips, tmp_path: Path) -> None:
    """The harness's bytes at mip ``m``'s texel centres equal runtime_ref's decode_uv there."""
    asset = load_neural_texture(bundle)
    for m in mips:
        raw = tmp_path / f"m{m}.bin"
        res = subprocess.run([str(harness), str(bundle), "--mip", str(m), "--raw", str(raw)],
                             capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, res.stdout + res.stderr
        w, h = asset.mip_size(m)
        uv = np.stack([np.tile(mip_coordinates(w), h), np.repeat(mip_coordinates(h), w)], axis=1)
        if asset.decode_mode == "exact":
            want = neural_texture_exact.decode_uv(asset, uv, m)
        else:
            want = neural_texture_hw.decode_uv(asset, uv, np.float32(m), profile="lavapipe")
        got = np.fromfile(raw, dtype=np.uint8).reshape(want.shape)
        assert np.array_equal(got, want), f"{bundle.name} mip {m}: {(got != want).sum()} bytes differ"


@pytest.mark.parametrize("name", ["exact-wrap-4bit", "exact-clamp-8bit", "hardware-wrap-8bit", "hardware-clamp-8bit"])
def test_material_binding_decodes_bit_identically_on_lavapipe(name: str, bundles, harness: Path, tmp_path: Path):
    asset = load_neural_texture(bundles[name])
    _check_material_decode(harness, bundles[name], (0, 1, asset.mip_levels - 1), tmp_path)


@pytest.mark.parametrize("mode,layout", [("exact", "grids"), ("exact", "pyramid"), ("hardware", "grids")])
def test_material_binding_decodes_the_spec_vector_assets(mode: str, layout: str, harness: Path, tmp_path: Path):
    """Both latent layouts through the material binding: the taps and LOD inputs travel in the parameter blob."""
    from tests.fixtures.decode_vectors import tiny_asset, write_vector_bundle

    bundle = write_vector_bundle(tiny_asset(mode, "wrap", layout), tmp_path / "v.ngasset")
    _check_material_decode(harness, bundle, range(4), tmp_path)

"""The C++ loader (engine_plugins/common) against the reference runtime, on real trained bundles.

Every mip of every bundle is decoded by the C++ CPU decoder (``ngsdk_decode``) and compared byte for
byte with runtime_ref: the float mode with ngsdk.runtime_ref.neural_texture.decode_mip, the exact mode with
ngsdk.runtime_ref.neural_texture_exact.decode_mip. Damaged bundles must be refused by both readers, the C++
one with a one-line error naming the file; a mutation run (under ASan/UBSan when that build exists)
must end without a crash.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from ngsdk.asset.errors import AssetError
from ngsdk.runtime_ref import neural_texture, neural_texture_exact
from ngsdk.runtime_ref.neural_texture import load_neural_texture

from .engine_build import REPO, VARIANTS, build_root, cmake_build, train_variants

CPU_VARIANTS = [name for name, (mode, _, _) in VARIANTS.items() if mode != "hardware"]


@pytest.fixture(scope="session")
def loader_build() -> Path:
    return cmake_build(REPO / "engine_plugins" / "common", "common")


@pytest.fixture(scope="session")
def bundles(small_material: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return train_variants(small_material, tmp_path_factory)


def run_decode(build: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(build / "ngsdk_decode"), *map(str, args)], capture_output=True, text=True)


def reference_bytes(asset, mode: str, mip: int) -> bytes:
    if mode == "exact":
        return neural_texture_exact.decode_mip(asset, mip).tobytes()
    return np.ascontiguousarray(neural_texture.decode_mip(asset, mip), dtype="<f4").tobytes()


@pytest.mark.parametrize("name", CPU_VARIANTS)
def test_cpp_decode_is_bit_identical_to_runtime_ref(name: str, bundles, loader_build: Path, tmp_path: Path):
    bundle = bundles[name]
    asset = load_neural_texture(bundle)
    res = run_decode(loader_build, bundle, "--all", "--check-reference", "--raw-dir", tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.count("matches reference") == asset.mip_levels
    for m in range(asset.mip_levels):
        got = (tmp_path / f"mip{m}.bin").read_bytes()
        want = reference_bytes(asset, asset.decode_mode, m)
        assert len(got) == len(want)
        assert got == want, f"{name} mip {m}: C++ decode differs from runtime_ref"


def test_cpp_float_view_of_an_integer_decoder_matches(bundles, loader_build: Path, tmp_path: Path):
    """An exact bundle decoded in the float mode uses the real-valued view of its integer layers."""
    bundle = bundles["exact-wrap-4bit"]
    asset = load_neural_texture(bundle)
    for m in (0, 3):
        raw = tmp_path / f"f{m}.bin"
        res = run_decode(loader_build, bundle, "--mip", m, "--mode", "float", "--raw", raw)
        assert res.returncode == 0, res.stderr
        assert raw.read_bytes() == reference_bytes(asset, "float", m)


@pytest.mark.parametrize("name", ["exact-clamp-8bit", "hardware-wrap-8bit"])
def test_cpp_shader_parameters_match_runtime_ref(name: str, bundles, loader_build: Path, tmp_path: Path):
    """The int32 array the shaders read, built by the C++ loader, equals runtime_ref's param_blob."""
    from ngsdk.runtime_ref.neural_texture_int import param_blob

    res = run_decode(loader_build, bundles[name], "--params", tmp_path / "p.bin")
    assert res.returncode == 0, res.stderr
    got = np.fromfile(tmp_path / "p.bin", dtype="<i4")
    assert np.array_equal(got, param_blob(load_neural_texture(bundles[name])))


@pytest.mark.parametrize("layout", ["grids", "pyramid"])
@pytest.mark.parametrize("address", ["wrap", "clamp"])
def test_cpp_decodes_the_spec_vector_assets(layout: str, address: str, loader_build: Path, tmp_path: Path):
    """docs/decode-spec.md's vector assets in both latent layouts (one tap per grid; two taps of one pyramid
    + LOD input): every mip in the exact mode and in the float view equals runtime_ref, and the shader
    parameters equal param_blob."""
    from ngsdk.runtime_ref.neural_texture_int import param_blob
    from tests.fixtures.decode_vectors import tiny_asset, write_vector_bundle

    bundle = write_vector_bundle(tiny_asset("exact", address, layout), tmp_path / "v.ngasset")
    asset = load_neural_texture(bundle)  # the float view is of the stored (float32) input scales
    res = run_decode(loader_build, bundle, "--all", "--check-reference", "--raw-dir", tmp_path)
    assert res.returncode == 0 and res.stdout.count("matches reference") == asset.mip_levels, res.stdout + res.stderr
    for m in range(asset.mip_levels):
        assert (tmp_path / f"mip{m}.bin").read_bytes() == reference_bytes(asset, "exact", m), m
        raw = tmp_path / f"f{m}.bin"
        res = run_decode(loader_build, bundle, "--mip", m, "--mode", "float", "--raw", raw)
        assert res.returncode == 0, res.stderr
        assert raw.read_bytes() == reference_bytes(asset, "float", m), m
    assert run_decode(loader_build, bundle, "--params", tmp_path / "p.bin").returncode == 0
    assert np.array_equal(np.fromfile(tmp_path / "p.bin", dtype="<i4"), param_blob(asset))


@pytest.mark.parametrize("mode", ["exact", "hardware"])
def test_cpp_reads_format_1x_bundles_like_their_2x_form(mode: str, loader_build: Path, tmp_path: Path):
    """A 1.x bundle (texture.grid_levels) loads in C++ as its 2.0 form (mip_inputs): same shader parameters,
    the same decoded bytes, the trainer's reference hashes."""
    from tests.fixtures.decode_vectors import tiny_asset, write_vector_bundle

    v1 = write_vector_bundle(tiny_asset(mode, "wrap"), tmp_path / "v1.ngasset", format_1x=True)
    v2 = write_vector_bundle(tiny_asset(mode, "wrap"), tmp_path / "v2.ngasset")
    blobs = []
    for b in (v1, v2):
        res = run_decode(loader_build, b, "--params", tmp_path / f"{b.stem}.bin")
        assert res.returncode == 0, res.stderr
        blobs.append((tmp_path / f"{b.stem}.bin").read_bytes())
    assert blobs[0] == blobs[1]
    if mode == "exact":
        for b in (v1, v2):
            (tmp_path / b.stem).mkdir()
            res = run_decode(loader_build, b, "--all", "--check-reference", "--raw-dir", tmp_path / b.stem)
            assert res.returncode == 0 and res.stdout.count("matches reference") == 4, res.stdout + res.stderr
        for m in range(4):
            assert (tmp_path / "v1" / f"mip{m}.bin").read_bytes() == (tmp_path / "v2" / f"mip{m}.bin").read_bytes()


def _copy(bundle: Path, tmp_path: Path) -> Path:
    dst = tmp_path / bundle.name
    shutil.copytree(bundle, dst)
    return dst


def _refresh(bundle: Path, name: str) -> None:
    """Rewrite the manifest record of ``name`` so the damage reaches the inner parsers."""
    import json

    from ngsdk.asset.manifest import dump_manifest

    m = json.loads((bundle / "manifest.json").read_text())
    data = (bundle / name).read_bytes()
    m["files"][name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    (bundle / "manifest.json").write_bytes(dump_manifest(m))


def _grid(b: Path) -> str:
    """The file of the bundle's (last) latent grid: latents.dds in the pyramid layout."""
    import json

    return json.loads((b / "manifest.json").read_text())["grids"][-1]["file"]


# damage -> (apply, damaged file ("GRID": the grid's), message)
DAMAGE = {
    "sha256": (lambda b: (b / _grid(b)).write_bytes((b / _grid(b)).read_bytes()[:-1] + b"\x01"),
               "GRID", "sha256 mismatch"),
    "truncated-dds": (lambda b: ((b / _grid(b)).write_bytes((b / _grid(b)).read_bytes()[:-16]),
                                 _refresh(b, _grid(b))), "GRID", "truncated texel data"),
    "dds-magic": (lambda b: ((b / _grid(b)).write_bytes(b"XDS " + (b / _grid(b)).read_bytes()[4:]),
                             _refresh(b, _grid(b))), "GRID", "not a DDS file"),
    "pickle": (lambda b: (np.savez(b / "decoder.npz", **{"layer0.weight": np.array([object()], dtype=object)}),
                          _refresh(b, "decoder.npz")), "decoder.npz", "Python objects"),
    "missing": (lambda b: (b / "decoder.npz").unlink(), "decoder.npz", "missing"),
    "version": (lambda b: (b / "manifest.json").write_text(
        (b / "manifest.json").read_text().replace('"format_version": "2.', '"format_version": "7.')),
        "manifest.json", "unknown format version 7."),
    "taps": (lambda b: (b / "manifest.json").write_text(
        (b / "manifest.json").read_text().replace('"lod": 127', '"lod": 128', 1)),
        "manifest.json", "lod"),
    "json": (lambda b: (b / "manifest.json").write_text("{\"format\": \"ngasset\""), "manifest.json",
             "not valid JSON"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_cpp_and_python_refuse_damaged_bundles(damage: str, bundles, loader_build: Path, tmp_path: Path):
    bundle = _copy(bundles["float-wrap-4bit"], tmp_path)
    apply, file, needle = DAMAGE[damage]
    file = _grid(bundle) if file == "GRID" else file
    apply(bundle)
    with pytest.raises(AssetError):
        load_neural_texture(bundle)
    res = run_decode(loader_build, bundle)
    assert res.returncode == 1
    line = res.stderr.strip()
    assert "\n" not in line and str(bundle / file) in line and needle in line, line


def test_cpp_loader_survives_mutations(bundles, loader_build: Path, tmp_path: Path):
    """Mutated real bundles (flips, truncations, hostile header and manifest values) give errors, never crashes.

    Uses the ASan/UBSan build from tools/ci/build_engine_plugins.sh when it exists.
    """
    asan = build_root() / "common-asan" / "ngsdk_fuzz"
    fuzz = asan if asan.is_file() else loader_build / "ngsdk_fuzz"
    for name in ("float-clamp-2bit", "exact-wrap-4bit"):
        res = subprocess.run([str(fuzz), str(bundles[name]), "--iterations", "150", "--seed", "3",
                              "--work", str(tmp_path / name)], capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
        assert "no crash" in res.stdout

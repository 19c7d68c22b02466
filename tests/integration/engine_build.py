"""Build the C++ engine code (engine_plugins/) with CMake for tests, and train small bundles.

Builds go to ``build/engine_plugins/<name>`` (or ``$NGSDK_ENGINE_BUILD/<name>``): tools/ci/build_engine_plugins.sh
builds there first, so a test run only re-checks that the build is up to date.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def build_root() -> Path:
    return Path(os.environ.get("NGSDK_ENGINE_BUILD", REPO / "build" / "engine_plugins"))


def cmake_build(source: Path, name: str, *options: str) -> Path:
    """Configure (once) and build ``source`` in Release into ``build_root()/name``; return the build folder."""
    out = build_root() / name
    if not (out / "CMakeCache.txt").is_file():
        subprocess.run(["cmake", "-S", str(source), "-B", str(out), "-DCMAKE_BUILD_TYPE=Release", *options],
                       check=True, capture_output=True, text=True)
    res = subprocess.run(["cmake", "--build", str(out), "-j", "2"], capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"building {source} failed:\n{res.stdout[-4000:]}\n{res.stderr[-4000:]}")
    return out


def layout_options(mode: str, bits: int) -> dict:
    """Config of the latent layout a variant trains: the default pyramid (format 2.0: two taps + LOD input,
    ``32 // bits`` features so 2-bit codes fill an RGBA8 slice), or for the hardware mode the grids layout
    it needs (one sampler LOD for every grid)."""
    if mode == "hardware":
        return {"layout": "grids"}
    return {"latent_features": max(8, 32 // bits)}


def train_bundle(material: Path, out: Path, *, mode: str, address: str, bits: int, seed: int = 0,
                 steps: int = 30) -> Path:
    """Train a small bundle in decode mode ``mode`` through the trainer API (as `ngsdk train texture` does)."""
    from ngsdk.exporters.neural_texture import write_neural_texture
    from ngsdk.textures.config import TextureTrainConfig
    from ngsdk.textures.ingest import load_texture_set
    from ngsdk.textures.train import train_texture

    ts = load_texture_set(material)
    cfg = TextureTrainConfig(bpp=16 if bits == 8 else 12, latent_bits=bits, hidden=32, steps=steps, seed=seed,
                             device="cpu", batch_size=4096, address=address, decode_mode=mode,
                             **layout_options(mode, bits))
    write_neural_texture(train_texture(ts, cfg).asset, out)
    return out


# name -> (decode mode, address, latent bits): every variant the engine tests decode.
VARIANTS = {
    "float-wrap-4bit": ("float", "wrap", 4),
    "float-clamp-2bit": ("float", "clamp", 2),
    "exact-wrap-4bit": ("exact", "wrap", 4),
    "exact-clamp-8bit": ("exact", "clamp", 8),
    "hardware-wrap-8bit": ("hardware", "wrap", 8),
    "hardware-clamp-8bit": ("hardware", "clamp", 8),
}


_TRAINED: dict[Path, dict[str, Path]] = {}


def train_variants(material: Path, factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Small real bundles (the 256x256 Ground068 crop, 30 steps) in every variant, trained once per session."""
    if material not in _TRAINED:
        root = factory.mktemp("engine_bundles")
        _TRAINED[material] = {name: train_bundle(material, root / f"{name}.ngasset", mode=m, address=a, bits=b)
                              for name, (m, a, b) in VARIANTS.items()}
    return _TRAINED[material]

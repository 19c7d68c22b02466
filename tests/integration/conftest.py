"""Fixtures for integration tests: small real materials and a trained bundle (module-cached)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

SMALL = 256


@pytest.fixture(scope="session")
def small_material(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 256x256 crop of every map of ambientCG Ground068 (real data, original file names)."""
    src = shared_data / "textures" / "ground068_1k"
    out = tmp_path_factory.mktemp("ground068_256")
    for f in sorted(src.iterdir()):
        if f.suffix.lower() in (".jpg", ".png"):
            with Image.open(f) as im:
                im.crop((384, 384, 384 + SMALL, 384 + SMALL)).save(out / (f.stem + ".png"))
    return out


def train_small(material: Path, out: Path, *, steps: int = 30, seed: int = 0, extra: list[str] | None = None):
    """Train through the real CLI; returns click's result."""
    from click.testing import CliRunner

    from ngsdk.cli import main

    args = ["train", "texture", str(material), "--out", str(out), "--bpp", "12", "--hidden", "32",
            "--steps", str(steps), "--seed", str(seed), "--device", "cpu", "--batch-size", "4096",
            "--no-previews", *(extra or [])]
    return CliRunner().invoke(main, args, catch_exceptions=False)


@pytest.fixture(scope="session")
def small_bundle(small_material: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bundles") / "g.ngasset"
    res = train_small(small_material, out)
    assert res.exit_code == 0, res.output
    return out

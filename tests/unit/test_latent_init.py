"""PCA latent initialisation: in range, deterministic, and carrying the texture's information."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ngsdk.textures.ingest import load_texture_set  # noqa: E402
from ngsdk.textures.latent_init import _block_vectors, pca_latents  # noqa: E402
from ngsdk.textures.model import level_sizes  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[2] / "ngsdk" / "samples" / "ground068_512"


@pytest.fixture(scope="module")
def texture() -> np.ndarray:
    return load_texture_set(SAMPLE).data[:256, :256]


def _explained(latents: torch.Tensor, target: np.ndarray, w: int, h: int) -> float:
    """Share of the block vectors' variance a linear map from the latents reproduces (R^2)."""
    image = torch.from_numpy(np.ascontiguousarray(target, dtype=np.float32)).permute(2, 0, 1)[None]
    y = _block_vectors(image, w, h).double()
    y = y - y.mean(dim=0)
    x = torch.cat([latents.double(), torch.ones(len(latents), 1, dtype=torch.float64)], dim=1)
    coef = torch.linalg.lstsq(x, y).solution
    return float(1 - ((x @ coef - y) ** 2).sum() / (y**2).sum())


def test_pca_latents_range_shape_and_determinism(texture: np.ndarray) -> None:
    sizes = level_sizes(87, 87, 6)
    a = pca_latents(texture, sizes, 8, 0.5, torch.Generator().manual_seed(3))
    b = pca_latents(texture, sizes, 8, 0.5, torch.Generator().manual_seed(3))
    assert a.shape == (sum(w * h for w, h in sizes), 8)
    assert a.dtype == torch.float32
    assert float(a.abs().max()) <= 1.0
    assert torch.equal(a, b)
    # the code range is used: a 4-bit code of each component takes many values
    codes = torch.round((a[: 87 * 87] + 1) * 7.5)
    assert all(len(torch.unique(codes[:, f])) >= 10 for f in range(8))


def test_pca_latents_carry_the_texture(texture: np.ndarray) -> None:
    w = h = 87
    gen = torch.Generator().manual_seed(0)
    pca = pca_latents(texture, [(w, h)], 8, 0.5, gen)
    noise = (torch.rand(w * h, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1) * 0.5
    # 8 principal components of the 36-dimensional block vectors explain most of a real material's variance
    assert _explained(pca, texture, w, h) > 0.6
    assert _explained(noise, texture, w, h) < 0.01


def test_more_features_than_block_dimensions_fall_back_to_noise(texture: np.ndarray) -> None:
    one_channel = texture[..., :1]
    lat = pca_latents(one_channel, [(40, 40)], 8, 0.5, torch.Generator().manual_seed(1))
    assert lat.shape == (1600, 8)
    # 4 components come from the 2x2 blocks of one channel, the other 4 are the uniform start
    assert float(lat[:, 4:].abs().max()) <= 0.5
    assert float(lat[:, :4].abs().max()) > 0.5

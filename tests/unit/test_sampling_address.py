"""Address modes and level selection, with hand-computed edge cases."""

from __future__ import annotations

import numpy as np
import pytest

from ngsdk.asset.texture import TextureData
from ngsdk.runtime_ref.sampling import sample
from ngsdk.runtime_ref.sampling.address import wrap
from ngsdk.runtime_ref.sampling.lavapipe_float import _mirror
from ngsdk.runtime_ref.sampling.lod import linear_levels, nearest_level

IDX = np.arange(-7, 10, dtype=np.int32)


def test_repeat_wraps_negative_indices_upwards():
    got, out = wrap(np, IDX, 3, "repeat")
    assert out is None
    assert got.tolist() == [2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0]


def test_mirrored_repeat_has_period_2n_and_repeats_the_edge_texel():
    got, _ = wrap(np, IDX, 3, "mirror")
    # i = 0,1,2 -> 0,1,2; 3,4,5 -> 2,1,0; -1 -> 0, -2 -> 1, -3 -> 2 (Vulkan's mirror(a) = -(1 + a))
    assert got.tolist() == [0, 0, 1, 2, 2, 1, 0, 0, 1, 2, 2, 1, 0, 0, 1, 2, 2]


def test_clamp_and_border():
    got, out = wrap(np, IDX, 3, "clamp")
    assert out is None and got.tolist() == [0] * 7 + [0, 1, 2] + [2] * 7
    got, out = wrap(np, IDX, 3, "border")
    assert out.tolist() == [True] * 7 + [False] * 3 + [True] * 7
    assert got.min() >= 0 and got.max() <= 2


def test_llvmpipe_mirror_coordinate():
    u = np.array([0.25, 1.25, -0.25, 2.0, 3.0, -1.0, 0.5], dtype=np.float32)
    assert _mirror(np, u).tolist() == [0.25, 0.75, 0.25, 0.0, 1.0, 1.0, 0.5]


def test_linear_levels_clamp_at_both_ends():
    lod = np.array([-1.0, 0.25, 1.5, 2.0, 2.75, 40.0], dtype=np.float32)
    l0, l1, f = linear_levels(np, lod, 3)
    assert l0.tolist() == [0, 0, 1, 2, 2, 2]
    assert l1.tolist() == [1, 1, 2, 2, 2, 2]
    assert f.tolist() == [0.0, 0.25, 0.5, 0.0, 0.0, 0.0]


@pytest.mark.parametrize(("ties", "expected"), [("even", [0, 2, 2, 0, 1]), ("up", [1, 2, 3, 0, 1]),
                                                 ("down", [0, 1, 2, 0, 1])])
def test_nearest_level_tie_rules(ties, expected):
    lod = np.array([0.5, 1.5, 2.5, -3.0, 1.25], dtype=np.float32)
    assert nearest_level(np, lod, 4, ties).tolist() == expected


def _row(values) -> TextureData:
    """A 1-row RGBA8 texture whose red channel holds ``values``."""
    img = np.zeros((1, len(values), 4), np.uint8)
    img[0, :, 0] = values
    img[..., 3] = 255
    return TextureData.from_levels([img], "R8G8B8A8_UNORM")


@pytest.mark.parametrize("profile", ["ideal", "d3d11", "lavapipe", "nvidia"])
@pytest.mark.parametrize(("address", "u", "texel"), [
    ("repeat", -0.1, 3), ("repeat", 1.1, 0), ("repeat", 2.6, 2),
    ("clamp", -0.1, 0), ("clamp", 5.0, 3),
    ("mirror", -0.1, 0), ("mirror", 1.1, 3), ("mirror", 1.6, 1), ("mirror", 2.1, 0),
])
def test_nearest_texel_selection(profile, address, u, texel):
    values = [10, 20, 30, 40]
    uv = np.array([[u, 0.5]], np.float32)
    got = sample(_row(values), uv, filter="nearest", address=address, profile=profile)
    assert round(float(got[0, 0]) * 255) == values[texel]


@pytest.mark.parametrize("profile", ["ideal", "d3d11", "lavapipe"])
def test_border_colour_outside_and_texels_inside(profile):
    uv = np.array([[-0.1, 0.5], [0.6, 0.5], [1.2, 0.5]], np.float32)
    got = sample(_row([10, 20, 30, 40]), uv, filter="nearest", address="border",
                 border=(1.0, 0.5, 0.25, 1.0), profile=profile)
    assert got[0].tolist() == [1.0, 0.5, 0.25, 1.0] == got[2].tolist()
    assert round(float(got[1, 0]) * 255) == 30


def test_border_colour_is_clamped_to_the_unorm_range():
    uv = np.array([[-1.0, -1.0]], np.float32)
    got = sample(_row([10, 20]), uv, filter="linear", address="border", border=(2.0, -1.0, 0.5, 1.0),
                 profile="ideal")
    assert got[0].tolist() == [1.0, 0.0, 0.5, 1.0]

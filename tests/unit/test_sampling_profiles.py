"""The named profiles on hand-computed cases, and the bounded profile containing all the others."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ngsdk.asset.dxgi import lookup
from ngsdk.asset.texture import TextureData, full_mip_count
from ngsdk.runtime_ref.sampling import NotMeasuredError, Profile, sample
from ngsdk.runtime_ref.sampling.texture import prepare

F32 = np.float32


def _rgba8(r_rows, fmt="R8G8B8A8_UNORM") -> TextureData:
    r = np.asarray(r_rows, dtype=np.uint8)
    img = np.zeros(r.shape + (4,), np.uint8)
    img[..., 0] = r
    img[..., 3] = 255
    return TextureData.from_levels([img], fmt)


def test_bilinear_centre_of_a_2x2_texture():
    tex = _rgba8([[0, 255], [255, 255]])
    uv = np.array([[0.5, 0.5]], np.float32)
    ideal = sample(tex, uv, address="clamp", profile="ideal")[0, 0]
    assert ideal == F32(191.25 / 255)                      # (0 + 3 * 255) / 4, rounded once
    assert sample(tex, uv, address="clamp", profile="d3d11")[0, 0] == F32(191.25 / 255)
    # lavapipe: x lerps (w = 128): 0 -> 128 and 255 -> 255; y lerp of 128, 255 at w = 128:
    # 128 + ((128 * 127 + 128) >> 8) = 128 + 64 = 192
    assert sample(tex, uv, address="clamp", profile="lavapipe")[0, 0] == F32(192) * F32(1 / 255)
    # nvidia: A = B = 128, every weight 64: S = 64 * 765 = 48960, round(S * 257 / 256) = 49151
    assert sample(tex, uv, address="clamp", profile="nvidia")[0, 0] == F32(49151 / 65535)


def test_lavapipe_8_8_weight_rounding():
    tex = _rgba8([[255, 0]])
    # u * 2 * 256 - 128 = 1 -> weight 1 towards texel 1: 255 + ((1 * -255 + 128) >> 8) = 254
    u = (128 + 1) / 512
    got = sample(tex, np.array([[u, 0.5]], np.float32), address="clamp", profile="lavapipe")
    assert got[0, 0] == F32(254) * F32(1 / 255)
    # the ideal profile keeps the exact weight 1/256
    ideal = sample(tex, np.array([[u, 0.5]], np.float32), address="clamp", profile="ideal")
    assert ideal[0, 0] == F32(255 * 255 / 256 / 255)


def test_nvidia_truncates_coordinates_to_21_bits():
    tex = _rgba8([[0, 255, 0]])
    # u = 0.1686198 (bits 0x3E2CAAAB): untruncated, frac(3u - 0.5) * 256 + 0.5 = 2.0000x -> A = 2;
    # truncated to 21 fractional bits it is 1.99987 -> A = 1. B = 0, so S = A * 255 and the result is
    # round(255 * 257 / 256) / 65535 = 256 / 65535.
    u = np.array([1043114667], np.uint32).view(np.float32)[0]
    got = sample(tex, np.array([[u, 0.5]], np.float32), address="clamp", profile="nvidia")
    assert got[0, 0] == F32(256 / 65535)


def _nvidia_scalar(img: np.ndarray, u: float, v: float) -> list[float]:
    """The facts-file rule transcribed one sample at a time (clamp to edge, 8-bit UNORM)."""
    h, w, _ = img.shape

    def axis(c: float, n: int):
        q = math.floor(c * 2**21) / 2**21
        x = q * n - 0.5
        i0 = math.floor(x)
        a = math.floor((x - i0) * 256 + 0.5)
        if a == 256:
            i0, a = i0 + 1, 0
        return min(max(i0, 0), n - 1), min(max(i0 + 1, 0), n - 1), a

    x0, x1, a = axis(u, w)
    y0, y1, b = axis(v, h)
    w11 = (a * b + 128) >> 8
    out = []
    for ch in range(4):
        s = ((256 - a - b + w11) * int(img[y0, x0, ch]) + (a - w11) * int(img[y0, x1, ch])
             + (b - w11) * int(img[y1, x0, ch]) + w11 * int(img[y1, x1, ch]))
        out.append(((s * 257 + 128) >> 8) / 65535)
    return out


def test_nvidia_matches_a_scalar_transcription_of_the_measured_rule():
    rng = np.random.default_rng(7)
    img = rng.integers(0, 256, (23, 37, 4), dtype=np.uint8)
    uv = rng.uniform(-0.5, 1.5, (300, 2)).astype(np.float32)
    got = sample(TextureData.from_levels([img], "R8G8B8A8_UNORM"), uv, address="clamp", profile="nvidia")
    for k in range(len(uv)):
        want = np.array(_nvidia_scalar(img, float(uv[k, 0]), float(uv[k, 1])), dtype=np.float32)
        assert np.array_equal(got[k], want), k


def test_nvidia_refuses_unmatched_cases():
    half3d = TextureData.from_levels([np.zeros((2, 2, 2, 4), np.float16)], "R16G16B16A16_FLOAT", dimension="3d")
    with pytest.raises(NotMeasuredError, match="filtering"):
        sample(half3d, np.zeros((1, 3), np.float32), profile="nvidia")
    srgb = _rgba8([[1, 2]], "R8G8B8A8_UNORM_SRGB")
    with pytest.raises(NotMeasuredError, match="sRGB"):
        sample(srgb, np.zeros((1, 2), np.float32), profile="nvidia")
    with pytest.raises(NotMeasuredError, match="border"):
        sample(_rgba8([[1, 2]]), np.zeros((1, 2), np.float32), address="border", profile="nvidia")


def _onehot3d(z: int) -> TextureData:
    t = np.zeros((2, 2, 2, 4), np.uint8)
    for c, (y, x) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
        t[z, y, x, c] = 255
    return TextureData.from_levels([t], "R8G8B8A8_UNORM", dimension="3d")


def test_nvidia_3d_weights_match_a_sample_read_on_the_h100():
    # H100 (Vulkan, driver 580.159.04), one-hot 2x2x2 texture, A, B, C = 98, 244, 146 (1/256 texel):
    # the driver's weights were z0: 3 2 65 40, z1: 4 3 86 53 (x fastest, then y)
    uvw = np.array([[(w / 256 + 0.5) / 2 for w in (98, 244, 146)]], np.float32)
    got = np.concatenate([sample(_onehot3d(z), uvw, address="clamp", profile="nvidia")[0] for z in (0, 1)])
    weights = np.round(np.round(got.astype(np.float64) * 65535 * 256 / 257) / 255)
    assert weights.tolist() == [3, 2, 65, 40, 4, 3, 86, 53]


def test_nvidia_trilinear_weights_every_tap_in_1_256():
    # H100 (Vulkan, driver 580.159.04): mip 0 one-hot 2x2 over a black 1x1 mip 1; at these coordinates
    # (recorded by tools/gpu/capture_sampler.py) the driver read 255 * w per channel with w below:
    # every tap gets a share in 1/256 of the weight left to mip 0 (M = 249 -> 7/256), rounded per tap
    t = np.zeros((1, 2, 2, 4), np.uint8)
    for c, (y, x) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
        t[0, y, x, c] = 255
    tex = TextureData.from_levels([t, np.zeros((1, 1, 1, 4), np.uint8)], "R8G8B8A8_UNORM")
    uv = np.array([[0.35491734743118286, 0.7905182242393494], [0.9051438570022583, 0.17735318839550018],
                   [0.6527848243713379, 0.2983027696609497]], np.float32)
    lod = np.array([0.6925718188285828, 0.8661141395568848, 0.9758879542350769], np.float32)
    got = sample(tex, uv, lod=lod, filter="trilinear", address="clamp", profile="nvidia")
    weights = np.round(np.round(got.astype(np.float64) * 65535 * 256 / 257) / 255)
    assert weights.tolist() == [[0, 0, 62, 17], [0, 35, 0, 0], [1, 5, 0, 1]]
    # nearest mip: lod 0.5 rounds up to the black level
    assert sample(tex, uv, lod=np.float32(0.5), filter="linear", address="clamp", profile="nvidia").max() == 0


def test_d3d11_snaps_to_8_subtexel_bits_and_rounds_once():
    tex = _rgba8([[0, 255]])
    # u * 512 = 128.4 -> rint 128 -> weight 0: exactly texel 0; ideal gives 0.4/256 of the way
    uv = np.array([[128.4 / 512, 0.5]], np.float32)
    assert sample(tex, uv, address="clamp", profile="d3d11")[0, 0] == 0.0
    assert sample(tex, uv, address="clamp", profile="ideal")[0, 0] > 0.0
    # weight 3/256 on 255: exactly 3/256, which float32 represents
    uv = np.array([[131 / 512, 0.5]], np.float32)
    assert sample(tex, uv, address="clamp", profile="d3d11")[0, 0] == F32(3 / 256)


def test_trilinear_blend_weights():
    lvl0 = np.zeros((4, 4, 4), np.uint8)
    lvl1 = np.full((2, 2, 4), 255, np.uint8)
    lvl2 = np.full((1, 1, 4), 255, np.uint8)
    tex = TextureData.from_levels([lvl0, lvl1, lvl2], "R8G8B8A8_UNORM")
    uv = np.full((3, 2), 0.3, np.float32)
    lod = np.array([0.25, 0.999, 1.0], np.float32)
    ideal = sample(tex, uv, lod=lod, filter="trilinear", profile="ideal")[:, 0]
    assert ideal.tolist() == [0.25, F32(0.999).item(), 1.0]
    # lavapipe: weight trunc(frac * 256): 64 -> 0 + ((64 * 255 + 128) >> 8) = 64; 0.999 -> 255
    lp = sample(tex, uv, lod=lod, filter="trilinear", profile="lavapipe")[:, 0]
    assert (lp * 255).round().tolist() == [64, 254, 255]
    # d3d11: lf = rint(lod * 256): 64 -> 64/256; 0.999 * 256 = 255.74 -> 256 = level 1 exactly
    d3d = sample(tex, uv, lod=lod, filter="trilinear", profile="d3d11")[:, 0]
    assert d3d.tolist() == [0.25, 1.0, 1.0]


def test_lavapipe_mesa22_and_mesa25_differ_only_where_fract_rounds():
    # Mesa 22 wraps power-of-two repeat without fract(); Mesa >= 24 always computes fract(u) = u -
    # floor(u), which rounds for small negative u (1 + u needs more bits than float32 has). For u >= 0
    # fract is exact and both give the same bits; for u in (-0.5, 0) the float path's weights differ.
    rng = np.random.default_rng(3)
    levels = [rng.integers(0, 256, (16, 16, 4), dtype=np.uint8)]
    mesa25 = Profile.for_lavapipe(25)
    for fmt in ("R8G8B8A8_UNORM", "R8G8B8A8_UNORM_SRGB"):
        tex = prepare(TextureData.from_levels(levels, fmt))
        uv = rng.uniform(0, 50, (20000, 2)).astype(np.float32)
        for filt in ("nearest", "linear"):
            assert np.array_equal(sample(tex, uv, filter=filt, profile="lavapipe"),
                                  sample(tex, uv, filter=filt, profile=mesa25))
    # measured on both drivers (tests/conformance): this sample differs in the last bits
    tex = prepare(TextureData.from_levels(levels, "R8G8B8A8_UNORM_SRGB"))
    uv = np.array([[-0.05533025, 0.07437757]], np.float32)
    assert not np.array_equal(sample(tex, uv, profile="lavapipe"), sample(tex, uv, profile=mesa25))


FORMATS = ["R8G8B8A8_UNORM", "R8G8B8A8_UNORM_SRGB", "B8G8R8A8_UNORM", "R8G8B8A8_SNORM",
           "R16G16B16A16_UNORM", "R16G16B16A16_FLOAT", "R32G32B32A32_FLOAT", "R32_FLOAT", "R8G8_UNORM"]


def _random_texture(rng, fmt: str, shape, dimension="2d", mips=1) -> TextureData:
    f = lookup(fmt)
    levels = []
    for m in range(mips):
        sh = [max(1, s >> m) for s in shape] if dimension == "3d" else [shape[0]] + [max(1, s >> m)
                                                                                       for s in shape[1:]]
        sh = tuple(sh) + (f.channels,)
        if f.kind == "float":
            levels.append(rng.standard_normal(sh).astype(f.dtype))
        else:
            info = np.iinfo(np.dtype(f.dtype))
            levels.append(rng.integers(info.min, info.max + 1, sh).astype(f.dtype))
    return TextureData.from_levels(levels, fmt, dimension=dimension)


def _assert_inside(tex, uv, **kw):
    bounds = sample(tex, uv, profile="bounded", **kw)
    assert bounds.shape == (len(uv), 2, 4) and bounds.dtype == np.float32
    assert np.all(bounds[:, 0] <= bounds[:, 1])
    for profile in ("ideal", "d3d11", "lavapipe", "lavapipe-mesa25", "nvidia"):
        try:
            got = sample(tex, uv, profile=profile, **kw)
        except NotMeasuredError:
            continue
        outside = (got < bounds[:, 0]) | (got > bounds[:, 1])
        assert not outside.any(), (profile, kw, np.nonzero(outside.any(axis=1))[0][:5])


@pytest.mark.parametrize("fmt", FORMATS)
def test_bounded_contains_every_profile_2d(fmt):
    rng = np.random.default_rng(11)
    tex = _random_texture(rng, fmt, (1, 7, 12), mips=3)
    uv = rng.uniform(-2, 3, (3000, 2)).astype(np.float32)
    lod = rng.uniform(-0.5, 3, 3000).astype(np.float32)
    for filt in ("nearest", "linear", "trilinear"):
        for address in ("repeat", "mirror", "clamp", "border"):
            _assert_inside(tex, uv, lod=lod, filter=filt, address=address, border=(0.2, 1, 0, 0.5))
    _assert_inside(tex, uv, filter="linear", address="repeat")


def test_bounded_contains_every_profile_3d_and_arrays():
    rng = np.random.default_rng(12)
    vol = _random_texture(rng, "R8G8B8A8_UNORM", (5, 6, 4), dimension="3d", mips=2)
    uvw = rng.uniform(-1, 2, (2000, 3)).astype(np.float32)
    lod = rng.uniform(0, 1.5, 2000).astype(np.float32)
    for filt in ("nearest", "linear", "trilinear"):
        _assert_inside(vol, uvw, lod=lod, filter=filt, address="repeat")
    arr = _random_texture(rng, "R8G8B8A8_UNORM_SRGB", (3, 8, 8), mips=full_mip_count(8, 8))
    uv = rng.uniform(-1, 2, (2000, 2)).astype(np.float32)
    _assert_inside(arr, uv, lod=lod * 2, layer=2, filter="trilinear", address="mirror")


def test_bounded_is_exact_on_a_constant_texture():
    tex = _rgba8(np.full((5, 5), 77))
    uv = np.random.default_rng(1).uniform(-3, 4, (100, 2)).astype(np.float32)
    b = sample(tex, uv, filter="linear", profile="bounded")
    assert np.all(b[:, 0, 0] <= F32(77 / 255)) and np.all(b[:, 1, 0] >= F32(77 / 255))
    assert np.all(b[:, 1, 0] - b[:, 0, 0] < 1e-6)


def test_invalid_inputs_raise_clear_errors():
    tex = _rgba8([[1, 2]])
    with pytest.raises(ValueError, match="N x 2"):
        sample(tex, np.zeros((3, 3), np.float32))
    with pytest.raises(ValueError, match="finite"):
        sample(tex, np.array([[np.nan, 0]], np.float32))
    with pytest.raises(ValueError, match="unknown sampler profile"):
        sample(tex, np.zeros((1, 2), np.float32), profile="vulkan")
    with pytest.raises(ValueError, match="unknown filter"):
        sample(tex, np.zeros((1, 2), np.float32), filter="cubic")
    with pytest.raises(ValueError, match="layer"):
        sample(tex, np.zeros((1, 2), np.float32), layer=1)
    with pytest.raises(ValueError, match="one value per coordinate"):
        sample(tex, np.zeros((2, 2), np.float32), lod=np.zeros(3, np.float32))

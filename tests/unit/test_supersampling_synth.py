"""Synthesis invariants: Halton jitter, the input decimation and the ground-truth filter against a direct
full-resolution render, exact motion (zero for an unchanged view, warping the previous frame explains
the current one)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ngsdk.supersampling.jitter import halton_points, jitter_table, tile_offsets  # noqa: E402
from ngsdk.supersampling.sampling import warp_zero  # noqa: E402
from ngsdk.supersampling.synth.raycast import cast, view_at  # noqa: E402
from ngsdk.supersampling.synth.render import SynthConfig, load_bank, render_sequence  # noqa: E402
from ngsdk.supersampling.synth.scene import random_scene  # noqa: E402

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def bank(shared_data: Path):
    return load_bank([shared_data / "textures" / "metal", shared_data / "textures" / "bark"],
                     [shared_data / "images" / "kodim03.png"], CPU, 128)


def test_halton_jitter_table():
    pts = halton_points(16)
    assert np.allclose(pts[:4], [[1 / 3, 1 / 2], [2 / 3, 1 / 4], [1 / 9, 3 / 4], [4 / 9, 1 / 8]])
    table = jitter_table(8)
    assert table.shape == (16, 2) and np.all(np.abs(table) < 0.5)
    # every jitter is the centre of one of the tile's 8 x 8 capture pixels
    k = (table + 0.5) * 8 - 0.5
    assert np.allclose(k, np.round(k)) and np.array_equal(np.round(k).astype(int), tile_offsets(8))
    assert len({tuple(r) for r in table}) == 16
    assert np.allclose(jitter_table(1), pts - 0.5)


def _capture(scene, bank, f: int, w: int, h: int, prev_t: float | None = None):
    cam = scene.camera
    tan_y = math.tan(cam.fov_y / 2)
    tan_x = tan_y * w / h
    cur = view_at(scene, float(f), CPU)
    prev = view_at(scene, float(f - 1 if prev_t is None else prev_t), CPU)
    return cast(scene, bank, cur, prev, (0, h), w, h, tan_x, tan_y)


def test_decimation_and_ground_truth_filter(bank):
    """The banded renderer's outputs equal a direct capture render reduced by hand."""
    scene = random_scene(np.random.default_rng(3), 2, 1)
    cfg = SynthConfig(frames=2, target=(24, 16), capture=4, device="cpu", rays_per_band=96 * 8 * 2)
    seq = render_sequence(scene, bank, cfg, "t", CPU)
    cam = scene.camera
    for f in range(2):
        col, z, mot = (t.numpy() for t in _capture(scene, bank, f, 96, 64))
        qy, qx = tile_offsets(8)[f]
        assert np.array_equal(seq.colour[f], col[:, qy::8, qx::8])
        assert np.allclose(seq.motion_lr[f], mot[:, qy::8, qx::8] / 8, atol=1e-6)
        dev = np.where(np.isinf(z), 1.0, cam.far / (cam.far - cam.near) * (1 - cam.near / np.maximum(z, cam.near)))
        assert np.allclose(seq.depth[f, 0], dev[qy::8, qx::8], atol=1e-6)
        assert np.allclose(seq.jitter[f], jitter_table(8)[f])
        # ground truth: 4x4 box filter in Karis space, inverted to linear
        blocks = np.clip(col, 0, None).reshape(3, 16, 4, 24, 4)
        tm = blocks / (1 + blocks.max(axis=0, keepdims=True))
        mean = tm.mean(axis=(2, 4))
        gt = mean / (1 - mean.max(axis=0, keepdims=True))
        assert np.allclose(seq.ground_truth[f], gt, rtol=1e-4, atol=1e-6)
        # ground-truth motion: the nearest sample of each 4x4 block
        zb = dev.reshape(16, 4, 24, 4).transpose(0, 2, 1, 3).reshape(16, 24, 16)
        mb = mot.reshape(2, 16, 4, 24, 4).transpose(0, 1, 3, 2, 4).reshape(2, 16, 24, 16)
        pick = zb.argmin(axis=2)
        want = np.take_along_axis(mb, pick[None, :, :, None], axis=3)[..., 0] / 4
        assert np.allclose(seq.motion[f], want, atol=1e-6)


def test_motion_is_zero_for_an_unchanged_view(bank):
    scene = random_scene(np.random.default_rng(5), 2, 1)
    col, z, mot = _capture(scene, bank, 4, 48, 32, prev_t=4.0)
    assert np.isfinite(z.numpy()).any()
    assert mot.abs().max().item() < 2e-3


def test_motion_reprojects_static_geometry_exactly(bank):
    """With every body at rest, each pixel's motion is its own pixel minus where its surface point (from the
    rendered depth) projects in the previous camera, computed here independently in float64."""
    scene = random_scene(np.random.default_rng(2), 2, 1)
    for b in scene.bodies:
        b.velocity[:] = 0
        b.wobble[:] = 0
        b.spin = 0.0
    scene.camera.speed = math.radians(3.0)
    w, h = 48, 32
    col, z, mot = (t.numpy().astype(np.float64) for t in _capture(scene, bank, 5, w, h))
    cam = scene.camera
    tan_y = math.tan(cam.fov_y / 2)
    tan_x = tan_y * w / h
    rot, pos = cam.pose(5.0)
    prot, ppos = cam.pose(4.0)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    view = np.stack([((xs + 0.5) / w * 2 - 1) * tan_x, (1 - (ys + 0.5) / h * 2) * tan_y, -np.ones_like(xs)], -1)
    hit = np.isfinite(z)
    world = pos + (view * np.where(hit, z, 1.0)[..., None]) @ rot.T
    v = (world - ppos) @ prot
    depth = -v[..., 2]
    prev_x = (v[..., 0] / (depth * tan_x) + 1) * 0.5 * w - 0.5
    prev_y = (1 - v[..., 1] / (depth * tan_y)) * 0.5 * h - 0.5
    assert hit.sum() > 0.3 * hit.size
    assert np.abs(mot[0][hit] - (ys - prev_y)[hit]).max() < 2e-3
    assert np.abs(mot[1][hit] - (xs - prev_x)[hit]).max() < 2e-3
    assert np.abs(mot).max() > 1.0


def test_warping_by_motion_explains_the_next_frame(bank):
    """Backward-warping ground truth t-1 by frame t's motion matches frame t better than no warp or a
    reversed warp (the gym's dataset health check), with moving bodies and a fast camera."""
    scene = random_scene(np.random.default_rng(11), 2, 1)
    scene.camera.speed = math.radians(6.0)
    cfg = SynthConfig(frames=3, target=(64, 48), capture=2, device="cpu")
    seq = render_sequence(scene, bank, cfg, "m", CPU)
    assert np.abs(seq.motion).mean() > 1.0
    tm = lambda x: x / (1 + x)  # noqa: E731
    for t in (1, 2):
        prev = torch.from_numpy(tm(seq.ground_truth[t - 1]))[None]
        flow = torch.from_numpy(seq.motion[t])[None]
        warped = warp_zero(prev, flow)[0].numpy()
        reversed_ = warp_zero(prev, -flow)[0].numpy()
        cur = tm(seq.ground_truth[t])
        inside = (warped.sum(axis=0) > 0) & (reversed_.sum(axis=0) > 0)

        def err(a: np.ndarray, cur: np.ndarray = cur, inside: np.ndarray = inside) -> float:
            return float(np.mean((a - cur)[:, inside] ** 2))

        assert err(warped) < 0.6 * err(tm(seq.ground_truth[t - 1])), t
        assert err(warped) < 0.5 * err(reversed_), t


def test_render_is_deterministic(bank):
    cfg = SynthConfig(frames=2, target=(16, 16), device="cpu")
    a = render_sequence(random_scene(np.random.default_rng(1), 2, 1), bank, cfg, "a", CPU)
    b = render_sequence(random_scene(np.random.default_rng(1), 2, 1), bank, cfg, "a", CPU)
    for key in ("colour", "ground_truth", "depth", "motion", "motion_lr"):
        assert np.array_equal(getattr(a, key), getattr(b, key))
    assert np.all(np.isfinite(a.ground_truth)) and a.ground_truth.min() >= 0
    assert 0 <= a.depth.min() and a.depth.max() <= 1

"""The AMGSRN model pieces: transforms, sampling, density, bricks, and the trainer's exact decode against
runtime_ref's (bit for bit)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ngsdk.volumes import strict
from ngsdk.volumes.bricks import partition
from ngsdk.volumes.config import PRESETS, VolumeTrainConfig, model_bytes, parse_bricks
from ngsdk.volumes.model import (
    FastDecoder,
    VolumeModel,
    compose_transforms,
    local_points,
    quaternion_matrix,
    sample_grids,
    sample_grids_gather,
    snap_to_texel_256,
)
from tests.fixtures.decode_vectors import tiny_volume


def _identity(g: int = 1):
    return (torch.zeros(g, 3), torch.tensor([[1.0, 0, 0, 0]] * g), torch.zeros(g, 3), torch.zeros(g, 3))


# --------------------------------------------------------------------------- transforms


def test_identity_parameters_give_identity_transform():
    t = compose_transforms(*_identity(3))
    assert t.shape == (3, 3, 4)
    expect = torch.cat([torch.eye(3), torch.zeros(3, 1)], dim=1)
    for g in range(3):
        assert torch.equal(t[g], expect)


def test_transform_composition_matches_hand_matrices():
    log_scale = torch.log(torch.tensor([[2.0, 0.5, 1.5]]))
    angle = math.pi / 2  # 90 degrees about z: x -> y, y -> -x
    rotation = torch.tensor([[math.cos(angle / 2), 0.0, 0.0, math.sin(angle / 2)]])
    shear = torch.tensor([[0.1, -0.2, 0.3]])
    translation = torch.tensor([[0.25, -0.5, 0.125]])
    t = compose_transforms(log_scale, rotation, shear, translation)[0].double()
    rot = torch.tensor([[0.0, -1, 0], [1, 0, 0], [0, 0, 1]], dtype=torch.float64)
    upper = torch.tensor([[1, 0.1, -0.2], [0, 1, 0.3], [0, 0, 1]], dtype=torch.float64)
    a = torch.diag(torch.tensor([2.0, 0.5, 1.5], dtype=torch.float64)) @ upper @ rot
    assert torch.allclose(t[:, :3], a, atol=1e-6)
    assert torch.allclose(t[:, 3], translation[0].double())
    # |det| is the product of the scales: shear and rotation keep volume
    assert float(torch.linalg.det(t[:, :3]).abs()) == pytest.approx(1.5, rel=1e-6)
    # q = A p + t for a point
    p = torch.tensor([[0.3, -0.7, 0.2]])
    q = local_points(t[None].float(), p)[0, 0].double()
    assert torch.allclose(q, a @ p[0].double() + translation[0].double(), atol=1e-6)


def test_quaternions_are_normalized_rotations():
    q = torch.randn(20, 4, generator=torch.Generator().manual_seed(0)) * 3
    r = quaternion_matrix(q)
    eye = torch.eye(3).expand(20, 3, 3)
    assert torch.allclose(r @ r.transpose(1, 2), eye, atol=1e-5)
    assert torch.allclose(torch.linalg.det(r), torch.ones(20), atol=1e-5)


# --------------------------------------------------------------------------- sampling


def _hand_trilinear(grid: np.ndarray, q: np.ndarray) -> np.ndarray:
    """grid (F, Rz, Ry, Rx), q (N, 3) x, y, z in the corner-aligned cube: float64, zeros outside."""
    f, rz, ry, rx = grid.shape
    out = np.zeros((q.shape[0], f))
    for n, (x, y, z) in enumerate(q):
        u = [(x + 1) / 2 * (rx - 1), (y + 1) / 2 * (ry - 1), (z + 1) / 2 * (rz - 1)]
        i0 = [math.floor(c) for c in u]
        for dz in (0, 1):
            for dy in (0, 1):
                for dx in (0, 1):
                    ix, iy, iz = i0[0] + dx, i0[1] + dy, i0[2] + dz
                    if not (0 <= ix < rx and 0 <= iy < ry and 0 <= iz < rz):
                        continue
                    w = ((u[0] - i0[0]) if dx else (1 - u[0] + i0[0])) * ((u[1] - i0[1]) if dy else
                                                                         (1 - u[1] + i0[1]))
                    w *= (u[2] - i0[2]) if dz else (1 - u[2] + i0[2])
                    out[n] += w * grid[:, iz, iy, ix]
    return out


def test_grid_sample_equals_hand_trilinear_at_known_points():
    rng = np.random.default_rng(1)
    grids = rng.normal(size=(2, 3, 4, 5, 6))  # G=2, F=3, Rz=4, Ry=5, Rx=6
    # nodes, cell centres, faces, outside (partial and full zero padding)
    q = np.array([[-1, -1, -1], [1, 1, 1], [0, 0, 0], [0.2, -0.6, 0.9], [1.1, 0.0, 0.0], [-1.3, 0.5, -0.2],
                  [2.5, 2.5, 2.5], [0.4, 1.0, -1.0]], dtype=np.float64)
    qg = np.stack([q, q[::-1] * 0.9])
    feats = torch.from_numpy(grids)
    got = sample_grids(feats, torch.from_numpy(qg)).numpy()
    got_gather = sample_grids_gather(feats, torch.from_numpy(qg)).numpy()
    for g in range(2):
        expect = _hand_trilinear(grids[g], qg[g])
        assert np.allclose(got[:, 3 * g:3 * g + 3], expect, atol=1e-12)
        assert np.allclose(got_gather[:, 3 * g:3 * g + 3], expect, atol=1e-12)
    assert np.array_equal(got[6, :3], np.zeros(3))  # far outside: every tap dropped
    # a node holds the node value exactly
    assert np.allclose(got[0, :3], grids[0][:, 0, 0, 0]) and np.allclose(got[1, :3], grids[0][:, -1, -1, -1])


def test_gather_sampling_gradients_match_grid_sample():
    gen = torch.Generator().manual_seed(2)
    f = torch.randn(3, 2, 5, 6, 7, dtype=torch.float64, generator=gen, requires_grad=True)
    q = (torch.rand(3, 200, 3, dtype=torch.float64, generator=gen) * 2.4 - 1.2).requires_grad_(True)
    a, b = sample_grids(f, q), sample_grids_gather(f, q)
    ga = torch.autograd.grad((a**2).sum(), [f, q])
    gb = torch.autograd.grad((b**2).sum(), [f, q])
    for x, y in zip(ga, gb):
        assert torch.allclose(x, y, atol=1e-9)


def test_snapped_sampling_uses_the_exact_decode_weights():
    """Float sampling at snapped positions equals the exact decode's 1/256 weights (float16 grid, F=1)."""
    rng = np.random.default_rng(3)
    vals = rng.normal(size=(5, 6, 7, 1)).astype(np.float16)
    t = np.eye(3, 4, dtype=np.float32)
    p = torch.from_numpy(rng.uniform(-1, 1, (500, 3)).astype(np.float32))
    from ngsdk.asset.neural_volume import VolumeGrid

    gs = strict.GridSet([VolumeGrid("grid00", t, "float16", vals)], "cpu")
    exact = gs.exact(p)
    grid = torch.from_numpy(vals.astype(np.float32).transpose(3, 0, 1, 2))[None]
    q = snap_to_texel_256(local_points(torch.from_numpy(t)[None], p), torch.tensor([7.0, 6.0, 5.0]))
    snapped = sample_grids(grid.double(), q.double()).float()
    plain = sample_grids(grid, local_points(torch.from_numpy(t)[None], p))
    assert (snapped - exact).abs().max() < 1e-5
    assert (plain - exact).abs().max() > 10 * (snapped - exact).abs().max()


# --------------------------------------------------------------------------- density


def test_density_is_det_inside_each_grid():
    cfg = VolumeTrainConfig(grids=2, grid_res=4, features=1, steps=1)
    model = VolumeModel(cfg)
    with torch.no_grad():
        model.log_scale.copy_(torch.log(torch.tensor([[2.0, 2.0, 2.0], [1.0, 1.0, 1.0]])))
        model.rotation.copy_(torch.tensor([[1.0, 0, 0, 0]] * 2))
        model.shear.zero_()
        model.translation.copy_(torch.tensor([[-1.0, -1.0, -1.0], [0.0, 0.0, 0.0]]))
    # grid 0 (det 8) covers [0, 1]^3 of the volume; grid 1 (det 1) all of it
    p = torch.tensor([[0.5, 0.5, 0.5], [-0.5, 0.5, 0.5], [0.9, 0.1, 0.2], [-0.9, -0.9, -0.9]])
    assert torch.allclose(model.density(p), torch.tensor([9.0, 1.0, 9.0, 1.0]), atol=1e-5)
    soft = model.density(p, sharpness=200.0)
    assert torch.allclose(soft, torch.tensor([9.0, 1.0, 9.0, 1.0]), atol=0.05)
    # the smooth box gives the transforms a gradient (the hard indicator cannot move positions)
    model.density(torch.tensor([[0.01, 0.5, 0.5]]), sharpness=20.0).sum().backward()
    assert model.translation.grad is not None and model.translation.grad[0].abs().sum() > 0


def test_freeze_keeps_the_exported_matrices():
    model = VolumeModel(VolumeTrainConfig(grids=3, grid_res=4, features=2, steps=1), seed=5)
    before = model.transforms().detach().clone()
    model.freeze_transforms()
    assert model.frozen and torch.equal(model.transforms(), before)
    assert not any(p.requires_grad for p in model.transform_parameters())


def test_unorm8_quantization_roundtrip():
    model = VolumeModel(VolumeTrainConfig(grids=2, grid_res=4, features=3, steps=1), seed=1)
    model.set_quantization()
    codes = model.codes()
    assert codes.min() >= 0 and codes.max() <= 255
    deq = codes * model.q_scale[:, None, None, None, None] + model.q_offset[:, None, None, None, None]
    step = model.q_scale.max().item()
    assert (deq - model.features).abs().max().item() <= 0.5 * step + 1e-7
    f = model.stored_features()
    assert torch.equal(f, deq.to(f.dtype))


# --------------------------------------------------------------------------- config and bricks


def test_presets_and_brick_parsing():
    assert PRESETS["tiny"] == (16, 16, 1) and PRESETS["huge"] == (16, 64, 4)
    assert parse_bricks("2x2x2") == (2, 2, 2) and parse_bricks("3") == (3, 3, 3) and parse_bricks("1x2x3") == (1, 2, 3)
    for bad in ("2x2", "0x1x1", "axb"):
        with pytest.raises(ValueError):
            parse_bricks(bad)
    cfg = VolumeTrainConfig(steps=1).apply_preset("tiny")
    assert model_bytes(cfg) == 16 * 16**3 * 4 + 4 * (16 * 64 + 64 + 64 * 64 + 64 + 64 + 1)
    with pytest.raises(ValueError, match="features"):
        VolumeTrainConfig(steps=1, features=5).check()
    with pytest.raises(ValueError, match="steps"):
        VolumeTrainConfig().check()
    assert VolumeTrainConfig.from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize("shape,counts,ghost", [((68, 68, 68), (2, 2, 2), 16), ((93, 64, 64), (3, 3, 3), 16),
                                                ((24, 170, 180), (1, 2, 3), 5), ((10, 11, 12), (2, 3, 4), 0)])
def test_bricks_partition_covers_the_volume_once(shape, counts, ghost):
    parts = partition(shape, counts, ghost)
    assert len(parts) == counts[0] * counts[1] * counts[2]
    owner = np.zeros(shape, dtype=np.int32)
    for core, fit in parts:
        z0, z1, y0, y1, x0, x1 = core
        owner[z0:z1, y0:y1, x0:x1] += 1
        for a in range(3):
            n = shape[a]
            assert fit[2 * a] == max(0, core[2 * a] - ghost)  # ghost cells, clipped to the volume
            assert fit[2 * a + 1] == min(n, core[2 * a + 1] + ghost)
            assert 0 <= fit[2 * a] <= core[2 * a] < core[2 * a + 1] <= fit[2 * a + 1] <= n
    assert (owner == 1).all()
    # z-major order: the first brick starts at the origin, the last ends at the far corner
    assert parts[0][0][::2] == (0, 0, 0) and parts[-1][0][1::2] == shape


def test_partition_refuses_bricks_under_two_voxels():
    with pytest.raises(ValueError, match="2 voxels"):
        partition((4, 64, 64), (3, 1, 1), 2)


# --------------------------------------------------------------------------- exact decode vs runtime_ref


def test_strict_decode_equals_runtime_ref_bit_for_bit():
    """Two bricks, unorm8 and float16 grids of mixed shapes: the spec's test-vector asset."""
    from ngsdk.runtime_ref import neural_volume as nv

    asset = tiny_volume()
    mine, ref = strict.reconstruct(asset), nv.reconstruct(asset)
    assert mine.dtype == np.float32 and mine.view(np.uint32).tobytes() == ref.view(np.uint32).tobytes()
    from ngsdk.asset.digest import decode_hash

    assert decode_hash(mine) == "912a4e062c5bdac362c78fed79559c0cda9c9185dd927480d271f41da8072ebc"
    rng = np.random.default_rng(4)
    p = (rng.random((4000, 3)) * 2.8 - 1.4).astype(np.float32)
    p[:8] = [[0.25, 0.1, -0.7], [1.4, -2.0, 0.05], [np.nan, 0, 0], [1, 1, 1], [-1, -1, -1], [0, 0, 0],
             [1e30, -1e30, 0], [0.2500000298023224, 0.1, -0.7]]
    got = strict.decode_points(asset, torch.from_numpy(p)).numpy()
    assert got.view(np.uint32).tobytes() == nv.decode_points(asset, p).view(np.uint32).tobytes()
    assert np.allclose(strict.decode_points(asset, torch.from_numpy(p), "float").numpy(),
                       nv.decode_points(asset, p, "float"), atol=1e-5)


def test_fast_decoder_matches_float_decode():
    from ngsdk.asset.neural_volume import Normalization
    from ngsdk.volumes.assemble import make_asset
    from ngsdk.volumes.fit import model_brick

    class _Data:
        name, source = "synthetic", "synthetic"
        values = np.zeros((9, 10, 11), np.float32)
        normalization = Normalization(0.0, 1.0, "float32")

    cfg = VolumeTrainConfig(grids=3, grid_res=5, features=2, steps=1)
    bricks = []
    for i, (core, fit) in enumerate(partition((9, 10, 11), (1, 2, 1), 2)):
        m = VolumeModel(cfg, seed=i)
        with torch.no_grad():
            m.features.normal_(generator=torch.Generator().manual_seed(i))
        m.freeze_transforms()
        m.set_quantization()
        bricks.append(model_brick(m, f"brick{i:03d}", core, fit))
    asset = make_asset(_Data(), cfg, bricks)
    p = torch.rand(3000, 3, generator=torch.Generator().manual_seed(0)) * 2.2 - 1.1
    fast = FastDecoder(asset, "cpu", torch.float32)(p)
    assert (fast - strict.decode_points(asset, p, "float")).abs().max() < 1e-5

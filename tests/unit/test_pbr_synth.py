"""PBR reconstruction data: renderer, materials, augmentation, dirt, the NeuroPBR layout and its reader."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ngsdk.asset.errors import AssetError  # noqa: E402
from ngsdk.pbr.layout import read_layout, read_views  # noqa: E402
from ngsdk.pbr.maps import MaterialMaps, read_maps  # noqa: E402
from ngsdk.pbr.materials import (  # noqa: E402
    augment,
    flip_x,
    flip_y,
    load_material_source,
    relief_jitter,
    rotate90,
)
from ngsdk.pbr.noise import fbm, height_to_normal  # noqa: E402
from ngsdk.pbr.procedural import KINDS, procedural_material  # noqa: E402
from ngsdk.pbr.render import render_plane, sample_cameras, sample_lighting, tonemap  # noqa: E402
from ngsdk.pbr.synth import SynthConfig, render_sample, synth_pbr_views  # noqa: E402


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _height_material(h: torch.Tensor) -> torch.Tensor:
    m = torch.zeros(8, *h.shape)
    m[0:3] = 0.5
    m[3] = 0.5
    m[5:8] = height_to_normal(h, 4.0)
    return m


@pytest.mark.parametrize("op", ["flip_x", "flip_y", "rot1", "rot2", "rot3"])
def test_geometric_augmentation_moves_normals_with_the_surface(op):
    # the transformed normal map must equal the normal map of the transformed height field
    h = fbm(64, _gen(), beta=3.0)
    transforms = {"flip_x": (flip_x, lambda x: x.flip(-1)), "flip_y": (flip_y, lambda x: x.flip(-2)),
                  "rot1": (lambda m: rotate90(m, 1), lambda x: torch.rot90(x, 1, (-2, -1))),
                  "rot2": (lambda m: rotate90(m, 2), lambda x: torch.rot90(x, 2, (-2, -1))),
                  "rot3": (lambda m: rotate90(m, 3), lambda x: torch.rot90(x, 3, (-2, -1)))}
    on_maps, on_height = transforms[op]
    got = on_maps(_height_material(h))[5:8]
    want = height_to_normal(on_height(h), 4.0)
    assert torch.allclose(got, want, atol=1e-5)


def test_height_to_normal_follows_the_opengl_convention():
    # height rising towards the top of the image tilts the normal towards the bottom: n_y < 0 in OpenGL
    rows = torch.arange(32, dtype=torch.float32)
    h = (-rows)[:, None].expand(32, 32).clone()  # higher at row 0 (the top)
    n = height_to_normal(h, 0.5)[:, 4:28, :]  # away from the periodic wrap
    assert (n[1] < -0.1).all() and n[0].abs().max() < 1e-6


@pytest.mark.parametrize("kind", KINDS)
def test_procedural_materials_are_valid_and_tile(kind):
    m = procedural_material(kind, 64, _gen(3))
    assert m.shape == (8, 64, 64) and torch.isfinite(m).all()
    assert m[:5].min() >= 0 and m[:5].max() <= 1
    assert torch.allclose(m[5:8].norm(dim=0), torch.ones(64, 64), atol=1e-5)
    # tileable: the step across each wrap-around seam is no larger than the largest step between two
    # neighbouring columns (rows) inside (a cut texture jumps there)
    for dim in (1, 2):
        other = 3 - dim
        inner = (m.narrow(dim, 1, 63) - m.narrow(dim, 0, 63)).abs().mean(dim=(0, other)).max()
        seam = (m.narrow(dim, 0, 1) - m.narrow(dim, 63, 1)).abs().mean()
        assert seam <= 1.05 * inner + 1e-6


def test_cameras_lie_on_the_hemisphere_and_look_down():
    cams = sample_cameras(64, _gen())
    assert torch.allclose(cams.position.norm(dim=1), torch.full((64,), 0.6), atol=1e-5)
    tilt = torch.rad2deg(torch.acos(cams.position[:, 1] / 0.6))
    assert tilt.max() <= 40.0 + 1e-3
    frame = torch.stack([cams.right, cams.up, cams.forward], 1)
    assert torch.allclose(frame @ frame.transpose(1, 2), torch.eye(3).expand(64, 3, 3), atol=1e-5)
    assert (cams.forward[:, 1] < 0).all()


def _axis_correlations(mode: str, n_cams: int = 8) -> np.ndarray:
    """Per camera: corr(red/blue, column) and corr(green/blue, row) over the central 40 % of the view of a
    material whose albedo red rises with u and green with v (blue constant: the ratios cancel the lighting)."""
    n = 64
    ramp = (torch.arange(n, dtype=torch.float32) + 0.5) / n
    mat = torch.zeros(8, n, n)
    mat[0], mat[1], mat[2] = ramp[None, :].expand(n, n), ramp[:, None].expand(n, n), 0.5
    mat[3], mat[7] = 1.0, 1.0  # rough, flat dielectric
    cams, light = sample_cameras(n_cams, _gen(4), mode=mode), sample_lighting(_gen(6))
    views = render_plane(mat, cams, light, 60, supersample=1)
    img = views.sun + views.sky
    c = img[:, 18:42, 18:42].numpy().astype(np.float64)
    rows, cols = np.meshgrid(np.arange(24), np.arange(24), indexing="ij")
    out = []
    for v in c:
        out.append([np.corrcoef((v[..., 0] / v[..., 2]).ravel(), cols.ravel())[0, 1],
                    np.corrcoef((v[..., 1] / v[..., 2]).ravel(), rows.ravel())[0, 1]])
    return np.array(out)


def test_aligned_cameras_show_the_material_upright_around_its_tile_centre():
    # aligned: u grows to the right and v downwards in every view, as in the maps, and the centre of the view
    # is inside one tile (no wrap in the central region); free (NeuroPBR's roll): the orientation is random
    aligned = _axis_correlations("aligned")
    assert aligned.min() > 0.9, aligned
    cams = sample_cameras(64, _gen(), mode="aligned")
    centre = torch.tensor([0.25, 0.0, 0.25])
    assert torch.allclose((cams.position - centre).norm(dim=1), torch.full((64,), 0.6), atol=1e-5)
    free = _axis_correlations("free")
    assert free.min() < 0.5, free
    with pytest.raises(ValueError, match="camera mode"):
        sample_cameras(1, _gen(), mode="rolled")


def test_ggx_render_is_physical():
    mat = torch.zeros(8, 32, 32)
    mat[0:3], mat[3], mat[7] = 0.8, 0.6, 1.0  # flat, light grey, rough dielectric
    cams, light = sample_cameras(3, _gen(1)), sample_lighting(_gen(2))
    views = render_plane(mat, cams, light, 48, supersample=1)
    for part in (views.sun, views.sky):
        assert torch.isfinite(part).all() and (part >= 0).all()
    # a flat Lambert-like surface under one sun: nearly uniform radiance, brighter with a brighter albedo
    darker = mat.clone()
    darker[0:3] = 0.2
    dark = render_plane(darker, cams, light, 48, supersample=1)
    on = views.on_plane[..., 0] > 0.5
    assert (views.sun + views.sky)[on].mean() > 2 * (dark.sun + dark.sky)[on].mean()
    img = tonemap(views.sun + views.sky, 0.18)
    assert img.min() >= 0 and img.max() <= 1


def test_render_sample_is_deterministic_and_dirty_differs():
    mat = procedural_material("cells", 64, _gen(5))
    a_clean, a_dirty = render_sample(mat, 64, _gen(9), dirty=True)
    b_clean, b_dirty = render_sample(mat, 64, _gen(9), dirty=True)
    assert a_clean.shape == (3, 64, 64, 3) and a_clean.dtype == np.uint8
    assert np.array_equal(a_clean, b_clean) and np.array_equal(a_dirty, b_dirty)
    assert np.abs(a_clean.astype(int) - a_dirty.astype(int)).mean() > 1.0
    assert a_clean.std() > 2.0  # not a blank frame


def test_real_material_source_and_augmentation(shared_data):
    src = load_material_source(shared_data / "textures" / "fabric_pattern_07_1k")
    assert src.maps.shape[0] == 8 and len(src.sources) == 3
    assert 0 < src.maps[4].mean() < 1 or src.maps[4].max() == 0  # metallic from the packed arm map
    out = augment(src.maps, 96, _gen(4))
    assert out.shape == (8, 96, 96) and out[:5].min() >= 0 and out[:5].max() <= 1
    assert torch.allclose(out[5:8].norm(dim=0), torch.ones(96, 96), atol=1e-4)


def test_relief_jitter_scales_the_slope_and_keeps_unit_normals():
    m = _height_material(fbm(64, _gen(), beta=3.0))
    slope = (m[5:7].norm(dim=0) / m[7]).mean()
    for lo, hi in ((2.0, 2.0), (0.5, 0.5)):  # a fixed factor: tangent slope x, y / z scales by exactly it
        out = relief_jitter(m, _gen(1), lo, hi)
        assert torch.allclose(out[5:8].norm(dim=0), torch.ones(64, 64), atol=1e-5)
        assert torch.allclose((out[5:7].norm(dim=0) / out[7]).mean(), slope * lo, rtol=1e-4)
        assert torch.equal(out[:5], m[:5])
    assert relief_jitter(m, _gen(1), 1.0, 1.0) is m
    outs = [relief_jitter(m, _gen(s), 0.7, 4.0) for s in range(20)]
    got = [float((o[5:7].norm(dim=0) / o[7]).mean() / slope) for o in outs]
    assert min(got) >= 0.7 - 1e-3 and max(got) <= 4.0 + 1e-3 and max(got) / min(got) > 2


@pytest.mark.parametrize("bad", [dict(hue=0.6), dict(hue=-0.1), dict(relief=(2.0, 1.0)), dict(relief=(0.0, 1.0))])
def test_synth_config_refuses_bad_jitter(bad):
    with pytest.raises(ValueError, match="hue|relief"):
        SynthConfig(**bad).check()


@pytest.fixture(scope="module")
def synth_folder(tmp_path_factory, shared_data):
    textures = shared_data / "textures"
    out = tmp_path_factory.mktemp("pbr") / "data"
    materials = [textures / n for n in ("ground068_1k", "metal", "rock")]
    report = synth_pbr_views(materials, out, SynthConfig(samples=6, res=64, seed=7, procedural=0.5, dirty=0.5,
                                                         test_samples=2))
    return out, report


def test_synth_writes_the_neuropbr_layout(synth_folder):
    out, report = synth_folder
    assert report.holdout == "rock" and report.train_samples == 6 and report.test_samples == 2
    layout = read_layout(out)
    assert len(layout.samples) == 6 and layout.count("clean") == 6 and layout.count("dirty") == report.dirty_samples
    assert all(not s.material.startswith("rock") for s in layout.samples)  # the held-out set stays out
    test = read_layout(out / "test")
    assert all(s.material.startswith("rock_") and set(s.views) == {"clean", "dirty"} for s in test.samples)
    views = read_views(layout.samples[0].views["clean"])
    assert views.shape == (3, 64, 64, 3)
    maps = read_maps(layout.material_dir(layout.samples[0].material))
    assert maps.size == (64, 64)
    assert np.allclose(np.linalg.norm(maps.normal, axis=-1), 1.0, atol=1e-5)
    record = json.loads((out / "synth.json").read_text())
    assert record["report"]["holdout"] == "rock" and "ground068_1k" in record["sources"]


def test_synth_is_reproducible(synth_folder, tmp_path, shared_data):
    out, _ = synth_folder
    again = tmp_path / "again"
    materials = [shared_data / "textures" / n for n in ("ground068_1k", "metal", "rock")]
    synth_pbr_views(materials, again, SynthConfig(samples=6, res=64, seed=7, procedural=0.5, dirty=0.5,
                                                  test_samples=2))
    files = sorted(p.relative_to(out) for p in out.rglob("*.png"))
    assert files == sorted(p.relative_to(again) for p in again.rglob("*.png"))
    assert all((out / f).read_bytes() == (again / f).read_bytes() for f in files)


def test_an_interrupted_synthesis_resumes_to_the_same_bytes(synth_folder, tmp_path, shared_data, monkeypatch):
    """A run stopped part-way (a GPU call's time limit) goes on from the journal: the samples already on disk are
    not rendered again and the folder ends byte-identical to an uninterrupted run."""
    import ngsdk.pbr.synth as synth

    out, _ = synth_folder
    materials = [shared_data / "textures" / n for n in ("ground068_1k", "metal", "rock")]
    cfg = SynthConfig(samples=6, res=64, seed=7, procedural=0.5, dirty=0.5, test_samples=2)
    monkeypatch.setattr(synth, "JOURNAL_EVERY", 2)

    class Stop(Exception):
        pass

    def stop_after_five(done: int, total: int) -> None:
        if done == 5:
            raise Stop

    again = tmp_path / "again"
    with pytest.raises(Stop):
        synth_pbr_views(materials, again, cfg, progress=stop_after_five)
    assert (again / synth.PROGRESS_FILE).is_file() and not (again / "synth.json").exists()
    rendered = []
    real_render = synth.render_sample
    monkeypatch.setattr(synth, "render_sample", lambda *a, **k: rendered.append(1) or real_render(*a, **k))
    report = synth_pbr_views(materials, again, cfg)
    assert len(rendered) == 4  # samples 4..7 of 8: the journal recorded 4 complete ones
    assert not (again / synth.PROGRESS_FILE).exists()
    assert report.dirty_samples == json.loads((out / "synth.json").read_text())["report"]["dirty_samples"]
    files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file() and p.name != "synth.json")
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file() and p.name != "synth.json")
    assert all((out / f).read_bytes() == (again / f).read_bytes() for f in files)


def test_a_journal_of_other_settings_is_ignored(tmp_path, shared_data, monkeypatch):
    import ngsdk.pbr.synth as synth

    out = tmp_path / "data"
    out.mkdir()
    (out / synth.PROGRESS_FILE).write_text(json.dumps({"settings": {"config": {"samples": 99}}, "dirty_count": 0,
                                                       "metas": [{"sample_0000": "x_0000"}, {}]}))
    report = synth_pbr_views([shared_data / "textures" / "metal"], out, SynthConfig(samples=2, res=32, seed=0))
    assert report.train_samples == 2 and len(read_layout(out).samples) == 2
    assert "x_0000" not in (out / "input" / "render_metadata.json").read_text()


def test_a_failed_write_stops_the_synthesis_before_the_metadata(tmp_path, shared_data):
    """PNGs are written by a thread pool: a write error still reaches the caller, and no metadata names
    samples that are not on disk."""
    out = tmp_path / "data"
    (out / "input").mkdir(parents=True)
    (out / "input" / "clean").write_text("a file where the views' folder belongs")
    with pytest.raises(OSError):
        synth_pbr_views([shared_data / "textures" / "metal"], out, SynthConfig(samples=2, res=32, seed=0))
    assert not (out / "input" / "render_metadata.json").exists() and not (out / "synth.json").exists()


def test_layout_reader_errors_name_the_file(synth_folder, tmp_path):
    with pytest.raises(AssetError, match="PBR data folder does not exist"):
        read_layout(tmp_path / "nothing")
    bad = tmp_path / "bad"
    (bad / "input" / "clean" / "sample_0000").mkdir(parents=True)
    with pytest.raises(AssetError, match=r"render_metadata.json: missing"):
        read_layout(bad)
    (bad / "input" / "render_metadata.json").write_text("{}")
    with pytest.raises(AssetError, match=r"render_metadata.json: does not list sample_0000"):
        read_layout(bad)
    (bad / "input" / "render_metadata.json").write_text('{"sample_0000": "m"}')
    with pytest.raises(AssetError, match=r"sample_0000: sample has no view 0"):
        read_layout(bad)


def test_material_maps_round_trip_through_png(tmp_path):
    rng = np.random.default_rng(0)
    n = rng.normal(size=(16, 16, 3)).astype(np.float32)
    n[..., 2] = np.abs(n[..., 2]) + 0.5
    maps = MaterialMaps(rng.random((16, 16, 3)), rng.random((16, 16)), rng.random((16, 16)), n)
    maps.write(tmp_path)
    back = read_maps(tmp_path)
    assert np.abs(back.albedo - maps.albedo).max() < 0.6 / 255 + 1e-4
    assert np.abs(back.roughness - maps.roughness).max() < 0.6 / 255 + 1e-4
    cos = (back.normal * (n / np.linalg.norm(n, axis=-1, keepdims=True))).sum(-1)
    assert np.degrees(np.arccos(np.clip(cos, -1, 1))).max() < 1.0
    assert math.isclose(float(np.linalg.norm(back.normal, axis=-1).mean()), 1.0, abs_tol=1e-5)

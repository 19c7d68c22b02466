"""PBR reconstruction at the CI scale of issue 16, on the shared material sets: synthesise 12 samples at 128^2,
train the tiny teacher 10 steps with the GAN, store its outputs, distil the tiny student 10 steps, infer maps
that the texture ingest reads. Also determinism, resume and the model file."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ngsdk.pbr.config import PBRTrainConfig  # noqa: E402
from ngsdk.pbr.data import PBRData  # noqa: E402
from ngsdk.pbr.infer import infer_pbr  # noqa: E402
from ngsdk.pbr.layout import read_layout, read_views  # noqa: E402
from ngsdk.pbr.maps import read_maps  # noqa: E402
from ngsdk.pbr.metrics import map_metrics, naive_baseline  # noqa: E402
from ngsdk.pbr.shards import TeacherShards, write_teacher_shards  # noqa: E402
from ngsdk.pbr.synth import SynthConfig, synth_pbr_views  # noqa: E402
from ngsdk.pbr.train import train_pbr  # noqa: E402
from ngsdk.pbr.weights import load_model, save_model, state_arrays  # noqa: E402
from ngsdk.textures.ingest import load_texture_set  # noqa: E402


@pytest.fixture(scope="module")
def data(tmp_path_factory, shared_data):
    materials = sorted(p for p in (shared_data / "textures").iterdir() if p.is_dir())
    out = tmp_path_factory.mktemp("pbr_ci") / "data"
    report = synth_pbr_views(materials, out, SynthConfig(samples=12, res=128, seed=0))
    assert report.train_samples == 12 and report.holdout == "rock"
    return out


@pytest.fixture(scope="module")
def teacher(data, tmp_path_factory):
    previews = tmp_path_factory.mktemp("previews")
    seen = []
    cfg = PBRTrainConfig(preset="tiny", steps=10, eval_every=5, device="cpu", previews=str(previews))
    result = train_pbr(data, cfg, "teacher", progress=seen.append)
    return result, seen, previews


def test_tiny_teacher_trains_with_the_gan(teacher):
    result, seen, previews = teacher
    assert result.steps == 10 and [p.step for p in seen] == [5, 10]
    assert seen[-1].phase == "gan" and np.isfinite(seen[-1].psnr)
    assert all(np.isfinite(v) for v in result.metrics.values())
    assert (previews / "teacher_final.png").is_file()


def test_student_distils_from_stored_teacher_outputs(data, teacher, tmp_path):
    result, _, _ = teacher
    spec = PBRTrainConfig(preset="tiny").spec("student")
    pbr = PBRData(data, curriculum=1, input_size=128, output_size=spec.output_size())
    shards = write_teacher_shards(result.model, pbr, tmp_path / "shards", size=spec.output_size())
    stored = TeacherShards(shards)
    first = pbr.train[0]
    m = stored.read(first.source, pbr.name(first))
    assert m.shape == (8, 256, 256)
    assert torch.allclose(m[5:8].norm(dim=0), torch.ones(256, 256), atol=5e-3)  # fp16 unit normals
    student = train_pbr(data, PBRTrainConfig(preset="tiny", steps=10, eval_every=0, device="cpu"), "student",
                        teacher=shards)
    assert student.steps == 10 and student.model.spec.output_size() == 256
    assert student.teacher is not None and student.teacher["spec"]["role"] == "teacher"
    assert all(np.isfinite(v) for v in student.metrics.values())

    # inference on a held-out capture: maps the texture ingest reads as they are meant
    test = read_layout(data / "test")
    sample = test.samples[0]
    out = tmp_path / "material"
    maps = infer_pbr(student.model, *sample.views["dirty"], out=out)
    assert maps.size == (256, 256)
    ts = load_texture_set(out)
    assert ts.channel_names == ["albedo.r", "albedo.g", "albedo.b", "normal.x", "normal.y", "normal.z",
                                "roughness", "metallic"]
    assert [c.colour_space for c in ts.channels[:3]] == ["srgb"] * 3
    assert all(c.normal_convention in (None, "gl") for c in ts.channels if c.semantic == "normal")
    assert np.abs(ts.source_values()[..., :3] - maps.albedo).max() < 1 / 255 + 1e-4
    # the report phase 2's verify will write: metrics against ground truth beside the naive baseline
    truth = read_maps(test.material_dir(sample.material))
    views = read_views(sample.views["dirty"])
    got = map_metrics(maps, truth if truth.size == maps.size else _resized(truth, maps.size))
    base = map_metrics(naive_baseline(views, maps.size), _resized(truth, maps.size))
    assert set(got) == set(base) and all(np.isfinite(v) for v in got.values())


def _resized(maps, size):
    from ngsdk.pbr.materials import maps_to_tensor, resize_material, tensor_to_maps

    return tensor_to_maps(resize_material(maps_to_tensor(maps), size[0]))


def test_same_seed_and_steps_give_the_same_weights_and_resume_continues(data, tmp_path):
    cfg = dict(preset="tiny", steps=4, eval_every=0, device="cpu", gan_start=0.0)
    a = train_pbr(data, PBRTrainConfig(**cfg), "teacher")
    b = train_pbr(data, PBRTrainConfig(**cfg), "teacher")
    sa, sb = state_arrays(a.model), state_arrays(b.model)
    assert all(np.array_equal(sa[k], sb[k]) for k in sa)
    # a run resumed from its step-2 checkpoint ends where the straight run ends
    ck = tmp_path / "ck_{step:04d}.npz"
    c = train_pbr(data, PBRTrainConfig(**cfg, checkpoint=str(ck), checkpoint_every=2), "teacher")
    assert (tmp_path / "ck_0002.npz").is_file() and (tmp_path / "ck_0004.npz").is_file()
    resumed = train_pbr(data, PBRTrainConfig(**cfg, resume=str(tmp_path / "ck_0002.npz")), "teacher")
    sr, sc = state_arrays(resumed.model), state_arrays(c.model)
    assert resumed.steps == 4 and all(np.array_equal(sa[k], sr[k]) and np.array_equal(sa[k], sc[k]) for k in sa)

    path = tmp_path / "teacher.npz"
    save_model(a.model, path, info=a.info())
    loaded, info = load_model(path)
    assert info["steps"] == 4 and loaded.spec == a.model.spec
    views = [torch.rand(1, 3, 128, 128, generator=torch.Generator().manual_seed(i)) for i in range(3)]
    with torch.no_grad():
        assert all(torch.equal(x, y) for x, y in zip(a.model(*views), loaded(*views)))

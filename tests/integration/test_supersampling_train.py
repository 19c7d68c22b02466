"""End to end on real textures: synthesize 2 sequences x 6 frames at 64x64, train 20 float32 + 5 int8 QAT
steps, check what the asset layer will take (folded weights, int8 graph, quantizer parameters, reference
clip, previews); determinism for a fixed seed and resume from checkpoints."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")
pytest.importorskip("executorch")

from PIL import Image  # noqa: E402

from ngsdk.supersampling.config import SupersamplingTrainConfig  # noqa: E402
from ngsdk.supersampling.network import LAYERS  # noqa: E402
from ngsdk.supersampling.quant import SIGMOID_SCALE  # noqa: E402
from ngsdk.supersampling.reference import reference_clip  # noqa: E402
from ngsdk.supersampling.safetensors_io import read_sequence  # noqa: E402
from ngsdk.supersampling.synth.render import SynthConfig, synthesize_frames  # noqa: E402
from ngsdk.supersampling.train import train_supersampling  # noqa: E402

SMALL = dict(batch=2, frames=4, crop=64, device="cpu", seed=0)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One torch thread: these small tensors gain little from two, and on a machine shared with other jobs
    two oversubscribed threads ran 4-10x slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def frames_dir(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("nss_frames")
    cfg = SynthConfig(sequences=2, frames=6, target=(64, 64), device="cpu", max_texture=256, seed=0)
    t0 = time.perf_counter()
    files = synthesize_frames([shared_data / "textures" / "rock", shared_data / "textures" / "metal"],
                              [shared_data / "images" / "kodim01.png", shared_data / "images" / "kodim05.png"],
                              out, cfg)
    print(f"synth 2 x 6 frames at 64x64: {time.perf_counter() - t0:.1f} s")
    assert [f.name for f in files] == ["0000.safetensors", "0001.safetensors"]
    return out


def test_sequences_render_alone_to_the_same_bytes(frames_dir: Path, shared_data: Path, tmp_path: Path):
    """Processes may split a synthesis by sequence index (tools/gpu/supersampling.py --synth-workers)."""
    cfg = SynthConfig(sequences=2, frames=6, target=(64, 64), device="cpu", max_texture=256, seed=0)
    mats = [shared_data / "textures" / "rock", shared_data / "textures" / "metal"]
    pics = [shared_data / "images" / "kodim01.png", shared_data / "images" / "kodim05.png"]
    files = synthesize_frames(mats, pics, tmp_path, cfg, indices=[1])
    assert [f.name for f in files] == ["0001.safetensors"]
    assert files[0].read_bytes() == (frames_dir / "0001.safetensors").read_bytes()
    with pytest.raises(ValueError, match="sequence index 2 is outside 0..1"):
        synthesize_frames(mats, pics, tmp_path, cfg, indices=[2])


def test_an_interrupted_synthesis_resumes(frames_dir: Path, shared_data: Path, tmp_path: Path, monkeypatch):
    """--resume keeps the whole sequence files these settings wrote, renders the missing ones and redoes a file
    that other settings wrote; the folder ends byte-identical to one uninterrupted run."""
    import shutil

    import ngsdk.supersampling.synth.render as render

    cfg = SynthConfig(sequences=2, frames=6, target=(64, 64), device="cpu", max_texture=256, seed=0)
    mats = [shared_data / "textures" / "rock", shared_data / "textures" / "metal"]
    pics = [shared_data / "images" / "kodim01.png", shared_data / "images" / "kodim05.png"]
    shutil.copy(frames_dir / "0000.safetensors", tmp_path / "0000.safetensors")  # sequence 1 is missing
    rendered = []
    real = render.render_sequence
    monkeypatch.setattr(render, "render_sequence", lambda *a, **k: rendered.append(a[3]) or real(*a, **k))
    files = synthesize_frames(mats, pics, tmp_path, cfg, resume=True)
    assert rendered == ["0001"] and [f.name for f in files] == ["0000.safetensors", "0001.safetensors"]
    assert all(f.read_bytes() == (frames_dir / f.name).read_bytes() for f in files)
    other = SynthConfig(sequences=2, frames=6, target=(64, 64), device="cpu", max_texture=256, seed=5)
    rendered.clear()
    synthesize_frames(mats, pics, tmp_path, other, resume=True)
    assert rendered == ["0000", "0001"]  # written by seed 0: not this run's sequences


def test_train_end_to_end(frames_dir: Path, tmp_path: Path):
    cfg = SupersamplingTrainConfig(steps=20, qat_steps=5, **SMALL)
    seen = []
    t0 = time.perf_counter()
    res = train_supersampling(frames_dir, cfg, progress=seen.append, previews=tmp_path / "previews",
                              checkpoint=tmp_path / "ck.npz")
    seconds = time.perf_counter() - t0
    print(f"20 + 5 steps: {seconds:.1f} s, metrics {res.metrics}")
    assert seconds < 60
    assert (res.steps, res.qat_steps) == (20, 5) and len(res.history) == 25
    assert [p.phase for p in seen] == ["fp32"] * 20 + ["qat"] * 5 and seen[-1].total_steps == 5
    assert all(np.isfinite(r["loss"]) for r in res.history)
    assert set(res.metrics) == {"psnr_fp32", "psnr_int8", "psnr_bilinear"}
    assert all(10 < v < 99 for v in res.metrics.values())
    # float weights, BatchNorm folded
    assert set(res.weights) == {f"{s.name}.{k}" for s in LAYERS for k in ("weight", "bias")}
    assert all(res.weights[f"{s.name}.weight"].shape == (s.cout, s.cin, 3, 3) for s in LAYERS)
    assert 0 <= res.dm_scale <= 1 and 0 <= res.dm_scale_int8 <= 1
    assert res.jitter_table.shape == (16, 2) and res.exposure == 2.0 and res.scale == 2
    assert "LPIPS term off" in res.notes[0]
    # the int8 graph: gym quantizer settings
    io = res.int8_io
    assert len(io["outputs"]) == 6
    assert all(o["scale"] == pytest.approx(SIGMOID_SCALE) and o["zero_point"] == -127 and o["qmin"] == -127
               for o in io["outputs"])
    assert io["input"]["qmin"] == -128 and io["input"]["qmax"] == 127
    weights8 = [a for a in res.int8_arrays.values() if a.dtype == np.int8]
    assert len(weights8) == len(LAYERS) and all(np.abs(a.astype(int)).max() <= 127 for a in weights8)
    assert sum(a.size for a in weights8) == sum(s.cout * s.cin * 9 for s in LAYERS)
    assert any(n.get("target") == "aten.conv2d.default" for n in res.int8_nodes)
    # previews: output | ground truth | error
    names = sorted(p.name for p in res.previews)
    assert names[0] == "fp32_000.png" and "int8_003.png" in names
    with Image.open(res.previews[0]) as im:
        assert im.size == (3 * 64 + 8, 64)
    assert (tmp_path / "ck.npz").is_file()
    # the reference clip a verifier replays
    clip = reference_clip(read_sequence(frames_dir / "0001.safetensors"), res.float_model, res.int8_model, frames=3)
    assert clip["fp32_net_input"].shape == (3, 12, 32, 32) and clip["int8_net_outputs"].shape == (3, 24, 32, 32)
    assert clip["fp32_output"].shape == clip["ground_truth"].shape == (3, 3, 64, 64)
    decoded = (clip["int8_net_codes"].astype(np.float32) + 127) / 254
    assert np.abs(decoded - clip["int8_net_outputs"]).max() < 1e-6


def _weights(res) -> dict[str, np.ndarray]:
    out = dict(res.weights)
    out |= {f"int8/{k}": v for k, v in (res.int8_arrays or {}).items()}
    return out


def test_fixed_seed_and_steps_are_deterministic(frames_dir: Path):
    cfg = SupersamplingTrainConfig(steps=3, qat_steps=0, **SMALL)
    a, b = (_weights(train_supersampling(frames_dir, cfg)) for _ in range(2))
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    other = _weights(train_supersampling(frames_dir, SupersamplingTrainConfig(steps=3, qat_steps=0,
                                                                              **(SMALL | {"seed": 1}))))
    assert not np.array_equal(a["conv2d_0.weight"], other["conv2d_0.weight"])


def test_resume_continues_bit_for_bit(frames_dir: Path, tmp_path: Path):
    cfg = SupersamplingTrainConfig(steps=4, qat_steps=2, checkpoint_every=1, **SMALL)
    ck = tmp_path / "ck.npz"
    saved = {}

    def keep(p):  # the file on disk when step n reports is the one written at step n - 1
        if (p.phase, p.step) in (("fp32", 3), ("qat", 2)):
            shutil.copy(ck, tmp_path / f"{p.phase}{p.step - 1}.npz")
            saved[p.phase] = tmp_path / f"{p.phase}{p.step - 1}.npz"

    full = _weights(train_supersampling(frames_dir, cfg, progress=keep, checkpoint=ck))
    assert set(saved) == {"fp32", "qat"}
    for phase, path in saved.items():
        res = train_supersampling(frames_dir, cfg, resume=path)
        assert (res.steps, res.qat_steps) == (4, 2) and len(res.history) == 6
        got = _weights(res)
        assert all(np.array_equal(full[k], got[k]) for k in full), phase


def test_synth_frames_resume_refuses_exr(tmp_path: Path):
    from click.testing import CliRunner

    from ngsdk.cli import main

    r = CliRunner().invoke(main, ["synth", "frames", str(tmp_path / "f"), "--resume", "--exr", "--device", "cpu"])
    assert r.exit_code == 2 and "cannot be combined with --exr" in r.output

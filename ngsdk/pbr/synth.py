"""Synthetic training data in the NeuroPBR layout: rendered views of real and procedural materials.

Every sample gets its own material variant (a real set augmented, or a procedural material), three cameras, a
sky and sun; its clean views always, and with probability ``dirty`` also dirty views of the same cameras and
light. One real set is held out: its samples go to ``OUT/test/`` (clean and dirty), never into training.
``OUT/synth.json`` records the settings, the source files' sha256 and the counts. Sample ``i`` is drawn from
its own generator (seed, i), so a run is reproducible and does not depend on the order of work.

PNG encoding (about 0.1 s per 512^2 image, a dozen images per sample) would otherwise bound the run on a GPU
machine: a pool of threads encodes and writes while the next sample renders (Pillow's encoder releases the GIL).

An interrupted run resumes: every ``JOURNAL_EVERY`` samples the pending writes are drained and
``OUT/synth.progress.json`` records the samples that are complete on disk; a new run with the same settings and
sources into the same folder starts after them (the per-sample generators make the result the same bytes).
"""

from __future__ import annotations

import json
import os
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ngsdk.asset.atomic import atomic_write_bytes
from ngsdk.pbr.dirt import dirty_radiance
from ngsdk.pbr.layout import OUTPUT, sample_name, write_metadata, write_views
from ngsdk.pbr.materials import MaterialSource, augment, load_material_source, resize_material, tensor_to_maps
from ngsdk.pbr.noise import uniform
from ngsdk.pbr.procedural import KINDS, procedural_material
from ngsdk.pbr.render import CAMERA_MODES, render_plane, sample_cameras, sample_lighting, tonemap

SYNTH_FILE = "synth.json"
PROGRESS_FILE = "synth.progress.json"
TEST_DIR = "test"
JOURNAL_EVERY = 25


@dataclass
class SynthConfig:
    """Settings of one synthesis run (recorded in ``synth.json``)."""

    samples: int = 200
    """Training samples (the held-out test samples come on top)."""
    res: int = 512
    """View size in pixels."""
    map_res: int | None = None
    """Ground-truth map size; None: ``res`` (give 2 x res for students with a super-resolution head)."""
    dirty: float = 0.5
    """Share of samples that also get dirty views."""
    procedural: float = 0.5
    """Share of training samples drawn from procedural materials instead of the real sets."""
    holdout: str | None = None
    """Folder name of the real set kept for testing; None: the last real set by name; "" holds none out."""
    test_samples: int | None = None
    """Samples of the held-out set; None: max(2, samples // 10)."""
    supersample: int = 2
    camera: str = "aligned"
    """``aligned``: upright cameras over a tile's centre (views and maps share orientation and centre);
    ``free``: NeuroPBR's random roll (the maps' orientation cannot be recovered from the views)."""
    hue: float = 0.06
    """Largest hue rotation of a real set's albedo, in turns (0.5: any hue)."""
    relief: tuple[float, float] = (1.0, 1.0)
    """Range of the log-uniform factor on a real set's normal relief (tangent x, y; :func:`relief_jitter`)."""
    seed: int = 0
    device: str = "cpu"

    def check(self) -> None:
        if self.samples < 1:
            raise ValueError(f"samples must be >= 1, got {self.samples}")
        if self.res < 16 or (self.map_res is not None and self.map_res < 16):
            raise ValueError("res and map_res must be >= 16")
        if not 0 <= self.dirty <= 1 or not 0 <= self.procedural <= 1:
            raise ValueError("dirty and procedural are shares in [0, 1]")
        if self.supersample < 1:
            raise ValueError(f"supersample must be >= 1, got {self.supersample}")
        if self.camera not in CAMERA_MODES:
            raise ValueError(f"camera must be one of {', '.join(CAMERA_MODES)}, got {self.camera!r}")
        if not 0 <= self.hue <= 0.5:
            raise ValueError(f"hue is a share of a turn in [0, 0.5], got {self.hue}")
        if not 0 < self.relief[0] <= self.relief[1]:
            raise ValueError(f"relief must be a range 0 < lo <= hi, got {self.relief}")


@dataclass
class SynthReport:
    """What a run wrote: sample counts per split (``dirty_samples``: training samples that also have dirty
    views; every test sample has both), the material folders, the held-out set, seconds."""

    out: Path
    train_samples: int
    test_samples: int
    dirty_samples: int
    holdout: str | None
    sources: list[str]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["out"] = str(self.out)
        return d


def _sample_gen(seed: int, split: int, index: int) -> torch.Generator:
    g = torch.Generator()
    g.manual_seed((seed * 1_000_003 + split * 7_919 + index) % (2**63))
    return g


def render_sample(material: torch.Tensor, res: int, gen: torch.Generator, *, dirty: bool, supersample: int = 2,
                  camera: str = "aligned") -> tuple[np.ndarray, np.ndarray | None]:
    """Clean (and dirty) views (3, res, res, 3) uint8 of ``material`` (8, H, W) from three random cameras
    (``camera``: the mode of :func:`ngsdk.pbr.render.sample_cameras`)."""
    cams = sample_cameras(3, gen, mode=camera)
    light = sample_lighting(gen)
    views = render_plane(material, cams, light, res, supersample=supersample)
    key = uniform(gen, 0.12, 0.25)

    def ldr(hdr: torch.Tensor, noise: float) -> np.ndarray:
        img = tonemap(hdr, key).cpu()
        if noise:
            img = img + torch.randn(img.shape, generator=gen) * noise
        return np.rint(img.clamp(0, 1).numpy() * 255).astype(np.uint8)

    clean = ldr(views.sun + views.sky, 0.0)
    if not dirty:
        return clean, None
    return clean, ldr(dirty_radiance(views, gen), uniform(gen, 0.0, 0.015))


def synth_pbr_views(materials: list[str | Path], out: str | Path, cfg: SynthConfig,
                    progress: Callable[[int, int], None] | None = None) -> SynthReport:
    """Render ``cfg.samples`` training samples (and the held-out test samples) into ``out`` (see module doc).

    ``materials`` are PBR folders (any layout ``ngsdk train texture`` reads); none given means procedural
    materials only. ``progress(done, total)`` is called after each sample."""
    cfg.check()
    t0 = time.perf_counter()
    out = Path(out)
    device = torch.device(cfg.device)
    sources: list[MaterialSource] = [load_material_source(m) for m in materials]
    names = [s.name for s in sources]
    if len(set(names)) != len(names):
        raise ValueError(f"two material folders share a name: {', '.join(sorted(names))}")
    holdout = cfg.holdout
    if holdout is None:
        holdout = sorted(names)[-1] if len(sources) >= 2 else ""
    if holdout and holdout not in names:
        raise ValueError(f"holdout {holdout!r} is not one of the material folders ({', '.join(names)})")
    train_sources = [s for s in sources if s.name != holdout]
    test_source = next((s for s in sources if s.name == holdout), None)
    map_res = cfg.map_res or cfg.res
    n_test = 0 if test_source is None else (cfg.test_samples if cfg.test_samples is not None
                                             else max(2, cfg.samples // 10))
    total = cfg.samples + n_test
    dirty_count = 0
    writers = ThreadPoolExecutor(max_workers=max(1, min(8, (os.cpu_count() or 2) - 1)),
                                 thread_name_prefix="pbr-synth-png")
    pending: deque[Future[Any]] = deque()

    def write(fn: Callable[..., Any], *args: Any) -> None:
        pending.append(writers.submit(fn, *args))
        while len(pending) > 64:  # bounded memory: wait for the oldest writes
            pending.popleft().result()

    def one(root: Path, split: int, index: int, pick: Callable[[torch.Generator], tuple[str, torch.Tensor]],
            always_dirty: bool) -> tuple[str, str]:
        nonlocal dirty_count
        gen = _sample_gen(cfg.seed, split, index)
        label, material = pick(gen)
        material = material.to(device)
        dirty = always_dirty or float(torch.rand((), generator=gen)) < cfg.dirty
        clean, dirty_views = render_sample(material, cfg.res, gen, dirty=dirty, supersample=cfg.supersample,
                                            camera=cfg.camera)
        name = sample_name(index)
        mat_name = f"{label}_{index:04d}"
        write(write_views, root / "input" / "clean" / name, clean)
        if dirty_views is not None:
            write(write_views, root / "input" / "dirty" / name, dirty_views)
            dirty_count += split == 0
        write(tensor_to_maps(resize_material(material, map_res)).write, root / OUTPUT / mat_name)
        return name, mat_name

    def pick_train(gen: torch.Generator) -> tuple[str, torch.Tensor]:
        if not train_sources or float(torch.rand((), generator=gen)) < cfg.procedural:
            kind = KINDS[int(torch.randint(len(KINDS), (), generator=gen))]
            return f"procedural_{kind}", procedural_material(kind, map_res, gen)
        src = train_sources[int(torch.randint(len(train_sources), (), generator=gen))]
        return src.name, augment(src.maps, map_res, gen, hue=cfg.hue, relief=cfg.relief)

    def pick_test(gen: torch.Generator) -> tuple[str, torch.Tensor]:
        assert test_source is not None
        return test_source.name, augment(test_source.maps, map_res, gen, jitter=False)

    settings = {"config": asdict(cfg), "sources": {s.name: s.sources for s in sources}}
    metas: list[dict[str, str]] = [{}, {}]
    first = [0, 0]
    journal = out / PROGRESS_FILE
    if journal.is_file():
        saved = _read_journal(journal)
        if saved is not None and saved.get("settings") == json.loads(json.dumps(settings)):
            metas = [dict(m) for m in saved["metas"]]
            first = [len(m) for m in metas]
            dirty_count = int(saved["dirty_count"])
    done = first[0] + first[1]

    def checkpoint() -> None:
        while pending:  # every file of the recorded samples is on disk before the journal names them
            pending.popleft().result()
        atomic_write_bytes(journal, (json.dumps({"settings": settings, "metas": metas, "dirty_count": dirty_count})
                                     + "\n").encode())

    try:
        for split, root, count, pick in ((0, out, cfg.samples, pick_train), (1, out / TEST_DIR, n_test, pick_test)):
            for i in range(first[split], count):
                name, mat = one(root, split, i, pick, split == 1)
                metas[split][name] = mat
                done += 1
                if progress:
                    progress(done, total)
                if done % JOURNAL_EVERY == 0:
                    checkpoint()
        while pending:  # every file is on disk (or its error raised) before the metadata names it
            pending.popleft().result()
    finally:
        for f in pending:
            f.cancel()
        writers.shutdown(wait=True)
    write_metadata(out, metas[0])
    if n_test:
        write_metadata(out / TEST_DIR, metas[1])
    report = SynthReport(out, cfg.samples, n_test, dirty_count, holdout or None, names, time.perf_counter() - t0)
    record = {
        **settings,
        "report": {k: v for k, v in report.to_dict().items() if k != "out"},
        "torch": torch.__version__,
    }
    atomic_write_bytes(out / SYNTH_FILE, (json.dumps(record, indent=1) + "\n").encode())
    journal.unlink(missing_ok=True)
    return report


def _read_journal(path: Path) -> dict[str, Any] | None:
    """The progress journal of an interrupted run, or None when it cannot be used (then the run starts over)."""
    try:
        saved = json.loads(path.read_text())
        ok = (isinstance(saved, dict) and isinstance(saved.get("metas"), list) and len(saved["metas"]) == 2
              and all(isinstance(m, dict) for m in saved["metas"]) and isinstance(saved.get("dirty_count"), int))
    except (OSError, ValueError):
        return None
    return saved if ok else None

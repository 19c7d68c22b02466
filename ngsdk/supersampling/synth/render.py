"""Sequences from the ray caster in the gym's dataset conventions (torch, any device).

Each frame is rendered at ``capture`` x the target resolution (the gym captures at 8K for 1080p) in bands
of rows, and reduced on the fly: ground truth = the mean of each ``capture x capture`` block in Karis space,
inverted back to linear (16 samples per pixel at capture 4); target motion = the motion of the block's
nearest-depth sample; the low-resolution input = one capture pixel per ``capture * ratio`` block, the one
the frame's quantized Halton jitter selects, for colour, depth and motion alike.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from ngsdk.supersampling.depth import depth_params
from ngsdk.supersampling.frames import FrameSequence
from ngsdk.supersampling.jitter import HALTON_COUNT, jitter_table, tile_offsets
from ngsdk.supersampling.synth.materials import TextureBank, find_images, image_maps, material_maps
from ngsdk.supersampling.synth.raycast import cast, view_at
from ngsdk.supersampling.synth.scene import Scene, random_scene
from ngsdk.supersampling.tonemap import karis, karis_inverse


@dataclass
class SynthConfig:
    """What ``ngsdk synth frames`` renders (defaults: a quick CPU set)."""

    sequences: int = 8
    frames: int = 32
    target: tuple[int, int] = (256, 144)
    """Target (ground truth) width, height; both multiples of ``ratio``."""
    ratio: int = 2
    capture: int = 4
    """Capture pixels per target pixel and axis (4: 16 samples per ground-truth pixel)."""
    seed: int = 0
    device: str = "auto"
    max_texture: int = 1024
    exposure: float = 2.0
    """Log exposure stored with every frame (the gym's recipe trains at e^2)."""
    rays_per_band: int = 0
    """Rays per rendering band (0: 2^18 on the CPU, 2^23 on CUDA)."""

    def check(self) -> None:
        w, h = self.target
        if self.ratio < 2 or w % self.ratio or h % self.ratio:
            raise ValueError(f"--target {w}x{h} must be a multiple of --ratio {self.ratio} (>= 2) on both axes")
        if self.capture < 1 or self.sequences < 1 or self.frames < 1:
            raise ValueError("--capture, --sequences and --frames must be >= 1")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["target"] = list(self.target)
        return d


def load_bank(materials: list[Path], images: list[Path], device: torch.device, max_size: int) -> TextureBank:
    """Every material folder and picture, mip-mapped on ``device``."""
    maps = [material_maps(m) for m in materials] + [image_maps(p) for p in images]
    return TextureBank(maps, device, max_size)


def render_sequence(scene: Scene, bank: TextureBank, cfg: SynthConfig, name: str, device: torch.device,
                    progress: Callable[[int], None] | None = None) -> FrameSequence:
    """``cfg.frames`` frames of ``scene`` (frame ``f`` at time ``f``, motion against time ``f - 1``)."""
    ww, hh = cfg.target
    w, h = ww // cfg.ratio, hh // cfg.ratio
    c, tile = cfg.capture, cfg.capture * cfg.ratio
    wc, hc = ww * c, hh * c
    cam = scene.camera
    tan_y = math.tan(cam.fov_y / 2)
    tan_x = tan_y * ww / hh
    jit = jitter_table(tile)
    offs = tile_offsets(tile)
    budget = cfg.rays_per_band or (1 << 23 if device.type == "cuda" else 1 << 18)
    band = max(1, budget // (wc * tile)) * tile
    n = cfg.frames
    out = {"colour": np.zeros((n, 3, h, w), np.float32), "ground_truth": np.zeros((n, 3, hh, ww), np.float32),
           "depth": np.zeros((n, 1, h, w), np.float32), "motion": np.zeros((n, 2, hh, ww), np.float32),
           "motion_lr": np.zeros((n, 2, h, w), np.float32)}
    for f in range(n):
        cur, prev = view_at(scene, float(f), device), view_at(scene, float(f - 1), device)
        qy, qx = (int(v) for v in offs[f % HALTON_COUNT])
        for r0 in range(0, hc, band):
            r1 = min(hc, r0 + band)
            col, z, mot = cast(scene, bank, cur, prev, (r0, r1), wc, hc, tan_x, tan_y)
            # forward-Z device depth (depth.device_depth), the sky at the far plane
            d = torch.where(torch.isinf(z), torch.ones_like(z),
                            cam.far / (cam.far - cam.near) * (1 - cam.near / z.clamp_min(cam.near)))
            rows = (r1 - r0) // c
            blocks = col.reshape(3, rows, c, ww, c)
            gt = karis_inverse(karis(blocks.permute(1, 3, 0, 2, 4)).mean(dim=(3, 4)).permute(2, 0, 1))
            zt = d.reshape(rows, c, ww, c).permute(0, 2, 1, 3).reshape(rows, ww, c * c)
            pick = zt.argmin(dim=2, keepdim=True)
            mt = mot.reshape(2, rows, c, ww, c).permute(0, 1, 3, 2, 4).reshape(2, rows, ww, c * c)
            gm = torch.gather(mt, 3, pick.unsqueeze(0).expand(2, -1, -1, -1))[..., 0] / c
            y0 = r0 // c
            out["ground_truth"][f, :, y0:y0 + rows] = gt.cpu().numpy()
            out["motion"][f, :, y0:y0 + rows] = gm.cpu().numpy()
            lr = slice(qy, r1 - r0, tile), slice(qx, wc, tile)
            l0 = r0 // tile
            lrows = (r1 - r0) // tile
            out["colour"][f, :, l0:l0 + lrows] = col[:, lr[0], lr[1]].cpu().numpy()
            out["depth"][f, 0, l0:l0 + lrows] = d[lr[0], lr[1]].cpu().numpy()
            out["motion_lr"][f, :, l0:l0 + lrows] = (mot[:, lr[0], lr[1]] / tile).cpu().numpy()
        if progress:
            progress(f + 1)
    jitter = np.stack([jit[f % HALTON_COUNT] for f in range(n)]).astype(np.float32)
    near = np.full(n, cam.near, np.float32)
    far = np.full(n, cam.far, np.float32)
    fov_y = np.full(n, cam.fov_y, np.float32)
    vp = np.stack([_view_proj(scene, f, tan_x, tan_y) for f in range(n)])
    return FrameSequence(
        name, **out, jitter=jitter, depth_params=depth_params(near, far, fov_y, w, h, np.zeros(n, bool)),
        exposure=np.full(n, cfg.exposure, np.float32), z_near=near, z_far=far, infinite_far=np.zeros(n, bool),
        fov_x=np.full(n, 2 * math.atan(tan_x), np.float32), fov_y=fov_y, render_size=(h, w), view_proj=vp)


def _view_proj(scene: Scene, t: float, tan_x: float, tan_y: float) -> np.ndarray:
    """World -> clip (row-major, D3D depth range [0, 1], forward Z)."""
    cam = scene.camera
    rot, pos = cam.pose(t)
    view = np.eye(4)
    view[:3, :3] = rot.T
    view[:3, 3] = -rot.T @ pos
    n, f = cam.near, cam.far
    proj = np.array([[1 / tan_x, 0, 0, 0], [0, 1 / tan_y, 0, 0], [0, 0, -f / (f - n), -f * n / (f - n)],
                     [0, 0, -1, 0]])
    return (proj @ view).astype(np.float32)


def synthesize_frames(materials: list[str | Path], images: list[str | Path] | str | Path | None,
                      out_dir: str | Path, cfg: SynthConfig, *,
                      progress: Callable[[int, int, int], None] | None = None,
                      log: Callable[[str], None] | None = None, exr: bool = False,
                      indices: Iterable[int] | None = None, resume: bool = False) -> list[Path]:
    """Render ``cfg.sequences`` sequences into ``out_dir`` as ``NNNN.safetensors`` (and, with ``exr``, the
    gym's EXR capture tree beside them). ``materials``: PBR material folders; ``images``: pictures for
    backdrops (a folder, a list of files, or None). ``progress(sequence, frame, frames)``. ``indices``: render
    only these of the ``cfg.sequences`` (sequence ``s`` depends on the seed and ``s`` alone, so processes can
    split the work). ``resume``: keep a sequence file already in ``out_dir`` that these settings wrote (files are
    written atomically, so one that exists is whole) and render only the others."""
    from ngsdk.supersampling.safetensors_io import write_sequence
    from ngsdk.training import pick_device

    cfg.check()
    todo = range(cfg.sequences) if indices is None else sorted(set(indices))
    bad = [s for s in todo if not 0 <= s < cfg.sequences]
    if bad:
        raise ValueError(f"sequence index {bad[0]} is outside 0..{cfg.sequences - 1}")
    log = log or (lambda s: None)
    device = pick_device(cfg.device)
    mats = [Path(m) for m in materials]
    if not mats:
        raise ValueError("synth needs at least one PBR material folder")
    pics = find_images(images) if isinstance(images, (str, Path)) else [Path(p) for p in images or []]
    out = Path(out_dir)
    settings = json.dumps(cfg.to_dict())
    kept = {s for s in todo if _written_by(out / f"{s:04d}.safetensors", settings)} if resume and not exr else set()
    if len(kept) < len(todo):  # the texture bank only when something is left to render
        bank = load_bank(mats, pics, device, cfg.max_texture)
        log(f"{len(mats)} materials, {len(pics)} pictures on {device}")
    written = []
    for s in todo:
        if s in kept:
            written.append(out / f"{s:04d}.safetensors")
            continue
        rng = np.random.default_rng([cfg.seed, s])
        scene = random_scene(rng, len(mats), len(pics))
        name = f"{s:04d}"
        cb = (lambda f, s=s: progress(s, f, cfg.frames)) if progress else None
        seq = render_sequence(scene, bank, cfg, name, device, cb)
        written.append(write_sequence(out / f"{name}.safetensors", seq, {"Synth": settings}))
        if exr:
            from ngsdk.supersampling.exr_io import write_capture_sequence

            write_capture_sequence(out / "exr", seq)
    return written


def _written_by(path: Path, settings: str) -> bool:
    """``path`` is a readable sequence file whose ``Synth`` metadata are ``settings``."""
    from ngsdk.asset.errors import AssetError
    from ngsdk.supersampling.safetensors_io import SafetensorsSequence

    if not path.is_file():
        return False
    try:
        return SafetensorsSequence(path).metadata.get("Synth") == settings
    except AssetError:
        return False

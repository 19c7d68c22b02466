"""Training windows from a data folder: random sequence, start frame, crop and flip/rotation, as tensors
(torch). A folder holds the gym's ``*.safetensors`` (read lazily, window by window) or its EXR capture
tree (read whole)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ngsdk.asset.errors import AssetError
from ngsdk.supersampling.exr_io import find_capture_sequences, read_capture_sequence
from ngsdk.supersampling.frames import FrameSequence
from ngsdk.supersampling.pipeline import FrameBatch
from ngsdk.supersampling.safetensors_io import SafetensorsSequence, find_sequence_files
from ngsdk.supersampling.tonemap import HALF_MAX


class MemorySequence:
    """A :class:`FrameSequence` behind the lazy reader's interface."""

    def __init__(self, seq: FrameSequence):
        self.seq = seq
        self.name = seq.name
        self.length = len(seq)
        self.lr_size, self.hr_size, self.scale = seq.lr_size, seq.hr_size, seq.scale

    def __len__(self) -> int:
        return self.length

    def read(self, start: int = 0, stop: int | None = None,
             crop: tuple[int, int, int, int] | None = None) -> FrameSequence:
        part = self.seq.frames(start, self.length if stop is None else stop)
        return part if crop is None else part.crop(*crop)


def open_sequences(data_dir: str | Path, ratio: int = 2) -> list[SafetensorsSequence | MemorySequence]:
    """Every sequence of ``data_dir``: its ``*.safetensors`` files, else its EXR capture tree."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise AssetError(data_dir, "is not a folder of sequences")
    files = find_sequence_files(data_dir)
    if files:
        seqs: list = [SafetensorsSequence(f) for f in files]
    else:
        names = find_capture_sequences(data_dir, ratio)
        if not names:
            raise AssetError(data_dir, "holds no .safetensors sequences and no EXR capture tree "
                                       f"(x{ratio}/color/<sequence>/ with <sequence>.json)")
        seqs = [MemorySequence(read_capture_sequence(data_dir, n, ratio)) for n in names]
    scales = {s.scale for s in seqs}
    if scales != {ratio}:
        raise AssetError(data_dir, f"sequences upscale by {sorted(scales)}, the model by {ratio}")
    return seqs


@dataclass
class Window:
    frames: list[FrameBatch]
    truth: torch.Tensor
    """(B, T, 3, H, W) linear."""
    motion: torch.Tensor
    """(B, T, 2, H, W) target pixels."""
    exposure: torch.Tensor
    """(B, T) multipliers."""


def augment(seq: FrameSequence, flip_x: bool, flip_y: bool, rot: bool) -> FrameSequence:
    """Flip / rotate every image with the vector polarities fixed up (the gym's augmentation)."""
    imgs = {k: getattr(seq, k) for k in ("colour", "ground_truth", "depth", "motion", "motion_lr")}
    jit = seq.jitter.copy()
    for k in ("motion", "motion_lr"):
        imgs[k] = imgs[k].copy()
    if flip_x:
        imgs = {k: v[..., ::-1] for k, v in imgs.items()}
        imgs["motion"][:, 1] *= -1
        imgs["motion_lr"][:, 1] *= -1
        jit[:, 1] *= -1
    if flip_y:
        imgs = {k: v[..., ::-1, :] for k, v in imgs.items()}
        imgs["motion"][:, 0] *= -1
        imgs["motion_lr"][:, 0] *= -1
        jit[:, 0] *= -1
    if rot:  # 90 degrees anticlockwise: (v, u) -> (-u, v)
        imgs = {k: np.rot90(v, 1, axes=(2, 3)) for k, v in imgs.items()}
        for k in ("motion", "motion_lr"):
            imgs[k] = np.stack([-imgs[k][:, 1], imgs[k][:, 0]], axis=1)
        jit = np.stack([-jit[:, 1], jit[:, 0]], axis=1)
    imgs = {k: np.ascontiguousarray(v) for k, v in imgs.items()}
    rest = {k: getattr(seq, k) for k in ("depth_params", "exposure", "z_near", "z_far", "infinite_far",
                                         "fov_x", "fov_y")}
    # the render size stays as stored, as in the gym (its augmentation leaves scalar features alone)
    return FrameSequence(seq.name, **imgs, jitter=jit.astype(np.float32), **rest, render_size=seq.full_render_size)


def to_window(seqs: list[FrameSequence], device: torch.device, exposure: float | None) -> Window:
    """Stack equally sized windows into per-frame batches; ``exposure`` (log) overrides the data's."""
    t = len(seqs[0])
    dev = device

    def stack(key: str) -> torch.Tensor:
        return torch.from_numpy(np.stack([getattr(s, key) for s in seqs])).to(dev, torch.float32)

    exp_log = stack("exposure") if exposure is None else torch.full((len(seqs), t), float(exposure), device=dev)
    exp = torch.exp(exp_log)
    limit = (HALF_MAX / exp).view(len(seqs), t, 1, 1, 1)
    colour = torch.minimum(stack("colour").clamp_min(0.0), limit)
    truth = torch.minimum(stack("ground_truth").clamp_min(0.0), limit)
    depth, motion, jitter, params = stack("depth"), stack("motion"), stack("jitter"), stack("depth_params")
    render = seqs[0].full_render_size
    frames = [FrameBatch(colour[:, i], depth[:, i], motion[:, i], jitter[:, i], params[:, i], exp[:, i], render)
              for i in range(t)]
    return Window(frames, truth, motion, exp)


class WindowSampler:
    """Random training windows, deterministic for a seed (the host's generator drives every choice)."""

    def __init__(self, seqs: list, frames: int, crop: int, augment: bool, seed: int):
        self.seqs = [s for s in seqs if s.length >= frames]
        if not self.seqs:
            longest = max(s.length for s in seqs)
            raise ValueError(f"windows of {frames} frames need sequences that long; the longest has {longest}")
        self.frames, self.augment = frames, augment
        self.starts = [s.length - frames + 1 for s in self.seqs]
        self.gen = torch.Generator().manual_seed(seed)
        s = self.seqs[0].scale
        c = max(s, crop - crop % s)
        # one crop size for every window, so a batch stacks: the smallest frame bounds it
        self.size = (min(c, min(q.hr_size[0] for q in self.seqs)), min(c, min(q.hr_size[1] for q in self.seqs)))

    def _int(self, n: int) -> int:
        return int(torch.randint(0, max(n, 1), (1,), generator=self.gen))

    def sample(self, batch: int) -> list[FrameSequence]:
        total = sum(self.starts)
        out = []
        ch, cw = self.size
        for _ in range(batch):
            k = self._int(total)
            i = 0
            while k >= self.starts[i]:
                k -= self.starts[i]
                i += 1
            seq = self.seqs[i]
            s = seq.scale
            y = self._int((seq.hr_size[0] - ch) // s + 1) * s
            x = self._int((seq.hr_size[1] - cw) // s + 1) * s
            part = seq.read(k, k + self.frames, (y, x, ch, cw))
            fx, fy, rot = (bool(self._int(2)) for _ in range(3))
            if self.augment:
                part = augment(part, fx, fy, rot and ch == cw)
            out.append(part)
        return out

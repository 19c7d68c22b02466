"""One captured sequence in the gym's conventions, in memory (numpy, float32, NCHW per frame).

Conventions (the gym's dataset specification and safetensors converter):

- ``colour``: jittered low-resolution colour, linear HDR, one sample per pixel at the frame's jitter.
- ``ground_truth``: target-resolution colour, linear HDR (16 samples per pixel, filtered in Karis space).
- ``depth``: low-resolution forward-Z device depth in [0, 1] (1 = far plane / sky), at the jittered sample.
- ``motion`` / ``motion_lr``: (y, x) in pixels of their own resolution, *current minus previous* screen
  position (so the previous frame is sampled at ``pixel - motion``); not jittered.
- ``jitter``: (y, x) offset of the low-resolution sample from the pixel centre, in low-resolution pixels,
  in [-0.5, 0.5]; +y is down the image.
- ``exposure``: natural log of the exposure multiplier (the model multiplies colour by ``exp(exposure)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

IMAGE_FIELDS = ("colour", "ground_truth", "depth", "motion", "motion_lr")
FRAME_FIELDS = ("jitter", "depth_params", "exposure", "z_near", "z_far", "infinite_far", "fov_x", "fov_y")


@dataclass
class FrameSequence:
    """``N`` frames of one sequence; ``h, w`` low resolution, ``H, W`` target resolution."""

    name: str
    colour: np.ndarray
    """(N, 3, h, w) float32."""
    ground_truth: np.ndarray
    """(N, 3, H, W) float32."""
    depth: np.ndarray
    """(N, 1, h, w) float32."""
    motion: np.ndarray
    """(N, 2, H, W) float32, target pixels."""
    motion_lr: np.ndarray
    """(N, 2, h, w) float32, low-resolution pixels."""
    jitter: np.ndarray
    """(N, 2) float32, low-resolution pixels."""
    depth_params: np.ndarray
    """(N, 4) float32 FSR2 ``deviceToViewDepth`` (see :mod:`ngsdk.supersampling.depth`)."""
    exposure: np.ndarray
    """(N,) float32, log."""
    z_near: np.ndarray
    z_far: np.ndarray
    infinite_far: np.ndarray
    """(N,) bool: the far plane is at infinity (``z_far`` then holds the gym's stand-in, 5000)."""
    fov_x: np.ndarray
    fov_y: np.ndarray
    """(N,) float32, radians."""
    render_size: tuple[int, int] | None = None
    """(h, w) of the full frame the low-resolution data was cut from (None: the data's own size). Crops
    keep the full frame's size, as the gym's cropper does: the disocclusion threshold depends on it."""
    view_proj: np.ndarray | None = None
    """(N, 4, 4) float32 world -> clip (row-major), when the source recorded it."""
    extra: dict[str, np.ndarray] = field(default_factory=dict)
    """Other per-frame arrays a source carried (kept so a rewrite loses nothing)."""

    def __post_init__(self) -> None:
        n = self.colour.shape[0]
        self.check(n)

    def __len__(self) -> int:
        return int(self.colour.shape[0])

    @property
    def lr_size(self) -> tuple[int, int]:
        return int(self.colour.shape[2]), int(self.colour.shape[3])

    @property
    def hr_size(self) -> tuple[int, int]:
        return int(self.ground_truth.shape[2]), int(self.ground_truth.shape[3])

    @property
    def full_render_size(self) -> tuple[int, int]:
        return self.render_size if self.render_size is not None else self.lr_size

    def check(self, n: int) -> None:
        """Raise ValueError naming the sequence when shapes disagree."""
        h, w = self.colour.shape[2:] if self.colour.ndim == 4 else (0, 0)
        hh, ww = self.ground_truth.shape[2:] if self.ground_truth.ndim == 4 else (0, 0)
        want = {
            "colour": (n, 3, h, w), "ground_truth": (n, 3, hh, ww), "depth": (n, 1, h, w),
            "motion": (n, 2, hh, ww), "motion_lr": (n, 2, h, w), "jitter": (n, 2),
            "depth_params": (n, 4),
        }
        for key, shape in want.items():
            got = tuple(getattr(self, key).shape)
            if got != shape:
                raise ValueError(f"sequence {self.name!r}: {key} has shape {got}, expected {shape}")
        for key in FRAME_FIELDS[2:]:
            if tuple(getattr(self, key).shape) != (n,):
                raise ValueError(f"sequence {self.name!r}: {key} has shape {getattr(self, key).shape}, "
                                 f"expected ({n},)")
        if h == 0 or hh % h or ww % w or hh // h != ww // w:
            raise ValueError(f"sequence {self.name!r}: target {hh}x{ww} is not an integer multiple of the "
                             f"input {h}x{w} on both axes")

    @property
    def scale(self) -> int:
        """Upscaling factor per axis (target / input)."""
        return self.hr_size[0] // self.lr_size[0]

    def frames(self, start: int, stop: int) -> FrameSequence:
        """Frames ``start:stop`` as a new sequence (views, not copies)."""
        kw = {k: getattr(self, k)[start:stop] for k in IMAGE_FIELDS + FRAME_FIELDS}
        vp = None if self.view_proj is None else self.view_proj[start:stop]
        return FrameSequence(self.name, **kw, render_size=self.render_size, view_proj=vp,
                             extra={k: v[start:stop] for k, v in self.extra.items()})

    def crop(self, y: int, x: int, height: int, width: int) -> FrameSequence:
        """A target-resolution window (``y, x, height, width`` multiples of the scale) and the matching
        input window; the render size stays the full frame's."""
        s = self.scale
        if y % s or x % s or height % s or width % s:
            raise ValueError(f"crop ({y}, {x}, {height}, {width}) must be multiples of the scale {s}")
        hy, hx = slice(y, y + height), slice(x, x + width)
        ly, lx = slice(y // s, (y + height) // s), slice(x // s, (x + width) // s)
        kw = {k: getattr(self, k) for k in FRAME_FIELDS}
        return FrameSequence(
            self.name, colour=self.colour[:, :, ly, lx], ground_truth=self.ground_truth[:, :, hy, hx],
            depth=self.depth[:, :, ly, lx], motion=self.motion[:, :, hy, hx], motion_lr=self.motion_lr[:, :, ly, lx],
            **kw, render_size=self.full_render_size, view_proj=self.view_proj, extra=dict(self.extra))

"""The gym's per-sequence ``.safetensors`` files (numpy; the ``safetensors`` package if installed, else
``safetensors_np``; never pickles).

One file per sequence; every key holds all frames stacked on axis 0 and the metadata's ``Length`` the
frame count. Keys and dtypes as the gym's EXR converter writes them:

``colour_linear`` (N,3,h,w) f16, ``ground_truth_linear`` (N,3,H,W) f16, ``depth`` (N,1,h,w) f32,
``motion`` (N,2,H,W) f16 and ``motion_lr`` (N,2,h,w) f16 (y, x pixels, current - previous),
``jitter`` (N,2,1,1) f32 (y, x input pixels), ``exposure`` (N,1) f32 (log), ``depth_params`` (N,4) f32,
``render_size`` / ``outDims`` (N,2) i32 (height, width), ``zNear`` ``zFar`` ``FovX`` ``FovY`` ``scale``
``X`` ``Y`` (N,1) f32, ``infinite_zFar`` (N,1) bool, ``seq`` ``img`` (N,1) i64, ``viewProj`` (N,1,4,4) f32.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from ngsdk.asset.atomic import atomic_write_bytes
from ngsdk.asset.errors import AssetError
from ngsdk.supersampling.depth import depth_params as make_depth_params
from ngsdk.supersampling.frames import FrameSequence

REQUIRED = ("colour_linear", "ground_truth_linear", "depth", "motion", "jitter", "exposure")
HALF_MAX = 65504.0
KNOWN = set(REQUIRED) | {
    "motion_lr", "depth_params", "render_size", "outDims", "zNear", "zFar", "FovX", "FovY", "scale", "X", "Y",
    "infinite_zFar", "seq", "img", "viewProj", "seq_id", "crop_id_y", "crop_id_x", "crop_sz",
}
WRITER_VERSION = "ngsdk.supersampling/1"


def _import():
    """The reader of the ``safetensors`` package, or the NumPy container code (``safetensors_np``) where it is
    missing or ``NGSDK_SAFETENSORS=numpy`` asks for it (both read the same files)."""
    if os.environ.get("NGSDK_SAFETENSORS", "").lower() != "numpy":
        try:
            from safetensors import SafetensorError, safe_open

            return safe_open, SafetensorError
        except ImportError:
            pass
    from ngsdk.supersampling.safetensors_np import SafetensorError, safe_open

    return safe_open, SafetensorError


def sequence_id(name: str) -> int:
    """A stable non-zero int64 for a sequence name (the gym stores a hash; 0 is its reset marker)."""
    v = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little", signed=True)
    return v or 1


class SafetensorsSequence:
    """A lazily read sequence file: :meth:`read` loads only the frames and window asked for."""

    def __init__(self, path: str | Path):
        safe_open, err = _import()
        self.path = Path(path)
        try:
            with safe_open(str(self.path), framework="numpy") as f:
                self.keys = set(f.keys())
                meta = f.metadata() or {}
                self.metadata: dict[str, str] = dict(meta)
                self.shapes = {k: tuple(f.get_slice(k).get_shape()) for k in self.keys}
        except (OSError, err, ValueError) as e:
            raise AssetError(self.path, f"not a readable safetensors file ({e})") from None
        missing = [k for k in REQUIRED if k not in self.keys]
        if missing:
            raise AssetError(self.path, f"missing the gym's keys {', '.join(missing)}")
        n = self.shapes["colour_linear"][0]
        try:
            self.length = int(meta.get("Length", n))
        except ValueError:
            raise AssetError(self.path, f"metadata Length {meta.get('Length')!r} is not an integer") from None
        for k in self.keys & KNOWN:
            if not self.shapes[k] or self.shapes[k][0] != self.length:
                raise AssetError(self.path, f"{k} holds {self.shapes[k][0] if self.shapes[k] else 0} frames, "
                                            f"metadata Length says {self.length}")
        c, g = self.shapes["colour_linear"], self.shapes["ground_truth_linear"]
        if len(c) != 4 or len(g) != 4 or c[1] < 3 or g[1] < 3:
            raise AssetError(self.path, f"colour_linear {c} / ground_truth_linear {g} are not (N, 3, H, W)")
        self.lr_size = (int(c[2]), int(c[3]))
        self.hr_size = (int(g[2]), int(g[3]))
        if self.hr_size[0] % self.lr_size[0] or self.hr_size[1] % self.lr_size[1] or \
                self.hr_size[0] // self.lr_size[0] != self.hr_size[1] // self.lr_size[1]:
            raise AssetError(self.path, f"ground truth {self.hr_size} is not an integer multiple of the input "
                                        f"{self.lr_size}")
        self.scale = self.hr_size[0] // self.lr_size[0]
        for k, want in (("depth", (1,) + self.lr_size), ("motion", (2,) + self.hr_size),
                        ("motion_lr", (2,) + self.lr_size)):
            if k in self.keys and self.shapes[k][1:] != want:
                raise AssetError(self.path, f"{k} has shape {self.shapes[k]}, "
                                            f"expected (N, {', '.join(map(str, want))})")
        self.name = self.path.stem

    def __len__(self) -> int:
        return self.length

    def read(self, start: int = 0, stop: int | None = None,
             crop: tuple[int, int, int, int] | None = None) -> FrameSequence:
        """Frames ``start:stop``; ``crop`` = (y, x, height, width) in target pixels (multiples of the scale)."""
        safe_open, err = _import()
        stop = self.length if stop is None else stop
        if not 0 <= start < stop <= self.length:
            raise ValueError(f"{self.path}: frames {start}:{stop} outside 0:{self.length}")
        s = self.scale
        if crop is None:
            crop = (0, 0) + self.hr_size
        y, x, hh, ww = crop
        if y % s or x % s or hh % s or ww % s or y + hh > self.hr_size[0] or x + ww > self.hr_size[1]:
            raise ValueError(f"{self.path}: crop {crop} must lie inside {self.hr_size} on multiples of {s}")
        hr = (slice(y, y + hh), slice(x, x + ww))
        lr = (slice(y // s, (y + hh) // s), slice(x // s, (x + ww) // s))
        t = slice(start, stop)
        try:
            with safe_open(str(self.path), framework="numpy") as f:
                def img(k: str, win: tuple[slice, slice], ch: int) -> np.ndarray:
                    return np.asarray(f.get_slice(k)[t, :ch, win[0], win[1]], dtype=np.float32)

                def vec(k: str) -> np.ndarray | None:
                    return np.asarray(f.get_slice(k)[t]).reshape(stop - start, -1) if k in self.keys else None

                colour, gt = img("colour_linear", lr, 3), img("ground_truth_linear", hr, 3)
                depth, motion = img("depth", lr, 1), img("motion", hr, 2)
                if "motion_lr" in self.keys:
                    motion_lr = img("motion_lr", lr, 2)
                else:  # the gym's loader: nearest down-sampling of the target motion
                    motion_lr = np.ascontiguousarray(motion[:, :, ::s, ::s]) / s
                jitter = vec("jitter").astype(np.float32)
                exposure = vec("exposure")[:, 0].astype(np.float32)
                params, near, far, fov_x, fov_y = (vec(k) for k in ("depth_params", "zNear", "zFar", "FovX", "FovY"))
                inf = vec("infinite_zFar")
                render = vec("render_size")
                vp = vec("viewProj")
        except (OSError, err, ValueError) as e:
            raise AssetError(self.path, f"cannot read frames {start}:{stop} ({e})") from None
        n = stop - start
        rh, rw = (int(render[0, 0]), int(render[0, 1])) if render is not None else self.lr_size
        if params is None:
            if near is None or far is None or fov_y is None:
                raise AssetError(self.path, "has neither depth_params nor zNear, zFar and FovY")
            inf_b = np.zeros(n, bool) if inf is None else inf[:, 0].astype(bool)
            params = make_depth_params(near[:, 0], far[:, 0], fov_y[:, 0], rw, rh, inf_b)
        params = params.astype(np.float32)
        # what depth_params implies, for files that lack the plain values
        z_n = near[:, 0] if near is not None else params[:, 1] / -params[:, 0]
        z_f = far[:, 0] if far is not None else params[:, 1] / (1.0 - params[:, 0])
        f_x = fov_x[:, 0] if fov_x is not None else 2 * np.arctan(params[:, 2])
        f_y = fov_y[:, 0] if fov_y is not None else 2 * np.arctan(params[:, 3])
        return FrameSequence(
            self.name, colour=colour, ground_truth=gt, depth=depth, motion=motion, motion_lr=motion_lr,
            jitter=jitter[:, :2], depth_params=params, exposure=exposure,
            z_near=z_n.astype(np.float32), z_far=z_f.astype(np.float32),
            infinite_far=np.zeros(n, bool) if inf is None else inf[:, 0].astype(bool),
            fov_x=f_x.astype(np.float32), fov_y=f_y.astype(np.float32), render_size=(rh, rw),
            view_proj=None if vp is None else vp.reshape(n, 4, 4).astype(np.float32))


def read_sequence(path: str | Path) -> FrameSequence:
    """All frames of one sequence file."""
    return SafetensorsSequence(path).read()


def to_gym_arrays(seq: FrameSequence) -> dict[str, np.ndarray]:
    """The gym's keys and dtypes for ``seq`` (float16 images clamped to the half range)."""
    n = len(seq)
    h, w = seq.full_render_size

    def half(a: np.ndarray) -> np.ndarray:
        return np.clip(np.nan_to_num(a, nan=0.0), -HALF_MAX, HALF_MAX).astype(np.float16)

    def col(a: np.ndarray, dtype) -> np.ndarray:
        return np.ascontiguousarray(np.asarray(a).reshape(n, 1).astype(dtype))

    sid = sequence_id(seq.name)
    out = {
        "colour_linear": half(seq.colour), "ground_truth_linear": half(seq.ground_truth),
        "depth": np.ascontiguousarray(seq.depth, dtype=np.float32),
        "motion": half(seq.motion), "motion_lr": half(seq.motion_lr),
        "jitter": np.ascontiguousarray(seq.jitter.reshape(n, 2, 1, 1), dtype=np.float32),
        "exposure": col(seq.exposure, np.float32),
        "depth_params": np.ascontiguousarray(seq.depth_params, dtype=np.float32),
        "render_size": np.tile(np.array([[h, w]], np.int32), (n, 1)),
        "outDims": np.tile(np.array([[h * seq.scale, w * seq.scale]], np.int32), (n, 1)),
        "zNear": col(seq.z_near, np.float32), "zFar": col(seq.z_far, np.float32),
        "infinite_zFar": col(seq.infinite_far, np.bool_),
        "FovX": col(seq.fov_x, np.float32), "FovY": col(seq.fov_y, np.float32),
        "scale": col(np.full(n, seq.scale), np.float32),
        "seq": col(np.full(n, sid), np.int64), "img": col(np.arange(n), np.int64),
        # normalised jitter, and the gym's "historic" Y sign flip of its converter
        "X": col(seq.jitter[:, 1] / w, np.float32), "Y": col(-seq.jitter[:, 0] / h, np.float32),
    }
    if seq.view_proj is not None:
        out["viewProj"] = np.ascontiguousarray(seq.view_proj.reshape(n, 1, 4, 4), dtype=np.float32)
    return out


def write_sequence(path: str | Path, seq: FrameSequence, metadata: dict[str, str] | None = None) -> Path:
    """Write ``seq`` as one gym safetensors file (atomically); returns the path.

    Always the NumPy container writer, metadata keys sorted: the ``safetensors`` package writes the metadata in
    its hash map's order, which changes from process to process, so equal sequences would not give equal bytes."""
    from ngsdk.supersampling.safetensors_np import save

    meta = {"Length": str(len(seq)), "Version": WRITER_VERSION} | dict(metadata or {})
    path = Path(path)
    atomic_write_bytes(path, save(to_gym_arrays(seq), metadata=dict(sorted(meta.items()))))
    return path


def find_sequence_files(data_dir: str | Path) -> list[Path]:
    """Every ``*.safetensors`` below ``data_dir``, sorted."""
    return sorted(Path(data_dir).rglob("*.safetensors"))

"""OpenEXR files and the gym's EXR capture tree (numpy + the ``OpenEXR`` package).

Capture tree (gym dataset specification v1.0.1), for sequence ``S`` and upscaling ratio 2::

    ROOT/S.json                      per-sequence metadata with a "Frames" list
    ROOT/ground_truth/S/NNNN.exr     RGB(A) half, target resolution, linear HDR
    ROOT/motion_gt/S/NNNN.exr        RG half, target resolution, motion in UV units (u, v)
    ROOT/x2/color/S/NNNN.exr         RGB(A) half, input resolution, jittered
    ROOT/x2/depth/S/NNNN.exr         R float, input resolution, forward-Z device depth
    ROOT/x2/motion/S/NNNN.exr        RG half, input resolution, motion in UV units

Reading converts as the gym's converter does: motion clamped to [-1, 1], swapped to (v, u) and scaled by
the image's (height, width) to pixels; jitter = ``NormalizedPerRatioJitter[ratio index]`` (x, y) times the
input size; ``exposure`` = log of the metadata's ``Exposure``; an infinite far plane (-1) stores 5000.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from ngsdk.asset.atomic import atomic_open, atomic_write_bytes
from ngsdk.asset.errors import AssetError
from ngsdk.supersampling.depth import INFINITE_FAR_STANDIN, depth_params
from ngsdk.supersampling.frames import FrameSequence

SPEC_VERSION = "1.0.1"


def _exr():
    try:
        import OpenEXR
    except ImportError:
        raise RuntimeError("EXR files need the 'OpenEXR' package: pip install 'OpenEXR>=3.2'") from None
    return OpenEXR


def ratio_folder(ratio: float) -> str:
    """The gym's folder name of an upscaling ratio: 2 -> ``x2``, 1.5 -> ``x1_5``."""
    return "x" + str(float(ratio)).replace(".", "_").replace("_0", "")


def read_exr(path: str | Path, channels: list[str] | None = None, *, window: str = "data",
             part: int = 0) -> dict[str, np.ndarray]:
    """Channels of one EXR part as float32 (H, W) arrays.

    ``window="data"`` returns the data window as stored; ``"display"`` places it into the display window
    (zeros outside; parts of the data window outside the display window are dropped).
    """
    OpenEXR = _exr()
    path = Path(path)
    try:
        f = OpenEXR.File(str(path), separate_channels=True)
    except Exception as e:  # the binding raises plain RuntimeError/OSError for damaged files
        raise AssetError(path, f"not a readable OpenEXR file ({e})") from None
    if not 0 <= part < len(f.parts):
        raise AssetError(path, f"has {len(f.parts)} part(s), asked for part {part}")
    p = f.parts[part]
    chans = p.channels
    names = list(chans) if channels is None else channels
    missing = [c for c in names if c not in chans]
    if missing:
        raise AssetError(path, f"has no channel {', '.join(missing)} (channels: {', '.join(sorted(chans))})")
    data = {c: np.asarray(chans[c].pixels, dtype=np.float32) for c in names}
    if window == "data":
        return data
    if window != "display":
        raise ValueError(f"window must be 'data' or 'display', got {window!r}")
    (dx0, dy0), (dx1, dy1) = (np.asarray(v) for v in p.header["dataWindow"])
    (wx0, wy0), (wx1, wy1) = (np.asarray(v) for v in p.header["displayWindow"])
    out_h, out_w = int(wy1 - wy0 + 1), int(wx1 - wx0 + 1)
    ys, xs = max(dy0, wy0), max(dx0, wx0)
    ye, xe = min(dy1, wy1) + 1, min(dx1, wx1) + 1
    placed = {}
    for c, a in data.items():
        full = np.zeros((out_h, out_w), np.float32)
        if ye > ys and xe > xs:
            full[ys - wy0:ye - wy0, xs - wx0:xe - wx0] = a[ys - dy0:ye - dy0, xs - dx0:xe - dx0]
        placed[c] = full
    return placed


def write_exr(path: str | Path, channels: dict[str, np.ndarray]) -> None:
    """Write (H, W) arrays (float16 or float32, kept as given) as one scanline EXR part, atomically."""
    OpenEXR = _exr()
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    f = OpenEXR.File(header, {k: np.ascontiguousarray(v) for k, v in channels.items()})
    with atomic_open(path) as out:
        f.write(out)


def _rgb(path: Path) -> np.ndarray:
    d = read_exr(path)
    if not all(c in d for c in "RGB"):
        raise AssetError(path, f"needs R, G and B channels, has {', '.join(sorted(d))}")
    return np.stack([d["R"], d["G"], d["B"]])


def _uv_to_pixels(path: Path) -> np.ndarray:
    d = read_exr(path)
    if "R" not in d or "G" not in d:
        raise AssetError(path, f"needs R (u) and G (v) motion channels, has {', '.join(sorted(d))}")
    h, w = d["R"].shape
    return np.stack([np.clip(d["G"], -1, 1) * h, np.clip(d["R"], -1, 1) * w])


def _frames(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise AssetError(folder, "missing from the EXR capture tree")
    files = sorted(folder.glob("*.exr"))
    if not files:
        raise AssetError(folder, "holds no .exr frames")
    return files


def load_metadata(path: str | Path) -> dict:
    """A sequence's JSON metadata (JSON's NaN / Infinity literals, which some engines write, accepted)."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"), parse_constant=lambda c: float(c.lower()
                                                                                        .replace("infinity", "inf")))
    except (OSError, ValueError) as e:
        raise AssetError(path, f"not readable sequence metadata ({e})") from None


def find_capture_sequences(root: str | Path, ratio: float = 2.0) -> list[str]:
    """Names of the sequences in a capture tree (those with metadata and colour frames)."""
    root = Path(root)
    folder = root / ratio_folder(ratio) / "color"
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and (root / f"{p.name}.json").is_file())


def read_capture_sequence(root: str | Path, name: str, ratio: float = 2.0) -> FrameSequence:
    """One sequence of an EXR capture tree, converted to the gym's training conventions."""
    root = Path(root)
    rf = ratio_folder(ratio)
    folders = {"gt": root / "ground_truth" / name, "mgt": root / "motion_gt" / name,
               "col": root / rf / "color" / name, "dep": root / rf / "depth" / name, "mot": root / rf / "motion" / name}
    files = {k: _frames(v) for k, v in folders.items()}
    n = min(len(v) for v in files.values())
    meta_path = root / f"{name}.json"
    meta = load_metadata(meta_path)
    frames_meta = meta.get("Frames")
    if not isinstance(frames_meta, list) or len(frames_meta) < n:
        raise AssetError(meta_path, f"'Frames' lists {len(frames_meta or [])} frames, the tree holds {n}")
    if meta.get("ReverseZ"):
        raise AssetError(meta_path, "ReverseZ captures are not supported (the gym's model expects forward-Z)")
    idx = meta.get("UpscalingRatiosIndices", {}).get(f"{rf}_index", 0)
    colour = np.stack([_rgb(files["col"][i]) for i in range(n)])
    gt = np.stack([_rgb(files["gt"][i]) for i in range(n)])
    depth = np.stack([read_exr(files["dep"][i], ["R"])["R"][None] for i in range(n)])
    motion = np.stack([_uv_to_pixels(files["mgt"][i]) for i in range(n)])
    motion_lr = np.stack([_uv_to_pixels(files["mot"][i]) for i in range(n)])
    h, w = colour.shape[2:]
    try:
        fm = frames_meta[:n]
        jit = np.array([[f["NormalizedPerRatioJitter"][idx]["Y"], f["NormalizedPerRatioJitter"][idx]["X"]]
                        for f in fm], np.float64) * np.array([h, w])
        far_raw = np.array([float(f["CameraFarPlane"]) for f in fm])
        near = np.array([float(f["CameraNearPlane"]) for f in fm], np.float32)
        fov_x = np.array([float(f["FovX"]) for f in fm], np.float32)
        fov_y = np.array([float(f["FovY"]) for f in fm], np.float32)
        exposure = np.log(np.array([float(f.get("Exposure", 1.0)) for f in fm], np.float64)).astype(np.float32)
        vp = np.array([np.asarray(f["ViewProjection"], np.float64).reshape(4, 4).T for f in fm], np.float32)
    except (KeyError, IndexError, TypeError, ValueError) as e:
        raise AssetError(meta_path, f"frame metadata is incomplete ({type(e).__name__}: {e})") from None
    infinite = far_raw == -1
    far = np.where(infinite, INFINITE_FAR_STANDIN, far_raw).astype(np.float32)
    return FrameSequence(
        name, colour=colour, ground_truth=gt, depth=depth, motion=motion, motion_lr=motion_lr,
        jitter=jit.astype(np.float32), depth_params=depth_params(near, far, fov_y, w, h, infinite),
        exposure=exposure, z_near=near, z_far=far, infinite_far=infinite, fov_x=fov_x, fov_y=fov_y,
        render_size=(h, w), view_proj=vp)


def write_capture_sequence(root: str | Path, seq: FrameSequence, *, framerate: int = 30) -> None:
    """Write ``seq`` as the gym's EXR capture tree (so the gym's own converter can read it)."""
    root = Path(root)
    rf = ratio_folder(seq.scale)
    h, w = seq.lr_size
    hh, ww = seq.hr_size
    frames = []
    for i in range(len(seq)):
        stem = f"{i:04d}.exr"
        gt, col = seq.ground_truth[i].astype(np.float16), seq.colour[i].astype(np.float16)
        write_exr(root / "ground_truth" / seq.name / stem, {"R": gt[0], "G": gt[1], "B": gt[2]})
        write_exr(root / rf / "color" / seq.name / stem, {"R": col[0], "G": col[1], "B": col[2]})
        write_exr(root / rf / "depth" / seq.name / stem, {"R": seq.depth[i, 0].astype(np.float32)})
        for folder, m, mh, mw in (("motion_gt", seq.motion[i], hh, ww), (f"{rf}/motion", seq.motion_lr[i], h, w)):
            write_exr(root / folder / seq.name / stem,
                      {"R": (m[1] / mw).astype(np.float16), "G": (m[0] / mh).astype(np.float16)})
        vp = np.eye(4, dtype=np.float64) if seq.view_proj is None else seq.view_proj[i].astype(np.float64)
        jy, jx = (float(v) for v in seq.jitter[i])
        frames.append({
            "Frame": i, "FovX": float(seq.fov_x[i]), "FovY": float(seq.fov_y[i]),
            "CameraNearPlane": float(seq.z_near[i]),
            "CameraFarPlane": -1.0 if seq.infinite_far[i] else float(seq.z_far[i]),
            "ViewProjection": vp.T.reshape(-1).tolist(),
            "Jitter": {"X": jx, "Y": jy},
            "NormalizedPerRatioJitter": [{"X": jx / w, "Y": jy / h}],
            "Exposure": math.exp(float(seq.exposure[i])),
        })
    meta = {
        "Version": SPEC_VERSION, "EmulatedFramerate": framerate, "ReverseZ": False,
        "TargetResolution": {"X": ww, "Y": hh},
        "Samples": {"Sequence": "TiledHalton", "Count": 16, "Quantized": True},
        "UpscalingRatiosIndices": {f"{rf}_index": 0}, "MotionVectorsDilated": False, "Frames": frames,
    }
    atomic_write_bytes(root / f"{seq.name}.json", (json.dumps(meta, indent=1) + "\n").encode())

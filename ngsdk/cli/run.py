"""``ngsdk run <use case>``: run a bundle over data the way an engine would (NumPy reference runtime, no torch).

``ngsdk run supersampling B.ngasset SEQ --out DIR`` upscales sequences with ``ngsdk.runtime_ref.supersampling``
(the int8 network in TOSA arithmetic, what the int8 VGF computes, or the float network) and writes the frames
plus a side-by-side strip (bilinear input | ngsdk | ground truth) to look at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import numpy as np

from ngsdk.cli.common import friendly_errors, log, verbosity_options

STRIP_TILE = 480
"""Widest tile of the strip (larger frames are box-reduced by an integer factor)."""


@click.group("run")
def command() -> None:
    """Run a bundle over data with the NumPy reference runtime and write what it produces.

    \b
    Example:
      ngsdk run supersampling build/nss.ngasset build/frames/0000.safetensors --out build/nss_frames
    """


def _sequences(path: Path, scale: int) -> list[Any]:
    """Readers (``.read(start, stop)``, ``name``, ``len``) of a .safetensors file, a folder of them, or an EXR
    capture tree."""
    from ngsdk.asset.errors import AssetError
    from ngsdk.supersampling.exr_io import find_capture_sequences, read_capture_sequence
    from ngsdk.supersampling.safetensors_io import SafetensorsSequence, find_sequence_files

    if path.is_file():
        return [SafetensorsSequence(path)]
    files = find_sequence_files(path)
    if files:
        return [SafetensorsSequence(f) for f in files]
    names = find_capture_sequences(path, scale)
    if not names:
        raise AssetError(path, f"holds no .safetensors sequences and no EXR capture tree (x{scale}/color/...)")
    return [_Memory(read_capture_sequence(path, n, scale)) for n in names]


class _Memory:
    """A sequence read whole (EXR capture tree) behind the lazy reader's ``read``."""

    def __init__(self, seq: Any):
        self.seq, self.name = seq, seq.name

    def __len__(self) -> int:
        return len(self.seq)

    def read(self, start: int, stop: int) -> Any:
        return self.seq.frames(start, stop)


def _display(linear: np.ndarray, exposure: float) -> np.ndarray:
    """(3, H, W) linear -> (H, W, 3) uint8 sRGB of the Reinhard-tonemapped frame (the metrics' display space)."""
    from ngsdk.supersampling.previews import display
    from ngsdk.textures.colour import linear_to_srgb

    return (np.clip(linear_to_srgb(display(linear, exposure)), 0, 1) * 255 + 0.5).astype(np.uint8)


def _reduce(img: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 box-reduced by the integer factor that makes it at most :data:`STRIP_TILE` wide."""
    k = -(-img.shape[1] // STRIP_TILE)
    if k <= 1:
        return img
    h, w = img.shape[0] // k * k, img.shape[1] // k * k
    x = img[:h, :w].astype(np.float32).reshape(h // k, k, w // k, k, 3).mean(axis=(1, 3))
    return (x + 0.5).astype(np.uint8)


def strip(rows: list[list[np.ndarray]]) -> np.ndarray:
    """Tiles (H, W, 3) uint8 in rows and columns, 4-pixel white gaps."""
    def join(tiles: list[np.ndarray], axis: int) -> np.ndarray:
        gap_shape = list(tiles[0].shape)
        gap_shape[axis] = 4
        gap = np.full(gap_shape, 255, np.uint8)
        out = [tiles[0]]
        for t in tiles[1:]:
            out += [gap, t]
        return np.concatenate(out, axis=axis)

    return join([join([_reduce(t) for t in r], 1) for r in rows], 0)


def _write_frame(path: Path, linear: np.ndarray, exposure: float, fmt: str) -> None:
    from ngsdk.supersampling.previews import write_png

    if fmt == "png":
        write_png(path, _display(linear, exposure))
    else:
        from ngsdk.supersampling.exr_io import write_exr

        write_exr(path, {c: linear[i].astype(np.float16) for i, c in enumerate("RGB")})


def run_sequence(asset: Any, reader: Any, out: Path, precision: str, fmt: str, frames: int | None,
                 strip_frames: int, progress: Any) -> dict[str, Any]:
    """Upscale one sequence into ``out``: ``NNNN.<fmt>`` per frame and ``strip.png``; returns its metrics."""
    from ngsdk.runtime_ref.supersampling import F32, Frame, run_frames, upsample_bilinear
    from ngsdk.runtime_ref.supersampling_metrics import psnr, reinhard

    n = len(reader) if frames is None else min(frames, len(reader))
    seq = reader.read(0, n)
    logexp = np.full(n, asset.exposure, F32) if asset.exposure is not None else seq.exposure.astype(F32)
    mult = [float(np.exp(F32(v))) for v in logexp]
    fr = [Frame(seq.colour[t], seq.depth[t], seq.motion[t], seq.jitter[t], seq.depth_params[t], mult[t])
          for t in range(n)]
    got = run_frames(asset, fr, seq.full_render_size, precision, progress=progress)["output"]
    for t in range(n):
        _write_frame(out / f"{t:04d}.{fmt}", got[t], mult[t], fmt)
    bilinear = np.stack([upsample_bilinear(f.colour, asset.scale) for f in fr])
    truth = seq.ground_truth if seq.ground_truth is not None and seq.ground_truth.size else None
    k = min(strip_frames, n)
    picks = sorted({round(i * (n - 1) / max(1, k - 1)) for i in range(k)})
    rows = [[_display(bilinear[t], mult[t]), _display(got[t], mult[t])]
            + ([_display(truth[t], mult[t])] if truth is not None else []) for t in picks]
    from ngsdk.supersampling.previews import write_png

    write_png(out / "strip.png", strip(rows))
    metrics: dict[str, Any] = {"frames": n, "size": list(got.shape[-2:])}
    if truth is not None:
        e = np.asarray(mult, F32)[:, None, None, None]
        metrics["psnr"] = round(psnr(reinhard(got * e), reinhard(truth * e)), 3)
        metrics["psnr_bilinear"] = round(psnr(reinhard(bilinear * e), reinhard(truth * e)), 3)
    return metrics


@command.command("supersampling")
@click.argument("bundle", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("sequence", type=click.Path(exists=True, path_type=Path))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the frames and strip.png (one subfolder per sequence when SEQUENCE holds several).")
@click.option("--precision", type=click.Choice(["int8", "fp32"]), show_default="int8 when the bundle has it",
              help="int8: the TOSA-arithmetic network the int8 VGF runs; fp32: the float network.")
@click.option("--format", "fmt", default="png", show_default=True, type=click.Choice(["png", "exr"]),
              help="png: Reinhard-tonemapped sRGB at the run's exposure; exr: linear RGB half (needs OpenEXR).")
@click.option("--frames", type=click.IntRange(1), help="Only the first N frames of each sequence.")
@click.option("--strip-frames", default=4, show_default=True, type=click.IntRange(1),
              help="Frames (evenly spaced) shown in strip.png.")
@verbosity_options
@friendly_errors
def supersampling(bundle: Path, sequence: Path, out: Path, precision: str | None, fmt: str, frames: int | None,
                  strip_frames: int) -> None:
    """Upscale SEQUENCE (a .safetensors sequence, a folder of them, or an EXR capture tree) with BUNDLE.

    Writes OUT/NNNN.png (or .exr) per frame and OUT/strip.png: bilinear input | ngsdk | ground truth.

    \b
    Example:
      ngsdk run supersampling build/nss.ngasset build/frames/0000.safetensors --out build/nss_frames --frames 8
    """
    from ngsdk.cli.progress import Counter
    from ngsdk.runtime_ref.supersampling import load_supersampling

    asset = load_supersampling(bundle)
    if precision is None:
        precision = "int8" if asset.int8 is not None else "fp32"
    elif precision == "int8" and asset.int8 is None:
        raise click.UsageError(f"{bundle} has no int8 network (trained without QAT); use --precision fp32")
    readers = _sequences(sequence, asset.scale)
    total = sum(len(r) if frames is None else min(frames, len(r)) for r in readers)
    with Counter(total, f"run {precision}") as counter:
        for r in readers:
            folder = out / r.name if len(readers) > 1 else out
            m = run_sequence(asset, r, folder, precision, fmt, frames, strip_frames,
                             lambda done, n, name=r.name: counter.step(f"{name}: frame {done}/{n}"))
            quality = (f"; PSNR {m['psnr']:.2f} dB (bilinear {m['psnr_bilinear']:.2f})" if "psnr" in m else "")
            log.info(f"{r.name}: {m['frames']} frames {m['size'][1]}x{m['size'][0]} -> {folder}{quality}")
    click.echo(str(out))

"""The work of one volume task: a volume file's bytes in, its bundle's files and report row out.

Like the texture task (``texture_task``): the driver ships the file, the worker trains with ``train volume``'s
code path (an ensemble's bricks one after another inside the task) and returns the bundle's files.
"""

from __future__ import annotations

import io
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from ngsdk.asset.errors import AssetError
from ngsdk.batch.texture_task import THUMBNAIL_SIDE, bundle_files, device_name, error_line, materialise


def slice_thumbnail(decoded: np.ndarray, source: np.ndarray) -> bytes:
    """PNG of the |error| heatmap of the middle z slice (normalized values, the previews' colours)."""
    from PIL import Image

    from ngsdk.textures.previews import heatmap

    z = decoded.shape[0] // 2
    err = np.abs(decoded[z].astype(np.float32) - source[z].astype(np.float32))
    img = Image.fromarray(heatmap(err)[::-1])  # y up, as the renderer shows it
    scale = THUMBNAIL_SIDE / max(img.size)
    img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))),
                     Image.Resampling.BOX if scale < 1 else Image.Resampling.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def train_volume_item(job: dict[str, Any]) -> dict[str, Any]:
    """One volume: ``job`` = ``{name, source, files: {file: bytes}, config (VolumeTrainConfig dict), reader,
    threads}`` -> ``{status, row, bundle, thumbnail, log}`` or ``{status: "failed", error, log}``; never raises."""
    lines: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="ngsdk-batch-"))
    folder = None
    t0 = time.perf_counter()
    try:
        import torch

        from ngsdk.exporters.neural_volume import write_neural_volume
        from ngsdk.volumes.config import VolumeTrainConfig
        from ngsdk.volumes.ingest import load_volume
        from ngsdk.volumes.train import train_volume

        if job.get("read_error"):
            raise AssetError(None, job["read_error"])
        if job.get("threads"):
            torch.set_num_threads(int(job["threads"]))
        folder = materialise(job["files"], tmp / "src", job["name"])
        (path,) = [folder / f for f in job["files"]]
        vol = load_volume(path, **job.get("reader", {}))
        cfg = VolumeTrainConfig.from_dict(job["config"])
        d, h, w = vol.values.shape
        lines.append(f"source {job['source']}: {w}x{h}x{d} (x, y, z) {vol.normalization.source_dtype}")
        lines.extend(f"  note: {n}" for n in vol.notes)
        result = train_volume(vol, cfg, log=lines.append)
        bundle = tmp / "out" / "volume.ngasset"
        write_neural_volume(result.asset, bundle)
        m = result.asset.provenance.metrics
        files = bundle_files(bundle)
        row: dict[str, Any] = {
            "shape": [d, h, w], "bricks": len(result.asset.bricks), "psnr_db": m["psnr_db"],
            "max_abs_error": m["max_abs_error"], "compression_ratio": m["compression_ratio"],
            "stored_bytes": m["stored_bytes"], "bpp": m["stored_bytes"] * 8.0 / (d * h * w),
            "bundle_bytes": sum(len(v) for v in files.values()), "steps": result.steps,
            "train_seconds": result.seconds, "device": device_name(cfg.device),
            "decode_mode": result.asset.decode_mode,
        }
        png = slice_thumbnail(result.reconstruction, vol.values)
        row["task_seconds"] = time.perf_counter() - t0
        lines.append(f"bundle: PSNR {m['psnr_db']:.2f} dB, {m['compression_ratio']:.1f}:1, {result.steps} steps "
                     f"in {result.seconds:.1f} s")
        return {"status": "ok", "row": row, "bundle": files, "thumbnail": png, "log": lines}
    except Exception as e:  # noqa: BLE001 - any failure is recorded as the volume's one-line error
        source = str(Path(job["source"]).parent) if folder is not None else job["source"]
        return {"status": "failed", "error": error_line(e, folder, source), "log": lines,
                "task_seconds": time.perf_counter() - t0}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

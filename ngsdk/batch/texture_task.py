"""The work of one texture task: a material's source files in, its bundle's files and report row out.

The driver ships the source bytes, so a worker needs neither the library nor the output folder on its
disk (a cluster without a shared file system works); the worker rebuilds the folder under a temporary
directory, trains with ``train texture``'s code path (``ngsdk.textures``), writes the bundle there with
the one bundle writer and returns its files. Errors come back as one line naming the source file.
"""

from __future__ import annotations

import io
import platform
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from ngsdk.asset.errors import AssetError

THUMBNAIL_SIDE = 128


def source_files(folder: Path, files: tuple[str, ...]) -> dict[str, bytes]:
    """The bytes a task needs: the material's files, read by the driver."""
    out = {}
    for name in files:
        try:
            out[name] = (folder / name).read_bytes()
        except OSError as e:
            raise AssetError(folder / name, f"cannot read file: {e.strerror or e}") from None
    return out


def materialise(files: dict[str, bytes], root: Path, name: str) -> Path:
    """Write ``files`` into ``root/<last part of name>`` (ingest names the texture set after its folder)."""
    folder = root / name.rsplit("/", 1)[-1]
    folder.mkdir(parents=True)
    for fname, data in files.items():
        (folder / fname).write_bytes(data)
    return folder


def error_line(e: BaseException, tmp_folder: Path | None, source: str) -> str:
    """One line for a failed item, naming the library's file instead of the worker's temporary copy."""
    if isinstance(e, AssetError):
        text = str(e)
    elif isinstance(e, ValueError):
        text = str(e)
    else:
        text = f"{type(e).__name__}: {e}"
    if tmp_folder is not None:
        text = text.replace(str(tmp_folder), source)
    return " ".join(text.split()) or type(e).__name__


def device_name(device: str) -> str:
    import torch

    from ngsdk.training import pick_device

    dev = pick_device(device)
    label = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
    return f"{label} on {platform.node()}"


def thumbnail(decoded: np.ndarray, source: np.ndarray, channels: list, texture: str) -> bytes:
    """PNG of ``texture``'s |error| heatmap (the previews' colours), at most THUMBNAIL_SIDE texels a side."""
    from PIL import Image

    from ngsdk.textures.metrics import texture_groups, to_stored
    from ngsdk.textures.previews import heatmap

    idx = texture_groups(channels)[texture]
    err = np.abs(to_stored(decoded, channels)[..., idx] - to_stored(source, channels)[..., idx]).mean(axis=-1)
    img = Image.fromarray(heatmap(err))
    scale = THUMBNAIL_SIDE / max(img.size)
    if scale < 1:
        img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))),
                         Image.Resampling.BOX)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def bundle_files(bundle: Path) -> dict[str, bytes]:
    return {p.relative_to(bundle).as_posix(): p.read_bytes() for p in sorted(bundle.rglob("*")) if p.is_file()}


def train_material(job: dict[str, Any]) -> dict[str, Any]:
    """One material: ``job`` = ``{name, source, files: {name: bytes}, config (TextureTrainConfig dict),
    target_psnr, threads}`` -> ``{status, row, bundle: {file: bytes}, thumbnail, log}`` or
    ``{status: "failed", error, log}``. Never raises: a failure is the material's, not the batch's."""
    lines: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="ngsdk-batch-"))
    folder = None
    t0 = time.perf_counter()
    try:
        import torch

        from ngsdk.exporters.neural_texture import write_neural_texture
        from ngsdk.textures.config import TextureTrainConfig
        from ngsdk.textures.ingest import load_texture_set
        from ngsdk.textures.loss_weights import check_loss_weights
        from ngsdk.textures.train import train_texture

        if job.get("read_error"):
            raise AssetError(None, job["read_error"])
        if job.get("threads"):
            torch.set_num_threads(int(job["threads"]))
        folder = materialise(job["files"], tmp / "src", job["name"])
        ts = load_texture_set(folder)
        cfg = TextureTrainConfig.from_dict(job["config"])
        check_loss_weights(ts.channels, cfg.loss_weights)
        lines.append(f"source {job['source']}: {ts.width}x{ts.height}, {len(ts.channels)} channels "
                     f"({', '.join(ts.channel_names)})")
        lines.extend(f"  note: {n}" for n in ts.notes)
        if job.get("target_psnr") is not None:
            from ngsdk.textures.rate import train_to_target

            search = train_to_target(ts, cfg, float(job["target_psnr"]), log=lines.append,
                                     train=lambda t, c: train_texture(t, c, log=lines.append))
            result = search.result
        else:
            result = train_texture(ts, cfg, log=lines.append)
        bundle = tmp / "out" / "material.ngasset"
        write_neural_texture(result.asset, bundle)
        m = result.asset.provenance.metrics
        textures = dict(m["per_mip"][0]["textures_db"])
        worst = min(textures, key=textures.get)
        row: dict[str, Any] = {
            "channels": ts.channel_names, "width": ts.width, "height": ts.height,
            "bpp": m["bpp"], "psnr_db": m["psnr_db"], "textures_db": textures, "worst_texture": worst,
            "steps": result.steps, "train_seconds": result.seconds, "device": device_name(cfg.device),
            "decode_mode": result.asset.decode_mode, "bundle_bytes": 0,
        }
        if "rate_search" in m:
            row["rate_search"] = m["rate_search"]
        try:
            from ngsdk.textures.bcn import BcnUnavailable, bcn_quality
        except ImportError:  # pragma: no cover - bcn.py is numpy only
            BcnUnavailable = RuntimeError  # noqa: N806
        try:
            bc = bcn_quality(ts)
            row["bcn"] = {"layout": bc["layout"], "bpp": bc["bpp"], "psnr_db": bc["overall_db"],
                          "textures_db": bc["textures_db"]}
        except BcnUnavailable as e:
            row["bcn_missing"] = str(e)
        files = bundle_files(bundle)
        row["bundle_bytes"] = sum(len(v) for v in files.values())
        png = thumbnail(result.decoded_mip0, result.source_mip0, ts.channels, worst)
        row["task_seconds"] = time.perf_counter() - t0
        lines.append(f"bundle: {m['bpp']:.3f} bpp, mip0 PSNR {m['psnr_db']:.2f} dB "
                     f"({', '.join(f'{k} {v:.2f}' for k, v in textures.items())}), {result.steps} steps "
                     f"in {result.seconds:.1f} s")
        return {"status": "ok", "row": row, "bundle": files, "thumbnail": png, "log": lines}
    except Exception as e:  # noqa: BLE001 - any failure is recorded as the material's one-line error
        return {"status": "failed", "error": error_line(e, folder, str(job["source"])), "log": lines,
                "task_seconds": time.perf_counter() - t0}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

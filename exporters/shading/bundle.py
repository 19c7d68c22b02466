"""Write a shading MLP as an ``.ngasset`` bundle: weights.npz + portable exports + manifest.json.

Like exporters.bundle for neural textures, the bundle is assembled in a temporary sibling folder
and renamed into place, so a reader never sees a half-written bundle. Graph exports listed in
``asset.exports`` that already sit in the old bundle are carried over.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from exporters.npz import write_npz
from exporters.shading.portable import write_portable
from ngsdk.asset.atomic import atomic_write_bytes
from ngsdk.asset.manifest import FORMAT_VERSION, MANIFEST_NAME, dump_manifest, file_record
from ngsdk.asset.shading import ShadingMlpAsset, shading_to_manifest


def write_shading_files(
    asset: ShadingMlpAsset, folder: Path, extra_files: dict[str, dict] | None = None, portable: bool = True
) -> dict[str, Any]:
    """Write weights, portable exports and the manifest into an existing ``folder``; return the manifest."""
    files: dict[str, dict] = dict(extra_files or {})
    write_npz(folder / asset.decoder.file, asset.decoder.arrays())
    files[asset.decoder.file] = file_record(folder / asset.decoder.file)
    asset.portable = write_portable(asset, folder) if portable else []
    for entry in asset.portable:
        files[entry["file"]] = file_record(folder / entry["file"])
    manifest = shading_to_manifest(asset, files, FORMAT_VERSION)
    atomic_write_bytes(folder / MANIFEST_NAME, dump_manifest(manifest))
    return manifest


def write_shading_bundle(asset: ShadingMlpAsset, out: str | Path, *, portable: bool = True) -> dict[str, Any]:
    """Write ``asset`` to the bundle folder ``out`` (replacing it atomically); return the manifest."""
    out = Path(out)
    if out.exists() and not (out / MANIFEST_NAME).is_file() and any(out.iterdir()):
        raise FileExistsError(f"{out}: exists and is not an ngsdk bundle; refusing to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        keep = {}
        for export in asset.exports:
            for f in export.files:
                top = f.split("/")[0]
                src = out / top
                if src.is_dir():
                    shutil.copytree(src, tmp / top)
                elif src.is_file():
                    shutil.copy2(src, tmp / top)
                if (tmp / top).exists():
                    keep[top] = file_record(tmp / top)
        manifest = write_shading_files(asset, tmp, keep, portable)
        old = None
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            os.replace(out, old)
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(tmp)
        raise
    return manifest

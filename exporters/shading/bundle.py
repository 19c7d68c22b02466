"""Write a shading MLP as an ``.ngasset`` bundle: weights.npz + portable exports + manifest.json.

Like exporters.bundle for neural textures, the bundle is assembled in a temporary sibling folder
and renamed into place, so a reader never sees a half-written bundle. Graph exports listed in
``asset.exports`` that already sit in the old bundle are carried over.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from exporters.npz import write_npz
from exporters.shading.portable import write_portable
from ngsdk.asset.atomic import atomic_write_bytes, replace_folder
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
    keep = [f.split("/")[0] for e in asset.exports for f in e.files]

    def fill(tmp: Path) -> dict[str, Any]:
        kept = {name: file_record(tmp / name) for name in dict.fromkeys(keep) if (tmp / name).exists()}
        return write_shading_files(asset, tmp, kept, portable)

    return replace_folder(out, fill, marker=MANIFEST_NAME, keep=keep)

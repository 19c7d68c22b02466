"""The bundle writer every kind shares: payload files, ``manifest.json`` with their records, atomic replacement.

A kind's writer (``ngsdk.exporters.neural_texture``, ``neural_volume``, ``shading_mlp``) passes its payload
function and its codec's ``to_manifest``. The bundle is assembled in a temporary sibling folder and renamed
into place, so a reader never sees a half-written bundle. Graph exports listed in ``asset.exports`` keep
their files from the bundle being replaced; files of exports not listed there are dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from ngsdk.asset.atomic import atomic_write_bytes, replace_folder
from ngsdk.asset.codec import FileRecords
from ngsdk.asset.manifest import MANIFEST_NAME, dump_manifest, file_record

A = TypeVar("A")
Payload = Callable[[A, Path], Iterable[str]]
"""``(asset, folder) -> names``: writes the kind's payload files into ``folder`` and names them."""
ToManifest = Callable[[A, FileRecords], dict[str, Any]]


def write_bundle(asset: A, out: str | Path, payload: Payload, to_manifest: ToManifest) -> dict[str, Any]:
    """Write ``asset`` to the bundle folder ``out`` (replacing an older bundle atomically); return the manifest."""
    keep = list(dict.fromkeys(f.split("/")[0] for e in asset.exports for f in e.files))  # type: ignore[attr-defined]

    def fill(tmp: Path) -> dict[str, Any]:
        files = {name: file_record(tmp / name) for name in keep if (tmp / name).exists()}
        for name in payload(asset, tmp):
            files[name] = file_record(tmp / name)
        manifest = to_manifest(asset, files)
        atomic_write_bytes(tmp / MANIFEST_NAME, dump_manifest(manifest))
        return manifest

    return replace_folder(out, fill, marker=MANIFEST_NAME, keep=keep)

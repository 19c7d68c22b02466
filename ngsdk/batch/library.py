"""Finding the items of a library and the key that says whether an item's output is up to date (torch-free).

A texture library is a folder tree; every folder that holds texture images (the suffixes ``train texture``
reads or refuses) or a ``channels.json`` is one material, trained from exactly those files (ingest's rules
decide what each holds). A volume library is a folder tree of volume files (.npy, .vti, .nc, .raw).
An item's key is the sha256 of its source files' digests, the training configuration and the ngsdk version:
a re-run retrains an item only when one of them changed.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ngsdk import __version__
from ngsdk.asset.errors import AssetError
from ngsdk.textures.channel_file import CHANNEL_FILE_NAME
from ngsdk.textures.images import IMAGE_SUFFIXES, UNSUPPORTED_IMAGE_SUFFIXES

TEXTURE_SUFFIXES = frozenset((*IMAGE_SUFFIXES, *UNSUPPORTED_IMAGE_SUFFIXES))
VOLUME_SUFFIXES = frozenset((".npy", ".vti", ".nc", ".raw"))
SKIP_DIR_SUFFIXES = (".ngasset", "_previews")
"""Folders never searched: bundles and preview folders (an output folder inside the library)."""


@dataclass(frozen=True)
class Item:
    """One unit of work: ``name`` (its path in the library, ``/``-separated: the output's path in OUT),
    ``source`` (the material folder or volume file) and ``files`` (relative names of the source files)."""

    name: str
    source: Path
    files: tuple[str, ...]

    def paths(self) -> list[Path]:
        return [self.source / f for f in self.files] if self.source.is_dir() else [self.source]


def _walk(library: Path, skip: Path | None) -> list[Path]:
    """Every folder under ``library`` (itself included), sorted, minus hidden, bundle and ``skip`` folders."""
    out = []
    for root, dirs, _ in os.walk(library):
        here = Path(root)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not d.endswith(SKIP_DIR_SUFFIXES)
                         and (skip is None or not _same(here / d, skip)))
        out.append(here)
    return sorted(out)


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _check_library(library: Path) -> None:
    if not library.exists():
        raise AssetError(library, "library folder does not exist")
    if not library.is_dir():
        raise AssetError(library, "is not a folder (give the folder that holds the material folders)")


def find_materials(library: str | Path, *, skip: str | Path | None = None) -> list[Item]:
    """Every material folder under ``library`` (``skip``: a folder not to search, e.g. the output)."""
    library = Path(library)
    _check_library(library)
    items = []
    for folder in _walk(library, Path(skip) if skip is not None else None):
        files = tuple(sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")
                             and (p.suffix.lower() in TEXTURE_SUFFIXES or p.name == CHANNEL_FILE_NAME)))
        if files:
            rel = folder.relative_to(library).as_posix()
            items.append(Item(library.resolve().name if rel == "." else rel, folder, files))
    if not items:
        raise AssetError(library, "no material folders found (a material folder holds texture images, "
                                  f"{', '.join(IMAGE_SUFFIXES)}, or a {CHANNEL_FILE_NAME})")
    return items


def find_volumes(library: str | Path, *, skip: str | Path | None = None) -> list[Item]:
    """Every volume file under ``library`` (or ``library`` itself when it is one file)."""
    library = Path(library)
    if library.is_file():
        return [Item(library.stem, library, (library.name,))]
    _check_library(library)
    items = []
    for folder in _walk(library, Path(skip) if skip is not None else None):
        for p in sorted(folder.iterdir()):
            if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in VOLUME_SUFFIXES:
                rel = p.relative_to(library).with_suffix("").as_posix()
                items.append(Item(rel, p, (p.name,)))
    if not items:
        raise AssetError(library, f"no volume files found (looked for {', '.join(sorted(VOLUME_SUFFIXES))})")
    return items


def file_digests(item: Item, cache: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """``{file: {"sha256", "size", "mtime_ns"}}`` of an item's sources. ``cache`` (the same mapping from the last
    run's record) lets an unchanged file (same size and mtime) skip the read."""
    out = {}
    for name, path in zip(item.files, item.paths(), strict=True):
        try:
            st = path.stat()
            old = (cache or {}).get(name)
            if old and old.get("size") == st.st_size and old.get("mtime_ns") == st.st_mtime_ns:
                digest = old["sha256"]
            else:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as e:
            raise AssetError(path, f"cannot read file: {e.strerror or e}") from None
        out[name] = {"sha256": digest, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    return out


def item_key(digests: dict[str, dict[str, Any]], config: dict[str, Any], version: str = __version__) -> str:
    """sha256 over the source files' names and digests, the canonical config JSON and the ngsdk version."""
    doc = {"files": {k: v["sha256"] for k, v in sorted(digests.items())}, "config": config, "ngsdk": version}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()).hexdigest()

"""The state of a batch on disk: one record beside each bundle, a lock on the output folder (torch-free).

For an item ``NAME`` the output folder holds ``NAME.ngasset/`` (the bundle), ``NAME.batch.json`` (its record:
key, status, the one-line error of a failure, the report row, the source digests) and ``NAME.log`` (the
training log); a texture item also ``NAME.error.png`` (the worst texture's error map). The bundle is written
first (atomically: a temporary sibling folder renamed into place), the record last, so a record saying
``ok`` always describes a complete bundle, and a batch killed at any point leaves nothing a re-run trusts by
mistake: it retrains the items whose record is missing, failed or keyed differently.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ngsdk.asset.atomic import atomic_write_bytes
from ngsdk.asset.errors import AssetError
from ngsdk.asset.manifest import MANIFEST_NAME

RECORD_SUFFIX = ".batch.json"
LOCK_NAME = ".batch.lock"
BATCH_LOG = "batch.log"
"""The batch's own log in the output folder (the CLI writes it)."""


def bundle_path(out: Path, name: str) -> Path:
    return out / f"{name}.ngasset"


def record_path(out: Path, name: str) -> Path:
    return out / f"{name}{RECORD_SUFFIX}"


def log_path(out: Path, name: str) -> Path:
    return out / f"{name}.log"


def thumbnail_path(out: Path, name: str) -> Path:
    return out / f"{name}.error.png"


def read_record(out: Path, name: str) -> dict[str, Any] | None:
    """The item's record, or None when there is none or it cannot be read (the item is then retrained)."""
    try:
        rec = json.loads(record_path(out, name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return rec if isinstance(rec, dict) else None


def write_record(out: Path, name: str, record: dict[str, Any]) -> None:
    atomic_write_bytes(record_path(out, name), (json.dumps(record, indent=1, sort_keys=True) + "\n").encode())


def up_to_date(out: Path, name: str, record: dict[str, Any] | None, key: str) -> bool:
    """Whether the item's output was made from this key and is complete."""
    return (record is not None and record.get("status") == "ok" and record.get("key") == key
            and (bundle_path(out, name) / MANIFEST_NAME).is_file())


@contextlib.contextmanager
def batch_lock(out: Path) -> Iterator[None]:
    """Hold ``OUT/.batch.lock`` for the batch: two batches writing one output folder is an error."""
    out.mkdir(parents=True, exist_ok=True)
    fd = os.open(out / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AssetError(out, "another batch is writing this output folder (it holds .batch.lock)") from None
        yield
    finally:
        os.close(fd)


def _ours(p: Path) -> bool:
    """Whether a hidden entry is a killed batch's temporary: a bundle folder being built or swapped
    (``.NAME.ngasset.*``), or a record, log, thumbnail or report written through a temporary file."""
    if p.is_dir():
        return ".ngasset." in p.name
    if not p.name.endswith(".tmp") or p.name.startswith(f".{BATCH_LOG}."):  # the CLI's log handles its own
        return False
    stem = p.name[1:].rsplit(".", 2)[0]
    return stem.endswith((RECORD_SUFFIX, ".error.png", ".log")) or stem in ("report.json", "report.html")


def remove_leftovers(out: Path) -> list[Path]:
    """Remove what a killed batch left half-written (temporary bundle folders and files, bundles renamed aside
    during a swap). Call with the batch lock held."""
    gone = []
    for p in sorted(out.rglob(".*")):
        if p.name == LOCK_NAME or not p.exists() or not _ours(p):
            continue
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
        gone.append(p)
    return gone

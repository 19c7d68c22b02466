"""Checks every ``ngsdk train`` command runs on its options before loading data or taking the first step.

A run that would fail at its end (an ``--out`` that names a file, a ``--checkpoint`` that is a folder, a
truncated ``--resume`` file, a NaN loss weight) fails here instead, in one line: ``click.BadParameter``
(exit 2, naming the option) or :class:`~ngsdk.asset.errors.AssetError` (naming the file).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import click

from ngsdk.asset.errors import AssetError

CHECKPOINT_MEMBERS = ("meta", "rng")
"""Arrays every ngsdk training checkpoint holds (ngsdk.textures.checkpoint and the other trainers)."""


def check_out_bundle(out: Path, option: str = "--out") -> None:
    """``out`` can become a bundle folder: absent, an empty folder or an ngsdk bundle; its parent a folder."""
    if os.path.lexists(out) and not out.is_dir():
        raise click.BadParameter(f"{out} exists and is not a folder (a bundle is a folder NAME.ngasset)",
                                 param_hint=f"'{option}'")
    if out.is_dir() and not (out / "manifest.json").is_file() and any(out.iterdir()):
        raise click.BadParameter(f"{out} is a folder that is not an ngsdk bundle; refusing to replace it",
                                 param_hint=f"'{option}'")
    parent = out.parent if str(out.parent) else Path(".")
    existing = next((p for p in (parent, *parent.parents) if os.path.lexists(p)), None)
    if existing is not None and not existing.is_dir():
        raise click.BadParameter(f"{existing} is not a folder, so {out} cannot be written", param_hint=f"'{option}'")
    if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        raise click.BadParameter(f"{existing} is not writable", param_hint=f"'{option}'")


def check_output_file(path: Path | None, option: str) -> None:
    """``path`` can become a file (``--checkpoint``, ``--log``): not a folder or a special file."""
    if path is None:
        return
    if path.is_dir():
        raise click.BadParameter(f"{path} is a folder; give a file name", param_hint=f"'{option}'")
    if os.path.lexists(path) and not path.is_file():
        raise click.BadParameter(f"{path} exists and is not a regular file", param_hint=f"'{option}'")
    parent = path.parent if str(path.parent) else Path(".")
    if os.path.lexists(parent) and not parent.is_dir():
        raise click.BadParameter(f"{parent} is not a folder", param_hint=f"'{option}'")


def check_resume(path: Path | None, option: str = "--resume") -> None:
    """``path`` is a complete ngsdk checkpoint: a regular, non-empty npz (limits of ngsdk.runtime_ref.npz) with
    the members every checkpoint has and only finite float values; AssetError naming the file otherwise."""
    if path is None:
        return
    import numpy as np

    from ngsdk.runtime_ref.npz import read_npz

    if path.is_file() and path.stat().st_size == 0:
        raise AssetError(path, f"{option}: the checkpoint is empty (0 bytes; a run killed while writing it?)")
    try:
        arrays = read_npz(path)
    except AssetError as e:
        raise AssetError(path, f"{option}: not a readable ngsdk checkpoint ({e.problem})") from None
    missing = [m for m in CHECKPOINT_MEMBERS if m not in arrays]
    if missing:
        raise AssetError(path, f"{option}: not an ngsdk checkpoint (no {', '.join(missing)} array)")
    for name, a in arrays.items():
        if a.dtype.kind in "fc" and not np.isfinite(a).all():
            raise AssetError(path, f"{option}: array {name!r} holds NaN or infinite values")


def check_finite(value: float | None, option: str) -> None:
    """A float option is a finite number (click's FloatRange lets ``nan`` through)."""
    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a finite number", param_hint=f"'{option}'")


def check_weights(weights: dict[str, float], option: str = "--loss-weight") -> None:
    """Loss weights are finite and not negative."""
    for name, w in weights.items():
        if not math.isfinite(w) or w < 0:
            raise click.BadParameter(f"{name}={w}: a weight is a finite number >= 0", param_hint=f"'{option}'")


def check_train_options(out: Path, *, checkpoint: Path | None = None, resume: Path | None = None,
                        log_file: Path | None = None) -> None:
    """The checks every trainer's options share, in one call."""
    check_out_bundle(out)
    check_output_file(checkpoint, "--checkpoint")
    check_output_file(log_file, "--log")
    check_resume(resume)

"""This checkout as ``pip install .`` installs it (no dependencies), into a folder of its own.

Built from a copy of the tracked and new files, never in the checkout: pip builds in the source tree, and
an in-tree ``build/lib`` keeps modules that were since removed. ``exporters/`` and ``runtime_ref/`` install
as ``ngsdk.exporters`` and ``ngsdk.runtime_ref`` (setup.py), so the checkout itself on ``sys.path`` is not
an installation.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def copy_checkout(dst: Path) -> Path:
    """The tracked and new (not ignored) files of the checkout, copied to ``dst``."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=REPO,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        src = REPO / rel
        if src.is_file():
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            (dst / rel).write_bytes(src.read_bytes())
            (dst / rel).chmod(src.stat().st_mode)
    return dst


def pip_target(site: Path, *requirements: str) -> str:
    """``pip install --no-deps --target site ...`` with this interpreter's setuptools; pip's output."""
    res = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
                          "--disable-pip-version-check", "--target", str(site), *requirements],
                         capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"pip install {' '.join(requirements)} failed:\n{res.stdout[-3000:]}{res.stderr[-3000:]}")
    return res.stdout + res.stderr


def install_checkout(root: Path, site: Path | None = None) -> Path:
    """Install a copy of the checkout (made under ``root``) into ``site`` (default ``root/site``); return it."""
    site = site or root / "site"
    pip_target(site, str(copy_checkout(root / "checkout")))
    return site

"""Atomic writes from several threads (the PBR synthesis writes its PNGs from a pool): the files get the
permissions of an ordinary write and the process umask survives."""

from __future__ import annotations

import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ngsdk.asset import atomic
from ngsdk.asset.atomic import atomic_write_bytes


def test_threaded_atomic_writes_keep_the_umask(tmp_path: Path) -> None:
    before = os.umask(0o022)
    atomic._umask.cache_clear()  # read it afresh, from the threads below
    try:
        def write(i: int) -> Path:
            path = tmp_path / f"f{i % 8}" / f"{i}.bin"
            atomic_write_bytes(path, i.to_bytes(4, "little"))
            return path

        with ThreadPoolExecutor(max_workers=8) as pool:
            paths = list(pool.map(write, range(400)))
        assert os.umask(0o022) == 0o022  # nobody left it at 0
        assert {stat.S_IMODE(p.stat().st_mode) for p in paths} == {0o644}
        assert all(p.read_bytes() == i.to_bytes(4, "little") for i, p in enumerate(paths))
    finally:
        os.umask(before)
        atomic._umask.cache_clear()

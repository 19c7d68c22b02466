"""The folder swap of ngsdk.asset.atomic and the log file of ngsdk.cli.progress under crashes: the states a
killed writer can leave are repaired, and a killed run keeps the previous run's log."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ngsdk.asset.atomic import exchange, recover_folder, replace_folder

DEAD_PID = 4_000_000   # above Linux's pid_max: no process has it


def _folder(path: Path, text: str) -> Path:
    path.mkdir()
    (path / "manifest.json").write_text(text)
    return path


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="renameat2 is Linux's")
def test_exchange_swaps_two_folders_in_one_step(tmp_path: Path) -> None:
    a, b = _folder(tmp_path / "a", "new"), _folder(tmp_path / "b", "old")
    assert exchange(a, b)
    assert (b / "manifest.json").read_text() == "new" and (a / "manifest.json").read_text() == "old"


def test_recover_puts_back_the_old_folder_of_a_dead_writer(tmp_path: Path) -> None:
    out = tmp_path / "x.ngasset"
    _folder(tmp_path / f".x.ngasset.old-{DEAD_PID}", "old")      # killed between its two renames
    (tmp_path / f".x.ngasset.{DEAD_PID}.abc.tmp").mkdir()         # its half-built new folder
    live = tmp_path / f".x.ngasset.{os.getpid()}.def.tmp"          # a running writer's: left alone
    live.mkdir()
    assert recover_folder(out) is not None
    assert (out / "manifest.json").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["x.ngasset", live.name])


def test_recover_removes_a_stale_old_folder_when_the_bundle_exists(tmp_path: Path) -> None:
    out = _folder(tmp_path / "x.ngasset", "new")
    _folder(tmp_path / f".x.ngasset.old-{DEAD_PID}", "old")
    assert recover_folder(out) is None
    assert [p.name for p in tmp_path.iterdir()] == ["x.ngasset"]
    assert (out / "manifest.json").read_text() == "new"


@pytest.mark.parametrize("swap", ["exchange", "rename"])
def test_replace_folder_replaces_and_leaves_nothing_behind(swap: str, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    if swap == "rename":
        monkeypatch.setenv("NGSDK_SWAP", "rename")
    out = _folder(tmp_path / "x.ngasset", "old")

    def fill(tmp: Path) -> str:
        (tmp / "manifest.json").write_text("new")
        return "done"

    assert replace_folder(out, fill, marker="manifest.json") == "done"
    assert (out / "manifest.json").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["x.ngasset"]
    (tmp_path / "file.ngasset").write_text("x")
    with pytest.raises(FileExistsError, match="not a folder"):
        replace_folder(tmp_path / "file.ngasset", fill, marker="manifest.json")


KILLED_RUN = """
import os, signal, sys
from ngsdk.cli.common import log, setup_logging
from ngsdk.cli.progress import log_file
setup_logging(0)
with log_file(sys.argv[1]):
    log.info("half of a new run")
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_run_keeps_the_previous_log(tmp_path: Path) -> None:
    path = tmp_path / "out.ngasset.log"
    path.write_text("the previous run's log\n")
    res = subprocess.run([sys.executable, "-c", KILLED_RUN, str(path)], capture_output=True)
    assert res.returncode == -signal.SIGKILL
    assert path.read_text() == "the previous run's log\n"
    from ngsdk.cli.common import log
    from ngsdk.cli.progress import log_file

    with log_file(path):          # the next run replaces it and removes the killed run's leftover
        log.info("a whole run")
    assert path.read_text() == "a whole run\n"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_a_killed_exports_staging_folder_is_removed_by_the_next_export(base_bundle: Path, tmp_path: Path) -> None:
    """A graph export stages inside the bundle in ``.export-PID-*``; a killed export's folder is removed by the next
    export's staging (a running writer's is kept), and until then verify names it as an interrupted export."""
    import shutil

    from ngsdk.asset.errors import AssetError
    from ngsdk.asset.manifest import read_manifest
    from ngsdk.exporters.graph._util import staging_dir

    bundle = tmp_path / "b.ngasset"
    shutil.copytree(base_bundle, bundle)
    dead, alive = bundle / f".export-{DEAD_PID}-abc", bundle / f".export-{os.getpid()}-xyz"
    dead.mkdir()
    with pytest.raises(AssetError, match="interrupted 'ngsdk export'"):
        read_manifest(bundle)
    alive.mkdir()
    with staging_dir(bundle) as tmp:
        assert tmp.name.startswith(f".export-{os.getpid()}-") and tmp.is_dir()
        assert not dead.exists() and alive.is_dir()
    assert not tmp.exists()
    alive.rmdir()
    read_manifest(bundle)

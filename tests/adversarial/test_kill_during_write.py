"""A writer killed (SIGKILL) at any point of its final folder swap never leaves ``--out`` without a bundle
that verifies (issue 14, class 1), with the atomic exchange (renameat2) and with the two-rename fallback
(``NGSDK_SWAP=rename``) whose leftover the next read puts back."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .bounded import CLI, run_bounded

REPO = Path(__file__).resolve().parents[2]

# rewrites the base bundle into OUT forever (the same bytes each time: a fixed seed)
WRITER = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from tests.fixtures.decode_vectors import tiny_asset, write_vector_bundle
asset = tiny_asset(layout="pyramid")
print("ready", flush=True)
while True:
    write_vector_bundle(asset, Path(sys.argv[1]))
"""


def _writer(out: Path, env: dict[str, str]) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-c", WRITER, str(out), str(REPO)], stdout=subprocess.PIPE, env=env)
    assert p.stdout is not None and p.stdout.readline().strip() == b"ready"
    return p


@pytest.mark.parametrize("swap", ["exchange", "rename"])
def test_killed_writer_leaves_a_bundle_that_verifies(swap: str, base_bundle: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.ngasset"
    env = dict(os.environ)
    if swap == "rename":
        env["NGSDK_SWAP"] = "rename"
    rng = random.Random(14)
    want = {p.name: p.read_bytes() for p in base_bundle.iterdir()}
    shutil.copytree(base_bundle, out)      # the previous run's bundle
    for i in range(6):
        p = _writer(out, env)
        time.sleep(rng.uniform(0.05, 0.6))      # somewhere inside one of the many rewrites
        p.send_signal(signal.SIGKILL)
        p.wait()
        o = run_bounded([*CLI, "verify", "-q", out])
        assert o.returncode == 0 and o.stdout.strip() == "PASS", f"kill {i}: " + o.describe()
        assert {q.name: q.read_bytes() for q in out.iterdir()} == want, f"kill {i}: bytes changed"
    leftovers = sorted(q.name for q in tmp_path.iterdir() if q.name != "out.ngasset")
    # verify restores a missing bundle; the next writer removes the dead writers' temporary folders
    p = _writer(out, env)
    time.sleep(0.3)
    p.send_signal(signal.SIGTERM)
    p.wait()
    run_bounded([*CLI, "verify", "-q", out])
    stale = [q for q in tmp_path.iterdir() if q.name.startswith(".out.ngasset.") and str(p.pid) not in q.name]
    assert not stale, f"leftovers of killed writers stay: {stale} (before: {leftovers})"

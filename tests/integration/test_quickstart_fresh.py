"""Issue 12 item 9: the quickstart needs nothing beside the checkout. The sample material ships in the package
(ngsdk/samples/ground068_512, CC0, with its licence), and tools/quickstart.sh runs end to end in a copy of the
checkout that has no ../shared beside it, installed from that copy (its steps; tools/setup.sh is what the README
command adds)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.integration.engine_build import REPO
from tests.integration.graph_nets import require_toolchain
from tests.integration.installed import copy_checkout, pip_target
from tests.integration.numpy_only import clean_env

SAMPLE = REPO / "ngsdk" / "samples" / "ground068_512"


def test_sample_material_ships_with_its_licence() -> None:
    from ngsdk.textures.ingest import load_texture_set

    ts = load_texture_set(SAMPLE)
    assert (ts.width, ts.height) == (512, 512) and len(ts.channels) == 9 and len(ts.sources) == 5
    size = sum(p.stat().st_size for p in SAMPLE.iterdir())
    assert size < 600_000, size  # a few hundred KB in the repository
    licence = (SAMPLE / "LICENSE.txt").read_text()
    assert "CC0 1.0" in licence and "ambientCG" in licence and "Ground068" in licence
    pyproject = (REPO / "pyproject.toml").read_text()
    assert '"samples/ground068_512/*.jpg", "samples/ground068_512/LICENSE.txt"' in pyproject  # in the wheel too
    script = (REPO / "tools" / "quickstart.sh").read_text()
    assert 'src="ngsdk/samples/ground068_512"' in script and "../shared" not in script
    assert "ngsdk/samples/ground068_512" in (REPO / "README.md").read_text()


def test_quickstart_runs_in_a_copy_without_shared(tmp_path: Path) -> None:
    require_toolchain()
    clone = copy_checkout(tmp_path / "clone" / "ngsdk")
    assert not (clone.parent / "shared").exists() and not (clone / ".venv").exists()
    site = tmp_path / "site"
    pip_target(site, str(clone))  # the copy's code, installed as pip installs it
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "ngsdk").write_text(f'#!/bin/sh\nPYTHONPATH="{site}" exec "{site}/bin/ngsdk" "$@"\n')
    (shim / "ngsdk").chmod(0o755)
    env = clean_env(PATH=f"{shim}{os.pathsep}/usr/local/bin:/usr/bin:/bin")
    res = subprocess.run(["bash", "tools/quickstart.sh", "--no-setup", "--time-budget", "5"], cwd=clone, env=env,
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    out = clone / "build" / "quickstart"
    assert json.loads((out / "report.json").read_text())["result"] == "PASS"
    assert (out / "report.html").is_file() and (out / "maps" / "albedo.png").is_file()
    assert "engine payload" in res.stdout
    where = subprocess.run([sys.executable, "-c", "import ngsdk.runtime_ref; print(ngsdk.runtime_ref.__file__)"],
                           cwd=tmp_path, env={**env, "PYTHONPATH": str(site)}, capture_output=True, text=True).stdout
    assert where.startswith(str(site)), where  # the run used the installed copy, not the checkout

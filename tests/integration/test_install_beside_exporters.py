"""``pip install .`` beside the unrelated PyPI package named ``exporters`` (issue 13): ngsdk installs one
top-level import name, ``ngsdk`` (its exporters/ and runtime_ref/ folders as ``ngsdk.exporters`` and
``ngsdk.runtime_ref``), so neither package overwrites the other.

Both go into one target folder, PyPI's ``exporters`` first (network: pip fetches it from PyPI), then a copy of
this checkout. PyPI's ``exporters`` 0.7.0 is Python 2 code that no Python 3 can run; what "importable" can mean
for it is that its files are intact (its RECORD's hashes) and ``import exporters`` finds them.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import os
import subprocess
import sys
from pathlib import Path

from tests.integration.installed import REPO, copy_checkout, pip_target

PYPI_EXPORTERS = "exporters==0.7.0"


def _record(site: Path, dist: str) -> list[list[str]]:
    info = next(site.glob(f"{dist}-*.dist-info"))
    return list(csv.reader((info / "RECORD").read_text().splitlines()))


def test_ngsdk_and_pypi_exporters_install_side_by_side(tmp_path: Path) -> None:
    site = tmp_path / "site"
    pip_target(site, PYPI_EXPORTERS)
    out = pip_target(site, str(copy_checkout(tmp_path / "checkout")))
    assert "already exists" not in out, out  # pip --target skips a top-level folder that is already there

    ngsdk_top = {row[0].split("/")[0] for row in _record(site, "ngsdk")}  # "..": the ngsdk script in bin/
    assert {t for t in ngsdk_top if not t.endswith(".dist-info") and t not in ("bin", "..")} == {"ngsdk"}, ngsdk_top
    for path, digest, _size in _record(site, "exporters"):  # PyPI's files, byte for byte
        if digest:
            algo, _, want = digest.partition("=")
            got = base64.urlsafe_b64encode(hashlib.new(algo, (site / path).read_bytes()).digest()).rstrip(b"=")
            assert got.decode() == want, path

    code = (
        "import importlib.metadata, importlib.util, sys\n"
        "from pathlib import Path\n"
        "spec = importlib.util.find_spec('exporters')\n"
        "assert Path(spec.origin) == Path(sys.argv[1]) / 'exporters' / '__init__.py', spec.origin\n"
        "assert importlib.metadata.version('exporters') == '0.7.0'\n"
        "import ngsdk, ngsdk.exporters.neural_texture, ngsdk.runtime_ref.neural_texture\n"
        "assert Path(ngsdk.__file__).parent == Path(sys.argv[1]) / 'ngsdk', ngsdk.__file__\n"
        "from tests.fixtures.decode_vectors import tiny_asset\n"
        "asset = tiny_asset('exact', 'wrap', 'pyramid')\n"
        "ngsdk.exporters.neural_texture.write_neural_texture(asset, Path(sys.argv[2]))\n"
        "back = ngsdk.runtime_ref.neural_texture.load_neural_texture(Path(sys.argv[2]))\n"
        "assert back.name == asset.name and back.decode_mode == 'exact'\n"
        "print('ok')\n"
    )
    fixtures = tmp_path / "fixtures"  # tests.fixtures alone: the checkout's own exporters/ must not be on the path
    for rel in ("tests/__init__.py", "tests/fixtures/__init__.py", "tests/fixtures/decode_vectors.py"):
        (fixtures / rel).parent.mkdir(parents=True, exist_ok=True)
        (fixtures / rel).write_bytes((REPO / rel).read_bytes())
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(fixtures)])}
    res = subprocess.run([sys.executable, "-c", code, str(site), str(tmp_path / "b.ngasset")], cwd=tmp_path,
                         env=env, capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stdout + res.stderr[-3000:]

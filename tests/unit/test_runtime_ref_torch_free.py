"""runtime_ref's graph verification imports neither torch nor coremltools (engine CI runs it with numpy)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_graph_verification_is_torch_free() -> None:
    code = (
        "import sys\n"
        "import ngsdk.runtime_ref.graph_verify, ngsdk.runtime_ref.mil, ngsdk.runtime_ref.vgf\n"
        "import ngsdk.runtime_ref.onnx_check\n"
        "import ngsdk.exporters.graph, ngsdk.exporters.graph.io\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'coremltools', 'executorch'))\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"heavy modules imported: {r.stdout} {r.stderr[-500:]}"

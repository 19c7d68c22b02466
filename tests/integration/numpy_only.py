"""A real interpreter with only what ``pip install .`` installs: numpy, click, jsonschema and pillow (with their
own dependencies) and this checkout installed (tests.integration.installed), nothing of the extras (no torch,
onnx, coremltools, ExecuTorch, tqdm).

Built as a virtual environment without pip whose site-packages point (a .pth file) at a folder of links to
exactly those distributions of the test interpreter, so no download is needed and nothing else leaks in.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import subprocess
import sys
from pathlib import Path

from tests.integration.installed import install_checkout

CORE = ("numpy", "click", "jsonschema", "pillow")


def _closure(names: tuple[str, ...]) -> list[md.Distribution]:
    from packaging.requirements import Requirement

    seen: dict[str, md.Distribution] = {}
    todo = list(names)
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in seen:
            continue
        dist = md.distribution(name)
        seen[name] = dist
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return list(seen.values())


def numpy_only_python(root: Path) -> Path:
    """Create (once) the environment under ``root`` and return its python."""
    venv, site = root / "venv", root / "site"
    python = venv / "bin" / "python"
    if python.exists():
        return python
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True)
    site.mkdir(parents=True)
    for dist in _closure(CORE):
        tops = {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}
        for top in sorted(tops):
            src = Path(dist.locate_file(top))
            if src.exists() and not (site / top).exists() and top not in ("__pycache__",):
                (site / top).symlink_to(src)
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    Path(purelib, "ngsdk_test_core.pth").write_text(f"{site}\n{install_checkout(root / 'ngsdk')}\n")
    return python


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for the numpy-only interpreter: no PYTHONPATH or user site that could add packages."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PYTHONNOUSERSITE"] = "1"
    env.update(extra)
    return env

"""Optional export and verification tools (onnx, onnxruntime, vgfpy, model-converter, scenario_runner, the
Vulkan ML emulation layer): find them, or raise a ToolchainError that names the package and the install line.

Executables are looked up beside the running interpreter first, then on PATH: pip puts a package's
executables in the interpreter's ``bin`` folder, which is not on PATH unless the virtual environment is
activated (``.venv/bin/ngsdk ...`` from a plain shell). ``ngsdk verify`` reports a missing tool as a skipped
check (see ngsdk.verify.exports); the test suite and CI treat it as a failure.
"""

from __future__ import annotations

import importlib
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType

INSTALL_SCRIPT = "tools/ci/install_export_toolchain.sh"
EXPORT_INSTALL = "pip install 'ngsdk[export]'"
"""What a user runs to get every export tool (the pinned versions are in pyproject.toml's export extra)."""


class ToolchainError(RuntimeError):
    """A tool that graph export or verification needs is not installed."""


def install_hint(provided_by: str) -> str:
    """``it comes from <package>: pip install 'ngsdk[export]' (from a checkout: bash tools/ci/...)``."""
    return f"it comes from {provided_by}: {EXPORT_INSTALL} (in a checkout: bash {INSTALL_SCRIPT})"


def require_module(module: str, provided_by: str) -> ModuleType:
    """Import ``module`` or raise ToolchainError naming the package and the install line."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ToolchainError(f"Python module {module!r} is missing ({e}); {install_hint(repr(provided_by))}") from e


def find_executable(name: str) -> str | None:
    """Path of executable ``name`` beside this Python (a venv's bin folder), else on PATH, else None."""
    return shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)


def require_executable(name: str, provided_by: str) -> str:
    """Path of executable ``name`` (see find_executable), or ToolchainError naming the package."""
    found = find_executable(name)
    if not found:
        raise ToolchainError(
            f"executable {name!r} is neither beside {sys.executable} nor on PATH; {install_hint(provided_by)}"
        )
    return found


def model_converter() -> str:
    """The ``model-converter`` executable that ExecuTorch's VGF backend runs: ``MODEL_CONVERTER_PATH`` when
    set (ExecuTorch's own override), else beside this Python or on PATH (see find_executable)."""
    override = os.environ.get("MODEL_CONVERTER_PATH")
    if override:
        return override
    return require_executable("model-converter", "pip package 'ai-ml-sdk-model-converter'")

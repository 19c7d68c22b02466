"""Optional verification tools (onnx, onnxruntime, vgfpy, scenario_runner, the Vulkan ML emulation layer).

A missing tool is a ToolchainError that names the install step, never a silent skip: CI must exercise every
format for real.
"""

from __future__ import annotations

import importlib
import shutil
import sys
from pathlib import Path
from types import ModuleType

INSTALL_SCRIPT = "tools/ci/install_export_toolchain.sh"


class ToolchainError(RuntimeError):
    """A tool that graph verification needs is not installed."""


def require_module(module: str, provided_by: str) -> ModuleType:
    """Import ``module`` or raise ToolchainError naming the package and the install script."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ToolchainError(
            f"Python module {module!r} is missing ({e}); it comes from pip package {provided_by!r}: "
            f"run `bash {INSTALL_SCRIPT}`"
        ) from e


def require_executable(name: str, provided_by: str) -> str:
    """Path of executable ``name`` (on PATH or beside this Python), or ToolchainError."""
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if not found:
        raise ToolchainError(
            f"executable {name!r} is not on PATH; it comes from {provided_by!r}: run `bash {INSTALL_SCRIPT}`"
        )
    return found

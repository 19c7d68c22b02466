"""Issue 12 item 15: the Vulkan sample finds the headers with find_package(Vulkan) and, when they are missing,
says in one message which package to install (no raw find_path error). Runs CMake's real configure step with
the Vulkan package disabled, as on a machine without libvulkan-dev."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_missing_vulkan_headers_name_the_package(tmp_path: Path) -> None:
    if shutil.which("cmake") is None:
        pytest.fail("cmake is needed (apt-get install cmake; tools/ci/build_engine_plugins.sh installs it)")
    res = subprocess.run(["cmake", "-S", str(REPO / "engine_plugins" / "vulkan"), "-B", str(tmp_path / "b"),
                          "-DCMAKE_DISABLE_FIND_PACKAGE_Vulkan=TRUE"], capture_output=True, text=True)
    out = " ".join((res.stdout + res.stderr).split())
    assert res.returncode != 0
    assert "find_package(Vulkan) did not find" in out and "sudo apt-get install libvulkan-dev" in out
    assert "find_path" not in out and "VULKAN_HEADERS-NOTFOUND" not in out


def test_cmake_uses_find_package() -> None:
    text = (REPO / "engine_plugins" / "vulkan" / "CMakeLists.txt").read_text()
    assert "find_package(Vulkan" in text and "find_path(" not in text

"""The C++ loader's ``ngsdk_decode`` against the adversarial corpus (tests/adversarial/corpus.py): every case
the loader reads is refused with one ``error:`` line (exit 1; 3 for a reference problem under
``--check-reference``), within the time and memory bounds. Uses the build of tools/ci/build_engine_plugins.sh
(``NGSDK_ENGINE_BUILD``, default build/engine_plugins): ``common``, and ``common-asan`` when it exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.engine_build import REPO, build_root, cmake_build

from .bounded import assert_clean_failure, run_bounded
from .corpus import CASES, Case, make_case

CPP_CASES = [c for c in CASES if c.cpp]


@pytest.fixture(scope="session")
def decoders() -> list[Path]:
    """ngsdk_decode of the Release build, and of the ASan/UBSan build when tools/ci built one."""
    source = REPO / "engine_plugins" / "common"
    out = [cmake_build(source, "common") / "ngsdk_decode"]
    if (build_root() / "common-asan" / "CMakeCache.txt").is_file():   # configured by tools/ci: keep it current
        out.append(cmake_build(source, "common-asan") / "ngsdk_decode")
    return out


def test_the_base_bundle_decodes(base_bundle: Path, decoders: list[Path]) -> None:
    for exe in decoders:
        o = run_bounded([exe, base_bundle, "--all", "--check-reference"], sanitized="asan" in exe.parent.name)
        assert o.returncode == 0 and o.stdout.count("matches reference") == 4, o.describe()


@pytest.mark.parametrize("case", CPP_CASES, ids=[c.name for c in CPP_CASES])
def test_hostile_bundle(case: Case, base_bundle: Path, decoders: list[Path], tmp_path: Path) -> None:
    bundle = make_case(case, base_bundle, tmp_path)
    for exe in decoders:
        o = run_bounded([exe, bundle, "--all", "--check-reference"], sanitized="asan" in exe.parent.name)
        assert "AddressSanitizer" not in o.stderr and "runtime error" not in o.stderr, o.describe()
        line = assert_clean_failure(o, codes=(1, 3))
        assert "b.ngasset" in line, o.describe()

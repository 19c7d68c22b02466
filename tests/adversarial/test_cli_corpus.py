"""The Python CLI against the adversarial corpus (tests/adversarial/corpus.py): ``ngsdk verify`` never says
PASS to a hostile bundle, and ``verify``, ``inspect`` and ``decode`` end in one ``error:`` line (or, for
``inspect`` of a bundle whose payload is damaged, a summary) within the time and memory bounds."""

from __future__ import annotations

from pathlib import Path

import pytest

from .bounded import CLI, assert_clean_failure, assert_no_crash, run_bounded
from .corpus import CASES, Case, make_case


def test_the_base_bundle_passes(base_bundle: Path) -> None:
    o = run_bounded([*CLI, "verify", "-q", base_bundle])
    assert o.returncode == 0 and o.stdout.strip() == "PASS", o.describe()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_bundle(case: Case, base_bundle: Path, tmp_path: Path) -> None:
    bundle = make_case(case, base_bundle, tmp_path)
    o = run_bounded([*CLI, "verify", "-q", bundle])
    line = assert_clean_failure(o)
    assert "PASS" not in o.stdout, o.describe()
    assert str(bundle) in line or "b.ngasset" in line or o.returncode == 1, o.describe()
    if case.manifest_only:   # inspect reads the manifest alone: it must refuse what is wrong there
        assert_clean_failure(run_bounded([*CLI, "inspect", bundle]))
    out = tmp_path / "maps"
    assert_no_crash(run_bounded([*CLI, "decode", "-q", bundle, "--out", out]))


def test_missing_reference_passes_only_when_allowed(base_bundle: Path, tmp_path: Path) -> None:
    case = next(c for c in CASES if c.name == "no reference decode hashes")
    bundle = make_case(case, base_bundle, tmp_path)
    o = run_bounded([*CLI, "verify", "-q", bundle, "--allow-missing-reference"])
    assert o.returncode == 0 and o.stdout.strip() == "PASS", o.describe()


@pytest.mark.parametrize("args", [["--mip", "99"], ["--mip", "-1"], ["--engine", "vulkan", "--profile", "nope"],
                                  ["--profile", "nvidia"]], ids=str)
def test_bad_verify_options_are_usage_errors(args: list[str], base_bundle: Path) -> None:
    assert_clean_failure(run_bounded([*CLI, "verify", "-q", base_bundle, *args]), codes=(2,))


def test_inspect_names_a_malformed_open_field(base_bundle: Path, tmp_path: Path) -> None:
    """metrics is an open object in the schema: a malformed per_mip makes inspect fail in one line."""
    import json
    import shutil

    bundle = tmp_path / "m.ngasset"
    shutil.copytree(base_bundle, bundle)
    m = json.loads((bundle / "manifest.json").read_text())
    m["provenance"]["metrics"] = {"per_mip": "x"}
    (bundle / "manifest.json").write_text(json.dumps(m))
    line = assert_clean_failure(run_bounded([*CLI, "inspect", bundle]))
    assert "manifest.json: malformed field" in line


def test_verify_report_to_an_unwritable_place_is_one_line(base_bundle: Path, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    for flag in ("--json", "--html"):
        line = assert_clean_failure(run_bounded([*CLI, "verify", "-q", base_bundle, flag, tmp_path / "file" / "r"]))
        assert "cannot write the report" in line

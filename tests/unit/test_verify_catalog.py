"""The catalog of verify codes is the one place codes are written: no literal anywhere else in the code, every
entry used by a check, docs/verify-codes.md generated from it, and every code the docs mention in it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from ngsdk import kinds
from ngsdk.verify.catalog import Code, Severity, all_codes, codes_of, families, lookup, markdown

REPO = Path(__file__).resolve().parents[2]
CODE = re.compile(rf"\b(?:{'|'.join(sorted({c.code[:2] for c in all_codes()}))})\d{{3}}\b")
"""A code of any family the catalog has (a new kind's family included)."""
CATALOG = "ngsdk/verify/catalog/"
SOURCE_SUFFIXES = {".py", ".cpp", ".h", ".sh", ".ush", ".wgsl", ".glsl", ".hlsl", ".toml", ".cmake", ".json"}


def _files(suffixes: set[str]) -> list[str]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout.split()
    return [f for f in listed if Path(f).suffix in suffixes and (REPO / f).is_file()]


def test_no_code_literal_outside_the_catalog() -> None:
    found = []
    for rel in _files(SOURCE_SUFFIXES):
        if rel.startswith(CATALOG):
            continue
        text = (REPO / rel).read_text(errors="replace")
        found += [f"{rel}:{text.count(chr(10), 0, m.start()) + 1}: {m.group()}" for m in CODE.finditer(text)]
    assert not found, "verify codes written outside ngsdk/verify/catalog (name the entry instead):\n" + "\n".join(found)


def test_entries_are_well_formed_and_unique() -> None:
    codes = all_codes()
    assert len({c.code for c in codes}) == len(codes)
    for title, module in families():
        entries = codes_of(module)
        assert entries, title
        assert len({c.code[:2] for c in entries}) == 1, f"{title}: one code prefix per family"
        for c in entries:
            assert isinstance(c, Code) and re.fullmatch(r"[A-Z]{2}\d{3}", c.code)
            assert isinstance(c.severity, Severity) and c.title and c.checks.endswith(".") and c.fix.endswith(".")
    assert lookup(codes[0].code) is codes[0]
    assert len(families()) == 1 + len(kinds.KINDS)  # graph exports + one family per kind


def test_every_entry_is_used_by_a_check() -> None:
    """A check names its entry through the family module's alias (``NT.DECODE_CONSISTENCY``)."""
    checks = "".join((REPO / f).read_text() for f in _files({".py"}) if f.startswith(("ngsdk/verify/", "ngsdk/cli/"))
                     and not f.startswith(CATALOG))
    for _, module in families():
        for name, value in vars(module).items():
            if isinstance(value, Code):
                assert re.search(rf"\b[A-Z]{{2}}\.{name}\b", checks), f"{value.code} ({module.__name__}.{name})"


def test_docs_page_is_generated_from_the_catalog() -> None:
    page = (REPO / "docs" / "verify-codes.md").read_text()
    assert page == markdown(), "docs/verify-codes.md is stale: run python tools/verify_codes.py --write"
    for c in all_codes():
        assert f"| `{c.code}` | {c.title} | {c.severity} |" in page


def test_every_code_the_docs_mention_exists() -> None:
    known = {c.code for c in all_codes()}
    for rel in _files({".md"}):
        unknown = set(CODE.findall((REPO / rel).read_text())) - known
        assert not unknown, f"{rel} mentions codes the catalog does not have: {sorted(unknown)}"

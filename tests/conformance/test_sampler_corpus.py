"""The generated sampler corpus: stored output hashes, and the real driver on every case it can run.

``sampler_corpus.json`` holds, per case of :mod:`tools.sampler_corpus`, the sha256 of the inputs and
of every profile's output. A changed output hash means the sampler arithmetic changed; regenerate
with ``python tools/sampler_corpus.py --write tests/conformance/sampler_corpus.json`` only when that
change is intended.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conformance.sampler_driver import compare, open_driver
from tools import sampler_corpus as corpus

pytestmark = pytest.mark.conformance

STORED = Path(__file__).with_name("sampler_corpus.json")
CASES = corpus.cases()


@pytest.fixture(scope="module")
def stored():
    data = json.loads(STORED.read_text())
    assert data["format"] == corpus.FORMAT_VERSION and data["samples"] == corpus.SAMPLES
    return data["cases"]


def test_corpus_lists_the_same_cases(stored):
    assert sorted(stored) == sorted(c.name for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_corpus_hashes(stored, case):
    want = stored[case.name]
    got = corpus.run_case(case)
    assert got["inputs"] == want["inputs"], f"{case.name}: the generated inputs changed (not the sampler)"
    changed = [p for p in corpus.PROFILES if got[p] != want[p]]
    assert not changed, f"{case.name}: output of {', '.join(changed)} changed"


@pytest.fixture(scope="module")
def driver():
    return open_driver()


@pytest.mark.parametrize("case", [c for c in CASES if c.address != "border"], ids=lambda c: c.name)
def test_corpus_matches_driver(driver, case):
    drv, profile = driver
    tex, uv, lod = corpus.materialize(case)
    compare(drv, profile, f"corpus/{case.name}", tex, uv, lod, layer=case.layer, filter=case.filter,
            address=case.address)

"""Fixtures of the adversarial corpus: the valid base bundle, built once per session (no training)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .corpus import write_base


@pytest.fixture(scope="session")
def base_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_base(tmp_path_factory.mktemp("base") / "base.ngasset")

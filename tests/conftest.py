"""Shared fixtures: the real test data in ../shared/data."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO / ".." / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real, licensed test data beside the checkout."""
    if not SHARED_DATA.is_dir():
        raise RuntimeError(f"{SHARED_DATA}: shared test data folder is missing (expected beside the checkout)")
    return SHARED_DATA

"""The C++ loader's generated copies (DXGI table, manifest schema values, digest vectors) are those
tools/engine_tables.py writes from the Python/JSON sources today."""

from __future__ import annotations

import pytest

from tools.engine_tables import REPO, outputs


@pytest.mark.parametrize("path", sorted(outputs()), ids=lambda p: p.name)
def test_generated_file_is_current(path) -> None:
    assert path.read_text() == outputs()[path], (
        f"{path.relative_to(REPO)} is stale: run python tools/engine_tables.py --write")


def test_the_loader_includes_them() -> None:
    src = REPO / "engine_plugins" / "common"
    assert '#include "dxgi_table.h"' in (src / "src" / "dds.cpp").read_text()
    assert '#include "manifest_schema.h"' in (src / "src" / "bundle.cpp").read_text()
    assert '#include "digest_vectors.h"' in (src / "tests" / "test_sha256.cpp").read_text()

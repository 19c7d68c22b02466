"""Issue 12 item 1: one folder digest (docs/asset-format.md "Folder digest"), the same in Python and C++."""

from __future__ import annotations

from pathlib import Path

import pytest

from ngsdk.asset.digest import sha256_tree, tree_bytes
from ngsdk.asset.errors import AssetError
from tests.fixtures.digest_vectors import FOLDER_VECTORS, FolderVector

DOCUMENTED = FOLDER_VECTORS[0]


@pytest.mark.parametrize("vector", FOLDER_VECTORS, ids=lambda v: v.name)
def test_folder_digest_test_vectors(vector: FolderVector, tmp_path: Path):
    """The same vectors run in the C++ loader's tests (engine_plugins/common/tests/digest_vectors.h)."""
    pkg = vector.write(tmp_path / "pkg")
    assert sha256_tree(pkg) == vector.sha256
    assert tree_bytes(pkg) == vector.bytes


def test_folder_digest_is_the_documented_vector():
    """The digest and lines written in docs/asset-format.md are the ones the code computes."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "asset-format.md").read_text()
    assert DOCUMENTED.sha256 in doc and "Data/model.mil fba13a37" in doc


def test_folder_digest_refuses_line_breaks_in_names(tmp_path: Path):
    pkg = DOCUMENTED.write(tmp_path / "pkg")
    (pkg / "a\nb").write_bytes(b"x")
    with pytest.raises(AssetError, match="line break"):
        sha256_tree(pkg)

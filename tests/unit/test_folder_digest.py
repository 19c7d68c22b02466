"""Issue 12 item 1: one folder digest (docs/asset-format.md "Folder digest"), the same in Python and C++."""

from __future__ import annotations

from pathlib import Path

import pytest

from ngsdk.asset.digest import sha256_tree, tree_bytes
from ngsdk.asset.errors import AssetError

VECTOR = "3492155d984dfbe30045afee0cbd3de16ed65567dfcbf8adf63841405de2de57"


def _vector_folder(root: Path) -> Path:
    (root / "Data").mkdir(parents=True)
    (root / "Manifest.json").write_bytes(b"{}\n")
    (root / "Data" / "model.mil").write_bytes(b"program\n")
    (root / "Data-x").write_bytes(b"")
    return root


def test_folder_digest_test_vector(tmp_path: Path):
    pkg = _vector_folder(tmp_path / "pkg")
    assert sha256_tree(pkg) == VECTOR
    assert tree_bytes(pkg) == 11


def test_folder_digest_is_the_documented_vector():
    """The digest and lines written in docs/asset-format.md are the ones the code computes."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "asset-format.md").read_text()
    assert VECTOR in doc and "Data/model.mil fba13a37" in doc


def test_folder_digest_refuses_line_breaks_in_names(tmp_path: Path):
    pkg = _vector_folder(tmp_path / "pkg")
    (pkg / "a\nb").write_bytes(b"x")
    with pytest.raises(AssetError, match="line break"):
        sha256_tree(pkg)

"""Load a shading-MLP bundle (kind ``shading_mlp``) into the asset interface (numpy only).

Checks, each failing with a one-line AssetError naming the file: manifest JSON, version and
schema; size and sha256 of every listed file; the weight arrays' names, dtypes and shapes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ngsdk.asset.errors import AssetError
from ngsdk.asset.manifest import read_manifest
from ngsdk.asset.shading import KIND, ShadingMlpAsset, shading_from_manifest
from runtime_ref.npz import read_npz


def load_shading_mlp(bundle: str | Path, manifest: dict[str, Any] | None = None) -> ShadingMlpAsset:
    """Load a shading MLP bundle; ``manifest`` skips re-reading an already validated one."""
    bundle = Path(bundle)
    if manifest is None:
        manifest = read_manifest(bundle)
    if manifest["kind"] != KIND:
        raise AssetError(bundle / "manifest.json", f"kind is {manifest['kind']!r}, not a shading MLP")
    w = manifest["weights"]
    expected: dict[str, tuple[tuple[int, ...], str]] = {}
    for layer in w["layers"]:
        expected[layer["weight"]] = ((layer["outputs"], layer["inputs"]), "float32")
        expected[layer["bias"]] = ((layer["outputs"],), "float32")
    arrays = read_npz(bundle / w["file"], expected, strict=True)
    return shading_from_manifest(manifest, arrays, bundle / "manifest.json")

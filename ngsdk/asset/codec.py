"""What every kind's manifest codec has in common: the protocol ``ngsdk.kinds`` names it by, and the fields
every manifest shares.

A kind's codec is one module of ``ngsdk.asset`` (``neural_texture``, ``neural_volume``, ``shading_mlp``): its
asset types, the version it writes and the versions it reads, and the mapping between the asset and its
``manifest.json`` (checked against ``schema/<kind>.schema.json`` by ``ngsdk.asset.manifest``).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any, Protocol

FileRecords = dict[str, dict[str, Any]]
"""``manifest["files"]``: bundle file name -> ``{"sha256", "bytes"}`` (``ngsdk.asset.manifest.file_record``)."""


class KindCodec(Protocol):
    """The module-level names a kind's codec module defines."""

    KIND: str
    FORMAT_VERSION: str
    """The version this ngsdk writes (``MAJOR.MINOR``)."""
    READABLE_MAJORS: tuple[int, ...]
    """The major versions this ngsdk reads (docs/asset-format.md, "Compatibility rule")."""

    def to_manifest(self, asset: Any, files: FileRecords) -> dict[str, Any]:
        """The manifest of ``asset``; ``files`` lists every file written beside it."""

    def from_manifest(self, manifest: dict[str, Any], contents: dict[str, Any], path: str | Path) -> Any:
        """The asset of a validated manifest; ``contents`` maps each payload file name to what the kind's
        loader read from it (DDS texels, npz arrays); raises AssetError naming ``path`` on an inconsistency."""

    def referenced_files(self, manifest: dict[str, Any]) -> list[str]:
        """The payload files the manifest's own fields name (graph exports are the generic code's)."""


def manifest_fields(kind: str, version: str, asset: Any, files: FileRecords) -> dict[str, Any]:
    """The fields every manifest has (common schema): format, version, kind, name, provenance, exports, files."""
    return {
        "format": "ngasset",
        "format_version": version,
        "kind": kind,
        "name": asset.name,
        "provenance": asdict(asset.provenance),
        "exports": [asdict(e) for e in asset.exports],
        "files": files,
    }

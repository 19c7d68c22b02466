"""What of a bundle an engine loads (the payload) and what only ``ngsdk verify`` reads (verification data).

Verification data are the reference files stored beside graph exports (ngsdk.exporters.graph.reference): the
inputs and expected outputs a graph's run is compared with. An engine never opens them, so a shipping
pipeline may leave them out; ``ngsdk inspect`` reports the two sizes separately.
"""

from __future__ import annotations

from typing import Any


def verification_files(manifest: dict[str, Any]) -> set[str]:
    """Names under ``files`` that hold verification data only (each export record's ``details.reference``)."""
    names = set()
    for e in manifest.get("exports", []):
        ref = e.get("details", {}).get("record", {}).get("details", {}).get("reference")
        if ref:
            names.add(ref)
    return names & set(manifest.get("files", {}))


def split_files(manifest: dict[str, Any]) -> tuple[dict[str, int], dict[str, int]]:
    """(payload, verification data): file name -> bytes, from the manifest's ``files``."""
    verify = verification_files(manifest)
    files = {name: int(rec["bytes"]) for name, rec in manifest.get("files", {}).items()}
    return ({n: b for n, b in files.items() if n not in verify}, {n: b for n, b in files.items() if n in verify})

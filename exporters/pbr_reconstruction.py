"""Write a PBR reconstruction network as an ``.ngasset`` bundle: weights.npz (the state dict), reference.npz
(views and the trained model's outputs, for ``ngsdk verify``) and manifest.json."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ngsdk.asset.pbr_reconstruction import REFERENCE_FILE, WEIGHTS_FILE, PbrReconstructionAsset, to_manifest
from ngsdk.exporters.bundle import write_bundle
from ngsdk.exporters.npz import write_npz


def write_payload(asset: PbrReconstructionAsset, folder: Path) -> list[str]:
    """Write the weights (stored) and the reference set (deflated) into ``folder``; return their names."""
    write_npz(folder / WEIGHTS_FILE, asset.weight_arrays())
    names = [WEIGHTS_FILE]
    if asset.reference is not None:
        write_npz(folder / REFERENCE_FILE, asset.reference.arrays(), compress=True)
        names.append(REFERENCE_FILE)
    return names


def write_pbr_reconstruction(asset: PbrReconstructionAsset, out: str | Path) -> dict[str, Any]:
    """Write ``asset`` to the bundle folder ``out`` (ngsdk.exporters.bundle); return the manifest."""
    return write_bundle(asset, out, write_payload, to_manifest)

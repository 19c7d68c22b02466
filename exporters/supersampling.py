"""Write a super-sampling asset as an ``.ngasset`` bundle: ``weights.npz`` (BN-folded float32), ``int8.npz`` (the
int8 network, when the model was QAT-trained), ``reference_clip.npz`` and manifest.json
(``ngsdk.exporters.bundle``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ngsdk.asset.supersampling import CLIP_FILE, INT8_FILE, WEIGHTS_FILE, SupersamplingAsset, check_clip, to_manifest
from ngsdk.exporters.bundle import write_bundle
from ngsdk.exporters.npz import write_npz


def write_payload(asset: SupersamplingAsset, folder: Path) -> list[str]:
    """Write the weights, the int8 network and the reference clip into ``folder``; return their names."""
    check_clip(asset.clip, folder / CLIP_FILE, asset.int8 is not None)
    write_npz(folder / WEIGHTS_FILE, asset.weights)
    names = [WEIGHTS_FILE]
    if asset.int8 is not None:
        write_npz(folder / INT8_FILE, asset.int8.arrays())
        names.append(INT8_FILE)
    # the clip is verification data only: compressed (deterministic deflate)
    write_npz(folder / CLIP_FILE, asset.clip, compress=True)
    return names + [CLIP_FILE]


def write_supersampling(asset: SupersamplingAsset, out: str | Path) -> dict[str, Any]:
    """Write ``asset`` to the bundle folder ``out`` (atomically replacing an older one); return the manifest."""
    return write_bundle(asset, out, write_payload, to_manifest)

"""Write a neural texture asset as an ``.ngasset`` bundle: DDS grids + decoder.npz + manifest.json.

The bundle is assembled in a temporary sibling folder and renamed into place, so a reader never
sees a half-written bundle. Graph exports already in an existing bundle are not carried over:
``write_bundle`` writes the asset as it is (``asset.exports`` lists what it keeps).
"""

from __future__ import annotations

from pathlib import Path

from exporters.dds import write_dds
from exporters.npz import write_npz
from ngsdk.asset.atomic import atomic_write_bytes, replace_folder
from ngsdk.asset.dxgi import lookup
from ngsdk.asset.manifest import MANIFEST_NAME, dump_manifest, file_record, neural_texture_to_manifest
from ngsdk.asset.packing import pack_codes
from ngsdk.asset.texture import TextureData
from ngsdk.asset.types import FeatureGrid, NeuralTextureAsset

RGBA8 = lookup("R8G8B8A8_UNORM")


def grid_texture(grid: FeatureGrid) -> TextureData:
    """The DDS payload of a grid: an R8G8B8A8_UNORM 2D array, one mip per trained level."""
    return TextureData(
        format=RGBA8, dimension="2d", width=grid.width, height=grid.height, depth=1,
        array_size=grid.array_size, cube=False, mips=[pack_codes(lv, grid.bits) for lv in grid.levels],
    )


def write_bundle_files(asset: NeuralTextureAsset, folder: Path, extra_files: dict[str, dict] | None = None) -> dict:
    """Write grids, decoder and manifest into an existing ``folder``; return the manifest."""
    files: dict[str, dict] = dict(extra_files or {})
    for grid in asset.grids:
        write_dds(folder / grid.file, grid_texture(grid), alpha_mode="custom")
        files[grid.file] = file_record(folder / grid.file)
    write_npz(folder / asset.decoder.file, asset.decoder.arrays())
    files[asset.decoder.file] = file_record(folder / asset.decoder.file)
    manifest = neural_texture_to_manifest(asset, files)
    atomic_write_bytes(folder / MANIFEST_NAME, dump_manifest(manifest))
    return manifest


def write_bundle(asset: NeuralTextureAsset, out: str | Path) -> dict:
    """Write ``asset`` to the bundle folder ``out`` (replacing it atomically); return the manifest.

    Graph export files listed in ``asset.exports`` are carried over from the existing ``out``.
    """
    out = Path(out)
    keep = [f.split("/")[0] for e in asset.exports for f in e.files]

    def fill(tmp: Path) -> dict:
        kept = {name: file_record(tmp / name) for name in dict.fromkeys(keep) if (tmp / name).exists()}
        return write_bundle_files(asset, tmp, kept)

    return replace_folder(out, fill, marker=MANIFEST_NAME, keep=keep)

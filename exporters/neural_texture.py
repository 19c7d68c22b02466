"""Write a neural texture as an ``.ngasset`` bundle: one DDS per latent grid, decoder.npz, manifest.json."""

from __future__ import annotations

from pathlib import Path

from ngsdk.asset.dxgi import lookup
from ngsdk.asset.neural_texture import FeatureGrid, NeuralTextureAsset, to_manifest
from ngsdk.asset.packing import pack_codes
from ngsdk.asset.texture import TextureData
from ngsdk.exporters.bundle import write_bundle
from ngsdk.exporters.dds import write_dds
from ngsdk.exporters.npz import write_npz

RGBA8 = lookup("R8G8B8A8_UNORM")


def grid_texture(grid: FeatureGrid) -> TextureData:
    """The DDS payload of a grid: an R8G8B8A8_UNORM 2D array, one mip per trained level."""
    return TextureData(
        format=RGBA8, dimension="2d", width=grid.width, height=grid.height, depth=1,
        array_size=grid.array_size, cube=False, mips=[pack_codes(lv, grid.bits) for lv in grid.levels],
    )


def write_payload(asset: NeuralTextureAsset, folder: Path) -> list[str]:
    """Write every grid's DDS and the decoder npz into ``folder``; return their names."""
    for grid in asset.grids:
        write_dds(folder / grid.file, grid_texture(grid), alpha_mode="custom")
    write_npz(folder / asset.decoder.file, asset.decoder.arrays())
    return [g.file for g in asset.grids] + [asset.decoder.file]


def write_neural_texture(asset: NeuralTextureAsset, out: str | Path) -> dict:
    """Write ``asset`` to the bundle folder ``out`` (ngsdk.exporters.bundle); return the manifest."""
    return write_bundle(asset, out, write_payload, to_manifest)

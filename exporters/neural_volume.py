"""Write a neural volume as an ``.ngasset`` bundle: DDS volume textures + decoder npz + manifest.json.

Layout (docs/asset-format.md, "Neural volumes")::

    NAME.ngasset/
      manifest.json
      bricks/brick000/grid00.dds     one DX10 TEXTURE3D per grid (R8G8B8A8_UNORM or R16G16B16A16_FLOAT)
      bricks/brick000/decoder.npz    layer{i}.weight (out, in), layer{i}.bias, float32
      ...

Same asset, same bytes: the DDS, npz and manifest writers are deterministic.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ngsdk.asset.dxgi import lookup
from ngsdk.asset.neural_volume import NeuralVolumeAsset, VolumeGrid, to_manifest
from ngsdk.asset.texture import TextureData
from ngsdk.exporters.bundle import write_bundle
from ngsdk.exporters.dds import write_dds
from ngsdk.exporters.npz import write_npz


def grid_texture(grid: VolumeGrid) -> TextureData:
    """A grid's DDS payload: a one-mip volume texture, width R_x, height R_y, depth R_z, unused components 0."""
    return TextureData.from_levels([grid.texels()], lookup(grid.dxgi_format), dimension="3d")


def write_payload(asset: NeuralVolumeAsset, folder: Path) -> list[str]:
    """Write every brick's grid DDS files and decoder npz into ``folder``; return their names."""
    names = []
    for brick in asset.bricks:
        for grid in brick.grids:
            write_dds(folder / brick.grid_file(grid), grid_texture(grid), alpha_mode="custom")
            names.append(brick.grid_file(grid))
        write_npz(folder / brick.decoder_file, brick.decoder.arrays())
        names.append(brick.decoder_file)
    return names


def write_neural_volume(asset: NeuralVolumeAsset, out: str | Path) -> dict[str, Any]:
    """Write ``asset`` to the bundle folder ``out`` (ngsdk.exporters.bundle); return the manifest."""
    return write_bundle(asset, out, write_payload, to_manifest)

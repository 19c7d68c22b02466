"""Write a neural volume as an ``.ngasset`` bundle: DDS volume textures + decoder npz + manifest.json.

Layout (docs/asset-format.md, "Neural volumes")::

    NAME.ngasset/
      manifest.json
      bricks/brick000/grid00.dds     one DX10 TEXTURE3D per grid (R8G8B8A8_UNORM or R16G16B16A16_FLOAT)
      bricks/brick000/decoder.npz    layer{i}.weight (out, in), layer{i}.bias, float32
      ...

The bundle is assembled in a temporary sibling folder and renamed into place, so a reader never sees a
half-written bundle. Same asset, same bytes: the DDS, npz and manifest writers are deterministic.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from exporters.dds import write_dds
from exporters.npz import write_npz
from ngsdk.asset.atomic import atomic_write_bytes, replace_folder
from ngsdk.asset.dxgi import lookup
from ngsdk.asset.manifest import MANIFEST_NAME, dump_manifest, file_record
from ngsdk.asset.texture import TextureData
from ngsdk.asset.volume import NeuralVolumeAsset, VolumeGrid, neural_volume_to_manifest


def grid_texture(grid: VolumeGrid) -> TextureData:
    """A grid's DDS payload: a one-mip volume texture, width R_x, height R_y, depth R_z, unused components 0."""
    return TextureData.from_levels([grid.texels()], lookup(grid.dxgi_format), dimension="3d")


def write_volume_bundle_files(
    asset: NeuralVolumeAsset, folder: Path, extra_files: dict[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Write grids, decoders and the manifest into an existing ``folder``; return the manifest."""
    files: dict[str, dict[str, Any]] = dict(extra_files or {})
    for brick in asset.bricks:
        for grid in brick.grids:
            name = brick.grid_file(grid)
            write_dds(folder / name, grid_texture(grid), alpha_mode="custom")
            files[name] = file_record(folder / name)
        name = brick.decoder_file
        write_npz(folder / name, brick.decoder.arrays())
        files[name] = file_record(folder / name)
    manifest = neural_volume_to_manifest(asset, files)
    atomic_write_bytes(folder / MANIFEST_NAME, dump_manifest(manifest))
    return manifest


def write_volume_bundle(asset: NeuralVolumeAsset, out: str | Path) -> dict[str, Any]:
    """Write ``asset`` to the bundle folder ``out`` (replacing an older bundle atomically); return the manifest.

    Graph export files listed in ``asset.exports`` are carried over from the existing ``out``.
    """
    keep = [f.split("/")[0] for e in asset.exports for f in e.files]

    def fill(tmp: Path) -> dict[str, Any]:
        kept = {name: file_record(tmp / name) for name in dict.fromkeys(keep) if (tmp / name).exists()}
        return write_volume_bundle_files(asset, tmp, kept)

    return replace_folder(out, fill, marker=MANIFEST_NAME, keep=keep)

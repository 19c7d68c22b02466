"""Decode a neural texture in its own decode mode (numpy only): one entry point for every mode.

``float``: float32 linear values (ngsdk.runtime_ref.neural_texture); ``exact``: UNORM8 bytes
(ngsdk.runtime_ref.neural_texture_exact); ``hardware``: UNORM8 bytes through a sampler profile
(ngsdk.runtime_ref.neural_texture_hw, default the asset's reference profile). docs/decode-spec.md.
"""

from __future__ import annotations

import numpy as np

from ngsdk.asset.neural_texture import NeuralTextureAsset


def decode_mip(asset: NeuralTextureAsset, mip: int = 0, *, profile=None) -> np.ndarray:
    """Texture mip ``mip`` at its texel centres: (H, W, C) float32 (float mode) or uint8 (integer modes)."""
    if asset.decode_mode == "float":
        from ngsdk.runtime_ref.neural_texture import decode_mip as float_mip

        return float_mip(asset, mip)
    if asset.decode_mode == "exact":
        from ngsdk.runtime_ref.neural_texture_exact import decode_mip as exact_mip

        return exact_mip(asset, mip)
    from ngsdk.runtime_ref.neural_texture_hw import decode_mip as hw_mip

    return hw_mip(asset, mip, profile=profile)


def decode_uv(asset: NeuralTextureAsset, uv, *, mip: int = 0, lod=None, filter: str = "linear",
              profile=None) -> np.ndarray:
    """Decode at coordinates ``uv`` (N, 2): float/exact at ``mip``; hardware at ``lod`` (default ``mip``)."""
    if asset.decode_mode == "float":
        from ngsdk.runtime_ref.neural_texture import decode_uv as float_uv

        return float_uv(asset, uv, mip)
    if asset.decode_mode == "exact":
        from ngsdk.runtime_ref.neural_texture_exact import decode_uv as exact_uv

        return exact_uv(asset, uv, mip)
    from ngsdk.runtime_ref.neural_texture_hw import decode_uv as hw_uv

    return hw_uv(asset, uv, float(mip) if lod is None else lod, filter=filter, profile=profile)

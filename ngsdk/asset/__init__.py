"""The stable, torch-free asset interface: types, manifest, packing, errors, atomic writes."""

from ngsdk.asset.errors import AssetError
from ngsdk.asset.types import (
    SEMANTICS,
    Channel,
    Decoder,
    DecoderLayer,
    Encoding,
    FeatureGrid,
    GraphExport,
    NeuralTextureAsset,
    Provenance,
    SamplerState,
)

__all__ = [
    "SEMANTICS",
    "AssetError",
    "Channel",
    "Decoder",
    "DecoderLayer",
    "Encoding",
    "FeatureGrid",
    "GraphExport",
    "NeuralTextureAsset",
    "Provenance",
    "SamplerState",
]

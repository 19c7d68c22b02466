"""The RTX Neural Shading JSON network format: ``{"layers": [{"num_inputs", "num_outputs",
"weights", "biases"}]}`` with weights row-major (``weights[o * num_inputs + i]``).

RTXNS reads the values as float and converts them to fp16; ngsdk writes the fp16 values of the
weights (exact decimals, so every reader recovers the same fp16 bits) unless ``precision='fp32'``.
The extra top-level key ``ngsdk`` (encoding, activations, decode contract) is ignored by RTXNS.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ngsdk.asset.atomic import atomic_write_bytes
from ngsdk.asset.shading_mlp import ShadingMlpAsset


def _values(a: np.ndarray, precision: str) -> list[float]:
    # float() of an fp16/fp32 value is exact, and Python's repr round-trips it.
    dtype = np.float16 if precision == "fp16" else np.float32
    return [float(v) for v in np.asarray(a).astype(dtype).ravel()]


def network_json(asset: ShadingMlpAsset, precision: str = "fp16") -> dict[str, Any]:
    """The JSON document (a dict) of ``asset``'s network."""
    if precision not in ("fp16", "fp32"):
        raise ValueError(f"precision must be 'fp16' or 'fp32', got {precision!r}")
    layers = [
        {
            "num_inputs": ly.inputs,
            "num_outputs": ly.outputs,
            "weights": _values(ly.weight, precision),
            "biases": _values(ly.bias, precision),
        }
        for ly in asset.decoder.layers
    ]
    enc = asset.encoding
    return {
        "layers": layers,
        "ngsdk": {
            "format": "rtxns_json",
            "version": 1,
            "precision": precision,
            "encoding": {
                "type": enc.kind,
                "inputs": enc.inputs,
                "features_per_input": enc.features_per_input,
            },
            "activations": [ly.activation for ly in asset.decoder.layers],
            "leaky_slope": float(np.float32(asset.leaky_slope)),
            "decode": "docs/shading.md#decode-contract",
        },
    }


def write_network_json(asset: ShadingMlpAsset, path: str | Path, precision: str = "fp16") -> None:
    """Write the JSON network atomically (deterministic bytes)."""
    text = json.dumps(network_json(asset, precision), indent=1, allow_nan=False) + "\n"
    atomic_write_bytes(path, text.encode("utf-8"))

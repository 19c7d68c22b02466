"""Binary host layouts of a shading MLP: fp16 or fp32, row- or column-major, portable header.

File = 32-byte header + one 16-byte record per layer (``ngsdk.asset.shading_mlp.BIN_HEADER`` /
``BIN_LAYER``, little-endian, no padding), then per layer the weight matrix and the bias vector,
each starting at a 16-byte aligned offset (zero padding), little-endian fp16/fp32 values.
Row-major stores ``W[o][i]`` at ``o * num_inputs + i``; column-major at ``i * num_outputs + o``.
The header's CRC-32 (zlib) covers every byte after the header and layer table.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

from ngsdk.asset.atomic import atomic_write_bytes
from ngsdk.asset.shading_mlp import (
    BIN_ACTIVATIONS,
    BIN_ALIGN,
    BIN_DTYPES,
    BIN_ENCODINGS,
    BIN_HEADER,
    BIN_LAYER,
    BIN_LAYOUTS,
    BIN_MAGIC,
    BIN_VERSION,
    ShadingMlpAsset,
)


def _pad(n: int) -> int:
    return -n % BIN_ALIGN


def layer_offsets(asset: ShadingMlpAsset, dtype: str) -> tuple[int, list[tuple[int, int]]]:
    """(header bytes, [(weight_offset, bias_offset)] per layer) of the file :func:`encode_network` writes."""
    size = 2 if dtype == "fp16" else 4
    n = len(asset.decoder.layers)
    head = struct.calcsize(BIN_HEADER) + n * struct.calcsize(BIN_LAYER)
    pos = head + _pad(head)
    out = []
    for layer in asset.decoder.layers:
        w = pos
        pos += layer.weight.size * size
        pos += _pad(pos)
        b = pos
        pos += layer.bias.size * size
        pos += _pad(pos)
        out.append((w, b))
    return head + _pad(head), out


def encode_network(asset: ShadingMlpAsset, dtype: str = "fp16", layout: str = "row_major") -> bytes:
    """The bytes of the binary layout (deterministic)."""
    if dtype not in BIN_DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(BIN_DTYPES)}, got {dtype!r}")
    if layout not in BIN_LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(BIN_LAYOUTS)}, got {layout!r}")
    np_dtype = np.dtype("<f2") if dtype == "fp16" else np.dtype("<f4")
    data_start, offsets = layer_offsets(asset, dtype)
    payload = bytearray()
    for layer, (w_off, b_off) in zip(asset.decoder.layers, offsets, strict=False):
        w = layer.weight if layout == "row_major" else layer.weight.T
        payload += b"\0" * (w_off - data_start - len(payload))
        payload += np.ascontiguousarray(w).astype(np_dtype).tobytes()
        payload += b"\0" * (b_off - data_start - len(payload))
        payload += layer.bias.astype(np_dtype).tobytes()
    payload += b"\0" * _pad(data_start + len(payload))
    enc = asset.encoding
    table = b"".join(
        struct.pack(BIN_LAYER, ly.inputs, ly.outputs, BIN_ACTIVATIONS[ly.activation], 0, 0, w_off, b_off)
        for ly, (w_off, b_off) in zip(asset.decoder.layers, offsets, strict=False)
    )
    head = struct.pack(
        BIN_HEADER,
        BIN_MAGIC,
        BIN_VERSION,
        data_start,
        BIN_DTYPES[dtype],
        BIN_LAYOUTS[layout],
        BIN_ENCODINGS[enc.kind],
        enc.features_per_input,
        enc.inputs,
        len(asset.decoder.layers),
        float(np.float32(asset.leaky_slope)),
        data_start + len(payload),
        zlib.crc32(bytes(payload)),
    )
    head += table
    head += b"\0" * (data_start - len(head))
    return bytes(head) + bytes(payload)


def write_network_binary(
    asset: ShadingMlpAsset, path: str | Path, dtype: str = "fp16", layout: str = "row_major"
) -> None:
    """Write the binary layout to ``path`` atomically."""
    atomic_write_bytes(path, encode_network(asset, dtype, layout))

"""Readers for the portable shading-MLP exports: the RTXNS JSON network and the binary layouts.

Both return :class:`NetworkFile`: per layer the weight matrix (out, in) and bias in the stored
precision (float16 or float32), activations and the encoding parameters, so runtime_ref can
evaluate an exported file directly. Every problem raises AssetError naming the file.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ngsdk.asset.errors import AssetError
from ngsdk.asset.limits import MAX_FILE_BYTES
from ngsdk.asset.safe_read import read_json, read_regular
from ngsdk.asset.shading_mlp import (
    BIN_ACTIVATIONS,
    BIN_DTYPES,
    BIN_ENCODINGS,
    BIN_HEADER,
    BIN_LAYER,
    BIN_LAYOUTS,
    BIN_MAGIC,
    BIN_VERSION,
    ShadingEncoding,
)


@dataclass
class NetworkFile:
    """A network read back from an export: weights (out, in) and biases in ``dtype``."""

    weights: list[np.ndarray]
    biases: list[np.ndarray]
    activations: list[str]
    encoding: ShadingEncoding | None
    leaky_slope: float
    dtype: str
    layout: str = "row_major"
    meta: dict[str, Any] = field(default_factory=dict)


def _inverse(d: dict[str, int]) -> dict[int, str]:
    return {v: k for k, v in d.items()}


def read_network_binary(path: str | Path) -> NetworkFile:
    """Parse and check a binary layout written by ngsdk.exporters.shading_mlp_portable.binary."""
    path = Path(path)
    data = read_regular(path, what="network file")
    hsize, lsize = struct.calcsize(BIN_HEADER), struct.calcsize(BIN_LAYER)
    if len(data) < hsize:
        raise AssetError(path, f"truncated: {len(data)} bytes, the header alone is {hsize}")
    (magic, version, data_start, dtype_c, layout_c, enc_c, fpi, inputs, n_layers, slope, total, crc) = (
        struct.unpack_from(BIN_HEADER, data, 0)
    )
    if magic != BIN_MAGIC:
        raise AssetError(path, f"not an ngsdk network binary (magic {magic!r}, expected {BIN_MAGIC!r})")
    if version != BIN_VERSION:
        raise AssetError(
            path, f"binary layout version {version} is not supported (this reader: {BIN_VERSION})"
        )
    if total != len(data):
        raise AssetError(path, f"size is {len(data)} bytes, header says {total} (truncated or padded)")
    if data_start < hsize + n_layers * lsize or data_start > total:
        raise AssetError(path, f"header size {data_start} is inconsistent with {n_layers} layers")
    if zlib.crc32(data[data_start:]) != crc:
        raise AssetError(path, "payload CRC-32 mismatch (corrupt file)")
    try:
        dtype = _inverse(BIN_DTYPES)[dtype_c]
        layout = _inverse(BIN_LAYOUTS)[layout_c]
        enc_kind = _inverse(BIN_ENCODINGS)[enc_c]
    except KeyError as e:
        raise AssetError(path, f"unknown code {e.args[0]} in header (dtype, layout or encoding)") from None
    np_dtype = np.dtype("<f2") if dtype == "fp16" else np.dtype("<f4")
    weights, biases, acts = [], [], []
    for k in range(n_layers):
        n_in, n_out, act_c, _r0, _r1, w_off, b_off = struct.unpack_from(BIN_LAYER, data, hsize + k * lsize)
        if act_c not in _inverse(BIN_ACTIVATIONS):
            raise AssetError(path, f"layer {k}: unknown activation code {act_c}")
        for name, off, count in (("weights", w_off, n_in * n_out), ("biases", b_off, n_out)):
            if off < data_start or off + count * np_dtype.itemsize > total:
                raise AssetError(path, f"layer {k}: {name} at byte {off} run past the end of the file")
        w = np.frombuffer(data, np_dtype, n_in * n_out, w_off)
        w = w.reshape(n_out, n_in) if layout == "row_major" else w.reshape(n_in, n_out).T
        weights.append(np.ascontiguousarray(w).astype(np_dtype.newbyteorder("=")))
        biases.append(np.frombuffer(data, np_dtype, n_out, b_off).astype(np_dtype.newbyteorder("=")))
        acts.append(_inverse(BIN_ACTIVATIONS)[act_c])
    _check_chain(path, weights)
    try:
        encoding = ShadingEncoding(enc_kind, fpi, inputs)
    except ValueError as e:
        raise AssetError(path, str(e)) from None
    return NetworkFile(
        weights,
        biases,
        acts,
        encoding,
        float(slope),
        dtype,
        layout,
        {"version": version, "header_bytes": data_start},
    )


def _check_chain(path: Path, weights: list[np.ndarray]) -> None:
    for k, (a, b) in enumerate(zip(weights, weights[1:], strict=False)):
        if a.shape[0] != b.shape[1]:
            raise AssetError(
                path, f"layer {k} gives {a.shape[0]} outputs but layer {k + 1} takes {b.shape[1]}"
            )


def read_network_json(path: str | Path) -> NetworkFile:
    """Parse an RTXNS JSON network (``{"layers": [...]}``); ngsdk's extra key gives the encoding."""
    path = Path(path)
    doc = read_json(path, limit=MAX_FILE_BYTES, what="network JSON")
    if not isinstance(doc, dict) or not isinstance(doc.get("layers"), list) or not doc["layers"]:
        raise AssetError(path, "no 'layers' list (not an RTXNS network file)")
    meta = doc.get("ngsdk", {})
    dtype = meta.get("precision", "fp16")
    np_dtype = np.float16 if dtype == "fp16" else np.float32
    weights, biases = [], []
    for k, layer in enumerate(doc["layers"]):
        try:
            n_in, n_out = int(layer["num_inputs"]), int(layer["num_outputs"])
            w = np.asarray(layer["weights"], np.float64)
            b = np.asarray(layer["biases"], np.float64)
        except (KeyError, TypeError, ValueError) as e:
            raise AssetError(path, f"layer {k}: missing or non-numeric field ({e})") from None
        if w.shape != (n_in * n_out,) or b.shape != (n_out,):
            raise AssetError(path, f"layer {k}: {w.size} weights and {b.size} biases for {n_in}->{n_out}")
        weights.append(w.astype(np_dtype).reshape(n_out, n_in))
        biases.append(b.astype(np_dtype))
    _check_chain(path, weights)
    acts = meta.get("activations") or ["leaky_relu"] * (len(weights) - 1) + [
        "sigmoid"
    ]  # RTXNS sample default
    enc = meta.get("encoding")
    try:
        encoding = ShadingEncoding(enc["type"], enc["features_per_input"], enc["inputs"]) if enc else None
    except (KeyError, ValueError) as e:
        raise AssetError(path, f"bad 'ngsdk.encoding' ({e})") from None
    return NetworkFile(
        weights, biases, list(acts), encoding, float(meta.get("leaky_slope", 0.01)), dtype, meta=meta
    )

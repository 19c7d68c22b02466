"""Packing of quantized latent codes into R8G8B8A8 texels (the on-disk grid layout).

Feature ``f`` of a texel with ``b``-bit codes lives in byte ``f // (8 // b)`` at bit offset
``(f % (8 // b)) * b`` (least significant bits first); byte ``k`` is component ``k % 4`` of
array slice ``k // 4``. Unused bits are zero.
"""

from __future__ import annotations

import numpy as np


def packed_slices(features: int, bits: int) -> int:
    """Number of R8G8B8A8 array slices that hold ``features`` codes of ``bits`` bits."""
    nbytes = (features + 8 // bits - 1) // (8 // bits)
    return (nbytes + 3) // 4


def pack_codes(codes: np.ndarray, bits: int) -> np.ndarray:
    """(h, w, F) uint8 codes -> (slices, h, w, 4) uint8 texels."""
    h, w, features = codes.shape
    per_byte = 8 // bits
    slices = packed_slices(features, bits)
    out = np.zeros((h, w, slices * 4), dtype=np.uint8)
    for f in range(features):
        out[..., f // per_byte] |= (codes[..., f] << ((f % per_byte) * bits)).astype(np.uint8)
    return np.ascontiguousarray(out.reshape(h, w, slices, 4).transpose(2, 0, 1, 3))


def unpack_codes(texels: np.ndarray, features: int, bits: int) -> np.ndarray:
    """(slices, h, w, 4) uint8 texels -> (h, w, F) uint8 codes; inverse of :func:`pack_codes`."""
    slices, h, w, _ = texels.shape
    flat = texels.transpose(1, 2, 0, 3).reshape(h, w, slices * 4)
    per_byte = 8 // bits
    mask = (1 << bits) - 1
    out = np.empty((h, w, features), dtype=np.uint8)
    for f in range(features):
        out[..., f] = (flat[..., f // per_byte] >> ((f % per_byte) * bits)) & mask
    return out


def unused_bits_clear(texels: np.ndarray, features: int, bits: int) -> bool:
    """True when every bit not holding a code is zero (a cheap integrity check on load)."""
    return np.array_equal(pack_codes(unpack_codes(texels, features, bits), bits), texels)

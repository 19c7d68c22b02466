"""Texel taps for the profiles that wrap integer indices (ideal, d3d11, nvidia, bounded).

A linear filter over ``d`` axes reads ``2^d`` corner texels; corner ``k`` takes ``i0 + bit_a(k)`` on
axis ``a`` (bit 0 = x). Each index is wrapped by :func:`address.wrap`; border texels are flagged and
replaced by the border colour after the gather.
"""

from __future__ import annotations

from itertools import product

from ngsdk.runtime_ref.sampling.address import wrap
from ngsdk.runtime_ref.sampling.texture import LevelGeometry


def flat_index(geom: LevelGeometry, ix):
    """Atlas row of wrapped per-axis indices ``ix`` (x, y[, z])."""
    idx = ix[1] * geom.w + ix[0]
    if len(ix) == 3:
        idx = idx + ix[2] * (geom.w * geom.h)
    return idx + geom.base


def sizes(geom: LevelGeometry, dims: int):
    return (geom.w, geom.h, geom.d)[:dims]


def nearest(xp, geom: LevelGeometry, i, mode: str):
    """``(row, outside)`` of the texel at integer indices ``i`` (per axis, unwrapped)."""
    wrapped, outside = [], None
    for a, n in enumerate(sizes(geom, len(i))):
        j, o = wrap(xp, i[a], n, mode)
        wrapped.append(j)
        outside = o if outside is None else (outside | o if o is not None else outside)
    return flat_index(geom, wrapped), outside


def corners(xp, geom: LevelGeometry, i0, mode: str):
    """``[(row, outside, bits)]`` for the ``2^d`` corners above integer indices ``i0`` (unwrapped)."""
    dims = len(i0)
    per_axis = []
    for a, n in enumerate(sizes(geom, dims)):
        per_axis.append((wrap(xp, i0[a], n, mode), wrap(xp, i0[a] + 1, n, mode)))
    out = []
    for bits in product((0, 1), repeat=dims):
        bits = bits[::-1]                       # x varies fastest
        ix, outside = [], None
        for a in range(dims):
            j, o = per_axis[a][bits[a]]
            ix.append(j)
            if o is not None:
                outside = o if outside is None else outside | o
        out.append((flat_index(geom, ix), outside, bits))
    return out


def fetch(xp, table, row, outside, border):
    """Gather rows of ``table`` (``(texels, 4)``), the border colour where ``outside``."""
    t = xp.take(table, row, axis=0)
    if outside is not None:
        t = xp.where(outside[:, None], xp.asarray(border, dtype=t.dtype), t)
    return t

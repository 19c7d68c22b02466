"""Profile ``ideal``: the Vulkan spec's formulas in real arithmetic, rounded once to float32.

Source: Vulkan 1.3 spec, chapter "Image Operations": "Unnormalized Texel Coordinate Operations"
(``u' = u * size``), "Wrapping Operation", "Texel Filtering" (linear: ``i0 = floor(u' - 0.5)``,
``alpha = frac(u' - 0.5)``, weights ``(1 - alpha)`` and ``alpha`` per axis, no subtexel snapping;
nearest: ``floor(u')``), "Level-of-Detail Operation" (linear mip blend ``(1 - delta) * lo + delta * hi``
with ``delta = frac(lod)``; nearest mip ``ceil(lod + 0.5) - 1``, the spec's preferred rounding) and
"Conversion to RGBA"/"Fixed-Point Data Conversions" for texel values (exact UNORM/SNORM/sRGB).

Everything is evaluated in float64, where coordinates and weights are exact (a float32 ``u`` times
an integer size) and the weighted sum carries < 2^-50 relative error, then rounded to float32 once.
This is the mathematical reference: real samplers differ from it by their subtexel snapping.
"""

from __future__ import annotations

from ngsdk.runtime_ref.sampling import lod as lodmod
from ngsdk.runtime_ref.sampling import taps
from ngsdk.runtime_ref.sampling.state import SamplerState
from ngsdk.runtime_ref.sampling.texture import SampledTexture


def _positions(xp, coords, geom, dims, linear: bool):
    pos = []
    for a, n in enumerate(taps.sizes(geom, dims)):
        p = coords[a].astype(xp.float64) * (n if isinstance(n, int) else n.astype(xp.float64))
        pos.append(p - 0.5 if linear else p)
    return pos


def level64(tex: SampledTexture, coords, level, layer: int, state: SamplerState, table=None, positions=None):
    """float64 ``(n, 4)`` filtered values of one level (``positions`` overrides the texel positions)."""
    xp = tex.xp
    geom = tex.geometry(level, layer)
    table = tex.atlas("exact") if table is None else table
    border = state.clamped_border(tex.format.kind)
    pos = _positions(xp, coords, geom, tex.dims, state.linear) if positions is None else positions
    if not state.linear:
        row, out = taps.nearest(xp, geom, [xp.floor(p).astype(xp.int32) for p in pos], state.address)
        return taps.fetch(xp, table, row, out, border)
    fl = [xp.floor(p) for p in pos]
    alpha = [p - f for p, f in zip(pos, fl, strict=True)]
    acc = None
    for row, out, bits in taps.corners(xp, geom, [f.astype(xp.int32) for f in fl], state.address):
        w = None
        for a, bit in enumerate(bits):
            wa = alpha[a] if bit else 1.0 - alpha[a]
            w = wa if w is None else w * wa
        term = taps.fetch(xp, table, row, out, border) * w[:, None]
        acc = term if acc is None else acc + term
    return acc


def sample64(tex: SampledTexture, coords, lod, layer: int, state: SamplerState):
    """float64 result before the final rounding (used by :mod:`bounded` tests)."""
    xp = tex.xp
    if lod is None or tex.mip_count == 1:
        return level64(tex, coords, 0, layer, state)
    if state.mip_linear:
        l0, l1, _ = lodmod.linear_levels(xp, lod, tex.mip_count)
        lod64 = xp.clip(lod.astype(xp.float64), 0.0, lodmod.LOD_MAX_CLAMP)
        delta = xp.where(l0 == l1, 0.0, lod64 - xp.floor(lod64))
        lo = level64(tex, coords, l0, layer, state)
        hi = level64(tex, coords, l1, layer, state)
        return lo + (hi - lo) * delta[:, None]
    lod64 = xp.clip(lod.astype(xp.float64), 0.0, lodmod.LOD_MAX_CLAMP)
    level = xp.clip(xp.ceil(lod64 + 0.5) - 1, 0, tex.mip_count - 1).astype(xp.int32)
    return level64(tex, coords, level, layer, state)


def sample(tex: SampledTexture, coords, lod, layer: int, state: SamplerState):
    return sample64(tex, coords, lod, layer, state).astype(tex.xp.float32)

"""Profile ``nvidia``: NVIDIA's texture unit as measured on an H100 (driver 580.159.04).

Source: measurements recorded in ``shared/notes/platform-facts.md`` ("How real samplers filter
textures"): Vulkan through wgpu (rgba8_unorm, nearest and linear, clamp/repeat/mirror, 16x16, 37x23,
256x256: 0 mismatches in 720,000 samples) and CUDA texture objects (the weight scheme, float
textures, the UNORM16 output rounding).

* the normalized coordinate is truncated to 21 fractional bits, ``uq = floor(u * 2^21) / 2^21``;
* linear: ``x = uq * size - 0.5`` exactly, ``i0 = floor(x)``, ``A = floor(frac(x) * 256 + 0.5)``
  (``A = 256`` carries into ``i0``); address modes wrap the integer indices;
* weights in 1/256 units: ``w11 = (A*B + 128) >> 8``, ``w10 = A - w11``, ``w01 = B - w11``,
  ``w00 = 256 - A - B + w11`` (``A`` along x, ``B`` along y);
* 8-bit UNORM: ``S = sum(w * code)``, result ``round(S * 257 / 256) / 65535`` (UNORM16 output);
  float32 textures: ``sum(w * T) / 256``;
* nearest: texel ``floor(uq * size)``, value ``code / 255`` correctly rounded.

Not measured yet, so refused rather than guessed: 3D textures, mip blending (trilinear), sRGB,
SNORM, 16-bit formats (half and UNORM16), clamp-to-border. Mipped textures may be sampled at
integral LODs only (the nearest-mip rounding rule is unmeasured).

The UNORM16 rounding breaks ties upwards, ``(S * 257 + 128) >> 8``: measured with CUDA texture
objects on the H100 (driver 580.159.04; 16x16, 37x23, 256x256, clamp, 600,000 coordinates on the
2^-21 grid): 0 mismatches, where round-half-even would differ in about 1.7% of the samples.
"""

from __future__ import annotations

from runtime_ref.sampling import taps
from runtime_ref.sampling.state import SamplerState
from runtime_ref.sampling.texture import SampledTexture

_COORD_BITS = 21


class NotMeasuredError(ValueError):
    """The requested case lies outside what the nvidia profile has been measured to reproduce."""


def check(tex: SampledTexture, state: SamplerState, has_lod: bool) -> None:
    fmt = tex.format
    if tex.dims == 3:
        raise NotMeasuredError("nvidia profile: 3D textures are not measured yet (use bounded)")
    if state.mip_linear and tex.mip_count > 1:
        raise NotMeasuredError("nvidia profile: trilinear (mip blending) is not measured yet (use bounded)")
    if state.address == "border":
        raise NotMeasuredError("nvidia profile: clamp-to-border is not measured yet (wgpu cannot set a "
                               "border colour; use bounded)")
    if fmt.srgb:
        raise NotMeasuredError(f"nvidia profile: sRGB ({fmt.name}) is not measured yet (use bounded)")
    if not (tex.is_byte_unorm or (fmt.kind == "float" and fmt.dtype == "<f4")):
        raise NotMeasuredError(f"nvidia profile: {fmt.name} is not measured yet (8-bit UNORM and 32-bit "
                               "float only; use bounded)")


def _quantize(xp, u):
    return xp.floor(u.astype(xp.float64) * 2.0**_COORD_BITS) * 2.0**-_COORD_BITS


def _level(tex: SampledTexture, coords, level, layer: int, state: SamplerState):
    xp = tex.xp
    geom = tex.geometry(level, layer)
    border = state.clamped_border(tex.format.kind)
    byte = tex.is_byte_unorm
    uq = [_quantize(xp, c) for c in coords]
    n = taps.sizes(geom, tex.dims)
    if not state.linear:
        i = [xp.floor(uq[a] * n[a]).astype(xp.int32) for a in range(tex.dims)]
        row, out = taps.nearest(xp, geom, i, state.address)
        # code / 255 correctly rounded: the float64 quotient is never a float32 midpoint
        return taps.fetch(xp, tex.atlas("exact"), row, out, border).astype(xp.float32)
    x = [uq[a] * n[a] - 0.5 for a in range(tex.dims)]
    fl = [xp.floor(v) for v in x]
    wt = [xp.floor((v - f) * 256.0 + 0.5).astype(xp.int64) for v, f in zip(x, fl, strict=True)]
    i0 = [f.astype(xp.int32) for f in fl]
    for a in range(tex.dims):                      # A == 256 carries into the integer part
        carry = wt[a] == 256
        i0[a] = xp.where(carry, i0[a] + 1, i0[a])
        wt[a] = xp.where(carry, 0, wt[a])
    a_, b_ = wt
    w11 = (a_ * b_ + 128) >> 8
    weights = {(0, 0): 256 - a_ - b_ + w11, (1, 0): a_ - w11, (0, 1): b_ - w11, (1, 1): w11}
    if byte:
        table = tex.atlas("codes").astype(xp.int64)
        border_t = tuple(round(c * 255) for c in border)
    else:
        table, border_t = tex.atlas("exact"), border
    acc = None
    for row, out, bits in taps.corners(xp, geom, i0, state.address):
        w = weights[bits]
        t = taps.fetch(xp, table, row, out, border_t)
        term = t * (w if byte else w.astype(xp.float64))[:, None]
        acc = term if acc is None else acc + term
    if byte:
        return (((acc * 257 + 128) >> 8).astype(xp.float64) / 65535.0).astype(xp.float32)
    return (acc / 256.0).astype(xp.float32)


def sample(tex: SampledTexture, coords, lod, layer: int, state: SamplerState):
    xp = tex.xp
    if lod is None or tex.mip_count == 1:
        return _level(tex, coords, 0, layer, state)
    level = xp.clip(lod, 0, tex.mip_count - 1)
    if not bool((level == xp.floor(level)).all()):
        raise NotMeasuredError("nvidia profile: a mipped texture can be sampled at integral LODs only "
                               "(the nearest-mip rounding is not measured yet)")
    return _level(tex, coords, level.astype(xp.int32), layer, state)

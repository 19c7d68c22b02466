"""Profile ``lavapipe``: Mesa's CPU Vulkan driver, bit-exact (measured: Mesa 22.3.6 and 25.0.7, LLVM 15).

llvmpipe picks one of two samplers per (format, sampler) pair, as ``lp_build_sample_soa_code`` in
Mesa's ``lp_bld_sample_soa.c`` does: the AoS 8.8 fixed-point path (:mod:`lavapipe_fixed`) when the
format fits 8-bit UNORM (``util_format_fits_8unorm``: 8-bit UNORM, not sRGB) and the address mode is
repeat or clamp-to-edge; otherwise the SoA float path (:mod:`lavapipe_float`).

``mesa=22`` (Debian 12's lavapipe) specialises on power-of-two sizes: repeat wraps by masking
integer coordinates without ``fract()``. ``mesa=25`` (Mesa with ``lp_texture_handle.c``, 24.x and
later) clears the power-of-two flags (``pot_width = pot_height = pot_depth = false``), so every size
takes the ``fract()`` path. The two differ where ``fract(u) = u - floor(u)`` rounds, i.e. for some
``u`` in (-0.5, 0) (float path weights, and rarely an 8.8 snap); for ``u >= 0`` they agree.
Measured: ``mesa=22`` against Mesa 22.3.6 and ``mesa=25`` against Mesa 25.0.7 (bookworm-backports),
both through wgpu, 0 mismatches on the whole sampler conformance suite.

The arithmetic assumes an x86 CPU with SSSE3 and FMA (``pmulhrsw`` rounding in the 8.8 lerp, FMA
in float lerps and the sRGB polynomial); llvmpipe on a CPU without FMA rounds float lerps twice.
"""

from __future__ import annotations

from ngsdk.runtime_ref.sampling import lavapipe_fixed, lavapipe_float
from ngsdk.runtime_ref.sampling.state import SamplerState
from ngsdk.runtime_ref.sampling.texture import SampledTexture


def uses_fixed_path(tex: SampledTexture, state: SamplerState) -> bool:
    """True when llvmpipe samples with its 8.8 AoS path (``use_aos`` in lp_bld_sample_soa.c)."""
    return tex.is_byte_unorm and not tex.format.srgb and state.address in ("repeat", "clamp")


def sample(tex: SampledTexture, coords, lod, layer: int, state: SamplerState, *, mesa: int = 22):
    """Float32 ``(n, 4)`` samples exactly as lavapipe returns them."""
    path = lavapipe_fixed if uses_fixed_path(tex, state) else lavapipe_float
    return path.sample(tex, coords, lod, layer, state, mesa=mesa)

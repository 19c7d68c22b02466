"""Engine-faithful texture samplers: the reference for what a GPU's sampler returns.

``sample(tex, uv, lod=..., filter=..., address=..., profile=...)`` evaluates nearest, bilinear and
trilinear filtering with repeat / mirror / clamp / border addressing on 2D, 2D-array and 3D
textures with mip chains, under named profiles: ``ideal`` (the spec's real arithmetic), ``d3d11``,
``lavapipe`` (bit-exact), ``nvidia`` (measured) and ``bounded`` (bounds for any conformant
sampler). NumPy by default; ``backend="cupy"`` runs the same code on a GPU. See docs/samplers.md.
"""

from ngsdk.runtime_ref.sampling.address import ADDRESS_MODES
from ngsdk.runtime_ref.sampling.api import CHUNK, sample
from ngsdk.runtime_ref.sampling.bounded import BoundedSpec
from ngsdk.runtime_ref.sampling.nvidia import NotMeasuredError
from ngsdk.runtime_ref.sampling.profiles import PROFILES, Profile, get_profile
from ngsdk.runtime_ref.sampling.state import FILTERS, SamplerState
from ngsdk.runtime_ref.sampling.texture import SampledTexture, prepare

__all__ = [
    "ADDRESS_MODES", "CHUNK", "FILTERS", "PROFILES", "BoundedSpec", "NotMeasuredError", "Profile",
    "SampledTexture", "SamplerState", "get_profile", "prepare", "sample",
]

"""The named sampler profiles and what each is based on.

=================== ========================================================================
``ideal``           Vulkan spec formulas in real arithmetic, rounded once (:mod:`.ideal`)
``d3d11``           D3D11 16.8 fixed point, 8-bit weights, exact sums (:mod:`.d3d11`)
``lavapipe``        Mesa 22 llvmpipe, bit-exact: 8.8 and float/FMA paths (:mod:`.lavapipe`)
``lavapipe-mesa25`` Mesa >= 24 llvmpipe (no power-of-two specialisation), bit-exact
``nvidia``          NVIDIA H100 measurements: 21-bit coordinates, 1/256 weights (:mod:`.nvidia`)
``bounded``         lower/upper bounds for any conformant sampler (:mod:`.bounded`)
=================== ========================================================================

A :class:`Profile` couples a name with its sampling function; build one with other parameters
(``Profile.for_lavapipe(mesa=25)``, ``Profile.for_bounds(BoundedSpec(subtexel_bits=6))``) and pass it to
:func:`ngsdk.runtime_ref.sampling.sample` in place of a name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ngsdk.runtime_ref.sampling import bounded, d3d11, ideal, lavapipe, nvidia
from ngsdk.runtime_ref.sampling.state import SamplerState
from ngsdk.runtime_ref.sampling.texture import SampledTexture


def _no_check(tex: SampledTexture, state: SamplerState, has_lod: bool) -> None:
    return None


@dataclass(frozen=True)
class Profile:
    """A named sampler model: ``run(tex, coords, lod, layer, state)`` on one chunk of samples."""

    name: str
    run: Callable = field(repr=False)
    bounded: bool = False
    check: Callable = field(default=_no_check, repr=False)
    source: str = ""

    @staticmethod
    def for_lavapipe(mesa: int = 22) -> Profile:
        name = "lavapipe" if mesa < 24 else f"lavapipe-mesa{mesa}"
        return Profile(name, lambda t, c, lo, la, s: lavapipe.sample(t, c, lo, la, s, mesa=mesa),
                       source=f"Mesa {mesa} llvmpipe source; measured on Mesa 22.3.6 / 25.0.7")

    @staticmethod
    def for_bounds(spec: bounded.BoundedSpec | None = None) -> Profile:
        spec = spec or bounded.BoundedSpec()
        return Profile("bounded", lambda t, c, lo, la, s: bounded.sample(t, c, lo, la, s, spec), bounded=True,
                       source=f"Vulkan/D3D11 precision rules: {spec}")


PROFILES: dict[str, Profile] = {
    "ideal": Profile("ideal", ideal.sample, source="Vulkan spec, Image Operations chapter"),
    "d3d11": Profile("d3d11", d3d11.sample, source="D3D11.3 functional spec, texture sampling"),
    "lavapipe": Profile.for_lavapipe(22),
    "lavapipe-mesa25": Profile.for_lavapipe(25),
    "nvidia": Profile("nvidia", nvidia.sample, check=nvidia.check,
                      source="H100 measurements, shared/notes/platform-facts.md"),
    "bounded": Profile.for_bounds(),
}


def get_profile(profile: str | Profile) -> Profile:
    """A :class:`Profile` by name (or the profile itself); ``ValueError`` naming the known ones."""
    if isinstance(profile, Profile):
        return profile
    try:
        return PROFILES[profile]
    except (KeyError, TypeError):
        raise ValueError(f"unknown sampler profile {profile!r} (use one of {', '.join(PROFILES)})") from None

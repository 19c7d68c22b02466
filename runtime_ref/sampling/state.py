"""Sampler state (filter, address mode, border colour) and its validation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ngsdk.runtime_ref.sampling.address import ADDRESS_MODES

FILTERS = ("nearest", "linear", "trilinear")


@dataclass(frozen=True)
class SamplerState:
    """What a sampler object fixes: one filter and one address mode for every axis.

    ``filter``: ``nearest`` (nearest texel, nearest mip), ``linear`` (bilinear / trilinear-in-space
    for 3D, nearest mip) or ``trilinear`` (linear texels and a linear blend of two mips).
    ``address``: ``repeat``, ``mirror`` (mirrored repeat), ``clamp`` (clamp to edge) or ``border``
    (clamp to border with ``border``, an RGBA colour; default transparent black).
    """

    filter: str = "linear"
    address: str = "repeat"
    border: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)

    def __post_init__(self) -> None:
        if self.filter not in FILTERS:
            raise ValueError(f"unknown filter {self.filter!r} (use one of {', '.join(FILTERS)})")
        if self.address not in ADDRESS_MODES:
            raise ValueError(f"unknown address mode {self.address!r} (use one of {', '.join(ADDRESS_MODES)})")
        border = tuple(float(c) for c in self.border)
        if len(border) != 4 or not all(np.isfinite(border)):
            raise ValueError(f"border colour must be 4 finite numbers (R, G, B, A), got {self.border!r}")
        object.__setattr__(self, "border", border)

    @property
    def linear(self) -> bool:
        return self.filter != "nearest"

    @property
    def mip_linear(self) -> bool:
        return self.filter == "trilinear"

    def clamped_border(self, kind: str) -> tuple[float, float, float, float]:
        """The border colour clamped to the format's range: [0, 1] UNORM/sRGB, [-1, 1] SNORM.

        Vulkan (VkBorderColor, and custom border colours) and llvmpipe clamp it this way; float
        formats take it as given. The border is linear: sRGB formats do not decode it.
        """
        if kind == "unorm":
            return tuple(min(max(c, 0.0), 1.0) for c in self.border)
        if kind == "snorm":
            return tuple(min(max(c, -1.0), 1.0) for c in self.border)
        return self.border

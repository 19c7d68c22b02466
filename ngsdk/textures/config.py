"""Training configuration of neural textures and the bits-per-texel presets (torch-free).

bpp = (bytes of all grids incl. every level + bytes of decoder weights) * 8 / texels of the
top mip of the source. Grids are stored as R8G8B8A8 array slices of packed ``bits``-bit codes,
so a grid with ``k`` slices at ``gw x gh`` costs ``32 k`` bits per grid texel on every level.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class GridConfig:
    name: str
    width: int
    height: int
    slices: int
    bits: int

    @property
    def features(self) -> int:
        return self.slices * 32 // self.bits


@dataclass
class TextureTrainConfig:
    """Everything that determines a neural texture training run (stored in the provenance)."""

    bpp: float = 5.0
    latent_bits: int = 4
    grids: list[GridConfig] = field(default_factory=list)
    hidden: int = 64
    hidden_layers: int = 2
    activation: str = "relu"
    encoding_frequencies_cells: list[float] = field(default_factory=lambda: [1.0, 0.25])
    encoding_phases: list[float] = field(default_factory=lambda: [0.0, 0.25])
    address: str = "wrap"
    steps: int | None = None
    time_budget: float | None = None
    batch_size: int = 1 << 14
    lr_latents: float = 0.02
    lr_decoder: float = 0.005
    noise_fraction: float = 0.6
    mip_falloff: float = 0.5
    loss_weights: dict[str, float] = field(default_factory=dict)
    early_stop_patience: int = 0
    eval_every: int = 100
    seed: int = 0
    device: str = "auto"
    decode_mode: str = "exact"
    qat_start: float | None = None
    """exact/hardware: fraction of the run after which the integer decoder trains (default: noise_fraction)."""

    def check(self) -> None:
        """Raise ValueError for settings a decode mode cannot use."""
        if self.decode_mode not in ("float", "exact", "hardware"):
            raise ValueError(f"decode mode must be float, exact or hardware, got {self.decode_mode!r}")
        if self.decode_mode == "hardware" and (self.latent_bits != 8 or any(g.bits != 8 for g in self.grids)):
            raise ValueError("--decode hardware samples latents with the texture filter: it needs --latent-bits 8")
        if self.decode_mode != "float" and self.activation != "relu":
            raise ValueError(f"--decode {self.decode_mode}: the integer decoder supports relu hidden layers only")
        if self.decode_mode != "float":
            _check_terms(self.encoding_frequencies_cells, self.encoding_phases)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TextureTrainConfig:
        d = dict(d)
        d["grids"] = [GridConfig(**g) for g in d.get("grids", [])]
        return cls(**d)


def _check_terms(cells: list[float], phases: list[float]) -> None:
    for c in cells:
        s = -math.log2(c) if c > 0 else float("nan")
        if not (s == round(s) and -7 <= s <= 15):
            raise ValueError(f"integer decode modes: encoding frequency {c} cycles per texel must be 2^-s, "
                             f"s an integer in [-7, 15]")
        for p in phases:
            units = p * 2 ** (8 + int(round(s)))
            if not 0 <= p < 1 or units != round(units):
                raise ValueError(f"integer decode modes: phase {p} must lie in [0, 1) on a 1/256-texel step")


def decoder_bytes(inputs: int, hidden: int, hidden_layers: int, outputs: int, *, quantized: bool = False) -> int:
    """Stored decoder bytes: float32 weights and biases, or (quantized) int8 weights and int32 bias,
    multiplier and shift per output."""
    dims = [inputs] + [hidden] * hidden_layers + [outputs]
    if quantized:
        return sum(a * b + 12 * b for a, b in zip(dims, dims[1:]))
    return sum(4 * (a * b + b) for a, b in zip(dims, dims[1:]))


def mip_count(width: int, height: int) -> int:
    return int(math.floor(math.log2(max(width, height)))) + 1


def grid_bits(g: GridConfig) -> int:
    """Stored bits of a grid over its full mip chain."""
    total = 0
    w, h = g.width, g.height
    while True:
        total += w * h * 32 * g.slices
        if w == 1 and h == 1:
            break
        w, h = max(1, w // 2), max(1, h // 2)
    return total


def plan_grids(width: int, height: int, channels: int, cfg: TextureTrainConfig) -> list[GridConfig]:
    """Choose two grids (a fine one and one at half its resolution) so the total meets ``cfg.bpp``.

    Grid 0 has 1 slice and grid 1 has 2 slices of ``latent_bits`` codes (8 and 16 features at
    4 bits). Grid 0's size is ``width / s`` for the smallest scale ``s`` whose total (grids
    incl. mips + decoder) stays within the budget.
    """
    bits = cfg.latent_bits
    enc_features = 2 * len(cfg.encoding_frequencies_cells) * len(cfg.encoding_phases)
    texels = width * height

    def build(s: float) -> list[GridConfig]:
        g0w, g0h = max(1, round(width / s)), max(1, round(height / s))
        g1w, g1h = max(1, round(width / (2 * s))), max(1, round(height / (2 * s)))
        return [GridConfig("grid0", g0w, g0h, 1, bits), GridConfig("grid1", g1w, g1h, 2, bits)]

    def total_bpp(grids: list[GridConfig]) -> float:
        inputs = sum(g.features for g in grids) + enc_features
        dec = decoder_bytes(inputs, cfg.hidden, cfg.hidden_layers, channels, quantized=cfg.decode_mode != "float")
        return (sum(grid_bits(g) for g in grids) + 8 * dec) / texels

    lo, hi = 0.25, 256.0
    if total_bpp(build(hi)) > cfg.bpp:
        raise ValueError(
            f"--bpp {cfg.bpp} is below what the smallest model costs for a {width}x{height} texture "
            f"({total_bpp(build(hi)):.3f} bpp); raise --bpp or reduce --hidden"
        )
    for _ in range(60):
        mid = math.sqrt(lo * hi)
        if total_bpp(build(mid)) > cfg.bpp:
            lo = mid
        else:
            hi = mid
    return build(hi)

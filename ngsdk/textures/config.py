"""Training configuration of neural textures and the bits-per-texel presets (torch-free).

bpp = (bytes of all grids incl. every stored level + bytes of decoder weights) * 8 / texels of the
top mip of the source. Grids are stored as R8G8B8A8 array slices of packed ``bits``-bit codes,
so a grid with ``k`` slices at ``gw x gh`` costs ``32 k`` bits per grid texel on every level.

Two latent layouts (docs/textures.md, "Latent layout"):

- ``pyramid`` (default, format 2.0): one latent pyramid; texture mips ``2k`` and ``2k + 1`` read levels
  ``k`` and ``k + 1`` (a high- and a low-resolution fetch) and a LOD input tells the two mips apart.
  Every level serves as the fine fetch of two mips and the coarse fetch of two others, so mip 0
  sees about 94 % of the stored latent bits.
- ``grids`` (the 1.x layout, and what the ``hardware`` mode needs): two grids, each a full pyramid,
  texture mip ``m`` reading level ``m`` of both; mip 0 sees 75 % of the bits.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from ngsdk.asset.types import DECODE_MODES, DecodeMode

LAYOUTS = ("auto", "pyramid", "grids")
LATENT_INIT_MODES = ("pca", "uniform")


@dataclass
class GridConfig:
    name: str
    width: int
    height: int
    slices: int
    bits: int
    levels: int = 0
    """Stored levels (0: the full chain down to 1x1)."""

    @property
    def features(self) -> int:
        return self.slices * 32 // self.bits


@dataclass
class LatentPlan:
    """Where the latent bits sit: the grids, each mip's taps ``(grid, level)`` and LOD inputs."""

    grids: list[GridConfig]
    taps: list[list[tuple[int, int]]]
    lod_inputs: list[int] | None


@dataclass
class TextureTrainConfig:
    """Everything that determines a neural texture training run (stored in the provenance).

    The defaults are the winners of the quality campaign recorded in docs/textures.md.
    """

    bpp: float = 5.0
    latent_bits: int = 4
    layout: str = "auto"
    """``pyramid``, ``grids``, or ``auto``: ``grids`` for the hardware decode mode, else ``pyramid``."""
    latent_features: int = 0
    """pyramid layout: features per latent texel, filling whole RGBA8 texels (0: one texel, 32 / latent_bits)."""
    mips_per_level: int = 2
    """pyramid layout: texture mips that share one pair of latent levels (2: mips 2k, 2k+1 read k, k+1)."""
    grids: list[GridConfig] = field(default_factory=list)
    hidden: int = 64
    hidden_layers: int = 3
    activation: str = "relu"
    encoding_frequencies_cells: list[float] = field(default_factory=lambda: [0.5, 1.0, 2.0])
    encoding_phases: list[float] = field(default_factory=lambda: [0.0, 0.25])
    address: str = "wrap"
    steps: int | None = None
    time_budget: float | None = None
    batch_size: int | None = None
    """Samples per step (None: 131072 on CUDA, 8192 on the CPU)."""
    lr_latents: float = 0.2
    lr_decoder: float | None = None
    """Decoder learning rate; None: 0.005 for a decoder up to 64 units wide, 0.01 for a wider one (a wider decoder
    trains better with the larger rate: docs/textures.md, the campaign's decoder rows)."""
    latent_init: float = 0.5
    """Latents start uniform in [-latent_init, latent_init] (spread over the code range) unless PCA sets them."""
    latent_init_mode: str = "pca"
    """``pca``: latents start as the leading principal components of the texels each latent texel covers
    (:mod:`ngsdk.textures.latent_init`); ``uniform``: uniform noise."""
    noise_fraction: float = 0.8
    mip_falloff: float = 0.25
    loss_weights: dict[str, float] = field(default_factory=dict)
    early_stop_patience: int = 0
    eval_every: int = 100
    seed: int = 0
    device: str = "auto"
    decode_mode: DecodeMode = "exact"
    qat_start: float | None = None
    """exact/hardware: fraction of the run after which the integer decoder trains (default: noise_fraction)."""
    ema: float | None = 0.99
    """Integer/STE phase: per-step decay of an exponential moving average of the latents and decoder weights,
    exported instead of the last step's values (the rounding steps make the last step noisy); None: no average."""
    cuda_graphs: bool = True
    """CUDA: replay each training phase's step as one captured graph (no per-step launch overhead)."""
    fused_sampling: bool = True
    """CUDA: sample the latents of the float phases with the fused Triton kernels (deterministic gradients)."""

    @property
    def resolved_layout(self) -> str:
        if self.layout == "auto":
            return "grids" if self.decode_mode == "hardware" else "pyramid"
        return self.layout

    @property
    def resolved_lr_decoder(self) -> float:
        if self.lr_decoder is not None:
            return self.lr_decoder
        return 0.005 if self.hidden <= 64 else 0.01

    @property
    def resolved_features(self) -> int:
        return self.latent_features or 32 // self.latent_bits

    def check(self) -> None:
        """Raise ValueError for settings a decode mode cannot use."""
        if self.decode_mode not in DECODE_MODES:
            raise ValueError(f"decode mode must be one of {', '.join(DECODE_MODES)}, got {self.decode_mode!r}")
        if self.layout not in LAYOUTS:
            raise ValueError(f"latent layout must be one of {', '.join(LAYOUTS)}, got {self.layout!r}")
        if self.latent_init_mode not in LATENT_INIT_MODES:
            raise ValueError(f"latent init must be one of {', '.join(LATENT_INIT_MODES)}, "
                             f"got {self.latent_init_mode!r}")
        if self.decode_mode == "hardware" and (self.latent_bits != 8 or any(g.bits != 8 for g in self.grids)):
            raise ValueError("--decode hardware samples latents with the texture filter: it needs --latent-bits 8")
        if self.decode_mode == "hardware" and self.resolved_layout != "grids":
            raise ValueError("--decode hardware needs the 'grids' latent layout (one sampler LOD addresses every "
                             "grid)")
        if self.decode_mode != "float" and self.activation != "relu":
            raise ValueError(f"--decode {self.decode_mode}: the integer decoder supports relu hidden layers only")
        if self.decode_mode != "float":
            _check_terms(self.encoding_frequencies_cells, self.encoding_phases)
        if self.resolved_layout == "pyramid" and (self.resolved_features * self.latent_bits) % 32:
            raise ValueError(f"latent_features x latent_bits ({self.resolved_features} x {self.latent_bits}) must "
                             "fill whole 32-bit RGBA8 texels")
        if self.mips_per_level < 1:
            raise ValueError("mips_per_level must be at least 1")

    def resolved_batch(self, device_type: str) -> int:
        """The batch size this run uses on ``device_type`` (``cuda`` or ``cpu``)."""
        if self.batch_size:
            return int(self.batch_size)
        return 131072 if device_type == "cuda" else 8192

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


def level_count(width: int, height: int) -> int:
    """Levels of a full chain down to 1x1."""
    return mip_count(width, height)


def grid_bits(g: GridConfig) -> int:
    """Stored bits of a grid over its stored levels."""
    total = 0
    w, h = g.width, g.height
    for _ in range(g.levels or level_count(g.width, g.height)):
        total += w * h * 32 * g.slices
        w, h = max(1, w // 2), max(1, h // 2)
    return total


def lod_input(m: int, per_level: int) -> int:
    """LOD input of texture mip ``m`` when ``per_level`` mips share latent levels: -127 .. 127 across the group."""
    if per_level <= 1:
        return 0
    return round(127 * (2 * (m % per_level) / (per_level - 1) - 1))


def layout_for(grids: list[GridConfig], mips: int, cfg: TextureTrainConfig) -> LatentPlan:
    """Taps and LOD inputs of every texture mip for ``grids`` in ``cfg.layout``."""
    if cfg.resolved_layout == "grids":
        levels = [g.levels or level_count(g.width, g.height) for g in grids]
        return LatentPlan(grids, [[(gi, min(m, levels[gi] - 1)) for gi in range(len(grids))] for m in range(mips)],
                          None)
    g = grids[0]
    top = (g.levels or level_count(g.width, g.height)) - 1
    k = cfg.mips_per_level
    taps = [[(0, min(m // k, top)), (0, min(m // k + 1, top))] for m in range(mips)]
    lods = [lod_input(m, k) for m in range(mips)] if k > 1 else None
    return LatentPlan(grids, taps, lods)


def _build(width: int, height: int, s: float, cfg: TextureTrainConfig) -> list[GridConfig]:
    bits = cfg.latent_bits
    if cfg.resolved_layout == "grids":
        g0w, g0h = max(1, round(width / s)), max(1, round(height / s))
        g1w, g1h = max(1, round(width / (2 * s))), max(1, round(height / (2 * s)))
        return [GridConfig("grid0", g0w, g0h, 1, bits), GridConfig("grid1", g1w, g1h, 2, bits)]
    gw, gh = max(1, round(width / s)), max(1, round(height / s))
    full = level_count(gw, gh)
    # store the levels the taps read: level m // k + 1 for the last texture mip, at most the full chain
    needed = min(full, (mip_count(width, height) - 1) // cfg.mips_per_level + 2)
    return [GridConfig("latents", gw, gh, cfg.resolved_features * bits // 32, bits, levels=needed)]


def plan_bpp(width: int, height: int, channels: int, cfg: TextureTrainConfig, grids: list[GridConfig]) -> float:
    """Bits per texel of ``grids`` plus the decoder that ``cfg`` implies, for a ``width x height`` texture."""
    plan = layout_for(grids, mip_count(width, height), cfg)
    enc_features = 2 * len(cfg.encoding_frequencies_cells) * len(cfg.encoding_phases)
    inputs = sum(grids[gi].features for gi, _ in plan.taps[0]) + enc_features + (1 if plan.lod_inputs else 0)
    dec = decoder_bytes(inputs, cfg.hidden, cfg.hidden_layers, channels, quantized=cfg.decode_mode != "float")
    return (sum(grid_bits(g) for g in grids) + 8 * dec) / (width * height)


def plan_grids(width: int, height: int, channels: int, cfg: TextureTrainConfig) -> list[GridConfig]:
    """The grids of ``cfg.layout`` at the finest resolution whose total (grids incl. stored levels +
    decoder) stays within ``cfg.bpp``: grid size ``width / s`` for the smallest scale ``s``."""
    lo, hi = 0.25, 512.0
    floor_bpp = plan_bpp(width, height, channels, cfg, _build(width, height, hi, cfg))
    if floor_bpp > cfg.bpp:
        raise ValueError(
            f"--bpp {cfg.bpp} is below what the smallest model costs for a {width}x{height} texture "
            f"({floor_bpp:.3f} bpp); raise --bpp or reduce --hidden"
        )
    for _ in range(60):
        mid = math.sqrt(lo * hi)
        if plan_bpp(width, height, channels, cfg, _build(width, height, mid, cfg)) > cfg.bpp:
            lo = mid
        else:
            hi = mid
    return _build(width, height, hi, cfg)

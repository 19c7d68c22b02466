"""Training configuration of neural volumes (AMGSRN) and the model-size presets (torch-free).

A model is ``grids`` feature grids of ``grid_res``^3 nodes x ``features`` features, each with its own
affine transform, and an MLP decoder (``hidden_layers`` x ``hidden``, ReLU, one output). A volume can
be split into bricks (``bricks`` per axis, ``ghost`` voxels of overlap), one model per brick.
Stored size: every grid is one DDS volume texture of 4-component texels (R8G8B8A8 for ``unorm8``,
R16G16B16A16 for ``float16``), so features 1..4 cost the same bytes; plus the float32 decoder.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from ngsdk.asset.neural_volume import VOLUME_DECODE_MODES
from ngsdk.asset.types import DecodeMode

PRESETS: dict[str, tuple[int, int, int]] = {
    "tiny": (16, 16, 1),
    "small": (16, 16, 4),
    "medium": (16, 32, 2),
    "large": (16, 32, 4),
    "huge": (16, 64, 4),
}
"""Model sizes (grids, grid resolution, features), spanning the seed paper's 16 x 16^3 x 1 to 16 x 64^3 x 4."""

STORAGES = ("unorm8", "float16")


SAMPLERS = ("auto", "gather", "fused", "grid_sample")
"""Training samplers (:attr:`VolumeTrainConfig.sampler`)."""


@dataclass
class VolumeTrainConfig:
    """Everything that determines a neural volume training run (stored in the provenance)."""

    grids: int = 16
    grid_res: int = 32
    features: int = 2
    hidden: int = 64
    hidden_layers: int = 2
    storage: str = "unorm8"
    decode_mode: DecodeMode = "exact"
    steps: int | None = None
    time_budget: float | None = None
    batch_size: int | None = None
    """Points per step; None: 2^14 on the CPU, 2^18 on CUDA."""
    lr: float = 0.02
    """Adam learning rate of the feature grids; the decoder uses ``lr * decoder_lr_ratio``."""
    decoder_lr_ratio: float = 0.5
    transform_lr: float = 0.002
    density_weight: float = 0.01
    """Weight of the KL density loss that steers the grid transforms towards high error."""
    density_points: int = 1 << 13
    freeze_fraction: float = 0.3
    """Fraction of the run after which the transforms freeze (features and decoder fine-tune)."""
    qat_fraction: float = 0.75
    """Fraction of the run after which features are trained through their stored quantization."""
    jitter_fraction: float = 0.0
    """Share of each batch placed between voxels (target: trilinear interpolation of the data)."""
    early_stop_patience: int = 0
    eval_every: int = 100
    eval_points: int = 1 << 16
    seed: int = 0
    device: str = "auto"
    bricks: tuple[int, int, int] = (1, 1, 1)
    """Bricks along z, y, x."""
    ghost: int = 16
    sampler: str = "auto"
    """Training sampler: ``gather`` (deterministic backward everywhere), ``fused`` (the same sampling and
    deterministic backward in two Triton kernels: CUDA only), ``grid_sample`` (float atomics in its CUDA
    backward: not bit-reproducible there), ``auto`` (gather on CUDA, grid_sample on the CPU)."""

    def check(self) -> None:
        """Raise ValueError for settings out of range."""
        if not 1 <= self.grids <= 64:
            raise ValueError(f"--grids must lie in 1..64, got {self.grids}")
        if not 2 <= self.grid_res <= 256:
            raise ValueError(f"--grid-res must lie in 2..256, got {self.grid_res}")
        if not 1 <= self.features <= 4:
            raise ValueError(f"--features must lie in 1..4 (one 4-component texel per node), got {self.features}")
        if self.storage not in STORAGES:
            raise ValueError(f"--storage must be one of {', '.join(STORAGES)}, got {self.storage!r}")
        if self.decode_mode not in VOLUME_DECODE_MODES:
            raise ValueError(f"--decode must be one of {', '.join(VOLUME_DECODE_MODES)}, got {self.decode_mode!r}")
        if self.hidden < 1 or self.hidden_layers < 0:
            raise ValueError("the decoder needs hidden >= 1 and hidden_layers >= 0")
        if self.steps is None and self.time_budget is None:
            raise ValueError("give --steps or --time-budget (or both)")
        if not 0 <= self.freeze_fraction <= self.qat_fraction <= 1:
            raise ValueError("need 0 <= freeze_fraction <= qat_fraction <= 1")
        if len(self.bricks) != 3 or any(int(b) < 1 for b in self.bricks):
            raise ValueError(f"--bricks needs three counts >= 1 (z, y, x), got {self.bricks}")
        if self.sampler not in SAMPLERS:
            raise ValueError(f"sampler must be {', '.join(SAMPLERS[:-1])} or {SAMPLERS[-1]}, got {self.sampler!r}")
        if self.ghost < 0:
            raise ValueError(f"--ghost must be >= 0, got {self.ghost}")
        if self.batch_size is not None and self.batch_size < 64:
            raise ValueError(f"--batch-size must be at least 64, got {self.batch_size}")

    def apply_preset(self, name: str) -> VolumeTrainConfig:
        """Set grids, grid_res and features from :data:`PRESETS`."""
        if name not in PRESETS:
            raise ValueError(f"unknown model preset {name!r}: use one of {', '.join(PRESETS)}")
        self.grids, self.grid_res, self.features = PRESETS[name]
        return self

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["bricks"] = list(self.bricks)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> VolumeTrainConfig:
        known = {f.name for f in fields(cls)}
        d = {k: v for k, v in d.items() if k in known}
        if "bricks" in d:
            d["bricks"] = tuple(int(b) for b in d["bricks"])
        return cls(**d)


def parse_bricks(text: str) -> tuple[int, int, int]:
    """``"2x2x2"`` (z x y x x) or ``"2"`` (the same count on every axis) to a (z, y, x) tuple."""
    parts = text.lower().replace("*", "x").split("x")
    try:
        counts = [int(p) for p in parts]
    except ValueError:
        raise ValueError(f"--bricks {text!r}: expected N or NZxNYxNX, e.g. 2x2x2") from None
    if len(counts) == 1:
        counts *= 3
    if len(counts) != 3 or any(c < 1 for c in counts):
        raise ValueError(f"--bricks {text!r}: expected N or NZxNYxNX with counts >= 1, e.g. 2x2x2")
    return counts[0], counts[1], counts[2]


def grid_bytes(grid_res: int, storage: str) -> int:
    """Stored bytes of one grid: one 4-component texel per node (4 B unorm8, 8 B float16)."""
    return grid_res**3 * (4 if storage == "unorm8" else 8)


def decoder_bytes(inputs: int, hidden: int, hidden_layers: int) -> int:
    """Stored bytes of the float32 decoder (weights and biases)."""
    dims = [inputs] + [hidden] * hidden_layers + [1]
    return sum(4 * (a * b + b) for a, b in zip(dims, dims[1:]))


def model_bytes(cfg: VolumeTrainConfig) -> int:
    """Stored bytes of one brick's model."""
    return cfg.grids * grid_bytes(cfg.grid_res, cfg.storage) + decoder_bytes(
        cfg.grids * cfg.features, cfg.hidden, cfg.hidden_layers)

"""Training configuration of NSS super sampling (torch-free); defaults follow the gym's recipe."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class SupersamplingTrainConfig:
    """Everything that determines a training run (stored in the result and the bundle's provenance).

    Recipe (gym ``configs/default.json``): batch 8 windows of 16 frames, 256-pixel crops, LARS-Adam at
    2e-3 with a cosine schedule (5 % warm-up, floor 2e-4), then QAT from 2e-3 down to 1e-5; exposure e^2.
    Length: ``steps`` + ``qat_steps``, or ``time_budget`` seconds split by ``qat_fraction``, or both
    (whichever ends first).
    """

    steps: int | None = None
    """Float32 optimizer steps."""
    qat_steps: int | None = None
    """Int8 QAT steps after the float32 ones (None with ``steps``: ``qat_fraction`` of them; 0: no QAT)."""
    time_budget: float | None = None
    """Seconds for both phases; QAT gets ``qat_fraction`` of it."""
    qat_fraction: float = 2 / 17
    """The gym's 2 QAT epochs after 15 float ones."""
    batch: int = 8
    frames: int = 16
    """Recurrent window length (history reset at each window's first frame)."""
    crop: int = 256
    """Target-resolution crop (pixels per side; the whole frame if smaller)."""
    scale: int = 2
    lr: float = 2e-3
    min_lr: float = 2e-4
    qat_lr: float = 2e-3
    qat_min_lr: float = 1e-5
    warmup: float = 0.05
    exposure: float | None = 2.0
    """Log exposure applied to every frame (the recipe's e^2); None uses each frame's stored exposure."""
    augment: bool = True
    lpips_weights: list[str] = field(default_factory=list)
    """Files with VGG16 and LPIPS v0.1 linear-head weights; empty: no LPIPS term (a recorded deviation)."""
    init: str | None = None
    """A gym NSS checkpoint to start from (keys mapped onto this model)."""
    seed: int = 0
    device: str = "auto"
    eval_every: int = 0
    """Evaluate (PSNR on the preview window) every N steps; 0: only at phase ends."""
    checkpoint_every: int = 0
    """Write the checkpoint every N steps (0: only at the end)."""

    def check(self) -> None:
        """Raise ValueError for settings out of range."""
        if self.steps is None and self.time_budget is None:
            raise ValueError("give --steps or --time-budget (or both)")
        if self.steps is not None and self.steps < 0 or self.qat_steps is not None and self.qat_steps < 0:
            raise ValueError("--steps and --qat-steps must be >= 0")
        if not 0 <= self.qat_fraction < 1:
            raise ValueError(f"qat_fraction must lie in [0, 1), got {self.qat_fraction}")
        if self.batch < 1 or self.frames < 2:
            raise ValueError("--batch must be >= 1 and --recurrent (frames) >= 2 (the loss compares frame pairs)")
        if self.scale != 2:
            raise ValueError(f"--scale: only 2x upscaling is supported (the gym's NSS), got {self.scale}")
        if self.crop < 16:
            raise ValueError(f"--crop must be at least 16 pixels, got {self.crop}")
        if self.lr <= 0 or self.qat_lr <= 0:
            raise ValueError("learning rates must be positive")

    def qat_step_count(self) -> int | None:
        if self.qat_steps is not None:
            return self.qat_steps
        if self.steps is None:
            return None
        return round(self.steps * self.qat_fraction / (1 - self.qat_fraction))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SupersamplingTrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

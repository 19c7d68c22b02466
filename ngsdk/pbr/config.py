"""Model presets and training options of PBR reconstruction (torch-free, so bundles and the CLI can read them).

A model is described by a :class:`ModelSpec`: encoder (ResNet for teachers, MobileNetV3 for students, one shared
encoder for the three views), fusion across the views (a ViT, or the ``convattn`` student's PLK convolutions),
UNet decoder, optional x2 super-resolution head and four 1x1 heads. The spec is all a reader needs to rebuild
the network from its weights.
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal

Role = Literal["teacher", "student"]
ROLES: tuple[Role, ...] = ("teacher", "student")
MAPS: tuple[str, ...] = ("albedo", "roughness", "metallic", "normal")
"""The predicted maps, in output order."""
MAP_CHANNELS: dict[str, int] = {"albedo": 3, "roughness": 1, "metallic": 1, "normal": 3}
VIEWS = 3
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class ModelSpec:
    """The architecture of one generator (teacher or student); see docs/pbr-reconstruction.md."""

    role: Role
    encoder: Literal["resnet", "mobilenetv3"]
    image_size: int
    """The input size the preset is made for (training data is resized to it unless the config says otherwise)."""
    resnet_block: Literal["basic", "bottleneck"] = "basic"
    resnet_layers: tuple[int, int, int, int] = (2, 2, 2, 2)
    resnet_width: int = 64
    mnv3_blocks: Literal["large", "compact"] = "large"
    """``large``: MobileNetV3-Large's 15 blocks; ``compact``: one block per stage, same stages and skips."""
    mnv3_width: float = 1.0
    stem_stride: int = 1
    """1 keeps the first encoder stage at full resolution (the seed's teacher and the shipped student)."""
    fusion: Literal["vit", "convattn"] = "vit"
    """``vit``: transformer over the three views' tokens (``dim``, ``heads``, ``depth``, ``mlp_ratio``,
    ``drop_path``); ``convattn``: views merged by convolution, then ``depth`` PLK blocks of width ``dim`` sharing
    one ``plk_kernel`` x ``plk_kernel`` depthwise kernel (ngsdk.pbr.convattn; heads, MLP and drop path unused)."""
    dim: int = 256
    heads: int = 4
    depth: int = 2
    mlp_ratio: float = 2.0
    drop_path: float = 0.1
    plk_kernel: int = 17
    """ConvAttn: side of the shared large kernel (odd)."""
    head_features: int = 64
    sr: bool = False
    """x2 super-resolution head: output size = 2 x input size."""
    sr_features: int = 64
    sr_mid: int = 32
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    """Input normalisation inside the network: views enter as sRGB values in [0, 1]."""

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"role must be teacher or student, got {self.role!r}")
        if self.encoder not in ("resnet", "mobilenetv3"):
            raise ValueError(f"encoder must be resnet or mobilenetv3, got {self.encoder!r}")
        if self.fusion not in ("vit", "convattn"):
            raise ValueError(f"fusion must be vit or convattn, got {self.fusion!r}")
        if self.fusion == "vit" and self.dim % self.heads:
            raise ValueError(f"fusion width {self.dim} is not divisible by {self.heads} heads")
        if self.fusion == "convattn" and (self.plk_kernel < 3 or self.plk_kernel % 2 == 0):
            raise ValueError(f"plk_kernel must be odd and >= 3, got {self.plk_kernel}")
        if self.stem_stride not in (1, 2):
            raise ValueError(f"stem_stride must be 1 or 2, got {self.stem_stride}")
        if self.image_size % self.downsampling:
            raise ValueError(f"image_size {self.image_size} must be a multiple of {self.downsampling}")

    @property
    def downsampling(self) -> int:
        """Input size / token grid size: four stride-2 stages after the stem."""
        return 16 * self.stem_stride

    @property
    def scale(self) -> int:
        return 2 if self.sr else 1

    def output_size(self, input_size: int | None = None) -> int:
        return (input_size or self.image_size) * self.scale

    def tokens(self, input_size: int | None = None) -> int:
        """Attention tokens of the fusion (all three views); 0 for ConvAttn (no attention)."""
        if self.fusion != "vit":
            return 0
        side = (input_size or self.image_size) // self.downsampling
        return VIEWS * side * side

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("resnet_layers", "mean", "std"):
            d[k] = list(d[k])
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelSpec:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown model spec keys: {', '.join(unknown)}")
        d = dict(d)
        for k in ("resnet_layers", "mean", "std"):
            if k in d:
                d[k] = tuple(d[k])
        return cls(**d)


TEACHER_PRESETS: dict[str, ModelSpec] = {
    # CI scale: a narrow one-block-per-stage ResNet, one fusion block
    "tiny": ModelSpec("teacher", "resnet", 128, resnet_layers=(1, 1, 1, 1), resnet_width=16, dim=64, heads=2,
                      depth=1, mlp_ratio=2.0, head_features=32),
    # a single GPU at 512^2: ResNet-18 (a guess of the spec; the seed names no middle size)
    "base": ModelSpec("teacher", "resnet", 512, resnet_layers=(2, 2, 2, 2), dim=512, heads=8, depth=2,
                      mlp_ratio=4.0),
    # the seed's default: ResNet-50, ViT 2048 / 32 heads / depth 4 / MLP 4, 2048^2 (~49k tokens: GPU only)
    "neuropbr": ModelSpec("teacher", "resnet", 2048, resnet_block="bottleneck", resnet_layers=(3, 4, 6, 3),
                          dim=2048, heads=32, depth=4, mlp_ratio=4.0),
}
STUDENT_PRESETS: dict[str, ModelSpec] = {
    # CI scale: compact MobileNetV3 at half width, 128 -> 256 through the SR head
    "tiny": ModelSpec("student", "mobilenetv3", 128, mnv3_blocks="compact", mnv3_width=0.5, dim=64, heads=2,
                      depth=1, mlp_ratio=2.0, head_features=16, sr=True, sr_features=16, sr_mid=8),
    # the shipped Core ML student: MobileNetV3-Large (stem stride 1), ViT 256 / 4 heads / depth 2 / MLP 2,
    # decoder 56/40/24/16, SR x2: 512 -> 1024 (3072 tokens)
    "mobile512": ModelSpec("student", "mobilenetv3", 512, dim=256, heads=4, depth=2, mlp_ratio=2.0, sr=True),
    # the seed's second student: MobileNetV3-Large (stem stride 1), views merged by convolution, 3 PLK blocks
    # sharing one 17x17 depthwise kernel at C 320, decoder 56/40/24/16, no SR: 1024 -> 1024
    "convattn": ModelSpec("student", "mobilenetv3", 1024, fusion="convattn", dim=320, depth=3, plk_kernel=17,
                          drop_path=0.0),
    # CI scale of the above: compact MobileNetV3 at half width, C 64, the same 3 blocks and 17x17 kernel,
    # 128 -> 128
    "convattn_tiny": ModelSpec("student", "mobilenetv3", 128, mnv3_blocks="compact", mnv3_width=0.5,
                               fusion="convattn", dim=64, depth=3, plk_kernel=17, drop_path=0.0, head_features=16),
}
PRESETS: dict[Role, dict[str, ModelSpec]] = {"teacher": TEACHER_PRESETS, "student": STUDENT_PRESETS}


def model_spec(role: str, preset: str) -> ModelSpec:
    """The preset ``preset`` of ``role``; a one-line error listing the presets for an unknown name."""
    if role not in PRESETS:
        raise ValueError(f"role must be teacher or student, got {role!r}")
    table = PRESETS[role]  # type: ignore[index]
    if preset not in table:
        hint = difflib.get_close_matches(preset, list(table), n=1)
        raise ValueError(f"unknown {role} preset {preset!r}" + (f" (did you mean {hint[0]!r}?)" if hint else "")
                         + f": use one of {', '.join(table)}")
    return table[preset]


CURRICULA = (0, 1, 2)
"""Which renders feed training: 0 clean only, 1 clean and dirty as the data holds them, 2 dirty only."""


def _default_map_weights() -> dict[str, float]:
    return {m: 1.0 for m in MAPS}


@dataclass
class PBRTrainConfig:
    """Everything that determines a teacher or student training run (recorded with the weights)."""

    preset: str = "tiny"
    image_size: int | None = None
    """Model input size; None: the preset's size. Views and maps are resized to it (and to 2x for SR outputs)."""
    steps: int | None = None
    time_budget: float | None = None
    batch_size: int = 2
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    weight_decay: float = 1e-4
    d_lr: float = 2e-4
    warmup_fraction: float = 0.05
    """Linear warm-up share of the run, then cosine to ``min_lr`` (the seed: 5 of 100 epochs)."""
    min_lr: float = 1e-6
    grad_clip: float = 1.0
    gan: bool = True
    """Teachers: hinge PatchGAN loss from ``gan_start``; students always train without it (the seed)."""
    gan_start: float = 0.05
    """Share of the run before the GAN loss starts (the seed: epoch 5 of 100)."""
    d_layers: int | None = None
    """Stride-2 layers of the PatchGAN; None: 6 (~574 px receptive field) at >= 1024 px, else 4, 3 below 256."""
    d_features: int | None = None
    """Width of the PatchGAN's first layer; None: 64 (the seed) for maps of >= 512 px, output size / 8 below."""
    w_l1: float = 1.0
    w_ssim: float = 0.3
    w_normal: float = 0.5
    w_gan: float = 0.05
    map_weights: dict[str, float] = field(default_factory=_default_map_weights)
    alpha: float = 0.3
    """Students: loss = (1 - alpha) * ground-truth loss + alpha * distillation loss."""
    temperature: float = 4.0
    curriculum: int = 1
    val_ratio: float = 0.1
    seed: int = 0
    device: str = "auto"
    drop_path: float | None = None
    """Overrides the preset's stochastic depth in the fusion blocks."""
    sr: bool | None = None
    """Overrides the preset's x2 super-resolution head (e.g. a teacher that predicts at the student's output
    size); None keeps the preset's."""
    init_backbone: str | None = None
    """A state dict (safetensors or npz, torchvision parameter names) loaded into the encoder before training."""
    eval_every: int = 25
    checkpoint: str | None = None
    """Checkpoint file written every ``checkpoint_every`` steps and at the end; ``{step}`` in the name (e.g.
    ``ck_{step:06d}.npz``) keeps one file per checkpoint."""
    checkpoint_every: int = 0
    resume: str | None = None
    previews: str | None = None
    preview_every: int = 0

    def check(self, role: str) -> None:
        """Raise ValueError for settings out of range (``role`` selects the preset table)."""
        model_spec(role, self.preset)
        if self.steps is None and self.time_budget is None:
            raise ValueError("give steps or time_budget (or both)")
        if self.steps is not None and self.steps < 1:
            raise ValueError(f"steps must be >= 1, got {self.steps}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.curriculum not in CURRICULA:
            raise ValueError(f"curriculum must be 0 (clean), 1 (clean + dirty) or 2 (dirty), got {self.curriculum}")
        if not 0 <= self.alpha <= 1:
            raise ValueError(f"alpha must lie in [0, 1], got {self.alpha}")
        if self.temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature}")
        if not 0 <= self.gan_start <= 1 or not 0 <= self.warmup_fraction < 1:
            raise ValueError("gan_start must lie in [0, 1] and warmup_fraction in [0, 1)")
        if not 0 <= self.val_ratio < 1:
            raise ValueError(f"val_ratio must lie in [0, 1), got {self.val_ratio}")
        unknown = sorted(set(self.map_weights) - set(MAPS))
        if unknown:
            raise ValueError(f"map_weights: unknown maps {', '.join(unknown)} (use {', '.join(MAPS)})")
        if self.d_layers is not None and not 1 <= self.d_layers <= 8:
            raise ValueError(f"d_layers must lie in 1..8, got {self.d_layers}")

    def spec(self, role: str) -> ModelSpec:
        """The preset's spec with this config's overrides."""
        spec = model_spec(role, self.preset)
        changes: dict[str, Any] = {}
        if self.image_size is not None:
            changes["image_size"] = self.image_size
        if self.drop_path is not None:
            changes["drop_path"] = self.drop_path
        if self.sr is not None:
            changes["sr"] = self.sr
        return replace(spec, **changes) if changes else spec

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["betas"] = list(self.betas)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PBRTrainConfig:
        known = {f.name for f in fields(cls)}
        d = {k: v for k, v in d.items() if k in known}
        if "betas" in d:
            d["betas"] = tuple(d["betas"])
        return cls(**d)

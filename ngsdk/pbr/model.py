"""The multi-view PBR generator (teacher and student share it; a :class:`ModelSpec` picks the parts).

``forward(view0, view1, view2)`` takes three (B, 3, H, W) sRGB views in [0, 1] (normalisation is inside the
network, so an exported graph takes plain pixels) and returns ``(albedo, roughness, metallic, normal)``:
(B, 3|1|1|3, sH, sW) with s = 2 for super-resolution specs; albedo sRGB-encoded, roughness and metallic in
[0, 1] (sigmoid), normal unit vectors (OpenGL tangent space, L2-normalised).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ngsdk.pbr.backbones import MobileNetV3Encoder, ResNetEncoder
from ngsdk.pbr.config import VIEWS, ModelSpec
from ngsdk.pbr.convattn import ConvAttnFusion
from ngsdk.pbr.decoder import MapHeads, SuperResolution, UNetDecoder
from ngsdk.pbr.fusion import ViewFusion


def build_encoder(spec: ModelSpec) -> nn.Module:
    if spec.encoder == "resnet":
        return ResNetEncoder(spec.resnet_block, spec.resnet_layers, spec.resnet_width, spec.stem_stride)
    return MobileNetV3Encoder(spec.mnv3_blocks, spec.mnv3_width, spec.stem_stride)


def build_fusion(spec: ModelSpec, channels: list[int]) -> tuple[nn.Module, int]:
    """The spec's cross-view fusion over the encoder's bottleneck and its output width (the decoder's input):
    the ViT's D, or for ConvAttn the deepest skip's width (NeuroPBR's student projects its 320 channels to it)."""
    if spec.fusion == "convattn":
        return ConvAttnFusion(channels[4], spec.dim, spec.depth, spec.plk_kernel, channels[3]), channels[3]
    return ViewFusion(channels[4], spec.dim, spec.heads, spec.depth, spec.mlp_ratio, spec.drop_path), spec.dim


class PBRGenerator(nn.Module):
    """Shared encoder per view -> fusion (ViT or ConvAttn) -> UNet decoder (view-averaged skips) -> [SR x2] ->
    four heads."""

    def __init__(self, spec: ModelSpec):
        super().__init__()
        self.spec = spec
        self.register_buffer("mean", torch.tensor(spec.mean).reshape(1, 3, 1, 1), persistent=False)
        self.register_buffer("inv_std", 1.0 / torch.tensor(spec.std).reshape(1, 3, 1, 1), persistent=False)
        self.encoder = build_encoder(spec)
        ch = self.encoder.channels
        self.fusion, width = build_fusion(spec, ch)
        self.decoder = UNetDecoder(width, ch[:4], spec.head_features)
        self.sr = SuperResolution(spec.head_features, spec.sr_features, spec.sr_mid) if spec.sr else None
        self.heads = MapHeads(spec.head_features)

    def logits(self, view0: torch.Tensor, view1: torch.Tensor, view2: torch.Tensor) -> torch.Tensor:
        """Raw head outputs (B, 8, sH, sW), before sigmoid / normalisation (distillation softens these)."""
        x = torch.stack([view0, view1, view2], 1)
        b, _, c, h, w = x.shape
        x = (x.reshape(b * VIEWS, c, h, w) - self.mean) * self.inv_std
        feats = self.encoder(x)
        skips = [f.reshape(b, VIEWS, *f.shape[1:]).mean(1) for f in feats[:4]]
        y = self.decoder(self.fusion(feats[4]), skips)
        if self.sr is not None:
            y = self.sr(y)
        return self.heads(y)

    def forward(self, view0: torch.Tensor, view1: torch.Tensor, view2: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        return split_maps(activate(self.logits(view0, view1, view2)))


def activate(logits: torch.Tensor) -> torch.Tensor:
    """(B, 8, H, W) raw -> maps: sigmoid for albedo/roughness/metallic, unit length for the normal."""
    return torch.cat([torch.sigmoid(logits[:, :5]), F.normalize(logits[:, 5:8], dim=1, eps=1e-6)], 1)


def split_maps(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    return x[:, 0:3], x[:, 3:4], x[:, 4:5], x[:, 5:8]


def build_model(spec: ModelSpec) -> PBRGenerator:
    return PBRGenerator(spec)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count_macs(model: PBRGenerator, input_size: int | None = None, batch: int = 1) -> dict[str, int]:
    """Multiply-accumulates of one forward pass at ``input_size`` (default: the spec's), per top-level part
    and in total, counted by torch's FLOP counter (convolutions, linear layers, attention matmuls) on meta
    tensors, so even the 2048^2 teacher costs no memory."""
    from torch.utils.flop_counter import FlopCounterMode

    size = input_size or model.spec.image_size
    meta = build_model(model.spec).to("meta").eval()
    views = [torch.empty(batch, 3, size, size, device="meta") for _ in range(VIEWS)]
    counter = FlopCounterMode(display=False, depth=2)
    with counter, torch.no_grad():
        meta(*views)
    per_module = counter.get_flop_counts()
    out = {}
    for part in ("encoder", "fusion", "decoder", "sr", "heads"):
        key = f"PBRGenerator.{part}"
        out[part] = int(sum(per_module.get(key, {}).values()) // 2)
    out["total"] = int(counter.get_total_flops() // 2)
    return out

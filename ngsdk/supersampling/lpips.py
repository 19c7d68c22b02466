"""LPIPS-VGG (the perceptual term of the gym's loss), from weights the user supplies (torch).

ImageNet VGG16 weights cannot be fetched here and none ship with ngsdk, so the term is off unless the
user passes files holding the VGG16 conv weights (torchvision ``features.N.*`` or LPIPS ``net.sliceK.N.*``
keys) and LPIPS v0.1's linear heads (``linK.model.1.weight`` or ``lins.K.model.1.weight``), as
``.safetensors`` or a torch weights file (read with ``torch.load(weights_only=True)``: tensors only).
Like the gym, images go in as they are (its [0, 1] tonemapped frames, no rescale to [-1, 1]).
"""

from __future__ import annotations

import re
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ngsdk.asset.errors import AssetError

VGG16 = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512)
SLICE_ENDS = (4, 9, 16, 23, 30)
"""torchvision feature indices after which LPIPS taps relu1_2 .. relu5_3."""
SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)


def _features() -> nn.Sequential:
    layers: list[nn.Module] = []
    cin = 3
    for v in VGG16:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(cin, int(v), 3, padding=1), nn.ReLU()]
            cin = int(v)
    return nn.Sequential(*layers)


def read_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """Tensors of a ``.safetensors`` or torch weights file (no arbitrary pickles); a checkpoint's
    ``model_state_dict`` / ``state_dict`` is unwrapped."""
    path = Path(path)
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return dict(load_file(str(path)))
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - loaders raise many types; report one line naming the file
        raise AssetError(path, f"not a readable weights file ({type(e).__name__}: {e})") from None
    for key in ("model_state_dict", "state_dict"):  # training checkpoints wrap the weights
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
            break
    if not isinstance(obj, dict):
        raise AssetError(path, "holds no state dict")
    return {k: v for k, v in obj.items() if torch.is_tensor(v)}


class LPIPS(nn.Module):
    """Frozen LPIPS-VGG distance: ``forward(a, b)`` on (B, 3, H, W) -> (B,)."""

    def __init__(self, state: dict[str, torch.Tensor], source: str = "weights"):
        super().__init__()
        self.features = _features()
        self.lins = nn.ModuleList(nn.Conv2d(c, 1, 1, bias=False) for c in (64, 128, 256, 512, 512))
        feats: dict[str, torch.Tensor] = {}
        lins: dict[str, torch.Tensor] = {}
        for k, v in state.items():
            m = re.fullmatch(r"(?:.*\.)?features\.(\d+)\.(weight|bias)", k) or \
                re.fullmatch(r"(?:.*\.)?slice\d\.(\d+)\.(weight|bias)", k)
            if m:
                feats[f"{m.group(1)}.{m.group(2)}"] = v
                continue
            m = re.fullmatch(r"(?:.*\.)?lins?\.?(\d)\.model\.1\.weight", k)
            if m:
                lins[f"{m.group(1)}.weight"] = v
        try:
            self.features.load_state_dict(feats, strict=True)
            self.lins.load_state_dict(lins, strict=True)
        except RuntimeError as e:
            raise AssetError(source, f"not LPIPS-VGG weights: {str(e).splitlines()[0]} ({len(feats)} VGG and "
                                     f"{len(lins)} linear-head tensors found)") from None
        self.register_buffer("shift", torch.tensor(SHIFT).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(SCALE).view(1, 3, 1, 1))
        self.requires_grad_(False)
        self.eval()

    @classmethod
    def from_files(cls, paths: list[str | Path]) -> LPIPS:
        state: dict[str, torch.Tensor] = {}
        for p in paths:
            state.update(read_weights(p))
        return cls(state, source=", ".join(str(p) for p in paths))

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        xa, xb = (a - self.shift) / self.scale, (b - self.shift) / self.scale
        total = a.new_zeros(a.shape[0])
        start = 0
        for lin, end in zip(self.lins, SLICE_ENDS):
            for layer in self.features[start:end]:
                xa, xb = layer(xa), layer(xb)
            start = end
            na = xa / (torch.sqrt((xa * xa).sum(dim=1, keepdim=True)) + 1e-10)
            nb = xb / (torch.sqrt((xb * xb).sum(dim=1, keepdim=True)) + 1e-10)
            total = total + F.conv2d((na - nb) ** 2, lin.weight).mean(dim=(1, 2, 3))
        return total

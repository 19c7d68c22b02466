"""Stand-in torch nets for the graph-export tests, their IO descriptions, and a toolchain check that FAILS
(never skips) naming the install step when a tool is missing."""

from __future__ import annotations

import importlib
import shutil
import sys
from pathlib import Path

import pytest

INSTALL = "bash tools/ci/install_export_toolchain.sh"
_TOOLS = {
    "torch": "the CPU torch wheel (pip install torch==2.13.0+cpu) before the install script",
    "onnx": f"pip onnx ({INSTALL}, step 3/4)",
    "onnxruntime": f"pip onnxruntime ({INSTALL}, step 3/4)",
    "onnxscript": f"pip onnxscript ({INSTALL}, step 3/4)",
    "coremltools": f"pip coremltools==9.0 ({INSTALL}, step 3/4)",
    "executorch": f"pip executorch==1.5.1 ({INSTALL}, step 3/4)",
    "tosa_serializer": f"pip tosa-tools==2026.5.0 ({INSTALL}, step 3/4)",
    "vgfpy": f"pip ai-ml-sdk-vgf-library==0.11.0 ({INSTALL}, step 3/4)",
    "emulation_layer": f"pip ai-ml-emulation-layer-for-vulkan==0.11.0 ({INSTALL}, step 3/4)",
}
_EXES = {
    "scenario_runner": f"pip ai-ml-sdk-scenario-runner==0.11.0 ({INSTALL}, step 3/4)",
    "vgf_dump": f"pip ai-ml-sdk-vgf-library==0.11.0 ({INSTALL}, step 3/4)",
    "model-converter": f"pip ai-ml-sdk-model-converter==0.11.0 ({INSTALL}, step 3/4)",
}
_LAVAPIPE = "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json"


def require_toolchain() -> None:
    """pytest.fail (not skip) with the missing install step: CI must exercise every format."""
    missing = []
    for mod, step in _TOOLS.items():
        try:
            importlib.import_module(mod)
        except Exception as e:  # noqa: BLE001 - any failure to import is a broken install
            missing.append(f"python module {mod} ({type(e).__name__}: {e}) -> {step}")
    for exe, step in _EXES.items():
        if not (shutil.which(exe) or shutil.which(exe, path=str(Path(sys.executable).parent))):
            missing.append(f"executable {exe} -> {step}")
    if not Path(_LAVAPIPE).is_file():
        missing.append(
            f"lavapipe ICD {_LAVAPIPE} -> apt mesa-vulkan-drivers libvulkan1 ({INSTALL}, step 1/4)"
        )
    if missing:
        pytest.fail("graph export toolchain incomplete:\n  " + "\n  ".join(missing), pytrace=False)


def make_mlp(seed: int = 0):  # noqa: ANN201 - torch types only exist when torch is installed
    """12 -> 32 -> 32 -> 3 MLP (Linear/ReLU/Sigmoid), the shape of a neural-texture decoder."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(12, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 3), nn.Sigmoid()
    ).eval()


def make_convnet(seed: int = 0, *, align_corners: bool = False):  # noqa: ANN201
    """Image-to-image net, 3x16x16 -> 3x32x32: conv, relu, leaky_relu, pixel_shuffle, nearest and bilinear
    upsampling, concat, sigmoid. ``align_corners`` picks the bilinear variant (see docs/graph-exports.md:
    int8 half-pixel bilinear is not bit-exact against the quantized torch model)."""
    import torch
    from torch import nn
    from torch.nn import functional as F  # noqa: N812

    class ConvNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c1 = nn.Conv2d(3, 8, 3, padding=1)
            self.c2 = nn.Conv2d(8, 16, 3, padding=1)
            self.c3 = nn.Conv2d(7, 8, 3, padding=1)
            self.c4 = nn.Conv2d(16, 3, 1)

        def forward(self, x):  # noqa: ANN001, ANN202
            a = torch.relu(self.c1(x))
            up = F.pixel_shuffle(F.leaky_relu(self.c2(a), 0.1), 2)
            near = F.interpolate(x, scale_factor=2, mode="nearest")
            c = torch.relu(self.c3(torch.cat([up, near], 1)))
            bil = F.interpolate(a, scale_factor=2, mode="bilinear", align_corners=align_corners)
            return torch.sigmoid(self.c4(torch.cat([c, bil], 1)))

    torch.manual_seed(seed)
    return ConvNet().eval()


def mlp_io():  # noqa: ANN201
    from ngsdk.exporters.graph.io import IODescription, TensorIO

    return IODescription(
        inputs=(
            TensorIO(
                "latent",
                ("batch", 12),
                layout="NC",
                value_range=(0.0, 1.0),
                semantics="latent features sampled from the feature grids",
            ),
        ),
        outputs=(
            TensorIO(
                "rgb",
                ("batch", 3),
                layout="NC",
                value_range=(0.0, 1.0),
                color_space="srgb",
                semantics="base colour",
                channels=("r", "g", "b"),
            ),
        ),
    )


def conv_io():  # noqa: ANN201
    from ngsdk.exporters.graph.io import IODescription, TensorIO

    return IODescription(
        inputs=(
            TensorIO(
                "image",
                ("batch", 3, 16, 16),
                layout="NCHW",
                value_range=(0.0, 1.0),
                color_space="linear",
                semantics="low-resolution frame",
            ),
        ),
        outputs=(
            TensorIO(
                "upscaled",
                ("batch", 3, 32, 32),
                layout="NCHW",
                value_range=(0.0, 1.0),
                color_space="linear",
                semantics="2x frame",
            ),
        ),
    )

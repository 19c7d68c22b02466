"""VGF verification: read a .vgf with the VGF library and run it on lavapipe through the ML emulation layer.

Torch-free; it drives external binaries (vgf_dump, scenario_runner) from the Arm ML SDK wheels.
"""

from runtime_ref.vgf.layers import emulation_layer_env
from runtime_ref.vgf.reader import VgfInfo, read_vgf
from runtime_ref.vgf.runner import run_vgf

__all__ = ["VgfInfo", "emulation_layer_env", "read_vgf", "run_vgf"]

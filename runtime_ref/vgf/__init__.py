"""VGF verification: run a .vgf (read by ngsdk.asset.vgf) on lavapipe through the ML emulation layer.

Torch-free; it drives external binaries (vgf_dump, scenario_runner) from the Arm ML SDK wheels.
"""

from ngsdk.runtime_ref.vgf.layers import emulation_layer_env
from ngsdk.runtime_ref.vgf.runner import run_vgf

__all__ = ["emulation_layer_env", "run_vgf"]

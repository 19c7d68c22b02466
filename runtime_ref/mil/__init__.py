"""NumPy interpreter for Core ML ML Programs (.mlpackage), for verifying Core ML exports on Linux.

Reads Model.mlmodel with a built-in protobuf wire decoder (no coremltools, no protobuf package) and the
weights from weight.bin directly.
"""

from ngsdk.runtime_ref.mil.interpreter import UnsupportedOpError, check_supported, run_program, supported_ops
from ngsdk.runtime_ref.mil.package import MilPackage, load_mlpackage

__all__ = [
    "MilPackage",
    "UnsupportedOpError",
    "check_supported",
    "load_mlpackage",
    "run_program",
    "supported_ops",
]

"""Graph exporters: ONNX, Core ML (.mlpackage) and VGF, with IO descriptions and manifest records.

Importing this package does not import torch; the exporter functions do, when called.
"""

from ngsdk.exporters.graph.api import SUPPORTED_PRECISIONS, export_all, plan
from ngsdk.exporters.graph.errors import ExportError
from ngsdk.exporters.graph.io import ExportedFile, ExportRecord, IODescription, TensorIO

__all__ = [
    "SUPPORTED_PRECISIONS",
    "ExportError",
    "ExportRecord",
    "ExportedFile",
    "IODescription",
    "TensorIO",
    "export_all",
    "plan",
]

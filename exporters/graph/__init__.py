"""Graph exporters: ONNX, Core ML (.mlpackage) and VGF, with IO descriptions and manifest records.

Importing this package does not import torch; the exporter functions do, when called.
"""

from exporters.graph.io import ExportedFile, ExportRecord, IODescription, TensorIO

__all__ = ["ExportRecord", "ExportedFile", "IODescription", "TensorIO", "export_all"]


def export_all(*args, **kwargs):  # noqa: ANN002, ANN003 - thin lazy forwarder, see exporters.graph.api
    from exporters.graph.api import export_all as _export_all

    return _export_all(*args, **kwargs)

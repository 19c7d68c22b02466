"""What the graph exports of every kind share: precisions per format, the manifest entry of an export record,
calibration batches, and merging new entries into a bundle's list.

``ngsdk export BUNDLE --format onnx,coreml,vgf`` calls the kind's ``export_graphs`` (ngsdk.kinds):
``ngsdk.exporters.graph.neural_texture``, ``neural_volume`` and ``shading_mlp``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ngsdk.asset.types import GraphExport
from ngsdk.exporters.graph.api import SUPPORTED_PRECISIONS
from ngsdk.exporters.graph.io import ExportRecord

VGF_BATCH = 4096
"""The static batch of VGF graphs (their example inputs) and of int8 calibration batches."""


def precisions(fmt: str, precision: str | None) -> list[str]:
    """The precisions to export ``fmt`` in: the one asked for (ValueError if unsupported) or all it supports."""
    if precision is None:
        return list(SUPPORTED_PRECISIONS[fmt])
    if precision not in SUPPORTED_PRECISIONS[fmt]:
        raise ValueError(f"{fmt} export supports {', '.join(SUPPORTED_PRECISIONS[fmt])}, not {precision}")
    return [precision]


def calibration_batches(x: np.ndarray) -> list[tuple[Any, ...]]:
    """Calibration inputs (N, K) as batches of ``VGF_BATCH`` rows (at least one, repeating rows if N is small)."""
    import torch

    batches = [(torch.from_numpy(x[i : i + VGF_BATCH]),) for i in range(0, len(x) - VGF_BATCH + 1, VGF_BATCH)]
    return batches or [(torch.from_numpy(np.resize(x, (VGF_BATCH, x.shape[1]))),)]


def graph_export(rec: ExportRecord, graph: str) -> GraphExport:
    """The manifest entry of one export record (its top-level files, IO and the record for verify)."""
    tops = list(dict.fromkeys(f.path.split("/")[0] for f in rec.files))
    return GraphExport(format=rec.format, files=tops, precision=rec.precision, graph=graph,
                       io=rec.io.to_json(), details={"record": rec.to_json()})


def merge_exports(existing: list[GraphExport], new: list[GraphExport]) -> list[GraphExport]:
    """Replace entries of the same (format, precision, graph); keep the rest in order."""
    key = lambda e: (e.format, e.precision, e.graph)  # noqa: E731
    fresh = {key(e) for e in new}
    return [e for e in existing if key(e) not in fresh] + list(new)


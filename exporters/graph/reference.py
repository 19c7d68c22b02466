"""The verification data stored beside graph exports: what ``ngsdk verify`` compares a graph's run with.

Engines never load these files, so they are kept small (docs/graph-exports.md, "Verification data"):

* one file per distinct content, named by its digest (``<graph>.ref-<sha256[:12]>.npz``): the ONNX, Core ML
  fp32/fp16 and VGF fp32 exports of a graph share one file, since they stand for the same float model on
  the same inputs;
* deflate-compressed (a deterministic npz, ngsdk.exporters.npz);
* an output with more than ``WHOLE_LIMIT`` elements (a whole decoded mip) keeps a seeded sample of
  ``SAMPLE_SIZE`` of its elements: ``at.<name>`` (sorted flat indices, uint32), ``shape.<name>`` (the full
  shape) and ``out.<name>`` (the values there). The check runs the graph on the full inputs and compares the
  sampled elements.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ngsdk.asset.atomic import atomic_write_bytes
from ngsdk.asset.digest import sha256_bytes
from ngsdk.exporters.npz import encode_npz

WHOLE_LIMIT = 1 << 18
"""Outputs up to this many elements (1 MiB of float32: any per-sample decoder batch) are stored whole."""
SAMPLE_SIZE = 1 << 14
"""Elements kept of a larger output (a graph that computes something else differs nearly everywhere, so 16384
seeded elements catch it)."""
SAMPLE_SEED = 0


def reference_arrays(inputs: Mapping[str, np.ndarray], outputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The arrays of a reference file: ``in.*`` whole, ``out.*`` whole or sampled (see the module docstring)."""
    arrays = {f"in.{k}": np.ascontiguousarray(v) for k, v in inputs.items()}
    for k, v in outputs.items():
        v = np.ascontiguousarray(v)
        if v.size <= WHOLE_LIMIT:
            arrays[f"out.{k}"] = v
            continue
        at = np.sort(np.random.default_rng(SAMPLE_SEED).choice(v.size, SAMPLE_SIZE, replace=False))
        arrays[f"at.{k}"] = at.astype(np.uint32 if v.size <= 1 << 32 else np.int64)
        arrays[f"shape.{k}"] = np.asarray(v.shape, dtype=np.int64)
        arrays[f"out.{k}"] = v.reshape(-1)[at]
    return arrays


def write_reference(out_dir: str | Path, graph: str, arrays: Mapping[str, np.ndarray]) -> Path:
    """Write ``arrays`` as ``<graph>.ref-<digest>.npz`` in ``out_dir`` (once: equal content, equal name)."""
    data = encode_npz(arrays, compress=True)
    path = Path(out_dir) / f"{graph}.ref-{sha256_bytes(data)[:12]}.npz"
    if not (path.is_file() and path.read_bytes() == data):
        atomic_write_bytes(path, data)
    return path

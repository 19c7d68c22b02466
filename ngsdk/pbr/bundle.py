"""Between the trainer and the bundle: the asset of a trained network (with its reference set), the network of
an asset, and the graph exports of ``ngsdk export`` (the kind's ``graphs`` part: the torch network lives
here, in the use case, and ``ngsdk.exporters.graph.pbr_reconstruction`` writes the formats)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

import ngsdk
from ngsdk.asset.pbr_reconstruction import PbrReconstructionAsset, PbrReference
from ngsdk.asset.types import GraphExport, Provenance
from ngsdk.exporters.graph.pbr_reconstruction import DEFAULT_TARGET, export_pbr_graphs
from ngsdk.pbr.config import ModelSpec
from ngsdk.pbr.data import views_to_tensor
from ngsdk.pbr.layout import read_layout, read_views
from ngsdk.pbr.model import PBRGenerator, build_model
from ngsdk.pbr.weights import state_arrays

REFERENCE_SAMPLES = 2


def network(asset: PbrReconstructionAsset) -> PBRGenerator:
    """The asset's network (eval mode, CPU, float32), rebuilt from its spec and weights."""
    model = build_model(ModelSpec.from_dict(asset.architecture))
    try:
        model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in asset.weights.items()})
    except RuntimeError as e:
        raise ValueError(f"bundle weights do not fit its architecture: {str(e).splitlines()[0]}") from None
    return model.eval()


def reference_views(data_dir: str | Path, size: int, count: int = REFERENCE_SAMPLES) -> np.ndarray:
    """``count`` uint8 view triples (N, 3, size, size, 3): the first held-out samples (``DATA/test``, dirty views
    when present) or else the first samples of ``DATA``, resized as training resizes them."""
    root = Path(data_dir)
    layout = read_layout(root / "test" if (root / "test" / "input").is_dir() else root)
    rows = []
    for sample in layout.samples[:count]:
        paths = sample.views.get("dirty") or sample.views["clean"]
        x = views_to_tensor(read_views(paths), size)
        rows.append(torch.round(x * 255).clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy())
    if not rows:
        raise ValueError(f"{root}: no samples to build the reference set from")
    return np.stack(rows)


@torch.no_grad()
def reference_set(model: PBRGenerator, views: np.ndarray) -> PbrReference:
    """The model's fp32 outputs on uint8 views (N, 3, H, W, 3), as the graph exports see them (pixels / 255)."""
    x = torch.from_numpy(views).permute(0, 1, 4, 2, 3).float() / 255.0
    maps = torch.cat(model.eval()(x[:, 0], x[:, 1], x[:, 2]), 1).numpy()
    return PbrReference.sampled(views, maps)


def asset_from_model(model: PBRGenerator, *, name: str, preset: str, info: dict[str, Any],
                     data_dir: str | Path | None = None,
                     sources: dict[str, str] | None = None) -> PbrReconstructionAsset:
    """The bundle asset of a trained model; with ``data_dir`` a reference set of held-out views."""
    spec = model.spec
    arch = spec.to_dict()
    weights = state_arrays(model.cpu().eval())
    teacher = info.get("teacher")
    prov = Provenance(ngsdk_version=ngsdk.__version__, config=dict(info.get("config", {})),
                      seed=int(info.get("config", {}).get("seed", 0)), sources=dict(sources or {}),
                      metrics={k: float(v) for k, v in (info.get("metrics") or {}).items()})
    # the step count, not the seconds: a fixed seed and --steps give a byte-identical bundle
    prov.config.update({"role": spec.role, "steps": info.get("steps")})
    asset = PbrReconstructionAsset(name=name, role=spec.role, preset=preset, architecture=arch, weights=weights,
                                   provenance=prov, teacher=teacher)
    if data_dir is not None:
        asset.reference = reference_set(network(asset), reference_views(data_dir, spec.image_size))
    return asset


def export_graphs(asset: PbrReconstructionAsset, folder: str | Path, formats: Sequence[str], *,
                  precision: str | None = None, calibration: str | Path | None = None, opset: int = 17,
                  coreml_io: str = "image", deployment_target: str = DEFAULT_TARGET) -> list[GraphExport]:
    """``ngsdk export`` for PBR reconstruction bundles: Core ML (fp16 and fp32 unless ``precision``; ``coreml_io``
    image or tensor; ``deployment_target`` iOS16/17/18) and ONNX."""
    if calibration is not None:
        raise ValueError("PBR reconstruction exports are float (fp16/fp32): --calibration does not apply")
    if precision == "int8":
        raise ValueError("PBR reconstruction exports fp16 and fp32, not int8")
    return export_pbr_graphs(network(asset), asset, folder, formats, precision=precision, coreml_io=coreml_io,
                             deployment_target=deployment_target, opset=opset)

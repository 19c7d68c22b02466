"""Inference: three photos -> the four maps, written as PNGs that ``ngsdk train texture`` ingests directly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ngsdk.pbr.data import views_to_tensor
from ngsdk.pbr.layout import read_view
from ngsdk.pbr.maps import MaterialMaps
from ngsdk.pbr.materials import tensor_to_maps
from ngsdk.pbr.model import PBRGenerator
from ngsdk.pbr.weights import load_model

View = str | Path | np.ndarray


def _view_array(v: View, which: int) -> np.ndarray:
    if isinstance(v, (str, Path)):
        return read_view(v)
    a = np.asarray(v)
    if a.ndim != 3 or a.shape[-1] != 3:
        raise ValueError(f"view {which}: expected an (H, W, 3) image, got shape {a.shape}")
    if a.dtype == np.uint8:
        return a
    if not np.issubdtype(a.dtype, np.floating):
        raise ValueError(f"view {which}: expected uint8 or float values in [0, 1], got {a.dtype}")
    return np.rint(np.clip(a, 0, 1) * 255).astype(np.uint8)


@torch.no_grad()
def infer_pbr(model: PBRGenerator | str | Path, view0: View, view1: View, view2: View, *,
              out: str | Path | None = None, device: str | torch.device = "cpu") -> MaterialMaps:
    """Predict the maps of one surface from three views (image files or (H, W, 3) uint8 / [0, 1] float sRGB
    arrays, any size: resized to the model's input). ``model`` is a PBRGenerator or a model file. With ``out``,
    writes albedo.png (sRGB), roughness.png, metallic.png (linear), normal.png (OpenGL) and channels.json."""
    if not isinstance(model, PBRGenerator):
        model, _ = load_model(model)
    model = model.to(device).eval()
    size = model.spec.image_size
    views = [views_to_tensor(_view_array(v, i)[None], size)[0] for i, v in enumerate((view0, view1, view2))]
    maps = torch.cat(model(*[v[None].to(device) for v in views]), 1)[0].cpu()
    result = tensor_to_maps(maps)
    if out is not None:
        result.write(out)
    return result

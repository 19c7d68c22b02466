"""Preview sheets: per sample one row of the three views, the predicted maps and (below) the ground truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ngsdk.asset.atomic import atomic_write_bytes
from ngsdk.pbr.maps import png_bytes


def _tiles(maps: torch.Tensor, size: int) -> list[torch.Tensor]:
    """(8, h, w) -> four (3, size, size) displayable tiles: albedo, roughness, metallic, encoded normal."""
    m = F.interpolate(maps[None].float(), size=(size, size), mode="bilinear", align_corners=False)[0]
    grey = [m[3:4].expand(3, -1, -1), m[4:5].expand(3, -1, -1)]
    return [m[0:3], *grey, m[5:8] * 0.5 + 0.5]


def preview_sheet(views: torch.Tensor, pred: torch.Tensor, target: torch.Tensor | None) -> np.ndarray:
    """(B, 3, 3, S, S) views, (B, 8, h, w) predictions, optional targets -> (rows * S, 7 * S, 3) uint8."""
    size = views.shape[-1]
    rows = []
    for b in range(views.shape[0]):
        row = [views[b, i] for i in range(3)] + _tiles(pred[b], size)
        rows.append(torch.cat(row, 2))
        if target is not None:
            blank = torch.zeros(3, size, size)
            rows.append(torch.cat([blank, blank, blank] + _tiles(target[b], size), 2))
    sheet = torch.cat(rows, 1).clamp(0, 1).permute(1, 2, 0).detach().cpu().numpy()
    return np.rint(sheet * 255).astype(np.uint8)


def write_preview(path: str | Path, views: torch.Tensor, pred: torch.Tensor, target: torch.Tensor | None) -> Path:
    path = Path(path)
    atomic_write_bytes(path, png_bytes(preview_sheet(views, pred, target)))
    return path

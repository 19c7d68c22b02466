"""Training data from a NeuroPBR folder: entries by curriculum, a seeded train/validation split, batches.

An entry is (sample, source): curriculum 0 takes each sample's clean views, 2 its dirty views, 1 every source
the sample has (a sample with both is seen twice per pass, as in the seed). The split is by sample, so a
validation sample's clean and dirty views both stay out of training. Views are resized to the model's input,
maps to its output size (normals renormalised). Decoded samples are kept in memory up to ``cache_bytes``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ngsdk.asset.errors import AssetError
from ngsdk.pbr.layout import PBRLayout, read_layout, read_material, read_views
from ngsdk.pbr.materials import maps_to_tensor, resize_material


@dataclass(frozen=True)
class Entry:
    sample: int
    source: str


def views_to_tensor(views: np.ndarray, size: int) -> torch.Tensor:
    """(3, h, w, 3) uint8 -> (3, 3, size, size) float in [0, 1] (antialiased bilinear when shrinking)."""
    x = torch.from_numpy(np.array(views, dtype=np.uint8)).permute(0, 3, 1, 2).float() / 255.0
    if x.shape[-2:] != (size, size):
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False,
                          antialias=size < x.shape[-1]).clamp(0, 1)
    return x


class PBRData:
    """The entries of ``root`` for one curriculum, split into train and validation entries."""

    def __init__(self, root: str | Path, *, curriculum: int, input_size: int, output_size: int,
                 val_ratio: float = 0.1, seed: int = 0, cache_bytes: int = 2 << 30):
        self.layout: PBRLayout = read_layout(root)
        self.input_size, self.output_size = input_size, output_size
        wanted = {0: ("clean",), 1: ("clean", "dirty"), 2: ("dirty",)}[curriculum]
        samples = self.layout.samples
        usable = [i for i, s in enumerate(samples) if any(src in s.views for src in wanted)]
        if not usable:
            raise AssetError(self.layout.input_dir, f"no {' or '.join(wanted)} samples for curriculum {curriculum}")
        order = torch.randperm(len(usable), generator=torch.Generator().manual_seed(seed)).tolist()
        n_val = min(len(usable) - 1, math.ceil(len(usable) * val_ratio)) if val_ratio > 0 else 0
        val = {usable[k] for k in order[:n_val]}

        def entries(indices: list[int]) -> list[Entry]:
            return [Entry(i, src) for i in indices for src in wanted if src in samples[i].views]

        self.train = entries([i for i in usable if i not in val])
        self.val = entries(sorted(val))
        self._cache: dict[Entry | str, torch.Tensor] = {}
        self._cache_left = cache_bytes

    def _keep(self, key: Entry | str, value: torch.Tensor) -> torch.Tensor:
        size = value.element_size() * value.nelement()
        if size <= self._cache_left:
            self._cache[key] = value
            self._cache_left -= size
        return value

    def views(self, e: Entry) -> torch.Tensor:
        """(3, 3, S, S) float views of an entry."""
        hit = self._cache.get(e)
        if hit is None:
            s = self.layout.samples[e.sample]
            v = (views_to_tensor(read_views(s.views[e.source]), self.input_size) * 255).round().to(torch.uint8)
            hit = self._keep(e, v)
        return hit.float() / 255.0

    def maps(self, sample: int) -> torch.Tensor:
        """(8, S_out, S_out) ground truth of a sample (sRGB albedo, roughness, metallic, unit normal)."""
        material = self.layout.samples[sample].material
        hit = self._cache.get(material)
        if hit is None:
            m = resize_material(maps_to_tensor(read_material(self.layout, material)), self.output_size)
            hit = self._keep(material, m)
        return hit

    def batch(self, entries: list[Entry]) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Three (B, 3, S, S) view tensors and the (B, 8, S_out, S_out) targets."""
        views = torch.stack([self.views(e) for e in entries])
        maps = torch.stack([self.maps(e.sample) for e in entries])
        return [views[:, i] for i in range(3)], maps

    def name(self, e: Entry) -> str:
        return self.layout.samples[e.sample].name

"""Stored teacher outputs for distillation (the seed's "shards"): the teacher runs once over the data, not at
every student step.

``DIR/shards.json`` records the teacher's spec, the map size and the entries; ``DIR/<source>/<sample>.npz``
holds ``maps`` (8, S, S) float16: sRGB albedo, roughness, metallic, unit normal, resized to the student's
output size S. Inputs and ground truth stay in the data folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ngsdk.asset.atomic import atomic_write_bytes
from ngsdk.asset.errors import AssetError
from ngsdk.pbr.data import Entry, PBRData
from ngsdk.pbr.materials import resize_material
from ngsdk.pbr.model import PBRGenerator
from ngsdk.pbr.weights import npz_bytes

SHARDS_FILE = "shards.json"
SHARDS_FORMAT = "ngsdk.pbr.shards/1"


@torch.no_grad()
def write_teacher_shards(teacher: PBRGenerator, data: PBRData, out: str | Path, *, size: int,
                         device: torch.device | str = "cpu", batch: int = 4) -> Path:
    """Run ``teacher`` over every entry of ``data`` (train and validation) at the teacher's input size and
    store its maps at ``size`` x ``size`` in ``out``; returns ``out``."""
    out = Path(out)
    teacher = teacher.to(device).eval()
    in_size = teacher.spec.image_size
    entries = data.train + data.val
    for i in range(0, len(entries), batch):
        chunk = entries[i:i + batch]
        views = torch.stack([data.views(e) for e in chunk])
        if views.shape[-1] != in_size:
            views = torch.nn.functional.interpolate(views.flatten(0, 1), size=(in_size, in_size), mode="bilinear",
                                                    align_corners=False, antialias=True).unflatten(0, (len(chunk), 3))
        views = views.to(device)
        maps = torch.cat(teacher(views[:, 0], views[:, 1], views[:, 2]), 1).float().cpu()
        maps = resize_material(maps, size)
        for e, m in zip(chunk, maps):
            shard = npz_bytes({"maps": m.numpy().astype(np.float16)})
            atomic_write_bytes(out / e.source / f"{data.name(e)}.npz", shard)
    record = {"format": SHARDS_FORMAT, "size": size, "teacher": teacher.spec.to_dict(),
              "entries": sorted(f"{e.source}/{data.name(e)}" for e in entries)}
    atomic_write_bytes(out / SHARDS_FILE, (json.dumps(record, indent=1) + "\n").encode())
    return out


class TeacherShards:
    """Reader of a shard folder; ``maps(data, entries)`` gives (B, 8, S, S) float32 teacher maps."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        path = self.folder / SHARDS_FILE
        try:
            self.record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise AssetError(path, "missing: not a teacher shard folder (see write_teacher_shards)") from None
        except (OSError, ValueError) as e:
            raise AssetError(path, f"not readable JSON: {e}") from None
        if self.record.get("format") != SHARDS_FORMAT:
            raise AssetError(path, f"format {self.record.get('format')!r}, expected {SHARDS_FORMAT}")
        self.size = int(self.record["size"])

    def read(self, source: str, sample: str) -> torch.Tensor:
        path = self.folder / source / f"{sample}.npz"
        try:
            with np.load(path, allow_pickle=False) as z:
                m = z["maps"]
        except FileNotFoundError:
            raise AssetError(path, "no teacher output for this sample (shards made from other data?)") from None
        except (OSError, ValueError, KeyError) as e:
            raise AssetError(path, f"not a readable shard ({e})") from None
        if m.shape != (8, self.size, self.size):
            raise AssetError(path, f"shard is {m.shape}, expected (8, {self.size}, {self.size})")
        return torch.from_numpy(m.astype(np.float32))

    def maps(self, data: PBRData, entries: list[Entry], size: int) -> torch.Tensor:
        m = torch.stack([self.read(e.source, data.name(e)) for e in entries])
        return resize_material(m, size) if self.size != size else m

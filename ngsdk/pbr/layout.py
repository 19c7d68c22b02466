"""The NeuroPBR data layout: reader and writer (numpy + Pillow, torch-free).

```
ROOT/input/{clean,dirty}/sample_XXXX/{0,1,2}.png    three views of one material (dirty: optional)
ROOT/input/render_metadata.json                     {"sample_XXXX": "<material>", ...}
ROOT/output/<material>/{albedo,roughness,metallic,normal}.png
```

``ngsdk.pbr.synth`` writes this layout (training data at ``DATA/``, the held-out material at ``DATA/test/``);
real captures in the same layout read the same way.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ngsdk.asset.atomic import atomic_write_bytes
from ngsdk.asset.errors import AssetError
from ngsdk.pbr.config import VIEWS
from ngsdk.pbr.maps import MaterialMaps, png_bytes, read_maps

INPUT = "input"
OUTPUT = "output"
METADATA = "render_metadata.json"
SOURCES = ("clean", "dirty")
VIEW_SUFFIXES = (".png", ".jpg", ".jpeg")
_SAMPLE = re.compile(r"^sample_\d+$")


@dataclass
class PBRSample:
    """One sample: its material folder name and, per render source present, the paths of its three views."""

    name: str
    material: str
    views: dict[str, tuple[Path, Path, Path]] = field(default_factory=dict)


@dataclass
class PBRLayout:
    """A NeuroPBR data folder: samples sorted by name, with the material folders they point at."""

    root: Path
    samples: list[PBRSample]

    @property
    def input_dir(self) -> Path:
        return self.root / INPUT

    @property
    def output_dir(self) -> Path:
        return self.root / OUTPUT

    def material_dir(self, material: str) -> Path:
        return self.output_dir / material

    def materials(self) -> list[str]:
        return sorted({s.material for s in self.samples})

    def count(self, source: str) -> int:
        return sum(source in s.views for s in self.samples)


def _view_files(folder: Path) -> tuple[Path, Path, Path]:
    found = []
    for i in range(VIEWS):
        hits = [folder / f"{i}{suffix}" for suffix in VIEW_SUFFIXES if (folder / f"{i}{suffix}").is_file()]
        if not hits:
            raise AssetError(folder, f"sample has no view {i} ({i}.png)")
        found.append(hits[0])
    return found[0], found[1], found[2]


def read_layout(root: str | Path) -> PBRLayout:
    """Index ``root`` (see the module docstring); every sample must be in the metadata and its material folder
    must exist. Images are not decoded here. Raises AssetError naming the file or folder."""
    root = Path(root)
    if not root.is_dir():
        raise AssetError(root, "PBR data folder does not exist")
    inp, out = root / INPUT, root / OUTPUT
    if not inp.is_dir():
        raise AssetError(inp, "missing: a NeuroPBR data folder holds input/{clean,dirty}/sample_XXXX/")
    meta_path = inp / METADATA
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AssetError(meta_path, "missing: it maps each sample_XXXX folder to its material folder") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise AssetError(meta_path, f"not readable JSON: {e}") from None
    if not isinstance(meta, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
        raise AssetError(meta_path, 'must be a JSON object {"sample_0000": "<material>", ...}')
    samples: dict[str, PBRSample] = {}
    for source in SOURCES:
        folder = inp / source
        if not folder.is_dir():
            continue
        for sample_dir in sorted(p for p in folder.iterdir() if p.is_dir() and _SAMPLE.match(p.name)):
            name = sample_dir.name
            if name not in meta:
                raise AssetError(meta_path, f"does not list {name} (found in {folder})")
            material = meta[name]
            if "/" in material or "\\" in material or material in ("", ".", ".."):
                raise AssetError(meta_path, f"{name}: material {material!r} is not a folder name")
            sample = samples.setdefault(name, PBRSample(name, material))
            sample.views[source] = _view_files(sample_dir)
    if not samples:
        raise AssetError(inp, "no samples: expected clean/sample_XXXX/{0,1,2}.png or dirty/...")
    for material in sorted({s.material for s in samples.values()}):
        if not (out / material).is_dir():
            raise AssetError(out / material, "material folder named in render_metadata.json is missing")
    return PBRLayout(root, [samples[k] for k in sorted(samples)])


def read_view(path: str | Path) -> np.ndarray:
    """One view as (H, W, 3) uint8 sRGB; grey and alpha are dropped to RGB. Raises AssetError naming the file."""
    path = Path(path)
    try:
        with Image.open(path) as im:
            im.load()
            if im.mode not in ("RGB", "L", "RGBA", "P", "LA", "I;16", "I"):
                raise AssetError(path, f"unsupported view image mode {im.mode}")
            if im.mode in ("I;16", "I"):
                px = np.asarray(im, dtype=np.float64) / 65535.0
                return np.repeat(np.rint(np.clip(px, 0, 1) * 255).astype(np.uint8)[..., None], 3, -1)
            return np.asarray(im.convert("RGB"), dtype=np.uint8)
    except FileNotFoundError:
        raise AssetError(path, "view image does not exist") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise AssetError(path, f"cannot read view image: {e}") from None


def read_views(paths: tuple[Path, Path, Path] | list[Path]) -> np.ndarray:
    """Three views as (3, H, W, 3) uint8; they must share one size."""
    views = [read_view(p) for p in paths]
    for p, v in zip(paths[1:], views[1:]):
        if v.shape != views[0].shape:
            raise AssetError(p, f"view is {v.shape[1]}x{v.shape[0]}, view 0 is {views[0].shape[1]}x{views[0].shape[0]}")
    return np.stack(views)


def read_material(layout: PBRLayout, material: str) -> MaterialMaps:
    return read_maps(layout.material_dir(material))


def write_views(folder: str | Path, views: np.ndarray) -> None:
    """(3, H, W, 3) uint8 -> ``folder/{0,1,2}.png``, each written atomically."""
    for i in range(VIEWS):
        atomic_write_bytes(Path(folder) / f"{i}.png", png_bytes(views[i]))


def write_metadata(root: str | Path, mapping: dict[str, str]) -> None:
    atomic_write_bytes(Path(root) / INPUT / METADATA, (json.dumps(dict(sorted(mapping.items())), indent=1) + "\n")
                       .encode())


def sample_name(index: int) -> str:
    return f"sample_{index:04d}"

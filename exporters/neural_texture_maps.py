"""Decoded texture maps as image files: what ``ngsdk decode TEXTURE.ngasset`` writes (docs/cli.md).

One file per texture of the material (albedo, normal, roughness, ...), each in its own colour space and
convention, as texture tools expect them:

* ``png``: 8-bit, the stored values (sRGB for colour maps, linear data otherwise); one file per mip.
* ``exr``: float32, linear light (sRGB colour maps decoded); one file per mip.
* ``dds``: uncompressed 8-bit (``R8G8B8A8_UNORM_SRGB`` for colour, ``R8G8B8A8_UNORM`` for normals and other
  3-4 channel maps, ``R8G8_UNORM``, ``R8_UNORM``), every requested mip in one file.
* ``bc``: the block-compressed fallback an engine without neural decode ships: ``BC7_UNORM_SRGB`` for colour,
  ``BC5_UNORM`` for normals (x, y; z rebuilt by the shader), ``BC4_UNORM`` for single channels
  (ngsdk.textures.bcn, etcpak), every requested mip in one file.

Normals are written in the convention the bundle records (OpenGL, +Y up) unless ``normal_y="dx"`` flips the
green channel for DirectX-convention engines (Unreal). ``maps.json`` beside the files lists each file with
its texture, channels, colour space, convention, format and mips.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ngsdk.asset.atomic import atomic_write_bytes
from ngsdk.asset.neural_texture import Channel
from ngsdk.textures.metrics import texture_groups

FORMATS = ("png", "exr", "dds", "bc")


@dataclass(frozen=True)
class MapSpec:
    """One texture of a material: its channels (indices into the decode) and how it is stored."""

    name: str
    index: tuple[int, ...]
    colour_space: str       # "srgb" or "linear"
    normal: bool            # a normal map: x, y, z encoded in [0, 1]

    @property
    def channels(self) -> int:
        return len(self.index)


def map_specs(channels: Sequence[Channel]) -> list[MapSpec]:
    """The textures of a material in channel order (ngsdk.textures.metrics.texture_groups)."""
    specs = []
    for name, idx in texture_groups(list(channels)).items():
        srgb = all(channels[i].colour_space == "srgb" for i in idx)
        specs.append(MapSpec(name, tuple(idx), "srgb" if srgb else "linear", channels[idx[0]].semantic == "normal"))
    return specs


def _flip_y(spec: MapSpec, values: np.ndarray, one: float) -> np.ndarray:
    """Green (y) of a normal map in the other convention: ``one - y`` (255 - y for bytes)."""
    out = values.copy()
    out[..., 1] = one - out[..., 1]
    return out


def _png(values8: np.ndarray) -> bytes:
    from PIL import Image

    h, w, c = values8.shape
    if c == 2:  # PNG has no two-channel colour type but grey + alpha; keep the data in R, G
        values8 = np.concatenate([values8, np.zeros((h, w, 1), np.uint8)], axis=2)
    mode = {1: "L", 3: "RGB", 4: "RGBA"}[values8.shape[2]]
    img = Image.fromarray(values8[..., 0] if mode == "L" else values8, mode)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()


def _dds8(spec: MapSpec, levels8: list[np.ndarray]) -> bytes:
    from ngsdk.asset.texture import TextureData
    from ngsdk.exporters.dds import encode_dds

    c = spec.channels
    if c >= 3:
        fmt = "R8G8B8A8_UNORM_SRGB" if spec.colour_space == "srgb" else "R8G8B8A8_UNORM"
        levels = [np.concatenate([v, np.full(v.shape[:2] + (4 - c,), 255, np.uint8)], axis=2) if c == 3 else v
                  for v in levels8]
    else:
        fmt = {1: "R8_UNORM", 2: "R8G8_UNORM"}[c]
        levels = levels8
    tex = TextureData.from_levels(levels, fmt)
    return encode_dds(tex, alpha_mode="opaque" if c == 3 else "unknown")


def _bc(spec: MapSpec, levels8: list[np.ndarray]) -> tuple[bytes, str]:
    from ngsdk.asset.dxgi import BLOCK_BY_NAME
    from ngsdk.exporters.dds import encode_block_dds
    from ngsdk.textures.bcn import bc_encode

    if spec.normal and spec.channels >= 2:
        fmt, planes = "BC5", [v[..., :2] for v in levels8]   # x, y; engines rebuild z
    elif spec.channels == 1:
        fmt, planes = "BC4", levels8
    elif spec.channels == 2:
        fmt, planes = "BC5", levels8
    else:
        fmt, planes = "BC7", [v[..., :3] for v in levels8]
    name = {"BC4": "BC4_UNORM", "BC5": "BC5_UNORM",
            "BC7": "BC7_UNORM_SRGB" if spec.colour_space == "srgb" else "BC7_UNORM"}[fmt]
    blocks = [bc_encode(np.ascontiguousarray(p), fmt) for p in planes]
    h, w = levels8[0].shape[:2]
    return encode_block_dds(BLOCK_BY_NAME[name], w, h, blocks), name


def write_maps(stored8: dict[int, np.ndarray], linear: dict[int, np.ndarray], channels: Sequence[Channel],
               out_dir: str | Path, fmt: str, *, normal_y: str = "gl", prefix: str = "") -> list[dict[str, Any]]:
    """Write every texture of the decoded mips and ``maps.json``; return the entries of maps.json.

    ``stored8[m]``: mip ``m`` as uint8 (H, W, C) in each channel's stored colour space; ``linear[m]``: the same
    as float32 linear values (used by ``exr``). For ``dds`` and ``bc`` the mips must be 0..n-1 or a single
    one (a file's mip chain starts at its first level).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown map format {fmt!r}; choose from {', '.join(FORMATS)}")
    if normal_y not in ("gl", "dx"):
        raise ValueError(f"normal_y must be gl or dx, got {normal_y!r}")
    out_dir = Path(out_dir)
    mips = sorted(stored8)
    if fmt in ("dds", "bc") and len(mips) > 1 and mips != list(range(mips[0], mips[0] + len(mips))):
        raise ValueError(f"a DDS mip chain needs consecutive mips, got {mips}")
    entries = []
    for spec in map_specs(channels):
        idx = list(spec.index)
        flip = spec.normal and normal_y == "dx" and spec.channels >= 2
        convention = (normal_y if spec.normal else None)
        lv8 = [np.ascontiguousarray(stored8[m][..., idx]) for m in mips]
        if flip:
            lv8 = [_flip_y(spec, v, 255) for v in lv8]
        files: list[tuple[str, bytes, list[int], str]] = []
        if fmt == "png":
            for m, v in zip(mips, lv8):
                files.append((f"{prefix}{spec.name}{_mip_suffix(m, mips)}.png", _png(v), [m], "png8"))
        elif fmt == "exr":
            from ngsdk.exporters.exr import encode_exr

            for m in mips:
                v = np.ascontiguousarray(linear[m][..., idx], dtype=np.float32)
                if flip:
                    v = _flip_y(spec, v, np.float32(1.0))
                files.append((f"{prefix}{spec.name}{_mip_suffix(m, mips)}.exr", encode_exr(v), [m], "exr32f"))
        elif fmt == "dds":
            files.append((f"{prefix}{spec.name}.dds", _dds8(spec, lv8), mips, "dds8"))
        else:
            data, dxgi = _bc(spec, lv8)
            files.append((f"{prefix}{spec.name}.dds", data, mips, dxgi))
        for name, data, file_mips, what in files:
            atomic_write_bytes(out_dir / name, data)
            h, w = stored8[file_mips[0]].shape[:2]
            entries.append({
                "file": name, "texture": spec.name, "channels": [channels[i].name for i in idx],
                "colour_space": "linear" if fmt == "exr" else spec.colour_space, "normal_convention": convention,
                "format": what, "mips": file_mips, "width": w, "height": h, "bytes": len(data),
            })
    return entries


def write_index(out_dir: str | Path, entries: list[dict[str, Any]], bundle: str) -> Path:
    """``maps.json``: the bundle decoded and every file written (deterministic JSON)."""
    path = Path(out_dir) / "maps.json"
    doc = {"bundle": bundle, "maps": entries}
    atomic_write_bytes(path, (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode())
    return path


def _mip_suffix(m: int, mips: list[int]) -> str:
    return "" if mips == [0] else f"_mip{m}"

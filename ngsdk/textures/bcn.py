"""Block compression (BC7 colour, BC5 normals, BC4 single channels) of a material's 8-bit maps.

Used by ``ngsdk decode --format bc`` (the fallback textures an engine without neural decode loads),
``ngsdk verify --html`` (the BCn figure beside ours) and tools/bench_textures.py. Encoding is etcpak's
(bc7enc's default parameters for BC7; BC4/BC5 with each block's min and max as endpoints), decoding
texture2ddecoder's, an independent implementation; both come with ``pip install 'ngsdk[bench]'``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ngsdk.asset.neural_texture import Channel
from ngsdk.textures.colour import srgb_to_linear
from ngsdk.textures.metrics import texture_groups

BLOCK_BYTES = {"BC4": 8, "BC5": 16, "BC7": 16}
"""Bytes per 4x4 block of each format."""
INSTALL = "pip install 'ngsdk[bench]'"


class BcnUnavailable(RuntimeError):
    """etcpak or texture2ddecoder is not installed."""


def bc_codecs() -> tuple[Any, Any]:
    """(etcpak, texture2ddecoder), or BcnUnavailable naming the install line."""
    try:
        import etcpak
        import texture2ddecoder
    except ImportError as e:
        raise BcnUnavailable(f"BCn needs etcpak and texture2ddecoder ({e.name} is not installed): {INSTALL}") from None
    return etcpak, texture2ddecoder


@dataclass(frozen=True)
class Block:
    """One BCn texture: ``fmt`` holding the channels ``index`` (in R, G, B order).

    ``normal`` marks a BC5 normal map: it stores x and y, and z is rebuilt in the decode.
    """

    fmt: str
    index: tuple[int, ...]
    label: str
    normal: bool = False


def plan_bcn(channels: list[Channel], packed: bool) -> list[Block]:
    """The BCn textures a material is stored in.

    Separate layout (``packed=False``): BC7 per colour texture (albedo, emissive), BC5 for the
    normal's x and y, BC4 per single channel. Packed layout: the same, except single channels go
    three at a time into one BC7 (the common ORM-style packing); one left over is BC4, two are BC5.
    """
    blocks: list[Block] = []
    singles: list[int] = []
    for name, idx in texture_groups(channels).items():
        comps = {channels[i].component: i for i in idx}
        if channels[idx[0]].semantic == "normal" and {"x", "y"} <= comps.keys() and len(idx) <= 3:
            blocks.append(Block("BC5", (comps["x"], comps["y"]), name, normal="z" in comps))
        elif len(idx) == 1:
            singles.append(idx[0])
        elif len(idx) == 2:
            blocks.append(Block("BC5", tuple(idx), name))
        else:  # colour maps, and any wider user texture three channels at a time
            for k in range(0, len(idx), 3):
                blocks.append(Block("BC7", tuple(idx[k:k + 3]), name))
    if not packed:
        return blocks + [Block("BC4", (i,), channels[i].semantic) for i in singles]
    for k in range(0, len(singles), 3):
        part = tuple(singles[k:k + 3])
        fmt = {1: "BC4", 2: "BC5", 3: "BC7"}[len(part)]
        blocks.append(Block(fmt, part, "/".join(channels[i].semantic for i in part)))
    return blocks


def layout_name(blocks: list[Block]) -> str:
    """A short human name, e.g. ``BC7 albedo + BC5 normal + BC4 x3``."""
    parts: list[str] = []
    singles = sum(1 for b in blocks if b.fmt == "BC4")
    for b in blocks:
        if b.fmt != "BC4":
            parts.append(f"{b.fmt} {b.label}")
    if singles:
        parts.append(f"BC4 x{singles}")
    return " + ".join(parts)


def bc_encode(planes: np.ndarray, fmt: str) -> bytes:
    """(H, W, 1..3) uint8 planes -> the ``fmt`` blocks of one texture level (rows of 4x4 blocks).

    Sizes that are not multiples of 4 are padded by repeating the edge, as texture tools do; alpha is
    opaque (BC7 spends no bits on a constant alpha).
    """
    etcpak, _ = bc_codecs()
    if planes.dtype != np.uint8 or planes.ndim != 3 or not 1 <= planes.shape[2] <= 3:
        raise ValueError(f"bc_encode: expected (H, W, 1..3) uint8 planes, got {planes.dtype} {planes.shape}")
    if fmt not in BLOCK_BYTES:
        raise ValueError(f"bc_encode: unknown format {fmt!r} (one of {', '.join(BLOCK_BYTES)})")
    h, w, k = planes.shape
    ph, pw = -h % 4, -w % 4
    if ph or pw:
        planes = np.pad(planes, ((0, ph), (0, pw), (0, 0)), mode="edge")
    hp, wp = h + ph, w + pw
    rgba = np.zeros((hp, wp, 4), dtype=np.uint8)
    rgba[..., 3] = 255
    rgba[..., :k] = planes
    raw = rgba.tobytes()
    if fmt == "BC7":
        data = etcpak.compress_bc7(raw, wp, hp, None)  # etcpak's default bc7enc parameters
    elif fmt == "BC5":
        data = etcpak.compress_bc5(raw, wp, hp)
    else:
        data = etcpak.compress_bc4(raw, wp, hp)
    expect = (hp // 4) * (wp // 4) * BLOCK_BYTES[fmt]
    if len(data) != expect:
        raise RuntimeError(f"etcpak {fmt} returned {len(data)} bytes for {wp}x{hp}, expected {expect}")
    return bytes(data)


def bc_decode(data: bytes, fmt: str, width: int, height: int, channels: int) -> np.ndarray:
    """Blocks of one level -> (height, width, channels) uint8 (texture2ddecoder; padding cropped)."""
    _, t2d = bc_codecs()
    wp, hp = -(-width // 4) * 4, -(-height // 4) * 4
    out = {"BC7": t2d.decode_bc7, "BC5": t2d.decode_bc5, "BC4": t2d.decode_bc4}[fmt](data, wp, hp)
    decoded = np.frombuffer(out, dtype=np.uint8).reshape(hp, wp, 4)[..., [2, 1, 0]]  # BGRA -> RGB
    return np.ascontiguousarray(decoded[:height, :width, :channels])


def bc_roundtrip(planes: np.ndarray, fmt: str) -> tuple[np.ndarray, int]:
    """Encode (H, W, k) uint8 planes and decode them again: (decoded planes, compressed bytes)."""
    data = bc_encode(planes, fmt)
    h, w, k = planes.shape
    return bc_decode(data, fmt, w, h, k), len(data)


def rebuild_normal_z(x8: np.ndarray, y8: np.ndarray) -> np.ndarray:
    """Encoded z in [0, 1] from 8-bit encoded x, y, as a shader does for BC5: z = sqrt(1 - x^2 - y^2)."""
    x = x8.astype(np.float64) / 255.0 * 2.0 - 1.0
    y = y8.astype(np.float64) / 255.0 * 2.0 - 1.0
    return (np.sqrt(np.clip(1.0 - x * x - y * y, 0.0, 1.0)) * 0.5 + 0.5).astype(np.float32)


def normal_z(channels: list[Channel]) -> int:
    return next(i for i, c in enumerate(channels) if c.semantic == "normal" and c.component == "z")


def bcn_decode(stored8: np.ndarray, channels: list[Channel], blocks: list[Block],
               cache: dict[Block, tuple[np.ndarray, int]] | None = None) -> tuple[np.ndarray, int]:
    """Round-trip every block of a material; returns stored-space float32 (H, W, C) and total bytes.

    ``cache`` (Block -> round trip) lets two layouts share the textures they have in common.
    """
    cache = {} if cache is None else cache
    out = np.zeros(stored8.shape, dtype=np.float32)
    covered = np.zeros(stored8.shape[2], dtype=bool)
    total = 0
    for b in blocks:
        if b not in cache:
            cache[b] = bc_roundtrip(np.ascontiguousarray(stored8[..., list(b.index)]), b.fmt)
        dec, nbytes = cache[b]
        total += nbytes
        out[..., list(b.index)] = dec.astype(np.float32) / np.float32(255.0)
        covered[list(b.index)] = True
        if b.normal:
            z = normal_z(channels)
            out[..., z] = rebuild_normal_z(dec[..., 0], dec[..., 1])
            covered[z] = True
    if not covered.all():
        missing = [channels[i].name for i in np.flatnonzero(~covered)]
        raise RuntimeError(f"BCn layout leaves channels unstored: {', '.join(missing)}")
    return out, total


def stored_to_linear(stored: np.ndarray, channels: list[Channel]) -> np.ndarray:
    """Undo the stored colour space (sRGB channels to linear) so ``texture_metrics`` can be used as is."""
    out = stored.astype(np.float32, copy=True)
    srgb = [i for i, c in enumerate(channels) if c.colour_space == "srgb"]
    if srgb:
        out[..., srgb] = srgb_to_linear(stored[..., srgb])
    return out


def bcn_quality(ts: Any) -> dict[str, Any]:
    """The separate BC7/BC5/BC4 layout of a TextureSet's mip 0: layout, bpp, overall and per-texture PSNR,
    measured like the neural texture (ngsdk.textures.metrics, each channel's stored colour space)."""
    from ngsdk.textures.colour import to_uint8
    from ngsdk.textures.metrics import texture_metrics

    bc_codecs()
    blocks = plan_bcn(ts.channels, packed=False)
    stored, nbytes = bcn_decode(to_uint8(ts.source_values()), ts.channels, blocks)
    m = texture_metrics(stored_to_linear(stored, ts.channels), ts.data, ts.channels)
    return {"layout": layout_name(blocks), "bpp": nbytes * 8.0 / (ts.width * ts.height),
            "overall_db": m["overall_db"], "textures_db": m["textures_db"], "encoder": "etcpak"}

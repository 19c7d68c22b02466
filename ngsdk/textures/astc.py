"""ASTC compression of a material's 8-bit maps, for rate-distortion comparisons (tools/bench_textures.py).

Arm's reference encoder through the ``astc-encoder-py`` binding (``pip install 'ngsdk[bench]'``), LDR
profile (sRGB profile for colour textures), ``medium`` quality preset. Layout, as engines ship materials:
one RGB texture per colour texture (albedo, emissive), the normal's x and y in one texture with the
encoder's normal-map swizzle (x in RGB, y in alpha; z rebuilt as a shader does), and single channels
three to a texture. Every ASTC block is 128 bits whatever its footprint, so a texture costs
``128 / (bx * by)`` bits per texel.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ngsdk.asset.neural_texture import Channel
from ngsdk.textures.bcn import normal_z, rebuild_normal_z
from ngsdk.textures.metrics import texture_groups

INSTALL = "pip install 'ngsdk[bench]'"
FOOTPRINTS = ((4, 4), (6, 6), (8, 8))
"""Block footprints the benchmarks report: 8, 3.56 and 2 bits per texel per texture."""


class AstcUnavailable(RuntimeError):
    """astc-encoder-py is not installed."""


def _codec():
    try:
        import astc_encoder
    except ImportError:
        raise AstcUnavailable(f"ASTC needs astc-encoder-py: {INSTALL}") from None
    return astc_encoder


def plan_astc(channels: list[Channel]) -> list[tuple[str, tuple[int, ...]]]:
    """The textures a material is stored in: ``(kind, channel indices)`` with kind colour, normal or data."""
    out: list[tuple[str, tuple[int, ...]]] = []
    singles: list[int] = []
    for idx in texture_groups(channels).values():
        comps = {channels[i].component: i for i in idx}
        sem = channels[idx[0]].semantic
        if sem == "normal" and {"x", "y"} <= comps.keys():
            out.append(("normal", (comps["x"], comps["y"])))
        elif len(idx) == 1:
            singles.append(idx[0])
        else:
            for k in range(0, len(idx), 3):
                out.append(("colour" if channels[idx[0]].colour_space == "srgb" else "data", tuple(idx[k:k + 3])))
    for k in range(0, len(singles), 3):
        out.append(("data", tuple(singles[k:k + 3])))
    return out


def _roundtrip(rgba: np.ndarray, block: tuple[int, int], srgb: bool) -> np.ndarray:
    a = _codec()
    h, w, _ = rgba.shape
    profile = a.ASTCProfile.LDR_SRGB if srgb else a.ASTCProfile.LDR
    cfg = a.ASTCConfig(profile, block[0], block[1], 1, a.ASTCQualityPreset.MEDIUM)
    ctx = a.ASTCContext(cfg)
    swz = a.ASTCSwizzle.from_str("RGBA")
    data = ctx.compress(a.ASTCImage(a.ASTCType.U8, w, h, 1, np.ascontiguousarray(rgba).tobytes()), swz)
    out = ctx.decompress(data, a.ASTCImage(a.ASTCType.U8, w, h, 1), swz)
    return np.frombuffer(bytes(out.data), np.uint8).reshape(h, w, 4)


def astc_decode(stored8: np.ndarray, channels: list[Channel], block: tuple[int, int]) -> tuple[np.ndarray, int]:
    """Compress and decode every texture of ``plan_astc``: stored values in [0, 1] (H, W, C) and total bytes."""
    h, w, _ = stored8.shape
    out = stored8.astype(np.float32) / np.float32(255.0)
    nbytes = 0
    blocks = -(-w // block[0]) * -(-h // block[1])
    for kind, idx in plan_astc(channels):
        rgba = np.full((h, w, 4), 255, np.uint8)
        if kind == "normal":
            rgba[..., 0] = rgba[..., 1] = rgba[..., 2] = stored8[..., idx[0]]
            rgba[..., 3] = stored8[..., idx[1]]
            dec = _roundtrip(rgba, block, srgb=False)
            x8, y8 = dec[..., 0], dec[..., 3]
            out[..., idx[0]] = x8 / np.float32(255.0)
            out[..., idx[1]] = y8 / np.float32(255.0)
            if any(c.semantic == "normal" and c.component == "z" for c in channels):
                out[..., normal_z(channels)] = rebuild_normal_z(x8, y8)
        else:
            for k, c in enumerate(idx):
                rgba[..., k] = stored8[..., c]
            dec = _roundtrip(rgba, block, srgb=kind == "colour")
            for k, c in enumerate(idx):
                out[..., c] = dec[..., k] / np.float32(255.0)
        nbytes += 16 * blocks
    return out, nbytes


def astc_layout_name(channels: list[Channel]) -> str:
    """``albedo RGB + normal XY + roughness/ao/displacement``: the textures of :func:`plan_astc`."""
    parts = []
    for kind, idx in plan_astc(channels):
        if kind == "normal":
            parts.append(f"{channels[idx[0]].semantic} XY")
        elif kind == "colour":
            parts.append(f"{channels[idx[0]].semantic} RGB")
        else:
            parts.append("/".join(channels[i].name for i in idx))
    return " + ".join(parts)


def astc_record(ts: Any, block: tuple[int, int]) -> dict[str, Any]:
    """One benchmark record for ``ts`` (an ingested TextureSet) at footprint ``block``."""
    import time

    from ngsdk.textures.bcn import stored_to_linear
    from ngsdk.textures.colour import to_uint8
    from ngsdk.textures.metrics import texture_metrics

    t0 = time.perf_counter()
    stored8 = to_uint8(ts.source_values())
    stored, nbytes = astc_decode(stored8, ts.channels, block)
    m = texture_metrics(stored_to_linear(stored, ts.channels), ts.data, ts.channels, perceptual=True)
    return {"material": ts.name, "channels": len(ts.channels), "method": f"ASTC {block[0]}x{block[1]}",
            "layout": astc_layout_name(ts.channels), "target_bpp": None, "ssim": m.get("ssim"), "flip": m.get("flip"),
            "bpp": nbytes * 8.0 / (ts.width * ts.height), "overall_db": m["overall_db"],
            "textures_db": m["textures_db"], "encode_decode_s": time.perf_counter() - t0, "train_s": None,
            "steps": None, "samples_per_s": None, "notes": []}

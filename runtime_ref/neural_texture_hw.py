"""Reference decode of neural textures in the ``hardware`` mode (numpy only).

The latent grids (8-bit codes, four features per RGBA8 slice) are sampled by the engine's texture
filter, emulated by a named sampler profile of :mod:`ngsdk.runtime_ref.sampling`; each sampled value
``r`` becomes an integer input ``((floor(r * 508) + 1) >> 1) - 127`` and the integer decoder of
:mod:`ngsdk.runtime_ref.neural_texture_int` runs on it. So the decode is exact wherever the sampler
profile is (``lavapipe``, ``nvidia``, ``d3d11``), and for ``bounded`` the integer decoder runs on
the sampler's lower and upper bounds in interval arithmetic, giving per-byte bounds that hold for
any conformant sampler.
"""

from __future__ import annotations

import numpy as np

from ngsdk.asset.dxgi import lookup
from ngsdk.asset.neural_texture import NeuralTextureAsset
from ngsdk.asset.packing import pack_codes
from ngsdk.asset.texture import TextureData
from ngsdk.runtime_ref import neural_texture_int as ni

F32 = np.float32
_ADDRESS = {"wrap": "repeat", "clamp": "clamp"}


def mip_coordinates(n: int) -> np.ndarray:
    """Texel-centre coordinates of a mip axis of ``n`` texels: ``f32(2i + 1) * (f32(0.5) / f32(n))``.

    One correctly rounded multiply by a host-computed float32 constant, so a shader gets the same
    bits (a shader division would only be accurate to 2.5 ulp).
    """
    return np.arange(1, 2 * n, 2, dtype=F32) * (F32(0.5) / F32(n))


def grid_texture(grid) -> TextureData:
    """A grid as the engine holds it: R8G8B8A8_UNORM 2D array, one slice per 4 features, all levels."""
    return TextureData(format=lookup("R8G8B8A8_UNORM"), dimension="2d", width=grid.width, height=grid.height,
                       depth=1, array_size=grid.array_size, cube=False,
                       mips=[pack_codes(lv, grid.bits) for lv in grid.levels])


class HardwareDecoder:
    """Decodes one hardware-mode asset; keeps each grid prepared for sampling between calls."""

    def __init__(self, asset: NeuralTextureAsset):
        if asset.decode_mode != "hardware" or asset.decoder.quantized is None:
            raise ValueError(f"asset {asset.name!r} is in decode mode {asset.decode_mode!r}, not 'hardware'")
        from ngsdk.runtime_ref.sampling import prepare

        self.asset = asset
        self.textures = [prepare(grid_texture(g)) for g in asset.grids]

    def _sample(self, uv: np.ndarray, lod: np.ndarray, filter: str, profile: str):
        """Per grid: float32 (N, F) samples, or ((N, F) lower, (N, F) upper) for ``bounded``."""
        from ngsdk.runtime_ref.sampling import get_profile, sample

        bounded = get_profile(profile).bounded
        lo_parts, hi_parts = [], []
        for g, tex in zip(self.asset.grids, self.textures):
            lo_s, hi_s = [], []
            for s in range(g.array_size):
                out = sample(tex, uv, lod=lod, layer=s, filter=filter,
                             address=_ADDRESS[self.asset.sampler.address], profile=profile)
                if bounded:
                    lo_s.append(out[:, 0])
                    hi_s.append(out[:, 1])
                else:
                    lo_s.append(out)
            lo_parts.append(np.concatenate(lo_s, axis=1)[:, : g.features])
            if bounded:
                hi_parts.append(np.concatenate(hi_s, axis=1)[:, : g.features])
        return lo_parts, (hi_parts if bounded else None)

    def _encoding(self, uv: np.ndarray, lod: np.ndarray) -> np.ndarray:
        asset = self.asset
        q = asset.decoder.quantized
        n = uv.shape[0]
        out = np.zeros((n, 2 * len(q.period_log2)), dtype=np.int64)
        if asset.encoding.kind == "none" or not q.period_log2:
            return out
        # the encoding's level: grid 0's level for texture mip floor(lod), clamped to the chain
        mips = np.clip(np.floor(np.maximum(lod, F32(0.0))), 0, asset.mip_levels - 1).astype(np.int64)
        for m in np.unique(mips):
            sel = mips == m
            w0, h0 = asset.tap_size(int(m), 0)
            eu = ni.encoding_position(ni.uv_positions(uv[sel, 0], w0), w0, asset.sampler.address)
            ev = ni.encoding_position(ni.uv_positions(uv[sel, 1], h0), h0, asset.sampler.address)
            out[sel] = ni.encoding_inputs(eu, ev, q.period_log2, q.phase)
        return out

    def decode_uv(self, uv, lod=0.0, *, filter: str = "linear", profile: str | None = None) -> np.ndarray:
        """Decode at float32 ``uv`` (N, 2) with explicit LOD (number or (N,)) -> uint8 (N, C).

        ``filter``: ``linear`` (bilinear, nearest mip) or ``trilinear``. ``profile`` defaults to the
        asset's reference profile; for ``bounded`` the result is (N, 2, C): lower and upper bytes.
        """
        if filter not in ("linear", "trilinear", "nearest"):
            raise ValueError(f"filter must be linear, trilinear or nearest, got {filter!r}")
        profile = profile or self.asset.decoder.quantized.reference_profile
        uv = np.ascontiguousarray(uv, dtype=F32)
        if uv.ndim != 2 or uv.shape[1] != 2:
            raise ValueError(f"uv must be (N, 2), got {uv.shape}")
        lod = np.broadcast_to(np.asarray(lod, dtype=F32), (uv.shape[0],)).copy()
        lo, hi = self._sample(uv, lod, filter, profile)
        enc = self._encoding(uv, lod)
        q = self.asset.decoder.quantized
        x_lo = np.concatenate([ni.hardware_input(p) for p in lo] + [enc], axis=1)
        if hi is None:
            return ni.run_int_mlp(q, x_lo)
        x_hi = np.concatenate([ni.hardware_input(p) for p in hi] + [enc], axis=1)
        b_lo, b_hi = ni.run_int_mlp_interval(q, x_lo, x_hi)
        return np.stack([b_lo, b_hi], axis=1)

    def decode_mip(self, mip: int = 0, *, profile: str | None = None, rows_per_chunk: int | None = None):
        """Decode texture mip ``mip`` at its texel centres (LOD ``mip``, bilinear) -> uint8 (H, W, C);
        (H, W, 2, C) bounds for ``bounded``."""
        asset = self.asset
        if not 0 <= mip < asset.mip_levels:
            raise ValueError(f"mip {mip} out of range (asset has {asset.mip_levels})")
        w, h = asset.mip_size(mip)
        u_line, v_line = mip_coordinates(w), mip_coordinates(h)
        rows_per_chunk = rows_per_chunk or max(1, 16384 // w)
        parts = []
        for r0 in range(0, h, rows_per_chunk):
            r1 = min(h, r0 + rows_per_chunk)
            uv = np.stack([np.tile(u_line, r1 - r0), np.repeat(v_line[r0:r1], w)], axis=1)
            parts.append(self.decode_uv(uv, F32(mip), filter="linear", profile=profile))
        out = np.concatenate(parts, axis=0)
        return out.reshape((h, w) + out.shape[1:])


def decode_mip(asset: NeuralTextureAsset, mip: int = 0, *, profile: str | None = None) -> np.ndarray:
    """Hardware-mode decode of texture mip ``mip`` with a sampler profile (default: the asset's)."""
    return HardwareDecoder(asset).decode_mip(mip, profile=profile)


def decode_uv(asset: NeuralTextureAsset, uv, lod=0.0, *, filter: str = "linear",
              profile: str | None = None) -> np.ndarray:
    """Hardware-mode decode at coordinates ``uv`` (N, 2) and explicit LOD."""
    return HardwareDecoder(asset).decode_uv(uv, lod, filter=filter, profile=profile)


__all__ = ["HardwareDecoder", "decode_mip", "decode_uv", "grid_texture", "mip_coordinates"]

"""Reference decode of neural volume bundles (NumPy; CuPy optional, same bits).

Two modes (docs/decode-spec.md, "Volumes"):

- ``exact`` (bit-defined): float32 transforms without FMA, 1/256 integer trilinear weights, integer
  sums for unorm8 grids and a fixed-order float32 sum for float16 grids, and a float32 MLP that adds
  ``W_jk * x_k`` to the bias one ``k`` at a time. Every operation here is one IEEE binary32 (or
  integer) operation, so NumPy and CuPy give the same bits as any engine that follows the text.
- ``float``: float32 features and trilinear weights, BLAS matmuls (reference quality, not bit-defined).

Points are decoded in chunks of ``CHUNK`` so memory stays bounded for any volume size.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from ngsdk.asset.errors import AssetError
from ngsdk.asset.manifest import read_manifest
from ngsdk.asset.neural_volume import (
    KIND,
    VOLUME_DECODE_MODES,
    NeuralVolumeAsset,
    VolumeBrick,
    decoder_npz_spec,
    from_manifest,
    local_transform,
    select_bricks,
    voxel_positions,
)
from ngsdk.runtime_ref.dds import read_dds
from ngsdk.runtime_ref.npz import read_npz
from ngsdk.runtime_ref.sampling.backend import get_xp, to_numpy

CHUNK = 1 << 13
"""Points decoded at once: (64, CHUNK) float32 MLP activations stay within a few MB."""
_F32 = np.float32
_XMAX = 1 << 30


# --------------------------------------------------------------------------- loading


def load_neural_volume(bundle: str | Path, manifest: dict[str, Any] | None = None) -> NeuralVolumeAsset:
    """Load a neural volume bundle: manifest, sha256 of every file, DDS headers, npz arrays.

    Every problem raises :class:`AssetError` naming the file; ``manifest`` skips re-reading a validated one.
    """
    bundle = Path(bundle)
    if manifest is None:
        manifest = read_manifest(bundle)
    if manifest["kind"] != KIND:
        raise AssetError(bundle / "manifest.json", f"kind is {manifest['kind']!r}, not a neural volume")
    contents: dict[str, Any] = {}
    for b in manifest["bricks"]:
        for g in b["grids"]:
            path = bundle / g["file"]
            tex = read_dds(path)
            if tex.format.name != g["dxgi_format"] or tex.dimension != "3d":
                raise AssetError(path, f"is {tex.format.name} {tex.dimension}, manifest says {g['dxgi_format']} 3d")
            found = (tex.width, tex.height, tex.depth, tex.mip_count)
            expect = (g["width"], g["height"], g["depth"], 1)
            if found != expect:
                raise AssetError(path, "shape mismatch: DDS is {}x{}x{} with {} mips, manifest says {}x{}x{} "
                                       "with {} mip".format(*found, *expect))
            contents[g["file"]] = tex.mips[0]
        d = b["decoder"]
        contents[d["file"]] = read_npz(bundle / d["file"], decoder_npz_spec(d), strict=True)
    return from_manifest(manifest, contents, bundle / "manifest.json")


# --------------------------------------------------------------------------- coordinates


def _to_local(xp: ModuleType, p, scale: np.ndarray, offset: np.ndarray):
    """Per axis ``f32(f32(p * scale) + offset)`` (x, y, z columns)."""
    return p * xp.asarray(scale)[None, :] + xp.asarray(offset)[None, :]


# --------------------------------------------------------------------------- prepared brick


class _Brick:
    """One brick's arrays on the backend, ready for repeated decoding."""

    def __init__(self, xp: ModuleType, asset: NeuralVolumeAsset, brick: VolumeBrick, mode: str):
        self.xp, self.mode, self.brick = xp, mode, brick
        self.scale, self.offset = local_transform(asset.shape, brick.fit)
        self.grids = []
        for g in brick.grids:
            rz, ry, rx = g.resolution
            # exact mode gathers the stored codes / halves directly: preparing costs no copy on NumPy
            table = xp.asarray(g.dequantized() if mode == "float" else g.values).reshape(-1, g.features)
            consts = (_F32(np.float64(g.scale) * 2.0**-16), _F32(np.float64(g.offset) * 2.0**-16))
            self.grids.append((g, (rz, ry, rx), table, xp.asarray(g.transform), consts))
        self.layers = [(xp.asarray(ly.weight), xp.asarray(ly.bias)) for ly in brick.decoder.layers]

    def __call__(self, p_volume):
        """Decode float32 volume coordinates (N, 3) -> float32 (N,) in [0, 1]."""
        xp = self.xp
        p = _to_local(xp, p_volume, self.scale, self.offset)
        feats = [self._grid_exact(p, *g) if self.mode == "exact" else self._grid_float(p, *g) for g in self.grids]
        x = xp.concatenate(feats, axis=1) if len(feats) > 1 else feats[0]
        y = _mlp_exact(xp, x, self.layers) if self.mode == "exact" else _mlp_float(xp, x, self.layers)
        return xp.where(y > 0, xp.minimum(y, _F32(1)), _F32(0))

    # exact ------------------------------------------------------------------------------------------
    def _grid_exact(self, p, g, res, table, t, consts):
        xp = self.xp
        q = [((t[r, 0] * p[:, 0] + t[r, 1] * p[:, 1]) + t[r, 2] * p[:, 2]) + t[r, 3] for r in range(3)]
        rz, ry, rx = res
        ax = _axis_exact(xp, q[0], rx)
        ay = _axis_exact(xp, q[1], ry)
        az = _axis_exact(xp, q[2], rz)
        if g.storage == "unorm8":
            return _trilinear_unorm8(xp, table, res, ax, ay, az, consts)
        return _trilinear_float16(xp, table, res, ax, ay, az)

    # float ------------------------------------------------------------------------------------------
    def _grid_float(self, p, g, res, table, t, consts):
        xp = self.xp
        q = p @ t[:, :3].T + t[:, 3][None, :]
        axes = []      # per axis x, y, z: the two taps as (clipped index, weight with out-of-range taps at 0)
        for axis, r in enumerate(res[::-1]):
            u = (q[:, axis] + _F32(1)) * _F32(0.5 * (r - 1))
            u = xp.clip(xp.where(xp.isfinite(u), u, _F32(-2)), _F32(-2), _F32(r + 1))
            i0 = xp.floor(u)
            frac = u - i0
            i0 = i0.astype(xp.int32)
            taps = []
            for i, w in ((i0, _F32(1) - frac), (i0 + 1, frac)):
                taps.append((xp.clip(i, 0, r - 1), xp.where((i >= 0) & (i < r), w, _F32(0))))
            axes.append(taps)
        rz, ry, rx = res
        out = xp.zeros((p.shape[0], g.features), dtype=xp.float32)
        for z, wz in axes[2]:
            for y, wy in axes[1]:
                row, wzy = z * ry + y, wz * wy
                for x, wx in axes[0]:
                    out += (wzy * wx)[:, None] * xp.take(table, row * rx + x, axis=0)
        return out


def _axis_exact(xp: ModuleType, q, r: int):
    """(i0, w): tap index and 1/256 weight of the upper tap. ``X = floor(f32(f32(f32(q + 1) * h) * 256))``."""
    u = (q + _F32(1)) * _F32(0.5 * (r - 1))
    s = xp.floor(u * _F32(256))
    s = xp.where(xp.isnan(s), _F32(-_XMAX), xp.clip(s, _F32(-_XMAX), _F32(_XMAX)))
    big = s.astype(xp.int32)
    return big >> 8, big & 255


def _taps(xp: ModuleType, res, ax, ay, az):
    """The 8 taps in order z, y, x (lower first): (dz, flat index, in-range mask, wx*wy) for each."""
    rz, ry, rx = res
    (ix, wx), (iy, wy), iz = ax, ay, az[0]
    out = []
    for dz in (0, 1):
        z = iz + dz
        okz = (z >= 0) & (z < rz)
        zc = xp.clip(z, 0, rz - 1)
        for dy in (0, 1):
            y = iy + dy
            oky = okz & (y >= 0) & (y < ry)
            wyy = wy if dy else 256 - wy
            row = zc * ry + xp.clip(y, 0, ry - 1)
            for dx in (0, 1):
                x = ix + dx
                ok = oky & (x >= 0) & (x < rx)
                wxx = wx if dx else 256 - wx
                out.append((dz, row * rx + xp.clip(x, 0, rx - 1), ok, wxx * wyy))
    return out


def _trilinear_unorm8(xp: ModuleType, table, res, ax, ay, az, consts):
    """Integer trilinear of uint8 codes: S and Wt in units of 2^-16, then one float32 dequantization."""
    wz = az[1]
    n, f = wz.shape[0], table.shape[1]
    s_tot = xp.zeros((n, f), dtype=xp.int32)
    w_tot = xp.zeros(n, dtype=xp.int32)
    taps = _taps(xp, res, ax, ay, az)
    for dz in (0, 1):
        s_z = xp.zeros((n, f), dtype=xp.int32)
        w_z = xp.zeros(n, dtype=xp.int32)
        for tz, idx, ok, wxy in taps:
            if tz != dz:
                continue
            wxy = xp.where(ok, wxy, 0).astype(xp.int32)
            s_z += wxy[:, None] * xp.take(table, idx, axis=0).astype(xp.int32)
            w_z += wxy
        wzz = wz if dz else 256 - wz
        s_tot += (s_z >> 8) * wzz[:, None]
        w_tot += (w_z >> 8) * wzz
    scale16, offset16 = consts
    return s_tot.astype(xp.float32) * scale16 + w_tot.astype(xp.float32)[:, None] * offset16


def _trilinear_float16(xp: ModuleType, table, res, ax, ay, az):
    """Fixed-order float32 sum of ``f32(f32(wx*wy) * wz) * v`` over the 8 taps, times 2^-24."""
    wz = az[1]
    n, f = wz.shape[0], table.shape[1]
    acc = xp.zeros((n, f), dtype=xp.float32)
    for dz, idx, ok, wxy in _taps(xp, res, ax, ay, az):
        wzz = (wz if dz else 256 - wz).astype(xp.float32)
        w = xp.where(ok, wxy.astype(xp.float32) * wzz, _F32(0))
        acc = acc + w[:, None] * xp.take(table, idx, axis=0).astype(xp.float32)
    return acc * _F32(2.0**-24)


def _mlp_exact(xp: ModuleType, x, layers):
    """acc_j = b_j; acc_j = f32(acc_j + f32(W_jk x_k)) for k ascending; hidden ReLU ``acc > 0 ? acc : 0``.

    Activations are kept as (features, N) so each step is one long contiguous vector operation.
    """
    xt = xp.ascontiguousarray(x.T)
    n = xt.shape[1]
    last = len(layers) - 1
    for i, (w, b) in enumerate(layers):
        acc = xp.empty((w.shape[0], n), dtype=xp.float32)
        acc[...] = b[:, None]
        tmp = xp.empty_like(acc)
        for k in range(w.shape[1]):
            xp.multiply(w[:, k:k + 1], xt[k][None, :], out=tmp)
            xp.add(acc, tmp, out=acc)
        if i < last:
            acc = xp.where(acc > 0, acc, _F32(0))
        xt = acc
    return xt[0]


def _mlp_float(xp: ModuleType, x, layers):
    last = len(layers) - 1
    for i, (w, b) in enumerate(layers):
        x = x @ w.T + b[None, :]
        if i < last:
            x = xp.maximum(x, _F32(0))
    return x[:, 0]


# --------------------------------------------------------------------------- public decode


def brick_mlp(brick: VolumeBrick, features: np.ndarray, mode: str = "float") -> np.ndarray:
    """A brick's decoder on its grid features (N, K) in ``mode``, clamped to [0, 1] as the decode does: (N,)
    float32. The graph exports of a brick stand for this in ``float`` mode."""
    if mode not in VOLUME_DECODE_MODES:
        raise ValueError(f"decode mode {mode!r} is not one of {', '.join(VOLUME_DECODE_MODES)}")
    x = np.ascontiguousarray(features, dtype=np.float32)
    layers = [(ly.weight, ly.bias) for ly in brick.decoder.layers]
    y = _mlp_exact(np, x, layers) if mode == "exact" else _mlp_float(np, x, layers)
    return np.where(y > 0, np.minimum(y, _F32(1)), _F32(0))


class VolumeDecoder:
    """A neural volume prepared for repeated decoding (a renderer's field function).

    ``VolumeDecoder(asset)(p)`` equals :func:`decode_points`; preparing once saves flattening the grids
    on every call. ``backend`` is ``"numpy"`` (default) or ``"cupy"``; results are NumPy arrays.
    """

    def __init__(self, asset: NeuralVolumeAsset, mode: str | None = None, *, backend: str | None = None,
                 chunk: int = CHUNK):
        mode = mode or asset.decode_mode
        if mode not in VOLUME_DECODE_MODES:
            raise ValueError(f"decode mode {mode!r} is not one of {', '.join(VOLUME_DECODE_MODES)}")
        self.asset, self.mode, self.chunk = asset, mode, max(1, int(chunk))
        self.xp = get_xp(backend)
        self.bricks = [_Brick(self.xp, asset, b, mode) for b in asset.bricks]

    def __call__(self, p: np.ndarray) -> np.ndarray:
        p = np.asarray(p)
        if p.ndim != 2 or p.shape[1] != 3:
            raise ValueError(f"points must have shape (N, 3) (x, y, z), got {p.shape}")
        p = np.ascontiguousarray(p, dtype=np.float32)
        out = np.empty(p.shape[0], dtype=np.float32)
        sel = select_bricks(self.asset, p)
        for i, brick in enumerate(self.bricks):
            rows = np.nonzero(sel == i)[0] if len(self.bricks) > 1 else None
            pts = p if rows is None else p[rows]
            vals = self._decode(brick, pts)
            if rows is None:
                out[:] = vals
            else:
                out[rows] = vals
        return out

    def _decode(self, brick: _Brick, pts: np.ndarray) -> np.ndarray:
        out = np.empty(pts.shape[0], dtype=np.float32)
        for s in range(0, pts.shape[0], self.chunk):
            out[s:s + self.chunk] = to_numpy(brick(self.xp.asarray(pts[s:s + self.chunk])))
        return out

    def reconstruct(self, progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        """float32 (D, H, W): every voxel decoded by the brick whose core holds it."""
        d, h, w = self.asset.shape
        out = np.empty((d, h, w), dtype=np.float32)
        pos = (voxel_positions(d), voxel_positions(h), voxel_positions(w))
        total, done = d * h * w, 0
        for brick in self.bricks:
            z0, z1, y0, y1, x0, x1 = brick.brick.core
            slab = (y1 - y0) * (x1 - x0)
            step = max(1, self.chunk // slab)
            for zs in range(z0, z1, step):
                ze = min(z1, zs + step)
                pz, py, px = np.meshgrid(pos[0][zs:ze], pos[1][y0:y1], pos[2][x0:x1], indexing="ij")
                pts = np.stack([px.ravel(), py.ravel(), pz.ravel()], axis=1)
                out[zs:ze, y0:y1, x0:x1] = self._decode(brick, pts).reshape(ze - zs, y1 - y0, x1 - x0)
                done += pts.shape[0]
                if progress is not None:
                    progress(done, total)
        return out

    def decode_box(self, brick_index: int, box: tuple[int, int, int, int, int, int], step: int = 1) -> np.ndarray:
        """float32 voxels of ``box`` (z0, z1, y0, y1, x0, x1; every ``step``-th per axis) decoded by one
        brick, whatever brick owns them (seam checks)."""
        z0, z1, y0, y1, x0, x1 = box
        d, h, w = self.asset.shape
        pz, py, px = np.meshgrid(voxel_positions(d)[z0:z1:step], voxel_positions(h)[y0:y1:step],
                                 voxel_positions(w)[x0:x1:step], indexing="ij")
        pts = np.stack([px.ravel(), py.ravel(), pz.ravel()], axis=1)
        return self._decode(self.bricks[brick_index], pts).reshape(pz.shape)


def decode_points(asset: NeuralVolumeAsset, p: np.ndarray, mode: str | None = None, *,
                  backend: str | None = None) -> np.ndarray:
    """Decode float32 points (N, 3) in volume coordinates (x, y, z in [-1, 1]) -> float32 (N,) normalized.

    ``mode`` defaults to the asset's ``decode_mode``.
    """
    return VolumeDecoder(asset, mode, backend=backend)(p)


def reconstruct(asset: NeuralVolumeAsset, mode: str | None = None,
                progress: Callable[[int, int], None] | None = None, *, backend: str | None = None) -> np.ndarray:
    """The full reconstruction, float32 (D, H, W) normalized; ``progress(done, total)`` after each chunk."""
    return VolumeDecoder(asset, mode, backend=backend).reconstruct(progress)


def denormalize(asset: NeuralVolumeAsset, v: np.ndarray) -> np.ndarray:
    """Normalized values -> source units: ``v * (vmax - vmin) + vmin`` in float64, returned as float32
    (float64 for float64 sources)."""
    nrm = asset.normalization
    out = np.asarray(v, dtype=np.float64) * (nrm.vmax - nrm.vmin) + nrm.vmin
    return out if np.dtype(nrm.source_dtype) == np.float64 else out.astype(np.float32)

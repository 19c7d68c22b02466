"""Fused float decode of neural volumes on the GPU: one Triton kernel per brick configuration.

For a tile of points the kernel does everything in registers: the brick-local map and each grid's transform
(folded at preparation into one affine map per grid, ``u = A p + c`` in texel units), the trilinear taps of
every grid, the decoder MLP on tensor cores (``tl.dot``, fp16 inputs, fp32 accumulation; the output layer in
fp32), the clamp to [0, 1], and one store per point. It computes docs/decode-spec.md "Volumes", mode
``float`` (dequantized features, float32 trilinear weights with zero padding, float32 MLP), up to the fp16
rounding of the MLP's inputs and weights (``precision="fp16x3"`` removes most of that: see
:class:`FusedVolumeDecoder`). It is not the bit-defined ``exact`` decode (runtime_ref.neural_volume_cuda).

Grid layout: random points cost one gather per tap in the stored layout (8 per grid); here each grid is
re-laid once, at preparation, as one record per cell of its zero-padded node lattice holding the cell's 8
corner nodes (all features, padded to 1, 2 or 4), so a grid costs one or two vector loads per point (8 bytes
for one unorm8 feature, 16 for two, ...) instead of 8 gathers, for about 8x the grid memory. unorm8 codes stay
codes, as bytes or as exact float16 values (``unorm8_records``), dequantized after interpolation
(``scale * sum(w c) + offset * sum(w)``); float16 values stay float16. Out-of-range taps get weight 0, which
is the spec's zero padding.

Grids of one storage form a group whose features are padded to one count; a brick may mix both storages
(two groups, their first-layer products summed). Hidden widths are padded to a power of two (>= 16) with
zero units; layer counts, widths, grid counts, feature counts, resolutions and transforms are all taken
from the asset. The kernel is compiled per configuration (group sizes, feature counts, hidden width, depth;
Triton caches it), bricks are decoded brick by brick with the same kernel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ngsdk.asset.neural_volume import NeuralVolumeAsset, VolumeBrick, VolumeGrid, local_transform, voxel_positions
from ngsdk.training import triton_available

try:
    import triton
    import triton.language as tl
except ImportError:  # pragma: no cover - Triton ships with CUDA builds of torch
    triton = None

PRECISIONS = ("fp16", "fp16x3")
"""``fp16``: one fp16 tensor-core product per layer. ``fp16x3``: hi/lo fp16 splits of inputs and weights,
three products per layer (``hi*hi + lo*hi + hi*lo``), close to float32."""
UNORM8_RECORDS = ("uint8", "float16")
"""How the cell records hold unorm8 codes: bytes (half the memory) or float16 values (exact; cheaper to widen)."""
RECONSTRUCT_CHUNK = 1 << 22
"""Voxels decoded per launch by :meth:`FusedVolumeDecoder.reconstruct`."""
MAX_HIDDEN = 256
"""Widest hidden layer the kernel takes (padded to a power of two): its fp16 weights stay in shared memory."""
_FP16_INPUT_LIMIT = 2.0**14
"""Largest MLP input magnitude fed to fp16: bigger bounds scale the layer by a power of two (exact)."""
_MAX_TABLE_ELEMENTS = 2**31 - 1
_PARAMS = 20
"""float32 parameters per grid: A (3 x 3, rows u_x, u_y, u_z), c (3), nodes + 1 per axis (x, y, z), unorm8 scale
and offset, 3 unused; ``A p + c`` is the texel coordinate plus one (the record coordinate of the lower tap)."""


def _pow2(n: int) -> int:
    return 1 << max(0, int(n) - 1).bit_length()


# ----------------------------------------------------------------------------------------------- kernel

if triton is not None:

    @triton.jit
    def _axis(u, rp1):
        """One axis of a grid, ``u`` = texel coordinate + 1, ``rp1`` = nodes + 1: (record coordinate b, the
        weights 1 - t of node b - 1 and t of node b, the in-range weight sum).

        Nodes -1 and R are the records' zero padding; NaN, infinities and points outside [-1, R] go to u = 0
        (node -1 with weight 1: a zero value and no in-range weight, as the spec's zero padding)."""
        u = tl.where((u >= 0.0) & (u < rp1), u, 0.0)
        fl = tl.floor(u)
        t = u - fl
        return fl.to(tl.int32), 1.0 - t, t, tl.minimum(tl.minimum(u, rp1 - u), 1.0)

    @triton.jit
    def _grid_chunk(px, py, pz, prm_ptr, idx_ptr, rec_ptr, g0, BLOCK: tl.constexpr, GC: tl.constexpr,
                    F: tl.constexpr, UNORM8: tl.constexpr, PARTS: tl.constexpr):
        """Features (BLOCK, GC * F) of grids g0 .. g0 + GC - 1 of a group, grid-major (the decoder's order)."""
        g = g0 + tl.arange(0, GC)
        prm = prm_ptr + g * 20
        ux = (px[:, None] * tl.load(prm + 0)[None, :] + py[:, None] * tl.load(prm + 1)[None, :]
              + pz[:, None] * tl.load(prm + 2)[None, :] + tl.load(prm + 9)[None, :])
        uy = (px[:, None] * tl.load(prm + 3)[None, :] + py[:, None] * tl.load(prm + 4)[None, :]
              + pz[:, None] * tl.load(prm + 5)[None, :] + tl.load(prm + 10)[None, :])
        uz = (px[:, None] * tl.load(prm + 6)[None, :] + py[:, None] * tl.load(prm + 7)[None, :]
              + pz[:, None] * tl.load(prm + 8)[None, :] + tl.load(prm + 11)[None, :])
        bx, ox, tx, sx = _axis(ux, tl.load(prm + 12)[None, :])
        by, oy, ty, sy = _axis(uy, tl.load(prm + 13)[None, :])
        bz, oz, tz, sz = _axis(uz, tl.load(prm + 14)[None, :])
        idx = idx_ptr + g * 4
        rec = tl.load(idx + 2)[None, :] + bz * tl.load(idx + 1)[None, :] + by * tl.load(idx + 0)[None, :] + bx
        # one record: the 8 corner nodes (z, y, x; lower first) x F features, contiguous; read in PARTS vector
        # loads of at most 16 bytes (a z layer each when 2, a z-y row when 4): each thread sums whole loads
        TAPS: tl.constexpr = 8 // PARTS
        feat = tl.zeros((BLOCK, GC, F), tl.float32)
        for part in tl.static_range(PARTS):
            v = tl.load(rec_ptr + rec[:, :, None] * (8 * F) + part * TAPS * F
                        + tl.arange(0, TAPS * F)[None, None, :]).to(tl.float32)
            e = tl.arange(0, TAPS * F)[None, None, :]
            k = part * TAPS + e // F          # the tap of each loaded element
            w = (tl.where((k & 4) != 0, tz[:, :, None], oz[:, :, None])
                 * tl.where((k & 2) != 0, ty[:, :, None], oy[:, :, None])
                 * tl.where((k & 1) != 0, tx[:, :, None], ox[:, :, None]))
            if F == 1:
                feat += tl.sum(v * w, axis=2)[:, :, None]
            else:
                feat += tl.sum(tl.reshape(v * w, (BLOCK, GC, TAPS, F)), axis=2)
        if UNORM8:
            # sum_t w_t (s c_t + o) = s sum_t w_t c_t + o sum_t w_t; the in-range weight sum factorizes per axis
            feat = (feat * tl.load(prm + 15)[None, :, None]
                    + (tl.load(prm + 16)[None, :] * (sx * sy * sz))[:, :, None])
        return tl.reshape(feat, (BLOCK, GC * F))

    @triton.jit
    def _mm(x, w_ptr, acc, K: tl.constexpr, N: tl.constexpr, LO: tl.constexpr, SPLIT: tl.constexpr):
        """acc + x (BLOCK, K) @ W (K, N) on tensor cores; W fp16 at w_ptr, its low parts LO elements further."""
        wp = w_ptr + tl.arange(0, K)[:, None] * N + tl.arange(0, N)[None, :]
        w = tl.load(wp)
        xh = x.to(tl.float16)
        acc = tl.dot(xh, w, acc)
        if SPLIT:
            acc = tl.dot((x - xh.to(tl.float32)).to(tl.float16), w, acc)
            acc = tl.dot(xh, tl.load(wp + LO), acc)
        return acc

    @triton.jit
    def _fused_volume_kernel(pts_ptr, rows_ptr, out_ptr, n,
                             pa_ptr, ia_ptr, ra_ptr, w0a_ptr, pb_ptr, ib_ptr, rb_ptr, w0b_ptr,
                             wh_ptr, bh_ptr, sc_ptr, wout_ptr, bout_ptr,
                             HAS_ROWS: tl.constexpr, GA: tl.constexpr, FA: tl.constexpr, GCA: tl.constexpr,
                             PA: tl.constexpr, GB: tl.constexpr, FB: tl.constexpr, GCB: tl.constexpr,
                             PB: tl.constexpr, HP: tl.constexpr,
                             NHID: tl.constexpr, SPLIT: tl.constexpr, BLOCK: tl.constexpr):
        """One brick: points (rows of pts when HAS_ROWS) -> clamped values, written to out at the same rows.

        Group A holds the unorm8 grids (GA, padded to chunks of GCA, FA features each), group B the float16
        grids; NHID hidden layers of width HP (padded), then the fp32 output layer."""
        i = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
        live = i < n
        if HAS_ROWS:
            r = tl.load(rows_ptr + i, mask=live, other=0)
        else:
            r = i
        px = tl.load(pts_ptr + r * 3, mask=live, other=0.0)
        py = tl.load(pts_ptr + r * 3 + 1, mask=live, other=0.0)
        pz = tl.load(pts_ptr + r * 3 + 2, mask=live, other=0.0)
        hcols = tl.arange(0, HP)
        if NHID == 0:
            # a single (output) layer: fp32 on the features
            y = tl.zeros((BLOCK,), tl.float32) + tl.load(bout_ptr)
            if GA > 0:
                for c in tl.static_range(GA // GCA):
                    x = _grid_chunk(px, py, pz, pa_ptr, ia_ptr, ra_ptr, c * GCA, BLOCK, GCA, FA, True, PA)
                    wo = tl.load(wout_ptr + c * GCA * FA + tl.arange(0, GCA * FA))
                    y += tl.sum(x * wo[None, :], axis=1)
            if GB > 0:
                for c in tl.static_range(GB // GCB):
                    x = _grid_chunk(px, py, pz, pb_ptr, ib_ptr, rb_ptr, c * GCB, BLOCK, GCB, FB, False, PB)
                    wo = tl.load(wout_ptr + GA * FA + c * GCB * FB + tl.arange(0, GCB * FB))
                    y += tl.sum(x * wo[None, :], axis=1)
        else:
            s = tl.load(sc_ptr)
            acc = tl.zeros((BLOCK, HP), tl.float32)
            if GA > 0:
                for c in tl.static_range(GA // GCA):
                    x = _grid_chunk(px, py, pz, pa_ptr, ia_ptr, ra_ptr, c * GCA, BLOCK, GCA, FA, True, PA)
                    acc = _mm(x * s, w0a_ptr + c * GCA * FA * HP, acc, GCA * FA, HP, GA * FA * HP, SPLIT)
            if GB > 0:
                for c in tl.static_range(GB // GCB):
                    x = _grid_chunk(px, py, pz, pb_ptr, ib_ptr, rb_ptr, c * GCB, BLOCK, GCB, FB, False, PB)
                    acc = _mm(x * s, w0b_ptr + c * GCB * FB * HP, acc, GCB * FB, HP, GB * FB * HP, SPLIT)
            h = tl.maximum(acc * (1.0 / s) + tl.load(bh_ptr + hcols)[None, :], 0.0)
            for layer in tl.static_range(1, NHID):
                s = tl.load(sc_ptr + layer)
                acc = _mm(h * s, wh_ptr + (layer - 1) * HP * HP, tl.zeros((BLOCK, HP), tl.float32), HP, HP,
                          (NHID - 1) * HP * HP, SPLIT)
                h = tl.maximum(acc * (1.0 / s) + tl.load(bh_ptr + layer * HP + hcols)[None, :], 0.0)
            y = tl.sum(h * tl.load(wout_ptr + hcols)[None, :], axis=1) + tl.load(bout_ptr)
        y = tl.where(y > 0.0, tl.minimum(y, 1.0), 0.0)  # NaN -> 0, as the reference clamp
        tl.store(out_ptr + r, y, mask=live)


# ----------------------------------------------------------------------------------------------- preparation


@dataclass
class _Group:
    """The grids of one storage in a brick, as the kernel reads them."""

    unorm8: bool
    grids: list[int]      # indices into brick.grids
    features: int         # per grid, padded to 1, 2 or 4
    chunk: int            # grids per first-layer product (chunk * features >= 16)
    padded: int           # grid count padded to a multiple of chunk
    params: torch.Tensor  # float32 (padded, 20): see _PARAMS
    index: torch.Tensor   # int32 (padded, 4): record strides y, z, first record, 0
    records: torch.Tensor  # uint8 or float16, (records * 8 * features,)
    record_bytes: int

    @property
    def parts(self) -> int:
        """Vector loads per record (16 bytes at most each)."""
        return max(1, self.record_bytes // 16)


def _records(g: VolumeGrid, features: int) -> np.ndarray:
    """(Rz+1, Ry+1, Rx+1, 2, 2, 2, features): cell (bz, by, bx) holds nodes (bz-1+dz, by-1+dy, bx-1+dx), zero
    outside the grid and in the padded features."""
    rz, ry, rx = g.resolution
    padded = np.zeros((rz + 2, ry + 2, rx + 2, features), dtype=g.values.dtype)
    padded[1:-1, 1:-1, 1:-1, :g.features] = g.values
    out = np.empty((rz + 1, ry + 1, rx + 1, 2, 2, 2, features), dtype=g.values.dtype)
    for dz in (0, 1):
        for dy in (0, 1):
            for dx in (0, 1):
                out[:, :, :, dz, dy, dx] = padded[dz:dz + rz + 1, dy:dy + ry + 1, dx:dx + rx + 1]
    return out


def _grid_params(g: VolumeGrid, scale: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """The grid's map from volume coordinates to texel units plus one, ``u = A p + c`` (float64, rounded
    once): ``u_r = h_r (T_r . (s p + o) + T_r3 + 1) + 1`` with ``h_r = (R_r - 1) / 2`` (rows x, y, z)."""
    t = g.transform.astype(np.float64)
    rz, ry, rx = g.resolution
    h = 0.5 * (np.array([rx, ry, rz], dtype=np.float64) - 1.0)
    s, o = scale.astype(np.float64), offset.astype(np.float64)
    a = h[:, None] * t[:, :3] * s[None, :]
    c = h * (t[:, :3] @ o + t[:, 3] + 1.0) + 1.0
    out = np.zeros(_PARAMS, dtype=np.float64)
    out[:9], out[9:12], out[12:15] = a.reshape(9), c, (rx + 1, ry + 1, rz + 1)
    if g.storage == "unorm8":
        out[15], out[16] = np.float32(g.scale), np.float32(g.offset)
    return out.astype(np.float32)


def _fp16(w: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
    """(hi, lo) fp16 parts of float32 weights; ValueError when they do not fit fp16's range."""
    big = float(np.abs(w).max(initial=0.0))
    if big > 65504.0:
        raise ValueError(f"{what}: weight magnitude {big:g} exceeds the fp16 range of the tensor-core decode "
                         f"(use runtime_ref's float decode for this asset)")
    hi = w.astype(np.float16)
    return hi, (w - hi.astype(np.float32)).astype(np.float16)


class _Brick:
    """One brick's tables and weights on the device, in the kernel's layout."""

    def __init__(self, asset: NeuralVolumeAsset, brick: VolumeBrick, device: torch.device, precision: str,
                 chunk_features: int, unorm8_records: str):
        where = f"brick {brick.name!r}"
        self.brick = brick
        scale, offset = local_transform(asset.shape, brick.fit)
        layers = brick.decoder.layers
        first_in = np.cumsum([0] + [g.features for g in brick.grids])  # decoder input of each grid's feature 0
        self.nhid = len(layers) - 1
        widths = [ly.outputs for ly in layers[:-1]]
        self.hp = max(16, _pow2(max(widths))) if widths else 16
        if self.hp > MAX_HIDDEN:
            raise ValueError(f"{where}: hidden width {max(widths)} exceeds the fused decode's {MAX_HIDDEN} (a tile's "
                             f"weights and activations must fit one SM); use the torch FastDecoder")
        head = layers[0]
        self.groups: list[_Group] = []
        for unorm8 in (True, False):
            members = [i for i, g in enumerate(brick.grids) if (g.storage == "unorm8") == unorm8]
            if not members:
                continue
            feats = _pow2(max(brick.grids[i].features for i in members))
            chunk = max(1, chunk_features // feats)
            padded = -(-len(members) // chunk) * chunk
            params = np.zeros((padded, _PARAMS), dtype=np.float32)
            index = np.zeros((padded, 4), dtype=np.int64)
            tables, first = [], 0
            for j, gi in enumerate(members):
                g = brick.grids[gi]
                rec = _records(g, feats)
                if unorm8 and unorm8_records == "float16":
                    rec = rec.astype(np.float16)  # codes 0..255 are exact in fp16
                params[j] = _grid_params(g, scale, offset)
                rz, ry, rx = g.resolution
                index[j] = (rx + 1, (ry + 1) * (rx + 1), first, 0)
                first += (rz + 1) * (ry + 1) * (rx + 1)
                tables.append(rec.reshape(-1))
            # padding grids: nodes + 1 = 0 puts every point outside (weight 0), record 0 is read harmlessly
            records = np.concatenate(tables)
            if records.size > _MAX_TABLE_ELEMENTS:
                raise ValueError(f"{where}: the fused decode's cell records of its {'unorm8' if unorm8 else 'float16'}"
                                 f" grids take {records.size} elements, more than 2^31 - 1 (32-bit indexing); "
                                 f"use the torch FastDecoder for grids this large")
            self.groups.append(_Group(
                unorm8=unorm8, grids=members, features=feats, chunk=chunk, padded=padded,
                params=torch.from_numpy(params).to(device),
                index=torch.from_numpy(index.astype(np.int32)).to(device),
                records=torch.from_numpy(records).to(device),
                record_bytes=8 * feats * records.dtype.itemsize))
        # decoder: the first layer's columns in group order (grid-major, padded features), hidden widths padded
        self.split = precision == "fp16x3"
        bound = self._feature_bound()
        if self.nhid == 0:
            self.w0 = [torch.zeros(1, dtype=torch.float16, device=device)] * 2
            wout = [self._group_rows(head.weight[0][None, :].T, first_in, g)[:, 0] for g in self.groups]
            self.wout = torch.from_numpy(np.concatenate(wout).astype(np.float32)).to(device)
            self.wh = torch.zeros(1, dtype=torch.float16, device=device)
            self.bh = torch.zeros(1, dtype=torch.float32, device=device)
            self.scales = torch.ones(1, dtype=torch.float32, device=device)
        else:
            scales = []
            self.w0 = []
            for g in self.groups:
                rows = self._group_rows(head.weight.T, first_in, g)        # (padded * features, out)
                wt = np.zeros((rows.shape[0], self.hp), dtype=np.float32)
                wt[:, :head.outputs] = rows
                self.w0.append(torch.from_numpy(np.concatenate(_fp16(wt, f"{where}: layer 0"))).to(device))
            hidden = []
            for li, ly in enumerate(layers[1:-1], start=1):
                wt = np.zeros((self.hp, self.hp), dtype=np.float32)
                wt[:ly.inputs, :ly.outputs] = ly.weight.T
                hidden.append(_fp16(wt, f"{where}: layer {li}"))
            if hidden:
                his, los = zip(*hidden, strict=True)
                self.wh = torch.from_numpy(np.concatenate([np.stack(his).reshape(-1), np.stack(los).reshape(-1)]))
                self.wh = self.wh.to(device)
            else:
                self.wh = torch.zeros(1, dtype=torch.float16, device=device)
            bh = np.zeros((self.nhid, self.hp), dtype=np.float32)
            for li, ly in enumerate(layers[:-1]):
                bh[li, :ly.outputs] = ly.bias
                # keep every fp16 input below the limit: scale the layer by a power of two (exact) if needed
                scales.append(2.0 ** -max(0, math.ceil(math.log2(max(bound, 1e-30) / _FP16_INPUT_LIMIT))))
                bound = float((np.abs(ly.weight).astype(np.float64) @ np.full(ly.inputs, bound)
                               + np.abs(ly.bias)).max())
            self.bh = torch.from_numpy(bh).to(device)
            self.scales = torch.tensor(scales, dtype=torch.float32, device=device)
            wout = np.zeros(self.hp, dtype=np.float32)
            wout[:layers[-1].inputs] = layers[-1].weight[0]
            self.wout = torch.from_numpy(wout).to(device)
            if len(self.w0) == 1:
                self.w0.append(self.w0[0])
        self.bout = torch.tensor([layers[-1].bias[0]], dtype=torch.float32, device=device)

    def _feature_bound(self) -> float:
        """Largest |feature|: trilinear weights are convex (or smaller, near the border), so the largest value."""
        out = 0.0
        for g in self.brick.grids:
            v = g.dequantized()
            out = max(out, float(np.abs(v).max(initial=0.0)))
        return out

    @staticmethod
    def _group_rows(w_t: np.ndarray, first_in: np.ndarray, group: _Group) -> np.ndarray:
        """Rows of ``w_t`` (inputs, outputs) in the group's column order, zero for padding features/grids."""
        out = np.zeros((group.padded * group.features, w_t.shape[1]), dtype=np.float32)
        for j, gi in enumerate(group.grids):
            f = int(first_in[gi + 1] - first_in[gi])
            out[j * group.features:j * group.features + f] = w_t[first_in[gi]:first_in[gi] + f]
        return out

    def launch(self, pts: torch.Tensor, out: torch.Tensor, rows: torch.Tensor | None, n: int, block: int,
               num_warps: int) -> None:
        ga = next((g for g in self.groups if g.unorm8), None)
        gb = next((g for g in self.groups if not g.unorm8), None)
        a = ga or gb
        b = gb or ga
        w0a = self.w0[0] if ga is not None else self.w0[-1]
        w0b = self.w0[-1]
        self.compiled = _fused_volume_kernel[(triton.cdiv(n, block),)](
            pts, rows if rows is not None else pts, out, n,
            a.params, a.index, a.records, w0a, b.params, b.index, b.records, w0b,
            self.wh, self.bh, self.scales, self.wout, self.bout,
            HAS_ROWS=rows is not None,
            GA=ga.padded if ga else 0, FA=ga.features if ga else 1, GCA=ga.chunk if ga else 1,
            PA=ga.parts if ga else 1,
            GB=gb.padded if gb else 0, FB=gb.features if gb else 1, GCB=gb.chunk if gb else 1,
            PB=gb.parts if gb else 1,
            HP=self.hp, NHID=self.nhid, SPLIT=self.split, BLOCK=block, num_warps=num_warps)

    # cost model (benchmarks) --------------------------------------------------------------------------
    def flops_per_point(self) -> int:
        """Useful float operations per point: the stored MLP's multiply-adds (2 each), per grid the affine map
        (18), the 8 trilinear weights (16 products, 6 complements) and 8 multiply-adds per feature."""
        mlp = sum(2 * ly.inputs * ly.outputs for ly in self.brick.decoder.layers)
        grids = sum(18 + 22 + 16 * g.features for g in self.brick.grids)
        return mlp + grids

    def gather_bytes_per_point(self) -> int:
        """Bytes of cell records read per point (one record per grid)."""
        return sum(len(g.grids) * g.record_bytes for g in self.groups)


# ----------------------------------------------------------------------------------------------- public API


class FusedVolumeDecoder:
    """A neural volume prepared for the fused float decode on one device (CUDA; the CPU under
    ``TRITON_INTERPRET=1``, for tests).

    ``FusedVolumeDecoder(asset)(p)`` is ``decode_points(asset, p, mode="float")`` of runtime_ref up to fp16
    rounding in the MLP: points (N, 3) float32 (x, y, z) in, values (N,) float32 in [0, 1] out, both torch
    tensors on the device. ``precision`` is ``"fp16"`` (one tensor-core product per layer) or ``"fp16x3"``
    (hi/lo splits, three products: about float32 accuracy for ~3x the tensor-core work). ``block`` points per
    program and ``num_warps`` are launch settings; ``chunk_features`` the first layer's K per product (grids
    are sampled that many features at a time, which bounds register use); ``unorm8_records`` how unorm8 codes
    are held (:data:`UNORM8_RECORDS`; the decoded values are the same).

    Any asset of the format decodes (grid counts, 1 to 4 features, resolutions, transforms, mixed storages,
    bricks, decoder depth); limits, each a ValueError naming the brick: hidden widths up to :data:`MAX_HIDDEN`,
    weights within the fp16 range, cell records of one storage below 2^31 elements. Bad settings raise
    ValueError too.
    """

    def __init__(self, asset: NeuralVolumeAsset, device: str | torch.device = "cuda", *, precision: str = "fp16",
                 block: int = 64, num_warps: int = 4, chunk_features: int = 16, unorm8_records: str = "uint8"):
        if precision not in PRECISIONS:
            raise ValueError(f"precision {precision!r} is not one of {', '.join(PRECISIONS)}")
        if block < 16 or block & (block - 1):
            raise ValueError(f"block must be a power of two >= 16 (tensor-core tiles), got {block}")
        if chunk_features not in (16, 32, 64, 128):
            raise ValueError(f"chunk_features must be 16, 32, 64 or 128, got {chunk_features}")
        if unorm8_records not in UNORM8_RECORDS:
            raise ValueError(f"unorm8_records {unorm8_records!r} is not one of {', '.join(UNORM8_RECORDS)}")
        if not isinstance(asset, NeuralVolumeAsset):
            raise ValueError(f"expected a NeuralVolumeAsset, got {type(asset).__name__}")
        self.device = torch.device(device)
        if not triton_available(self.device):
            raise ValueError(f"the fused volume decode needs Triton and a CUDA device (or the CPU under "
                             f"TRITON_INTERPRET=1): it cannot run on {self.device}")
        self.asset, self.precision, self.block, self.num_warps = asset, precision, int(block), int(num_warps)
        self.bricks = [_Brick(asset, b, self.device, precision, chunk_features, unorm8_records) for b in asset.bricks]
        d, h, w = asset.shape
        # brick selection (ngsdk.asset.neural_volume.select_bricks) on the device: per axis the core extended
        # by half a voxel, 2 c0 - n <= x (n - 1) <= 2 c1 - n, exact in float64
        self._extent = torch.tensor([w - 1, h - 1, d - 1], dtype=torch.float64, device=self.device)
        lo, hi = [], []
        for b in asset.bricks:
            c = b.core
            lo.append([2 * c[4] - w, 2 * c[2] - h, 2 * c[0] - d])
            hi.append([2 * c[5] - w, 2 * c[3] - h, 2 * c[1] - d])
        self._lo = torch.tensor(lo, dtype=torch.float64, device=self.device)
        self._hi = torch.tensor(hi, dtype=torch.float64, device=self.device)

    def _points(self, points: torch.Tensor) -> torch.Tensor:
        if not isinstance(points, torch.Tensor):
            raise ValueError(f"points must be a torch tensor (N, 3), got {type(points).__name__}")
        if points.ndim != 2 or points.shape[1] != 3:
            raise ValueError(f"points must have shape (N, 3) (x, y, z), got {tuple(points.shape)}")
        return points.to(self.device, torch.float32).contiguous()

    def select_bricks(self, points: torch.Tensor) -> torch.Tensor:
        """Index (N,) int64 of the brick decoding each point, as :func:`ngsdk.asset.neural_volume.select_bricks`."""
        pts = self._points(points)
        if len(self.bricks) == 1:
            return torch.zeros(pts.shape[0], dtype=torch.int64, device=self.device)
        t = pts.clamp(-1, 1).double() * self._extent                      # NaN stays NaN: no brick, then 0
        sel = torch.full((pts.shape[0],), -1, dtype=torch.int64, device=self.device)
        for i in range(len(self.bricks)):                                  # the first brick holding the point
            inside = (sel < 0) & ((t >= self._lo[i]) & (t <= self._hi[i])).all(dim=1)
            sel[inside] = i
        return sel.clamp_(min=0)

    @torch.no_grad()
    def __call__(self, points: torch.Tensor) -> torch.Tensor:
        """Normalized values (N,) float32 at volume points (N, 3) (x, y, z); on the decoder's device."""
        pts = self._points(points)
        n = pts.shape[0]
        out = torch.empty(n, dtype=torch.float32, device=self.device)
        if n == 0:
            return out
        if len(self.bricks) == 1:
            self._decode(self.bricks[0], pts, out, None)
            return out
        sel = self.select_bricks(pts)
        for i, brick in enumerate(self.bricks):
            rows = torch.nonzero(sel == i)[:, 0]
            if rows.numel():
                self._decode(brick, pts, out, rows)
        return out

    def _decode(self, brick: _Brick, pts: torch.Tensor, out: torch.Tensor, rows: torch.Tensor | None) -> None:
        n = pts.shape[0] if rows is None else rows.numel()
        brick.launch(pts, out, rows, n, self.block, self.num_warps)

    @torch.no_grad()
    def reconstruct(self) -> torch.Tensor:
        """float32 (D, H, W) on the device: every voxel decoded by the brick whose core holds it (as
        runtime_ref's ``VolumeDecoder.reconstruct``)."""
        d, h, w = self.asset.shape
        out = torch.empty((d, h, w), dtype=torch.float32, device=self.device)
        pos = [torch.from_numpy(voxel_positions(k)).to(self.device) for k in (d, h, w)]
        for brick in self.bricks:
            z0, z1, y0, y1, x0, x1 = brick.brick.core
            step = max(1, RECONSTRUCT_CHUNK // ((y1 - y0) * (x1 - x0)))
            for zs in range(z0, z1, step):
                ze = min(z1, zs + step)
                pz, py, px = torch.meshgrid(pos[0][zs:ze], pos[1][y0:y1], pos[2][x0:x1], indexing="ij")
                pts = torch.stack([px.reshape(-1), py.reshape(-1), pz.reshape(-1)], dim=1).contiguous()
                vals = torch.empty(pts.shape[0], dtype=torch.float32, device=self.device)
                self._decode(brick, pts, vals, None)
                out[zs:ze, y0:y1, x0:x1] = vals.view(ze - zs, y1 - y0, x1 - x0)
        return out

    def compiled_info(self) -> dict[str, Any]:
        """Registers per thread and spilled bytes of each brick's last compiled kernel (empty under the
        interpreter or before the first decode): for tuning ``block`` / ``num_warps`` / ``chunk_features``."""
        out = {}
        for b in self.bricks:
            k = getattr(b, "compiled", None)
            try:
                out[b.brick.name] = {"registers": int(k.n_regs), "spills": int(k.n_spills)}
            except (AttributeError, TypeError, RuntimeError):
                continue
        return out

    def cost(self) -> dict[str, Any]:
        """Per point, averaged over bricks by core voxels: ``flops`` (useful float operations),
        ``gather_bytes`` (cell records read) and ``io_bytes`` (12 B of point in, 4 B of value out)."""
        vox = np.array([(b.brick.core[1] - b.brick.core[0]) * (b.brick.core[3] - b.brick.core[2])
                        * (b.brick.core[5] - b.brick.core[4]) for b in self.bricks], dtype=np.float64)
        share = vox / vox.sum()
        return {"flops": float(sum(s * b.flops_per_point() for s, b in zip(share, self.bricks, strict=True))),
                "gather_bytes": float(sum(s * b.gather_bytes_per_point()
                                          for s, b in zip(share, self.bricks, strict=True))),
                "io_bytes": 16.0}

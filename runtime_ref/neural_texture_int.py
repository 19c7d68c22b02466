"""Integer arithmetic shared by the ``exact`` and ``hardware`` decode modes (numpy only).

Each function is one numbered step of docs/decode-spec.md ("Integer decoder"). Every value is an
integer; intermediate magnitudes stay below 2^31, so int32 shader arithmetic gives the same bits.
NumPy evaluates the dot products in float64, which is exact for integers below 2^53.
"""

from __future__ import annotations

import numpy as np

from ngsdk.asset.types import INT_ACT_MAX, INT_INPUT_MAX, QuantizedDecoder

F32 = np.float32
SUBTEXEL_BITS = 8
ONE = 1 << SUBTEXEL_BITS
HALF = ONE // 2
HW_INPUT_SCALE = F32(508.0)
"""Hardware mode: a sampled latent ``r`` in [0, 1] becomes ``((floor(r * 508) + 1) >> 1) - 127``."""


# --------------------------------------------------------------------------- coordinates

def mip_positions(n_out: int, n_grid: int) -> np.ndarray:
    """Sub-texel positions ``X = floor((2i + 1) * n_grid * 128 / n_out) - 128`` of the ``n_out`` texel
    centres of a mip along one axis, on a grid level of ``n_grid`` texels (int64, in 1/256 texel).

    Evaluated as ``q = (2i + 1) * n_grid``, ``(q / n_out) * 128 + ((q % n_out) * 128) / n_out - 128``
    (integer division), the int32-safe form the shaders use.
    """
    i = np.arange(n_out, dtype=np.int64)
    q = (2 * i + 1) * n_grid
    return (q // n_out) * HALF + ((q % n_out) * HALF) // n_out - HALF


def uv_positions(u: np.ndarray, n_grid: int) -> np.ndarray:
    """Sub-texel positions ``X = floor(f32(u * f32(256 * n_grid))) - 128`` of float32 coordinates."""
    u = np.asarray(u, dtype=F32)
    t = np.floor(u * F32(ONE * n_grid))
    if t.size and float(np.abs(t).max()) >= 2.0**31:
        raise ValueError(f"coordinates too large: |u * {ONE * n_grid}| must stay below 2^31")
    return t.astype(np.int64) - HALF


def wrap_index(i: np.ndarray, n: int, address: str) -> np.ndarray:
    """Texel index ``i`` wrapped (``wrap``: ``((i % n) + n) % n``) or clamped to ``[0, n - 1]``."""
    if address == "wrap":
        return np.mod(i, n)
    return np.clip(i, 0, n - 1)


def axis_taps(x: np.ndarray, n: int, address: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(i0, i1, w)``: ``i0 = X >> 8``, ``i1 = i0 + 1`` (wrapped or clamped), ``w = X & 255``."""
    i0 = x >> SUBTEXEL_BITS
    w = x & (ONE - 1)
    return wrap_index(i0, n, address), wrap_index(i0 + 1, n, address), w


def encoding_position(x0: np.ndarray, n0: int, address: str) -> np.ndarray:
    """``E = X0 + 128`` reduced to ``[0, 256 * n0)``: modulo (``wrap``) or clamped (``clamp``)."""
    e = x0 + HALF
    if address == "wrap":
        return np.mod(e, ONE * n0)
    return np.clip(e, 0, ONE * n0 - 1)


# --------------------------------------------------------------------------- inputs

def bilinear_sum(c00, c10, c01, c11, wx, wy) -> np.ndarray:
    """``L = (c00 (256 - wx) + c10 wx)(256 - wy) + (c01 (256 - wx) + c11 wx) wy`` (exact, < 2^24)."""
    wx = wx[:, None]
    wy = wy[:, None]
    top = c00 * (ONE - wx) + c10 * wx
    bot = c01 * (ONE - wx) + c11 * wx
    return top * (ONE - wy) + bot * wy


def latent_input(l_sum: np.ndarray, bits: int) -> np.ndarray:
    """``clamp((2L - q * 65536 + 2^(k-1)) >> k, -127, 127)`` with ``q = 2^bits - 1``, ``k = bits + 9``."""
    q = (1 << bits) - 1
    k = bits + 9
    s = 2 * l_sum - q * (ONE * ONE)
    return np.clip((s + (1 << (k - 1))) >> k, -INT_INPUT_MAX, INT_INPUT_MAX)


def hardware_input(r: np.ndarray) -> np.ndarray:
    """``clamp(((floor(f32(r * 508)) + 1) >> 1) - 127, -127, 127)`` for float32 sampler values ``r``."""
    t = np.floor(np.asarray(r, dtype=F32) * HW_INPUT_SCALE).astype(np.int64)
    return np.clip(((t + 1) >> 1) - INT_INPUT_MAX, -INT_INPUT_MAX, INT_INPUT_MAX)


def encoding_inputs(eu: np.ndarray, ev: np.ndarray, period_log2: list[int], phase: list[int]) -> np.ndarray:
    """Triangle waves ``(|2t - P| * 127 + P/2) >> (8 + s)``, ``t = (E + phase) & (P - 1)``, ``P = 2^(8+s)``;
    per term u then v -> int64 (N, 2 * terms), values in [0, 127]."""
    cols = []
    for s, p in zip(period_log2, phase):
        shift = SUBTEXEL_BITS + int(s)
        period = 1 << shift
        for e in (eu, ev):
            t = (e + int(p)) & (period - 1)
            tri = np.abs(2 * t - period)
            cols.append((tri * INT_INPUT_MAX + (period >> 1)) >> shift)
    if not cols:
        return np.zeros((eu.shape[0], 0), dtype=np.int64)
    return np.stack(cols, axis=1)


# --------------------------------------------------------------------------- MLP

def requantize(acc: np.ndarray, multiplier: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """``clamp((acc * M + 2^(sh - 1)) >> sh, 0, 255)`` per output channel (float64 holding integers)."""
    m = multiplier.astype(np.float64)
    r = np.exp2(shift.astype(np.float64) - 1.0)
    inv = np.exp2(-shift.astype(np.float64))
    # acc * M + r < 2^31 (checked when the decoder is built), so every step is exact in float64
    return np.clip(np.floor((acc * m + r) * inv), 0.0, float(INT_ACT_MAX))


def run_int_mlp(q: QuantizedDecoder, x: np.ndarray) -> np.ndarray:
    """Integer decoder on inputs ``x`` (N, inputs) in [-127, 127] -> uint8 (N, outputs)."""
    if x.size and (int(np.abs(x).max()) > INT_INPUT_MAX):
        raise ValueError("integer decoder input out of [-127, 127]")
    h = np.asarray(x, dtype=np.float64)
    for layer in q.layers:
        acc = h @ layer.weight.astype(np.float64).T + layer.bias.astype(np.float64)
        h = requantize(acc, layer.multiplier, layer.shift)
    return h.astype(np.uint8)


def run_int_mlp_interval(q: QuantizedDecoder, x_lo: np.ndarray, x_hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Interval form of :func:`run_int_mlp`: every input in ``[x_lo, x_hi]`` gives bytes in the result.

    Per layer ``acc_lo = b + W+ x_lo + W- x_hi`` and ``acc_hi = b + W+ x_hi + W- x_lo`` (W+ / W- the
    positive / negative weights); requantization is non-decreasing, so its bounds map to bounds.
    """
    lo = np.asarray(x_lo, dtype=np.float64)
    hi = np.asarray(x_hi, dtype=np.float64)
    for layer in q.layers:
        w = layer.weight.astype(np.float64)
        wp, wn = np.maximum(w, 0.0).T, np.minimum(w, 0.0).T
        b = layer.bias.astype(np.float64)
        acc_lo = lo @ wp + hi @ wn + b
        acc_hi = hi @ wp + lo @ wn + b
        lo = requantize(acc_lo, layer.multiplier, layer.shift)
        hi = requantize(acc_hi, layer.multiplier, layer.shift)
    return lo.astype(np.uint8), hi.astype(np.uint8)


# --------------------------------------------------------------------------- shader parameter blob

BLOB_MAGIC = 0x3244544E  # "NTD2" little-endian
BLOB_HEADER = 16
BLOB_GRID_WORDS = 8


def param_blob(asset) -> np.ndarray:
    """The int32 parameter array the shaders read (``NTD_Param``); layout in docs/decode-spec.md.

    Self-contained, so an includer only binds resources (grids, sampler, output): header
    ``[magic, grids, terms, layers, address (0 wrap, 1 clamp), outputs, mode (0 exact, 1 hardware),
    taps K, LOD input (0/1), mips M, width, height, @taps, @mips, @terms, @layers]`` (``@``: offset of
    a table), per grid ``[features, bits, slices, width, height, levels, 0, 0]``; then the tables: the
    grid of each tap (K), per mip the level of each tap then its LOD input (M rows of K + 1; 0 without
    LOD input), per term ``[period_log2, phase]``, per layer ``[inputs, outputs, offset]``, and per layer
    at ``offset``: weights (out x in, row-major), biases, multipliers, shifts.
    """
    q = asset.decoder.quantized
    if q is None:
        raise ValueError("param_blob: the asset has no integer decoder (float decode mode)")
    k = len(asset.taps[0])
    grids = []
    for g in asset.grids:
        h, w = g.levels[0].shape[:2]
        grids += [g.features, g.bits, g.array_size, w, h, len(g.levels), 0, 0]
    taps = [g for g, _ in asset.taps[0]]
    lods = asset.lod_inputs or [0] * asset.mip_levels
    mips = []
    for m, row in enumerate(asset.taps):
        mips += [lv for _, lv in row] + [lods[m]]
    terms = []
    for s, p in zip(q.period_log2, q.phase):
        terms += [int(s), int(p)]
    at_taps = BLOB_HEADER + len(grids)
    at_mips = at_taps + len(taps)
    at_terms = at_mips + len(mips)
    at_layers = at_terms + len(terms)
    head = [BLOB_MAGIC, len(asset.grids), len(q.period_log2), len(q.layers),
            0 if asset.sampler.address == "wrap" else 1, q.outputs, 1 if asset.decode_mode == "hardware" else 0,
            k, 0 if asset.lod_inputs is None else 1, asset.mip_levels, asset.width, asset.height,
            at_taps, at_mips, at_terms, at_layers]
    table, data = [], []
    offset = at_layers + 3 * len(q.layers)
    for layer in q.layers:
        table += [layer.inputs, layer.outputs, offset + len(data)]
        data += layer.weight.astype(np.int32).ravel().tolist()
        data += layer.bias.tolist() + layer.multiplier.tolist() + layer.shift.tolist()
    return np.asarray(head + grids + taps + mips + terms + table + data, dtype=np.int32)

"""Fused whole-mip decode of ``exact``-mode neural textures on CUDA (Triton), bit-identical to
:func:`ngsdk.runtime_ref.neural_texture_exact.decode_mip` (docs/decode-spec.md, mode ``exact``).

One kernel does a whole mip: persistent programs take tiles of ``TW x TH`` texels (one texel per thread),
fetch the four corner codes of every latent tap, form the integer decoder inputs and run the integer MLP on
int8 tensor cores (``tl.dot(int8, int8) -> int32``, wgmma on Hopper), writing the UNORM8 bytes once. How the
spec's steps map to it:

- Positions, tap indices, bilinear weights and the triangle-wave encoding depend on the column alone (u) or on
  the row alone (v), so they are computed once per mip on the host with runtime_ref's own functions, as small
  int32 tables (``O(W + H)``, cached per mip); the kernel reads them. Everything per texel (code fetch, integer
  bilinear, latent requantization, the MLP) runs in the kernel.
- Codes are packed into one flat int32 word buffer for all levels of all grids: a grid of ``b`` bits holds
  ``32 / p`` codes per word (``p`` the power of two >= ``b``), ``ceil(F / (32 / p))`` words per texel (one word
  for the default 8 x 4-bit latents).
- The decoder inputs are built in chunks of 4 or 8 columns (a tap's features from one word per corner, the
  column or row inputs, or zeros), each column a 1-D value per texel, joined in registers (``tl.join``); the
  column order the join trees give is undone by permuting the first layer's weight rows on the host, and
  padded columns get zero weights.
- Hidden activations are unsigned [0, 255], which int8 cannot hold: the kernel feeds ``a - 128`` to the next
  dot and folds ``128 * rowsum(W)`` into that layer's bias. The bias and the rounding term are folded into one
  per-channel constant ``C = b' * M + 2^(sh - 1)``, so ``y = clamp((acc * M + C) >> sh, 0, 255)``; every term
  stays below 2^31 (the bounds ``QuantizedDecoder.check_overflow`` enforces cover ``|acc| * M`` and ``|b'| * M``,
  see :func:`_decoder_buffers`), so int32 arithmetic is exact. On CUDA the clamp and the int8 packing are PTX
  ``cvt.pack.sat`` (same bytes as the min/max form).
- Weights are loaded once per program; tuning measured on an H100 (tools/bench_texture_decode.py): 128-texel
  tiles, 4 warps, 8 programs per SM, no software pipelining (``num_stages=1``: Triton's cp.async pipelining of
  the table and code loads more than doubled the time).

Under ``TRITON_INTERPRET=1`` (set before Triton is imported) the same kernel runs on the CPU with CPU tensors;
tests/unit/test_fused_decode.py checks it against runtime_ref that way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ngsdk.asset.neural_texture import NeuralTextureAsset
from ngsdk.runtime_ref import neural_texture_int as ni
from ngsdk.training import triton_available

try:
    import triton
    import triton.language as tl
except ImportError:  # pragma: no cover - Triton ships with CUDA builds of torch
    triton = None

MAX_CHUNKS = 16
"""Input chunks the kernel's join tree takes (the default plan uses 4): up to 64 or 128 decoder inputs."""
_CH_BITS = 32
"""Bits per chunk descriptor in the packed ``CH`` constexpr: kind 4, first column 12, code bits 4, p 4."""


def _pow2(n: int) -> int:
    return 1 << max(0, int(n) - 1).bit_length()


# --------------------------------------------------------------------------- kernel

if triton is not None:

    # Each thread builds its texels' inputs as 1-D columns, joined into rows of the input matrix inside the thread
    # (tl.join adds a minor dimension in registers): no loads are repeated across threads.

    @triton.jit
    def _lat_col(w00, w10, w01, w11, wx, wy, J: tl.constexpr, BITS: tl.constexpr, PB: tl.constexpr):
        """Latent input of the code at bits ``J * PB`` of the four corner words: int32 (B,) (spec step 2)."""
        MASK: tl.constexpr = (1 << PB) - 1
        c00 = (w00 >> (J * PB)) & MASK
        c10 = (w10 >> (J * PB)) & MASK
        c01 = (w01 >> (J * PB)) & MASK
        c11 = (w11 >> (J * PB)) & MASK
        # L = top (256 - wy) + bot wy with top = c00 (256 - wx) + c10 wx, ... (< 2^24)
        top = c00 * 256 + (c10 - c00) * wx
        bot = c01 * 256 + (c11 - c01) * wx
        lsum = top * 256 + (bot - top) * wy
        K: tl.constexpr = BITS + 9
        BIAS: tl.constexpr = (1 << (K - 1)) - ((1 << BITS) - 1) * 65536
        x = (2 * lsum + BIAS) >> K
        # x <= q 2^(16-k) + 1/2 and x >= -127: only 8-bit codes reach past 127 (to 128)
        HI: tl.constexpr = (((1 << BITS) - 1) * 65536 + (1 << (K - 1))) >> K
        if HI > 127:
            x = tl.minimum(x, 127)
        return x

    @triton.jit
    def _lat2(w00, w10, w01, w11, wx, wy, J: tl.constexpr, BITS: tl.constexpr, PB: tl.constexpr):
        return tl.join(_lat_col(w00, w10, w01, w11, wx, wy, J, BITS, PB),
                       _lat_col(w00, w10, w01, w11, wx, wy, J + 1, BITS, PB))

    @triton.jit
    def _lat4(w00, w10, w01, w11, wx, wy, J: tl.constexpr, BITS: tl.constexpr, PB: tl.constexpr, B: tl.constexpr):
        return tl.reshape(tl.join(_lat2(w00, w10, w01, w11, wx, wy, J, BITS, PB),
                                  _lat2(w00, w10, w01, w11, wx, wy, J + 2, BITS, PB)), [B, 4])

    @triton.jit
    def _lat8(w00, w10, w01, w11, wx, wy, J: tl.constexpr, BITS: tl.constexpr, PB: tl.constexpr, B: tl.constexpr):
        return tl.reshape(tl.join(_lat4(w00, w10, w01, w11, wx, wy, J, BITS, PB, B),
                                  _lat4(w00, w10, w01, w11, wx, wy, J + 4, BITS, PB, B)), [B, 8])

    @triton.jit
    def _latent_chunk(words_ptr, ct_ptr, rt_ptr, col, row, TAP: tl.constexpr, F0: tl.constexpr,
                      BITS: tl.constexpr, PB: tl.constexpr, PT: tl.constexpr, S: tl.constexpr, B: tl.constexpr):
        """Latent inputs of features ``F0 .. F0 + S - 1`` of tap ``TAP``, one word per corner (S <= 32 / PB):
        int8 (B, S), columns in join-tree order (spec steps 1-2)."""
        cb = ct_ptr + col * PT + 3 * TAP
        rb = rt_ptr + row * PT + 3 * TAP
        x0 = tl.load(cb)          # column word offsets (x * words per texel), bilinear weight of x1
        x1 = tl.load(cb + 1)
        wx = tl.load(cb + 2)
        y0 = tl.load(rb)          # row word offsets (level offset + y * width * words per texel), weight of y1
        y1 = tl.load(rb + 1)
        wy = tl.load(rb + 2)
        FPW: tl.constexpr = 32 // PB
        WORD: tl.constexpr = F0 // FPW
        w00 = tl.load(words_ptr + y0 + x0 + WORD)
        w10 = tl.load(words_ptr + y0 + x1 + WORD)
        w01 = tl.load(words_ptr + y1 + x0 + WORD)
        w11 = tl.load(words_ptr + y1 + x1 + WORD)
        if S == 4:
            v = _lat4(w00, w10, w01, w11, wx, wy, F0 % FPW, BITS, PB, B)
        else:
            v = _lat8(w00, w10, w01, w11, wx, wy, F0 % FPW, BITS, PB, B)
        return v.to(tl.int8)

    @triton.jit
    def _sep2(tab_ptr, base, J: tl.constexpr):
        return tl.join(tl.load(tab_ptr + base + J), tl.load(tab_ptr + base + J + 1))

    @triton.jit
    def _sep4(tab_ptr, base, J: tl.constexpr, B: tl.constexpr):
        return tl.reshape(tl.join(_sep2(tab_ptr, base, J), _sep2(tab_ptr, base, J + 2)), [B, 4])

    @triton.jit
    def _separable_chunk(tab_ptr, idx, E0: tl.constexpr, STRIDE: tl.constexpr, S: tl.constexpr, B: tl.constexpr):
        """Inputs ``E0 .. E0 + S - 1`` of a column (or row) input table, int32 rows of ``STRIDE``: int8 (B, S),
        columns in join-tree order."""
        base = idx * STRIDE + E0
        if S == 4:
            v = _sep4(tab_ptr, base, 0, B)
        else:
            v = tl.reshape(tl.join(_sep4(tab_ptr, base, 0, B), _sep4(tab_ptr, base, 4, B)), [B, 8])
        return v.to(tl.int8)

    @triton.jit
    def _chunk(C: tl.constexpr, CH: tl.constexpr, words_ptr, ct_ptr, rt_ptr, cs_ptr, rs_ptr, col, row,
               PT: tl.constexpr, SU: tl.constexpr, SV: tl.constexpr, S: tl.constexpr, B: tl.constexpr):
        """Input chunk ``C`` (its descriptor is field ``C`` of ``CH``): int8 (B, S)."""
        D: tl.constexpr = (CH >> (32 * C)) & 0xFFFFFFFF  # _CH_BITS
        KIND: tl.constexpr = D & 15
        F0: tl.constexpr = (D >> 4) & 4095
        BITS: tl.constexpr = (D >> 16) & 15
        PB: tl.constexpr = (D >> 20) & 15
        if KIND == 0:
            v = tl.zeros([B, S], dtype=tl.int8)
        elif KIND == 1:
            v = _separable_chunk(cs_ptr, col, F0, SU, S, B)
        elif KIND == 2:
            v = _separable_chunk(rs_ptr, row, F0, SV, S, B)
        else:
            v = _latent_chunk(words_ptr, ct_ptr, rt_ptr, col, row, KIND - 3, F0, BITS, PB, PT, S, B)
        return v

    @triton.jit
    def _join(a, b, B: tl.constexpr, W: tl.constexpr):
        """Columns of ``a`` and ``b`` (B, W) interleaved: (B, 2W) with a's column j at 2j, b's at 2j + 1."""
        return tl.reshape(tl.join(a, b), [B, 2 * W])

    @triton.jit
    def _inputs(CH: tl.constexpr, NCH: tl.constexpr, words_ptr, ct_ptr, rt_ptr, cs_ptr, rs_ptr, col, row,
                PT: tl.constexpr, SU: tl.constexpr, SV: tl.constexpr, S: tl.constexpr, B: tl.constexpr):
        """The decoder inputs (B, NCH * S) int8: a balanced join tree of the chunks (host: _join_order)."""
        x = _chunk(0, CH, words_ptr, ct_ptr, rt_ptr, cs_ptr, rs_ptr, col, row, PT, SU, SV, S, B)
        if NCH >= 2:
            x1 = _chunk(1, CH, words_ptr, ct_ptr, rt_ptr, cs_ptr, rs_ptr, col, row, PT, SU, SV, S, B)
            x = _join(x, x1, B, S)
        if NCH >= 4:
            x2 = _chunk(2, CH, words_ptr, ct_ptr, rt_ptr, cs_ptr, rs_ptr, col, row, PT, SU, SV, S, B)
            x3 = _chunk(3, CH, words_ptr, ct_ptr, rt_ptr, cs_ptr, rs_ptr, col, row, PT, SU, SV, S, B)
            x = _join(x, _join(x2, x3, B, S), B, 2 * S)
        if NCH >= 8:
            x4 = _chunk(4, CH, words_ptr, ct_ptr, rt_ptr, cs_ptr, rs_ptr, col, row, PT, SU, SV, S, B)
            x5 = _chunk(5, CH, words_ptr, ct_ptr, rt_ptr, cs_ptr, rs_ptr, col, row, PT, SU, SV, S, B)
            x6 = _chunk(6, CH, words_ptr, ct_ptr, rt_ptr, cs_ptr, rs_ptr, col, row, PT, SU, SV, S, B)
            x7 = _chunk(7, CH, words_ptr, ct_ptr, rt_ptr, cs_ptr, rs_ptr, col, row, PT, SU, SV, S, B)
            y = _join(_join(x4, x5, B, S), _join(x6, x7, B, S), B, 2 * S)
            x = _join(x, y, B, 4 * S)
        if NCH >= 16:
            x8 = _chunk(8, CH, words_ptr, ct_ptr, rt_ptr, cs_ptr, rs_ptr, col, row, PT, SU, SV, S, B)
            x9 = _chunk(9, CH, words_ptr, ct_ptr, rt_ptr, cs_ptr, rs_ptr, col, row, PT, SU, SV, S, B)
            x10 = _chunk(10, CH, words_ptr, ct_ptr, rt_ptr, cs_ptr, rs_ptr, col, row, PT, SU, SV, S, B)
            x11 = _chunk(11, CH, words_ptr, ct_ptr, rt_ptr, cs_ptr, rs_ptr, col, row, PT, SU, SV, S, B)
            x12 = _chunk(12, CH, words_ptr, ct_ptr, rt_ptr, cs_ptr, rs_ptr, col, row, PT, SU, SV, S, B)
            x13 = _chunk(13, CH, words_ptr, ct_ptr, rt_ptr, cs_ptr, rs_ptr, col, row, PT, SU, SV, S, B)
            x14 = _chunk(14, CH, words_ptr, ct_ptr, rt_ptr, cs_ptr, rs_ptr, col, row, PT, SU, SV, S, B)
            x15 = _chunk(15, CH, words_ptr, ct_ptr, rt_ptr, cs_ptr, rs_ptr, col, row, PT, SU, SV, S, B)
            ya = _join(_join(x8, x9, B, S), _join(x10, x11, B, S), B, 2 * S)
            yb = _join(_join(x12, x13, B, S), _join(x14, x15, B, S), B, 2 * S)
            x = _join(x, _join(ya, yb, B, 4 * S), B, 8 * S)
        return x

    @triton.jit
    def _weights(w_ptr, WOFF: tl.constexpr, K: tl.constexpr, N: tl.constexpr):
        """Layer weights, transposed and padded: int8 (K, N)."""
        k = tl.arange(0, K)
        n = tl.arange(0, N)
        return tl.load(w_ptr + WOFF + k[:, None] * N + n[None, :])

    @triton.jit
    def _params(q_ptr, QOFF: tl.constexpr, N: tl.constexpr, PW: tl.constexpr):
        """Per output channel: multiplier, folded bias ``C`` and shift, each int32 (1, N)."""
        n = tl.arange(0, N)
        m = tl.load(q_ptr + QOFF + n)[None, :]
        c = tl.load(q_ptr + QOFF + PW + n)[None, :]
        sh = tl.load(q_ptr + QOFF + 2 * PW + n)[None, :]
        return m, c, sh

    @triton.jit
    def _hidden(h, w, m, c, sh, ASM: tl.constexpr):
        """A hidden layer on int8 inputs (B, K): ``a = clamp((acc * M + C) >> sh, 0, 255)``, returned as the next
        layer's int8 input ``a - 128`` = ``clamp(((acc * M + C) >> sh) - 128, -128, 127)``."""
        t = (tl.dot(h, w, out_dtype=tl.int32) * m + c) >> sh
        if ASM:
            # saturate to [0, 255] and pack four bytes to a register (PTX cvt.pack.sat, sm_72 and later), then
            # a ^ 0x80 is a - 128 as int8: three instructions per four activations
            v = tl.inline_asm_elementwise(
                "{ .reg .b32 pk; cvt.pack.sat.u8.s32.b32 pk, $4, $3, 0; cvt.pack.sat.u8.s32.b32 pk, $2, $1, pk; "
                "xor.b32 $0, pk, 0x80808080; }", "=r,r,r,r,r", [t], dtype=tl.int8, is_pure=True, pack=4)
        else:
            v = (tl.minimum(tl.maximum(t, 0), 255) - 128).to(tl.int8)
        return v

    @triton.jit
    def _output(h, w, m, c, sh, ASM: tl.constexpr):
        """The output layer: bytes ``clamp((acc * M + C) >> sh, 0, 255)``, uint8 (B, N)."""
        y = (tl.dot(h, w, out_dtype=tl.int32) * m + c) >> sh
        if ASM:
            v = tl.inline_asm_elementwise(
                "{ .reg .b32 pk; cvt.pack.sat.u8.s32.b32 pk, $4, $3, 0; cvt.pack.sat.u8.s32.b32 $0, $2, $1, pk; }",
                "=r,r,r,r,r", [y], dtype=tl.uint8, is_pure=True, pack=4)
        else:
            v = tl.minimum(tl.maximum(y, 0), 255).to(tl.uint8)
        return v

    @triton.jit
    def _decode_kernel(words_ptr, ct_ptr, rt_ptr, cs_ptr, rs_ptr, w_ptr, q_ptr, out_ptr, width, height, tiles_x,
                       n_tiles, CH: tl.constexpr, NCH: tl.constexpr, PT: tl.constexpr, SU: tl.constexpr,
                       SV: tl.constexpr, S: tl.constexpr, NL: tl.constexpr, N0: tl.constexpr, HP: tl.constexpr,
                       NP: tl.constexpr, PW: tl.constexpr, C: tl.constexpr, TW: tl.constexpr, TH: tl.constexpr,
                       ASM: tl.constexpr):
        B: tl.constexpr = TW * TH
        KP: tl.constexpr = NCH * S
        lane = tl.arange(0, B)
        lr = lane // TW
        lc = lane % TW
        n_out = tl.arange(0, NP)
        # the decoder, loaded once per program (up to 5 layers; deeper decoders load the rest per tile)
        w0 = _weights(w_ptr, 0, KP, N0)
        if NL >= 3:
            w1 = _weights(w_ptr, KP * HP, HP, HP)
        if NL >= 4:
            w2 = _weights(w_ptr, KP * HP + HP * HP, HP, HP)
        if NL >= 5:
            w3 = _weights(w_ptr, KP * HP + 2 * HP * HP, HP, HP)
        if NL >= 2:
            wl = _weights(w_ptr, KP * HP + (NL - 2) * HP * HP, HP, NP)
        for tile in range(tl.program_id(0), n_tiles, tl.num_programs(0)):
            ty = tile // tiles_x
            tx = tile - ty * tiles_x
            row = ty * TH + lr
            col = tx * TW + lc
            live = (row < height) & (col < width)
            # lanes past the edge decode the edge texel again (never stored): every load stays in range
            rowc = tl.minimum(row, height - 1)
            colc = tl.minimum(col, width - 1)
            h = _inputs(CH, NCH, words_ptr, ct_ptr, rt_ptr, cs_ptr, rs_ptr, colc, rowc, PT, SU, SV, S, B)
            # hidden activations a in [0, 255] enter the next layer as a - 128 (int8); biases compensate
            m0, c0, s0 = _params(q_ptr, 0, N0, PW)
            if NL == 1:
                o = _output(h, w0, m0, c0, s0, ASM)
            else:
                a = _hidden(h, w0, m0, c0, s0, ASM)
                if NL >= 3:
                    m1, c1, s1 = _params(q_ptr, 3 * PW, HP, PW)
                    a = _hidden(a, w1, m1, c1, s1, ASM)
                if NL >= 4:
                    m2, c2, s2 = _params(q_ptr, 6 * PW, HP, PW)
                    a = _hidden(a, w2, m2, c2, s2, ASM)
                if NL >= 5:
                    m3, c3, s3 = _params(q_ptr, 9 * PW, HP, PW)
                    a = _hidden(a, w3, m3, c3, s3, ASM)
                for layer in tl.static_range(4, NL - 1):
                    wk = _weights(w_ptr, KP * HP + (layer - 1) * HP * HP, HP, HP)
                    mk, ck, sk = _params(q_ptr, 3 * PW * layer, HP, PW)
                    a = _hidden(a, wk, mk, ck, sk, ASM)
                ml, cl, sl = _params(q_ptr, 3 * PW * (NL - 1), NP, PW)
                o = _output(a, wl, ml, cl, sl, ASM)
            base = out_ptr + (ty * TH).to(tl.int64) * width * C
            offs = ((lr * width + col) * C)[:, None] + n_out[None, :]
            tl.store(base + offs, o, mask=live[:, None] & (n_out < C)[None, :])


# --------------------------------------------------------------------------- host-side plan


@dataclass(frozen=True)
class _Tap:
    grid: int
    features: int
    bits: int
    pb: int
    """Bits a code occupies in its word: the power of two >= bits (codes never straddle words)."""
    words: int
    """int32 words per texel."""


@dataclass(frozen=True)
class _Plan:
    taps: tuple[_Tap, ...]
    terms: int
    lod: bool
    chunk: int
    """Columns per input chunk (S)."""
    descriptors: tuple[tuple[int, int], ...]
    """Per chunk: (kind, first column): kind 0 zeros, 1 column inputs (encoding u terms, LOD input), 2 row
    inputs (encoding v terms), 3 + t features of tap t."""
    order: np.ndarray
    """Kernel input column -> decoder input index (-1: padding, zero weight)."""

    @property
    def nu(self) -> int:
        """Inputs that depend on the column alone: the encoding's u terms, then the LOD input."""
        return self.terms + (1 if self.lod else 0)

    @property
    def nv(self) -> int:
        """Inputs that depend on the row alone: the encoding's v terms."""
        return self.terms

    @property
    def su(self) -> int:
        """Row stride of the int32 column-input table (whole chunks)."""
        return max(1, -(-self.nu // self.chunk)) * self.chunk

    @property
    def sv(self) -> int:
        return max(1, -(-self.nv // self.chunk)) * self.chunk

    @property
    def packed(self) -> int:
        """The ``CH`` constexpr: one 32-bit descriptor per chunk."""
        out = 0
        for c, (kind, first) in enumerate(self.descriptors):
            bits = pb = 0
            if kind >= 3:
                tap = self.taps[kind - 3]
                bits, pb = tap.bits, tap.pb
            out |= (kind | first << 4 | bits << 16 | pb << 20) << (_CH_BITS * c)
        return out


def _interleave(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Labels of ``tl.reshape(tl.join(a, b), [B, 2W])``: a's column j at 2j, b's at 2j + 1."""
    return np.stack([a, b], axis=-1).reshape(-1)


def _tree_order(labels: np.ndarray) -> np.ndarray:
    """Column labels of a chunk's in-thread join tree (``_lat4`` / ``_lat8``, ``_sep4``, ...) over ``labels``."""
    if len(labels) == 1:
        return labels
    half = len(labels) // 2
    return _interleave(_tree_order(labels[:half]), _tree_order(labels[half:]))


def _join_order(leaves: list[np.ndarray]) -> np.ndarray:
    """Column labels after the kernel's join tree (``_inputs``) over chunks labelled ``leaves``."""
    join = _interleave

    def tree(lo: int, n: int) -> np.ndarray:
        return leaves[lo] if n == 1 else join(tree(lo, n // 2), tree(lo + n // 2, n // 2))

    n = len(leaves)
    x = leaves[0]
    size = 1
    while size < n:  # _inputs: x = join(x, tree of the next `size` chunks)
        x = join(x, tree(size, size))
        size *= 2
    return x


def _plan(asset: NeuralTextureAsset, chunk: int | None = None) -> _Plan:
    q = asset.decoder.quantized
    taps = []
    for g, _ in asset.taps[0]:
        grid = asset.grids[g]
        if not 1 <= grid.bits <= 8:
            raise ValueError(f"grid {grid.name!r}: {grid.bits}-bit codes (the fused decode takes 1 to 8 bits)")
        pb = _pow2(grid.bits)
        taps.append(_Tap(g, grid.features, grid.bits, pb, -(-grid.features // (32 // pb))))
    terms = len(q.period_log2) if asset.encoding.kind != "none" else 0
    lod = asset.lod_inputs is not None
    nu, nv = terms + (1 if lod else 0), terms
    # chunk width 4 or 8, at most the codes per word (a chunk reads one word per corner): the fewest padded
    # columns, then fewer chunks
    fpw = min(32 // t.pb for t in taps)
    options = []
    for s in (chunk,) if chunk else (4, 8):
        n = sum(-(-t.features // s) for t in taps) + -(-nu // s) + -(-nv // s)
        nch = max(_pow2(n), -(-32 // s))   # int8 dot: K >= 32
        if s in (4, 8) and s <= fpw and nch <= MAX_CHUNKS:
            options.append((nch * s, -s, nch))
    if not options:
        raise ValueError(f"decoder of {q.inputs} inputs: no input chunk width {'4 or 8' if chunk is None else chunk} "
                         f"(4 or 8, at most the {fpw} codes per word) gives at most {MAX_CHUNKS} chunks")
    _, neg_s, nch = min(options)
    s = -neg_s
    # decoder input index of every input: taps' features, then per term u, v, then the LOD input
    n_lat = sum(t.features for t in taps)
    descriptors: list[tuple[int, int]] = []
    leaves: list[np.ndarray] = []
    base = 0
    for t, tap in enumerate(taps):
        for f0 in range(0, tap.features, s):
            f = f0 + np.arange(s)
            descriptors.append((3 + t, f0))
            leaves.append(_tree_order(np.where(f < tap.features, base + f, -1)))
        base += tap.features
    u_index = [n_lat + 2 * k for k in range(terms)] + ([n_lat + 2 * terms] if lod else [])
    v_index = [n_lat + 2 * k + 1 for k in range(terms)]
    for kind, index in ((1, u_index), (2, v_index)):
        for e0 in range(0, len(index), s):
            descriptors.append((kind, e0))
            leaves.append(_tree_order(np.array([index[i] if i < len(index) else -1 for i in range(e0, e0 + s)])))
    while len(descriptors) < nch:
        descriptors.append((0, 0))
        leaves.append(np.full(s, -1))
    order = _join_order(leaves)
    assert sorted(int(i) for i in order if i >= 0) == list(range(q.inputs))
    return _Plan(tuple(taps), terms, lod, s, tuple(descriptors), order)


def _pack_codes(codes: np.ndarray, pb: int) -> np.ndarray:
    """Codes (h, w, F) uint8 -> int32 words (h * w * words,): code f in word f // (32 / pb), bit (f % (32 / pb)) pb."""
    h, w, f = codes.shape
    per = 32 // pb
    nw = -(-f // per)
    c = np.zeros((h, w, nw * per), dtype=np.uint32)
    c[..., :f] = codes
    c = c.reshape(h, w, nw, per) << (np.arange(per, dtype=np.uint32) * pb)
    return np.bitwise_or.reduce(c, axis=-1).reshape(-1).view(np.int32)


def _decoder_buffers(asset: NeuralTextureAsset, plan: _Plan) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """int8 weights (each layer transposed to (K, N), zero-padded) and int32 ``[M, C, sh]`` per layer.

    Layer ``l > 0`` sees ``a - 128`` (int8) for the activation ``a``: its bias becomes ``b + 128 rowsum(W)``.
    With ``A`` the accumulator bound check_overflow uses (``|b| + sum |W| xmax``, xmax 255 after layer 0),
    ``|W (a - 128)| <= 128 sum |W| <= A`` and ``|b'| <= A``, so ``|acc| M``, ``|b'| M + 2^(sh-1)`` and their sum
    (the true ``acc M + 2^(sh-1)``) all stay below 2^31: int32 throughout, no wrap-around.
    """
    q = asset.decoder.quantized
    layers = q.layers
    nl = len(layers)
    kp = len(plan.order)
    hp = max(32, _pow2(max(l.outputs for l in layers[:-1]))) if nl > 1 else 0
    np_ = max(16, _pow2(layers[-1].outputs))
    pw = max(hp, np_)
    weights, params = [], []
    for i, layer in enumerate(layers):
        k_pad = kp if i == 0 else hp
        n_pad = np_ if i == nl - 1 else hp
        w = layer.weight.astype(np.int64)          # (out, in)
        wt = np.zeros((k_pad, n_pad), dtype=np.int8)
        if i == 0:
            cols = plan.order
            live = cols >= 0
            wt[np.flatnonzero(live), :layer.outputs] = w[:, cols[live]].T
        else:
            wt[:layer.inputs, :layer.outputs] = w.T
        weights.append(wt.reshape(-1))
        b = layer.bias.astype(np.int64)
        if i > 0:
            b = b + 128 * w.sum(axis=1)
        m = layer.multiplier.astype(np.int64)
        sh = layer.shift.astype(np.int64)
        c = b * m + (np.int64(1) << (sh - 1))
        if np.abs(c).max(initial=0) >= 2**31:
            raise ValueError(f"quantized decoder layer {i}: folded bias overflows int32")
        p = np.zeros((3, pw), dtype=np.int64)
        p[2] = 1
        p[0, :layer.outputs], p[1, :layer.outputs], p[2, :layer.outputs] = m, c, sh
        params.append(p.reshape(-1))
    dims = {"NL": nl, "N0": np_ if nl == 1 else hp, "HP": hp, "NP": np_, "PW": pw}
    return np.concatenate(weights), np.concatenate(params).astype(np.int32), dims


# --------------------------------------------------------------------------- public API


class FusedTextureDecoder:
    """An ``exact``-mode asset uploaded once (packed codes, decoder) for repeated whole-mip decodes.

    Tuning (the bytes never change): ``block`` texels per tile (a power of two >= 16), tiles
    ``min(block, tile_width)`` wide; ``programs_per_sm`` persistent programs per multiprocessor (0: one program
    per tile); ``num_warps`` per program; ``num_stages`` Triton's pipelining depth; ``maxnreg`` a register cap
    per thread (None: the compiler's choice); ``chunk`` decoder input columns per chunk (4 or 8, at most the codes
    per 32-bit word; None: the least padding); ``asm`` requantize with PTX ``cvt.pack.sat`` (None: on CUDA; the
    interpreter takes the min/max form, which gives the same bytes).
    """

    def __init__(self, asset: NeuralTextureAsset, device: str | torch.device = "cuda", *, block: int = 128,
                 tile_width: int = 64, programs_per_sm: int = 8, num_warps: int = 4, num_stages: int = 1,
                 maxnreg: int | None = None, chunk: int | None = None, asm: bool | None = None) -> None:
        if asset.decode_mode != "exact" or asset.decoder.quantized is None:
            raise ValueError(f"asset {asset.name!r} is in decode mode {asset.decode_mode!r}, not 'exact'")
        self.device = torch.device(device)
        if self.device.type == "cuda" and self.device.index is None:
            self.device = torch.device("cuda", torch.cuda.current_device() if torch.cuda.is_available() else 0)
        if not triton_available(self.device):
            raise RuntimeError(f"the fused decode needs Triton and a CUDA device (or the CPU under "
                               f"TRITON_INTERPRET=1); got device {self.device}")
        if block < 16 or block & (block - 1) or tile_width < 1 or tile_width & (tile_width - 1):
            raise ValueError(f"block ({block}) and tile_width ({tile_width}) must be powers of two, block >= 16")
        self.asset = asset
        self.block, self.tile_width, self.num_warps, self.num_stages = block, tile_width, num_warps, num_stages
        self.programs_per_sm = programs_per_sm
        self.launch_options = {} if maxnreg is None else {"maxnreg": int(maxnreg)}
        self.asm = self.device.type == "cuda" if asm is None else bool(asm)
        if self.asm and self.device.type != "cuda":
            raise ValueError("asm=True needs a CUDA device (the interpreter runs no PTX)")
        self.plan = _plan(asset, chunk)
        words, self._offsets = [], {}
        at = 0
        for g in sorted({t.grid for t in self.plan.taps}):
            grid = asset.grids[g]
            pb = _pow2(grid.bits)
            for lv, codes in enumerate(grid.levels):
                self._offsets[(g, lv)] = at
                packed = _pack_codes(codes, pb)
                words.append(packed)
                at += packed.size
        if at >= 2**31:
            raise ValueError(f"asset {asset.name!r}: latent codes exceed 2^31 words")
        self.words = torch.from_numpy(np.concatenate(words)).to(self.device)
        wbuf, qbuf, self._dims = _decoder_buffers(asset, self.plan)
        self.weights = torch.from_numpy(wbuf).to(self.device)
        self.params = torch.from_numpy(qbuf).to(self.device)
        self._tables: dict[int, tuple[torch.Tensor, ...]] = {}

    def tables(self, mip: int) -> tuple[torch.Tensor, ...]:
        """Mip ``mip``'s per-column and per-row tables on the device (built once, then cached).

        int32 (W_m, 3 taps) per tap ``x0 * words``, ``x1 * words``, ``wx``, and (H_m, 3 taps) per tap
        ``offset + y0 * w_t * words``, the same for ``y1``, ``wy`` (spec step 1, through runtime_ref); int32
        (W_m, su) the column inputs (the encoding's u terms, then the LOD input) and (H_m, sv) the row inputs
        (its v terms), spec step 3, zero-padded to whole chunks.
        """
        if mip in self._tables:
            return self._tables[mip]
        a, p = self.asset, self.plan
        w, h = a.mip_size(mip)
        address = a.sampler.address
        cols: list[np.ndarray] = []
        rows: list[np.ndarray] = []
        for t, (g, lv) in enumerate(a.taps[mip]):
            gw, gh = a.tap_size(mip, t)
            nw = p.taps[t].words
            x = ni.mip_positions(w, gw)
            y = ni.mip_positions(h, gh)
            if t == 0:
                x_first, y_first, w0, h0 = x, y, gw, gh
            x0, x1, wx = ni.axis_taps(x, gw, address)
            y0, y1, wy = ni.axis_taps(y, gh, address)
            off = self._offsets[(g, lv)]
            cols += [x0 * nw, x1 * nw, wx]
            rows += [off + y0 * gw * nw, off + y1 * gw * nw, wy]
        ct, rt = np.stack(cols, axis=1), np.stack(rows, axis=1)
        if min(ct.min(), rt.min()) < 0 or max(ct.max(), rt.max()) >= 2**31:
            raise ValueError(f"mip {mip}: texel offsets exceed int32")
        cs = np.zeros((w, p.su), dtype=np.int32)
        rs = np.zeros((h, p.sv), dtype=np.int32)
        if p.terms:
            q = a.decoder.quantized
            eu = ni.encoding_position(x_first, w0, address)
            ev = ni.encoding_position(y_first, h0, address)
            cs[:, :p.terms] = ni.encoding_inputs(eu, eu, q.period_log2, q.phase)[:, 0::2]
            rs[:, :p.terms] = ni.encoding_inputs(ev, ev, q.period_log2, q.phase)[:, 0::2]
        if p.lod:
            cs[:, p.terms] = a.lod_inputs[mip]
        out = tuple(torch.from_numpy(np.ascontiguousarray(x)).to(self.device)
                    for x in (ct.astype(np.int32), rt.astype(np.int32), cs, rs))
        self._tables[mip] = out
        return out

    def decode_mip(self, mip: int = 0, out: torch.Tensor | None = None) -> torch.Tensor:
        """Decode texture mip ``mip`` -> uint8 (H_m, W_m, C) on the device, as runtime_ref's decode_mip."""
        a, p = self.asset, self.plan
        if not 0 <= mip < a.mip_levels:
            raise ValueError(f"mip {mip} out of range (asset has {a.mip_levels})")
        w, h = a.mip_size(mip)
        c = a.decoder.outputs
        if out is None:
            out = torch.empty((h, w, c), dtype=torch.uint8, device=self.device)
        elif out.shape != (h, w, c) or out.dtype != torch.uint8 or out.device != self.device or \
                not out.is_contiguous():
            raise ValueError(f"out must be a contiguous uint8 ({h}, {w}, {c}) tensor on {self.device}")
        ct, rt, cs, rs = self.tables(mip)
        tw = min(self.tile_width, self.block, _pow2(w))
        th = self.block // tw
        tiles_x = -(-w // tw)
        n_tiles = tiles_x * -(-h // th)
        programs = n_tiles
        if self.programs_per_sm and self.device.type == "cuda":
            sms = torch.cuda.get_device_properties(self.device).multi_processor_count
            programs = min(n_tiles, sms * self.programs_per_sm)
        d = self._dims
        _decode_kernel[(programs,)](
            self.words, ct, rt, cs, rs, self.weights, self.params, out, w, h, tiles_x, n_tiles,
            CH=p.packed, NCH=len(p.descriptors), PT=3 * len(p.taps), SU=p.su, SV=p.sv, S=p.chunk, NL=d["NL"],
            N0=d["N0"], HP=d["HP"], NP=d["NP"], PW=d["PW"], C=c, TW=tw, TH=th, num_warps=self.num_warps,
            num_stages=self.num_stages, ASM=self.asm, **self.launch_options)
        return out


def decode_mip_fused(asset: NeuralTextureAsset, mip: int = 0, device: str | torch.device = "cuda") -> torch.Tensor:
    """Decode texture mip ``mip`` of an ``exact``-mode ``asset`` with the fused kernel -> uint8 (H_m, W_m, C) on
    ``device``; the bytes of ngsdk.runtime_ref.neural_texture_exact.decode_mip. Raises ValueError for other
    decode modes and mips out of range. For repeated decodes keep a :class:`FusedTextureDecoder`."""
    if asset.decode_mode != "exact" or asset.decoder.quantized is None:
        raise ValueError(f"asset {asset.name!r} is in decode mode {asset.decode_mode!r}, not 'exact'")
    if not 0 <= mip < asset.mip_levels:
        raise ValueError(f"mip {mip} out of range (asset has {asset.mip_levels})")
    return FusedTextureDecoder(asset, device).decode_mip(mip)

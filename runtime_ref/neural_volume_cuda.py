"""The ``exact`` neural-volume decode as one fused CUDA kernel (CuPy RawKernel, compiled by NVRTC).

One thread decodes one point: the brick-local mapping, every grid's transform, fixed-point trilinear
weights and integer sums (unorm8) or the fixed-order float32 sum (float16), then the decoder MLP. It
implements docs/decode-spec.md ("Volumes") step for step with correctly rounded float32 operations
(``__fmul_rn``/``__fadd_rn``: no contraction into FMA), so its output equals
:func:`ngsdk.runtime_ref.neural_volume.decode_points` in ``exact`` mode bit for bit. The network's sizes
are compiled in (one kernel per brick configuration, cached).

Two schedules of the same arithmetic:

- ``block`` (default): persistent blocks load the decoder's weights into shared memory once, each stored
  input-major so one 16-byte broadcast load feeds four outputs; every thread keeps the current layer's
  outputs in registers (fully unrolled over outputs) and its previous layer's values in its own column of
  a shared activation buffer, read one input at a time. Per multiply-add: one FMUL, one FADD and a quarter
  of a shared load, with each output's sum still taken in ascending input order. Tuned by default: each grid's
  8 corner loads issued before its sums, two grids at a time (``prefetch``), the input loop not unrolled and
  ``__launch_bounds__(128, 3)``, so 167 registers and 3 blocks (12 warps) fit on an SM instead of 2.
- ``thread``: the first kernel, weights in constant memory indexed by a loop counter (one constant-cache
  load per multiply-add) and the activation arrays in local memory; kept as the benchmark's baseline.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ngsdk.asset.neural_volume import NeuralVolumeAsset, VolumeBrick, local_transform, select_bricks

# one grid's gather: the 8 corners' indices clamped into the grid and all their loads issued before any sum (loads
# in flight hide the L2 latency of random points; with an even feature count two features per load); a corner
# outside the grid contributes nothing: a zero integer weight, or the float sum keeping its value. The sums run in
# the spec's order, so the result is NumPy's bit for bit.
_GATHER = r"""
        TEXEL_T v[8][F];
        bool ok[8];
        {
            int xs[2] = {min(max(ix, 0), r[0] - 1), min(max(ix + 1, 0), r[0] - 1)};
            int ys[2] = {min(max(iy, 0), r[1] - 1), min(max(iy + 1, 0), r[1] - 1)};
            int zs[2] = {min(max(iz, 0), r[2] - 1), min(max(iz + 1, 0), r[2] - 1)};
            bool bx[2] = {ix >= 0 && ix < r[0], ix + 1 >= 0 && ix + 1 < r[0]};
            bool by[2] = {iy >= 0 && iy < r[1], iy + 1 >= 0 && iy + 1 < r[1]};
            bool bz[2] = {iz >= 0 && iz < r[2], iz + 1 >= 0 && iz + 1 < r[2]};
            #pragma unroll
            for (int c = 0; c < 8; ++c) {
                int dx = c & 1, dy = (c >> 1) & 1, dz = c >> 2;
                ok[c] = bx[dx] && by[dy] && bz[dz];
                long long idx = (((long long)zs[dz] * r[1] + ys[dy]) * r[0] + xs[dx]) * F;
#if F % 2 == 0
                // feature pairs in one load: every grid starts at an even element (F is even) and the
                // texel array is aligned, so the pair is aligned; the lower address is the low half
#if UNORM8
                const unsigned short* t2 = reinterpret_cast<const unsigned short*>(tex + idx);
                #pragma unroll
                for (int f = 0; f < F / 2; ++f) {
                    unsigned short u = __ldg(t2 + f);
                    v[c][2 * f] = (TEXEL_T)(u & 255);
                    v[c][2 * f + 1] = (TEXEL_T)(u >> 8);
                }
#else
                const unsigned int* t2 = reinterpret_cast<const unsigned int*>(tex + idx);
                #pragma unroll
                for (int f = 0; f < F / 2; ++f) {
                    unsigned int u = __ldg(t2 + f);
                    v[c][2 * f] = (TEXEL_T)(u & 65535u);
                    v[c][2 * f + 1] = (TEXEL_T)(u >> 16);
                }
#endif
#else
                #pragma unroll
                for (int f = 0; f < F; ++f) v[c][f] = __ldg(tex + idx + f);
#endif
            }
        }
#if UNORM8
        int s_tot[F]; int w_tot = 0;
        for (int f = 0; f < F; ++f) s_tot[f] = 0;
        #pragma unroll
        for (int dz = 0; dz < 2; ++dz) {
            int s_z[F]; int w_z = 0;
            for (int f = 0; f < F; ++f) s_z[f] = 0;
            #pragma unroll
            for (int dy = 0; dy < 2; ++dy) {
                int wyy = dy ? wy : 256 - wy;
                #pragma unroll
                for (int dx = 0; dx < 2; ++dx) {
                    int c = 4 * dz + 2 * dy + dx;
                    int wxy = ok[c] ? (dx ? wx : 256 - wx) * wyy : 0;
                    #pragma unroll
                    for (int f = 0; f < F; ++f) s_z[f] += wxy * (int)v[c][f];
                    w_z += wxy;
                }
            }
            int wzz = dz ? wz : 256 - wz;
            for (int f = 0; f < F; ++f) s_tot[f] += (s_z[f] >> 8) * wzz;
            w_tot += (w_z >> 8) * wzz;
        }
        float sc = __ldg(deq + 2 * g), of = __ldg(deq + 2 * g + 1);
        float wo = __fmul_rn((float)w_tot, of);
        for (int f = 0; f < F; ++f) X(g * F + f) = __fadd_rn(__fmul_rn((float)s_tot[f], sc), wo);
#else
        float acc[F];
        for (int f = 0; f < F; ++f) acc[f] = 0.0f;
        #pragma unroll
        for (int dz = 0; dz < 2; ++dz) {
            float wzz = (float)(dz ? wz : 256 - wz);
            #pragma unroll
            for (int dy = 0; dy < 2; ++dy) {
                int wyy = dy ? wy : 256 - wy;
                #pragma unroll
                for (int dx = 0; dx < 2; ++dx) {
                    int c = 4 * dz + 2 * dy + dx;
                    float w = __fmul_rn((float)((dx ? wx : 256 - wx) * wyy), wzz);
                    #pragma unroll
                    for (int f = 0; f < F; ++f) {
                        float t = __fadd_rn(acc[f], __fmul_rn(w, half_bits_to_float(v[c][f])));
                        acc[f] = ok[c] ? t : acc[f];
                    }
                }
            }
        }
        for (int f = 0; f < F; ++f) X(g * F + f) = __fmul_rn(acc[f], 5.9604644775390625e-8f);
#endif
"""

_SOURCE = r"""
// float16 texels arrive as their bit patterns: PTX converts them (exactly), so NVRTC needs no CUDA headers;
// the host build of the tests (tests/unit/test_volume_cuda_kernel.py) uses its own exact conversion
#ifdef __CUDA_ARCH__
__device__ __forceinline__ float half_bits_to_float(unsigned short h) {{
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
}}
#endif
#define G {G}
#define F {F}
#define K {K}
#define UNORM8 {UNORM8}
typedef {TEXEL} TEXEL_T;
{LAYER_DEFS}
{PRELUDE}

__device__ __forceinline__ void axis_exact(float q, float h, int* i0, int* w) {{
    float u = __fmul_rn(__fadd_rn(q, 1.0f), h);
    float s = floorf(__fmul_rn(u, 256.0f));
    int big;
    if (isnan(s)) big = -(1 << 30);
    else big = (int)fminf(fmaxf(s, -1073741824.0f), 1073741824.0f);
    *i0 = big >> 8;
    *w = big & 255;
}}

extern "C" __global__ void {BOUNDS}decode(const float* __restrict__ pts, float* __restrict__ out, long long n,
                                  const float* __restrict__ brick,     // scale xyz, offset xyz
                                  const float* __restrict__ xf,        // G x 12 transforms
                                  const int* __restrict__ res,         // G x 3: rx, ry, rz
                                  const float* __restrict__ deq,       // G x 2: scale*2^-16, offset*2^-16
                                  const long long* __restrict__ base,  // G: first element of each grid
                                  const {TEXEL}* __restrict__ texels{EXTRA_ARGS}) {{
{HEAD}
    float p[3];
    for (int a = 0; a < 3; ++a)
        p[a] = __fadd_rn(__fmul_rn(pts[3 * i + a], __ldg(brick + a)), __ldg(brick + 3 + a));
    #pragma unroll {GRID_UNROLL}
    for (int g = 0; g < G; ++g) {{
        const float* t = xf + 12 * g;
        int ix, wx, iy, wy, iz, wz;
        int r[3] = {{__ldg(res + 3 * g), __ldg(res + 3 * g + 1), __ldg(res + 3 * g + 2)}};
        float q[3];
        for (int a = 0; a < 3; ++a) {{
            float v = __fmul_rn(__ldg(t + 4 * a), p[0]);
            v = __fadd_rn(v, __fmul_rn(__ldg(t + 4 * a + 1), p[1]));
            v = __fadd_rn(v, __fmul_rn(__ldg(t + 4 * a + 2), p[2]));
            q[a] = __fadd_rn(v, __ldg(t + 4 * a + 3));
        }}
        axis_exact(q[0], 0.5f * (float)(r[0] - 1), &ix, &wx);
        axis_exact(q[1], 0.5f * (float)(r[1] - 1), &iy, &wy);
        axis_exact(q[2], 0.5f * (float)(r[2] - 1), &iz, &wz);
        const {TEXEL}* tex = texels + __ldg(base + g);
{GATHER}    }}
{MLP}
    out[i] = y > 0.0f ? fminf(y, 1.0f) : 0.0f;
{TAIL}
}}
"""

# the ``thread`` schedule: one point per thread, activations in per-thread arrays, weights in constant memory
_THREAD = {
    "PRELUDE": "__constant__ float CW[{NW}];\n#define X(k) x[k]",
    "EXTRA_ARGS": "",
    "HEAD": "    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;\n    if (i >= n) return;\n"
            "    float x[K];",
    "TAIL": "",
}
# the ``block`` schedule: a grid-stride loop of persistent blocks; weights (layer by layer, input-major, each
# layer's block 16-byte aligned) in shared memory; X(k) is the thread's column of the shared activations
_BLOCK = {
    "PRELUDE": "#define NW {NW}\n#define MAXW {MAXW}\n#define X0(k) act[(k) * blockDim.x + threadIdx.x]\n"
               "#define X1(k) act[(MAXW + (k)) * blockDim.x + threadIdx.x]\n#define X(k) X0(k)",
    "EXTRA_ARGS": ",\n                                  const float* __restrict__ weights",
    "HEAD": """    extern __shared__ float4 smem4[];
    float* sw = reinterpret_cast<float*>(smem4);
    float* act = sw + NW;
    for (int t = threadIdx.x; t < NW; t += blockDim.x) sw[t] = weights[t];
    __syncthreads();
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {{""",
    "TAIL": "    }}",
}


def _mlp_source(sizes: list[tuple[int, int]]) -> tuple[str, str, int]:
    """``thread`` schedule: the decoder as loops over compile-time sizes: (#defines, body, weight count).

    Each output keeps its own accumulator in a register and takes the inputs in ascending order, as the
    spec orders them; the input loop stays a loop (a fully unrolled network overflows the instruction
    cache); weights come from constant memory (every thread of a warp reads the same one).
    """
    defs, body, offset = [], [], 0
    prev = "x"
    for li, (n_out, n_in) in enumerate(sizes):
        last = li == len(sizes) - 1
        defs.append(f"#define W{li} {offset}\n#define B{li} {offset + n_out * n_in}")
        offset += n_out * n_in + n_out
        cur = f"h{li}"
        relu = "" if last else (f"\n    #pragma unroll\n    for (int j = 0; j < {n_out}; ++j) "
                                f"{cur}[j] = {cur}[j] > 0.0f ? {cur}[j] : 0.0f;")
        body.append(f"""    float {cur}[{n_out}];
    #pragma unroll
    for (int j = 0; j < {n_out}; ++j) {cur}[j] = CW[B{li} + j];
    #pragma unroll 2
    for (int k = 0; k < {n_in}; ++k) {{
        float xk = {prev}[k];
        #pragma unroll
        for (int j = 0; j < {n_out}; ++j) {cur}[j] = __fadd_rn({cur}[j], __fmul_rn(CW[W{li} + j * {n_in} + k], xk));
    }}{relu}""")
        prev = cur
    return "\n".join(defs), "\n".join(body) + f"\n    float y = {prev}[0];", offset


def _block_layout(sizes: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """``block`` schedule: per layer (weight offset, row stride, bias offset) in the shared weight array.

    Weights are stored input-major (row ``k`` holds input ``k``'s weight for every output) with rows padded
    to four floats where the layer has four or more outputs, and every block starts 16-byte aligned.
    """
    out, offset = [], 0
    for n_out, n_in in sizes:
        ld = -(-n_out // 4) * 4 if n_out >= 4 else n_out
        bias = -(-(offset + n_in * ld) // 4) * 4
        out.append((offset, ld, bias))
        offset = -(-(bias + n_out) // 4) * 4
    return out


def _block_weights(layers, sizes: list[tuple[int, int]]) -> np.ndarray:
    """The decoder's weights in the ``block`` schedule's shared-memory layout (float32, zero padding)."""
    lay = _block_layout(sizes)
    last_w, last_ld, last_b = lay[-1]
    flat = np.zeros(-(-(last_b + sizes[-1][0]) // 4) * 4, dtype=np.float32)
    for ly, (n_out, n_in), (w, ld, b) in zip(layers, sizes, lay):
        rows = np.zeros((n_in, ld), dtype=np.float32)
        rows[:, :n_out] = ly.weight.astype(np.float32).T
        flat[w:w + n_in * ld] = rows.reshape(-1)
        flat[b:b + n_out] = ly.bias.astype(np.float32)
    return flat


def _block_mlp_source(sizes: list[tuple[int, int]], group: int, unroll: int = 2) -> tuple[str, str, int, bool]:
    """``block`` schedule: (#defines, body, shared weight count, two activation buffers?) for the decoder.

    A pass computes up to ``group`` outputs of a layer in registers (the output loop is unrolled, so indices
    are constants) while the input loop runs over the thread's column of shared activations, reading each
    input once per pass; four weights arrive in one broadcast ``float4`` load. Output ``j`` still takes its
    inputs in ascending order. A layer wider than ``group`` takes several passes and then writes into a
    second activation buffer (its inputs must outlive its first pass). ``unroll``: the input loop's unrolling
    (more weight loads in flight for more registers).
    """
    lay = _block_layout(sizes)
    two = any(n_out > group for n_out, _ in sizes[:-1])
    defs, body = [], []
    src_buf = 0
    for li, ((n_out, n_in), (w, ld, b)) in enumerate(zip(sizes, lay)):
        last = li == len(sizes) - 1
        dst_buf = 1 - src_buf if two else 0
        defs.append(f"#define W{li} {w}\n#define LD{li} {ld}\n#define B{li} {b}")
        for j0 in range(0, n_out, group):
            outs = list(range(j0, min(n_out, j0 + group)))
            cur = f"h{li}_{j0}"
            if ld % 4 == 0:
                lines = []
                for q in range(outs[0] // 4, outs[-1] // 4 + 1):
                    cols = [4 * q + c for c in range(4) if 4 * q + c in outs]
                    if not cols:
                        continue
                    lines.append(f"        w = w4[{q}];")
                    lines += [f"        {cur}[{j - j0}] = __fadd_rn({cur}[{j - j0}], __fmul_rn(w.{'xyzw'[j % 4]}, xk));"
                              for j in cols]
                inner = (f"        const float4* w4 = reinterpret_cast<const float4*>(sw + W{li} + k * LD{li});\n"
                         "        float4 w;\n" + "\n".join(lines))
            else:
                inner = "\n".join(f"        {cur}[{j - j0}] = __fadd_rn({cur}[{j - j0}], "
                                  f"__fmul_rn(sw[W{li} + k * LD{li} + {j}], xk));" for j in outs)
            store = "" if last else (f"\n    #pragma unroll\n    for (int j = 0; j < {len(outs)}; ++j) "
                                     f"X{dst_buf}({j0} + j) = {cur}[j] > 0.0f ? {cur}[j] : 0.0f;")
            body.append(f"""    float {cur}[{len(outs)}];
    #pragma unroll
    for (int j = 0; j < {len(outs)}; ++j) {cur}[j] = sw[B{li} + {j0} + j];
    #pragma unroll {unroll}
    for (int k = 0; k < {n_in}; ++k) {{
        float xk = X{src_buf}(k);
{inner}
    }}{store}""")
        src_buf = dst_buf
    count = -(-(lay[-1][2] + sizes[-1][0]) // 4) * 4
    return "\n".join(defs), "\n".join(body) + f"\n    float y = h{len(sizes) - 1}_0[0];", count, two


_MAX_CONSTANT_WEIGHTS = 15 * 1024
SCHEDULES = ("block", "thread")


def _widest(inputs: int, sizes: tuple[tuple[int, int], ...] | list[tuple[int, int]]) -> int:
    """Rows of one activation buffer: the widest of the network's input and hidden layers."""
    return max([inputs] + [n for n, _ in sizes[:-1]])


def kernel_source(grids: int, features: int, unorm8: bool, sizes: tuple[tuple[int, int], ...],
                  schedule: str = "block", group: int = 64, prefetch: int = 1, block: int = 128,
                  min_blocks: int = 0, unroll: int = 2) -> str:
    """The CUDA source of one brick configuration's decode kernel (entry point ``decode``).

    ``group``: the ``block`` schedule's outputs per pass (registers per thread grow with it); ``prefetch``: the
    grid loop unrolled that many times, so that many grids' corner loads are in flight together (free in
    registers, which the MLP's accumulators bound); ``min_blocks`` > 0
    (``block`` schedule): ``__launch_bounds__(block, min_blocks)``, which caps the registers per thread so that
    many ``block``-thread blocks fit on one SM; ``unroll``: the ``block`` schedule's unrolling of each layer's
    input loop.
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {schedule!r}")
    if unroll < 1:
        raise ValueError(f"unroll must be at least 1, got {unroll}")
    if prefetch < 1:
        raise ValueError(f"prefetch must be at least 1 grid in flight, got {prefetch}")
    if min_blocks < 0:
        raise ValueError(f"min_blocks must be 0 (no launch bounds) or more, got {min_blocks}")
    if schedule == "thread":
        defs, mlp, count = _mlp_source(list(sizes))
        if count > _MAX_CONSTANT_WEIGHTS:
            raise ValueError(f"the 'thread' kernel keeps the decoder in constant memory: {count} weights exceed "
                             f"{_MAX_CONSTANT_WEIGHTS}")
        parts = {k: v.format(NW=count) for k, v in _THREAD.items()}
    else:
        defs, mlp, count, two = _block_mlp_source(list(sizes), group, unroll)
        parts = {k: v.format(NW=count, MAXW=_widest(grids * features, sizes), BUFFERS=2 if two else 1)
                 for k, v in _BLOCK.items()}
    bounds = f"__launch_bounds__({block}, {min_blocks}) " if min_blocks and schedule == "block" else ""
    return _SOURCE.format(G=grids, F=features, K=grids * features, UNORM8=int(unorm8), LAYER_DEFS=defs,
                          TEXEL="unsigned char" if unorm8 else "unsigned short", MLP=mlp, BOUNDS=bounds,
                          GATHER=_GATHER, GRID_UNROLL=prefetch, **parts)


COMPILE_OPTIONS = ("--std=c++14", "-fmad=false")


@lru_cache(maxsize=16)
def _kernel(grids: int, features: int, unorm8: bool, sizes: tuple[tuple[int, int], ...], schedule: str, group: int,
            prefetch: int, block: int, min_blocks: int, unroll: int):
    import cupy as cp

    module = cp.RawModule(code=kernel_source(grids, features, unorm8, sizes, schedule, group, prefetch, block,
                                             min_blocks, unroll), options=COMPILE_OPTIONS)
    return module, module.get_function("decode")


@dataclass
class BrickKernel:
    """One brick's kernel: its compile-time configuration, source and host-side arguments (NumPy arrays in
    the order ``decode`` takes them after ``pts, out, n``; ``weights`` last, for the ``block`` schedule's
    argument or the ``thread`` schedule's constant bank); ``prefetch``, ``block``, ``min_blocks`` and ``unroll`` as in
    :func:`kernel_source`."""

    grids: int
    features: int
    unorm8: bool
    sizes: tuple[tuple[int, int], ...]
    schedule: str
    group: int
    arrays: list[np.ndarray]
    weights: np.ndarray
    prefetch: int = 1
    block: int = 128
    min_blocks: int = 0
    unroll: int = 2

    @property
    def source(self) -> str:
        return kernel_source(self.grids, self.features, self.unorm8, self.sizes, self.schedule, self.group,
                             self.prefetch, self.block, self.min_blocks, self.unroll)

    def shared_bytes(self, block: int) -> int:
        """Dynamic shared memory of one ``block``-thread block (``block`` schedule): weights + activations."""
        buffers = 2 if any(n > self.group for n, _ in self.sizes[:-1]) else 1
        return 4 * (self.weights.size + buffers * _widest(self.grids * self.features, self.sizes) * block)


def brick_kernel(asset: NeuralVolumeAsset, brick: VolumeBrick, schedule: str = "block", group: int = 64,
                 prefetch: int = 1, block: int = 128, min_blocks: int = 0, unroll: int = 2) -> BrickKernel:
    """The kernel configuration and host arguments that decode ``brick`` of ``asset``."""
    feats = {g.features for g in brick.grids}
    storages = {g.storage for g in brick.grids}
    if len(feats) != 1 or len(storages) != 1:
        raise ValueError(f"{brick.name}: the fused kernel needs one feature count and storage for all grids")
    scale, offset = local_transform(asset.shape, brick.fit)
    deq = [(np.float32(np.float64(g.scale) * 2.0**-16), np.float32(np.float64(g.offset) * 2.0**-16))
           for g in brick.grids]
    flat = [np.ascontiguousarray(g.values).reshape(-1) for g in brick.grids]
    arrays = [np.concatenate([scale, offset]).astype(np.float32),
              np.stack([g.transform.reshape(12) for g in brick.grids]).astype(np.float32),
              np.array([g.resolution[::-1] for g in brick.grids], dtype=np.int32),
              np.array(deq, dtype=np.float32),
              np.cumsum([0] + [f.size for f in flat[:-1]]).astype(np.int64),
              np.concatenate(flat)]
    layers = brick.decoder.layers
    sizes = tuple((int(ly.weight.shape[0]), int(ly.weight.shape[1])) for ly in layers)
    if schedule == "thread":
        weights = np.concatenate([np.concatenate([ly.weight.astype(np.float32).reshape(-1),
                                                  ly.bias.astype(np.float32)]) for ly in layers])
    else:
        weights = _block_weights(layers, list(sizes))
    return BrickKernel(len(brick.grids), feats.pop(), storages.pop() == "unorm8", sizes, schedule, group, arrays,
                       weights, prefetch, block, min_blocks, unroll)


class _CudaBrick:
    """One brick's constants on the GPU and its compiled kernel."""

    def __init__(self, asset: NeuralVolumeAsset, brick: VolumeBrick, schedule: str, block: int, group: int,
                 prefetch: int, min_blocks: int, unroll: int):
        import cupy as cp

        k = brick_kernel(asset, brick, schedule, group, prefetch, block, min_blocks, unroll)
        self.schedule, self.block = schedule, block
        self.arrays = [cp.asarray(a) for a in k.arrays]
        self.weights = cp.asarray(k.weights)
        self.module, self.kernel = _kernel(k.grids, k.features, k.unorm8, k.sizes, schedule, group, prefetch, block,
                                           min_blocks, unroll)
        if schedule == "thread":
            self.constant = self.module.get_global("CW")
            return
        self.smem = k.shared_bytes(block)
        dev = cp.cuda.Device()
        limit = dev.attributes["MaxSharedMemoryPerBlockOptin"]
        if self.smem > limit:
            raise ValueError(f"{brick.name}: the decoder's {k.weights.size} weights and a {block}-thread block's "
                             f"activations need {self.smem} bytes of shared memory; this GPU has {limit}")
        self.kernel.max_dynamic_shared_size_bytes = self.smem
        per_sm = cp.cuda.driver.occupancyMaxActiveBlocksPerMultiprocessor(self.kernel.kernel.ptr, block, self.smem)
        self.grid_limit = max(1, per_sm) * dev.attributes["MultiProcessorCount"]

    def __call__(self, pts, out) -> None:
        import cupy as cp

        n = pts.shape[0]
        args = (pts, out, np.int64(n), *self.arrays)
        if self.schedule == "thread":
            # the compiled module (and its constant bank) is shared by bricks of the same shape: load ours
            cp.cuda.runtime.memcpy(self.constant.ptr, self.weights.data.ptr, self.weights.nbytes,
                                   cp.cuda.runtime.memcpyDeviceToDevice)
            self.kernel(((n + 127) // 128,), (128,), args)
            return
        blocks = min(self.grid_limit, (n + self.block - 1) // self.block)
        self.kernel((max(blocks, 1),), (self.block,), args + (self.weights,), shared_mem=self.smem)


class CudaVolumeDecoder:
    """``exact`` decode on the GPU: ``CudaVolumeDecoder(asset)(p)`` equals ``decode_points(asset, p, "exact")``.

    ``p`` may be a NumPy or CuPy float32 array (N, 3); the result is a CuPy float32 array (N,).
    ``schedule`` picks the kernel organisation (``block``, the fast one, or ``thread``, the first kernel kept as
    a baseline); ``block`` sets the threads per block of the ``block`` schedule and ``group`` its outputs per
    pass of a layer; ``prefetch``: grids whose corner loads are in flight together; ``min_blocks`` (> 0) puts
    ``__launch_bounds__(block, min_blocks)`` on the kernel; ``unroll`` unrolls each layer's input loop (see
    :func:`kernel_source`). The defaults are the fastest measured on an H100 (docs/benchmarks.md): 1.53 G
    (tiny) and 1.16 G (medium) points/s, against 1.33 G and 0.78 G for the block schedule before
    this tuning (whose gather branched around each corner's loads).
    """

    def __init__(self, asset: NeuralVolumeAsset, schedule: str = "block", block: int = 128, group: int = 64,
                 prefetch: int = 2, min_blocks: int = 3, unroll: int = 1):
        if schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {schedule!r}")
        if block < 32 or block % 32:
            raise ValueError(f"block must be a positive multiple of 32 threads, got {block}")
        self.asset = asset
        self.schedule = schedule
        if group < 1:
            raise ValueError(f"group must be at least 1 output, got {group}")
        self.bricks = [_CudaBrick(asset, b, schedule, block, group, prefetch, min_blocks, unroll)
                       for b in asset.bricks]

    def __call__(self, p):
        import cupy as cp

        pts = cp.ascontiguousarray(cp.asarray(p, dtype=cp.float32))
        if pts.ndim != 2 or pts.shape[1] != 3:
            raise ValueError(f"points must have shape (N, 3) (x, y, z), got {tuple(pts.shape)}")
        out = cp.empty(pts.shape[0], dtype=cp.float32)
        if len(self.bricks) == 1:
            self.bricks[0](pts, out)
            return out
        sel = cp.asarray(select_bricks(self.asset, cp.asnumpy(pts)))
        for i, brick in enumerate(self.bricks):
            rows = cp.nonzero(sel == i)[0]
            if rows.size:
                part = cp.empty(rows.size, dtype=cp.float32)
                brick(cp.ascontiguousarray(pts[rows]), part)
                out[rows] = part
        return out

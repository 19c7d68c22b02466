"""The ``exact`` neural-volume decode as one fused CUDA kernel (CuPy RawKernel, compiled by NVRTC).

One thread decodes one point: the brick-local mapping, every grid's transform, fixed-point trilinear
weights and integer sums (unorm8) or the fixed-order float32 sum (float16), then the decoder MLP,
all in registers. It implements docs/decode-spec.md ("Volumes") step for step with correctly rounded
float32 operations (``__fmul_rn``/``__fadd_rn``: no contraction into FMA), so its output equals
:func:`ngsdk.runtime_ref.neural_volume.decode_points` in ``exact`` mode bit for bit. The network's sizes
are compiled in (one kernel per brick configuration, cached), the weights are read through the
read-only cache (every thread of a warp reads the same weight at the same time).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ngsdk.asset.neural_volume import NeuralVolumeAsset, VolumeBrick, local_transform, select_bricks

_SOURCE = r"""
#include <cuda_fp16.h>
#define G {G}
#define F {F}
#define K {K}
#define UNORM8 {UNORM8}
{LAYER_DEFS}
__constant__ float CW[{NW}];

__device__ __forceinline__ void axis_exact(float q, float h, int* i0, int* w) {{
    float u = __fmul_rn(__fadd_rn(q, 1.0f), h);
    float s = floorf(__fmul_rn(u, 256.0f));
    int big;
    if (isnan(s)) big = -(1 << 30);
    else big = (int)fminf(fmaxf(s, -1073741824.0f), 1073741824.0f);
    *i0 = big >> 8;
    *w = big & 255;
}}

extern "C" __global__ void decode(const float* __restrict__ pts, float* __restrict__ out, long long n,
                                  const float* __restrict__ brick,     // scale xyz, offset xyz
                                  const float* __restrict__ xf,        // G x 12 transforms
                                  const int* __restrict__ res,         // G x 3: rx, ry, rz
                                  const float* __restrict__ deq,       // G x 2: scale*2^-16, offset*2^-16
                                  const long long* __restrict__ base,  // G: first element of each grid
                                  const {TEXEL}* __restrict__ texels) {{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float p[3];
    for (int a = 0; a < 3; ++a)
        p[a] = __fadd_rn(__fmul_rn(pts[3 * i + a], __ldg(brick + a)), __ldg(brick + 3 + a));
    float x[K];
    #pragma unroll 1
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
#if UNORM8
        int s_tot[F]; int w_tot = 0;
        for (int f = 0; f < F; ++f) s_tot[f] = 0;
        for (int dz = 0; dz < 2; ++dz) {{
            int s_z[F]; int w_z = 0;
            for (int f = 0; f < F; ++f) s_z[f] = 0;
            int z = iz + dz;
            bool okz = z >= 0 && z < r[2];
            for (int dy = 0; dy < 2; ++dy) {{
                int y = iy + dy;
                bool oky = okz && y >= 0 && y < r[1];
                int wyy = dy ? wy : 256 - wy;
                for (int dx = 0; dx < 2; ++dx) {{
                    int xx = ix + dx;
                    if (!(oky && xx >= 0 && xx < r[0])) continue;
                    int wxy = (dx ? wx : 256 - wx) * wyy;
                    long long idx = (((long long)z * r[1] + y) * r[0] + xx) * F;
                    for (int f = 0; f < F; ++f) s_z[f] += wxy * (int)__ldg(tex + idx + f);
                    w_z += wxy;
                }}
            }}
            int wzz = dz ? wz : 256 - wz;
            for (int f = 0; f < F; ++f) s_tot[f] += (s_z[f] >> 8) * wzz;
            w_tot += (w_z >> 8) * wzz;
        }}
        float sc = __ldg(deq + 2 * g), of = __ldg(deq + 2 * g + 1);
        float wo = __fmul_rn((float)w_tot, of);
        for (int f = 0; f < F; ++f) x[g * F + f] = __fadd_rn(__fmul_rn((float)s_tot[f], sc), wo);
#else
        float acc[F];
        for (int f = 0; f < F; ++f) acc[f] = 0.0f;
        for (int dz = 0; dz < 2; ++dz) {{
            int z = iz + dz;
            bool okz = z >= 0 && z < r[2];
            float wzz = (float)(dz ? wz : 256 - wz);
            for (int dy = 0; dy < 2; ++dy) {{
                int y = iy + dy;
                bool oky = okz && y >= 0 && y < r[1];
                int wyy = dy ? wy : 256 - wy;
                for (int dx = 0; dx < 2; ++dx) {{
                    int xx = ix + dx;
                    if (!(oky && xx >= 0 && xx < r[0])) continue;
                    float w = __fmul_rn((float)((dx ? wx : 256 - wx) * wyy), wzz);
                    long long idx = (((long long)z * r[1] + y) * r[0] + xx) * F;
                    for (int f = 0; f < F; ++f)
                        acc[f] = __fadd_rn(acc[f], __fmul_rn(w, __half2float(__ldg(tex + idx + f))));
                }}
            }}
        }}
        for (int f = 0; f < F; ++f) x[g * F + f] = __fmul_rn(acc[f], 5.9604644775390625e-8f);
#endif
    }}
{MLP}
    out[i] = y > 0.0f ? fminf(y, 1.0f) : 0.0f;
}}
"""


def _mlp_source(sizes: list[tuple[int, int]]) -> tuple[str, str, int]:
    """The decoder as fully unrolled loops over compile-time sizes: (#defines, body, weight count).

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


_MAX_CONSTANT_WEIGHTS = 15 * 1024


@lru_cache(maxsize=16)
def _kernel(grids: int, features: int, unorm8: bool, sizes: tuple[tuple[int, int], ...]):
    import cupy as cp

    defs, mlp, count = _mlp_source(list(sizes))
    if count > _MAX_CONSTANT_WEIGHTS:
        raise ValueError(f"the fused kernel keeps the decoder in constant memory: {count} weights exceed "
                         f"{_MAX_CONSTANT_WEIGHTS}")
    src = _SOURCE.format(G=grids, F=features, K=grids * features, UNORM8=int(unorm8), LAYER_DEFS=defs,
                         TEXEL="unsigned char" if unorm8 else "__half", MLP=mlp, NW=count)
    module = cp.RawModule(code=src, options=("--std=c++14", "-fmad=false"))
    return module.get_function("decode"), module.get_global("CW"), count


class _CudaBrick:
    """One brick's constants on the GPU and its compiled kernel."""

    def __init__(self, asset: NeuralVolumeAsset, brick: VolumeBrick):
        import cupy as cp

        feats = {g.features for g in brick.grids}
        storages = {g.storage for g in brick.grids}
        if len(feats) != 1 or len(storages) != 1:
            raise ValueError(f"{brick.name}: the fused kernel needs one feature count and storage for all grids")
        self.features, storage = feats.pop(), storages.pop()
        scale, offset = local_transform(asset.shape, brick.fit)
        self.brick = cp.asarray(np.concatenate([scale, offset]).astype(np.float32))
        self.xf = cp.asarray(np.stack([g.transform.reshape(12) for g in brick.grids]).astype(np.float32))
        self.res = cp.asarray(np.array([g.resolution[::-1] for g in brick.grids], dtype=np.int32))
        deq = [(np.float32(np.float64(g.scale) * 2.0**-16), np.float32(np.float64(g.offset) * 2.0**-16))
               for g in brick.grids]
        self.deq = cp.asarray(np.array(deq, dtype=np.float32))
        flat = [np.ascontiguousarray(g.values).reshape(-1) for g in brick.grids]
        self.base = cp.asarray(np.cumsum([0] + [f.size for f in flat[:-1]]).astype(np.int64))
        self.texels = cp.asarray(np.concatenate(flat))
        layers = brick.decoder.layers
        self.weights = cp.asarray(np.concatenate(
            [np.concatenate([ly.weight.astype(np.float32).reshape(-1), ly.bias.astype(np.float32)]) for ly in layers]))
        sizes = tuple((int(ly.weight.shape[0]), int(ly.weight.shape[1])) for ly in layers)
        self.kernel, self.constant, count = _kernel(len(brick.grids), self.features, storage == "unorm8", sizes)
        assert count == self.weights.size

    def __call__(self, pts, out) -> None:
        import cupy as cp

        # the compiled module (and its constant bank) is shared by bricks of the same shape: load ours
        cp.cuda.runtime.memcpy(self.constant.ptr, self.weights.data.ptr, self.weights.nbytes,
                               cp.cuda.runtime.memcpyDeviceToDevice)
        n = pts.shape[0]
        threads = 128
        self.kernel(((n + threads - 1) // threads,), (threads,),
                    (pts, out, np.int64(n), self.brick, self.xf, self.res, self.deq, self.base, self.texels))


class CudaVolumeDecoder:
    """``exact`` decode on the GPU: ``CudaVolumeDecoder(asset)(p)`` equals ``decode_points(asset, p, "exact")``.

    ``p`` may be a NumPy or CuPy float32 array (N, 3); the result is a CuPy float32 array (N,).
    """

    def __init__(self, asset: NeuralVolumeAsset):
        self.asset = asset
        self.bricks = [_CudaBrick(asset, b) for b in asset.bricks]

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

"""The fused ``exact`` CUDA kernel of neural volumes (ngsdk.runtime_ref.neural_volume_cuda) without a GPU.

Two checks that need no CUDA device:

- the kernel's own source, built for the host with a small shim (CUDA qualifiers and intrinsics mapped to their
  IEEE float32 meaning, no FMA contraction, one thread that walks every point), decodes bit for bit like
  runtime_ref's NumPy ``exact`` decode; with one thread the ``block`` schedule's thread loads all the weights
  itself, so its barrier has nothing to wait for. Each of the two schedules and several pass widths run on
  trained and random assets (unorm8 and float16 grids, 1-4 features, non-cubic grids, rotated transforms,
  a layer wider than a pass, a decoder that is a single linear layer, NaN/inf/outside points);
- NVRTC compiles every source for sm_90 (where the NVRTC library is installed, as in CI), and the ``block``
  schedule of the tiny and medium presets needs no local memory (no spills, no stack arrays).

The GPU run of the same kernels (tools/bench_volume_decode.py) checks them against NumPy bit for bit again.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from ngsdk.asset.neural_volume import (
    NeuralVolumeAsset,
    Normalization,
    VolumeBrick,
    VolumeGrid,
    select_bricks,
    voxel_positions,
)
from ngsdk.asset.types import Decoder, DecoderLayer, Provenance
from ngsdk.runtime_ref.neural_volume import decode_points
from ngsdk.runtime_ref.neural_volume_cuda import COMPILE_OPTIONS, BrickKernel, brick_kernel, kernel_source

SHIM = r"""
#include <math.h>
#include <cmath>
#include <cstring>
#include <algorithm>
using std::isnan;
using std::max;
using std::min;
#define __launch_bounds__(threads, blocks)
#define __global__
#define __device__
#define __forceinline__ inline
#define __constant__
#define __shared__
#define __restrict__
struct float4 { float x, y, z, w; };
struct Index3 { unsigned x = 0, y = 0, z = 0; };
static Index3 threadIdx, blockIdx, blockDim, gridDim;
template <class T> static inline T __ldg(const T* p) { return *p; }
static inline float __fadd_rn(float a, float b) { return a + b; }
static inline float __fmul_rn(float a, float b) { return a * b; }
static inline void __syncthreads() {}
static inline float half_bits_to_float(unsigned short h) {
    int e = (h >> 10) & 31, m = h & 1023;
    float v = e == 0 ? std::ldexp((float)m, -24)
            : e == 31 ? (m ? NAN : INFINITY) : std::ldexp((float)(m | 1024), e - 25);
    return (h >> 15) ? -v : v;
}
alignas(16) float4 smem4[1 << 16];
"""

RUNNER = r"""
extern "C" void run(const float* pts, float* out, long long n, const float* brick, const float* xf, const int* res,
                    const float* deq, const long long* base, const void* texels, const float* weights, int nw) {
    typedef {TEXEL} texel_t;
    blockDim.x = 1;
{BODY}
}
"""
THREAD_BODY = """    std::memcpy(CW, weights, sizeof(float) * nw);
    gridDim.x = (unsigned)n;
    for (long long b = 0; b < n; ++b) {
        blockIdx.x = (unsigned)b;
        decode(pts, out, n, brick, xf, res, deq, base, (const texel_t*)texels);
    }"""
BLOCK_BODY = """    gridDim.x = 1;
    decode(pts, out, n, brick, xf, res, deq, base, (const texel_t*)texels, weights);"""


def host_kernel(k: BrickKernel, tmp: Path):
    """The kernel's source compiled for the host as a shared library: ``run(...)`` decodes points."""
    body = THREAD_BODY if k.schedule == "thread" else BLOCK_BODY
    code = SHIM + k.source + RUNNER.replace("{TEXEL}", "unsigned char" if k.unorm8 else "unsigned short") \
        .replace("{BODY}", body)
    src = tmp / f"kernel_{abs(hash(code))}.cpp"
    lib = src.with_suffix(".so")
    src.write_text(code)
    cmd = ["g++", "-std=c++14", "-O1", "-ffp-contract=off", "-fno-fast-math", "-Wno-unknown-pragmas", "-shared",
           "-fPIC", str(src), "-o", str(lib)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return ctypes.CDLL(str(lib))


def host_decode(asset: NeuralVolumeAsset, p: np.ndarray, schedule: str, group: int, tmp: Path,
                **tuning) -> np.ndarray:
    """Decode ``p`` brick by brick with the host build of each brick's kernel (``tuning``: ``prefetch``,
    ``min_blocks``, ``unroll`` of :func:`brick_kernel`)."""
    out = np.zeros(p.shape[0], dtype=np.float32)
    sel = select_bricks(asset, p)
    for bi, brick in enumerate(asset.bricks):
        rows = np.nonzero(sel == bi)[0]
        if not rows.size:
            continue
        k = brick_kernel(asset, brick, schedule, group, **tuning)
        lib = host_kernel(k, tmp)
        pts = np.ascontiguousarray(p[rows], dtype=np.float32)
        part = np.zeros(rows.size, dtype=np.float32)
        arrays = [np.ascontiguousarray(a) for a in k.arrays]
        weights = np.ascontiguousarray(k.weights, dtype=np.float32)
        ptr = [a.ctypes.data_as(ctypes.c_void_p) for a in [pts, part, *arrays, weights]]
        lib.run(ptr[0], ptr[1], ctypes.c_longlong(rows.size), *ptr[2:8], ptr[8], ctypes.c_int(weights.size))
        out[rows] = part
    return out


rng = np.random.default_rng(17)


def _transform(spread: float = 0.15) -> np.ndarray:
    q = rng.normal(size=4)
    w, x, y, z = q / np.linalg.norm(q)
    rot = np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                    [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                    [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])
    a = rot * rng.uniform(0.6, 1.3, 3)[:, None] + rng.uniform(-spread, spread, (3, 3))
    return np.concatenate([a, rng.uniform(-0.3, 0.3, (3, 1))], axis=1).astype(np.float32)


def _grid(name: str, res: tuple[int, int, int], features: int, storage: str) -> VolumeGrid:
    if storage == "unorm8":
        return VolumeGrid(name, _transform(), "unorm8", rng.integers(0, 256, (*res, features), dtype=np.uint8),
                          scale=float(np.float32(2 / 255)), offset=-1.0)
    return VolumeGrid(name, _transform(), "float16", rng.uniform(-1, 1, (*res, features)).astype(np.float16))


def _decoder(widths: list[int]) -> Decoder:
    layers = []
    for i, (a, b) in enumerate(zip(widths, widths[1:])):
        last = i == len(widths) - 2
        w = rng.normal(0, (0.5 if last else np.sqrt(2.0)) / np.sqrt(a), (b, a)).astype(np.float32)
        bias = (np.full(b, 0.5) if last else rng.normal(0, 0.1, b)).astype(np.float32)
        layers.append(DecoderLayer(w, bias, "none" if last else "relu"))
    return Decoder(layers)


def _asset(name: str, shape: tuple[int, int, int], bricks: list[VolumeBrick]) -> NeuralVolumeAsset:
    return NeuralVolumeAsset(name, shape, Normalization(0.0, 1.0, "<f4"), bricks, Provenance(ngsdk_version="test"),
                             decode_mode="exact")


def _random_assets() -> dict[str, NeuralVolumeAsset]:
    box = (0, 14, 0, 12, 0, 16)
    medium = VolumeBrick("brick000", box, box, [_grid(f"g{i:02d}", (32, 32, 32), 2, "unorm8") for i in range(16)],
                         _decoder([32, 64, 64, 1]))
    wide = VolumeBrick("brick000", box, box, [_grid(f"g{i}", (5, 7, 9), 3, "float16") for i in range(4)],
                       _decoder([12, 72, 40, 17, 1]))
    b0 = VolumeBrick("brick000", (0, 9, 0, 10, 0, 7), (0, 9, 0, 10, 0, 9),
                     [_grid(f"g{i}", (6, 4, 3), 4, "unorm8") for i in range(3)], _decoder([12, 24, 1]))
    b1 = VolumeBrick("brick001", (0, 9, 0, 10, 7, 12), (0, 9, 0, 10, 5, 12),
                     [_grid(f"g{i}", (3, 3, 11), 1, "float16") for i in range(3)], _decoder([3, 1]))
    pairs = VolumeBrick("brick000", box, box, [_grid(f"g{i}", (6, 9, 5), 2, "float16") for i in range(5)],
                        _decoder([10, 20, 1]))
    return {"medium-shaped unorm8": _asset("medium", (14, 12, 16), [medium]),
            "float16, 2 features (paired loads)": _asset("pairs", (14, 12, 16), [pairs]),
            "float16, 3 features, 72-wide layer": _asset("wide", (14, 12, 16), [wide]),
            "two bricks, linear decoder": _asset("two", (9, 10, 12), [b0, b1])}


def _points(asset: NeuralVolumeAsset, n: int) -> np.ndarray:
    p = rng.random((n, 3)) * 2.6 - 1.3
    d, h, w = asset.shape
    vox = np.stack([rng.choice(voxel_positions(w), 64), rng.choice(voxel_positions(h), 64),
                    rng.choice(voxel_positions(d), 64)], axis=1)
    special = [[np.nan, 0, 0], [0.1, np.inf, -0.2], [-np.inf, 0.3, 0.3], [1, 1, 1], [-1, -1, -1], [0, 0, 0],
               [1.0, -1.0, 0.5], [7.0, 0.2, -9.0]]
    return np.concatenate([p, vox, special]).astype(np.float32)


@pytest.fixture(scope="module")
def assets(shared_data: Path) -> dict[str, NeuralVolumeAsset]:
    pytest.importorskip("torch")
    from ngsdk.volumes.config import VolumeTrainConfig
    from ngsdk.volumes.ingest import VolumeData, load_volume
    from ngsdk.volumes.train import train_volume

    vol = load_volume(shared_data / "volumes" / "ironProt_zyx_68x68x68_uint8.npy")
    crop = VolumeData(name="iron_crop", values=np.ascontiguousarray(vol.values[20:40, 22:40, 18:42]),
                      normalization=vol.normalization, source=vol.source)
    out = {}
    for storage in ("unorm8", "float16"):
        cfg = VolumeTrainConfig(steps=12, eval_every=12, device="cpu", storage=storage, batch_size=4096, seed=0,
                                decode_mode="exact").apply_preset("tiny")
        out[f"tiny {storage} (trained)"] = train_volume(crop, cfg).asset
    return out | _random_assets()


@pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++ to build the kernel source for the host")
@pytest.mark.parametrize("schedule,group,tuning", [
    ("block", 64, {}), ("block", 32, {}), ("block", 5, {}), ("thread", 64, {}),
    ("block", 64, {"prefetch": 2, "unroll": 1, "min_blocks": 3}), ("block", 5, {"prefetch": 1}),
    ("thread", 64, {"prefetch": 3})])
def test_host_build_of_the_kernel_decodes_like_numpy(assets, schedule: str, group: int, tuning: dict,
                                                     tmp_path: Path) -> None:
    for name, asset in assets.items():
        p = _points(asset, 1500)
        want = decode_points(asset, p, "exact")
        got = host_decode(asset, p, schedule, group, tmp_path, **tuning)
        differ = np.nonzero(got.view(np.uint32) != want.view(np.uint32))[0]
        assert differ.size == 0, (name, differ[:5], got[differ[:5]], want[differ[:5]])
        assert want.std() > 0.01, name        # a decode that varies: the comparison means something


def test_block_layout_pads_rows_and_aligns_every_layer() -> None:
    k = brick_kernel(*((a := _random_assets()["float16, 3 features, 72-wide layer"]), a.bricks[0]), "block", 32)
    assert k.weights.size % 4 == 0
    assert k.sizes == ((72, 12), (40, 72), (17, 40), (1, 17))
    # two activation buffers (a 72-wide layer takes three 32-output passes) of 72 rows: weights + 2 x 72 x block
    assert k.shared_bytes(64) == 4 * (k.weights.size + 2 * 72 * 64)
    assert brick_kernel(a, a.bricks[0], "block", 128).shared_bytes(64) == 4 * (k.weights.size + 72 * 64)


def _nvrtc():
    try:
        from cupy_backends.cuda.libs import nvrtc
        nvrtc.getVersion()
    except Exception as e:  # noqa: BLE001 - any reason the library is missing skips the same way
        pytest.skip(f"NVRTC is not installed here ({type(e).__name__}: {e}); tools/gpu/benchmarks_h100.sh "
                    "volume-decode compiles and runs the kernels on the GPU machine")
    return nvrtc


PRESET_SHAPES = {"tiny": (16, 1, ((64, 16), (64, 64), (1, 64))), "medium": (16, 2, ((64, 32), (64, 64), (1, 64)))}


@pytest.mark.parametrize("preset", sorted(PRESET_SHAPES))
@pytest.mark.parametrize("unorm8", [True, False])
@pytest.mark.parametrize("tuning", [{}, {"prefetch": 2, "unroll": 1, "min_blocks": 3}], ids=["default", "tuned"])
def test_nvrtc_compiles_every_schedule_for_sm90(preset: str, unorm8: bool, tuning: dict) -> None:
    """Also the tuned block schedule (corner loads first, two grids at a time, input loop not unrolled, launch
    bounds for 3 blocks of 128 threads per SM): it must fit its register cap without spilling."""
    nvrtc = _nvrtc()
    grids, features, sizes = PRESET_SHAPES[preset]
    for schedule in ("block", "thread"):
        prog = nvrtc.createProgram(kernel_source(grids, features, unorm8, sizes, schedule, **tuning), "decode.cu",
                                   [], [])
        try:
            nvrtc.compileProgram(prog, [*COMPILE_OPTIONS, "-arch=sm_90", "--ptxas-options=-v"])
        except Exception:  # noqa: BLE001 - the compiler's log is the useful part
            pytest.fail(f"{preset} {schedule}: NVRTC failed:\n{nvrtc.getProgramLog(prog)[-3000:]}")
        log = nvrtc.getProgramLog(prog)
        assert len(nvrtc.getCUBIN(prog)) > 1000
        if schedule == "block":
            assert "0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads" in log, log

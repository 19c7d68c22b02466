"""Benchmark: bilinear RGBA8 samples per second on one CPU core, ours vs a plain NumPy float baseline.

    python tools/bench_sampler.py [--samples 2000000] [--size 256] [--repeats 5]

Profiles ``lavapipe`` (bit-exact 8.8 fixed point) and ``d3d11`` (exact 8-bit-weight sums) against the
obvious NumPy implementation of float32 bilinear filtering (gather four texels as float32, weights
from ``u * size - 0.5``), all in the same run on the same texture and coordinates; best of
``--repeats`` runs. Thread pools are pinned to one thread before NumPy loads.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ngsdk.asset.texture import TextureData  # noqa: E402
from ngsdk.runtime_ref.sampling import prepare, sample  # noqa: E402


def numpy_float_bilinear(texels: np.ndarray, uv: np.ndarray, address: str) -> np.ndarray:
    """The plain float32 bilinear filter one would write in NumPy (no chunking, no tricks)."""
    h, w, _ = texels.shape
    x = uv[:, 0] * np.float32(w) - np.float32(0.5)
    y = uv[:, 1] * np.float32(h) - np.float32(0.5)
    x0f, y0f = np.floor(x), np.floor(y)
    ax, ay = (x - x0f)[:, None], (y - y0f)[:, None]
    x0, y0 = x0f.astype(np.int64), y0f.astype(np.int64)
    if address == "repeat":
        x1, y1 = (x0 + 1) % w, (y0 + 1) % h
        x0, y0 = x0 % w, y0 % h
    else:
        x1, y1 = np.clip(x0 + 1, 0, w - 1), np.clip(y0 + 1, 0, h - 1)
        x0, y0 = np.clip(x0, 0, w - 1), np.clip(y0, 0, h - 1)
    top = texels[y0, x0] * (1 - ax) + texels[y0, x1] * ax
    bot = texels[y1, x0] * (1 - ax) + texels[y1, x1] * ax
    return top * (1 - ay) + bot * ay


def best_rate(fn, n: int, repeats: int) -> float:
    fn()                                   # warm caches and lazily built tables
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return n / best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2_000_000)
    parser.add_argument("--size", type=int, default=256, help="texture width and height")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (args.size, args.size, 4), dtype=np.uint8)
    tex = prepare(TextureData.from_levels([img], "R8G8B8A8_UNORM"))
    texels = img.astype(np.float32) * np.float32(1 / 255)
    uv = rng.uniform(-3, 4, (args.samples, 2)).astype(np.float32)
    n = args.samples
    rows = []
    for address in ("repeat", "clamp"):
        base = best_rate(lambda a=address: numpy_float_bilinear(texels, uv, a), n, args.repeats)
        rows.append((f"numpy float32 baseline ({address})", base, base))
        for profile in ("lavapipe", "d3d11"):
            def run(p=profile, a=address):
                return sample(tex, uv, filter="linear", address=a, profile=p)

            rate = best_rate(run, n, args.repeats)
            rows.append((f"runtime_ref {profile} ({address})", rate, base))
    print(f"bilinear RGBA8, {args.size}x{args.size} texture, {n:,} samples, uv in [-3, 4], one thread, "
          f"best of {args.repeats}")
    print(f"{'implementation':40s} {'M samples/s':>12s} {'vs baseline':>12s}")
    for name, rate, base in rows:
        print(f"{name:40s} {rate / 1e6:12.2f} {rate / base:11.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Profile the neural-volume decode kernels on a CUDA GPU: one launch of each, for Nsight Compute or torch.

Builds a tiny- or medium-preset-shaped asset (16 grids of 16^3 x 1 or 32^3 x 2 unorm8 features, 64-wide
two-hidden-layer decoder; random values: the kernels' work does not depend on them) and decodes ``--points``
random points with the bit-exact CUDA kernel (``block`` and ``thread`` schedules) and the fused Triton float
kernel. Under ``ncu`` each decode is one profiled launch (``ncu -k regex:decode ...``); without it,
``--torch-profiler`` prints the PyTorch profiler's CUDA kernel table of the same calls.

    ncu --section SpeedOfLight --section Occupancy -k regex:decode python3 tools/gpu/profile_volume_decode.py
    python3 tools/gpu/profile_volume_decode.py --torch-profiler
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SHAPES = {"tiny": (16, 1), "medium": (32, 2)}


def preset_asset(preset: str, seed: int = 0):
    """A random asset with the preset's grids (16 x res^3 x features, unorm8) and a 64-64 decoder."""
    from ngsdk.asset.neural_volume import NeuralVolumeAsset, Normalization, VolumeBrick, VolumeGrid
    from ngsdk.asset.types import Decoder, DecoderLayer, Provenance

    res, features = SHAPES[preset]
    rng = np.random.default_rng(seed)
    grids = []
    for i in range(16):
        a = np.eye(3) * rng.uniform(0.7, 1.3, 3) + rng.uniform(-0.2, 0.2, (3, 3))
        xf = np.concatenate([a, rng.uniform(-0.2, 0.2, (3, 1))], axis=1).astype(np.float32)
        grids.append(VolumeGrid(f"g{i:02d}", xf, "unorm8",
                                rng.integers(0, 256, (res, res, res, features), dtype=np.uint8),
                                scale=float(np.float32(2 / 255)), offset=-1.0))
    widths = [16 * features, 64, 64, 1]
    layers = [DecoderLayer(rng.normal(0, np.sqrt(2 / a), (b, a)).astype(np.float32),
                           rng.normal(0, 0.1, b).astype(np.float32), "relu" if b > 1 else "none")
              for a, b in zip(widths, widths[1:])]
    box = (0, 64, 0, 64, 0, 64)
    return NeuralVolumeAsset(f"{preset}_shaped", (64, 64, 64), Normalization(0.0, 1.0, "<f4"),
                             [VolumeBrick("brick000", box, box, grids, Decoder(layers))],
                             Provenance(ngsdk_version="profile"), decode_mode="exact")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", choices=sorted(SHAPES), default="tiny")
    ap.add_argument("--points", type=int, default=1 << 22)
    ap.add_argument("--torch-profiler", action="store_true", help="print the PyTorch profiler's kernel table")
    args = ap.parse_args(argv)

    import cupy as cp
    import torch

    from ngsdk.runtime_ref.neural_volume_cuda import CudaVolumeDecoder
    from ngsdk.volumes.fused_decode import FusedVolumeDecoder

    asset = preset_asset(args.preset)
    pts = torch.rand(args.points, 3, device="cuda", generator=torch.Generator("cuda").manual_seed(1)) * 2 - 1
    calls = {"exact block": (CudaVolumeDecoder(asset, "block"), cp.asarray(pts)),
             "exact thread": (CudaVolumeDecoder(asset, "thread"), cp.asarray(pts)),
             "fused fp16": (FusedVolumeDecoder(asset, "cuda", precision="fp16"), pts)}
    for dec, p in calls.values():            # compile and warm up outside the profiled launches
        dec(p)
    torch.cuda.synchronize()
    if args.torch_profiler:
        from torch.profiler import ProfilerActivity, profile

        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            for dec, p in calls.values():
                dec(p)
            torch.cuda.synchronize()
        print(prof.key_averages().table(sort_by="cuda_time_total", row_limit=12))
    else:
        for dec, p in calls.values():
            dec(p)
        torch.cuda.synchronize()
    return 0


if __name__ == "__main__":
    sys.exit(main())

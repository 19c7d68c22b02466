#!/usr/bin/env python3
"""Record a Vulkan driver's texture-sampler outputs for fitting a runtime_ref sampler profile.

    python tools/gpu/capture_sampler.py OUT_DIR [--adapter nvidia] [--samples 6000]

Run on the machine whose sampler is to be modelled (wgpu must open its Vulkan driver). Writes
``OUT_DIR/probes.npz`` (small textures built so that one sample reveals one rule of the filter) and
``OUT_DIR/random_a.npz`` / ``random_b.npz`` (driver outputs of the conformance-test cases, inputs
regenerated from their seeds: each case stores the sha256 of its inputs so a fit can check it
regenerated the same ones). ``tools/fit_sampler_profile.py`` reads them on any machine.

Probes, per format (``fmt`` in the key):
* ``mip/fmt/filter``: 8x8 texture, four mips, each mip one constant texel value, sampled at one
  point while the LOD sweeps [-0.25, 3.5) in steps of 1/8192: the mip weight and the mip selection.
* ``onehot2d/fmt`` and ``onehot3d{z}/fmt``: 2x2 (2x2x2) textures with channel c set to the format's
  one at corner c (3D: the z = 0 corners, then the z = 1 corners), random coordinates: every
  corner's filter weight, directly.
* ``onehotmip/fmt``: the 2x2 one-hot as mip 0 above a zero 1x1 mip, trilinear, random LOD in [0, 1].
* ``pair/fmt``: a 512x1 texture of random texel pairs, u sweeping each pair in 1/64 steps: how the
  weighted sum of two texel values is formed and rounded.
* ``table/fmt``: every code of the format sampled at texel centres with nearest filtering.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ngsdk.asset.dxgi import lookup  # noqa: E402
from ngsdk.asset.texture import TextureData  # noqa: E402
from tests.fixtures.sampler_cases import digest, random_cases  # noqa: E402

PROBE_FORMATS = ("R8G8B8A8_UNORM", "R8G8B8A8_UNORM_SRGB", "R16G16B16A16_FLOAT", "R32G32B32A32_FLOAT",
                 "R16G16B16A16_UNORM", "R8G8B8A8_SNORM")


def _one(fmt: str):
    f = lookup(fmt)
    if f.kind == "float":
        return np.array(1.0, f.dtype)
    return np.array(np.iinfo(np.dtype(f.dtype)).max, f.dtype)


def _tex(levels, fmt, dimension="2d") -> TextureData:
    f = lookup(fmt)
    return TextureData.from_levels([np.asarray(lv).astype(f.dtype) for lv in levels], fmt, dimension=dimension)


def _mip_texture(fmt: str, rng) -> TextureData:
    f = lookup(fmt)
    one = _one(fmt)
    levels = []
    for m in range(4):
        vals = np.zeros(4, f.dtype)
        vals[0] = one if m % 2 == 0 else 0
        vals[1] = 0 if m % 2 == 0 else one
        if f.kind == "float":
            vals[2:] = (2 * rng.standard_normal(2)).astype(f.dtype)
        else:
            info = np.iinfo(np.dtype(f.dtype))
            vals[2:] = rng.integers(info.min, info.max, 2, endpoint=True)
        s = 8 >> m
        levels.append(np.broadcast_to(vals, (1, s, s, 4)).copy())
    return _tex(levels, fmt)


def _onehot(fmt: str, dims: int, z: int = 0) -> TextureData:
    f = lookup(fmt)
    one = _one(fmt)
    if dims == 2:
        t = np.zeros((1, 2, 2, 4), f.dtype)
        for c, (y, x) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
            t[0, y, x, c] = one
        return _tex([t], fmt)
    t = np.zeros((2, 2, 2, 4), f.dtype)
    for c, (y, x) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
        t[z, y, x, c] = one
    return _tex([t], fmt, "3d")


def _pairs(fmt: str, rng) -> TextureData:
    f = lookup(fmt)
    if f.kind == "float":
        scale = rng.choice(np.array([0.01, 1.0, 8.0, 1000.0]), (1, 1, 512, 1))
        t = rng.standard_normal((1, 1, 512, 4)) * scale
    else:
        info = np.iinfo(np.dtype(f.dtype))
        t = rng.integers(info.min, info.max, (1, 1, 512, 4), endpoint=True)
    return _tex([t], fmt)


def _table(fmt: str) -> tuple[TextureData, np.ndarray]:
    f = lookup(fmt)
    if f.kind == "float":
        codes = np.arange(65536, dtype=np.uint16).view(np.float16)
        codes = codes[np.isfinite(codes)]
        side = 256
        codes = np.resize(codes, side * side).astype(f.dtype)
    else:
        info = np.iinfo(np.dtype(f.dtype))
        codes = np.arange(info.min, info.max + 1).astype(f.dtype)
        side = 16 if codes.size == 256 else 256
    t = np.repeat(codes.reshape(1, side, side, 1), 4, axis=3)
    uv = ((np.stack(np.meshgrid(np.arange(side), np.arange(side)), -1).reshape(-1, 2) + 0.5) / side)
    return _tex([t], fmt), uv.astype(np.float32)


def probes(drv, rng) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    lods = (np.arange(-2048, 3 * 8192 + 4096) / 8192).astype(np.float32)
    centre = np.full((lods.size, 2), 0.5, np.float32)
    for fmt in PROBE_FORMATS:
        tex = _mip_texture(fmt, rng)
        out[f"mip/{fmt}/levels"] = np.stack([m[0, 0, 0] for m in tex.mips]).astype(np.float64)
        out[f"mip/{fmt}/lod"] = lods
        for filt in ("trilinear", "linear", "nearest"):
            out[f"mip/{fmt}/{filt}"] = drv.sample(tex, centre, lod=lods, filter=filt, address="clamp")
        uv = rng.uniform(0, 1, (20000, 2)).astype(np.float32)
        out[f"onehot2d/{fmt}/uv"] = uv
        out[f"onehot2d/{fmt}/out"] = drv.sample(_onehot(fmt, 2), uv, filter="linear", address="clamp")
        uvw = rng.uniform(0, 1, (20000, 3)).astype(np.float32)
        out[f"onehot3d/{fmt}/uv"] = uvw
        for z in (0, 1):
            out[f"onehot3d{z}/{fmt}/out"] = drv.sample(_onehot(fmt, 3, z), uvw, filter="linear", address="clamp")
        hot = _onehot(fmt, 2)
        mip = _tex([hot.mips[0], np.zeros((1, 1, 1, 4))], fmt)
        lod = rng.uniform(0, 1, 20000).astype(np.float32)
        out[f"onehotmip/{fmt}/uv"] = uv
        out[f"onehotmip/{fmt}/lod"] = lod
        out[f"onehotmip/{fmt}/out"] = drv.sample(mip, uv, lod=lod, filter="trilinear", address="clamp")
        pt = _pairs(fmt, rng)
        k, j = np.meshgrid(np.arange(256), np.arange(65), indexing="ij")
        u = ((2 * k + 0.5 + j / 64) / 512).reshape(-1)
        puv = np.stack([u, np.full_like(u, 0.5)], 1).astype(np.float32)
        out[f"pair/{fmt}/texels"] = pt.mips[0][0, 0].astype(np.float64)
        out[f"pair/{fmt}/uv"] = puv
        out[f"pair/{fmt}/out"] = drv.sample(pt, puv, filter="linear", address="clamp")
        tt, tuv = _table(fmt)
        out[f"table/{fmt}/codes"] = tt.mips[0][0, :, :, 0].reshape(-1).astype(np.float64)
        out[f"table/{fmt}/out"] = drv.sample(tt, tuv, filter="nearest", address="clamp")
        out[f"table/{fmt}/load"] = drv.load(tt, (tuv * tt.width).astype(np.int32))
        print(f"probes: {fmt} done", flush=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--adapter", default="nvidia")
    ap.add_argument("--samples", type=int, default=6000)
    ap.add_argument("--skip-probes", action="store_true")
    args = ap.parse_args()
    from tools.vulkan_harness.wgpu_sampler import UnsupportedByDriver, WgpuSampler, open_device

    drv = WgpuSampler(open_device(args.adapter))
    print(f"driver: {drv.description}; features {sorted(drv.dev.features)}", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.skip_probes:
        data = probes(drv, np.random.default_rng(2026))
        data["driver"] = np.array(drv.description)
        np.savez_compressed(args.out / "probes.npz", **data)
    groups: dict[str, dict[str, np.ndarray]] = {"a": {}, "b": {}}
    for group, name, tex, uv, lod, filt, address in random_cases(args.samples):
        try:
            got = drv.sample(tex, uv, lod=lod, filter=filt, address=address)
        except UnsupportedByDriver as err:
            print(f"unsupported: {name}: {err}", flush=True)
            continue
        groups[group][f"{name}/out"] = got
        groups[group][f"{name}/inputs"] = np.array(digest(*[m for m in tex.mips], uv, lod))
    for group, data in groups.items():
        data["driver"] = np.array(drv.description)
        np.savez_compressed(args.out / f"random_{group}.npz", **data)
        print(f"random_{group}: {sum(k.endswith('/out') for k in data)} cases", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

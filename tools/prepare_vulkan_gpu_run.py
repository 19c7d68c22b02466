#!/usr/bin/env python3
"""Prepare what tools/run_vulkan_sample_gpu.sh needs on the GPU machine, on the development machine.

    python tools/prepare_vulkan_gpu_run.py OUT_DIR [--material DIR] [--size N] [--steps N]

Writes into OUT_DIR: small real bundles (exact 4-bit wrap, exact 8-bit clamp, hardware 8-bit wrap and
clamp, trained from a crop of ambientCG Ground068, plus a 1024x1024 exact bundle for timing) and
``expected.json``: for every hardware bundle and mip, the sha256 of runtime_ref's hardware decode under
the ``nvidia`` sampler profile (the trainer's own reference uses its ``d3d11`` profile). Exact bundles
are checked against their provenance.reference_decode. Also downloads the Vulkan loader packages
(libvulkan1 and the GL dispatch libraries) into OUT_DIR/debs with ``apt-get download`` when apt is available.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--material", type=Path, default=REPO / ".." / "shared" / "data" / "textures" / "ground068_1k")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--no-large", action="store_true", help="skip the 1024x1024 timing bundle")
    args = ap.parse_args()

    from PIL import Image

    from ngsdk.asset.digest import decode_hash
    from ngsdk.exporters.neural_texture import write_neural_texture
    from ngsdk.runtime_ref.neural_texture import load_neural_texture
    from ngsdk.runtime_ref.neural_texture_hw import HardwareDecoder
    from ngsdk.textures.config import TextureTrainConfig
    from ngsdk.textures.ingest import load_texture_set
    from ngsdk.textures.train import train_texture

    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    crop = out / "material_crop"
    crop.mkdir(exist_ok=True)
    n = args.size
    for f in sorted(args.material.iterdir()):
        if f.suffix.lower() in (".jpg", ".png"):
            with Image.open(f) as im:
                x0, y0 = (im.width - n) // 2, (im.height - n) // 2
                im.crop((x0, y0, x0 + n, y0 + n)).save(crop / (f.stem + ".png"))
    variants = {"exact-wrap-4bit": ("exact", "wrap", 4, crop), "exact-clamp-8bit": ("exact", "clamp", 8, crop),
                "hardware-wrap-8bit": ("hardware", "wrap", 8, crop),
                "hardware-clamp-8bit": ("hardware", "clamp", 8, crop)}
    if not args.no_large:
        variants["exact-wrap-4bit-1k"] = ("exact", "wrap", 4, args.material)
    expected: dict[str, dict[str, str]] = {}
    for name, (mode, address, bits, src) in variants.items():
        bundle = out / "bundles" / f"{name}.ngasset"
        # exact: the default pyramid layout (format 2.0 taps + LOD input); hardware needs the grids layout
        cfg = TextureTrainConfig(bpp=16 if bits == 8 else 12, latent_bits=bits, hidden=32, steps=args.steps, seed=0,
                                 device="cpu", batch_size=4096, address=address, decode_mode=mode,
                                 layout="grids" if mode == "hardware" else "pyramid")
        write_neural_texture(train_texture(load_texture_set(src), cfg).asset, bundle)
        if mode == "hardware":
            asset = load_neural_texture(bundle)
            dec = HardwareDecoder(asset)
            expected[bundle.name] = {str(m): decode_hash(dec.decode_mip(m, profile="nvidia"))
                                     for m in range(asset.mip_levels)}
        print(f"wrote {bundle}")
    (out / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    debs = out / "debs"
    debs.mkdir(exist_ok=True)
    res = subprocess.run(["apt-get", "download", "libvulkan1", "libglvnd0", "libegl1", "libgl1", "libglx0", "libgles2",
                          "libopengl0"], cwd=debs, capture_output=True, text=True)
    print("debs:", ", ".join(p.name for p in debs.glob("*.deb")) or f"none ({res.stderr.strip()})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

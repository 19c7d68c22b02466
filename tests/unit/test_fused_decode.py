"""The fused Triton whole-mip decode (ngsdk.textures.fused_decode) gives runtime_ref's exact-mode bytes.

Triton's interpreter runs the kernel on the CPU (TRITON_INTERPRET=1, set before Triton is imported, hence the
subprocess); on CUDA the same kernel is compiled (tools/bench_texture_decode.py checks it there against the
torch decode). Assets: tiny neural textures trained for a few steps on crops of the shipped sample material
(pyramid and grids layouts, wrap and clamp, 2, 4 and 8-bit latents, a non-power-of-two size), the decode-spec
vector assets, and synthetic assets with the default 64-wide decoder and with 1, 2 and 6 layers; every mip
down to 1x1. The CPU run takes the kernel's min/max requantization; on CUDA it packs with PTX ``cvt.pack.sat``
instead (same bytes, checked by the benchmark).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("triton")

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    import numpy as np
    import torch
    from ngsdk.runtime_ref.neural_texture_exact import decode_mip
    from ngsdk.textures.config import TextureTrainConfig
    from ngsdk.textures.fused_decode import FusedTextureDecoder, decode_mip_fused
    from ngsdk.textures.ingest import TextureSet, load_texture_set
    from ngsdk.textures.train import train_texture
    from tests.fixtures.decode_vectors import tiny_asset
    from tools.bench_texture_decode import synthetic_asset

    torch.set_num_threads(2)
    sample = load_texture_set(Path("ngsdk/samples/ground068_512"))

    def crop(x, y, w, h):
        data = np.ascontiguousarray(sample.data[y:y + h, x:x + w])
        return TextureSet(sample.name, w, h, sample.channels, data, sample.sources)

    def trained(w, h, **kw):
        cfg = TextureTrainConfig(bpp=40, steps=24, batch_size=1024, device="cpu", decode_mode="exact", hidden=32,
                                 hidden_layers=2, eval_every=12, seed=1, **kw)
        return train_texture(crop(130, 270, w, h), cfg).asset

    cases = {
        "pyramid/wrap/4bit/48x40": (trained(48, 40, layout="pyramid", address="wrap", latent_bits=4), {}),
        "pyramid/clamp/2bit/45x37": (trained(45, 37, layout="pyramid", address="clamp", latent_bits=2), {}),
        "grids/wrap/8bit/48x40": (trained(48, 40, layout="grids", address="wrap", latent_bits=8), {}),
        "grids/clamp/4bit/37x29": (trained(37, 29, layout="grids", address="clamp", latent_bits=4), {}),
    }
    cases["pyramid/clamp/2bit/45x37 chunk 4"] = (cases["pyramid/clamp/2bit/45x37"][0], {"chunk": 4})
    for layout in ("grids", "pyramid"):
        for address in ("wrap", "clamp"):
            cases[f"vectors/{layout}/{address}"] = (tiny_asset("exact", address, layout), {})
    cases["synthetic/default-decoder/32x20"] = (synthetic_asset((32, 20), 9, bpp=400, seed=5, address="clamp"), {})
    for depth, width in ((0, 16), (1, 24), (5, 16)):  # decoders of 1, 2 and 6 layers
        asset = synthetic_asset((20, 12), 3, bpp=400, seed=depth, hidden=width, hidden_layers=depth, layout="grids")
        cases[f"synthetic/{depth + 1}-layer/20x12"] = (asset, {})

    out = {}
    for name, (asset, kw) in cases.items():
        # large tiles: few interpreted programs (the vector assets and the one-call form keep the default 128)
        dec = FusedTextureDecoder(asset, "cpu", **({} if name.startswith("vectors") else {"block": 1024}), **kw)
        equal = []
        for m in range(asset.mip_levels):
            got = dec.decode_mip(m)
            want = decode_mip(asset, m)
            equal.append(bool(got.dtype == torch.uint8 and tuple(got.shape) == want.shape
                              and np.array_equal(got.numpy(), want)))
        out[name] = {"equal": equal, "sizes": [asset.mip_size(m) for m in range(asset.mip_levels)],
                     "bits": sorted({g.bits for g in asset.grids}), "address": asset.sampler.address,
                     "lod": asset.lod_inputs is not None, "chunk": dec.plan.chunk,
                     "decoder": [asset.decoder.quantized.inputs] + [l.outputs for l in asset.decoder.quantized.layers]}
    # the one-call form, and its refusals
    asset = cases["pyramid/wrap/4bit/48x40"][0]
    out["one-call"] = {"equal": [bool(np.array_equal(decode_mip_fused(asset, 1, device="cpu").numpy(),
                                                     decode_mip(asset, 1)))]}
    errors = {}
    for label, call in (("hardware", lambda: decode_mip_fused(tiny_asset("hardware", "wrap"), 0, device="cpu")),
                        ("mip -1", lambda: decode_mip_fused(asset, -1, device="cpu")),
                        ("mip past the last", lambda: decode_mip_fused(asset, asset.mip_levels, device="cpu"))):
        try:
            call()
            errors[label] = None
        except ValueError as e:
            errors[label] = str(e)
    print(json.dumps({"cases": out, "errors": errors}))
""")


def test_fused_decode_matches_runtime_ref() -> None:
    env = dict(os.environ, TRITON_INTERPRET="1", PYTHONPATH=str(ROOT))
    res = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=600,
                         cwd=ROOT)
    assert res.returncode == 0, res.stderr[-3000:]
    doc = json.loads(res.stdout.strip().splitlines()[-1])
    cases = doc["cases"]
    for name, c in cases.items():
        assert c["equal"] and all(c["equal"]), f"{name}: mips differing from runtime_ref: " \
            f"{[m for m, ok in enumerate(c['equal']) if not ok]}"
    # what the cases cover
    trained = [c for n, c in cases.items() if "/" in n and not n.startswith(("vectors", "synthetic"))]
    assert {b for c in trained for b in c["bits"]} >= {2, 4, 8}
    assert {c["address"] for c in trained} == {"wrap", "clamp"}
    assert any(c["lod"] for c in trained) and any(not c["lod"] for c in trained)
    assert all(c["sizes"][-1] == [1, 1] for n, c in cases.items() if n != "one-call")
    assert any(w % 2 and h % 2 for c in trained for w, h in c["sizes"][:1])
    assert {c["chunk"] for n, c in cases.items() if n != "one-call"} == {4, 8}
    assert cases["synthetic/default-decoder/32x20"]["decoder"] == [29, 64, 64, 64, 9]
    assert {len(c["decoder"]) - 1 for n, c in cases.items() if n != "one-call"} >= {1, 2, 3, 4, 6}
    errors = doc["errors"]
    assert "not 'exact'" in (errors["hardware"] or "")
    assert "out of range" in (errors["mip -1"] or "") and "out of range" in (errors["mip past the last"] or "")

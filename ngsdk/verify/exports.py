"""Verification of a bundle's graph exports (ONNX, Core ML, VGF), torch-free.

Check codes: ``GX001`` one line per export (format, precision, graph) with its max error against
the reference the exporter stored (the torch model; for int8 the quantized torch model), and
``GX002`` for float exports of neural textures, against runtime_ref's own float decode of the
bundle (the decoder graph on sampled texels of mip 0, the whole-mip graph on the whole mip), and for
fp32 exports of shading MLPs, against ``runtime_ref.shading.evaluate(asset, uv, "fp32")`` on 8192
texel centres spread over the image (the graph's encoding is exact in float32, so only the graph
runtime's matmul arithmetic differs: measured about 3e-7).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ngsdk.verify.report import Report

RUNTIME_REF_BOUND = 1e-5


def _runtime_ref_io(asset, graph: str, n: int = 8192) -> tuple[dict, dict]:
    from runtime_ref.neural_texture import decode_mip, decoder_inputs, dequantize, run_decoder, texel_centres

    if graph == "nt_decoder":
        w, h = asset.mip_size(0)
        rng = np.random.default_rng(123)
        ix, iy = rng.integers(0, w, n), rng.integers(0, h, n)
        x = decoder_inputs(asset, 0, texel_centres(w)[ix], texel_centres(h)[iy])
        return {"inputs": x}, {"channels": run_decoder(asset, x)}
    mip = int(graph.removeprefix("nt_mip"))
    ins = {}
    for g, (grid, lv) in enumerate(zip(asset.grids, asset.grid_levels[mip], strict=True)):
        vals = dequantize(grid.levels[lv], grid.scale, grid.offset)
        ins[f"latent{g}"] = np.ascontiguousarray(vals.transpose(2, 0, 1)[None])
    out = decode_mip(asset, mip).transpose(2, 0, 1)[None]
    return ins, {"channels": np.ascontiguousarray(out)}


def _shading_runtime_ref_io(asset, graph: str, n: int = 8192) -> tuple[dict, dict]:
    from runtime_ref.shading import encode, evaluate, texel_centres

    centres = texel_centres(asset.width, asset.height)
    uv = np.ascontiguousarray(centres[np.linspace(0, len(centres) - 1, n).round().astype(np.int64)])
    ins = {"uv": uv} if graph == "shading_mlp" else {"features": encode(uv, asset.encoding, "fp32")}
    return ins, {"rgb": evaluate(asset, uv, "fp32")}


def verify_exports(rep: Report, bundle: str | Path, manifest: dict[str, Any], asset=None) -> None:
    """Append one check per export to ``rep``; failures make the report FAIL."""
    from runtime_ref.graph_verify import verify_export

    bundle = Path(bundle)
    formats: dict[str, str] = {}
    shading = manifest.get("kind") == "shading_mlp"
    if shading and asset is None:
        from runtime_ref.shading_bundle import load_shading_mlp

        asset = load_shading_mlp(bundle, manifest)
    for entry in manifest.get("exports", []):
        rec = entry.get("details", {}).get("record")
        label = f"{entry['format']} {entry['precision']} {entry['graph']}"
        if rec is None:
            rep.add("GX001", label, "fail", f"{bundle / 'manifest.json'}: export entry has no record to verify")
            continue
        r = verify_export(rec, bundle)
        status = "pass" if r["ok"] else "fail"
        msg = _summary(r)
        rep.add("GX001", label, status, msg, report=r)
        formats[label] = msg
        if (not shading and asset is not None and asset.decode_mode == "float" and entry["precision"] in ("fp32",)
                and entry["graph"].startswith("nt_")):
            ins, expected = _runtime_ref_io(asset, entry["graph"])
            r2 = verify_export(rec, bundle, ins, expected, bound=RUNTIME_REF_BOUND)
            status = "pass" if r2["ok"] else "fail"
            msg = f"vs runtime_ref float decode: {_summary(r2)}"
            rep.add("GX002", label, status, msg, report=r2)
            formats[label + " vs runtime_ref"] = msg
        elif shading and entry["precision"] == "fp32" and entry["graph"].startswith("shading_mlp"):
            ins, expected = _shading_runtime_ref_io(asset, entry["graph"])
            r2 = verify_export(rec, bundle, ins, expected, bound=RUNTIME_REF_BOUND)
            status = "pass" if r2["ok"] else "fail"
            msg = f"vs runtime_ref fp32 evaluate: {_summary(r2)}"
            rep.add("GX002", label, status, msg, report=r2)
            formats[label + " vs runtime_ref"] = msg
    if formats:
        rep.checks[-1].details.setdefault("formats", formats)
        rep.summary["exports"] = formats


def _summary(r: dict[str, Any]) -> str:
    if r["errors"] and not r.get("runs"):
        return r["errors"][0]
    parts = []
    for name, run in r.get("runs", {}).items():
        if "mismatches" in run:
            parts.append(f"{name}: {run['mismatches']} mismatches")
        elif "max_abs_error" in run:
            parts.append(f"{name}: max error {run['max_abs_error']:.3g}")
    text = ", ".join(parts) or "no runs"
    if r.get("bound") is not None:
        text += f" (bound {r['bound']:.3g})"
    if r["errors"]:
        text += f"; {r['errors'][0][:200]}"
    return text

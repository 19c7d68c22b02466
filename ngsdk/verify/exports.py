"""Verification of a bundle's graph exports (ONNX, Core ML, VGF), torch-free.

Check codes: ``GX001`` one line per export (format, precision, graph) with its max error against
the reference the exporter stored (the torch model; for int8 the quantized torch model), and
``GX002`` for float exports of neural textures, against runtime_ref's own float decode of the
bundle (the decoder graph on sampled texels of mip 0, the whole-mip graph on the whole mip), and for
fp32 exports of shading MLPs, against ``runtime_ref.shading.evaluate(asset, uv, "fp32")`` on 8192
texel centres spread over the image (the graph's encoding is exact in float32, so only the graph
runtime's matmul arithmetic differs: measured about 3e-7), and for fp32 exports of neural volumes
(``nv_decoder`` graphs, one per brick), against runtime_ref's float MLP of that brick, clamped to [0, 1] as
its decode does, on the features stored in the export's reference npz plus as many seeded uniform features
over the graph's declared input range (every decode mode: the graph is the float MLP).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ngsdk.asset.errors import AssetError
from ngsdk.verify.report import Report
from runtime_ref.toolchain import EXPORT_INSTALL

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
    for t, (g, lv) in enumerate(asset.taps[mip]):  # one latent tensor per tap
        grid = asset.grids[g]
        vals = dequantize(grid.levels[lv], grid.scale, grid.offset)
        ins[f"latent{t}"] = np.ascontiguousarray(vals.transpose(2, 0, 1)[None])
    out = decode_mip(asset, mip).transpose(2, 0, 1)[None]
    return ins, {"channels": np.ascontiguousarray(out)}


def _shading_runtime_ref_io(asset, graph: str, n: int = 8192) -> tuple[dict, dict]:
    from runtime_ref.shading import encode, evaluate, texel_centres

    centres = texel_centres(asset.width, asset.height)
    uv = np.ascontiguousarray(centres[np.linspace(0, len(centres) - 1, n).round().astype(np.int64)])
    ins = {"uv": uv} if graph == "shading_mlp" else {"features": encode(uv, asset.encoding, "fp32")}
    return ins, {"rgb": evaluate(asset, uv, "fp32")}


def volume_brick(asset, graph: str) -> int | None:
    """The brick an ``nv_decoder`` graph stands for: ``nv_decoder`` for a single brick, else
    ``nv_decoder_<brick name>`` (the names exporters.graph.volume_graphs gives); None if it names none."""
    if len(asset.bricks) == 1:
        return 0 if graph == "nv_decoder" else None
    names = [f"nv_decoder_{b.name}" for b in asset.bricks]
    return names.index(graph) if graph in names else None


def _volume_runtime_ref_io(asset, brick: int, rec: dict[str, Any], bundle: Path) -> tuple[dict, dict]:
    from runtime_ref.graph_verify import load_reference
    from runtime_ref.neural_volume import _mlp_float  # float-mode MLP; no public per-brick call yet

    ref_in, _ = load_reference(rec, bundle)
    x = np.asarray(ref_in["features"], dtype=np.float32)
    lo, hi = rec["io"]["inputs"][0].get("value_range") or (-1.0, 1.0)
    rng = np.random.default_rng(123)
    x = np.concatenate([x, rng.uniform(lo, hi, x.shape).astype(np.float32)])
    layers = [(ly.weight, ly.bias) for ly in asset.bricks[brick].decoder.layers]
    y = _mlp_float(np, x, layers)
    y = np.where(y > 0, np.minimum(y, np.float32(1)), np.float32(0))
    return {"features": x}, {"value": np.ascontiguousarray(y[:, None], dtype=np.float32)}


def _skip_for_tool(rep: Report, code: str, label: str, r: dict[str, Any]) -> bool:
    """A run that needs a tool that is not installed is SKIPPED (files still checked), not FAILED: a
    numpy-only install verifies everything else. Returns True when it skipped."""
    missing = r.get("missing_tool")
    if not missing:
        return False
    files = f"{r['integrity']['files']} files match their sha256; " if r.get("integrity") else ""
    rep.add(code, label, "skip", f"{files}not run: {missing}", report=r, needs=EXPORT_INSTALL)
    return True


def verify_exports(rep: Report, bundle: str | Path, manifest: dict[str, Any], asset=None, progress=None) -> None:
    """Append one check per export to ``rep``; failures make the report FAIL, a missing tool SKIPs the run.

    ``progress(item)`` is called before each export's check (they take seconds each)."""
    from runtime_ref.graph_verify import verify_export

    bundle = Path(bundle)
    formats: dict[str, str] = {}
    shading = manifest.get("kind") == "shading_mlp"
    if shading and asset is None:
        from runtime_ref.shading_bundle import load_shading_mlp

        asset = load_shading_mlp(bundle, manifest)
    volume = manifest.get("kind") == "neural_volume"
    if volume and asset is None:
        from runtime_ref.neural_volume import load_neural_volume

        asset = load_neural_volume(bundle, manifest)
    for entry in manifest.get("exports", []):
        rec = entry.get("details", {}).get("record")
        label = f"{entry['format']} {entry['precision']} {entry['graph']}"
        if rec is None:
            rep.add("GX001", label, "fail", f"{bundle / 'manifest.json'}: export entry has no record to verify")
            continue
        if progress is not None:
            progress(f"check {label}")
        r = verify_export(rec, bundle)
        if _skip_for_tool(rep, "GX001", label, r):
            formats[label] = "skipped: " + r["missing_tool"]
            continue
        status = "pass" if r["ok"] else "fail"
        msg = _summary(r)
        rep.add("GX001", label, status, msg, report=r)
        formats[label] = msg
        if volume:
            if entry["precision"] == "fp32" and entry["graph"].startswith("nv_decoder"):
                _volume_gx002(rep, asset, entry, rec, bundle, label, formats)
        elif (not shading and asset is not None and asset.decode_mode == "float" and entry["precision"] in ("fp32",)
                and entry["graph"].startswith("nt_")):
            ins, expected = _runtime_ref_io(asset, entry["graph"])
            r2 = verify_export(rec, bundle, ins, expected, bound=RUNTIME_REF_BOUND)
            if _skip_for_tool(rep, "GX002", label, r2):
                continue
            status = "pass" if r2["ok"] else "fail"
            msg = f"vs runtime_ref float decode: {_summary(r2)}"
            rep.add("GX002", label, status, msg, report=r2)
            formats[label + " vs runtime_ref"] = msg
        elif shading and entry["precision"] == "fp32" and entry["graph"].startswith("shading_mlp"):
            ins, expected = _shading_runtime_ref_io(asset, entry["graph"])
            r2 = verify_export(rec, bundle, ins, expected, bound=RUNTIME_REF_BOUND)
            if _skip_for_tool(rep, "GX002", label, r2):
                continue
            status = "pass" if r2["ok"] else "fail"
            msg = f"vs runtime_ref fp32 evaluate: {_summary(r2)}"
            rep.add("GX002", label, status, msg, report=r2)
            formats[label + " vs runtime_ref"] = msg
    if formats:
        rep.checks[-1].details.setdefault("formats", formats)
        rep.summary["exports"] = formats


def _volume_gx002(rep: Report, asset, entry: dict, rec: dict, bundle: Path, label: str,
                  formats: dict[str, str]) -> None:
    from runtime_ref.graph_verify import verify_export

    brick = volume_brick(asset, entry["graph"])
    if brick is None:
        rep.add("GX002", label, "fail", f"{bundle / 'manifest.json'}: graph {entry['graph']!r} names no brick "
                f"of the volume ({', '.join(b.name for b in asset.bricks)})")
        return
    try:
        ins, expected = _volume_runtime_ref_io(asset, brick, rec, bundle)
    except AssetError as e:
        rep.add("GX002", label, "fail", str(e))
        return
    r2 = verify_export(rec, bundle, ins, expected, bound=RUNTIME_REF_BOUND)
    if _skip_for_tool(rep, "GX002", label, r2):
        return
    msg = f"vs runtime_ref float MLP ({asset.bricks[brick].name}): {_summary(r2)}"
    rep.add("GX002", label, "pass" if r2["ok"] else "fail", msg, report=r2)
    formats[label + " vs runtime_ref"] = msg


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

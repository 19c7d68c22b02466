"""Verification of PBR reconstruction bundles (numpy only): the checks of
``ngsdk.verify.catalog.pbr_reconstruction`` (manifest, files, weights, reference set, every Core ML export
through ngsdk's MIL interpreter, every ONNX export through onnxruntime, and with ``--source`` the quality of the
maps beside the naive baseline).

Bounds, in the maps' stored encoding ([0, 1]; normals 0.5 n + 0.5), measured on the CI-size student and the
mobile512 student (docs/pbr-reconstruction.md, "Verify"): fp32 programs ``FP32_BOUND`` max error on the
reference's float32 samples; fp16 programs every map at least ``FP16_MIN_PSNR`` dB against the fp32 outputs
and max error within ``FP16_BOUND``; image outputs (8-bit) of fp32 programs within one step of the rounded fp32
outputs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ngsdk.asset.errors import AssetError
from ngsdk.asset.pbr_reconstruction import MAPS, PbrReconstructionAsset, map_slices
from ngsdk.metrics import psnr
from ngsdk.toolchain import EXPORT_INSTALL, ToolchainError
from ngsdk.verify.catalog import Status
from ngsdk.verify.catalog import pbr_reconstruction as PB
from ngsdk.verify.report import Progress, Report, Silent, check_manifest_and_files

FP32_BOUND = 1e-4
FP16_MIN_PSNR = 40.0
FP16_BOUND = 0.1
IMAGE_FP32_STEPS = 1
QUALITY_SAMPLES = 8


def verify_pbr_reconstruction(
    bundle: str | Path,
    source: str | Path | None = None,
    *,
    manifest: dict[str, Any] | None = None,
    min_psnr: float | None = None,
    previews: str | Path | None = None,
    log: Callable[[str], None] | None = None,
    progress: Progress | None = None,
    context: bool = False,
    exports: bool = True,
) -> Report:
    """Run every PBR reconstruction check on ``bundle``; never raises for a bad bundle (it FAILs).

    ``report.summary`` holds the per-export errors and, with ``source``, the per-map figures of the network
    and of the naive baseline."""
    from ngsdk.runtime_ref.pbr_reconstruction import load_pbr_reconstruction

    log = log or (lambda s: None)
    progress = progress or Silent()
    bundle = Path(bundle)
    rep = Report(bundle=str(bundle), kind="pbr_reconstruction")
    manifest = check_manifest_and_files(rep, bundle, manifest, PB.MANIFEST, PB.FILES)
    if manifest is None:
        return rep
    try:
        asset = load_pbr_reconstruction(bundle, manifest)
    except AssetError as e:
        rep.add(PB.WEIGHTS, Status.FAIL, str(e))
        return rep
    _check_weights(rep, bundle, manifest, asset)
    _check_reference(rep, bundle, asset)
    if exports and rep.passed:
        _check_exports(rep, bundle, manifest, asset, progress, log)
    if source is None:
        rep.add(PB.SOURCE, Status.SKIP, "no --source given")
        rep.add(PB.QUALITY, Status.SKIP, "no --source given")
    elif rep.passed:
        _check_quality(rep, bundle, manifest, asset, Path(source), min_psnr, log)
    return rep


def _check_weights(rep: Report, bundle: Path, manifest: dict[str, Any], asset: PbrReconstructionAsset) -> None:
    path = bundle / manifest["weights"]["file"]
    bad = [k for k, v in asset.weights.items() if v.dtype.kind == "f" and not np.isfinite(v).all()]
    recorded = manifest["model"].get("parameters")
    if bad:
        rep.add(PB.WEIGHTS, Status.FAIL, f"{path}: {len(bad)} arrays hold NaN or infinity (first {bad[0]!r})")
    elif recorded is not None and recorded != asset.parameter_count():
        rep.add(PB.WEIGHTS, Status.FAIL, f"{path}: {asset.parameter_count()} parameters, the manifest records "
                f"{recorded}")
    else:
        rep.add(PB.WEIGHTS, Status.PASS, f"{asset.role} {asset.preset}: {len(asset.weights)} arrays, "
                f"{asset.parameter_count():,} parameters, {asset.input_size} -> {asset.output_size} px")
    rep.summary.update({"role": asset.role, "preset": asset.preset, "parameters": asset.parameter_count(),
                        "input_size": asset.input_size, "output_size": asset.output_size})


def _encoded_samples(asset: PbrReconstructionAsset) -> tuple[np.ndarray, np.ndarray]:
    """(flat indices, fp32 values in the stored encoding) of the reference's float32 samples."""
    ref = asset.reference
    assert ref is not None
    s = asset.output_size
    channel = (ref.at // (s * s)) % ref.maps16.shape[1]
    vals = ref.values.astype(np.float64)
    normal = (channel >= map_slices()["normal"].start) & (channel < map_slices()["normal"].stop)
    return ref.at, np.where(normal, vals * 0.5 + 0.5, vals)


def _check_reference(rep: Report, bundle: Path, asset: PbrReconstructionAsset) -> None:
    ref = asset.reference
    if ref is None:
        rep.add(PB.REFERENCE, Status.SKIP, "the bundle has no reference set (exports cannot be checked)")
        return
    path = bundle / "reference.npz"
    m = ref.maps16.astype(np.float64)
    sl = map_slices()
    norms = np.sqrt((m[:, sl["normal"]] ** 2).sum(1))
    unorm = np.concatenate([m[:, :sl["normal"].start]], 1)
    gap = float(np.abs(m.reshape(-1)[ref.at] - ref.values).max(initial=0.0))
    problems = []
    if not np.isfinite(m).all() or not np.isfinite(ref.values).all():
        problems.append("maps hold NaN or infinity")
    elif unorm.min() < 0 or unorm.max() > 1:
        problems.append(f"maps outside [0, 1] ({unorm.min():.3g} .. {unorm.max():.3g})")
    elif np.abs(norms - 1).max() > 5e-3:
        problems.append(f"normals are not unit vectors (length {norms.min():.4f} .. {norms.max():.4f})")
    elif gap > 2.0**-11 * max(1.0, float(np.abs(ref.values).max(initial=0))):
        problems.append(f"float32 samples differ from the float16 maps by {gap:.3g} (more than float16 rounding)")
    if problems:
        rep.add(PB.REFERENCE, Status.FAIL, f"{path}: {problems[0]}")
    else:
        rep.add(PB.REFERENCE, Status.PASS, f"{ref.samples} samples, {ref.views.shape[2]} px views -> "
                f"{ref.maps16.shape[2]} px maps, {ref.at.size} float32 samples")


def _compare(asset: PbrReconstructionAsset, got: np.ndarray, entry: dict[str, Any]) -> tuple[bool, str, dict]:
    """Compare encoded maps of one export's run with the reference; (ok, message, figures)."""
    ref = asset.reference
    assert ref is not None
    want16 = _encoded_reference(ref.maps16)
    at, want32 = _encoded_samples(asset)
    image = entry.get("io", {}).get("kind") == "image"
    err32 = float(np.abs(got.reshape(-1)[at] - want32).max())
    per_map = {m.name: round(psnr(float(((got[:, sl] - want16[:, sl]) ** 2).mean())), 2)
               for m, sl in zip(MAPS, map_slices().values(), strict=True)}
    figures: dict[str, Any] = {"max_abs_error": err32, "psnr": per_map, "io": "image" if image else "tensor"}
    if not np.isfinite(got).all():
        return False, "the run gives NaN or infinity", figures
    if entry["precision"] == "fp32" and image:
        steps = int(np.abs(np.rint(got.reshape(-1)[at] * 255) - np.rint(np.clip(want32, 0, 1) * 255)).max())
        figures["max_steps"] = steps
        ok = steps <= IMAGE_FP32_STEPS
        return ok, f"8-bit outputs within {steps} step(s) of the fp32 model (bound {IMAGE_FP32_STEPS})", figures
    if entry["precision"] == "fp32":
        ok = err32 <= FP32_BOUND
        return ok, f"max error {err32:.3g} (bound {FP32_BOUND:g})", figures
    worst = min(per_map.values())
    ok = worst >= FP16_MIN_PSNR and err32 <= FP16_BOUND
    psnrs = ", ".join(f"{k} {v:.1f}" for k, v in per_map.items())
    return ok, (f"PSNR vs the fp32 model {psnrs} dB (bar {FP16_MIN_PSNR:g}), max error {err32:.3g} "
                f"(bound {FP16_BOUND:g})"), figures


def _encoded_reference(maps16: np.ndarray) -> np.ndarray:
    from ngsdk.runtime_ref.pbr_reconstruction import encode_maps

    return encode_maps(maps16.astype(np.float64))


def _check_exports(rep: Report, bundle: Path, manifest: dict[str, Any], asset: PbrReconstructionAsset,
                   progress: Progress, log: Callable[[str], None]) -> None:
    from ngsdk.runtime_ref.graph_verify import check_files
    from ngsdk.runtime_ref.pbr_reconstruction import run_export

    entries = manifest.get("exports", [])
    progress.expect(len(entries))
    results: dict[str, str] = {}
    for entry in entries:
        label = f"{entry['format']} {entry['precision']} {entry['graph']}"
        code = PB.COREML if entry["format"] == "coreml" else PB.ONNX
        progress.step(f"check {label}")
        if asset.reference is None:
            rep.add(code, Status.SKIP, "no reference set to run the export on", name=label)
            continue
        rec = entry.get("details", {}).get("record")
        try:
            if rec is None:
                raise AssetError(bundle / "manifest.json", f"export {label} has no record")
            check_files(rec, bundle)
            got = run_export(bundle, entry, asset.reference.views)
            ok, msg, figures = _compare(asset, got, entry)
            if ok and entry["format"] == "onnx":
                first = run_export(bundle, entry, asset.reference.views[:1])
                gap = float(np.abs(first - got[:1]).max())
                figures["batch1_error"] = gap
                ok = gap <= 1e-6
                msg += f"; batch of one {'gives' if ok else 'differs from'} the first sample ({gap:.2g})"
        except ToolchainError as e:
            rep.add(code, Status.SKIP, f"not run: {e}", name=label, needs=EXPORT_INSTALL)
            results[label] = f"skipped: {e}"
            continue
        except (AssetError, ValueError) as e:
            rep.add(code, Status.FAIL, str(e), name=label)
            results[label] = str(e)
            continue
        log(f"{label}: {msg}")
        rep.add(code, Status.PASS if ok else Status.FAIL, msg, name=label, **figures)
        results[label] = msg
    if not entries:
        rep.add(PB.COREML, Status.SKIP, "no Core ML export (ngsdk export BUNDLE --format coreml)")
        rep.add(PB.ONNX, Status.SKIP, "no ONNX export (ngsdk export BUNDLE --format onnx)")
    rep.summary["exports"] = results


def _runner(manifest: dict[str, Any]) -> dict[str, Any] | None:
    """The export the quality check runs: fp32 ONNX (fastest), else fp32 Core ML, else fp16 Core ML."""
    order = [("onnx", "fp32"), ("coreml", "fp32"), ("coreml", "fp16")]
    found = {(e["format"], e["precision"]): e for e in manifest.get("exports", [])}
    return next((found[k] for k in order if k in found), None)


def _resize(x: np.ndarray, size: int) -> np.ndarray:
    """(H, W[, C]) float -> (size, size[, C]) bilinear (PIL, antialiased when shrinking)."""
    from PIL import Image

    if x.shape[0] == size and x.shape[1] == size:
        return x
    chans = x[..., None] if x.ndim == 2 else x
    out = np.stack([np.asarray(Image.fromarray(chans[..., c].astype(np.float32), "F").resize(
        (size, size), Image.Resampling.BILINEAR)) for c in range(chans.shape[-1])], -1)
    return out[..., 0] if x.ndim == 2 else out


def _check_quality(rep: Report, bundle: Path, manifest: dict[str, Any], asset: PbrReconstructionAsset,
                   source: Path, min_psnr: float | None, log: Callable[[str], None]) -> None:
    from ngsdk.pbr.layout import read_layout, read_material, read_views
    from ngsdk.pbr.maps import MaterialMaps, normalise
    from ngsdk.pbr.metrics import map_metrics, mean_metrics, naive_baseline
    from ngsdk.runtime_ref.pbr_reconstruction import run_export

    try:
        layout = read_layout(source)
        samples = layout.samples[:QUALITY_SAMPLES]
        if not samples:
            raise AssetError(source, "no samples in input/")
        truths, views = [], []
        h, s = asset.input_size, asset.output_size
        for sample in samples:
            raw = read_views(sample.views.get("dirty") or sample.views["clean"])
            views.append(np.stack([np.rint(np.clip(_resize(v.astype(np.float32), h), 0, 255)).astype(np.uint8)
                                   for v in raw]))
            t = read_material(layout, sample.material)
            truths.append((raw, MaterialMaps(_resize(t.albedo, s), _resize(t.roughness, s), _resize(t.metallic, s),
                                             normalise(_resize(t.normal, s)))))
    except AssetError as e:
        rep.add(PB.SOURCE, Status.FAIL, str(e))
        return
    rep.add(PB.SOURCE, Status.PASS, f"{len(samples)} samples of {len({x.material for x in samples})} materials "
            f"from {source}")
    entry = _runner(manifest)
    if entry is None:
        rep.add(PB.QUALITY, Status.SKIP, "no fp32/fp16 graph export to run the network with "
                "(ngsdk export BUNDLE --format onnx)")
        return
    try:
        got = run_export(bundle, entry, np.stack(views))
    except ToolchainError as e:
        rep.add(PB.QUALITY, Status.SKIP, f"not run: {e}", needs=EXPORT_INSTALL)
        return
    except (AssetError, ValueError) as e:
        rep.add(PB.QUALITY, Status.FAIL, str(e))
        return
    rows, base = [], []
    for enc, (raw, truth) in zip(got, truths, strict=True):
        x = enc.transpose(1, 2, 0)
        pred = MaterialMaps(x[..., 0:3], x[..., 3], x[..., 4], normalise(x[..., 5:8] * 2 - 1))
        rows.append(map_metrics(pred, truth))
        base.append(map_metrics(naive_baseline(raw, (s, s)), truth))
    net, naive = mean_metrics(rows), mean_metrics(base)
    mean_psnr = float(np.mean([net[f"{m.name}_psnr"] for m in MAPS]))
    rep.summary["quality"] = {"network": net, "naive_baseline": naive, "samples": len(rows),
                              "run_with": f"{entry['format']} {entry['precision']}"}
    msg = (f"{len(rows)} samples via {entry['format']} {entry['precision']}: albedo {net['albedo_psnr']:.2f} dB "
           f"(baseline {naive['albedo_psnr']:.2f}), roughness {net['roughness_psnr']:.2f} "
           f"({naive['roughness_psnr']:.2f}), metallic {net['metallic_psnr']:.2f} ({naive['metallic_psnr']:.2f}), "
           f"normal angle mean/median/p90 {net['normal_angle_mean']:.1f}/{net['normal_angle_median']:.1f}/"
           f"{net['normal_angle_p90']:.1f} deg (baseline {naive['normal_angle_mean']:.1f}/"
           f"{naive['normal_angle_median']:.1f}/{naive['normal_angle_p90']:.1f})")
    log(msg)
    if min_psnr is not None and mean_psnr < min_psnr:
        rep.add(PB.QUALITY, Status.FAIL, f"mean map PSNR {mean_psnr:.2f} dB is below --min-psnr {min_psnr:g}: {msg}",
                network=net, naive_baseline=naive)
    else:
        rep.add(PB.QUALITY, Status.PASS, msg, network=net, naive_baseline=naive)

"""Verification of super-sampling bundles (numpy only): the checks of ``ngsdk.verify.catalog.supersampling``
(manifest, files, weights, the float and int8 networks and the whole pipeline over the reference clip, the int8
VGF against runtime_ref on lavapipe, quality on source sequences), then the graph exports
(``ngsdk.verify.exports``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ngsdk.asset.errors import AssetError
from ngsdk.asset.supersampling import OUTPUTS, SupersamplingAsset, export_input
from ngsdk.verify.catalog import Status
from ngsdk.verify.catalog import supersampling as SS
from ngsdk.verify.exports import verify_exports
from ngsdk.verify.report import Progress, Report, Silent, check_manifest_and_files

FLOAT_BOUND = 1e-4
INT8_REPLAY_MEAN, INT8_REPLAY_MAX = 1e-5, 2.0 ** -5
SOURCE_CROP = 128
"""Largest input-resolution side of the centre crop the quality check runs on (the NumPy pipeline is slow)."""
GRAPH = "supersampling"


def _graph_io(x: np.ndarray, outs: np.ndarray, layout: str) -> tuple[dict, dict]:
    if layout == "NHWC":
        ins = {"net_input": x.transpose(1, 2, 0)[None]}
        exp = {n: outs[4 * i:4 * i + 4].transpose(1, 2, 0)[None] for i, n in enumerate(OUTPUTS)}
    else:
        ins = {"net_input": x[None]}
        exp = {n: outs[4 * i:4 * i + 4][None] for i, n in enumerate(OUTPUTS)}
    return ins, exp


def _reference(asset: SupersamplingAsset, entry: dict[str, Any]) -> tuple[dict, dict, str] | None:
    """runtime_ref's float network on the export's input, for the fp32 graphs (ONNX, VGF fp32)."""
    from ngsdk.runtime_ref.supersampling import net_float

    if entry["precision"] != "fp32" or entry["graph"] != GRAPH:
        return None
    layout = entry["io"]["inputs"][0]["layout"]
    x = export_input(asset, "fp32")
    ins, exp = _graph_io(x, net_float(asset, x), layout)
    return ins, exp, "float32 network"


def _check_int8_vgf(rep: Report, bundle: Path, asset: SupersamplingAsset, manifest: dict[str, Any]) -> None:
    from ngsdk.runtime_ref.graph_verify import verify_export
    from ngsdk.runtime_ref.supersampling import dequantize_outputs, net_int8

    entries = [e for e in manifest.get("exports", []) if e["format"] == "vgf" and e["precision"] == "int8"
               and e["graph"] == GRAPH]
    if not entries or asset.int8 is None:
        rep.add(SS.INT8_VGF, Status.SKIP, "no int8 VGF export in the bundle (`ngsdk export B --format vgf`)")
        return
    rec = entries[0]["details"]["record"]
    x = export_input(asset, "int8")
    codes = net_int8(asset.int8, x)
    ins, exp = _graph_io(x, dequantize_outputs(asset.int8, codes), "NHWC")
    r = verify_export(rec, bundle, ins, exp, bound=0.0)
    if r.get("missing_tool"):
        rep.add(SS.INT8_VGF, Status.SKIP, f"not run: {r['missing_tool']}", report=r)
        return
    run = r.get("runs", {}).get("lavapipe", {})
    if r["ok"]:
        rep.add(SS.INT8_VGF, Status.PASS, f"{rec['path']} on lavapipe: 0 mismatches in {codes.size} int8 outputs "
                f"({asset.export_size[1]}x{asset.export_size[0]})", report=r)
    else:
        msg = f"{run.get('mismatches', '?')} mismatches" if run else (r["errors"] or ["failed"])[0]
        rep.add(SS.INT8_VGF, Status.FAIL, f"{rec['path']} on lavapipe differs from runtime_ref: {msg}", report=r)


def _check_clip(rep: Report, asset: SupersamplingAsset, log: Callable[[str], None]) -> None:
    from ngsdk.runtime_ref.supersampling import net_float, net_int8, replay_clip

    clip = asset.clip
    t = clip["colour"].shape[0]
    err = max(float(np.abs(net_float(asset, clip["fp32_net_input"][i]) - clip["fp32_net_outputs"][i]).max())
              for i in range(t))
    status = Status.PASS if err <= FLOAT_BOUND else Status.FAIL
    rep.add(SS.FLOAT_NETWORK, status, f"{t} frames, max error {err:.3g} (bound {FLOAT_BOUND:g})", max_abs_error=err)
    if asset.int8 is None:
        rep.add(SS.INT8_NETWORK, Status.SKIP, "the bundle has no int8 network (trained without QAT)")
    else:
        mism = sum(int(np.count_nonzero(net_int8(asset.int8, clip["int8_net_input"][i]) != clip["int8_net_codes"][i]))
                   for i in range(t))
        n = clip["int8_net_codes"].size
        rep.add(SS.INT8_NETWORK, Status.PASS if mism == 0 else Status.FAIL,
                f"{mism} mismatches in {n} int8 output codes over {t} frames (TOSA arithmetic)", mismatches=mism)
    msgs, ok, details = [], True, {}
    for p in ("fp32", "int8") if asset.int8 is not None else ("fp32",):
        got = replay_clip(asset, p)["output"]
        d = np.abs(got - clip[f"{p}_output"])
        mx, mean = float(d.max()), float(d.mean())
        details[p] = {"max_abs_error": mx, "mean_abs_error": mean}
        good = mx <= FLOAT_BOUND if p == "fp32" else (mean <= INT8_REPLAY_MEAN and mx <= INT8_REPLAY_MAX)
        ok = ok and good
        msgs.append(f"{p} max {mx:.3g} mean {mean:.2g}")
        log(f"clip replay {p}: max {mx:.3g}, mean {mean:.3g}")
    rep.add(SS.CLIP_REPLAY, Status.PASS if ok else Status.FAIL, f"{t} frames replayed: " + ", ".join(msgs),
            **details)


def quality_table(asset: SupersamplingAsset, seqs: list[Any], log: Callable[[str], None] = lambda s: None,
                  crop: int | None = SOURCE_CROP) -> dict[str, dict[str, Any]]:
    """PSNR, tPSNR, recPSNR and SSIM (Reinhard frames) of fp32, int8 (if the asset has it), bilinear and TAAU
    over ``seqs`` (``SafetensorsSequence`` readers), each on a centre crop of at most ``crop`` input pixels a
    side (None: whole frames). Works on an in-memory asset (no bundle, no jsonschema)."""
    from ngsdk.runtime_ref.supersampling import F32, Frame, run_frames
    from ngsdk.runtime_ref.supersampling_metrics import bilinear_frames, sequence_metrics, taau_frames

    results: dict[str, list[np.ndarray]] = {k: [] for k in ("fp32", "int8", "bilinear", "taau", "truth", "exp")}
    for s in seqs:
        h, w = s.lr_size
        ch, cw = (h, w) if crop is None else (min(h, crop), min(w, crop))
        y, x = (h - ch) // 2, (w - cw) // 2
        seq = s.read(0, len(s), (2 * y, 2 * x, 2 * ch, 2 * cw))
        logexp = np.full(len(seq), asset.exposure, F32) if asset.exposure is not None else seq.exposure
        frames = [Frame(seq.colour[t], seq.depth[t], seq.motion[t], seq.jitter[t], seq.depth_params[t],
                        float(np.exp(F32(logexp[t])))) for t in range(len(seq))]
        for p in ("fp32", "int8") if asset.int8 is not None else ("fp32",):
            results[p].append(run_frames(asset, frames, seq.full_render_size, p)["output"])
        results["bilinear"].append(bilinear_frames(frames))
        results["taau"].append(taau_frames(frames))
        results["truth"].append(seq.ground_truth)
        results["exp"].append(np.exp(logexp.astype(np.float64)).astype(F32))
        log(f"quality: sequence {s.name} ({len(seq)} frames, {2 * cw}x{2 * ch} crop)")
    return {k: sequence_metrics(results[k], results["truth"], results["exp"])
            for k in ("fp32", "int8", "bilinear", "taau") if results[k]}


def _check_source(rep: Report, asset: SupersamplingAsset, source: Path, min_psnr: float | None,
                  log: Callable[[str], None]) -> None:
    from ngsdk.supersampling.safetensors_io import SafetensorsSequence, find_sequence_files

    try:
        files = find_sequence_files(source) if source.is_dir() else [source]
        if not files:
            raise AssetError(source, "holds no .safetensors sequences")
        seqs = [SafetensorsSequence(f) for f in files]
    except (AssetError, OSError, ValueError) as e:
        rep.add(SS.QUALITY, Status.FAIL, str(e))
        return
    table = quality_table(asset, seqs, log)
    rep.summary["quality"] = table
    main = "int8" if "int8" in table else "fp32"
    msg = "; ".join(f"{k} PSNR {v['psnr']:.2f} tPSNR {v['tpsnr']} SSIM {v['ssim']:.3f}" for k, v in table.items())
    msg += f" ({len(seqs)} sequences, FLIP not computed)"
    if min_psnr is not None and table[main]["psnr"] < min_psnr:
        rep.add(SS.QUALITY, Status.FAIL, f"{main} PSNR {table[main]['psnr']:.2f} dB is below --min-psnr "
                f"{min_psnr:g}: {msg}", metrics=table)
    else:
        rep.add(SS.QUALITY, Status.PASS, msg, metrics=table)


def verify_supersampling(bundle: str | Path, source: str | Path | None = None, *,
                         manifest: dict[str, Any] | None = None, min_psnr: float | None = None,
                         previews: str | Path | None = None, log: Callable[[str], None] | None = None,
                         progress: Progress | None = None, context: bool = False, exports: bool = True) -> Report:
    """Run every super-sampling check on ``bundle``; never raises for a bad bundle (it FAILs). ``source``: a
    folder of gym ``.safetensors`` sequences (held-out data) for the quality check."""
    from ngsdk.runtime_ref.supersampling import load_supersampling

    log = log or (lambda s: None)
    progress = progress or Silent()
    bundle = Path(bundle)
    rep = Report(bundle=str(bundle), kind="supersampling")
    manifest = check_manifest_and_files(rep, bundle, manifest, SS.MANIFEST, SS.FILES)
    if manifest is None:
        return rep
    try:
        asset = load_supersampling(bundle, manifest)
    except AssetError as e:
        rep.add(SS.WEIGHTS, Status.FAIL, str(e))
        return rep
    rep.add(SS.WEIGHTS, Status.PASS, f"{asset.parameter_count()} float parameters"
            + (f", int8 network ({asset.int8.stored_bytes()} bytes)" if asset.int8 is not None else ", no int8"))
    progress.expect(2)
    progress.step("replay the reference clip (NumPy)")
    _check_clip(rep, asset, log)
    progress.step("int8 VGF on lavapipe")
    if exports and rep.passed:
        _check_int8_vgf(rep, bundle, asset, manifest)
    else:
        rep.add(SS.INT8_VGF, Status.SKIP, "not run (earlier checks failed, or exports not checked)")
    if source is None:
        rep.add(SS.QUALITY, Status.SKIP, "no --source given")
    else:
        _check_source(rep, asset, Path(source), min_psnr, log)
    rep.summary.update({"parameters": asset.parameter_count(), "export_size": list(asset.export_size)})
    if exports and rep.passed:
        verify_exports(rep, bundle, manifest, lambda e, rec: _reference(asset, e), progress)
    return rep

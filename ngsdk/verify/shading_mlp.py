"""Verification of shading-MLP bundles (numpy only): the checks of ``ngsdk.verify.catalog.shading_mlp``
(manifest, files, weights, portable exports, fp16 and fp32 decode, source, quality), then the graph exports
(``ngsdk.verify.exports``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ngsdk.asset.digest import decode_hash, sha256_file
from ngsdk.asset.errors import AssetError
from ngsdk.asset.shading_mlp import ShadingMlpAsset, texel_centres
from ngsdk.verify.catalog import Status
from ngsdk.verify.catalog import shading_mlp as SM
from ngsdk.verify.exports import verify_exports
from ngsdk.verify.report import (
    Progress,
    Report,
    Silent,
    check_manifest_and_files,
    check_recorded_psnr,
    require_recorded_psnr,
)

_CHECK_TEXELS = 4096
_GRAPH_REFERENCE_TEXELS = 8192


def _portable_checks(bundle: Path, asset: Any) -> tuple[list[str], list[str]]:
    """(problems, notes) comparing every portable network file with the bundle's weights."""
    from ngsdk.runtime_ref.shading_mlp_files import read_network_binary, read_network_json

    problems, notes = [], []
    ref = {"fp16": asset.fp16_layers(), "fp32": [(ly.weight, ly.bias) for ly in asset.decoder.layers]}
    acts = [ly.activation for ly in asset.decoder.layers]
    for entry in asset.portable:
        fmt, path = entry["format"], bundle / entry["file"]
        if fmt not in ("rtxns_json", "mlp_bin"):
            continue
        try:
            nf = read_network_json(path) if fmt == "rtxns_json" else read_network_binary(path)
        except AssetError as e:
            problems.append(str(e))
            continue
        want = ref[nf.dtype]
        same = len(nf.weights) == len(want) and all(
            np.array_equal(
                w.view(np.uint16 if nf.dtype == "fp16" else np.uint32),
                ww.view(np.uint16 if nf.dtype == "fp16" else np.uint32),
            )
            and np.array_equal(
                b.view(np.uint16 if nf.dtype == "fp16" else np.uint32),
                bb.view(np.uint16 if nf.dtype == "fp16" else np.uint32),
            )
            for (w, b), (ww, bb) in zip(zip(nf.weights, nf.biases, strict=False), want, strict=False)
        )
        if not same:
            problems.append(f"{path}: {nf.dtype} weights differ from the bundle's")
        elif nf.activations != acts:
            problems.append(f"{path}: activations {nf.activations} differ from the bundle's {acts}")
        elif nf.encoding is not None and nf.encoding != asset.encoding:
            problems.append(f"{path}: encoding {nf.encoding} differs from the bundle's {asset.encoding}")
        else:
            notes.append(entry["file"])
    return problems, notes


def verify_shading_mlp(
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
    """Run every shading-MLP check on ``bundle``; never raises for a bad bundle (it FAILs).

    ``report.summary`` holds ``psnr_fp16``/``psnr_fp32`` (with ``source``), decode times and the
    hashes; ``report.to_json()`` is the dict form. ``exports``: also check the graph exports (when every other
    check passed). ValueError for ``min_psnr`` with neither a source nor a recorded PSNR.
    """
    from ngsdk.runtime_ref.shading_mlp import decode_image, evaluate_layers, load_shading_mlp
    from ngsdk.runtime_ref.shading_mlp_files import read_network_json

    log = log or (lambda s: None)
    progress = progress or Silent()
    bundle = Path(bundle)
    rep = Report(bundle=str(bundle), kind="shading_mlp")
    manifest = check_manifest_and_files(rep, bundle, manifest, SM.MANIFEST, SM.FILES)
    if manifest is None:
        return rep
    require_recorded_psnr(manifest["provenance"].get("metrics", {}).get("psnr_fp16"), min_psnr, source)
    try:
        asset = load_shading_mlp(bundle, manifest)
    except AssetError as e:
        rep.add(SM.WEIGHTS, Status.FAIL, str(e))
        return rep
    sizes = [asset.encoding.features] + [ly.outputs for ly in asset.decoder.layers]
    rep.add(SM.WEIGHTS, Status.PASS, f"{asset.encoding.kind} encoding, {' -> '.join(map(str, sizes))}, "
            f"{asset.parameter_count()} parameters")

    problems, notes = _portable_checks(bundle, asset)
    if problems:
        rep.add(SM.PORTABLE_EXPORTS, Status.FAIL, problems[0], problems=problems)
    elif notes:
        rep.add(SM.PORTABLE_EXPORTS, Status.PASS, f"{len(notes)} network files hold exactly the bundle's weights",
                files=notes)
    else:
        rep.add(SM.PORTABLE_EXPORTS, Status.SKIP, "no JSON or binary network files in the bundle")

    progress.expect(1)
    progress.step("decode the shading MLP (fp16 and fp32)")
    recorded = asset.provenance.reference_decode
    t0 = time.perf_counter()
    dec16 = decode_image(asset, "fp16")
    t16 = time.perf_counter() - t0
    log(f"fp16 decode {asset.width}x{asset.height} in {t16:.1f} s")
    h16 = decode_hash(dec16)
    json_entries = [e for e in asset.portable if e["format"] == "rtxns_json"]
    json_note, json_bad = "", False
    if json_entries and not problems:
        # the JSON file on its own (not the npz) must give the same bits on a spread of texels
        nf = read_network_json(bundle / json_entries[0]["file"])
        n = asset.width * asset.height
        idx = np.linspace(0, n - 1, min(n, _CHECK_TEXELS)).astype(np.int64)
        uv = texel_centres(asset.width, asset.height)[idx]
        got = evaluate_layers([(w, b, a) for w, b, a in zip(nf.weights, nf.biases, nf.activations, strict=False)],
                              nf.encoding or asset.encoding, nf.leaky_slope, uv, "fp16")
        json_bad = not np.array_equal(got.view(np.uint16), dec16.reshape(-1, dec16.shape[-1])[idx].view(np.uint16))
        json_note = f"; {json_entries[0]['file']} gives the same bits on {len(idx)} texels" if not json_bad else ""
    if np.isnan(dec16).any():
        rep.add(SM.FP16_DECODE, Status.FAIL,
                f"{int(np.isnan(dec16).any(axis=-1).sum())} texels decode to NaN (fp16 overflow to inf - inf); "
                "NaN is outside the decode contract, so engines may show anything there")
    elif "fp16" in recorded and recorded["fp16"] != h16:
        rep.add(SM.FP16_DECODE, Status.FAIL, "runtime_ref's fp16 decode differs from the trained model's",
                recorded=recorded["fp16"], got=h16)
    elif json_bad:
        rep.add(SM.FP16_DECODE, Status.FAIL, f"{json_entries[0]['file']} evaluates to different bits than the bundle")
    elif "fp16" not in recorded:
        rep.missing_reference(SM.FP16_DECODE, f"{asset.width}x{asset.height} texels: bundle records no fp16 "
                              "reference decode hash", seconds=round(t16, 2), sha256=h16)
    else:
        rep.add(SM.FP16_DECODE, Status.PASS, f"{asset.width}x{asset.height} texels matches the trained model bit "
                f"for bit{json_note}", seconds=round(t16, 2), sha256=h16)

    t0 = time.perf_counter()
    dec32 = decode_image(asset, "fp32")
    t32 = time.perf_counter() - t0
    h32 = decode_hash(dec32)
    if "fp32" in recorded and recorded["fp32"] != h32:
        rep.add(SM.FP32_DECODE, Status.FAIL, "runtime_ref's strict fp32 decode differs from the trained model's",
                recorded=recorded["fp32"], got=h32)
    elif "fp32" not in recorded:
        rep.missing_reference(SM.FP32_DECODE, "bundle records no fp32 reference decode hash",
                              seconds=round(t32, 2), sha256=h32)
    else:
        rep.add(SM.FP32_DECODE, Status.PASS, "strict fp32 decode matches the trained model bit for bit",
                seconds=round(t32, 2), sha256=h32)
    rep.summary.update({"width": asset.width, "height": asset.height, "decode_fp16_seconds": round(t16, 3),
                        "decode_fp32_seconds": round(t32, 3), "sha256_fp16": h16, "sha256_fp32": h32,
                        "parameters": asset.parameter_count()})

    if source is None:
        rep.add(SM.SOURCE, Status.SKIP, "no --source given")
        if min_psnr is not None:
            check_recorded_psnr(rep, SM.QUALITY, asset.provenance.metrics.get("psnr_fp16"), min_psnr,
                                "PSNR of the fp16 decode")
        else:
            rep.add(SM.QUALITY, Status.SKIP, "no --source given")
    else:
        _check_source(rep, asset, Path(source), dec16, dec32, min_psnr, previews)
    if exports and rep.passed:
        verify_exports(rep, bundle, manifest, lambda e, rec: _graph_reference(asset, e), progress)
    return rep


def _check_source(rep: Report, asset: ShadingMlpAsset, source: Path, dec16: np.ndarray, dec32: np.ndarray,
                  min_psnr: float | None, previews: str | Path | None) -> None:
    """The source check (the image's recorded sha256) and quality (PSNR of both decodes against it)."""
    from ngsdk.runtime_ref.shading_mlp import psnr, reference_image
    from ngsdk.shading.images import load_image

    want = asset.provenance.sources.get(source.name)
    try:
        digest = sha256_file(source)
    except OSError as e:
        rep.add(SM.SOURCE, Status.FAIL, f"{source}: cannot read ({e.strerror or e})")
        return
    if want is None:
        rep.add(SM.SOURCE, Status.WARN, f"{source.name} is not among the recorded sources "
                f"({', '.join(asset.provenance.sources) or 'none'})")
    elif want != digest:
        rep.add(SM.SOURCE, Status.WARN, f"{source} differs from the file the asset was trained on")
    else:
        rep.add(SM.SOURCE, Status.PASS, f"{source.name} matches the recorded sha256")
    try:
        img = load_image(source)
    except AssetError as e:
        rep.add(SM.QUALITY, Status.FAIL, str(e))
        return
    ref = reference_image(img, asset.width, asset.height, asset.transform, asset.target_filter)
    p16 = psnr(dec16, ref)
    p32 = psnr(dec32, ref)
    rep.summary.update({"psnr_fp16": round(p16, 4), "psnr_fp32": round(p32, 4)})
    msg = f"PSNR {p16:.2f} dB (fp16 decode, as engines show it), {p32:.2f} dB (fp32)"
    if min_psnr is not None and p16 < min_psnr:
        rep.add(SM.QUALITY, Status.FAIL, f"{msg} is below --min-psnr {min_psnr:g}", psnr_fp16=p16, psnr_fp32=p32)
    else:
        rep.add(SM.QUALITY, Status.PASS, msg, psnr_fp16=p16, psnr_fp32=p32)
    if previews is not None:
        from ngsdk.shading.previews import write_preview

        out = write_preview(Path(previews) / f"{asset.name}_verify.png", ref, dec16.astype(np.float32),
                            f"{p16:.2f} dB")
        rep.previews.append(str(out))


def _graph_reference(asset: ShadingMlpAsset, entry: dict[str, Any]) -> tuple[dict, dict, str] | None:
    """What an fp32 export is compared with (the export check against runtime_ref): ``evaluate(asset, uv,
    "fp32")`` on 8192 texel centres spread over the image (the graph's encoding is exact in float32, so only the
    graph runtime's matmul arithmetic differs: measured about 3e-7)."""
    from ngsdk.runtime_ref.shading_mlp import encode, evaluate

    if entry["precision"] != "fp32" or not entry["graph"].startswith("shading_mlp"):
        return None
    centres = texel_centres(asset.width, asset.height)
    pick = np.linspace(0, len(centres) - 1, _GRAPH_REFERENCE_TEXELS).round().astype(np.int64)
    uv = np.ascontiguousarray(centres[pick])
    ins = {"uv": uv} if entry["graph"] == "shading_mlp" else {"features": encode(uv, asset.encoding, "fp32")}
    return ins, {"rgb": evaluate(asset, uv, "fp32")}, "fp32 evaluate"

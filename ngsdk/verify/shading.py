"""Verification of shading-MLP bundles (numpy only).

Check codes (stable):
- ``SM001`` manifest: JSON, format version, schema.
- ``SM002`` files: every listed file present with matching size and sha256.
- ``SM003`` weights: npz arrays agree with the manifest.
- ``SM004`` portable exports: the RTXNS JSON and every binary layout read back to exactly the
  bundle's fp16 (or fp32) weights, encoding and activations.
- ``SM005`` fp16 decode: runtime_ref's fp16 decode of every texel hashes to the value the trainer
  recorded, and the JSON network evaluated independently of the bundle gives the same bits.
- ``SM006`` fp32 decode: the strict fp32 decode hashes to the recorded value.
- ``SM007`` source: the source file matches the hash in the provenance.
- ``SM008`` quality: PSNR of the fp16 decode (what engines show) and the fp32 decode against the
  source, looked up as in training (transform, filter).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ngsdk.asset.digest import decode_hash, sha256_file
from ngsdk.asset.errors import AssetError
from ngsdk.verify.report import Report, check_manifest_and_files, check_recorded_psnr

_CHECK_TEXELS = 4096


def _portable_checks(bundle: Path, asset: Any) -> tuple[list[str], list[str]]:
    """(problems, notes) comparing every portable network file with the bundle's weights."""
    from runtime_ref.shading_files import read_network_binary, read_network_json

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


def verify_shading_bundle(
    bundle: str | Path,
    source: str | Path | None = None,
    *,
    manifest: dict[str, Any] | None = None,
    min_psnr: float | None = None,
    previews: str | Path | None = None,
    log: Callable[[str], None] | None = None,
) -> Report:
    """Run every shading-MLP check on ``bundle``; never raises for a bad bundle (it FAILs).

    ``report.summary`` holds ``psnr_fp16``/``psnr_fp32`` (with ``source``), decode times and the
    hashes; ``report.to_json()`` is the dict form.
    """
    from runtime_ref.shading import (
        decode_image,
        evaluate_layers,
        psnr,
        reference_image,
        texel_centres,
    )
    from runtime_ref.shading_bundle import load_shading_mlp
    from runtime_ref.shading_files import read_network_json

    log = log or (lambda s: None)
    bundle = Path(bundle)
    rep = Report(bundle=str(bundle), kind="shading_mlp")
    manifest = check_manifest_and_files(rep, bundle, manifest, "SM")
    if manifest is None:
        return rep
    try:
        asset = load_shading_mlp(bundle, manifest)
    except AssetError as e:
        rep.add("SM003", "weights", "fail", str(e))
        return rep
    sizes = [asset.encoding.features] + [ly.outputs for ly in asset.decoder.layers]
    rep.add(
        "SM003",
        "weights",
        "pass",
        f"{asset.encoding.kind} encoding, {' -> '.join(map(str, sizes))}, "
        f"{asset.parameter_count()} parameters",
    )

    problems, notes = _portable_checks(bundle, asset)
    if problems:
        rep.add("SM004", "portable exports", "fail", problems[0], problems=problems)
    elif notes:
        rep.add(
            "SM004",
            "portable exports",
            "pass",
            f"{len(notes)} network files hold exactly the bundle's weights",
            files=notes,
        )
    else:
        rep.add("SM004", "portable exports", "skip", "no JSON or binary network files in the bundle")

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
        got = evaluate_layers(
            [(w, b, a) for w, b, a in zip(nf.weights, nf.biases, nf.activations, strict=False)],
            nf.encoding or asset.encoding,
            nf.leaky_slope,
            uv,
            "fp16",
        )
        json_bad = not np.array_equal(
            got.view(np.uint16), dec16.reshape(-1, dec16.shape[-1])[idx].view(np.uint16)
        )
        json_note = (
            f"; {json_entries[0]['file']} gives the same bits on {len(idx)} texels" if not json_bad else ""
        )
    if np.isnan(dec16).any():
        rep.add(
            "SM005",
            "fp16 decode",
            "fail",
            f"{int(np.isnan(dec16).any(axis=-1).sum())} texels decode to NaN (fp16 overflow to inf - inf); "
            "NaN is outside the decode contract, so engines may show anything there",
        )
    elif "fp16" in recorded and recorded["fp16"] != h16:
        rep.add(
            "SM005",
            "fp16 decode",
            "fail",
            "runtime_ref's fp16 decode differs from the trained model's",
            recorded=recorded["fp16"],
            got=h16,
        )
    elif json_bad:
        rep.add(
            "SM005",
            "fp16 decode",
            "fail",
            f"{json_entries[0]['file']} evaluates to different bits than the bundle",
        )
    else:
        status = "pass" if "fp16" in recorded else "warn"
        what = (
            "matches the trained model bit for bit" if "fp16" in recorded else "no recorded hash to compare"
        )
        rep.add(
            "SM005",
            "fp16 decode",
            status,
            f"{asset.width}x{asset.height} texels {what}{json_note}",
            seconds=round(t16, 2),
            sha256=h16,
        )

    t0 = time.perf_counter()
    dec32 = decode_image(asset, "fp32")
    t32 = time.perf_counter() - t0
    h32 = decode_hash(dec32)
    if "fp32" in recorded and recorded["fp32"] != h32:
        rep.add(
            "SM006",
            "fp32 decode",
            "fail",
            "runtime_ref's strict fp32 decode differs from the trained model's",
            recorded=recorded["fp32"],
            got=h32,
        )
    else:
        status = "pass" if "fp32" in recorded else "warn"
        what = (
            "matches the trained model bit for bit" if "fp32" in recorded else "no recorded hash to compare"
        )
        rep.add(
            "SM006", "fp32 decode", status, f"strict fp32 decode {what}", seconds=round(t32, 2), sha256=h32
        )
    rep.summary.update(
        {
            "width": asset.width,
            "height": asset.height,
            "decode_fp16_seconds": round(t16, 3),
            "decode_fp32_seconds": round(t32, 3),
            "sha256_fp16": h16,
            "sha256_fp32": h32,
            "parameters": asset.parameter_count(),
        }
    )

    if source is None:
        rep.add("SM007", "source", "skip", "no --source given")
        if min_psnr is not None:
            check_recorded_psnr(rep, "SM008", asset.provenance.metrics.get("psnr_fp16"), min_psnr,
                                "PSNR of the fp16 decode")
        else:
            rep.add("SM008", "quality", "skip", "no --source given")
        return rep
    source = Path(source)
    want = asset.provenance.sources.get(source.name)
    try:
        digest = sha256_file(source)
    except OSError as e:
        rep.add("SM007", "source", "fail", f"{source}: cannot read ({e.strerror or e})")
        return rep
    if want is None:
        rep.add(
            "SM007",
            "source",
            "warn",
            f"{source.name} is not among the recorded sources "
            f"({', '.join(asset.provenance.sources) or 'none'})",
        )
    elif want != digest:
        rep.add("SM007", "source", "warn", f"{source} differs from the file the asset was trained on")
    else:
        rep.add("SM007", "source", "pass", f"{source.name} matches the recorded sha256")
    from ngsdk.shading.images import load_image

    try:
        img = load_image(source)
    except AssetError as e:
        rep.add("SM008", "quality", "fail", str(e))
        return rep
    ref = reference_image(img, asset.width, asset.height, asset.transform, asset.target_filter)
    p16 = psnr(dec16, ref)
    p32 = psnr(dec32, ref)
    rep.summary.update({"psnr_fp16": round(p16, 4), "psnr_fp32": round(p32, 4)})
    msg = f"PSNR {p16:.2f} dB (fp16 decode, as engines show it), {p32:.2f} dB (fp32)"
    if min_psnr is not None and p16 < min_psnr:
        rep.add(
            "SM008",
            "quality",
            "fail",
            f"{msg} is below --min-psnr {min_psnr:g}",
            psnr_fp16=p16,
            psnr_fp32=p32,
        )
    else:
        rep.add("SM008", "quality", "pass", msg, psnr_fp16=p16, psnr_fp32=p32)
    if previews is not None:
        from ngsdk.shading.previews import write_preview

        out = write_preview(
            Path(previews) / f"{asset.name}_verify.png", ref, dec16.astype(np.float32), f"{p16:.2f} dB"
        )
        rep.previews.append(str(out))
    return rep

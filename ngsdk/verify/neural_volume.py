"""Verification of neural volume bundles (numpy only): the checks of ``ngsdk.verify.catalog.neural_volume``
(manifest and files, grids and decoders, decode consistency, quality, seams between bricks, compression),
then the graph exports (``ngsdk.verify.exports``)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ngsdk.asset.digest import decode_hash, sha256_file
from ngsdk.asset.errors import AssetError
from ngsdk.asset.neural_volume import NeuralVolumeAsset
from ngsdk.metrics import psnr
from ngsdk.verify.catalog import Status
from ngsdk.verify.catalog import neural_volume as VX
from ngsdk.verify.exports import verify_exports
from ngsdk.verify.report import (
    Progress,
    Report,
    Silent,
    check_manifest_and_files,
    check_recorded_psnr,
    require_recorded_psnr,
)

SEAM_SAMPLE_LIMIT = 1 << 20
"""Voxels decoded per brick pair for the seams check; larger overlaps are sampled on a regular stride."""


def load_source(path: str | Path, asset: Any) -> np.ndarray:
    """The source volume (D, H, W) as float64, normalized with the asset's normalization.

    Reads with ``ngsdk.volumes.ingest.load_volume`` (every supported format); where that module is
    absent, plain ``.npy`` files (z, y, x). Raises AssetError naming the file.
    """
    path = Path(path)
    nrm = asset.normalization
    span = nrm.vmax - nrm.vmin
    try:
        from ngsdk.volumes.ingest import load_volume
    except ImportError:
        load_volume = None
    if load_volume is not None:
        data = load_volume(path)
        dn = data.normalization
        raw = np.asarray(data.values, dtype=np.float64) * (dn.vmax - dn.vmin) + dn.vmin
    else:
        if path.suffix.lower() != ".npy":
            raise AssetError(path, "only .npy sources can be read here (ngsdk.volumes.ingest is not installed)")
        from ngsdk.asset.limits import MAX_INPUT_BYTES
        from ngsdk.asset.safe_read import load_npy

        raw = load_npy(path, limit=MAX_INPUT_BYTES, what="source volume")
        if raw.ndim != 3 or raw.dtype.kind not in "uif":
            raise AssetError(path, f"expected a 3-D numeric array (z, y, x), found {raw.dtype} {raw.shape}")
        raw = raw.astype(np.float64)
    if tuple(raw.shape) != tuple(asset.shape):
        raise AssetError(path, f"source is {tuple(raw.shape)} (z, y, x), the bundle models {tuple(asset.shape)}")
    return (raw - nrm.vmin) / span if span > 0 else raw - nrm.vmin


def volume_metrics(decoded: np.ndarray, source_n: np.ndarray, asset: Any) -> dict[str, Any]:
    """PSNR / max abs error of a normalized decode against the normalized source, and in source units.

    Source units: errors scaled by ``vmax - vmin``; the PSNR peak is the source dtype's full range for
    integer sources (255 for uint8), ``vmax - vmin`` for float sources.
    """
    err = decoded.astype(np.float64) - source_n
    finite = np.isfinite(source_n)
    err = err[finite]
    mse = float(np.mean(err * err)) if err.size else 0.0
    max_abs = float(np.max(np.abs(err))) if err.size else 0.0
    nrm = asset.normalization
    span = nrm.vmax - nrm.vmin
    dt = np.dtype(nrm.source_dtype)
    peak = float(np.iinfo(dt).max) - float(np.iinfo(dt).min) if dt.kind in "ui" else span
    return {
        "psnr_db": psnr(mse),
        "max_abs_error": max_abs,
        "mse": mse,
        "psnr_source_db": psnr(mse * span * span, peak),
        "max_abs_error_source": max_abs * span,
        "source_peak": peak,
        "voxels_compared": int(err.size),
    }


def _manifest_and_files(rep: Report, bundle: Path, manifest: dict[str, Any] | None) -> dict[str, Any] | None:
    scratch = Report(bundle=str(bundle))
    manifest = check_manifest_and_files(scratch, bundle, manifest, VX.MANIFEST_AND_FILES, VX.MANIFEST_AND_FILES)
    failed = [c for c in scratch.checks if c.status == Status.FAIL]
    if failed:
        rep.add(VX.MANIFEST_AND_FILES, Status.FAIL, failed[0].message)
        return None
    rep.add(VX.MANIFEST_AND_FILES, Status.PASS, "; ".join(c.message for c in scratch.checks))
    return manifest


def verify_neural_volume(
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
    max_seam: float | None = None,
    baselines: bool = True,
) -> Report:
    """Run every neural-volume check on ``bundle``; never raises for a bad bundle (it FAILs).

    ``max_seam`` fails the seams check above that difference; ``exports``: also check the graph exports (when
    every other check passed); ``baselines``: with a source, also tune ZFP and SZ3 to the bundle's size (when
    zfpy/pysz are installed). ValueError for ``min_psnr`` with neither a source nor a recorded PSNR.
    """
    from ngsdk.runtime_ref.neural_volume import VolumeDecoder, load_neural_volume

    log = log or (lambda s: None)
    progress = progress or Silent()
    bundle = Path(bundle)
    rep = Report(bundle=str(bundle), kind="neural_volume")
    manifest = _manifest_and_files(rep, bundle, manifest)
    if manifest is None:
        return rep
    require_recorded_psnr(manifest["provenance"].get("metrics", {}).get("psnr_db"), min_psnr, source)
    try:
        asset = load_neural_volume(bundle, manifest)
    except AssetError as e:
        rep.add(VX.GRIDS_AND_DECODERS, Status.FAIL, str(e))
        return rep
    grids = [g for b in asset.bricks for g in b.grids]
    kinds = sorted({f"{'x'.join(map(str, g.resolution[::-1]))}x{g.features} {g.storage}" for g in grids})
    mlps = sorted({" -> ".join(str(n) for n in [b.decoder.inputs] + [ly.outputs for ly in b.decoder.layers])
                   for b in asset.bricks})
    rep.add(VX.GRIDS_AND_DECODERS, Status.PASS, f"{len(asset.bricks)} brick(s), {len(grids)} DDS volume textures "
            f"({', '.join(kinds)}), decoders {', '.join(mlps)}")
    rep.summary.update({"shape": list(asset.shape), "decode_mode": asset.decode_mode, "bricks": len(asset.bricks),
                        "grids": len(grids)})

    decoder = VolumeDecoder(asset, asset.decode_mode)
    progress.expect(1)
    progress.step("decode the volume")
    t0 = time.perf_counter()
    decoded = decoder.reconstruct(lambda done, total: log(f"decoded {done}/{total} voxels"))
    secs = time.perf_counter() - t0
    rep.summary["decode_seconds"] = round(secs, 3)
    _check_decode(rep, asset, decoded, secs)

    src_n = None
    if source is not None:
        src_n = _check_source(rep, asset, Path(source), decoded, min_psnr, previews)
    elif min_psnr is not None:
        check_recorded_psnr(rep, VX.QUALITY, asset.provenance.metrics.get("psnr_db"), min_psnr, "PSNR (normalized)")
    else:
        rep.add(VX.QUALITY, Status.SKIP, "no --source given")
    _check_seams(rep, asset, decoder, max_seam, log)

    stored = asset.stored_bytes()
    on_disk = sum(r["bytes"] for r in manifest["files"].values()) + (bundle / "manifest.json").stat().st_size
    ratio = asset.compression_ratio()
    grid_bytes = sum(g.stored_bytes() for g in grids)
    rep.add(VX.COMPRESSION, Status.PASS,
            f"{ratio:.1f}:1 (source {asset.source_bytes()} bytes as {asset.normalization.source_dtype}, stored "
            f"{stored} bytes: grids {grid_bytes}, decoders {stored - grid_bytes}; bundle on disk {on_disk} bytes, "
            f"{asset.source_bytes() / on_disk:.1f}:1)",
            ratio=ratio, source_bytes=asset.source_bytes(), stored_bytes=stored, bundle_bytes=on_disk)
    rep.summary["compression_ratio"] = round(ratio, 3)
    _check_rate(rep, asset, decoded, src_n, baselines and source is not None, log)
    if exports and rep.passed:
        verify_exports(rep, bundle, manifest, lambda e, rec: _graph_reference(asset, bundle, e, rec), progress)
    return rep


def _graph_reference(asset: NeuralVolumeAsset, bundle: Path, entry: dict[str, Any],
                     rec: dict[str, Any]) -> tuple[dict, dict, str] | None:
    """What a float brick-decoder export is compared with (the export check against runtime_ref): runtime_ref's
    float MLP of that brick, clamped to [0, 1] as its decode does, on the features stored in the export's
    reference npz plus as many seeded uniform features over the graph's declared input range (every decode
    mode: the graph is the float MLP)."""
    from ngsdk.runtime_ref.graph_verify import load_reference
    from ngsdk.runtime_ref.neural_volume import brick_mlp

    if entry["precision"] != "fp32" or not entry["graph"].startswith("nv_decoder"):
        return None
    brick = volume_brick(asset, entry["graph"])
    if brick is None:
        raise AssetError(bundle / "manifest.json", f"graph {entry['graph']!r} names no brick of the volume "
                                                   f"({', '.join(b.name for b in asset.bricks)})")
    ref_in, _ = load_reference(rec, bundle)
    x = np.asarray(ref_in["features"], dtype=np.float32)
    lo, hi = rec["io"]["inputs"][0].get("value_range") or (-1.0, 1.0)
    rng = np.random.default_rng(123)
    x = np.concatenate([x, rng.uniform(lo, hi, x.shape).astype(np.float32)])
    y = brick_mlp(asset.bricks[brick], x)
    return {"features": x}, {"value": np.ascontiguousarray(y[:, None], dtype=np.float32)}, \
        f"float MLP ({asset.bricks[brick].name})"


def volume_brick(asset: NeuralVolumeAsset, graph: str) -> int | None:
    """The brick an ``nv_decoder`` graph stands for: ``nv_decoder`` for a single brick, else
    ``nv_decoder_<brick name>`` (the names ngsdk.exporters.graph.neural_volume gives); None if it names none."""
    if len(asset.bricks) == 1:
        return 0 if graph == "nv_decoder" else None
    names = [f"nv_decoder_{b.name}" for b in asset.bricks]
    return names.index(graph) if graph in names else None


def _check_decode(rep: Report, asset: Any, decoded: np.ndarray, secs: float) -> None:
    ref = asset.provenance.reference_decode.get("volume")
    got = decode_hash(decoded)
    details = {"sha256": got, "recorded": ref, "decode_seconds": round(secs, 3)}
    if ref == got:
        what = "bit-identical to the trained model" if asset.decode_mode == "exact" else \
            "float decode matches the recorded hash on this machine"
        rep.add(VX.DECODE_CONSISTENCY, Status.PASS, f"{asset.decode_mode} reconstruction {what}", **details)
    elif asset.decode_mode == "float":   # not bit-defined: a hash (recorded or not) cannot decide it
        why = ("no reference hash recorded" if ref is None else
               "the recorded hash differs, and the float mode (BLAS order) is not bit-defined")
        rep.add(VX.DECODE_CONSISTENCY, Status.SKIP, f"float decode: {why}; no stored float reference to compare",
                **details)
    elif ref is None:
        rep.missing_reference(VX.DECODE_CONSISTENCY, "bundle records no reference decode hash "
                              "(provenance.reference_decode.volume)", **details)
    else:
        rep.add(VX.DECODE_CONSISTENCY, Status.FAIL,
                f"exact reconstruction sha256 {got[:12]}... differs from the trained model's {ref[:12]}...", **details)


def _check_source(rep: Report, asset: Any, source: Path, decoded: np.ndarray, min_psnr: float | None,
                  previews: str | Path | None) -> np.ndarray | None:
    """The quality check; returns the normalized source (None when it cannot be read)."""
    try:
        src = load_source(source, asset)
    except AssetError as e:
        rep.add(VX.QUALITY, Status.FAIL, str(e))
        return None
    m = volume_metrics(decoded, src, asset)
    recorded = set(asset.provenance.sources.values())
    m["source_sha256_recorded"] = (sha256_file(source) in recorded) if recorded and source.is_file() else None
    trained = asset.provenance.metrics.get("psnr_db")
    if trained is not None:
        m["trained_psnr_db"] = trained
    status = Status.PASS
    msg = (f"{m['psnr_db']:.2f} dB (normalized, range 1), max abs error {m['max_abs_error']:.4g}; source units: "
           f"{m['psnr_source_db']:.2f} dB (peak {m['source_peak']:g}), max abs error {m['max_abs_error_source']:.4g}")
    if min_psnr is not None and m["psnr_db"] < min_psnr:
        status = Status.FAIL
        msg += f" (below --min-psnr {min_psnr})"
    if m["source_sha256_recorded"] is False:
        msg += "; source file differs from the one recorded in the provenance"
    rep.add(VX.QUALITY, status, msg, **m)
    rep.summary["psnr_db"] = round(m["psnr_db"], 3)
    if previews is not None:
        rep.previews = [str(p) for p in write_previews(asset.name, decoded, src, previews)]
    return src


def _check_rate(rep: Report, asset: Any, decoded: np.ndarray, src: np.ndarray | None, baselines: bool,
                log: Callable[[str], None]) -> None:
    """Rate and distortion (ratio counting every byte a decoder reads, PSNR, max error), then the ZFP/SZ3
    baselines at that size."""
    from ngsdk.volumes import baselines as bl

    nbytes = bl.decode_bytes(asset)
    ratio = asset.source_bytes() / nbytes
    if src is not None:
        db, max_err = bl.quality(decoded, src)
        where = "measured against --source"
    else:
        m = asset.provenance.metrics
        db, max_err = m.get("psnr_db"), m.get("max_abs_error")
        where = "recorded by the trainer"
    figures = (f"{db:.2f} dB, max abs error {max_err:.4g} ({where})" if db is not None and max_err is not None
               else "no PSNR (no --source, none recorded)")
    rep.add(VX.RATE_DISTORTION, Status.PASS, f"{ratio:.2f}:1 ({nbytes:,} bytes to decode for "
            f"{asset.source_bytes():,} source bytes); {figures}", ratio=ratio, decode_bytes=nbytes,
            source_bytes=asset.source_bytes(), psnr_db=db, max_abs_error=max_err, measured=src is not None)
    rep.summary["decode_ratio"] = round(ratio, 3)
    if src is None:
        rep.add(VX.BASELINES, Status.SKIP, "no --source given" if not baselines else "source not readable")
        return
    if not baselines:
        rep.add(VX.BASELINES, Status.SKIP, "baselines turned off")
        return
    methods = bl.available_methods()
    if not methods:
        rep.add(VX.BASELINES, Status.SKIP, "; ".join(sorted({bl.missing(m) for m in bl.METHODS})))
        return
    values = np.ascontiguousarray(src, dtype=np.float32)
    found = []
    for method in methods:
        log(f"baseline {bl.LABELS[method]} at {nbytes} bytes")
        found.append(bl.match_size(method, values, nbytes, asset.source_bytes()))
    fair = [b for b in found if b.reached or b.compressed_bytes >= nbytes]   # a smaller stream is no fair loss
    wins = sum(1 for b in fair if db > b.psnr_db)
    parts = [f"{b.label} {b.psnr_db:.2f} dB (max {b.max_abs_error:.3g}) at {b.ratio:.2f}:1"
             + ("" if b.reached else " (cannot match the size)") for b in found]
    skipped = [bl.missing(m) for m in bl.METHODS if m not in methods]
    msg = f"at {ratio:.2f}:1 ngsdk {db:.2f} dB beats {wins} of {len(fair)} matched: " + "; ".join(parts)
    if skipped:
        msg += "; not run: " + "; ".join(sorted(set(skipped)))
    rep.add(VX.BASELINES, Status.PASS, msg, baselines=[b.to_dict() for b in found], ngsdk_psnr_db=db, wins=wins)


def _check_seams(rep: Report, asset: Any, decoder: Any, max_seam: float | None, log) -> None:
    if len(asset.bricks) < 2:
        rep.add(VX.SEAMS, Status.SKIP, "single brick: no seams")
        return
    pairs = []
    for i, a in enumerate(asset.bricks):
        for j in range(i + 1, len(asset.bricks)):
            b = asset.bricks[j]
            box = tuple(v for k in range(3) for v in (max(a.fit[2 * k], b.fit[2 * k]),
                                                       min(a.fit[2 * k + 1], b.fit[2 * k + 1])))
            if any(box[2 * k] >= box[2 * k + 1] for k in range(3)):
                continue
            n = (box[1] - box[0]) * (box[3] - box[2]) * (box[5] - box[4])
            step = max(1, math.ceil((n / SEAM_SAMPLE_LIMIT) ** (1 / 3)))
            diff = np.abs(decoder.decode_box(i, box, step) - decoder.decode_box(j, box, step))
            pairs.append({"bricks": [a.name, b.name], "box": list(box), "step": step, "voxels": int(diff.size),
                          "max_abs": float(diff.max()), "mean_abs": float(diff.mean())})
            log(f"seam {a.name}/{b.name}: max {pairs[-1]['max_abs']:.4g}")
    if not pairs:
        rep.add(VX.SEAMS, Status.SKIP, "no two bricks' fit boxes overlap")
        return
    worst = max(pairs, key=lambda p: p["max_abs"])
    status = Status.FAIL if max_seam is not None and worst["max_abs"] > max_seam else Status.PASS
    msg = (f"max abs difference {worst['max_abs']:.4g} (bricks {worst['bricks'][0]}/{worst['bricks'][1]}) over "
           f"{len(pairs)} overlapping pairs, {sum(p['voxels'] for p in pairs)} voxels")
    if status == Status.FAIL:
        msg += f" (above {max_seam})"
    rep.add(VX.SEAMS, status, msg, pairs=pairs, max_abs=worst["max_abs"])
    rep.summary["seam_max_abs"] = worst["max_abs"]


def write_previews(name: str, decoded: np.ndarray, source: np.ndarray, folder: str | Path) -> list[Path]:
    """PNGs of the middle slice on each axis: source | decoded | |error| x10 (all clamped to [0, 1])."""
    from PIL import Image

    from ngsdk.asset.atomic import atomic_open

    folder = Path(folder)
    out = []
    d, h, w = decoded.shape
    for axis, (a, b) in (("z", (decoded[d // 2], source[d // 2])), ("y", (decoded[:, h // 2], source[:, h // 2])),
                         ("x", (decoded[:, :, w // 2], source[:, :, w // 2]))):
        src = np.nan_to_num(b, nan=0.0)
        panels = [src, a, np.abs(a - src) * 10]
        img = np.concatenate([np.clip(p, 0, 1) for p in panels], axis=1)
        path = folder / f"{name}_{axis}_source_decoded_error.png"
        with atomic_open(path) as f:
            Image.fromarray((img[::-1] * 255 + 0.5).astype(np.uint8)).save(f, format="PNG")
        out.append(path)
    return out

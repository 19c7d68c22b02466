"""Verification of neural texture bundles (numpy only): the checks of ``ngsdk.verify.catalog.neural_texture``
(manifest, files, grids and decoder, decode consistency per mip, bits per texel, source and quality, engine
conformance, training), then the graph exports (``ngsdk.verify.exports``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ngsdk.asset.digest import decode_hash
from ngsdk.asset.errors import AssetError
from ngsdk.asset.neural_texture import NeuralTextureAsset
from ngsdk.verify.catalog import Status
from ngsdk.verify.catalog import neural_texture as NT
from ngsdk.verify.exports import verify_exports
from ngsdk.verify.report import (
    Progress,
    Report,
    Silent,
    check_manifest_and_files,
    check_recorded_psnr,
    require_recorded_psnr,
)

MIN_STEPS = 1000
"""Fewer training steps than this is "far from convergence": the integer decoder trains in the last 40 %,
and the quickstart's CPU minute gives a few hundred steps at 17-25 dB where a GPU run reaches 30+ dB."""
RISING_DB = 0.5
"""PSNR gain between the last two evaluations above which a run is still converging."""


def verify_neural_texture(
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
    mips: list[int] | None = None,
    engine: str | None = None,
    profile: str | None = None,
) -> Report:
    """Run every neural-texture check on ``bundle``; never raises for a bad bundle (it FAILs).

    ``mips`` limits the decode to those mips. ``engine`` (``unreal``, ``vulkan``, ``generic``) adds the engine
    conformance check; ``profile`` names a sampler profile (``lavapipe``, ``nvidia``, ``d3d11``...) to use
    instead of the engine's bounds (hardware mode). ``progress`` hears of each long step (a mip's decode, each
    export). With ``context`` (an HTML report) and a source, the summary gets the BC7/BC5/BC4 figure of the
    same source (``summary["bcn"]``, ngsdk.textures.bcn) when etcpak is installed. ``exports``: also check the
    graph exports (when every other check passed). ValueError for ``min_psnr`` with neither a source nor a
    recorded PSNR (a usage error).
    """
    from ngsdk.runtime_ref.neural_texture import load_neural_texture
    from ngsdk.runtime_ref.neural_texture_modes import decode_mip

    log = log or (lambda s: None)
    progress = progress or Silent()
    bundle = Path(bundle)
    rep = Report(bundle=str(bundle), kind="neural_texture")
    manifest = check_manifest_and_files(rep, bundle, manifest, NT.MANIFEST, NT.FILES)
    if manifest is None:
        return rep
    require_recorded_psnr(manifest["provenance"].get("metrics", {}).get("psnr_db"), min_psnr, source)
    try:
        asset = load_neural_texture(bundle, manifest)
    except AssetError as e:
        rep.add(NT.GRIDS_AND_DECODER, Status.FAIL, str(e))
        return rep
    grids = ", ".join(f"{g.name} {g.width}x{g.height}x{len(g.levels)} levels {g.features}x{g.bits}b"
                      for g in asset.grids)
    rep.add(NT.GRIDS_AND_DECODER, Status.PASS, f"{grids}, decoder {asset.decoder.inputs}->{asset.decoder.outputs}")

    wanted = list(range(asset.mip_levels)) if mips is None else mips
    outside = [m for m in wanted if not 0 <= m < asset.mip_levels]
    if outside:
        raise ValueError(f"--mip {outside[0]} is out of range: the bundle has {asset.mip_levels} mips "
                         f"(0-{asset.mip_levels - 1})")
    unrecorded = [m for m in wanted if f"mip{m}" not in asset.provenance.reference_decode]
    if unrecorded and not rep.allow_missing_reference:
        # nothing to compare with: fail before spending the decode (a bundle may claim a 16384^2 texture)
        rep.missing_reference(NT.DECODE_CONSISTENCY, f"bundle records no reference decode hash for mips {unrecorded}")
        return rep
    progress.expect(len(wanted) + bool(context and source is not None))
    decoded: dict[int, Any] = {}
    results, bad = {}, []
    t0 = time.perf_counter()
    for m in wanted:
        progress.step(f"decode mip {m} ({asset.mip_size(m)[0]}x{asset.mip_size(m)[1]})")
        decoded[m] = decode_mip(asset, m)
        ref = asset.provenance.reference_decode.get(f"mip{m}")
        got = decode_hash(decoded[m])
        results[f"mip{m}"] = "match" if ref == got else ("not recorded" if ref is None else "MISMATCH")
        if ref is not None and ref != got:
            bad.append(m)
        log(f"decoded mip {m} {asset.mip_size(m)[0]}x{asset.mip_size(m)[1]}")
    secs = time.perf_counter() - t0
    integer = asset.decode_mode != "float"
    if bad:
        rep.add(NT.DECODE_CONSISTENCY, Status.FAIL, f"runtime_ref decode differs from the trained model on mips {bad}",
                mips=results)
    elif any(v == "not recorded" for v in results.values()):
        rep.missing_reference(NT.DECODE_CONSISTENCY, "bundle records no reference decode hash for mips "
                              f"{[m for m in wanted if results[f'mip{m}'] == 'not recorded']}", mips=results)
    else:
        what = f"{asset.decode_mode} decode, " + ("UNORM8 bytes" if integer else "float32 values")
        rep.add(NT.DECODE_CONSISTENCY, Status.PASS,
                f"{len(wanted)} mips bit-identical to the trained model ({what}, max abs diff 0)", mips=results,
                decode_seconds=round(secs, 3))

    bpp = asset.bits_per_texel()
    rep.add(NT.BITS_PER_TEXEL, Status.PASS, f"{bpp:.3f} bpp ({asset.stored_bytes()} bytes)", bpp=bpp,
            bytes=asset.stored_bytes())
    rep.summary.update({"name": asset.name, "bpp": bpp, "decode_mode": asset.decode_mode, "mips": asset.mip_levels,
                        "size": [asset.width, asset.height], "channels": [c.name for c in asset.channels]})

    if engine is not None:
        from ngsdk.verify.neural_texture_engine import check_engine

        check_engine(rep, asset, engine, profile, wanted, decoded, log)
    if integer:
        from ngsdk.textures.stored import bytes_to_linear

        decoded = {m: bytes_to_linear(d, asset.channels) for m, d in decoded.items()}
    if source is not None:
        ts = _check_source(rep, asset, Path(source), decoded, min_psnr, previews)
        if context and ts is not None:
            _bcn_context(rep, ts, progress)
    else:
        check_recorded_psnr(rep, NT.QUALITY, asset.provenance.metrics.get("psnr_db"), min_psnr)
    _check_training(rep, asset.provenance.metrics)
    if exports and rep.passed:
        verify_exports(rep, bundle, manifest, lambda e, rec: _graph_reference(asset, e), progress)
    return rep


def _graph_reference(asset: NeuralTextureAsset, entry: dict[str, Any], n: int = 8192) -> tuple[dict, dict, str] | None:
    """What a float export is compared with (the export check against runtime_ref): for float bundles, the
    decoder graph on ``n`` sampled texels of mip 0 and the whole-mip graph on its mip, by runtime_ref's decode."""
    from ngsdk.runtime_ref.neural_texture import decode_mip, decoder_inputs, dequantize, run_decoder, texel_centres

    if asset.decode_mode != "float" or entry["precision"] != "fp32" or not entry["graph"].startswith("nt_"):
        return None
    graph = entry["graph"]
    if graph == "nt_decoder":
        w, h = asset.mip_size(0)
        rng = np.random.default_rng(123)
        ix, iy = rng.integers(0, w, n), rng.integers(0, h, n)
        x = decoder_inputs(asset, 0, texel_centres(w)[ix], texel_centres(h)[iy])
        return {"inputs": x}, {"channels": run_decoder(asset, x)}, "float decode"
    mip = int(graph.removeprefix("nt_mip"))
    ins = {}
    for t, (g, lv) in enumerate(asset.taps[mip]):  # one latent tensor per tap
        grid = asset.grids[g]
        vals = dequantize(grid.levels[lv], grid.scale, grid.offset)
        ins[f"latent{t}"] = np.ascontiguousarray(vals.transpose(2, 0, 1)[None])
    out = decode_mip(asset, mip).transpose(2, 0, 1)[None]
    return ins, {"channels": np.ascontiguousarray(out)}, "float decode"


def _check_training(rep: Report, metrics: dict[str, Any]) -> None:
    """How far from convergence the training stopped (bundles that record their steps)."""
    steps = metrics.get("steps")
    if not isinstance(steps, int):
        return
    evals = [p for p in metrics.get("eval_psnr", []) if isinstance(p, list) and len(p) == 2]
    rising = evals[-1][1] - evals[-2][1] if len(evals) >= 2 else None
    rep.summary["training"] = {"steps": steps, "last_gain_db": rising}
    advice = "train longer (--time-budget, --steps) or on a GPU (--device cuda)"
    if steps < MIN_STEPS:
        rep.add(NT.TRAINING, Status.WARN, f"training stopped after {steps} steps, far from convergence "
                f"(fewer than {MIN_STEPS}); quality is well below what this model reaches: {advice}",
                steps=steps, last_gain_db=rising)
    elif rising is not None and rising > RISING_DB:
        rep.add(NT.TRAINING, Status.WARN, f"PSNR was still rising by {rising:.2f} dB between the last two "
                f"evaluations at step {steps}: {advice}", steps=steps, last_gain_db=rising)
    else:
        gain = "" if rising is None else f", last evaluations within {rising:.2f} dB"
        rep.add(NT.TRAINING, Status.PASS, f"{steps} steps{gain}", steps=steps, last_gain_db=rising)


def _bcn_context(rep: Report, ts, progress: Progress) -> None:  # noqa: ANN001 - a TextureSet
    """``summary["bcn"]``: PSNR and bpp of the same source in BC7/BC5/BC4 (what engines ship otherwise)."""
    from ngsdk.textures.bcn import BcnUnavailable, bcn_quality

    progress.step("BCn figure of the source (etcpak)")
    try:
        rep.summary["bcn"] = bcn_quality(ts)
    except BcnUnavailable as e:
        rep.summary["bcn"] = {"unavailable": str(e)}


def source_mismatch(recorded: dict[str, str], found: dict[str, str]) -> str | None:
    """Why the source files ``found`` (name -> sha256) are not the ``recorded`` ones, or None if they are.

    Every recorded file must be present with its hash, and every file found must be recorded: a name the
    provenance does not know is a different material, not a match. No record at all proves nothing (None).
    """
    if not recorded:
        return None
    unknown = sorted(set(found) - set(recorded))
    missing = sorted(set(recorded) - set(found))
    changed = sorted(n for n in set(found) & set(recorded) if found[n] != recorded[n])
    parts = []
    if changed:
        parts.append(f"changed since training: {', '.join(changed)}")
    if unknown:
        parts.append(f"not among the trained files: {', '.join(unknown)}")
    if missing:
        parts.append(f"missing: {', '.join(missing)}")
    if not parts:
        return None
    return f"source does not match the files the bundle was trained on ({'; '.join(parts)})"


def _check_source(rep: Report, asset, source: Path, decoded: dict, min_psnr: float | None, previews):  # noqa: ANN202
    """The source and quality checks; returns the loaded TextureSet when the source matches, else None."""
    from ngsdk.textures.ingest import load_texture_set
    from ngsdk.textures.metrics import texture_metrics
    from ngsdk.textures.mips import build_mips

    try:
        ts = load_texture_set(source)
    except AssetError as e:
        rep.add(NT.SOURCE, Status.FAIL, str(e))
        return None
    names_b = [c.name for c in asset.channels]
    if [c.name for c in ts.channels] != names_b or (ts.width, ts.height) != (asset.width, asset.height):
        rep.add(NT.SOURCE, Status.FAIL, f"{source}: source has {ts.width}x{ts.height} {[c.name for c in ts.channels]}, "
                f"bundle has {asset.width}x{asset.height} {names_b}")
        return None
    problem = source_mismatch(asset.provenance.sources, ts.sources)
    if problem is not None:
        rep.add(NT.SOURCE, Status.FAIL, f"{source}: {problem}", recorded=sorted(asset.provenance.sources),
                found=sorted(ts.sources))
        rep.add(NT.QUALITY, Status.SKIP, "not measured: the source is not the one the bundle was trained on")
        return None
    if not asset.provenance.sources:
        rep.add(NT.SOURCE, Status.WARN, "bundle records no source hashes; the source cannot be identified")
    else:
        rep.add(NT.SOURCE, Status.PASS, f"{len(ts.sources)} source files match the provenance hashes")
    src_mips = build_mips(ts.data)
    per_mip = {}
    for m, dec in decoded.items():
        per_mip[f"mip{m}"] = texture_metrics(dec, src_mips[m], asset.channels)
    top = per_mip.get("mip0") or next(iter(per_mip.values()))
    status = Status.PASS
    msg = f"mip0 overall {top['overall_db']:.2f} dB; " + ", ".join(
        f"{k} {v:.2f}" for k, v in top["textures_db"].items())
    if min_psnr is not None and top["overall_db"] < min_psnr:
        status = Status.FAIL
        msg += f" (below --min-psnr {min_psnr})"
    rep.add(NT.QUALITY, status, msg, per_mip=per_mip)
    rep.summary["psnr_db"] = top["overall_db"]
    rep.summary["textures_db"] = top["textures_db"]
    if ts.notes:
        rep.summary["source_notes"] = list(ts.notes)
    if previews is not None and 0 in decoded:
        from ngsdk.textures.previews import write_previews

        rep.previews = [str(p) for p in write_previews(decoded[0], src_mips[0], asset.channels, previews)]
    return ts

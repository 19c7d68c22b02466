"""Verification of neural texture bundles (numpy only).

Check codes (stable):
- ``NT001`` manifest: JSON, format version, schema.
- ``NT002`` files: every listed file present with matching size and sha256.
- ``NT003`` grids and decoder: DDS headers and npz arrays agree with the manifest.
- ``NT004`` decode consistency: runtime_ref's decode of each mip hashes to the value the
  trainer recorded from its own evaluation forward (bit-identical) — per mip.
- ``NT005`` bits per texel: recomputed from the stored grid texels and decoder arrays.
- ``NT006`` source: the source folder holds exactly the files recorded in the provenance, byte for byte
  (same names, same sha256); anything else FAILs naming the files, and NT007 is not measured.
- ``NT007`` quality: PSNR per texture and overall for every mip against the source; without a source,
  ``min_psnr`` is checked against the mip-0 PSNR the trainer recorded (NT004 proves this decode is the one
  it measured).
- ``NT008`` engine (with ``engine=``): the bundle's decode mode under the engine's sampler profile:
  ``exact`` (worst-case error 0) or ``bounded`` with the worst-case byte error against the reference.
- ``NT009`` training (when the bundle records its steps): WARN when training stopped far from convergence
  (fewer than ``MIN_STEPS`` steps, or PSNR still rising by more than ``RISING_DB`` over the last evaluations).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ngsdk.asset.digest import decode_hash
from ngsdk.asset.errors import AssetError
from ngsdk.verify.report import Report, check_manifest_and_files, check_recorded_psnr

MIN_STEPS = 1000
"""Fewer training steps than this is "far from convergence": the integer decoder trains in the last 40 %,
and the quickstart's CPU minute gives a few hundred steps at 17-25 dB where a GPU run reaches 30+ dB."""
RISING_DB = 0.5
"""PSNR gain between the last two evaluations above which a run is still converging."""


def verify_texture_bundle(
    bundle: str | Path,
    source: str | Path | None = None,
    *,
    manifest: dict[str, Any] | None = None,
    min_psnr: float | None = None,
    previews: str | Path | None = None,
    mips: list[int] | None = None,
    log=None,
    engine: str | None = None,
    profile: str | None = None,
    progress=None,
    bcn: bool = False,
) -> Report:
    """Run every neural-texture check on ``bundle``; never raises for a bad bundle (it FAILs).

    ``engine`` (``unreal``, ``vulkan``, ``generic``) adds NT008; ``profile`` names a sampler profile
    (``lavapipe``, ``nvidia``, ``d3d11``...) to use instead of the engine's bounds (hardware mode).
    ``progress(item)`` is called before each long step (a mip's decode). With ``bcn`` and a source, the
    summary gets the BC7/BC5/BC4 figure of the same source (``summary["bcn"]``, ngsdk.textures.bcn) when
    etcpak is installed.
    """
    from runtime_ref.bundle import load_neural_texture
    from runtime_ref.neural_texture_modes import decode_mip

    log = log or (lambda s: None)
    bundle = Path(bundle)
    rep = Report(bundle=str(bundle), kind="neural_texture")
    manifest = check_manifest_and_files(rep, bundle, manifest, "NT")
    if manifest is None:
        return rep
    try:
        asset = load_neural_texture(bundle, manifest)
    except AssetError as e:
        rep.add("NT003", "grids and decoder", "fail", str(e))
        return rep
    rep.add("NT003", "grids and decoder", "pass",
            ", ".join(f"{g.name} {g.width}x{g.height}x{len(g.levels)} levels {g.features}x{g.bits}b"
                      for g in asset.grids) + f", decoder {asset.decoder.inputs}->{asset.decoder.outputs}")

    wanted = list(range(asset.mip_levels)) if mips is None else mips
    decoded: dict[int, Any] = {}
    results, bad = {}, []
    t0 = time.perf_counter()
    for m in wanted:
        if progress is not None:
            progress(f"decode mip {m} ({asset.mip_size(m)[0]}x{asset.mip_size(m)[1]})")
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
        rep.add("NT004", "decode consistency", "fail",
                f"runtime_ref decode differs from the trained model on mips {bad}", mips=results)
    elif all(v == "not recorded" for v in results.values()):
        rep.add("NT004", "decode consistency", "warn", "bundle records no reference decode hashes", mips=results)
    else:
        what = f"{asset.decode_mode} decode, " + ("UNORM8 bytes" if integer else "float32 values")
        rep.add("NT004", "decode consistency", "pass",
                f"{len(wanted)} mips bit-identical to the trained model ({what}, max abs diff 0)", mips=results,
                decode_seconds=round(secs, 3))

    bpp = asset.bits_per_texel()
    rep.add("NT005", "bits per texel", "pass", f"{bpp:.3f} bpp ({asset.stored_bytes()} bytes)", bpp=bpp,
            bytes=asset.stored_bytes())
    rep.summary.update({"name": asset.name, "bpp": bpp, "decode_mode": asset.decode_mode, "mips": asset.mip_levels,
                        "size": [asset.width, asset.height], "channels": [c.name for c in asset.channels]})

    if engine is not None:
        from ngsdk.verify.engine import check_engine

        check_engine(rep, asset, engine, profile, wanted, decoded, log)
    if integer:
        from ngsdk.textures.stored import bytes_to_linear

        decoded = {m: bytes_to_linear(d, asset.channels) for m, d in decoded.items()}
    if source is not None:
        ts = _check_source(rep, asset, Path(source), decoded, min_psnr, previews)
        if bcn and ts is not None:
            _bcn_context(rep, ts, progress)
    else:
        check_recorded_psnr(rep, "NT007", asset.provenance.metrics.get("psnr_db"), min_psnr)
    _check_training(rep, asset.provenance.metrics)
    return rep


def _check_training(rep: Report, metrics: dict[str, Any]) -> None:
    """NT009: how far from convergence the training stopped (bundles that record their steps)."""
    steps = metrics.get("steps")
    if not isinstance(steps, int):
        return
    evals = [p for p in metrics.get("eval_psnr", []) if isinstance(p, list) and len(p) == 2]
    rising = evals[-1][1] - evals[-2][1] if len(evals) >= 2 else None
    rep.summary["training"] = {"steps": steps, "last_gain_db": rising}
    advice = "train longer (--time-budget, --steps) or on a GPU (--device cuda)"
    if steps < MIN_STEPS:
        rep.add("NT009", "training", "warn", f"training stopped after {steps} steps, far from convergence "
                f"(fewer than {MIN_STEPS}); quality is well below what this model reaches: {advice}",
                steps=steps, last_gain_db=rising)
    elif rising is not None and rising > RISING_DB:
        rep.add("NT009", "training", "warn", f"PSNR was still rising by {rising:.2f} dB between the last two "
                f"evaluations at step {steps}: {advice}", steps=steps, last_gain_db=rising)
    else:
        gain = "" if rising is None else f", last evaluations within {rising:.2f} dB"
        rep.add("NT009", "training", "pass", f"{steps} steps{gain}", steps=steps, last_gain_db=rising)


def _bcn_context(rep: Report, ts, progress) -> None:  # noqa: ANN001 - a TextureSet
    """``summary["bcn"]``: PSNR and bpp of the same source in BC7/BC5/BC4 (what engines ship otherwise)."""
    from ngsdk.textures.bcn import BcnUnavailable, bcn_quality

    if progress is not None:
        progress("BCn figure of the source (etcpak)")
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
    """NT006 and NT007; returns the loaded TextureSet when the source matches, else None."""
    from ngsdk.textures.ingest import load_texture_set
    from ngsdk.textures.metrics import texture_metrics
    from ngsdk.textures.mips import build_mips

    try:
        ts = load_texture_set(source)
    except AssetError as e:
        rep.add("NT006", "source", "fail", str(e))
        return None
    names_b = [c.name for c in asset.channels]
    if [c.name for c in ts.channels] != names_b or (ts.width, ts.height) != (asset.width, asset.height):
        rep.add("NT006", "source", "fail",
                f"{source}: source has {ts.width}x{ts.height} {[c.name for c in ts.channels]}, "
                f"bundle has {asset.width}x{asset.height} {names_b}")
        return None
    problem = source_mismatch(asset.provenance.sources, ts.sources)
    if problem is not None:
        rep.add("NT006", "source", "fail", f"{source}: {problem}", recorded=sorted(asset.provenance.sources),
                found=sorted(ts.sources))
        rep.add("NT007", "quality", "skip", "not measured: the source is not the one the bundle was trained on")
        return None
    if not asset.provenance.sources:
        rep.add("NT006", "source", "warn", "bundle records no source hashes; the source cannot be identified")
    else:
        rep.add("NT006", "source", "pass", f"{len(ts.sources)} source files match the provenance hashes")
    src_mips = build_mips(ts.data)
    per_mip = {}
    for m, dec in decoded.items():
        per_mip[f"mip{m}"] = texture_metrics(dec, src_mips[m], asset.channels)
    top = per_mip.get("mip0") or next(iter(per_mip.values()))
    status = "pass"
    msg = f"mip0 overall {top['overall_db']:.2f} dB; " + ", ".join(
        f"{k} {v:.2f}" for k, v in top["textures_db"].items())
    if min_psnr is not None and top["overall_db"] < min_psnr:
        status = "fail"
        msg += f" (below --min-psnr {min_psnr})"
    rep.add("NT007", "quality", status, msg, per_mip=per_mip)
    rep.summary["psnr_db"] = top["overall_db"]
    rep.summary["textures_db"] = top["textures_db"]
    if ts.notes:
        rep.summary["source_notes"] = list(ts.notes)
    if previews is not None and 0 in decoded:
        from ngsdk.textures.previews import write_previews

        rep.previews = [str(p) for p in write_previews(decoded[0], src_mips[0], asset.channels, previews)]
    return ts

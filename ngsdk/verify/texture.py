"""Verification of neural texture bundles (numpy only).

Check codes (stable):
- ``NT001`` manifest: JSON, format version, schema.
- ``NT002`` files: every listed file present with matching size and sha256.
- ``NT003`` grids and decoder: DDS headers and npz arrays agree with the manifest.
- ``NT004`` decode consistency: runtime_ref's decode of each mip hashes to the value the
  trainer recorded from its own evaluation forward (bit-identical) — per mip.
- ``NT005`` bits per texel: recomputed from the stored grid texels and decoder arrays.
- ``NT006`` source: the source files match the hashes in the provenance.
- ``NT007`` quality: PSNR per texture and overall for every mip against the source.
- ``NT008`` engine (with ``engine=``): the bundle's decode mode under the engine's sampler profile:
  ``exact`` (worst-case error 0) or ``bounded`` with the worst-case byte error against the reference.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ngsdk.asset.digest import decode_hash
from ngsdk.asset.errors import AssetError
from ngsdk.verify.report import Report, check_manifest_and_files


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
) -> Report:
    """Run every neural-texture check on ``bundle``; never raises for a bad bundle (it FAILs).

    ``engine`` (``unreal``, ``vulkan``, ``generic``) adds NT008; ``profile`` names a sampler profile
    (``lavapipe``, ``nvidia``, ``d3d11``...) to use instead of the engine's bounds (hardware mode).
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
    rep.summary.update({"bpp": bpp, "decode_mode": asset.decode_mode, "mips": asset.mip_levels,
                        "size": [asset.width, asset.height], "channels": [c.name for c in asset.channels]})

    if engine is not None:
        from ngsdk.verify.engine import check_engine

        check_engine(rep, asset, engine, profile, wanted, decoded, log)
    if integer:
        from ngsdk.textures.stored import bytes_to_linear

        decoded = {m: bytes_to_linear(d, asset.channels) for m, d in decoded.items()}
    if source is not None:
        _check_source(rep, asset, Path(source), decoded, min_psnr, previews)
    return rep


def _check_source(rep: Report, asset, source: Path, decoded: dict, min_psnr: float | None, previews) -> None:
    from ngsdk.textures.ingest import load_texture_set
    from ngsdk.textures.metrics import texture_metrics
    from ngsdk.textures.mips import build_mips

    try:
        ts = load_texture_set(source)
    except AssetError as e:
        rep.add("NT006", "source", "fail", str(e))
        return
    names_b = [c.name for c in asset.channels]
    if [c.name for c in ts.channels] != names_b or (ts.width, ts.height) != (asset.width, asset.height):
        rep.add("NT006", "source", "fail",
                f"{source}: source has {ts.width}x{ts.height} {[c.name for c in ts.channels]}, "
                f"bundle has {asset.width}x{asset.height} {names_b}")
        return
    recorded = asset.provenance.sources
    differ = sorted(n for n, h in ts.sources.items() if recorded.get(n) not in (None, h))
    if differ:
        rep.add("NT006", "source", "warn", f"source files changed since training: {', '.join(differ)}")
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

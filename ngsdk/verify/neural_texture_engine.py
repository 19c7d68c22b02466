"""``ngsdk verify --engine``: what an engine will show for a bundle's decode mode (the engine conformance check
of ``ngsdk.verify.catalog.neural_texture``, numpy only).

* ``exact``: integer loads and integer arithmetic only; every implementation that runs the shared shader
  (or docs/decode-spec.md) gives the reference bytes: exact, worst-case error 0.
* ``hardware``: the latents go through the engine's texture filter. With ``profile`` naming a known
  implementation (``lavapipe``, ``nvidia``, ``d3d11``...) the decode is emulated bit for bit and compared
  with the reference; otherwise the engine's precision rules give per-byte bounds (sampler bounds
  propagated through the integer decoder in interval arithmetic) and the worst-case error is reported.
* ``float``: exact only where the engine keeps the fp32 op order without FMA contraction; the shared
  shader has no float path, so the check warns and names the integer modes.
"""

from __future__ import annotations

import numpy as np

from ngsdk.verify.catalog import Status
from ngsdk.verify.catalog import neural_texture as NT
from ngsdk.verify.report import Report

# engine -> (precision rules, what they are): subtexel bits, LOD fraction bits
ENGINE_RULES = {
    "unreal": ((8, 8), "D3D11/12 rules (8 subtexel bits, 8 LOD fraction bits): Unreal on D3D12"),
    "vulkan": ((8, 4), "Vulkan Roadmap 2022 (subTexelPrecisionBits >= 8, mipmapPrecisionBits >= 4)"),
    "generic": ((4, 4), "any Vulkan 1.x / D3D implementation (subTexelPrecisionBits >= 4, mipmapPrecisionBits >= 4)"),
}


def engine_profile(engine: str, profile: str | None):
    """The sampler profile (object or name) and its description for ``engine`` / an explicit ``profile``."""
    from ngsdk.runtime_ref.sampling import BoundedSpec, Profile, get_profile

    if profile is not None:
        p = get_profile(profile)
        return p, f"profile {p.name} ({p.source})"
    if engine not in ENGINE_RULES:
        raise ValueError(f"unknown engine {engine!r} (use one of {', '.join(ENGINE_RULES)})")
    (sub, mip), text = ENGINE_RULES[engine]
    return Profile.for_bounds(BoundedSpec(subtexel_bits=sub, mip_bits=mip)), f"bounded: {text}"


def check_engine(rep: Report, asset, engine: str, profile: str | None, mips: list[int],
                 reference: dict[int, np.ndarray], log=None) -> None:
    """Add the engine conformance check to ``rep`` for ``asset`` decoded at ``mips`` (``reference``: the bundle's
    own decode)."""
    log = log or (lambda s: None)
    mode = asset.decode_mode
    if mode == "exact":
        rep.add(NT.ENGINE, Status.PASS,
                f"{engine}: exact (integer decode; every implementation of the shared shader gives the reference "
                f"bytes, worst-case error 0). Import the grids uncompressed (BGRA8/RGBA8), sRGB off, no generated "
                f"mips; the decode reads them with Load.", engine=engine, result="exact", max_error=0.0)
        return
    if mode == "float":
        rep.add(NT.ENGINE, Status.WARN,
                f"{engine}: float mode is exact only where fp32 runs in the stated order without FMA contraction "
                f"(HLSL precise / SPIR-V NoContraction); the shared shader implements the exact and hardware "
                f"modes: retrain with --decode exact for a guaranteed match", engine=engine, result="unverified")
        return
    from ngsdk.runtime_ref.neural_texture_hw import HardwareDecoder

    try:
        prof, text = engine_profile(engine, profile)
    except ValueError as e:
        rep.add(NT.ENGINE, Status.FAIL, str(e), engine=engine)
        return
    dec = HardwareDecoder(asset)
    worst, width, per_mip = 0, 0, {}
    for m in mips:
        ref = reference[m].astype(np.int64)
        got = dec.decode_mip(m, profile=prof)
        if prof.bounded:
            lo, hi = got[..., 0, :].astype(np.int64), got[..., 1, :].astype(np.int64)
            if ((ref < lo) | (ref > hi)).any():
                rep.add(NT.ENGINE, Status.FAIL, f"{engine}: the reference decode of mip {m} lies outside the "
                        f"bounds of {text}: the bounds or the reference profile are wrong", engine=engine)
                return
            err = int(max((ref - lo).max(initial=0), (hi - ref).max(initial=0)))
            width = max(width, int((hi - lo).max(initial=0)))
            per_mip[f"mip{m}"] = {"max_error_bytes": err, "bound_width_bytes": int((hi - lo).max(initial=0)),
                                  "exact_fraction": float(np.mean(lo == hi))}
        else:
            err = int(np.abs(got.astype(np.int64) - ref).max(initial=0))
            per_mip[f"mip{m}"] = {"max_error_bytes": err, "differing_bytes": int(np.count_nonzero(got != ref))}
        worst = max(worst, err)
        log(f"engine check mip {m}: worst-case error {err} bytes")
    result = "bounded" if prof.bounded else ("exact" if worst == 0 else "emulated")
    ref_name = asset.decoder.quantized.reference_profile
    if prof.bounded:
        msg = (f"{engine}: {text}: worst-case error {worst} / 255 ({worst / 255:.4f}) against the "
               f"{ref_name} reference over {len(mips)} mips")
    elif worst == 0:
        msg = f"{engine}: exact under {text}: identical to the {ref_name} reference bytes"
    else:
        msg = (f"{engine}: emulated exactly under {text}; differs from the {ref_name} reference by at most "
               f"{worst} / 255 ({worst / 255:.4f})")
    rep.add(NT.ENGINE, Status.PASS, msg, engine=engine, result=result, max_error=worst / 255.0,
            max_error_bytes=worst, mips=per_mip, profile=getattr(prof, "name", str(prof)))

"""Shared pieces of the sampler conformance tests: the real driver, its profile, result records.

The driver is whatever wgpu adapter ``NGSDK_WGPU_ADAPTER`` selects (default: the first; lavapipe in
CI); the profile that must reproduce it bit for bit comes from the adapter's name (llvmpipe ->
``lavapipe``, NVIDIA -> ``nvidia``) or ``NGSDK_SAMPLER_PROFILE``. With ``NGSDK_CONFORMANCE_REPORT``
set to a path, every comparison is appended there as one JSON line (for docs/conformance.md).
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from ngsdk.runtime_ref.sampling import NotMeasuredError, sample


def open_driver():
    try:
        import wgpu  # noqa: F401
    except ImportError:
        pytest.fail("wgpu is not installed: pip install 'wgpu>=0.19' (the vulkan extra)")
    from tools.vulkan_harness.wgpu_sampler import WgpuSampler, profile_for

    try:
        driver = WgpuSampler()
    except RuntimeError as err:
        pytest.fail(f"{err} - on Debian: apt-get install mesa-vulkan-drivers libvulkan1")
    profile = profile_for(driver.description)
    if profile is None:
        pytest.fail(f"no sampler profile claims bit-exactness for {driver.description!r}; "
                    "set NGSDK_SAMPLER_PROFILE")
    return driver, profile


def record(**fields) -> None:
    path = os.environ.get("NGSDK_CONFORMANCE_REPORT")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(fields, sort_keys=True) + "\n")


def compare(driver, profile: str, name: str, tex, uv, lod=None, layer: int = 0, filter: str = "linear",
            address: str = "repeat", ours=None, bounds=None) -> tuple[int, int]:
    """Driver vs ``profile`` (bit for bit) and vs ``bounded``; returns (mismatches, outside).

    ``ours``/``bounds`` may be passed in (e.g. produced by the CLI); otherwise the API computes them.
    A case the profile has not measured is skipped (and recorded as such).
    """
    kw = dict(lod=lod, layer=layer, filter=filter, address=address)
    if ours is None:
        try:
            ours = sample(tex, uv, profile=profile, **kw)
        except NotMeasuredError as err:
            record(case=name, profile=profile, driver=driver.description, status="not-measured")
            pytest.skip(str(err))
    from tools.vulkan_harness.wgpu_sampler import UnsupportedByDriver

    try:
        got = driver.sample(tex, uv, **kw)
    except UnsupportedByDriver as err:
        record(case=name, profile=profile, driver=driver.description, status="unsupported-by-driver")
        pytest.skip(str(err))
    if bounds is None:
        bounds = sample(tex, uv, profile="bounded", **kw)
    bad = np.any(got.view(np.uint32) != ours.view(np.uint32), axis=1)
    outside = np.any((got < bounds[:, 0]) | (got > bounds[:, 1]), axis=1)
    record(case=name, profile=profile, driver=driver.description, samples=int(len(uv)),
           mismatches=int(bad.sum()), max_abs_error=float(np.max(np.abs(got - ours), initial=0.0)),
           outside_bounded=int(outside.sum()), bounded_mean_width=float(np.mean(bounds[:, 1] - bounds[:, 0])))
    if bad.any():
        k = int(np.argmax(bad))
        pytest.fail(f"{name}: {int(bad.sum())} of {len(uv)} samples differ from {profile}; first at "
                    f"uv={uv[k].tolist()} lod={None if lod is None else float(lod[k])}: "
                    f"driver {got[k].tolist()} vs {ours[k].tolist()}")
    if outside.any():
        k = int(np.argmax(outside))
        pytest.fail(f"{name}: {int(outside.sum())} driver samples outside bounded; first at "
                    f"uv={uv[k].tolist()}: {got[k].tolist()} not in {bounds[k].tolist()}")
    return int(bad.sum()), int(outside.sum())

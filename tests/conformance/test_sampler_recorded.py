"""The ``nvidia`` sampler profile against outputs recorded from the H100's Vulkan driver (no GPU needed).

``tests/conformance/nvidia_h100_capture.json`` holds, per conformance case, the sha256 of the float32
outputs the driver returned (tools/gpu/capture_sampler.py on the lent H100, fitted with
tools/fit_sampler_profile.py). Inputs are regenerated from each case's seed, so a changed hash means
the profile's arithmetic changed; a case the profile now refuses, or a refusal that became a result,
fails too: re-measure on the GPU machine before editing the file.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from ngsdk.runtime_ref.sampling import NotMeasuredError, sample
from tests.fixtures.sampler_cases import random_cases

pytestmark = pytest.mark.conformance
RECORD = json.loads((Path(__file__).parent / "nvidia_h100_capture.json").read_text(encoding="utf-8"))
CASES = {name: (tex, uv, lod, filt, address) for _, name, tex, uv, lod, filt, address
         in random_cases(RECORD["samples"])}


@pytest.mark.parametrize("name", sorted(RECORD["matched"]))
def test_profile_reproduces_the_recorded_driver(name):
    tex, uv, lod, filt, address = CASES[name]
    ours = sample(tex, uv, lod=lod, filter=filt, address=address, profile=RECORD["profile"])
    assert hashlib.sha256(np.ascontiguousarray(ours, np.float32).tobytes()).hexdigest() == RECORD["matched"][name]


@pytest.mark.parametrize("name", sorted(RECORD["refused"]))
def test_unmatched_cases_stay_refused(name):
    tex, uv, lod, filt, address = CASES[name]
    with pytest.raises(NotMeasuredError):
        sample(tex, uv[:8], lod=None if lod is None else lod[:8], filter=filt, address=address,
               profile=RECORD["profile"])

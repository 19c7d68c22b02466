#!/usr/bin/env python3
"""Compare a runtime_ref sampler profile with driver outputs recorded by tools/gpu/capture_sampler.py.

    python tools/fit_sampler_profile.py CAPTURE_DIR [--profile nvidia] [--only SUBSTRING] [--show N]
                                        [--write-hashes tests/conformance/nvidia_h100_capture.json]

Regenerates every recorded case's inputs from its seed (checking the recorded input digest), samples it
with the profile and prints, per case, the samples that differ bit for bit and the largest difference,
plus the first differing samples with ``--show``. Cases the profile refuses (not measured) are listed
as such. This is how a profile is fitted: change the arithmetic, re-run, until every case shows 0.

``--write-hashes`` records the sha256 of the driver's output for every case the profile reproduces
(and the reason for every case it refuses): tests/conformance/test_sampler_recorded.py then checks
the profile against the recorded driver in CI, with no GPU.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ngsdk.runtime_ref.sampling import NotMeasuredError, sample  # noqa: E402
from tests.fixtures.sampler_cases import digest, random_cases  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("capture", type=Path)
    ap.add_argument("--profile", default="nvidia")
    ap.add_argument("--only", default="", help="only cases whose name contains this")
    ap.add_argument("--show", type=int, default=0, help="print this many differing samples per case")
    ap.add_argument("--write-hashes", type=Path, help="write the matched cases' output hashes here (JSON)")
    args = ap.parse_args()
    recorded: dict[str, np.ndarray] = {}
    for group in ("a", "b"):
        with np.load(args.capture / f"random_{group}.npz", allow_pickle=False) as z:
            samples = None
            for k in z.files:
                recorded[k] = z[k]
                if k.endswith("/out"):
                    samples = z[k].shape[0]
    print(f"driver: {recorded['driver']}; profile {args.profile}")
    total = bad_total = refused = 0
    hashes: dict[str, str] = {}
    refusals: dict[str, str] = {}
    for _group, name, tex, uv, lod, filt, address in random_cases(samples):
        if args.only not in name or f"{name}/out" not in recorded:
            continue
        if str(recorded[f"{name}/inputs"]) != digest(*[m for m in tex.mips], uv, lod):
            print(f"{name}: inputs differ from the recorded ones (numpy version?)")
            continue
        got = recorded[f"{name}/out"]
        try:
            ours = sample(tex, uv, lod=lod, filter=filt, address=address, profile=args.profile)
        except NotMeasuredError as err:
            refused += 1
            refusals[name] = str(err)
            print(f"{name}: refused ({err})")
            continue
        bad = np.any(got.view(np.uint32) != ours.view(np.uint32), axis=1)
        err = float(np.max(np.abs(got.astype(np.float64) - ours), initial=0.0))
        total += 1
        bad_total += int(bad.any())
        print(f"{name}: {int(bad.sum())} / {len(uv)} differ, max abs {err:.3g}")
        if not bad.any():
            hashes[name] = hashlib.sha256(np.ascontiguousarray(got, np.float32).tobytes()).hexdigest()
        for k in np.nonzero(bad)[0][: args.show]:
            print(f"    uv={uv[k].tolist()} lod={None if lod is None else float(lod[k])} "
                  f"driver={got[k].tolist()} ours={ours[k].tolist()}")
    print(f"{total} cases compared, {bad_total} with differences, {refused} refused")
    if args.write_hashes:
        doc = {"driver": str(recorded["driver"]), "profile": args.profile, "samples": samples,
               "generator": "tests/fixtures/sampler_cases.py random_cases", "matched": hashes, "refused": refusals}
        args.write_hashes.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {args.write_hashes}: {len(hashes)} matched, {len(refusals)} refused")
    return 1 if bad_total else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Run time of a super-sampling bundle's VGF exports on lavapipe (the ML emulation layer on the CPU) at their
static size, beside the torch-free NumPy network of ``runtime_ref.supersampling`` on the same frame.

Each row is the median wall time of ``--repeats`` runs of one network evaluation (one frame): for a VGF, one
``scenario_runner`` process (start-up, graph build on the emulation layer, the dispatch, reading and writing
the .npy tensors: what ``ngsdk verify`` pays per frame); for NumPy, ``net_int8`` / ``net_float`` on the
padded input. Inputs are random in the network's input range (the run time does not depend on the values).

    python tools/bench_supersampling_vgf.py build/nss.ngasset --repeats 3 --json build/nss_vgf_times.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tools.bench_common import say  # noqa: E402


def _timed(fn, repeats: int) -> list[float]:  # noqa: ANN001 - any callable
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("bundle", type=Path)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-numpy", action="store_true", help="skip the NumPy rows (minutes at 544x960)")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args(argv)

    from ngsdk.asset.vgf import read_vgf
    from ngsdk.runtime_ref.supersampling import load_supersampling, net_float, net_int8
    from ngsdk.runtime_ref.vgf.runner import run_vgf

    asset = load_supersampling(a.bundle)
    h, w = asset.export_size
    rng = np.random.default_rng(0)
    rows = []
    for precision in ("int8", "fp32"):
        path = a.bundle / f"supersampling.{precision}.vgf"
        if not path.is_file():
            say(f"{path.name}: not in the bundle (ngsdk export {a.bundle} --format vgf)")
            continue
        info = read_vgf(path)
        inputs = []
        for t in info.inputs:
            dt = np.dtype(t.dtype)
            inputs.append(rng.integers(-128, 128, t.shape).astype(dt) if dt.kind == "i"
                          else rng.random(t.shape, dtype=np.float32).astype(dt))
        run_vgf(path, inputs)  # first run: the emulation layer's shader caches
        times = _timed(lambda p=path, x=inputs: run_vgf(p, x), a.repeats)
        rows.append({"what": f"{path.name} on lavapipe (one scenario_runner run)", "precision": precision,
                     "size": f"{w}x{h}", "median_s": statistics.median(times), "runs_s": times,
                     "bytes": path.stat().st_size})
        say(f"{rows[-1]['what']}: {rows[-1]['median_s']:.2f} s")
    if not a.no_numpy:
        x = rng.random((12, h, w), dtype=np.float32)
        if asset.int8 is not None:
            times = _timed(lambda: net_int8(asset.int8, x), a.repeats)
            rows.append({"what": "runtime_ref net_int8 (NumPy, TOSA arithmetic)", "precision": "int8",
                         "size": f"{w}x{h}", "median_s": statistics.median(times), "runs_s": times})
            say(f"{rows[-1]['what']}: {rows[-1]['median_s']:.2f} s")
        times = _timed(lambda: net_float(asset, x), a.repeats)
        rows.append({"what": "runtime_ref net_float (NumPy)", "precision": "fp32", "size": f"{w}x{h}",
                     "median_s": statistics.median(times), "runs_s": times})
        say(f"{rows[-1]['what']}: {rows[-1]['median_s']:.2f} s")
    base = next((r["median_s"] for r in rows if r["precision"] == "int8" and "lavapipe" in r["what"]), None)
    print("\n| network evaluation, one frame | size | median s | vs int8 VGF |\n|---|---|---:|---:|")
    for r in rows:
        ratio = f"{r['median_s'] / base:.2f}x" if base else "-"
        print(f"| {r['what']} | {r['size']} | {r['median_s']:.2f} | {ratio} |")
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps({"bundle": str(a.bundle), "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

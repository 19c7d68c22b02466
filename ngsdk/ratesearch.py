"""The search behind ``--target-psnr``: the first candidate (in a list sorted by size) that passes.

Quality grows with the size, so the passing candidates are a suffix of the sorted list and a binary search
finds the first in about log2(candidates) trials (each a training run). Torch-free; the texture
(:mod:`ngsdk.textures.rate`) and volume (:mod:`ngsdk.volumes.rate`) rate controls share it.
"""

from __future__ import annotations

from collections.abc import Callable


def first_passing(count: int, passes: Callable[[int], bool]) -> int | None:
    """The smallest index in ``range(count)`` for which ``passes`` is true, assuming every index above a passing
    one passes too; None when none passes. ``passes`` is called once per probed index, midpoints first."""
    lo, hi = 0, count - 1  # invariant: every index above hi passes once tested
    best = None
    while lo <= hi:
        mid = (lo + hi) // 2
        if passes(mid):
            best, hi = mid, mid - 1
        else:
            lo = mid + 1
    return best

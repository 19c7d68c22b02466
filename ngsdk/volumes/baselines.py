"""Error-bounded lossy compressors as baselines for neural volumes: ZFP (fixed rate, fixed accuracy) and SZ3
(absolute error bound), each tuned by bisection to a target compressed size. NumPy only; the compressors are
optional (``pip install zfpy pysz``, the ``bench`` extra) and a missing one is named in one line.

Every method is scored the same way (docs/benchmarks.md, "Volumes: quality per byte"):

- input: the volume normalized to [0, 1] by its own min and max (``VolumeData.values``, float32), the values
  ngsdk trains on;
- bytes: everything needed to decode: the compressor's whole stream (ZFP's header with shape and mode, SZ3's
  stream with its config) plus :data:`NORMALIZATION_BYTES` for the min and max; for ngsdk :func:`decode_bytes`
  (grid texels, decoder weights and the manifest numbers the decode reads);
- ratio: the source's bytes (voxels x the source dtype's size, e.g. 1 B for uint8) / those bytes;
- quality: PSNR on the normalized values (peak 1, :func:`ngsdk.metrics.psnr`) and the max abs error.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ngsdk.metrics import psnr

NORMALIZATION_BYTES = 16
"""vmin and vmax as float64: what maps the normalized values back to the source's."""

METHODS = ("zfp-rate", "zfp-accuracy", "sz3-abs")
LABELS = {"zfp-rate": "ZFP fixed rate", "zfp-accuracy": "ZFP fixed accuracy", "sz3-abs": "SZ3 abs error bound"}
PACKAGES = {"zfp-rate": "zfpy", "zfp-accuracy": "zfpy", "sz3-abs": "pysz"}

GRID_TEXEL_META_BYTES = 56
"""Per grid, beyond its texels: the 3x4 float32 transform (48 B) and the float32 scale and offset (8 B)."""
BRICK_META_BYTES = 48
"""Per brick: its core and fit boxes (12 int32)."""
VOLUME_META_BYTES = NORMALIZATION_BYTES + 12
"""Per volume: the normalization and the shape (3 int32)."""
REACH_SLACK = 0.1
"""A baseline "reaches" a target size when it uses 90-100 % of it. ZFP's accuracy mode moves in whole bit
planes (tolerances that are powers of 2), so its nearest size below may lie further down: then it is the
largest setting that fits, reported with ``reached = False``."""


class BaselineUnavailable(RuntimeError):
    """A compressor's Python package is not installed."""


def decode_bytes(asset: Any) -> int:
    """Bytes a decoder of ``asset`` (a ``NeuralVolumeAsset``) needs: :meth:`stored_bytes` (grid texels, four
    components each whatever the feature count, and the float32 decoder) plus the manifest numbers the decode
    reads (transforms, scale/offset, brick boxes, normalization, shape). File headers, names and hashes are
    not counted (nor are ZFP's/SZ3's beyond their streams)."""
    grids = sum(len(b.grids) for b in asset.bricks)
    return int(asset.stored_bytes()) + grids * GRID_TEXEL_META_BYTES + len(asset.bricks) * BRICK_META_BYTES \
        + VOLUME_META_BYTES


def missing(method: str) -> str | None:
    """None when ``method`` can run here, else the one-line reason (``install zfpy ...``)."""
    if method not in METHODS:
        raise ValueError(f"unknown baseline {method!r}: use one of {', '.join(METHODS)}")
    try:
        _module(method)
    except BaselineUnavailable as e:
        return str(e)
    return None


def available_methods(methods: tuple[str, ...] = METHODS) -> tuple[str, ...]:
    """The methods of ``methods`` whose package is installed."""
    return tuple(m for m in methods if missing(m) is None)


def _module(method: str) -> Any:
    pkg = PACKAGES[method]
    try:
        if pkg == "zfpy":
            import zfpy

            return zfpy
        import pysz

        return pysz
    except ImportError:
        raise BaselineUnavailable(f"{LABELS[method]} needs the {pkg} package: pip install {pkg} "
                                  "(or pip install 'ngsdk[bench]')") from None


def compress(method: str, values: np.ndarray, parameter: float) -> tuple[int, np.ndarray]:
    """(stream bytes, decoded float32 values) of ``values`` (float32, 3-D) at ``parameter``: bits per value
    (``zfp-rate``), the absolute tolerance (``zfp-accuracy``) or the absolute error bound (``sz3-abs``)."""
    mod = _module(method)
    values = np.ascontiguousarray(values, dtype=np.float32)
    if method == "zfp-rate":
        stream = mod.compress_numpy(values, rate=float(parameter))
    elif method == "zfp-accuracy":
        stream = mod.compress_numpy(values, tolerance=float(parameter))
    else:
        conf = mod.szConfig()
        conf.errorBoundMode = mod.szErrorBoundMode.ABS
        conf.absErrorBound = float(parameter)
        data, _ = mod.sz.compress(values, conf)
        decoded, _ = mod.sz.decompress(data, np.float32, values.shape)
        return int(data.size), np.asarray(decoded, dtype=np.float32).reshape(values.shape)
    decoded = mod.decompress_numpy(stream)
    return len(stream), np.asarray(decoded, dtype=np.float32).reshape(values.shape)


def quality(decoded: np.ndarray, values: np.ndarray) -> tuple[float, float]:
    """(PSNR in dB with peak 1, max abs error) of ``decoded`` against the normalized ``values``."""
    err = decoded.astype(np.float64) - values.astype(np.float64)
    return psnr(float(np.mean(err * err))), float(np.max(np.abs(err)))


@dataclass
class Baseline:
    """One compressor at one setting, scored as the module docstring says."""

    method: str
    parameter: float
    compressed_bytes: int
    """Stream bytes + :data:`NORMALIZATION_BYTES`."""
    source_bytes: int
    target_bytes: int
    psnr_db: float
    max_abs_error: float
    seconds: float
    """Compress + decompress time of this setting (one run)."""
    reached: bool
    """Whether ``compressed_bytes`` lies at most :data:`REACH_SLACK` below ``target_bytes`` (never above)."""
    trials: int

    @property
    def ratio(self) -> float:
        return self.source_bytes / self.compressed_bytes

    @property
    def label(self) -> str:
        return LABELS[self.method]

    def to_dict(self) -> dict[str, Any]:
        return dict(asdict(self), ratio=self.ratio, label=self.label)


# parameter search space per method: (low, high, parameter from x, bytes grow with x)
_SPACES: dict[str, tuple[float, float, Callable[[float], float]]] = {
    # bits per value; zfpy 1.0.1 aborts the process (heap corruption) at rates of 0.1 and below
    "zfp-rate": (0.25, 32.0, lambda x: x),
    # tolerances above the value range still cost ZFP a few bits per block: up to 2^8 reaches them
    "zfp-accuracy": (-40.0, 8.0, lambda x: 2.0 ** x),
    "sz3-abs": (-40.0, 0.0, lambda x: 2.0 ** x),
}


def match_size(method: str, values: np.ndarray, target_bytes: int, source_bytes: int, *,
               tolerance: float = 0.02, max_trials: int = 28) -> Baseline:
    """``method`` tuned by bisection to the largest size at or below ``target_bytes`` (all bytes counted).

    Stops when the size lies within ``tolerance`` below the target. Sizes grow with the rate (ZFP fixed rate)
    and shrink with the tolerance / error bound (bisected on its log2), not always strictly, so the best
    setting seen is kept. If even the coarsest setting is larger than the target, that setting is returned
    with ``reached = False``.
    """
    if target_bytes <= NORMALIZATION_BYTES:
        raise ValueError(f"target of {target_bytes} bytes leaves nothing for the compressed stream")
    lo, hi, param = _SPACES[method]
    grows = method == "zfp-rate"
    best: tuple[float, int, np.ndarray, float] | None = None       # x, bytes, decoded, seconds
    smallest: tuple[float, int, np.ndarray, float] | None = None
    trials = 0
    a, b = lo, hi
    while trials < max_trials:
        x = (a + b) / 2
        t0 = time.perf_counter()
        n, decoded = compress(method, values, param(x))
        secs = time.perf_counter() - t0
        trials += 1
        total = n + NORMALIZATION_BYTES
        if smallest is None or total < smallest[1]:
            smallest = (x, total, decoded, secs)
        if total <= target_bytes:
            if best is None or total > best[1]:
                best = (x, total, decoded, secs)
            if total >= target_bytes * (1 - tolerance):
                break
            a, b = (x, b) if grows else (a, x)     # room left: more bytes
        else:
            a, b = (a, x) if grows else (x, b)     # too large: fewer bytes
        if abs(b - a) < 1e-6:
            break
    chosen = best or smallest
    x, total, decoded, secs = chosen
    db, mx = quality(decoded, values)
    reached = best is not None and total >= target_bytes * (1 - max(tolerance, REACH_SLACK))
    return Baseline(method=method, parameter=float(param(x)), compressed_bytes=int(total),
                    source_bytes=int(source_bytes), target_bytes=int(target_bytes), psnr_db=db, max_abs_error=mx,
                    seconds=secs, reached=bool(reached), trials=trials)


def baselines_at(values: np.ndarray, target_bytes: int, source_bytes: int,
                 methods: tuple[str, ...] = METHODS, *, tolerance: float = 0.02) -> list[Baseline]:
    """Every installed method of ``methods`` at ``target_bytes`` (missing ones are left out: see
    :func:`missing`)."""
    return [match_size(m, values, target_bytes, source_bytes, tolerance=tolerance)
            for m in available_methods(methods)]


def target_for_ratio(source_bytes: int, ratio: float) -> int:
    """Bytes that give ``ratio`` for a source of ``source_bytes``."""
    if not (ratio > 0 and math.isfinite(ratio)):
        raise ValueError(f"ratio must be a positive number, got {ratio}")
    return max(1, int(source_bytes / ratio))

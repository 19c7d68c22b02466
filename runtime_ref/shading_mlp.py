"""The reference runtime of shading MLPs (numpy only): the bundle loader and the evaluation every shader
must match.

:func:`load_shading_mlp` checks, each failing with a one-line AssetError naming the file: manifest JSON,
version and schema; size and sha256 of every listed file; the weight arrays' names, dtypes and shapes.

Two precisions (docs/shading.md, "Decode contract"):

- ``fp16``: the encoding is computed in float32 (polynomials, no library sin/cos/exp) and rounded
  to fp16; each dense layer starts from the fp16 bias and adds ``round16(w * x)`` for inputs in
  ascending order, rounding to fp16 after every multiply and every add; activations are applied
  to fp16 values and rounded to fp16. This is what the generated shaders compute.
- ``fp32``: the same op sequence in float32 (strict: no contraction, no reassociation) with the
  float32 master weights.

fp16 rounding is emulated in float32: every product or sum of two fp16 values is formed in
float32 and rounded to fp16 (round to nearest even, fp16 subnormals kept). Rounding a float32
result again to fp16 gives the correctly rounded fp16 result because 24 >= 2*11 + 2 (double
rounding is innocuous), which is also how NumPy's own float16 arithmetic works. The fast rounding
below may return +0 where IEEE gives -0; the sign of a zero never reaches an output (no division,
no copysign). Chunks whose values could overflow fp16 fall back to NumPy float16 arithmetic.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from ngsdk.asset.errors import AssetError
from ngsdk.asset.manifest import read_manifest
from ngsdk.asset.shading_mlp import (
    COS_PI_COEFFS,
    EXP2_COEFFS,
    FP16_MAX,
    KIND,
    MAX_ABS_INPUT,
    NEG_LOG2E,
    NEWTON_STEPS,
    RECIP_MAGIC,
    SIGMOID_CLAMP,
    SIN_PI_COEFFS,
    TANH_COEFFS,
    TANH_SMALL,
    TRI_FRAC_BITS,
    TRI_MAX_ABS,
    ShadingEncoding,
    ShadingMlpAsset,
    from_manifest,
    texel_centres,
)
from ngsdk.runtime_ref.npz import read_npz

F32 = np.float32
_EXP_MASK = np.uint32(0x7F800000)
_MIN_EXP = np.uint32(113 << 23)  # exponent of 2**-14, the smallest normal fp16
_MAGIC = np.uint32((13 << 23) | 0x400000)  # adds 13 to the exponent and sets mantissa to 1.5

Layers = list[tuple[np.ndarray, np.ndarray, str]]


# --------------------------------------------------------------------------- loading


def load_shading_mlp(bundle: str | Path, manifest: dict[str, Any] | None = None) -> ShadingMlpAsset:
    """Load a shading MLP bundle; ``manifest`` skips re-reading an already validated one."""
    bundle = Path(bundle)
    if manifest is None:
        manifest = read_manifest(bundle)
    if manifest["kind"] != KIND:
        raise AssetError(bundle / "manifest.json", f"kind is {manifest['kind']!r}, not a shading MLP")
    w = manifest["weights"]
    expected: dict[str, tuple[tuple[int, ...], str]] = {}
    for layer in w["layers"]:
        expected[layer["weight"]] = ((layer["outputs"], layer["inputs"]), "float32")
        expected[layer["bias"]] = ((layer["outputs"],), "float32")
    arrays = read_npz(bundle / w["file"], expected, strict=True)
    return from_manifest(manifest, {w["file"]: arrays}, bundle / "manifest.json")


# --------------------------------------------------------------------------- fp16 rounding


def round_f16(x: np.ndarray) -> np.ndarray:
    """Round float32 values to fp16 (IEEE: ties to even, subnormals, overflow to inf, signed zeros),
    returned as float32."""
    with np.errstate(over="ignore"):
        return np.asarray(x, F32).astype(np.float16).astype(F32)


def _round_f16_(a: np.ndarray, e: np.ndarray, subnormals: bool = True) -> None:
    # Adding C = 1.5 * 2**(max(exp(a), -14) + 13) leaves a sum whose ulp is a's fp16 quantum, so
    # (a + C) - C is a rounded to fp16 (ties to even because C / quantum is even).
    # ``subnormals=False`` skips the floor at 2**-14 (the slowest step): valid when a is a sum of
    # two fp16 values, because such a sum below 2**-14 is a multiple of 2**-24, i.e. already fp16.
    np.bitwise_and(a.view(np.uint32), _EXP_MASK, out=e)
    if subnormals:
        np.maximum(e, _MIN_EXP, out=e)
    np.add(e, _MAGIC, out=e)
    c = e.view(F32)
    np.add(a, c, out=a)
    np.subtract(a, c, out=a)


# --------------------------------------------------------------------------- float32 functions


def sin_cos_pi(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sin(pi x), cos(pi x)) in float32 by the contract's reduction and polynomials."""
    x = np.clip(np.asarray(x, F32), F32(-MAX_ABS_INPUT), F32(MAX_ABS_INPUT))
    y = x * F32(2.0)
    q = np.floor(y + F32(0.5))
    r = (y - q) * F32(0.5)
    z = r * r
    s1, s3, s5, s7, s9 = (F32(c) for c in SIN_PI_COEFFS)
    t = np.full_like(z, s9)
    for c in (s7, s5, s3, s1):
        t = t * z
        t = t + c
    sp = t * r
    c0, c2, c4, c6, c8, c10 = (F32(c) for c in COS_PI_COEFFS)
    t = np.full_like(z, c10)
    for c in (c8, c6, c4, c2, c0):
        t = t * z
        t = t + c
    cp = t
    n = q.astype(np.int32) & 3
    sin = np.select([n == 0, n == 1, n == 2], [sp, cp, -sp], -cp)
    cos = np.select([n == 0, n == 1, n == 2], [cp, -sp, -cp], sp)
    return sin.astype(F32), cos.astype(F32)


def sigmoid32(x: np.ndarray) -> np.ndarray:
    """The contract's float32 sigmoid: 1 / (1 + 2**(x * -log2 e)) with a polynomial 2**f and a
    Newton reciprocal, built from +, -, *, floor and bit casts only."""
    x = np.asarray(x, F32)
    xc = np.minimum(np.maximum(x, F32(-SIGMOID_CLAMP)), F32(SIGMOID_CLAMP))
    t = xc * F32(NEG_LOG2E)
    k = np.floor(t + F32(0.5))
    f = t - k
    e = [F32(c) for c in EXP2_COEFFS]
    p = np.full_like(f, e[7])
    for c in reversed(e[:7]):
        p = p * f
        p = p + c
    with np.errstate(invalid="ignore"):  # NaN inputs (outside the contract) give NaN below anyway
        scale = ((k.astype(np.int32) + 127) << 23).astype(np.uint32).view(F32)
    d = p * scale + F32(1.0)
    y = (np.uint32(RECIP_MAGIC) - d.view(np.uint32)).view(F32)
    for _ in range(NEWTON_STEPS):
        m = d * y
        m = F32(2.0) - m
        y = y * m
    return y


def tanh32(x: np.ndarray) -> np.ndarray:
    """The contract's float32 tanh: an odd Taylor polynomial for |x| < 1/2 (no cancellation near
    zero), else ``2 * sigmoid32(2 x) - 1``."""
    x = np.asarray(x, F32)
    xs = np.minimum(np.maximum(x, F32(-1.0)), F32(1.0))  # keeps the unused branch finite
    z = xs * xs
    c = [F32(v) for v in TANH_COEFFS]
    t = np.full_like(z, c[-1])
    for v in reversed(c[:-1]):
        t = t * z
        t = t + v
    small = t * xs
    large = sigmoid32(x * F32(2.0)) * F32(2.0) - F32(1.0)
    return np.where(np.abs(x) < F32(TANH_SMALL), small, large).astype(F32)


# --------------------------------------------------------------------------- encoding


def encode(uv: np.ndarray, encoding: ShadingEncoding, precision: str = "fp16") -> np.ndarray:
    """Network inputs (N, features) as float32 (holding fp16 values when ``precision='fp16'``)."""
    uv = np.asarray(uv, F32)
    if uv.ndim != 2 or uv.shape[1] != encoding.inputs:
        raise ValueError(f"expected inputs of shape (N, {encoding.inputs}), got {uv.shape}")
    rnd = round_f16 if precision == "fp16" else (lambda a: np.asarray(a, F32))
    cols: list[np.ndarray] = []
    for i in range(encoding.inputs):
        x = uv[:, i]
        if encoding.kind == "none":
            cols.append(rnd(x))
        elif encoding.kind == "frequency":
            s, c = sin_cos_pi(x)
            s, c = rnd(s), rnd(c)
            cols += [s, c]
            for _ in range(encoding.features_per_input // 2 - 1):
                s, c = rnd(rnd(s * F32(2.0)) * c), rnd(rnd(rnd(c * F32(2.0)) * c) - F32(1.0))
                cols += [s, c]
        else:
            cols += [rnd(t) for t in triangle_waves(x, encoding.features_per_input)]
    return np.stack(cols, axis=1).astype(F32)


def triangle_waves(x: np.ndarray, count: int) -> list[np.ndarray]:
    """The contract's triangle waves of ``x`` (float32), exact integer arithmetic (TRI_FRAC_BITS)."""
    xt = np.minimum(np.maximum(np.asarray(x, F32), F32(-TRI_MAX_ABS)), F32(TRI_MAX_ABS))
    xu = np.floor(xt * F32(2.0**TRI_FRAC_BITS)).astype(np.int32).view(np.uint32)
    one = 1 << TRI_FRAC_BITS
    out = []
    for j in range(count):
        p = ((xu << np.uint32(j)) + np.uint32((j << (TRI_FRAC_BITS - 1)) & 0xFFFFFFFF)) & np.uint32(
            2 * one - 1
        )
        d = np.abs(p.astype(np.int32) - np.int32(one)) - np.int32(one >> 1)
        out.append(d.astype(F32) * F32(2.0 ** -(TRI_FRAC_BITS - 1)))
    return out


# --------------------------------------------------------------------------- network


def network_layers(asset: ShadingMlpAsset, precision: str = "fp16") -> Layers:
    """(weight (out, in), bias, activation) per layer as float32 (fp16-rounded for ``fp16``)."""
    out = []
    for layer in asset.decoder.layers:
        w, b = layer.weight, layer.bias
        if precision == "fp16":
            w, b = w.astype(np.float16), b.astype(np.float16)
        out.append((np.ascontiguousarray(w, F32), np.ascontiguousarray(b, F32), layer.activation))
    return out


def _activation(h: np.ndarray, act: str, slope: float, precision: str) -> np.ndarray:
    rnd = round_f16 if precision == "fp16" else (lambda a: a)
    s = F32(np.float16(slope)) if precision == "fp16" else F32(slope)
    if act == "none":
        return h
    if act == "relu":
        return np.where(h < 0, F32(0.0), h)
    if act == "leaky_relu":
        return np.where(h < 0, rnd(h * s), h)
    if act == "sigmoid":
        return rnd(sigmoid32(h))
    if act == "tanh":
        return rnd(tanh32(h))
    if act == "swish":
        return rnd(h * rnd(sigmoid32(h)))
    raise ValueError(f"unknown activation {act!r}")


def _dense_fp16_fast(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    # x: (in, N) fp16 values as float32; returns (out, N). Rows are contiguous so each numpy call
    # streams one weight column against long rows.
    acc = np.empty((w.shape[0], x.shape[1]), F32)
    acc[:] = b[:, None]
    p = np.empty_like(acc)
    e = np.empty(acc.shape, np.uint32)
    wc = [np.ascontiguousarray(w[:, i : i + 1]) for i in range(w.shape[1])]
    for i in range(w.shape[1]):
        np.multiply(wc[i], x[i : i + 1], out=p)
        _round_f16_(p, e)
        np.add(acc, p, out=acc)
        _round_f16_(acc, e, subnormals=False)
    return acc


def _dense_fp16_ieee(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    # Plain NumPy float16 arithmetic: slow, but handles overflow to infinity by IEEE rules.
    xh, wh = x.astype(np.float16), w.astype(np.float16)
    acc = np.broadcast_to(b.astype(np.float16)[:, None], (w.shape[0], x.shape[1])).copy()
    with np.errstate(over="ignore", invalid="ignore"):
        for i in range(w.shape[1]):
            acc = acc + wh[:, i : i + 1] * xh[i : i + 1]
    return acc.astype(F32)


def _dense_fp32(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    acc = np.empty((w.shape[0], x.shape[1]), F32)
    acc[:] = b[:, None]
    p = np.empty_like(acc)
    for i in range(w.shape[1]):
        np.multiply(w[:, i : i + 1], x[i : i + 1], out=p)
        np.add(acc, p, out=acc)
    return acc


def _run_layers(h: np.ndarray, layers: Layers, slope: float, precision: str) -> np.ndarray:
    # h: (features, N); returns (outputs, N)
    for w, b, act in layers:
        if precision == "fp16":
            # Partial sums stay below |b| + sum |w x| (times a rounding factor far below 2), so under
            # half of FP16_MAX no product or partial sum can overflow and the fast path is exact.
            finite = bool(np.isfinite(h).all())
            bound = np.abs(b).astype(np.float64)[:, None] + np.abs(w).astype(np.float64) @ np.abs(h).astype(
                np.float64
            )
            if finite and float(bound.max(initial=0.0)) < FP16_MAX / 2:
                h = _dense_fp16_fast(h, w, b)
            else:
                h = _dense_fp16_ieee(h, w, b)
        else:
            h = _dense_fp32(h, w, b)
        h = _activation(h, act, slope, precision)
    return h


def evaluate(
    asset: ShadingMlpAsset,
    uv: np.ndarray,
    precision: str = "fp16",
    *,
    chunk: int = 4096,
    threads: int | None = None,
) -> np.ndarray:
    """Evaluate the network at ``uv`` (N, inputs) float32 by the contract.

    Returns (N, outputs): float16 for ``fp16``, float32 for ``fp32``. Bit-identical for any
    ``chunk`` and ``threads`` (rows are independent).
    """
    return evaluate_layers(
        network_layers(asset, precision),
        asset.encoding,
        asset.leaky_slope,
        uv,
        precision,
        chunk=chunk,
        threads=threads,
    )


def evaluate_layers(
    layers: Layers,
    encoding: ShadingEncoding,
    leaky_slope: float,
    uv: np.ndarray,
    precision: str = "fp16",
    *,
    chunk: int = 4096,
    threads: int | None = None,
) -> np.ndarray:
    """:func:`evaluate` for explicit ``(weight (out, in), bias, activation)`` layers, e.g. read
    back from an exported file. For ``fp16`` the weights must already be fp16 values."""
    if precision not in ("fp16", "fp32"):
        raise ValueError(f"precision must be 'fp16' or 'fp32', got {precision!r}")
    uv = np.asarray(uv, F32)
    layers = [(np.ascontiguousarray(w, F32), np.ascontiguousarray(b, F32), a) for w, b, a in layers]
    if precision == "fp16":
        for w, b, _ in layers:
            if not (np.array_equal(w, round_f16(w)) and np.array_equal(b, round_f16(b))):
                raise ValueError("fp16 evaluation needs fp16 weights (round them first)")
    starts = list(range(0, uv.shape[0], chunk))

    def run(s: int) -> np.ndarray:
        x = np.ascontiguousarray(encode(uv[s : s + chunk], encoding, precision).T)
        return np.ascontiguousarray(_run_layers(x, layers, leaky_slope, precision).T)

    threads = threads or min(4, os.cpu_count() or 1)
    if threads > 1 and len(starts) > 1:
        with ThreadPoolExecutor(threads) as pool:
            parts = list(pool.map(run, starts))
    else:
        parts = [run(s) for s in starts]
    out = np.concatenate(parts, axis=0) if parts else np.zeros((0, layers[-1][0].shape[0]), F32)
    return out.astype(np.float16) if precision == "fp16" else out


def decode_image(asset: ShadingMlpAsset, precision: str = "fp16", **kw) -> np.ndarray:
    """The network's image at texel centres, (height, width, outputs) (see :func:`evaluate`)."""
    out = evaluate(asset, texel_centres(asset.width, asset.height), precision, **kw)
    return out.reshape(asset.height, asset.width, -1)


# --------------------------------------------------------------------------- the training target


def target_coords(uv: np.ndarray, transform: str) -> np.ndarray:
    """Where the target of a network input ``uv`` is looked up in the source, in normalized UV.

    ``none``: uv; ``zoom``: ``uv * 0.5 + 0.25`` (centre crop, 2x); ``flip``: ``(v, u)`` (the
    image transposed in normalized coordinates).
    """
    uv = np.asarray(uv, F32)
    if transform == "none":
        return uv
    if transform == "zoom":
        return uv * F32(0.5) + F32(0.25)
    if transform == "flip":
        return uv[:, ::-1].copy()
    raise ValueError(f"unknown transform {transform!r}")


def lookup(image: np.ndarray, st: np.ndarray, filter: str = "nearest") -> np.ndarray:
    """Sample ``image`` (H, W, C) float32 at normalized coordinates ``st`` (N, 2), clamp to edge.

    ``nearest``: texel ``min(floor(s * W), W - 1)`` (the seed's ``uint(uv * size)``);
    ``bilinear``: texel centres at half-integers, weights in float32.
    """
    h, w = image.shape[:2]
    s, t = st[:, 0].astype(F32), st[:, 1].astype(F32)
    if filter == "nearest":
        x = np.clip(np.floor(s * F32(w)), 0, w - 1).astype(np.int64)
        y = np.clip(np.floor(t * F32(h)), 0, h - 1).astype(np.int64)
        return image[y, x]
    if filter != "bilinear":
        raise ValueError(f"unknown filter {filter!r}")
    fx, fy = s * F32(w) - F32(0.5), t * F32(h) - F32(0.5)
    x0, y0 = np.floor(fx), np.floor(fy)
    ax, ay = (fx - x0)[:, None], (fy - y0)[:, None]
    x0i, y0i = x0.astype(np.int64), y0.astype(np.int64)
    xa, xb = np.clip(x0i, 0, w - 1), np.clip(x0i + 1, 0, w - 1)
    ya, yb = np.clip(y0i, 0, h - 1), np.clip(y0i + 1, 0, h - 1)
    top = image[ya, xa] * (F32(1) - ax) + image[ya, xb] * ax
    bot = image[yb, xa] * (F32(1) - ax) + image[yb, xb] * ax
    return (top * (F32(1) - ay) + bot * ay).astype(F32)


def reference_image(
    source: np.ndarray, width: int, height: int, transform: str = "none", filter: str = "nearest"
) -> np.ndarray:
    """The training target at the texel centres of a ``width`` x ``height`` output, (H, W, C)."""
    st = target_coords(texel_centres(width, height), transform)
    return lookup(np.asarray(source, F32), st, filter).reshape(height, width, -1)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two images with values in [0, 1] (peak 1)."""
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(1.0 / mse)

"""Array backend for the samplers: NumPy, or CuPy on a GPU, with identical results.

Every sampler function takes the array module ``xp`` and uses only operations that NumPy and CuPy
both define with IEEE-754 semantics (elementwise float32/float64 arithmetic, ``rint``/``floor``,
integer bit operations, ``take``, ``where``). No float operation is fused across calls, so a CuPy
run reproduces the NumPy bits. FMA, which NumPy lacks, is emulated exactly in float64
(:func:`fma_f32`).
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

F32 = np.float32


def get_xp(backend: str | ModuleType | None = None) -> ModuleType:
    """Return the array module: ``None``/``"numpy"`` -> numpy, ``"cupy"`` -> cupy (imported lazily)."""
    if backend is None or backend == "numpy" or backend is np:
        return np
    if isinstance(backend, ModuleType):
        return backend
    if backend == "cupy":
        try:
            import cupy
        except ImportError as err:  # pragma: no cover - depends on the machine
            raise ValueError(f"backend 'cupy' requested but cupy cannot be imported: {err}") from None
        return cupy
    raise ValueError(f"unknown array backend {backend!r} (use 'numpy' or 'cupy')")


def xp_of(array: object) -> ModuleType:
    """The array module an array belongs to (cupy arrays carry a ``__cuda_array_interface__``)."""
    if hasattr(array, "__cuda_array_interface__"):
        import cupy

        return cupy
    return np


def to_numpy(array: object) -> np.ndarray:
    """Bring an array to the host as a NumPy array (no copy for NumPy input)."""
    if hasattr(array, "__cuda_array_interface__"):
        return array.get()
    return np.asarray(array)


def fma_f32(xp: ModuleType, a, b, c):
    """``fma(a, b, c)`` for float32 operands, correctly rounded to float32 (one rounding).

    ``a*b`` is exact in float64 (24+24 bits); the float64 sum is made round-to-odd with an exact
    TwoSum error term, and a round-to-odd float64 (53 >= 24+2 bits) rounds to the correctly rounded
    float32. This is what LLVM's ``llvm.fmuladd`` becomes on an FMA-capable x86 CPU.
    """
    a = xp.asarray(a, dtype=xp.float32).astype(xp.float64)
    b = xp.asarray(b, dtype=xp.float32).astype(xp.float64)
    c = xp.asarray(c, dtype=xp.float32).astype(xp.float64)
    p = a * b
    s = p + c
    # TwoSum: s + e == p + c exactly
    bv = s - p
    e = (p - (s - bv)) + (c - bv)
    bits = s.view(xp.int64)
    even_inexact = (e != 0) & ((bits & 1) == 0)
    # step the even result one unit towards the exact value: away from zero if e has s's sign
    step = xp.where((e > 0) == (s > 0), 1, -1).astype(xp.int64)
    bits = xp.where(even_inexact & (s != 0), bits + step, bits)
    return bits.view(xp.float64).astype(xp.float32)


def round_down_f32(xp: ModuleType, x64):
    """float64 -> the largest float32 <= x (directed rounding, for lower bounds)."""
    f = x64.astype(xp.float32)
    return xp.where(f.astype(xp.float64) > x64, xp.nextafter(f, xp.float32(-xp.inf)), f)


def round_up_f32(xp: ModuleType, x64):
    """float64 -> the smallest float32 >= x (directed rounding, for upper bounds)."""
    f = x64.astype(xp.float32)
    return xp.where(f.astype(xp.float64) < x64, xp.nextafter(f, xp.float32(xp.inf)), f)

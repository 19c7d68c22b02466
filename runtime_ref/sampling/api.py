"""The public entry point: :func:`sample` a texture at many coordinates with a named profile."""

from __future__ import annotations

from types import ModuleType

import numpy as np

from ngsdk.asset.texture import TextureData
from ngsdk.runtime_ref.sampling.backend import get_xp, xp_of
from ngsdk.runtime_ref.sampling.profiles import Profile, get_profile
from ngsdk.runtime_ref.sampling.state import SamplerState
from ngsdk.runtime_ref.sampling.texture import SampledTexture, prepare

# samples per chunk: intermediates of one chunk (a few dozen arrays of 8 bytes per sample) stay in
# the L2 cache, which is what keeps the NumPy path at >= 10 M bilinear samples/s on one core
CHUNK = 8192


def sample(
    tex: TextureData | SampledTexture,
    uv,
    *,
    lod=None,
    layer: int = 0,
    filter: str = "linear",
    address: str = "repeat",
    border=None,
    profile: str | Profile = "ideal",
    backend: str | ModuleType | None = None,
    chunk: int = CHUNK,
):
    """Sample ``tex`` at normalized coordinates ``uv`` the way ``profile`` says a sampler does.

    Args:
        tex: the texture (2D, 2D array, cube faces as array layers, or 3D; any mip chain), or a
            :class:`SampledTexture` prepared once with :func:`prepare` to reuse its decoded tables.
        uv: ``(N, 2)`` coordinates for 2D textures, ``(N, 3)`` for 3D; converted to float32, as a
            shader passes them.
        lod: explicit level of detail: ``None`` (level 0), a number, or ``(N,)`` values (float32).
        layer: array layer of a 2D array (0 otherwise).
        filter: ``nearest``, ``linear`` (nearest mip) or ``trilinear`` (linear mip blend).
        address: ``repeat``, ``mirror``, ``clamp`` (to edge) or ``border`` on every axis.
        border: RGBA border colour for ``border`` (default transparent black).
        profile: ``ideal``, ``d3d11``, ``lavapipe``, ``lavapipe-mesa25``, ``nvidia`` or ``bounded``
            (see :mod:`ngsdk.runtime_ref.sampling.profiles`), or a :class:`Profile` object.
        backend: ``numpy`` or ``cupy``; default: the backend of ``uv`` (or of a prepared texture).
        chunk: samples per vectorised step.

    Returns:
        float32 ``(N, 4)`` RGBA; for ``bounded``, ``(N, 2, 4)`` with ``[:, 0]`` the lower and
        ``[:, 1]`` the upper bound. On the backend's device (a CuPy array for ``cupy``).
    """
    prof = get_profile(profile)
    state = SamplerState(filter, address, (0.0, 0.0, 0.0, 0.0) if border is None else tuple(border))
    if backend is None:
        backend = tex.xp if isinstance(tex, SampledTexture) else xp_of(uv)
    xp = get_xp(backend)
    st = prepare(tex, xp)
    coords, lods = _check_inputs(xp, st, uv, lod, layer)
    prof.check(st, state, lods is not None)
    n = coords.shape[0]
    out = xp.empty((n, 2, 4) if prof.bounded else (n, 4), dtype=xp.float32)
    step = max(1, int(chunk))
    for start in range(0, n, step):
        stop = min(n, start + step)
        cs = [xp.ascontiguousarray(coords[start:stop, a]) for a in range(st.dims)]
        ls = None if lods is None else lods[start:stop]
        out[start:stop] = prof.run(st, cs, ls, int(layer), state)
    return out


def _check_inputs(xp: ModuleType, tex: SampledTexture, uv, lod, layer):
    coords = xp.asarray(uv)
    if coords.ndim != 2 or coords.shape[1] != tex.dims:
        want = "N x 3 (3D texture)" if tex.dims == 3 else "N x 2 (2D texture)"
        raise ValueError(f"coordinates must be {want}, got shape {tuple(coords.shape)}")
    if coords.dtype.kind not in "fiu":
        raise ValueError(f"coordinates must be numbers, got dtype {coords.dtype}")
    coords = coords.astype(xp.float32, copy=False)
    if not bool(xp.isfinite(coords).all()):
        raise ValueError("coordinates must be finite (found NaN or infinity)")
    # integer texel math (8 fractional bits in int32) needs |u * size * 256| < 2^31
    limit = 2.0**31 / 256 / max(tex.data.width, tex.data.height, tex.data.depth)
    if coords.shape[0] and float(xp.abs(coords).max()) >= limit:
        raise ValueError(f"coordinates must lie within +-{limit:g} for this texture size")
    if not isinstance(layer, (int, np.integer)) or isinstance(layer, bool) or not 0 <= layer < tex.layers:
        raise ValueError(f"layer must be an integer in [0, {tex.layers - 1}] for this texture, got {layer!r}")
    if lod is None:
        return coords, None
    lods = xp.asarray(lod)
    if lods.dtype.kind not in "fiu":
        raise ValueError(f"lod must be numbers, got dtype {lods.dtype}")
    lods = lods.astype(xp.float32, copy=False)
    if lods.ndim == 0:
        lods = xp.full((coords.shape[0],), lods, dtype=xp.float32)
    lods = lods.reshape(-1) if lods.ndim == 2 and lods.shape[1] == 1 else lods
    if lods.shape != (coords.shape[0],):
        raise ValueError(f"lod must be a number or have one value per coordinate ({coords.shape[0]}), "
                         f"got shape {tuple(lods.shape)}")
    if not bool(xp.isfinite(lods).all()):
        raise ValueError("lod must be finite (found NaN or infinity)")
    return coords, lods


__all__ = ["CHUNK", "sample", "prepare", "SamplerState"]

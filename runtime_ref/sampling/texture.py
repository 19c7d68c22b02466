"""The sampler's view of a texture: per-level texel tables on the chosen array backend.

:class:`SampledTexture` wraps a :class:`~ngsdk.asset.texture.TextureData` (2D, 2D array, cube faces as
array layers, 3D; any mip chain) and lazily builds, per mip level, the flat texel tables the profiles
gather from. Texel ``(x, y, s)`` of a level (``s`` = array layer or depth slice) is row
``(s * h + y) * w + x`` of every table. Tables are cached, so preparing a texture once and sampling it
many times costs one decode.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

from ngsdk.asset.texture import TextureData
from ngsdk.runtime_ref.sampling import decode
from ngsdk.runtime_ref.sampling.backend import get_xp

# formats the 8-bit integer paths accept: one byte per component, unsigned, normalized
_BYTE_UNORM = {"u1"}


class SampledTexture:
    """A texture prepared for sampling on one array backend (``numpy`` or ``cupy``)."""

    def __init__(self, data: TextureData, backend: str | ModuleType | None = None):
        if not isinstance(data, TextureData):
            raise TypeError(f"expected a TextureData, got {type(data).__name__}")
        self.data = data
        self.xp = get_xp(backend)
        self.format = data.format
        self.dims = 3 if data.dimension == "3d" else 2
        self.mip_count = data.mip_count
        self.layers = data.array_size if self.dims == 2 else 1
        # power-of-two flags of the base level, per axis (x, y, z): drivers specialise on them
        base = (data.width, data.height, data.depth)
        self.pot = tuple((n & (n - 1)) == 0 for n in base)
        self._tables: dict[tuple[str, int], object] = {}
        rows = [int(np.prod(m.shape[:3])) for m in data.mips]
        self._offsets = [int(sum(rows[:m])) for m in range(len(rows))]
        if sum(rows) >= 2**31:
            raise ValueError(f"texture too large for int32 texel indices ({sum(rows)} texels)")

    # -- geometry -----------------------------------------------------------------------------------
    def size(self, level: int) -> tuple[int, int, int]:
        """``(w, h, d)`` of a level (``d`` = 1 for 2D textures)."""
        lead, h, w, _ = self.data.mips[level].shape
        return w, h, (lead if self.dims == 3 else 1)

    def slices(self, level: int) -> int:
        """Number of ``s`` slices in a level's tables: depth (3D) or array layers (2D)."""
        return self.data.mips[level].shape[0]

    @property
    def is_byte_unorm(self) -> bool:
        """One unsigned byte per component, UNORM (sRGB included): the 8-bit integer filter paths."""
        return self.format.kind == "unorm" and self.format.dtype in _BYTE_UNORM

    def geometry(self, level, layer: int = 0) -> LevelGeometry:
        """Geometry of ``level`` (an int, or an int32 array of per-sample levels) for atlas tables.

        ``base`` is the first atlas row of the sampled slice: the level's offset in the atlas plus
        ``layer * w * h`` for 2D arrays (3D textures add ``z * w * h`` per tap instead).
        """
        xp = self.xp
        if isinstance(level, (int, np.integer)):
            w, h, d = self.size(int(level))
            base = self._offsets[int(level)] + (layer * w * h if self.dims == 2 else 0)
            return LevelGeometry(w, h, d, base)
        g = self._geometry_arrays()
        w, h, d, off = (xp.take(a, level) for a in g)
        base = off + w * h * layer if self.dims == 2 and layer else off
        return LevelGeometry(w, h, d, base)

    def _geometry_arrays(self):
        def build():
            sizes = [self.size(m) for m in range(self.mip_count)]
            cols = [[s[k] for s in sizes] for k in range(3)] + [self._offsets]
            return tuple(self.xp.asarray(np.asarray(c, dtype=np.int32)) for c in cols)
        return self.cached("geometry", -1, build)

    def atlas(self, kind: str):
        """All levels of one table kind stacked in level order (rows as in :meth:`geometry`)."""
        def build():
            xp = self.xp
            if kind == "bounds":
                pairs = [self.bounds(m) for m in range(self.mip_count)]
                return (xp.concatenate([p[0] for p in pairs]), xp.concatenate([p[1] for p in pairs]))
            tables = [getattr(self, kind)(m) for m in range(self.mip_count)]
            return tables[0] if len(tables) == 1 else xp.concatenate(tables)
        return self.cached("atlas:" + kind, -1, build)

    # -- tables -------------------------------------------------------------------------------------
    def cached(self, kind: str, level: int, build):
        """The table ``(kind, level)``, built by ``build()`` on first use (profiles add their own kinds)."""
        key = (kind, level)
        table = self._tables.get(key)
        if table is None:
            table = build()
            self._tables[key] = table
        return table

    def raw(self, level: int):
        """Stored components, ``(texels, C)`` in the format's dtype, on the backend."""
        def build():
            mip = self.data.mips[level]
            return self.xp.asarray(np.ascontiguousarray(mip.reshape(-1, mip.shape[-1])))
        return self.cached("raw", level, build)

    def exact(self, level: int):
        """Spec values, float64 ``(texels, 4)`` (:func:`decode.decode_exact`)."""
        return self.cached("exact", level, lambda: decode.decode_exact(self.xp, self.format, self.raw(level)))

    def lavapipe(self, level: int):
        """llvmpipe's float32 decode ``(texels, 4)`` (:func:`decode.decode_lavapipe`)."""
        return self.cached("lavapipe", level,
                            lambda: decode.decode_lavapipe(self.xp, self.format, self.raw(level)))

    def bounds(self, level: int):
        """Per-texel ``(lo, hi)`` float64 ``(texels, 4)`` (:func:`decode.decode_bounds`)."""
        return self.cached("bounds", level,
                           lambda: decode.decode_bounds(self.xp, self.format, self.raw(level)))

    def codes(self, level: int):
        """8-bit codes as int32 ``(texels, 4)``, missing components read as (0, 0, 255)."""
        def build():
            raw = self.raw(level).astype(self.xp.int32)
            return decode.pad_rgba(self.xp, raw, 255)
        return self.cached("codes", level, build)

    def lanes(self, level: int):
        """8-bit codes packed as four 16-bit lanes of a uint64 per texel (R in the low lane).

        The SWAR filter in :mod:`lavapipe_fixed` lerps all four components with one multiply-add;
        16-bit lanes leave room for the ``(256 - w) * a + w * b + 128 < 2^16`` intermediate.
        """
        def build():
            xp = self.xp
            c = self.codes(level).astype(xp.uint64)
            return c[:, 0] | (c[:, 1] << 16) | (c[:, 2] << 32) | (c[:, 3] << 48)
        return self.cached("lanes", level, build)


class LevelGeometry:
    """Per-sample level geometry: sizes and the atlas row where a sample's slice starts.

    Each field is a Python int when every sample uses one level, else an int32 array.
    """

    __slots__ = ("w", "h", "d", "base")

    def __init__(self, w, h, d, base):
        self.w, self.h, self.d, self.base = w, h, d, base


def prepare(tex: TextureData | SampledTexture, backend: str | ModuleType | None = None) -> SampledTexture:
    """Return ``tex`` as a :class:`SampledTexture` on ``backend`` (reusing it when it already is one)."""
    if isinstance(tex, SampledTexture):
        if backend is None or get_xp(backend) is tex.xp:
            return tex
        return SampledTexture(tex.data, backend)
    return SampledTexture(tex, backend)

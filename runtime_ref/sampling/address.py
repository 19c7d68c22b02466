"""Address modes on integer texel indices (Vulkan spec, "Image Operations": "Wrapping Operation").

``repeat``: ``i mod n``; ``mirror`` (mirrored repeat): ``(n - 1) - mirror((i mod 2n) - n)`` with
``mirror(a) = a if a >= 0 else -(1 + a)``; ``clamp`` (clamp to edge): ``clamp(i, 0, n - 1)``;
``border`` (clamp to border): indices outside ``[0, n)`` read the border colour.
The profiles that wrap integer indices (ideal, d3d11, nvidia, bounded) use these; lavapipe wraps some
modes in float and reproduces Mesa's own sequence instead.
"""

from __future__ import annotations

from types import ModuleType

ADDRESS_MODES = ("repeat", "mirror", "clamp", "border")


def wrap(xp: ModuleType, i, n: int, mode: str):
    """Wrap integer indices ``i`` into ``[0, n)``; return ``(index, outside)``.

    ``outside`` is a boolean mask of texels that read the border colour (``None`` unless ``border``);
    their ``index`` is clamped so that gathering stays in bounds.
    """
    if mode == "repeat":
        return xp.mod(i, n), None
    if mode == "mirror":
        a = xp.mod(i, 2 * n) - n
        return (n - 1) - xp.where(a >= 0, a, -(1 + a)), None
    if mode == "clamp":
        return xp.clip(i, 0, n - 1), None
    if mode == "border":
        outside = (i < 0) | (i >= n)
        return xp.clip(i, 0, n - 1), outside
    raise ValueError(f"unknown address mode {mode!r} (use one of {', '.join(ADDRESS_MODES)})")

"""What a texture file holds, guessed from its name: map keywords (``albedo``, ``nor_gl``, packed ``arm``...)
as token sequences of the file stem (docs/texture-input.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ngsdk.asset.errors import AssetError
from ngsdk.textures.channel_file import CHANNEL_FILE_NAME


@dataclass
class MapGuess:
    """What a file name says a file holds (see :func:`guess_map`).

    Either ``semantic`` (the whole image is one map) or ``packed`` (band letter -> semantic).
    ``keyword`` is the matched keyword; ``normal_convention`` is ``None`` when a normal map's name
    does not say GL or DX; ``also`` lists other map keywords found in the name and not used.
    """

    keyword: str
    semantic: str | None = None
    packed: dict[str, str] | None = None
    normal_convention: str | None = None
    also: list[str] = field(default_factory=list)


# Map keywords as token sequences of a file stem. A multi-word keyword matches consecutive tokens
# ("base_color", "baseColor"); the joined spelling ("basecolor") is listed as its own keyword.
_SINGLE_KEYWORDS: dict[str, tuple[str, ...]] = {
    "albedo": ("albedo", "basecolor", "basecolour", "base color", "base colour", "color", "colour", "col",
               "diffuse", "diff"),
    "normal": ("normal", "normals", "nor", "nrm", "normalgl", "normaldx", "norgl", "nordx", "nor gl",
               "nor dx", "normal gl", "normal dx", "normal opengl", "normal directx"),
    "roughness": ("roughness", "rough"),
    "ao": ("ao", "occlusion", "ambientocclusion", "ambient occlusion", "ambient"),
    "metallic": ("metallic", "metalness", "metal"),
    "specular": ("specular", "spec"),
    "displacement": ("displacement", "disp", "height", "heightmap", "depth", "bump"),
    "opacity": ("opacity", "alpha", "mask", "transparency"),
    "emissive": ("emissive", "emission"),
}
_ARM = {"r": "ao", "g": "roughness", "b": "metallic"}
_PACKED_KEYWORDS: dict[str, dict[str, str]] = {
    "arm": _ARM,
    "orm": _ARM,
    "occlusionroughnessmetallic": _ARM,
    "occlusion roughness metallic": _ARM,
    # glTF metallicRoughness texture: roughness in G, metalness in B, R unused.
    "metallicroughness": {"g": "roughness", "b": "metallic"},
    "metallic roughness": {"g": "roughness", "b": "metallic"},
}
_DX_TOKENS = frozenset({"dx", "directx", "normaldx", "nordx"})
_GL_TOKENS = frozenset({"gl", "opengl", "normalgl", "norgl"})
_KEYWORDS: list[tuple[tuple[str, ...], str, str | dict[str, str]]] = [
    (tuple(k.split()), k, sem) for sem, ks in _SINGLE_KEYWORDS.items() for k in ks
] + [(tuple(k.split()), k, layout) for k, layout in _PACKED_KEYWORDS.items()]

_SEPARATORS = re.compile(r"[_\-.\s]+")
_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


def name_tokens(file_name: str) -> list[str]:
    """Lower-case words of a file stem, split on ``_ - . space``, camelCase and letter/digit changes."""
    stem = Path(file_name).stem
    return [w.lower() for part in _SEPARATORS.split(stem) for w in _WORDS.findall(part)]


def guess_map(file_name: str) -> MapGuess | None:
    """Guess what a texture file holds from its name, or ``None`` if no map keyword is in it.

    When several keywords match, the one ending last in the name wins (material names come
    first: ``Metal055A_1K_Color.jpg`` is albedo), and of those the longest (a packed
    ``occlusionRoughnessMetallic`` beats the ``Metallic`` inside it).
    """
    tokens = name_tokens(file_name)
    matches: list[tuple[int, int, str, str | dict[str, str]]] = []
    for words, keyword, target in _KEYWORDS:
        n = len(words)
        for start in range(len(tokens) - n + 1):
            if tuple(tokens[start:start + n]) == words:
                matches.append((start, start + n, keyword, target))
    if not matches:
        return None
    start, end, keyword, target = max(matches, key=lambda m: (m[1], m[1] - m[0]))
    also = sorted({k for s, e, k, t in matches if (s < start or e > end) and t != target})
    if isinstance(target, dict):
        return MapGuess(keyword=keyword, packed=dict(target), also=also)
    convention = None
    if target == "normal":
        dx, gl = bool(_DX_TOKENS & set(tokens)), bool(_GL_TOKENS & set(tokens))
        if dx and gl:
            raise AssetError(file_name, "the name says both OpenGL and DirectX normal convention; "
                             f"rename it or set normal_convention in {CHANNEL_FILE_NAME}")
        convention = "dx" if dx else "gl" if gl else None
    return MapGuess(keyword=keyword, semantic=target, normal_convention=convention, also=also)

"""Ingest a PBR texture set from a folder of images (numpy + Pillow, torch-free).

Each image is mapped to channel semantics by keywords in its file name, or by an explicit channel
file (``channels.json``, see docs/texture-input.md). Colour maps are decoded from sRGB to linear,
DirectX normal maps are converted to the OpenGL convention, packed AO/roughness/metallic maps are
split, and maps of different sizes are resampled to the largest. Everything that changed the
source values is recorded in ``TextureSet.notes`` for the report.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from ngsdk.asset.errors import AssetError
from ngsdk.asset.types import SEMANTICS, Channel, check_semantic
from ngsdk.textures.colour import linear_to_srgb, srgb_to_linear

CHANNEL_FILE_NAME = "channels.json"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tga", ".bmp", ".tif", ".tiff", ".webp")
UNSUPPORTED_IMAGE_SUFFIXES = {
    ".exr": "OpenEXR input needs an EXR reader: imageio reads EXR only with the FreeImage binary (a separate "
    "download) and ngsdk does not use the OpenEXR package; convert the map to 16-bit PNG",
    ".hdr": "Radiance HDR input is not supported; convert the map to 16-bit PNG",
    ".dds": "DDS input is not supported (block-compressed data is already lossy); use the PNG/TGA source",
    ".ktx": "KTX input is not supported; use the PNG/TGA source",
    ".ktx2": "KTX2 input is not supported; use the PNG/TGA source",
    ".psd": "PSD input is not supported; export the layers as PNG",
}
RESAMPLE_FILTERS: dict[str, Image.Resampling] = {
    "lanczos": Image.Resampling.LANCZOS,
    "bicubic": Image.Resampling.BICUBIC,
    "bilinear": Image.Resampling.BILINEAR,
    "box": Image.Resampling.BOX,  # area average
    "nearest": Image.Resampling.NEAREST,
}
COMPONENTS: dict[str, tuple[str, ...]] = {
    "albedo": ("r", "g", "b"),
    "normal": ("x", "y", "z"),
    "emissive": ("r", "g", "b"),
}
"""Semantics with several components; every other known semantic is a single channel."""
SRGB_SEMANTICS = frozenset({"albedo", "emissive"})
"""Semantics whose files are sRGB-encoded unless a channel file says otherwise."""

_BAND_LETTERS = ("r", "g", "b", "a")
_DOCS = "docs/texture-input.md"


@dataclass
class TextureSet:
    """A material's maps as one (H, W, C) float32 array in [0, 1].

    Colour channels hold LINEAR values (decoded from sRGB); ``channels[i].colour_space`` says how
    the engine stores channel ``i``. Normals are in the OpenGL convention, stored encoded
    (``n * 0.5 + 0.5``). ``sources`` maps each image file read to the sha256 of its bytes.
    """

    name: str
    width: int
    height: int
    channels: list[Channel]
    data: np.ndarray
    sources: dict[str, str]
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        expect = (self.height, self.width, len(self.channels))
        if self.data.shape != expect or self.data.dtype != np.float32:
            raise ValueError(f"texture set {self.name!r}: data is {self.data.dtype} {self.data.shape}, "
                             f"expected float32 {expect}")

    @property
    def channel_names(self) -> list[str]:
        return [c.name for c in self.channels]

    def source_values(self) -> np.ndarray:
        """The data re-encoded to each channel's stored colour space (sRGB for colour maps).

        These are the values the source files hold (up to float32 rounding of the curves and any
        resampling), the reference for PSNR against a decode that is re-encoded the same way.
        """
        out = self.data.copy()
        srgb = [i for i, c in enumerate(self.channels) if c.colour_space == "srgb"]
        if srgb:
            out[..., srgb] = linear_to_srgb(self.data[..., srgb])
        return out


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


@dataclass
class _FileMap:
    """How one file feeds the texture set: a whole-image map or packed bands."""

    name: str
    origin: str  # why, for notes and errors: "keyword 'color'" or "channels.json"
    semantic: str | None = None
    colour_space: str | None = None
    convention: str | None = None  # source convention of a normal map; None = not stated (GL assumed)
    band: str | None = None  # single band to take ('r', 'g', 'b', 'a')
    packed: dict[str, str] | None = None

    def provides(self) -> list[str]:
        return list(self.packed.values()) if self.packed else [self.semantic or ""]


@dataclass
class _ChannelFile:
    path: Path
    files: dict[str, _FileMap | None]  # None = ignore
    unlisted: str  # "guess" or "ignore"
    sha256: str


@dataclass
class _Decoded:
    """An image's pixels in its own integer range: (H, W, bands) uint8/uint16, or float32 for 'F'."""

    pixels: np.ndarray
    bands: str  # "L", "LA", "RGB" or "RGBA"
    maxval: int  # 255, 65535, or 0 for float data already in [0, 1] units
    notes: list[str]

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    def band_index(self, letter: str) -> int | None:
        if letter == "a":
            return len(self.bands) - 1 if self.bands.endswith("A") else None
        return 0 if self.bands.startswith("L") else "rgb".index(letter)

    def opaque(self) -> bool:
        a = self.band_index("a")
        return a is None or bool(np.all(self.pixels[..., a] == (self.maxval or 1.0)))


@dataclass
class _Take:
    """One output channel: which band of which file, and how to convert it."""

    channel: Channel
    band: int
    srgb: bool
    flip: bool = False


def load_texture_set(
    folder: str | Path,
    *,
    channel_file: str | Path | None = None,
    resample_filter: str = "lanczos",
) -> TextureSet:
    """Read every map in ``folder`` into one :class:`TextureSet`.

    ``channel_file`` (JSON) overrides name guessing; ``folder/channels.json`` is used when it
    exists and none is given. Maps smaller than the largest are resampled with
    ``resample_filter`` (one of :data:`RESAMPLE_FILTERS`). Raises :class:`AssetError` naming the
    file for a missing folder, an unreadable image, unrecognised names or duplicate semantics.
    """
    if resample_filter not in RESAMPLE_FILTERS:
        allowed = ", ".join(RESAMPLE_FILTERS)
        raise ValueError(f"resample_filter must be one of {allowed}, got {resample_filter!r}")
    folder = Path(folder)
    if not folder.exists():
        raise AssetError(folder, "texture folder does not exist")
    if not folder.is_dir():
        raise AssetError(folder, "is not a folder (give the folder that holds the texture maps)")
    notes: list[str] = []
    entries = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))

    own_channel_file = folder / CHANNEL_FILE_NAME
    if own_channel_file.is_file():
        if channel_file is None:
            channel_file = own_channel_file
        elif not _same(own_channel_file, channel_file):
            notes.append(f"{CHANNEL_FILE_NAME} in the folder ignored: {channel_file} given instead")
    images = [p for p in entries if p.suffix.lower() in (*IMAGE_SUFFIXES, *UNSUPPORTED_IMAGE_SUFFIXES)]
    others = [p.name for p in entries if p not in images and p.name != CHANNEL_FILE_NAME]
    if others:
        notes.append(f"ignored non-image files: {', '.join(others)}")
    spec = None
    if channel_file is not None:
        spec = _read_channel_file(Path(channel_file), {p.name for p in images})
        unlisted = "guessed from their names" if spec.unlisted == "guess" else "ignored"
        notes.append(f"channel file {spec.path.name} (sha256 {spec.sha256[:12]}) describes "
                     f"{', '.join(spec.files) or 'no file'}; other images {unlisted}")
    if not images:
        raise AssetError(folder, f"no texture images in the folder (looked for {', '.join(IMAGE_SUFFIXES)})")

    plans = _plan(folder, images, spec, notes)
    decoded: dict[str, _Decoded] = {}
    sources: dict[str, str] = {}
    for plan in plans:
        path = folder / plan.name
        try:
            raw = path.read_bytes()
        except OSError as e:
            raise AssetError(path, f"cannot read file: {e.strerror or e}") from e
        sources[plan.name] = hashlib.sha256(raw).hexdigest()
        decoded[plan.name] = _decode(path, raw)
        notes.extend(f"{plan.name}: {n}" for n in decoded[plan.name].notes)

    takes = _takes(folder, plans, decoded, notes)
    width = max(d.width for d in decoded.values())
    height = max(d.height for d in decoded.values())
    data = np.empty((height, width, len(takes)), dtype=np.float32)
    for plan in plans:
        _fill(data, takes, plan.name, decoded[plan.name], (width, height), resample_filter, notes)
    return TextureSet(
        name=folder.resolve().name,
        width=width,
        height=height,
        channels=[t.channel for t in takes],
        data=data,
        sources=sources,
        notes=notes,
    )


def _same(a: Path, b: str | Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False


def _plan(folder: Path, images: list[Path], spec: _ChannelFile | None, notes: list[str]) -> list[_FileMap]:
    """Decide what each image holds; raise for unsupported, unrecognised or duplicate files."""
    plans: list[_FileMap] = []
    unrecognised: list[str] = []
    ignored: list[str] = []
    for path in images:
        name = path.name
        if spec is not None and name in spec.files:
            plan = spec.files[name]
            if plan is None:
                ignored.append(name)
                continue
        elif spec is not None and spec.unlisted == "ignore":
            ignored.append(name)
            continue
        else:
            try:
                guess = guess_map(name)
            except AssetError as e:
                raise AssetError(path, e.problem) from None
            if guess is None:
                unrecognised.append(name)
                continue
            plan = _FileMap(name=name, origin=f"keyword {guess.keyword!r}", semantic=guess.semantic,
                            convention=guess.normal_convention, packed=guess.packed)
            if guess.also:
                what = plan.semantic or "packed " + "/".join(guess.packed or {})
                notes.append(f"{name}: name also contains {', '.join(repr(a) for a in guess.also)}; "
                             f"used the last map keyword {guess.keyword!r} ({what})")
        if path.suffix.lower() in UNSUPPORTED_IMAGE_SUFFIXES:
            raise AssetError(path, UNSUPPORTED_IMAGE_SUFFIXES[path.suffix.lower()])
        plans.append(plan)
    if ignored:
        notes.append(f"ignored as the channel file says: {', '.join(ignored)}")
    if unrecognised:
        example = json.dumps({"files": {unrecognised[0]: "roughness"}})
        raise AssetError(
            folder,
            f"cannot tell which map these files hold: {', '.join(unrecognised)}. Put a map keyword in each "
            "name (albedo/basecolor/color/diffuse, normal/nor_gl/nor_dx, roughness, ao/occlusion, metallic, "
            "specular, displacement/height, opacity/mask, emissive; arm/orm for packed AO+rough+metal) "
            f"or describe them in {CHANNEL_FILE_NAME}, e.g. {example} (use \"ignore\" to skip a file; "
            f"see {_DOCS})",
        )
    if not plans:
        raise AssetError(folder, "no texture maps left to read: the channel file ignores every image")
    seen: dict[str, _FileMap] = {}
    for plan in plans:
        for sem in plan.provides():
            if sem in seen:
                first = seen[sem]
                raise AssetError(
                    folder,
                    f"{sem} comes from two files: {first.name} ({first.origin}) and "
                    f"{plan.name} ({plan.origin}); "
                    f"remove or rename one, or mark one \"ignore\" in {CHANNEL_FILE_NAME} (see {_DOCS})",
                )
            seen[sem] = plan
    return plans


def _takes(
    folder: Path, plans: list[_FileMap], decoded: dict[str, _Decoded], notes: list[str]
) -> list[_Take]:
    """Build the output channels in SEMANTICS order (then user channels by name)."""
    has_opacity_file = any("opacity" in p.provides() for p in plans)
    takes: list[_Take] = []
    for plan in plans:
        img = decoded[plan.name]
        path = folder / plan.name
        if plan.packed:
            new, alpha_used = _packed_takes(path, plan, img, notes)
        elif plan.semantic in COMPONENTS:
            new, alpha_used = _colour_takes(path, plan, img, has_opacity_file, notes)
        else:
            new, alpha_used = _single_takes(path, plan, img, notes)
        takes.extend(new)
        if img.band_index("a") is not None and not alpha_used:
            state = "fully opaque" if img.opaque() else "not opaque"
            notes.append(f"{plan.name}: alpha channel ({state}) dropped")

    def order(t: _Take) -> tuple[int, str, int]:
        sem, comp = t.channel.semantic, t.channel.component
        comps = COMPONENTS.get(sem, _BAND_LETTERS)
        rank = SEMANTICS.index(sem) if sem in SEMANTICS else len(SEMANTICS)
        return rank, sem, comps.index(comp) if comp in comps else 0

    return sorted(takes, key=order)


def _packed_takes(path: Path, plan: _FileMap, img: _Decoded, notes: list[str]) -> tuple[list[_Take], bool]:
    """One linear channel per mapped band of a packed map (e.g. arm: R ao, G roughness, B metallic)."""
    assert plan.packed is not None
    if img.bands.startswith("L"):
        raise AssetError(path, f"packed map ({plan.origin}) must be RGB, the image is greyscale")
    takes = []
    for letter, sem in plan.packed.items():
        band = img.band_index(letter)
        if band is None:
            raise AssetError(path, f"{plan.origin} maps band {letter!r} but the image has no alpha channel")
        takes.append(_Take(Channel(sem, sem, "r", "linear", plan.name), band, srgb=False))
    mapped = ", ".join(f"{k.upper()} -> {v}" for k, v in plan.packed.items())
    unused = [k.upper() for k in "rgb" if k not in plan.packed]
    notes.append(f"{plan.name}: packed map ({plan.origin}) split {mapped}"
                 + (f"; {', '.join(unused)} unused" if unused else ""))
    return takes, "a" in plan.packed


def _colour_takes(
    path: Path, plan: _FileMap, img: _Decoded, has_opacity_file: bool, notes: list[str]
) -> tuple[list[_Take], bool]:
    """Three channels for albedo, normal or emissive; a non-opaque albedo alpha becomes opacity."""
    sem = plan.semantic or ""
    colour_space = plan.colour_space or ("srgb" if sem in SRGB_SEMANTICS else "linear")
    if img.bands.startswith("L"):
        if sem == "normal":
            raise AssetError(path, "a normal map needs three channels (x, y, z), the image is greyscale")
        notes.append(f"{plan.name}: greyscale {sem}; the grey value is used for r, g and b")
    convention = None
    if sem == "normal":
        convention = "gl"
        if plan.convention == "dx":
            notes.append(f"{plan.name}: normal map converted from DirectX to OpenGL convention (g' = 1 - g)")
        elif plan.convention is None:
            said = ("the name does not say OpenGL or DirectX" if plan.origin.startswith("keyword")
                    else "the channel file gives no normal_convention")
            notes.append(f"{plan.name}: {said}; assumed OpenGL (+Y up). "
                         f"If it is DirectX, set \"normal_convention\": \"dx\" in {CHANNEL_FILE_NAME}")
    takes = []
    for letter, comp in zip("rgb", COMPONENTS[sem], strict=True):
        band = img.band_index(letter)
        assert band is not None
        flip = sem == "normal" and comp == "y" and plan.convention == "dx"
        channel = Channel(f"{sem}.{comp}", sem, comp, colour_space, plan.name, convention)
        takes.append(_Take(channel, band, srgb=colour_space == "srgb", flip=flip))
    alpha = img.band_index("a")
    if sem == "albedo" and alpha is not None and not img.opaque():
        if has_opacity_file:
            notes.append(f"{plan.name}: alpha channel (not opaque) dropped: a separate opacity map is used")
            return takes, True
        takes.append(_Take(Channel("opacity", "opacity", "r", "linear", plan.name), alpha, srgb=False))
        notes.append(f"{plan.name}: alpha channel (not opaque) becomes the opacity channel")
        return takes, True
    return takes, False


def _single_takes(path: Path, plan: _FileMap, img: _Decoded, notes: list[str]) -> tuple[list[_Take], bool]:
    """One channel for a scalar map (one band), or every band for a user map without "channel"."""
    sem = plan.semantic or ""
    colour_space = plan.colour_space or "linear"
    srgb = colour_space == "srgb"
    if sem.startswith("user:") and plan.band is None:
        letters = ["r"] if img.bands.startswith("L") else ["r", "g", "b"]
        if img.band_index("a") is not None and not img.opaque():
            letters.append("a")
        takes = []
        for letter in letters:
            band = img.band_index(letter)
            assert band is not None
            name = sem if len(letters) == 1 else f"{sem}.{letter}"
            takes.append(_Take(Channel(name, sem, letter, colour_space, plan.name), band, srgb))
        return takes, "a" in letters
    letter = plan.band or "r"
    band = img.band_index(letter)
    if band is None:
        raise AssetError(path, f"{plan.origin} asks for channel {letter!r}, the image has no alpha channel")
    if plan.band is None and img.bands.startswith("RGB"):
        diff = _max_band_difference(img)
        if diff:
            unit = f"/{img.maxval}" if img.maxval else ""
            notes.append(f"{plan.name}: {sem} stored as RGB whose channels differ "
                         f"(max difference {diff}{unit}); used R")
    return [_Take(Channel(sem, sem, "r", colour_space, plan.name), band, srgb)], letter == "a"


def _max_band_difference(img: _Decoded) -> float | int:
    px = img.pixels
    r = px[..., 0].astype(np.float64 if img.maxval == 0 else np.int32)
    d = max(float(np.abs(r - px[..., 1]).max()), float(np.abs(r - px[..., 2]).max()))
    return d if img.maxval == 0 else int(d)


@functools.lru_cache(maxsize=8)
def _lut(maxval: int, srgb: bool) -> np.ndarray:
    """float32 value of every integer code: exactly ``code / maxval``, then sRGB-decoded if asked."""
    v = (np.arange(maxval + 1, dtype=np.float64) / maxval).astype(np.float32)
    v = srgb_to_linear(v) if srgb else v
    v.setflags(write=False)
    return v


def _fill(
    data: np.ndarray,
    takes: list[_Take],
    name: str,
    img: _Decoded,
    size: tuple[int, int],
    resample_filter: str,
    notes: list[str],
) -> None:
    """Convert the file's bands to float32, resample to ``size`` if needed, write into ``data``."""
    mine = [(k, t) for k, t in enumerate(takes) if t.channel.source == name]
    resample = (img.width, img.height) != size
    planes: dict[int, np.ndarray] = {}
    out_of_range = False
    for k, t in mine:
        band = img.pixels[..., t.band]
        if img.maxval:
            lut = _lut(img.maxval, t.srgb)
            plane = (lut[::-1] if t.flip else lut)[band]  # reversed table: (max - v) / max, exact
        else:
            plane = band.astype(np.float32)
            if t.flip:
                plane = np.float32(1.0) - plane
            if t.srgb:
                plane = srgb_to_linear(plane)
            out_of_range |= bool(((plane < 0) | (plane > 1)).any())
            plane = np.clip(plane, 0.0, 1.0)
        if resample:
            im = Image.fromarray(np.ascontiguousarray(plane, dtype=np.float32))
            plane = np.clip(np.asarray(im.resize(size, RESAMPLE_FILTERS[resample_filter])), 0.0, 1.0)
        planes[k] = plane
    if out_of_range:
        notes.append(f"{name}: float values outside [0, 1] clamped")
    normal = [k for k, t in mine if t.channel.semantic == "normal"]
    if resample:
        extra = "; normals renormalised" if normal else ""
        notes.append(f"resampled {name} ({img.width}x{img.height}) to {size[0]}x{size[1]} with "
                     f"{resample_filter} (in linear values, clamped to [0, 1]{extra})")
        if normal:
            _renormalise([planes[k] for k in normal])
    for k, plane in planes.items():
        data[..., k] = plane


def _renormalise(xyz: list[np.ndarray]) -> None:
    """Rescale encoded normals (in place) to unit length; resampling shortens them."""
    n = [2.0 * p.astype(np.float64) - 1.0 for p in xyz]
    length = np.sqrt(n[0] ** 2 + n[1] ** 2 + n[2] ** 2)
    scale = np.where(length > 1e-6, 1.0 / np.maximum(length, 1e-6), 1.0)
    for p, c in zip(xyz, n, strict=True):
        p[...] = np.clip(c * scale * 0.5 + 0.5, 0.0, 1.0)


# ----------------------------------------------------------------------------------------------
# Image decoding


# Pillow decodes 16-bit RGB(A) and grey+alpha PNGs to 8 bits (high bytes). The same PNG
# unfiltering with these raw modes yields the low bytes ("RGB;16L" reads byte 1 of each sample,
# the low byte of big-endian data) or every byte ("RGBA" on 4-byte LA16 pixels).
_PNG16_RAWMODES = {"RGB;16B": "RGB;16L", "RGBA;16B": "RGBA;16L", "LA;16B": "RGBA"}
_CONVERT = {"1": "L", "RGBX": "RGB", "RGBa": "RGBA", "La": "LA", "PA": "RGBA"}
_COLOUR_MODELS = ("CMYK", "YCbCr", "LAB", "HSV")


def _open(path: Path, raw: bytes) -> Image.Image:
    try:
        return Image.open(io.BytesIO(raw))
    except UnidentifiedImageError:
        raise AssetError(path, f"cannot read image: not a {path.suffix} image Pillow can decode") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise AssetError(path, f"cannot read image: {e}") from e


def _load(path: Path, im: Image.Image) -> np.ndarray:
    try:
        im.load()
        return np.asarray(im)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise AssetError(path, f"cannot decode image: {e}") from e


def _decode(path: Path, raw: bytes) -> _Decoded:
    """Decode an image to its integer codes (or float32 for float images), bands L/LA/RGB/RGBA."""
    im = _open(path, raw)
    rawmode = im.tile[0][3] if im.tile else None
    rawmode = rawmode[0] if isinstance(rawmode, tuple) else rawmode
    if im.format == "PNG" and raw[24:25] == b"\x10":  # IHDR bit depth 16
        if rawmode in _PNG16_RAWMODES:
            return _decode_png16(path, raw, im, rawmode)
        if not im.mode.startswith("I"):  # a Pillow that decodes it another way: refuse to lose bits
            raise AssetError(path, f"16-bit PNG read by this Pillow as {im.mode}/{rawmode}: not supported")
    bits = getattr(im, "tag_v2", {}).get(258) if im.format == "TIFF" else None
    if bits and max(bits) > 8 and im.mode not in ("I;16", "I;16B", "I;16L", "F"):
        raise AssetError(path, f"{max(bits)}-bit {im.mode} TIFF is not supported (it would lose precision); "
                         "save it as 16-bit PNG")
    notes: list[str] = []
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return _Decoded(_load(path, im).astype(np.uint16)[..., None], "L", 65535, notes)
    if mode == "I":
        px = _load(path, im)
        if rawmode and str(rawmode).startswith("I;16") and px.min() >= 0 and px.max() <= 65535:
            return _Decoded(px.astype(np.uint16)[..., None], "L", 65535, notes)
        raise AssetError(path, "32-bit integer images are not supported; save the map as 16-bit PNG")
    if mode == "F":
        return _Decoded(_load(path, im).astype(np.float32)[..., None], "L", 0, notes)
    if mode == "P":
        target = "RGBA" if "transparency" in im.info else "RGB"
        im = _converted(path, im, target)
    elif mode in _CONVERT:
        im = _converted(path, im, _CONVERT[mode])
    elif mode in _COLOUR_MODELS:
        im = _converted(path, im, "RGB")
        notes.append(f"converted from {mode} to RGB")
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        raise AssetError(path, f"unsupported image mode {mode}")
    px = _load(path, im)
    px = px[..., None] if px.ndim == 2 else px
    return _Decoded(px.astype(np.uint8, copy=False), im.mode, 255, notes)


def _converted(path: Path, im: Image.Image, mode: str) -> Image.Image:
    try:
        return im.convert(mode)
    except (OSError, SyntaxError, ValueError) as e:
        raise AssetError(path, f"cannot decode image: {e}") from e


def _decode_png16(path: Path, raw: bytes, im: Image.Image, rawmode: str) -> _Decoded:
    bands = {"RGB;16B": "RGB", "RGBA;16B": "RGBA", "LA;16B": "LA"}[rawmode]
    other = _open(path, raw)
    tile = other.tile[0]
    other.tile = [(tile[0], tile[1], tile[2], _PNG16_RAWMODES[rawmode])]
    second = _load(path, other)
    if bands == "LA":
        px = second.view(">u2").reshape(second.shape[0], second.shape[1], 2).astype(np.uint16)
    else:
        high = _load(path, im)
        px = (high.astype(np.uint16) << 8) | second
    return _Decoded(px, bands, 65535, [])


# ----------------------------------------------------------------------------------------------
# Channel file

_ENTRY_KEYS = ("semantic", "colour_space", "normal_convention", "channel")
_TOP_KEYS = ("version", "files", "unlisted")


def _read_channel_file(path: Path, image_names: set[str]) -> _ChannelFile:
    """Parse and validate a channel file (format in docs/texture-input.md)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise AssetError(path, "channel file does not exist") from None
    except OSError as e:
        raise AssetError(path, f"cannot read channel file: {e.strerror or e}") from e
    try:
        doc = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise AssetError(path, "channel file is not UTF-8 text") from None
    except json.JSONDecodeError as e:
        where = f"line {e.lineno} column {e.colno}"
        raise AssetError(path, f"channel file is not valid JSON: {e.msg} at {where}") from None

    def fail(where: str, problem: str) -> AssetError:
        return AssetError(path, f"{where}: {problem} (format: {_DOCS})")

    if not isinstance(doc, dict):
        raise fail("top level", "must be a JSON object with a \"files\" object")
    _check_keys(doc, _TOP_KEYS, "top level", fail)
    if doc.get("version", 1) != 1:
        raise fail("version", f"unsupported version {doc['version']!r}; this ngsdk reads version 1")
    unlisted = doc.get("unlisted", "guess")
    if unlisted not in ("guess", "ignore"):
        raise fail("unlisted", f"must be \"guess\" or \"ignore\", got {unlisted!r}")
    files = doc.get("files")
    if not isinstance(files, dict):
        raise fail("files", "must be an object mapping file names to maps, e.g. {\"base.png\": \"albedo\"}")
    out: dict[str, _FileMap | None] = {}
    for name, entry in files.items():
        where = f"files[{name!r}]"
        if name not in image_names:
            hint = difflib.get_close_matches(name, sorted(image_names), n=1)
            raise fail(where, "no such image file in the folder"
                       + (f"; did you mean {hint[0]!r}?" if hint else ""))
        out[name] = _parse_entry(name, entry, where, fail, path.name)
    return _ChannelFile(path, out, unlisted, hashlib.sha256(raw).hexdigest())


def _check_keys(obj: dict[str, Any], allowed: tuple[str, ...], where: str, fail: Any) -> None:
    for key in obj:
        if key not in allowed:
            hint = difflib.get_close_matches(str(key), allowed, n=1)
            raise fail(where, f"unknown key {key!r}" + (f"; did you mean {hint[0]!r}?" if hint else "")
                       + f" (allowed: {', '.join(allowed)})")


def _semantic(value: Any, where: str, fail: Any) -> str:
    if not isinstance(value, str):
        raise fail(where, f"semantic must be a string, got {value!r}")
    try:
        return check_semantic(value)
    except ValueError:
        hint = difflib.get_close_matches(value, SEMANTICS, n=1)
        raise fail(where, f"unknown semantic {value!r}" + (f"; did you mean {hint[0]!r}?" if hint else "")
                   + f" (use one of {', '.join(SEMANTICS)} or 'user:<name>')") from None


def _parse_entry(name: str, entry: Any, where: str, fail: Any, origin: str) -> _FileMap | None:
    if entry == "ignore":
        return None
    if isinstance(entry, str):
        entry = {"semantic": entry}
    if not isinstance(entry, dict) or not entry:
        raise fail(where, "must be \"ignore\", a semantic name, {\"semantic\": ...} or a packed map "
                   "{\"r\": ..., \"g\": ..., \"b\": ..., \"a\": ...}")
    if any(k in _BAND_LETTERS for k in entry):
        _check_keys(entry, _BAND_LETTERS, where + " (packed map)", fail)
        packed: dict[str, str] = {}
        for letter in _BAND_LETTERS:
            if letter not in entry:
                continue
            sem = _semantic(entry[letter], f"{where}.{letter}", fail)
            if sem in COMPONENTS:
                raise fail(f"{where}.{letter}", f"{sem} has {len(COMPONENTS[sem])} channels and cannot "
                           f"come from one band; map the file with {{\"semantic\": \"{sem}\"}}")
            if sem in packed.values():
                raise fail(f"{where}.{letter}", f"{sem} is mapped to two bands of the same file")
            packed[letter] = sem
        return _FileMap(name=name, origin=origin, packed=packed)
    _check_keys(entry, _ENTRY_KEYS, where, fail)
    if "semantic" not in entry:
        raise fail(where, "needs \"semantic\" (or band keys r/g/b/a for a packed map)")
    sem = _semantic(entry["semantic"], f"{where}.semantic", fail)
    colour_space = entry.get("colour_space")
    if colour_space is not None and colour_space not in ("srgb", "linear"):
        raise fail(f"{where}.colour_space", f"must be \"srgb\" or \"linear\", got {colour_space!r}")
    if sem == "normal" and colour_space == "srgb":
        raise fail(f"{where}.colour_space", "normal maps hold vectors, not colours: they must be \"linear\"")
    convention = entry.get("normal_convention")
    if convention is not None:
        if sem != "normal":
            raise fail(f"{where}.normal_convention", f"only applies to normal maps, this file is {sem}")
        if convention not in ("gl", "dx"):
            raise fail(f"{where}.normal_convention", f"must be \"gl\" or \"dx\", got {convention!r}")
    band = entry.get("channel")
    if band is not None:
        if sem in COMPONENTS:
            raise fail(f"{where}.channel", f"{sem} uses three channels; \"channel\" picks one band for a "
                       "single-channel map")
        if band not in _BAND_LETTERS:
            raise fail(f"{where}.channel", f"must be one of r, g, b, a, got {band!r}")
    return _FileMap(name=name, origin=origin, semantic=sem, colour_space=colour_space, convention=convention,
                    band=band)

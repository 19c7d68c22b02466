"""Ingest a PBR texture set from a folder of images (numpy + Pillow, torch-free).

Each image is mapped to channel semantics by keywords in its file name (``map_names``), or by an explicit
channel file (``channel_file``; ``plan`` decides which), and decoded (``images``). Here the bands become
channels: colour maps are decoded from sRGB to linear, DirectX normal maps are converted to the OpenGL
convention, packed AO/roughness/metallic maps are split, and maps of different sizes are resampled to the
largest. Everything that changed the source values is recorded in ``TextureSet.notes`` for the report.
"""

from __future__ import annotations

import functools
import hashlib
import stat
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from ngsdk.asset.errors import AssetError
from ngsdk.asset.limits import MAX_INPUT_BYTES
from ngsdk.asset.neural_texture import SEMANTICS, Channel
from ngsdk.asset.safe_read import read_regular
from ngsdk.textures.channel_file import BAND_LETTERS, CHANNEL_FILE_NAME, COMPONENTS, FileMap, read_channel_file
from ngsdk.textures.colour import linear_to_srgb, srgb_to_linear
from ngsdk.textures.images import IMAGE_SUFFIXES, UNSUPPORTED_IMAGE_SUFFIXES, DecodedImage, decode_image
from ngsdk.textures.plan import plan_files

RESAMPLE_FILTERS: dict[str, Image.Resampling] = {
    "lanczos": Image.Resampling.LANCZOS,
    "bicubic": Image.Resampling.BICUBIC,
    "bilinear": Image.Resampling.BILINEAR,
    "box": Image.Resampling.BOX,  # area average
    "nearest": Image.Resampling.NEAREST,
}
SRGB_SEMANTICS = frozenset({"albedo", "emissive"})
"""Semantics whose files are sRGB-encoded unless a channel file says otherwise."""


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
    entries = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    for p in entries:   # a map that is a folder, a FIFO or a device is an error, never silently dropped
        if p.suffix.lower() in (*IMAGE_SUFFIXES, *UNSUPPORTED_IMAGE_SUFFIXES) or p.name == CHANNEL_FILE_NAME:
            if not p.is_file() or not stat.S_ISREG(p.stat().st_mode):
                kind = "a folder" if p.is_dir() else "a broken symlink" if not p.exists() else \
                    "not a regular file (a FIFO, device or socket)"
                raise AssetError(p, f"is {kind}; a texture map must be a regular image file")
    entries = [p for p in entries if p.is_file()]

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
        spec = read_channel_file(Path(channel_file), {p.name for p in images})
        unlisted = "guessed from their names" if spec.unlisted == "guess" else "ignored"
        notes.append(f"channel file {spec.path.name} (sha256 {spec.sha256[:12]}) describes "
                     f"{', '.join(spec.files) or 'no file'}; other images {unlisted}")
    if not images:
        raise AssetError(folder, f"no texture images in the folder (looked for {', '.join(IMAGE_SUFFIXES)})")

    plans = plan_files(folder, images, spec, notes)
    decoded: dict[str, DecodedImage] = {}
    sources: dict[str, str] = {}
    for plan in plans:
        path = folder / plan.name
        raw = read_regular(path, limit=MAX_INPUT_BYTES, what="texture map")
        sources[plan.name] = hashlib.sha256(raw).hexdigest()
        decoded[plan.name] = decode_image(path, raw)
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


def _takes(
    folder: Path, plans: list[FileMap], decoded: dict[str, DecodedImage], notes: list[str]
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
        comps = COMPONENTS.get(sem, BAND_LETTERS)
        rank = SEMANTICS.index(sem) if sem in SEMANTICS else len(SEMANTICS)
        return rank, sem, comps.index(comp) if comp in comps else 0

    return sorted(takes, key=order)


def _packed_takes(path: Path, plan: FileMap, img: DecodedImage, notes: list[str]) -> tuple[list[_Take], bool]:
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
    path: Path, plan: FileMap, img: DecodedImage, has_opacity_file: bool, notes: list[str]
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


def _single_takes(path: Path, plan: FileMap, img: DecodedImage, notes: list[str]) -> tuple[list[_Take], bool]:
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


def _max_band_difference(img: DecodedImage) -> float | int:
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
    img: DecodedImage,
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

"""The channel file (``channels.json``, docs/texture-input.md): what each image of a material folder holds,
stated instead of guessed from its name; and :class:`FileMap`, how one file feeds the texture set, which the
channel file and the name guessing (ngsdk.textures.plan) both give."""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ngsdk.asset.errors import AssetError
from ngsdk.asset.neural_texture import SEMANTICS, check_semantic

CHANNEL_FILE_NAME = "channels.json"
INPUT_DOCS = "docs/texture-input.md"
COMPONENTS: dict[str, tuple[str, ...]] = {
    "albedo": ("r", "g", "b"),
    "normal": ("x", "y", "z"),
    "emissive": ("r", "g", "b"),
}
"""Semantics with several components; every other known semantic is a single channel."""
BAND_LETTERS = ("r", "g", "b", "a")
"""The bands a file entry may name (``channel``, packed maps)."""


@dataclass
class FileMap:
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
class ChannelFile:
    """A parsed channel file: per listed image its map (None: ignore), what to do with unlisted images."""

    path: Path
    files: dict[str, FileMap | None]  # None = ignore
    unlisted: str  # "guess" or "ignore"
    sha256: str


_ENTRY_KEYS = ("semantic", "colour_space", "normal_convention", "channel")
_TOP_KEYS = ("version", "files", "unlisted")


def read_channel_file(path: Path, image_names: set[str]) -> ChannelFile:
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
        return AssetError(path, f"{where}: {problem} (format: {INPUT_DOCS})")

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
    out: dict[str, FileMap | None] = {}
    for name, entry in files.items():
        where = f"files[{name!r}]"
        if name not in image_names:
            hint = difflib.get_close_matches(name, sorted(image_names), n=1)
            raise fail(where, "no such image file in the folder"
                       + (f"; did you mean {hint[0]!r}?" if hint else ""))
        out[name] = _parse_entry(name, entry, where, fail, path.name)
    return ChannelFile(path, out, unlisted, hashlib.sha256(raw).hexdigest())


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


def _parse_entry(name: str, entry: Any, where: str, fail: Any, origin: str) -> FileMap | None:
    if entry == "ignore":
        return None
    if isinstance(entry, str):
        entry = {"semantic": entry}
    if not isinstance(entry, dict) or not entry:
        raise fail(where, "must be \"ignore\", a semantic name, {\"semantic\": ...} or a packed map "
                   "{\"r\": ..., \"g\": ..., \"b\": ..., \"a\": ...}")
    if any(k in BAND_LETTERS for k in entry):
        _check_keys(entry, BAND_LETTERS, where + " (packed map)", fail)
        packed: dict[str, str] = {}
        for letter in BAND_LETTERS:
            if letter not in entry:
                continue
            sem = _semantic(entry[letter], f"{where}.{letter}", fail)
            if sem in COMPONENTS:
                raise fail(f"{where}.{letter}", f"{sem} has {len(COMPONENTS[sem])} channels and cannot "
                           f"come from one band; map the file with {{\"semantic\": \"{sem}\"}}")
            if sem in packed.values():
                raise fail(f"{where}.{letter}", f"{sem} is mapped to two bands of the same file")
            packed[letter] = sem
        return FileMap(name=name, origin=origin, packed=packed)
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
        if band not in BAND_LETTERS:
            raise fail(f"{where}.channel", f"must be one of r, g, b, a, got {band!r}")
    return FileMap(name=name, origin=origin, semantic=sem, colour_space=colour_space, convention=convention,
                    band=band)

"""The adversarial corpus (issue 14): hostile bundles derived from one small valid bundle, each a
:class:`Case` whose ``make(bundle)`` damages a fresh copy of it.

The base bundle is the exact-mode decode-vector texture (tests/fixtures/decode_vectors.py: a 9x7 texture, no
training), written with the reference hash of every mip, so a copy verifies in well under a second. A
case that changes a payload file rewrites the manifest's record of it (``_relist``), so the damage is what
the readers must catch, not a checksum. Every case must end in one ``error:`` line on stderr, in bounded
time and memory, and never in a verify PASS (tests/adversarial/test_cli_corpus.py, test_cpp_corpus.py).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

OUTSIDE = "outside.bin"
"""A file beside the bundle (never inside it): targets of symlinks that point out."""


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[Path], None]
    cpp: bool = True
    """Whether the C++ loader reads what the case damages (it does not read export records)."""
    manifest_only: bool = False
    """The damage is in manifest.json alone: ``ngsdk inspect`` (which reads only the manifest) must refuse it."""


def write_base(out: Path) -> Path:
    """The valid base bundle at ``out``."""
    from tests.fixtures.decode_vectors import tiny_asset, write_vector_bundle

    return write_vector_bundle(tiny_asset(layout="pyramid"), out)


# --------------------------------------------------------------------------- helpers


def _manifest(b: Path) -> dict:
    return json.loads((b / "manifest.json").read_text())


def _dump(b: Path, m: dict) -> None:
    (b / "manifest.json").write_text(json.dumps(m, indent=2, sort_keys=True) + "\n")


def _text(b: Path, edit: Callable[[str], str]) -> None:
    p = b / "manifest.json"
    text = p.read_text()
    new = edit(text)
    assert new != text, "the case did not change the manifest"
    p.write_text(new)


def _relist(b: Path, name: str) -> None:
    """Record file ``name``'s current size and sha256 in the manifest (the damage is then in the content)."""
    m = _manifest(b)
    data = (b / name).read_bytes()
    m["files"][name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    _dump(b, m)


def _replace_file(b: Path, name: str, data: bytes) -> None:
    (b / name).write_bytes(data)
    _relist(b, name)


def _symlink(b: Path, name: str, target: str | Path) -> None:
    (b / name).unlink()
    os.symlink(target, b / name)


def _fifo(b: Path, name: str) -> None:
    (b / name).unlink()
    os.mkfifo(b / name)


def _folder(b: Path, name: str) -> None:
    (b / name).unlink()
    (b / name).mkdir()
    (b / name / "x").write_bytes(b"x")


def _outside_copy(b: Path, name: str) -> None:
    """``name`` becomes a symlink to an identical copy outside the bundle (checksums still match)."""
    target = b.parent / f"{b.name}.{OUTSIDE}"
    shutil.copyfile(b / name, target)
    _symlink(b, name, target)


def _npz(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for k, v in members.items():
            z.writestr(k, v, compress_type=compression)
    return buf.getvalue()


def _npy_header(shape: tuple[int, ...], descr: str = "|i1") -> bytes:
    head = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape!r}, }}".encode()
    head += b" " * (63 - (len(head) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(head)) + head


def _decoder_members(b: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(b / "decoder.npz") as z:
        return {n: z.read(n) for n in z.namelist()}


def _bomb_member(name: str, nbytes: int) -> bytes:
    """A deflated zip holding ``name``: a .npy header for ``nbytes`` int8 values, then that many zeros
    (about 1 MB compressed per GiB)."""
    header = _npy_header((nbytes,))
    comp = zlib.compressobj(1, zlib.DEFLATED, -15)
    chunks = [comp.compress(header)]
    block = bytes(64 << 20)
    left = nbytes
    crc = zlib.crc32(header)
    while left:
        part = block[:min(left, len(block))]
        chunks.append(comp.compress(part))
        crc = zlib.crc32(part, crc)
        left -= len(part)
    chunks.append(comp.flush())
    data = b"".join(chunks)
    size = len(header) + nbytes
    # a zip by hand: zipfile would inflate nothing, but writing through it needs the whole input in memory
    local = struct.pack("<4s5H3I2H", b"PK\x03\x04", 45, 0, 8, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF,
                        len(name), 20) + name.encode() + struct.pack("<2H2Q", 1, 16, size, len(data))
    central = struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 45, 45, 0, 8, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF,
                          len(name), 28, 0, 0, 0, 0, 0) + name.encode() + \
        struct.pack("<2H3Q", 1, 24, size, len(data), 0)
    cd_at = len(local) + len(data)
    z64_end = struct.pack("<4sQ2H2I4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, 1, 1, len(central), cd_at)
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, cd_at + len(central), 1)
    end = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, 1, 1, len(central), cd_at, 0)
    return local + data + central + z64_end + locator + end


# --------------------------------------------------------------------------- the cases


def _dds_claims(b: Path, width: int, height: int, mips: int = 1) -> None:
    data = bytearray((b / "latents.dds").read_bytes())
    struct.pack_into("<II", data, 12, height, width)
    struct.pack_into("<I", data, 28, mips)
    _replace_file(b, "latents.dds", bytes(data))


def _many_members(b: Path, count: int = 200_000) -> None:
    """The decoder's members plus ``count`` empty stored ones, written by hand (zipfile takes seconds)."""
    members = _decoder_members(b)
    members.update({f"x{i}.npy": b"" for i in range(count)})
    local, central = [], []
    offset = 0
    for name, data in members.items():
        n, crc = name.encode(), zlib.crc32(data)
        head = struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 0, 0, 0, crc, len(data), len(data), len(n), 0) + n
        central.append(struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, crc, len(data), len(data),
                                   len(n), 0, 0, 0, 0, 0, offset) + n)
        local.append(head + data)
        offset += len(head) + len(data)
    cd = b"".join(central)
    total = len(members)
    if total > 0xFFFF:   # zip64 end records: the real count does not fit 16 bits
        z64 = struct.pack("<4sQ2H2I4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, total, total, len(cd), offset)
        loc = struct.pack("<4sIQI", b"PK\x06\x07", 0, offset + len(cd), 1)
        end = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
        tail = z64 + loc + end
    else:
        tail = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, total, total, len(cd), offset, 0)
    _replace_file(b, "decoder.npz", b"".join(local) + cd + tail)


def _header_claims(b: Path) -> None:
    members = _decoder_members(b)
    members["q.layer0.weight.npy"] = _npy_header((10 << 30,)) + b"\0" * 64   # claims 10 GiB, holds 64 bytes
    _replace_file(b, "decoder.npz", _npz(members))


def _pickle_member(b: Path) -> None:
    members = _decoder_members(b)
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    members["q.layer0.bias.npy"] = buf.getvalue()
    _replace_file(b, "decoder.npz", _npz(members))


def _bomb(b: Path) -> None:
    _replace_file(b, "decoder.npz", _bomb_member("q.layer0.weight.npy", (1 << 30) + (256 << 20)))


def _no_reference(b: Path) -> None:
    m = _manifest(b)
    m["provenance"]["reference_decode"] = {}
    _dump(b, m)


def _changed_weights_no_reference(b: Path) -> None:
    members = _decoder_members(b)
    arr = np.load(io.BytesIO(members["q.layer0.bias.npy"]))
    buf = io.BytesIO()
    np.save(buf, arr + 1)
    members["q.layer0.bias.npy"] = buf.getvalue()
    _replace_file(b, "decoder.npz", _npz(members))
    _no_reference(b)


def _export(files: object, **extra: object) -> Callable[[Path], None]:
    def make(b: Path) -> None:
        m = _manifest(b)
        entry = {"format": "onnx", "files": files, "precision": "fp32", "graph": "nt_decoder", **extra}
        m["exports"] = [entry]
        _dump(b, m)
    return make


def _export_record_escape(b: Path) -> None:
    """A listed export whose inner record points out of the bundle (verify would run that file)."""
    (b / "nt.onnx").write_bytes(b"not onnx")
    _relist(b, "nt.onnx")
    m = _manifest(b)
    rec = {"format": "onnx", "precision": "fp32", "path": "../../../../etc/passwd", "files": [
        {"path": "nt.onnx", "bytes": 8, "sha256": hashlib.sha256(b"not onnx").hexdigest()}], "io": {}}
    m["exports"] = [{"format": "onnx", "files": ["nt.onnx"], "precision": "fp32", "graph": "nt_decoder",
                     "details": {"record": rec}}]
    _dump(b, m)


def _package_symlink_out(b: Path) -> None:
    """A listed package folder that is a symlink to a folder outside (/usr: hashing it would take minutes)."""
    os.symlink("/usr", b / "nt.mlpackage")
    _set(["files", "nt.mlpackage"], {"bytes": 1, "sha256": "0" * 64})(b)


def _extra_file(b: Path) -> None:
    (b / "payload.bin").write_bytes(b"not listed")


def _deep(b: Path) -> None:
    _text(b, lambda t: t.replace('"config": {', '"config": {"deep": ' + "[" * 100_000 + "]" * 100_000 + ",", 1))


def _big_manifest(b: Path) -> None:
    _text(b, lambda t: t + " " * (17 << 20))


def _set(path: list[str | int], value: object) -> Callable[[Path], None]:
    def make(b: Path) -> None:
        m = _manifest(b)
        o = m
        for k in path[:-1]:
            o = o[k]
        o[path[-1]] = value
        _dump(b, m)
    return make


def _raw_number(key: str, literal: str) -> Callable[[Path], None]:
    """Replace the first number after ``"key":`` with ``literal`` (JSON the writer never produces)."""
    def make(b: Path) -> None:
        import re
        _text(b, lambda t: re.sub(rf'("{key}": )-?[0-9][0-9.e+-]*', rf"\g<1>{literal}", t, count=1))
    return make


def _M(name: str, make: Callable[[Path], None], cpp: bool = True) -> Case:   # noqa: N802 - reads as Case(...)
    return Case(name, make, cpp, manifest_only=True)


CASES: list[Case] = [
    # special files and places
    Case("manifest symlink to /dev/zero", lambda b: _symlink(b, "manifest.json", "/dev/zero")),
    Case("manifest is a FIFO", lambda b: _fifo(b, "manifest.json")),
    Case("manifest is a folder", lambda b: _folder(b, "manifest.json")),
    Case("manifest over 16 MiB", _big_manifest),
    Case("grid symlink to /dev/zero", lambda b: _symlink(b, "latents.dds", "/dev/zero")),
    Case("grid symlink to /dev/urandom", lambda b: _symlink(b, "latents.dds", "/dev/urandom")),
    Case("grid is a FIFO", lambda b: _fifo(b, "latents.dds")),
    Case("grid is a folder", lambda b: _folder(b, "latents.dds")),
    Case("grid symlink to an identical file outside", lambda b: _outside_copy(b, "latents.dds")),
    Case("decoder symlink to an identical file outside", lambda b: _outside_copy(b, "decoder.npz")),
    Case("unlisted extra file", _extra_file),
    Case("listed package folder symlinked to /usr", _package_symlink_out),
    # JSON tricks
    _M("duplicate JSON key", lambda b: _text(b, lambda t: t.replace(
        '"decode_mode": "exact"', '"decode_mode": "exact", "decode_mode": "float"'))),
    _M("NaN literal", _raw_number("out_scale", "NaN")),
    _M("Infinity literal", _raw_number("scale", "Infinity")),
    _M("-Infinity frequency", lambda b: _text(b, lambda t: t.replace('"frequencies": [',
                                                                       '"frequencies": [-Infinity, '))),
    _M("100k-deep nesting", _deep),
    _M("width 2^31", _set(["texture", "width"], 1 << 31)),
    _M("width 2^64", _raw_number("width", str(1 << 64))),
    _M("width 9.0", _raw_number("width", "9.0")),
    _M("file size as a float", lambda b: _text(b, lambda t: t.replace('"bytes": 248', '"bytes": 248.0'))),
    _M("grid features 10^6", lambda b: _set(["grids", 0, "features"], 10**6)(b)),
    _M("mip count beyond the full chain", _set(["texture", "mip_levels"], 9)),
    _M("zero input scale", _set(["decoder", "quantized", "input_scales", 0], 0.0)),
    _M("zero grid scale", _set(["grids", 0, "dequantize", "scale"], 0.0)),
    # names and export records
    _M("listed file ../outside", lambda b: _set(["files", "../" + OUTSIDE], {"bytes": 1, "sha256": "0" * 64})(b)),
    _M("listed file absolute", lambda b: _set(["files", "/etc/passwd"], {"bytes": 1, "sha256": "0" * 64})(b)),
    _M("export file ../..", _export(["../../etc/passwd"]), cpp=False),
    _M("export file absolute", _export(["/etc/passwd"]), cpp=False),
    _M("export file x.onnx/../../../etc/passwd", lambda b: (_export(["decoder.npz/../../../etc/passwd"])(b)),
         cpp=False),
    _M("export record without format", lambda b: _export(["decoder.npz"])(b) or _drop_export_key(b, "format"),
         cpp=False),
    _M("export record files not a list", _export("decoder.npz"), cpp=False),
    Case("export inner record path escapes", _export_record_escape, cpp=False),
    # payload contents
    Case("DDS header claims 65536^2", lambda b: _dds_claims(b, 65536, 65536)),
    Case("DDS header claims 2^31 wide", lambda b: _dds_claims(b, 1 << 31, 4)),
    Case("DDS truncated", lambda b: _replace_file(b, "latents.dds", (b / "latents.dds").read_bytes()[:-9])),
    Case("npz with 200k members", _many_members),
    Case("npz with 5000 members", lambda b: _many_members(b, 5000)),
    Case("npz .npy header claims 10 GiB", _header_claims),
    Case("npz member is a pickle", _pickle_member),
    Case("npz member inflates to 1.25 GiB", _bomb),
    Case("npz truncated", lambda b: _replace_file(b, "decoder.npz", (b / "decoder.npz").read_bytes()[:-40])),
    # verification data
    Case("no reference decode hashes", _no_reference),
    Case("changed weights, no reference hashes", _changed_weights_no_reference),
    Case("changed reference hash", lambda b: _set(["provenance", "reference_decode", "mip0"], "0" * 64)(b)),
]


def _drop_export_key(b: Path, key: str) -> None:
    m = _manifest(b)
    del m["exports"][0][key]
    _dump(b, m)


def make_case(case: Case, base: Path, root: Path) -> Path:
    """A fresh copy of ``base`` under ``root`` damaged by ``case``."""
    folder = root / case.name.replace(" ", "_").replace("/", "_")
    folder.mkdir(parents=True)
    bundle = folder / "b.ngasset"
    shutil.copytree(base, bundle)
    case.make(bundle)
    return bundle

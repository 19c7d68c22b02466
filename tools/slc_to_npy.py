#!/usr/bin/env python3
"""Convert a VolVis SLC volume (8-bit, raw or run-length coded slices, as VTK's data sets ship it) to .npy (z, y, x).

Used to add ``embryo.slc`` (pyvista/vtk-data, 256^3 uint8) to the volume corpus in .bench_data/volumes/:

    python tools/slc_to_npy.py embryo.slc .bench_data/volumes/embryo_zyx_256x256x256_uint8.npy

Layout: a text header (magic 11111; x y z bits; three scales; unit, origin, modification, compression), an
RGB icon (``W H X`` then 3 * W * H bytes), then per z slice ``SIZE X`` and SIZE bytes. Run-length code: a
byte ``b``, count ``b & 0x7f`` (0 ends the slice); high bit set: that many literal bytes follow, else the next
byte repeats count times.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from ngsdk.asset.atomic import atomic_open  # noqa: E402
from ngsdk.asset.errors import AssetError  # noqa: E402


class _Reader:
    def __init__(self, data: bytes, path: Path) -> None:
        self.data, self.pos, self.path = data, 0, path

    def token(self) -> str:
        n = len(self.data)
        while self.pos < n and self.data[self.pos] in b" \t\r\n":
            self.pos += 1
        start = self.pos
        while self.pos < n and self.data[self.pos] not in b" \t\r\n":
            self.pos += 1
        if start == self.pos:
            raise AssetError(self.path, "SLC header ends early")
        return self.data[start:self.pos].decode("ascii", "replace")

    def ints(self, k: int) -> list[int]:
        try:
            return [int(float(self.token())) for _ in range(k)]
        except ValueError:
            raise AssetError(self.path, f"SLC header: expected {k} numbers near byte {self.pos}") from None

    def marker(self, what: str) -> None:
        """The ``X`` that ends a size line; the binary data starts right after it."""
        while self.pos < len(self.data) and self.data[self.pos] in b" \t\r\n":
            self.pos += 1
        if self.data[self.pos:self.pos + 1] != b"X":
            raise AssetError(self.path, f"SLC {what}: marker X missing at byte {self.pos}")
        self.pos += 1

    def block(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise AssetError(self.path, f"SLC data ends early (needs {n} bytes at {self.pos})")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out


def _unrle(buf: bytes, size: int, path: Path, z: int) -> np.ndarray:
    out = bytearray()
    i = 0
    while i < len(buf):
        b = buf[i]
        i += 1
        count = b & 0x7F
        if count == 0:
            break
        if b & 0x80:
            out += buf[i:i + count]
            i += count
        else:
            out += bytes([buf[i]]) * count
            i += 1
    if size - 256 <= len(out) < size:
        # VTK's sample files end some slices a few bytes early (their writer's last run); VTK's reader leaves
        # those voxels at 0, and so do we
        out += bytes(size - len(out))
    if len(out) != size:
        raise AssetError(path, f"SLC slice {z}: run-length data gives {len(out)} bytes, expected {size}")
    return np.frombuffer(bytes(out), np.uint8)


def read_slc(path: Path) -> np.ndarray:
    """The volume as uint8 (z, y, x); AssetError naming the file for anything it cannot read."""
    r = _Reader(path.read_bytes(), path)
    if r.token() != "11111":
        raise AssetError(path, "not an SLC file (magic 11111 missing)")
    nx, ny, nz, bits = r.ints(4)
    if bits != 8 or min(nx, ny, nz) < 1:
        raise AssetError(path, f"SLC {nx}x{ny}x{nz} with {bits} bits: only 8-bit volumes are supported")
    r.ints(3)  # voxel scales
    _unit, _origin, _modification, compression = r.ints(4)
    iw, ih = r.ints(2)
    r.marker("icon")
    r.block(3 * iw * ih)  # icon planes r, g, b
    vol = np.empty((nz, ny, nx), np.uint8)
    for z in range(nz):
        size = r.ints(1)[0]
        r.marker(f"slice {z}")
        buf = r.block(size)
        if compression == 0:
            if size != nx * ny:
                raise AssetError(path, f"SLC slice {z}: {size} bytes, expected {nx * ny}")
            vol[z] = np.frombuffer(buf, np.uint8).reshape(ny, nx)
        else:
            vol[z] = _unrle(buf, nx * ny, path, z).reshape(ny, nx)
    return vol


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("slc", type=Path)
    p.add_argument("out", type=Path, help=".npy file to write (z, y, x)")
    args = p.parse_args(argv)
    try:
        vol = read_slc(args.slc)
    except (AssetError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    with atomic_open(args.out) as f:
        np.save(f, vol, allow_pickle=False)
    print(f"wrote {args.out}: {vol.shape} (z, y, x) uint8, range [{vol.min()}, {vol.max()}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The sampler conformance corpus: generated cases and the sha256 of every profile's output.

Every case is generated from its name (seeded), so the corpus is the code below plus
``tests/conformance/sampler_corpus.json``, which stores, per case, the sha256 of the inputs (texture,
coordinates, LODs) and of each profile's float32 output. ``tests/conformance/test_sampler_corpus.py``
recomputes them: a changed output hash with unchanged inputs is a change in sampler arithmetic.

Regenerate only on purpose, after a deliberate change to a profile (and say why in the commit):

    python tools/sampler_corpus.py --write tests/conformance/sampler_corpus.json
    python tools/sampler_corpus.py --check tests/conformance/sampler_corpus.json

Cases cover every DXGI format ngsdk knows, odd and power-of-two sizes, 1-texel axes, texel-edge and
tie coordinates, coordinates far outside [0, 1], tie LODs, mip chains, 2D arrays and 3D textures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

if __package__ in (None, ""):                     # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ngsdk.asset.atomic import atomic_write_bytes  # noqa: E402
from ngsdk.asset.dxgi import BY_NAME  # noqa: E402
from ngsdk.runtime_ref.sampling import NotMeasuredError, sample  # noqa: E402
from tests.fixtures.sampler_cases import random_texture  # noqa: E402

PROFILES = ("ideal", "d3d11", "lavapipe", "nvidia", "bounded")
SAMPLES = 4096
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Case:
    """One corpus entry: a texture, a coordinate set and a sampler state."""

    name: str
    fmt: str
    size: tuple[int, int, int]          # width, height, depth (3D) or layers (2D)
    dimension: str = "2d"
    mips: int = 1                       # 0: the full chain
    coords: str = "random"              # random | edges | ties | far
    lods: str = "none"                  # none | random | ties
    filter: str = "linear"
    address: str = "repeat"
    layer: int = 0
    border: tuple[float, float, float, float] = (0.25, 0.5, 0.75, 1.0)

    @property
    def seed(self) -> int:
        return zlib.crc32(self.name.encode())


def coordinates(rng: np.random.Generator, kind: str, n: int, sizes) -> np.ndarray:
    """float32 ``(n, len(sizes))`` normalized coordinates of one kind."""
    cols = []
    for size in sizes:
        if kind == "random":
            u = rng.uniform(-3, 4, n)
        elif kind == "edges":      # on and next to texel edges and centres, over several periods
            k = rng.integers(-2 * size, 3 * size + 1, n)
            frac = rng.choice(np.array([0, 0.5, 2**-9, -(2**-9), 2**-8, 1 - 2**-8, 0.5 + 2**-9, 1e-7,
                                        -1e-7]), n)
            u = (k + frac) / size
        elif kind == "ties":       # where u * size * 256 lands on a half: rounding ties of 8.8 snapping
            m = rng.integers(-2 * 256 * size, 3 * 256 * size, n)
            u = (m + 0.5) / (256 * size)
        elif kind == "far":        # far outside [0, 1], where float32 spacing reaches 1/size
            u = rng.choice(np.array([-1.0, 1.0]), n) * rng.uniform(100, 2000, n)
        else:
            raise ValueError(f"unknown coordinate kind {kind!r}")
        cols.append(u)
    return np.stack(cols, axis=1).astype(np.float32)


def lods_for(rng: np.random.Generator, kind: str, n: int, mip_count: int) -> np.ndarray | None:
    if kind == "none":
        return None
    if kind == "random":
        return rng.uniform(-1, mip_count + 0.5, n).astype(np.float32)
    if kind == "ties":
        frac = rng.choice(np.array([0, 0.5, 2**-9, 0.25, 1 - 2**-8, 0.5 + 2**-10]), n)
        return (rng.integers(-1, mip_count + 1, n) + frac).astype(np.float32)
    raise ValueError(f"unknown LOD kind {kind!r}")


def cases() -> list[Case]:
    out: list[Case] = []
    # every format on an odd-sized chain, four sampler states each
    for fmt in BY_NAME:
        out += [
            Case(f"{fmt}/linear-repeat-random", fmt, (13, 7, 1), mips=0, lods="random"),
            Case(f"{fmt}/trilinear-mirror-ties", fmt, (13, 7, 1), mips=0, coords="ties", lods="ties",
                 filter="trilinear", address="mirror"),
            Case(f"{fmt}/nearest-clamp-edges", fmt, (13, 7, 1), mips=0, coords="edges", lods="ties",
                 filter="nearest", address="clamp"),
            Case(f"{fmt}/linear-border-far", fmt, (13, 7, 1), coords="far", address="border"),
        ]
    # RGBA8 sizes: odd, power of two, one-texel axes
    for w, h in ((5, 3), (1, 1), (1, 9), (16, 16), (37, 23), (64, 32), (256, 256)):
        tag = f"R8G8B8A8_UNORM/{w}x{h}"
        out += [
            Case(f"{tag}/linear-repeat-edges", "R8G8B8A8_UNORM", (w, h, 1), coords="edges"),
            Case(f"{tag}/linear-clamp-ties", "R8G8B8A8_UNORM", (w, h, 1), coords="ties", address="clamp"),
            Case(f"{tag}/nearest-repeat-ties", "R8G8B8A8_UNORM", (w, h, 1), coords="ties", filter="nearest"),
            Case(f"{tag}/linear-mirror-far", "R8G8B8A8_UNORM", (w, h, 1), coords="far", address="mirror"),
            Case(f"{tag}/trilinear-repeat-random", "R8G8B8A8_UNORM", (w, h, 1), mips=0, lods="random",
                 filter="trilinear"),
        ]
    # 2D arrays
    for fmt in ("R8G8B8A8_UNORM", "R8G8B8A8_UNORM_SRGB", "R16G16B16A16_FLOAT"):
        out += [
            Case(f"{fmt}/array/linear-repeat-layer3", fmt, (16, 8, 4), mips=0, layer=3),
            Case(f"{fmt}/array/trilinear-clamp-layer1", fmt, (16, 8, 4), mips=0, lods="ties", layer=1,
                 filter="trilinear", address="clamp"),
        ]
    # 3D
    for fmt, size in (("R8G8B8A8_UNORM", (7, 5, 3)), ("R8G8B8A8_UNORM", (8, 8, 8)),
                      ("R8G8B8A8_UNORM_SRGB", (6, 5, 4)), ("R16G16B16A16_FLOAT", (5, 4, 9)),
                      ("R32G32B32A32_FLOAT", (4, 4, 4))):
        tag = f"{fmt}/3d/{'x'.join(map(str, size))}"
        out += [
            Case(f"{tag}/linear-repeat-edges", fmt, size, "3d", coords="edges"),
            Case(f"{tag}/nearest-mirror-random", fmt, size, "3d", filter="nearest", address="mirror"),
            Case(f"{tag}/trilinear-clamp-random", fmt, size, "3d", mips=0, lods="random", filter="trilinear",
                 address="clamp"),
            Case(f"{tag}/linear-border-far", fmt, size, "3d", coords="far", address="border"),
        ]
    return out


def materialize(case: Case, n: int = SAMPLES):
    """``(texture, coords, lods)`` of a case, the same on every machine."""
    rng = np.random.default_rng(case.seed)
    w, h, d = case.size
    layers = d if case.dimension == "2d" else 1
    tex = random_texture(rng, case.fmt, (w, h, d if case.dimension == "3d" else 1), case.dimension, case.mips,
                         layers)
    sizes = (w, h, d) if case.dimension == "3d" else (w, h)
    uv = coordinates(rng, case.coords, n, sizes)
    lod = lods_for(rng, case.lods, n, tex.mip_count)
    return tex, uv, lod


def sha256(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        if a is not None:
            a = np.ascontiguousarray(a)
            h.update(str(a.dtype).encode() + str(a.shape).encode())
            h.update(a.tobytes())
    return h.hexdigest()


def run_case(case: Case, profiles=PROFILES, n: int = SAMPLES) -> dict[str, str]:
    """Hashes of the inputs and of each profile's output for one case."""
    tex, uv, lod = materialize(case, n)
    result = {"inputs": sha256(*tex.mips, uv, lod)}
    for profile in profiles:
        try:
            out = sample(tex, uv, lod=lod, layer=case.layer, filter=case.filter, address=case.address,
                         border=case.border if case.address == "border" else None, profile=profile)
        except NotMeasuredError:
            result[profile] = "not-measured"
            continue
        result[profile] = sha256(out)
    return result


def build() -> dict:
    return {"format": FORMAT_VERSION, "samples": SAMPLES, "profiles": list(PROFILES),
            "cases": {c.name: run_case(c) for c in cases()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", type=Path, help="regenerate the corpus hashes into this JSON file")
    group.add_argument("--check", type=Path, help="recompute and compare with this JSON file")
    args = parser.parse_args(argv)
    data = build()
    if args.write:
        atomic_write_bytes(args.write, (json.dumps(data, indent=1, sort_keys=True) + "\n").encode())
        print(f"wrote {len(data['cases'])} cases to {args.write}")
        return 0
    stored = json.loads(args.check.read_text())
    diffs = [f"{name}/{k}" for name, row in data["cases"].items()
             for k, v in row.items() if stored["cases"].get(name, {}).get(k) != v]
    for d in diffs:
        print(f"changed: {d}")
    print(f"{len(data['cases'])} cases, {len(diffs)} changed hashes")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())

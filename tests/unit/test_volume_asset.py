"""Neural volume asset: validation, bundle round trip, DDS volume headers, exact decode vs a scalar model."""

from __future__ import annotations

import json
import math
import struct
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from ngsdk.asset.digest import sha256_file
from ngsdk.asset.errors import AssetError
from ngsdk.asset.manifest import dump_manifest, file_record
from ngsdk.asset.neural_volume import (
    NeuralVolumeAsset,
    Normalization,
    VolumeBrick,
    VolumeGrid,
    local_transform,
    voxel_positions,
)
from ngsdk.asset.texture import TextureData
from ngsdk.asset.types import Decoder, DecoderLayer, Provenance
from ngsdk.exporters.dds import write_dds
from ngsdk.exporters.neural_volume import write_neural_volume
from ngsdk.exporters.npz import write_npz
from ngsdk.runtime_ref.neural_volume import (
    VolumeDecoder,
    decode_points,
    denormalize,
    load_neural_volume,
    reconstruct,
    select_bricks,
)

F32 = np.float32


# ---------------------------------------------------------------------------------------------- assets


def _transform(rng: np.random.Generator) -> np.ndarray:
    a = np.eye(3) * rng.uniform(0.7, 1.3, 3) + rng.uniform(-0.2, 0.2, (3, 3))
    return np.concatenate([a, rng.uniform(-0.4, 0.4, (3, 1))], axis=1).astype(np.float32)


def _grid(rng: np.random.Generator, name: str, storage: str, res: tuple[int, int, int], f: int) -> VolumeGrid:
    if storage == "unorm8":
        codes = rng.integers(0, 256, size=res + (f,), dtype=np.uint8)
        return VolumeGrid(name, _transform(rng), "unorm8", codes, scale=float(rng.uniform(0.002, 0.02)),
                          offset=float(rng.uniform(-1.5, 0.5)))
    return VolumeGrid(name, _transform(rng), "float16", rng.standard_normal(res + (f,)).astype(np.float16))


def _decoder(rng: np.random.Generator, dims: list[int]) -> Decoder:
    layers = []
    for i, (a, b) in enumerate(zip(dims, dims[1:])):
        act = "relu" if i < len(dims) - 2 else "none"
        layers.append(DecoderLayer(rng.standard_normal((b, a)).astype(np.float32) / math.sqrt(a),
                                   (rng.standard_normal(b) * 0.3 + (0.4 if act == "none" else 0.0)).astype(np.float32),
                                   act))
    return Decoder(layers)


def two_brick_asset(seed: int = 7, mode: str = "exact") -> NeuralVolumeAsset:
    """A 5 x 6 x 9 volume split along x into cores [0, 5) and [5, 9), fit boxes [0, 6) and [4, 9);
    mixed unorm8 / float16 grids with 1 to 4 features."""
    rng = np.random.default_rng(seed)
    shape = (5, 6, 9)
    g0 = [_grid(rng, "grid00", "unorm8", (3, 4, 5), 3), _grid(rng, "grid01", "float16", (4, 3, 3), 2)]
    g1 = [_grid(rng, "grid00", "float16", (3, 3, 4), 4), _grid(rng, "grid01", "unorm8", (2, 2, 2), 1)]
    b0 = VolumeBrick("brick000", (0, 5, 0, 6, 0, 5), (0, 5, 0, 6, 0, 6), g0, _decoder(rng, [5, 8, 8, 1]))
    b1 = VolumeBrick("brick001", (0, 5, 0, 6, 5, 9), (0, 5, 0, 6, 4, 9), g1, _decoder(rng, [5, 6, 1]))
    return NeuralVolumeAsset(
        name="twobricks", shape=shape, normalization=Normalization(-2.5, 7.25, "<f4"), bricks=[b0, b1],
        provenance=Provenance(ngsdk_version="test", config={"grids": 2}, seed=seed, metrics={"psnr_db": 31.5},
                              reference_decode={"volume": "ab" * 32}),
        decode_mode=mode,
    )


def one_brick_asset(seed: int = 3, storage: str = "unorm8", shape=(8, 7, 6)) -> NeuralVolumeAsset:
    rng = np.random.default_rng(seed)
    grids = [_grid(rng, f"grid{g:02d}", storage, (4, 5, 6), 4) for g in range(3)]
    whole = (0, shape[0], 0, shape[1], 0, shape[2])
    brick = VolumeBrick("brick000", whole, whole, grids, _decoder(rng, [12, 16, 16, 1]))
    return NeuralVolumeAsset("one", shape, Normalization(0.0, 255.0, "uint8"), [brick],
                             Provenance(ngsdk_version="test"))


# ---------------------------------------------------------------------------------------------- scalar model
# A deliberately plain implementation of docs/decode-spec.md "Volumes", one point at a time with
# Python integers and float32 scalars; it shares no code with runtime_ref.


def _ref_brick(asset: NeuralVolumeAsset, p: tuple[float, float, float]) -> int:
    d, h, w = asset.shape
    for index, b in enumerate(asset.bricks):
        ok = True
        for v, n, c0, c1 in ((p[0], w, b.core[4], b.core[5]), (p[1], h, b.core[2], b.core[3]),
                             (p[2], d, b.core[0], b.core[1])):
            v = min(max(Fraction(float(v)), Fraction(-1)), Fraction(1))
            u = (v + 1) * (n - 1) / 2
            ok = ok and Fraction(2 * c0 - 1, 2) <= u <= Fraction(2 * c1 - 1, 2)
        if ok:
            return index
    raise AssertionError("no brick")


def _ref_axis(q: np.float32, r: int) -> tuple[int, int]:
    u = F32(F32(q + F32(1)) * F32(0.5 * (r - 1)))
    big = math.floor(F32(u * F32(256)))
    big = max(-(1 << 30), min(1 << 30, big))
    return big >> 8, big & 255


def _ref_feature(g: VolumeGrid, pl: list[np.float32]) -> list[np.float32]:
    t = g.transform
    q = [F32(F32(F32(F32(t[r, 0] * pl[0]) + F32(t[r, 1] * pl[1])) + F32(t[r, 2] * pl[2])) + t[r, 3])
         for r in range(3)]
    rz, ry, rx = g.values.shape[:3]
    ix, wx = _ref_axis(q[0], rx)
    iy, wy = _ref_axis(q[1], ry)
    iz, wz = _ref_axis(q[2], rz)
    f = g.values.shape[3]
    if g.storage == "unorm8":
        s_z, w_z = [[0] * f, [0] * f], [0, 0]
        for dz in (0, 1):
            for dy in (0, 1):
                for dx in (0, 1):
                    z, y, x = iz + dz, iy + dy, ix + dx
                    if not (0 <= z < rz and 0 <= y < ry and 0 <= x < rx):
                        continue
                    wgt = (wx if dx else 256 - wx) * (wy if dy else 256 - wy)
                    w_z[dz] += wgt
                    for k in range(f):
                        s_z[dz][k] += wgt * int(g.values[z, y, x, k])
        wt = (w_z[0] >> 8) * (256 - wz) + (w_z[1] >> 8) * wz
        out = []
        for k in range(f):
            s = (s_z[0][k] >> 8) * (256 - wz) + (s_z[1][k] >> 8) * wz
            out.append(F32(F32(F32(s) * F32(g.scale * 2.0**-16)) + F32(F32(wt) * F32(g.offset * 2.0**-16))))
        return out
    acc = [F32(0)] * f
    for dz in (0, 1):
        for dy in (0, 1):
            for dx in (0, 1):
                z, y, x = iz + dz, iy + dy, ix + dx
                if not (0 <= z < rz and 0 <= y < ry and 0 <= x < rx):
                    continue
                wgt = F32(F32((wx if dx else 256 - wx) * (wy if dy else 256 - wy)) * F32(wz if dz else 256 - wz))
                for k in range(f):
                    acc[k] = F32(acc[k] + F32(wgt * F32(g.values[z, y, x, k])))
    return [F32(a * F32(2.0**-24)) for a in acc]


def ref_decode(asset: NeuralVolumeAsset, p: tuple[float, float, float]) -> np.float32:
    b = asset.bricks[_ref_brick(asset, p)]
    d, h, w = asset.shape
    pl = []
    for v, n, f0, f1 in ((p[0], w, b.fit[4], b.fit[5]), (p[1], h, b.fit[2], b.fit[3]), (p[2], d, b.fit[0], b.fit[1])):
        m = f1 - f0
        pl.append(F32(F32(F32(v) * F32((n - 1) / (m - 1))) + F32((n - 2 * f0 - m) / (m - 1))))
    x = [v for g in b.grids for v in _ref_feature(g, pl)]
    layers = b.decoder.layers
    for i, layer in enumerate(layers):
        y = []
        for j in range(layer.outputs):
            acc = layer.bias[j]
            for k in range(layer.inputs):
                acc = F32(acc + F32(layer.weight[j, k] * x[k]))
            if i < len(layers) - 1:
                acc = acc if acc > 0 else F32(0)
            y.append(acc)
        x = y
    out = x[0]
    return min(out, F32(1)) if out > 0 else F32(0)


def _bits(a) -> np.ndarray:
    return np.asarray(a, dtype=np.float32).view(np.uint32)


def _points(asset: NeuralVolumeAsset, n: int, seed: int = 0) -> np.ndarray:
    """Random points (some outside the volume), every voxel position on the brick boundary plane,
    the boundary itself and its float32 neighbours, corners."""
    rng = np.random.default_rng(seed)
    pts = [rng.uniform(-1.15, 1.15, (n, 3)).astype(np.float32)]
    edge = F32(0.125)     # x(n - 1) = 2 c1 - n: the extended cores of the two bricks meet here (W = 9)
    for x in (edge, np.nextafter(edge, F32(1)), np.nextafter(edge, F32(0)), F32(0), F32(0.25), F32(-1), F32(1)):
        pts.append(np.array([[x, y, z] for y in (F32(-1), F32(0.2), F32(1)) for z in (F32(-1), F32(0.5))],
                            dtype=np.float32))
    return np.concatenate(pts)


# ---------------------------------------------------------------------------------------------- decode


@pytest.mark.parametrize("seed", [7, 8])
def test_exact_decode_matches_scalar_model_bit_for_bit(seed: int) -> None:
    asset = two_brick_asset(seed)
    p = _points(asset, 150, seed)
    got = decode_points(asset, p, "exact")
    want = np.array([ref_decode(asset, tuple(row)) for row in p], dtype=np.float32)
    assert np.array_equal(_bits(got), _bits(want)), np.nonzero(_bits(got) != _bits(want))
    assert 0 < np.count_nonzero(got) and np.all((got >= 0) & (got <= 1))


def test_reconstruct_is_every_voxel_bit_for_bit() -> None:
    asset = two_brick_asset(11)
    d, h, w = asset.shape
    recon = reconstruct(asset)
    assert recon.shape == (d, h, w) and recon.dtype == np.float32
    pz, py, px = np.meshgrid(voxel_positions(d), voxel_positions(h), voxel_positions(w), indexing="ij")
    p = np.stack([px.ravel(), py.ravel(), pz.ravel()], axis=1)
    assert np.array_equal(_bits(recon.ravel()), _bits(decode_points(asset, p)))
    want = np.array([ref_decode(asset, tuple(row)) for row in p], dtype=np.float32)
    assert np.array_equal(_bits(recon.ravel()), _bits(want))


def test_float16_single_brick_and_chunking() -> None:
    asset = one_brick_asset(storage="float16")
    p = np.random.default_rng(5).uniform(-1.05, 1.05, (300, 3)).astype(np.float32)
    want = np.array([ref_decode(asset, tuple(row)) for row in p], dtype=np.float32)
    small = VolumeDecoder(asset, "exact", chunk=7)(p)        # many chunks: results must not depend on them
    assert np.array_equal(_bits(small), _bits(want))
    progress = []
    recon = VolumeDecoder(asset, chunk=50).reconstruct(lambda done, total: progress.append((done, total)))
    assert progress[-1] == (recon.size, recon.size) and len(progress) > 1
    assert np.array_equal(_bits(recon), _bits(reconstruct(asset)))


def test_float_mode_is_close_to_exact() -> None:
    asset = two_brick_asset(3, mode="float")
    p = _points(asset, 400, 3)
    exact = decode_points(asset, p, "exact")
    flt = decode_points(asset, p)      # the asset's mode: float
    assert np.abs(exact - flt).max() < 0.02
    assert np.allclose(reconstruct(asset), reconstruct(asset, "exact"), atol=0.02)


def test_brick_selection() -> None:
    asset = two_brick_asset()
    edge = F32(0.125)
    x = np.array([edge, np.nextafter(edge, F32(1)), np.nextafter(edge, F32(0)), 0.0, 0.25, -3.0, 5.0, np.nan, 1.0],
                 dtype=np.float32)
    p = np.stack([x, np.zeros_like(x), np.zeros_like(x)], axis=1)
    assert select_bricks(asset, p).tolist() == [0, 1, 0, 0, 1, 0, 1, 0, 1]
    # every voxel goes to the brick whose core holds it
    pos = voxel_positions(9)
    sel = select_bricks(asset, np.stack([pos, np.zeros(9, np.float32), np.zeros(9, np.float32)], axis=1))
    assert sel.tolist() == [0] * 5 + [1] * 4
    # a point decodes with its brick's own model
    dec = VolumeDecoder(asset)
    on_edge = np.array([[edge, 0.3, -0.2]], dtype=np.float32)
    assert _bits(dec(on_edge)) == _bits(dec._decode(dec.bricks[0], on_edge))


def test_coordinates() -> None:
    pos = voxel_positions(9)
    assert pos[0] == -1 and pos[-1] == 1 and pos[4] == 0 and pos.dtype == np.float32
    assert voxel_positions(2).tolist() == [-1.0, 1.0]
    scale, offset = local_transform((5, 6, 9), (0, 5, 0, 6, 4, 9))
    assert scale.tolist() == [2.0, 1.0, 1.0] and offset.tolist() == [-1.0, 0.0, 0.0]
    # the fit voxels span [-1, 1]: voxel 4 of 9 -> -1, voxel 8 -> 1
    assert F32(F32(pos[4] * scale[0]) + offset[0]) == -1 and F32(F32(pos[8] * scale[0]) + offset[0]) == 1
    scale, offset = local_transform((5, 6, 9), (0, 5, 0, 6, 0, 9))
    assert scale.tolist() == [1.0, 1.0, 1.0] and offset.tolist() == [0.0, 0.0, 0.0]


def test_denormalize() -> None:
    asset = two_brick_asset()
    v = denormalize(asset, np.array([0.0, 1.0, 0.5], dtype=np.float32))
    assert v.dtype == np.float32 and v.tolist() == [-2.5, 7.25, 2.375]


# ---------------------------------------------------------------------------------------------- bundle


def _same_asset(a: NeuralVolumeAsset, b: NeuralVolumeAsset) -> None:
    assert (a.name, a.shape, a.decode_mode, a.normalization, a.provenance, a.exports) == \
        (b.name, b.shape, b.decode_mode, b.normalization, b.provenance, b.exports)
    for ba, bb in zip(a.bricks, b.bricks, strict=True):
        assert (ba.name, ba.core, ba.fit) == (bb.name, bb.core, bb.fit)
        for ga, gb in zip(ba.grids, bb.grids, strict=True):
            assert (ga.name, ga.storage, ga.scale, ga.offset) == (gb.name, gb.storage, gb.scale, gb.offset)
            assert ga.values.dtype == gb.values.dtype and ga.values.tobytes() == gb.values.tobytes()
            assert ga.transform.tobytes() == gb.transform.tobytes()
        for la, lb in zip(ba.decoder.layers, bb.decoder.layers, strict=True):
            assert la.activation == lb.activation
            assert la.weight.tobytes() == lb.weight.tobytes() and la.bias.tobytes() == lb.bias.tobytes()


def test_round_trip_is_lossless_and_deterministic(tmp_path: Path) -> None:
    asset = two_brick_asset()
    m1 = write_neural_volume(asset, tmp_path / "a.ngasset")
    assert sorted(m1["files"]) == ["bricks/brick000/decoder.npz", "bricks/brick000/grid00.dds",
                                   "bricks/brick000/grid01.dds", "bricks/brick001/decoder.npz",
                                   "bricks/brick001/grid00.dds", "bricks/brick001/grid01.dds"]
    loaded = load_neural_volume(tmp_path / "a.ngasset")
    _same_asset(asset, loaded)
    assert np.array_equal(_bits(reconstruct(loaded)), _bits(reconstruct(asset)))
    # the same asset (rebuilt, or loaded back) gives the same bytes
    write_neural_volume(two_brick_asset(), tmp_path / "b.ngasset")
    write_neural_volume(loaded, tmp_path / "c.ngasset")
    files = sorted(p.relative_to(tmp_path / "a.ngasset") for p in (tmp_path / "a.ngasset").rglob("*") if p.is_file())
    assert len(files) == 7
    for other in ("b.ngasset", "c.ngasset"):
        for f in files:
            assert (tmp_path / "a.ngasset" / f).read_bytes() == (tmp_path / other / f).read_bytes(), f
    # rewriting replaces the bundle in place
    write_neural_volume(one_brick_asset(), tmp_path / "a.ngasset")
    assert load_neural_volume(tmp_path / "a.ngasset").name == "one"
    assert not (tmp_path / "a.ngasset" / "bricks" / "brick001").exists()


def test_manifest_fields(tmp_path: Path) -> None:
    asset = two_brick_asset()
    m = write_neural_volume(asset, tmp_path / "v.ngasset")
    assert (m["kind"], m["format_version"], m["decode_mode"]) == ("neural_volume", "1.0", "exact")
    assert m["volume"] == {"shape": [5, 6, 9], "axes": "zyx", "coordinates": "corner_aligned",
                           "normalization": {"vmin": -2.5, "vmax": 7.25, "source_dtype": "<f4"}}
    b1 = m["bricks"][1]
    assert b1["core"] == [0, 5, 0, 6, 5, 9] and b1["fit"] == [0, 5, 0, 6, 4, 9]
    assert b1["to_local"] == {"scale": [2.0, 1.0, 1.0], "offset": [-1.0, 0.0, 0.0]}
    g = b1["grids"][0]
    assert (g["file"], g["dxgi_format"], g["storage"], g["width"], g["height"], g["depth"], g["features"]) == \
        ("bricks/brick001/grid00.dds", "R16G16B16A16_FLOAT", "float16", 4, 3, 3, 4)
    assert np.array(g["transform"], dtype=np.float32).tobytes() == asset.bricks[1].grids[0].transform.tobytes()
    assert b1["decoder"]["input_order"] == ["grid00[0]", "grid00[1]", "grid00[2]", "grid00[3]", "grid01[0]"]
    assert [ly["activation"] for ly in b1["decoder"]["layers"]] == ["relu", "none"]
    on_disk = json.loads((tmp_path / "v.ngasset" / "manifest.json").read_text())
    assert on_disk == m


def test_dds_volume_header_bytes(tmp_path: Path) -> None:
    asset = two_brick_asset()
    write_neural_volume(asset, tmp_path / "v.ngasset")
    for brick, grid, fmt, item in ((0, 0, 28, 1), (0, 1, 10, 2)):
        g = asset.bricks[brick].grids[grid]
        rz, ry, rx = g.resolution
        data = (tmp_path / "v.ngasset" / f"bricks/brick00{brick}/grid0{grid}.dds").read_bytes()
        assert len(data) == 148 + rz * ry * rx * 4 * item
        assert data[0:4] == b"DDS "
        size, flags, height, width, pitch, depth, mips = struct.unpack_from("<7I", data, 4)
        assert (size, height, width, pitch, depth, mips) == (124, ry, rx, rx * 4 * item, rz, 1)
        # CAPS | HEIGHT | WIDTH | PITCH | PIXELFORMAT | MIPMAPCOUNT | DEPTH
        assert flags == 0x1 | 0x2 | 0x4 | 0x8 | 0x1000 | 0x20000 | 0x800000
        assert data[32:76] == bytes(44)                                        # dwReserved1[11]
        assert struct.unpack_from("<2I", data, 76) == (32, 0x4)                # ddspf.dwSize, DDPF_FOURCC
        assert data[84:88] == b"DX10" and data[88:108] == bytes(20)
        caps, caps2, caps3, caps4, reserved2 = struct.unpack_from("<5I", data, 108)
        assert (caps, caps2, caps3, caps4, reserved2) == (0x1000, 0x200000, 0, 0, 0)   # TEXTURE; VOLUME
        dxgi, dim, misc, array, misc2 = struct.unpack_from("<5I", data, 128)
        assert (dxgi, dim, misc, array, misc2) == (fmt, 4, 0, 1, 4)             # TEXTURE3D, alpha custom
        body = np.frombuffer(data, dtype="u1" if item == 1 else "<f2", offset=148).reshape(rz, ry, rx, 4)
        f = g.features
        assert body[..., :f].tobytes() == g.values.tobytes()
        assert not body[..., f:].view("u1" if item == 1 else "<u2").any()


# ---------------------------------------------------------------------------------------------- bad files


def _rehash(bundle: Path, name: str) -> None:
    """Update the manifest's record of ``name`` (a consistent but wrong bundle)."""
    path = bundle / "manifest.json"
    m = json.loads(path.read_text())
    m["files"][name] = file_record(bundle / name)
    path.write_bytes(dump_manifest(m))


@pytest.fixture()
def bundle(tmp_path: Path) -> Path:
    out = tmp_path / "v.ngasset"
    write_neural_volume(two_brick_asset(), out)
    return out


def test_missing_file_names_it(bundle: Path) -> None:
    (bundle / "bricks/brick001/grid01.dds").unlink()
    with pytest.raises(AssetError, match="missing") as e:
        load_neural_volume(bundle)
    assert e.value.path == bundle / "bricks/brick001/grid01.dds"


@pytest.mark.parametrize("name", ["bricks/brick000/grid00.dds", "bricks/brick001/decoder.npz"])
def test_corrupt_file_names_it(bundle: Path, name: str) -> None:
    data = bytearray((bundle / name).read_bytes())
    data[-3] ^= 0x40
    (bundle / name).write_bytes(bytes(data))
    with pytest.raises(AssetError, match="sha256 mismatch") as e:
        load_neural_volume(bundle)
    assert e.value.path == bundle / name
    (bundle / name).write_bytes(bytes(data[:-5]))
    with pytest.raises(AssetError, match="truncated") as e:
        load_neural_volume(bundle)
    assert e.value.path == bundle / name


def test_inconsistent_dds_names_it(bundle: Path) -> None:
    name = "bricks/brick000/grid00.dds"
    g = two_brick_asset().bricks[0].grids[0]
    flat = TextureData.from_levels([g.texels()[0]], "R8G8B8A8_UNORM")          # a 2D texture, not a volume
    write_dds(bundle / name, flat)
    _rehash(bundle, name)
    with pytest.raises(AssetError, match="2d") as e:
        load_neural_volume(bundle)
    assert e.value.path == bundle / name
    texels = g.texels()
    texels[1, 2, 3, 3] = 9                                                       # a stray unused component
    write_dds(bundle / name, TextureData.from_levels([texels], "R8G8B8A8_UNORM", dimension="3d"))
    _rehash(bundle, name)
    with pytest.raises(AssetError, match="components 3..3 must be 0") as e:
        load_neural_volume(bundle)
    assert e.value.path == bundle / name
    write_dds(bundle / name, TextureData.from_levels([texels[:, :, :4]], "R8G8B8A8_UNORM", dimension="3d"))
    _rehash(bundle, name)
    with pytest.raises(AssetError, match="shape mismatch") as e:
        load_neural_volume(bundle)
    assert e.value.path == bundle / name


def test_bad_decoder_npz_names_it(bundle: Path) -> None:
    name = "bricks/brick001/decoder.npz"
    arrays = two_brick_asset().bricks[1].decoder.arrays()
    del arrays["layer1.bias"]
    write_npz(bundle / name, arrays)
    _rehash(bundle, name)
    with pytest.raises(AssetError, match="missing array 'layer1.bias'") as e:
        load_neural_volume(bundle)
    assert e.value.path == bundle / name


def test_bad_manifest_names_it(bundle: Path) -> None:
    path = bundle / "manifest.json"
    good = json.loads(path.read_text())
    m = json.loads(path.read_text())
    m["bricks"][0]["grids"][1]["storage"] = "bfloat16"
    path.write_bytes(dump_manifest(m))
    with pytest.raises(AssetError, match="schema violation") as e:
        load_neural_volume(bundle)
    assert e.value.path == path
    m = json.loads(json.dumps(good))
    m["files"]["bricks/../x.dds"] = m["files"]["bricks/brick000/grid00.dds"]   # the schema allows it here
    path.write_bytes(dump_manifest(m))
    with pytest.raises(AssetError, match="not a plain name") as e:
        load_neural_volume(bundle)
    assert e.value.path == path
    m = json.loads(json.dumps(good))
    m["bricks"][1]["to_local"]["offset"][0] = -0.5
    path.write_bytes(dump_manifest(m))
    with pytest.raises(AssetError, match="to_local"):
        load_neural_volume(bundle)
    assert sha256_file(bundle / "bricks/brick000/grid00.dds") == good["files"]["bricks/brick000/grid00.dds"]["sha256"]


# ---------------------------------------------------------------------------------------------- validation


def _brick(**kw) -> VolumeBrick:
    rng = np.random.default_rng(0)
    args = {"name": "brick000", "core": (0, 4, 0, 4, 0, 4), "fit": (0, 4, 0, 4, 0, 4),
            "grids": [_grid(rng, "grid00", "unorm8", (2, 3, 4), 2)], "decoder": _decoder(rng, [2, 4, 1])}
    args.update(kw)
    return VolumeBrick(**args)


@pytest.mark.parametrize(("make", "message"), [
    (lambda: VolumeGrid("g", np.eye(3), "unorm8", np.zeros((2, 2, 2, 1), np.uint8)), "transform must be 3 x 4"),
    (lambda: VolumeGrid("g", np.zeros((3, 4)), "unorm8", np.zeros((2, 2, 2, 1), np.float16)), "must be uint8"),
    (lambda: VolumeGrid("g", np.zeros((3, 4)), "unorm8", np.zeros((2, 2, 2, 5), np.uint8)), "5 features"),
    (lambda: VolumeGrid("g", np.zeros((3, 4)), "unorm8", np.zeros((2, 1, 2, 1), np.uint8)), "at least 2 nodes"),
    (lambda: VolumeGrid("g", np.zeros((3, 4)), "bc7", np.zeros((2, 2, 2, 1), np.uint8)), "storage 'bc7'"),
    (lambda: VolumeGrid("g", np.zeros((3, 4)), "float16", np.zeros((2, 2, 2, 1), np.float16), scale=2.0),
     "scale 1, offset 0"),
    (lambda: VolumeGrid("g/x", np.zeros((3, 4)), "unorm8", np.zeros((2, 2, 2, 1), np.uint8)), "grid name"),
    (lambda: _brick(fit=(0, 3, 0, 4, 0, 4)), "does not contain the core"),
    (lambda: _brick(decoder=_decoder(np.random.default_rng(0), [3, 4, 1])), "decoder takes 3 inputs"),
    (lambda: _brick(decoder=_decoder(np.random.default_rng(0), [2, 2])), "gives 2 outputs"),
    (lambda: _brick(decoder=Decoder([DecoderLayer(np.ones((4, 2)), np.zeros(4), "tanh"),
                                     DecoderLayer(np.ones((1, 4)), np.zeros(1), "none")])), "only relu"),
    (lambda: _brick(core=(0, 4, 0, 4, 4, 2)), "empty or negative"),
    (lambda: NeuralVolumeAsset("v", (4, 4, 4), Normalization(0, 1, "uint8"),
                               [_brick(), _brick(name="b2")], Provenance("t")), "overlap"),
    (lambda: NeuralVolumeAsset("v", (4, 4, 5), Normalization(0, 1, "uint8"), [_brick()], Provenance("t")),
     "must tile"),
    (lambda: NeuralVolumeAsset("v", (4, 4, 3), Normalization(0, 1, "uint8"), [_brick()], Provenance("t")),
     "exceeds the volume"),
    (lambda: NeuralVolumeAsset("v", (4, 4, 4), Normalization(0, 1, "uint8"), [_brick()], Provenance("t"),
                               decode_mode="hardware"), "decode mode"),
    (lambda: Normalization(2.0, 1.0, "uint8"), "below vmin"),
    (lambda: Normalization(0.0, 1.0, "object"), "not numeric"),
])
def test_validation_errors(make, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_normalization_coerced_and_ratio() -> None:
    class Other:            # e.g. ngsdk.volumes.ingest.Normalization
        vmin, vmax, source_dtype = 1.0, 3.0, "int16"

    a = NeuralVolumeAsset("v", (4, 4, 4), Other(), [_brick()], Provenance("t"))
    assert a.normalization == Normalization(1.0, 3.0, "int16")
    grid_bytes = 2 * 3 * 4 * 4          # four components per texel on disk
    dec_bytes = (4 * 2 + 4 + 1 * 4 + 1) * 4
    assert a.stored_bytes() == grid_bytes + dec_bytes
    assert a.compression_ratio() == 64 * 2 / (grid_bytes + dec_bytes)


def test_decode_spec_volume_vectors_are_current() -> None:
    from tools.decode_vectors import DOC, VBEGIN, VEND, volume_block

    text = DOC.read_text(encoding="utf-8")
    assert text[text.index(VBEGIN):text.index(VEND) + len(VEND)] == volume_block(), \
        "run python tools/decode_vectors.py --write-docs"

"""The reference volume renderer: geometry, compositing, sampling, comparison images and the CLI helpers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from click.testing import CliRunner

from ngsdk.cli import render as render_cli
from ngsdk.runtime_ref import colormaps
from ngsdk.runtime_ref.volume_render import (
    TransferFunction,
    compare,
    difference_image,
    difference_stats,
    png_bytes,
    raw_field,
    render,
    volume_extent,
)

OPAQUE = TransferFunction(((0.0, 0.0), (0.5, 1.0)))


def _voxel_coords(shape: tuple[int, int, int]) -> np.ndarray:
    """Volume coordinates (x, y, z) of every voxel, z-major, float32 (N, 3)."""
    d, h, w = shape
    z, y, x = np.meshgrid(*(np.linspace(-1, 1, n, dtype=np.float32) for n in (d, h, w)), indexing="ij")
    return np.stack([x, y, z], axis=-1).reshape(-1, 3)


def _sphere(radius: float, centre=(0.0, 0.0, 0.0)):
    c = np.asarray(centre, dtype=np.float32)
    return lambda p: (np.linalg.norm(p - c, axis=1) < radius).astype(np.float32)


def _blob(p: np.ndarray) -> np.ndarray:
    return np.exp(-4.0 * np.sum((p - np.float32([0.1, -0.2, 0.15])) ** 2, axis=1)).astype(np.float32)


def _lit(image: np.ndarray, background=(0, 0, 0)) -> np.ndarray:
    return np.any(image != np.asarray(background, dtype=np.uint8), axis=2)


@pytest.fixture(scope="module")
def iron_prot(shared_data) -> np.ndarray:
    v = np.load(shared_data / "volumes" / "ironProt_zyx_68x68x68_uint8.npy", allow_pickle=False)
    v = v.astype(np.float32)
    return (v - v.min()) / (v.max() - v.min())


# --- rendering -----------------------------------------------------------------------------------------


def test_empty_field_renders_background():
    bg = (12, 34, 56)
    img = render(lambda p: np.zeros(len(p), np.float32), (16, 16, 16), size=(40, 30), spp=32, background=bg)
    assert img.shape == (30, 40, 3) and img.dtype == np.uint8
    assert np.all(img == np.uint8(bg))


@pytest.mark.parametrize("azimuth, elevation", [(45, 30), (0, 0), (200, -70), (10, 90)])
def test_sphere_renders_disc_of_the_right_radius(azimuth, elevation):
    size, radius = 128, 0.6
    img = render(_sphere(radius), (32, 32, 32), azimuth=azimuth, elevation=elevation, size=size, spp=256,
                 transfer=OPAQUE)
    lit = _lit(img)
    # orthographic view framing the box's bounding sphere (radius sqrt(3) for a cube) over the image
    expected_px = radius / math.sqrt(3) * size / 2
    assert lit.sum() == pytest.approx(math.pi * expected_px ** 2, rel=0.005)
    rows, cols = np.nonzero(lit)
    assert rows.mean() == pytest.approx(size / 2 - 0.5, abs=0.5)
    assert cols.mean() == pytest.approx(size / 2 - 0.5, abs=0.5)
    # opaque emission of value 1 is the colour map's top colour
    centre = img[size // 2, size // 2].astype(int)
    assert np.abs(centre - colormaps.lut("viridis", 2)[1]).max() <= 1


def test_box_aspect_follows_voxel_counts_and_spacing():
    # W=65, H=33, D=17 voxels: x, y, z half sizes 1, 0.5, 0.25
    shape = (17, 33, 65)
    assert np.allclose(volume_extent(shape), [1.0, 0.5, 0.25])
    assert np.allclose(volume_extent(shape, spacing=(1, 2, 4)), [1.0, 1.0, 1.0])
    full = lambda p: np.ones(len(p), np.float32)  # noqa: E731
    pixel = 2 * math.sqrt(1 + 0.25 + 0.0625) / 200
    for azimuth, width in ((0, 2 * 0.5), (90, 2 * 1.0)):   # looking along -x sees y x z, along -y sees x x z
        lit = _lit(render(full, shape, azimuth=azimuth, elevation=0, size=200, spp=64, transfer=OPAQUE))
        rows, cols = np.nonzero(lit)
        assert cols.max() - cols.min() + 1 == pytest.approx(width / pixel, abs=1.5)
        assert rows.max() - rows.min() + 1 == pytest.approx(2 * 0.25 / pixel, abs=1.5)


def test_up_is_plus_z_and_right_turns_with_azimuth():
    top = _sphere(0.3, (0.0, 0.0, 0.6))
    img = render(top, (32, 32, 32), azimuth=0, elevation=0, size=64, spp=128, transfer=OPAQUE)
    rows, _ = np.nonzero(_lit(img))
    assert rows.mean() < 32   # +z shows in the upper half
    plus_y = _sphere(0.3, (0.0, 0.6, 0.0))
    _, cols0 = np.nonzero(_lit(render(plus_y, (32, 32, 32), azimuth=0, elevation=0, size=64, spp=128,
                                      transfer=OPAQUE)))
    assert cols0.mean() > 32  # at azimuth 0 (camera on +x) +y is on the right


def test_azimuth_0_and_180_are_mirror_images():
    # two blobs at different depths that do not overlap when seen along x: compositing order cannot matter
    def field(p):
        return np.maximum(_sphere(0.25, (0.4, 0.5, 0.2))(p), 0.7 * _sphere(0.3, (-0.3, -0.2, -0.4))(p))

    kw = dict(elevation=0, size=(48, 40), spp=96, transfer="0:0,1:0.3")
    front = render(field, (20, 24, 28), azimuth=0, **kw)
    back = render(field, (20, 24, 28), azimuth=180, **kw)
    assert np.abs(front.astype(int) - back.astype(int)).max() > 50   # asymmetric: not the same picture
    assert np.abs(front[:, ::-1].astype(int) - back.astype(int)).max() <= 1


def test_opacity_correction_makes_spp_nearly_irrelevant():
    images = [render(_blob, (32, 32, 32), size=64, spp=spp, transfer="0:0,1:0.2") for spp in (48, 256, 1024)]
    assert _lit(images[1]).mean() > 0.3
    for img in (images[0], images[2]):
        diff = np.abs(img.astype(int) - images[1].astype(int))
        assert diff.max() <= 2 and diff.mean() < 0.1   # uncorrected: max 66, mean 7


def test_early_termination_keeps_opaque_front():
    # an opaque slab in front hides a bright blob behind it completely
    def field(p):
        slab = ((p[:, 0] > 0.3) & (p[:, 0] < 0.5)).astype(np.float32) * 0.6
        return np.maximum(slab, _sphere(0.3, (-0.5, 0.0, 0.0))(p))

    calls = []

    def counting(p):
        calls.append(len(p))
        return field(p)

    transfer = TransferFunction(((0.0, 0.0), (0.5, 1.0)))
    img = render(counting, (32, 32, 32), azimuth=0, elevation=0, size=32, spp=128, transfer=transfer)
    slab_only = render(lambda p: ((p[:, 0] > 0.3) & (p[:, 0] < 0.5)).astype(np.float32) * 0.6, (32, 32, 32),
                       azimuth=0, elevation=0, size=32, spp=128, transfer=transfer)
    assert np.array_equal(img, slab_only)
    assert sum(calls) < 0.5 * 32 * 32 * 128   # rays stopped inside the slab, not at the far side


def test_chunked_evaluation_is_bounded_and_does_not_change_the_picture():
    sizes = []

    def field(p):
        sizes.append(len(p))
        return _blob(p)

    small = render(field, (32, 32, 32), size=48, spp=64, chunk=1000)
    assert max(sizes) <= 1000
    large = render(_blob, (32, 32, 32), size=48, spp=64)
    assert np.abs(small.astype(int) - large.astype(int)).max() <= 1
    assert np.array_equal(large, render(_blob, (32, 32, 32), size=48, spp=64))   # deterministic


def test_progress_reports_until_done():
    seen = []
    render(_blob, (16, 16, 16), size=24, spp=40, chunk=500, progress=lambda done, total: seen.append((done, total)))
    assert len(seen) > 1
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert seen[-1][0] == seen[-1][1] and 0 < seen[-1][1] <= 40


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="every axis >= 2"):
        render(_blob, (1, 8, 8), size=8, spp=8)
    with pytest.raises(ValueError, match="unknown colour map"):
        render(_blob, (8, 8, 8), size=8, spp=8, colormap="jet")
    with pytest.raises(ValueError, match="values for"):
        render(lambda p: np.zeros(3, np.float32), (8, 8, 8), size=8, spp=8)


def test_real_volume_renders_structure(iron_prot):
    img = render(raw_field(iron_prot), iron_prot.shape, size=(64, 48), spp=96)
    assert img.shape == (48, 64, 3)
    lit = _lit(img)
    assert 0.05 < lit.mean() < 0.8                      # the protein's lobes, not an empty or full frame
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 100
    other = render(raw_field(iron_prot), iron_prot.shape, size=(64, 48), spp=96, azimuth=120, colormap="magma")
    assert np.abs(other.astype(int) - img.astype(int)).mean() > 5


# --- raw field -----------------------------------------------------------------------------------------


def test_raw_field_hits_voxel_values_at_voxel_positions(iron_prot):
    sub = iron_prot[10:30, 5:40, 20:45]
    got = raw_field(sub)(_voxel_coords(sub.shape))
    assert np.abs(got - sub.ravel()).max() < 1e-4


def test_raw_field_is_trilinear_between_voxels():
    # trilinear interpolation reproduces any function spanned by 1, x, y, z, xy, yz, xz, xyz exactly
    shape = (5, 7, 9)
    def f(x, y, z):
        return 0.3 + 0.2 * x - 0.1 * y + 0.05 * z + 0.4 * x * y - 0.3 * y * z + 0.2 * x * z + 0.5 * x * y * z
    p = _voxel_coords(shape)
    values = f(p[:, 0], p[:, 1], p[:, 2]).reshape(shape)
    q = np.random.default_rng(7).uniform(-1, 1, (2000, 3)).astype(np.float32)
    assert np.abs(raw_field(values)(q) - f(q[:, 0], q[:, 1], q[:, 2])).max() < 1e-5
    # half way between two neighbours on x: their mean
    vol = np.zeros((2, 2, 3), np.float32)
    vol[0, 0] = [0.0, 1.0, 0.25]
    mid = raw_field(vol)(np.float32([[-0.5, -1, -1], [0.5, -1, -1]]))
    assert np.allclose(mid, [0.5, 0.625])
    # outside the box: the nearest edge value
    assert np.allclose(raw_field(vol)(np.float32([[-3, -1, -1], [5, -1, -1]])), [0.0, 0.25])


# --- transfer functions and colour maps ----------------------------------------------------------------


def test_transfer_function_parse_and_ramp():
    tf = TransferFunction.parse("0:0, 0.3:0.05,1:0.8")
    assert tf.points == ((0.0, 0.0), (0.3, 0.05), (1.0, 0.8))
    assert np.allclose(tf.opacity(np.float32([0, 0.15, 0.3, 0.65, 1, 2])), [0, 0.025, 0.05, 0.425, 0.8, 0.8])
    assert str(tf) == "0:0,0.3:0.05,1:0.8"
    assert TransferFunction.parse(str(TransferFunction())) == TransferFunction()
    for bad in ("0:0,1", "a:b", "0:0,1:1.5", "0.5:0,0.2:1", "", "0:nan"):
        with pytest.raises(ValueError):
            TransferFunction.parse(bad)


def test_colormaps_hit_their_anchors_and_interpolate_linearly():
    assert set(colormaps.NAMES) == {"viridis", "magma", "inferno", "plasma", "gray", "coolwarm"}
    assert colormaps.lut("viridis", 10)[[0, 9]].tolist() == [[68, 1, 84], [253, 231, 37]]
    assert colormaps.lut("magma", 10)[4].tolist() == [159, 47, 127]
    assert colormaps.lut("gray", 256)[:, 0].tolist() == list(range(256))
    cw = colormaps.lut("coolwarm", 3).tolist()
    assert cw[0] == [59, 76, 192] and cw[2] == [180, 4, 38] and cw[1] == [221, 221, 221]
    t = colormaps.anchors("plasma")
    mid = colormaps.apply("plasma", np.float32([(2 + 0.25) / 9]))[0]
    assert np.allclose(mid, 0.75 * t[2] + 0.25 * t[3], atol=1e-6)
    for name in colormaps.NAMES:
        c = colormaps.apply(name, np.linspace(-0.5, 1.5, 50, dtype=np.float32))
        assert c.shape == (50, 3) and c.min() >= 0 and c.max() <= 1
    # viridis gets lighter monotonically (luma of the anchors)
    luma = colormaps.anchors("viridis") @ np.float32([0.2126, 0.7152, 0.0722])
    assert np.all(np.diff(luma) > 0)


# --- comparison images ---------------------------------------------------------------------------------


def test_compare_layout_and_identical_inputs_give_black_difference():
    a = render(_blob, (16, 16, 16), size=(50, 40), spp=32)
    out = compare([a, a.copy()], ["network", "data"], gap=4)
    assert out.dtype == np.uint8 and out.shape[1] == 3 * 50 + 2 * 4 and out.shape[0] > 40
    panels = out[-40:]
    assert np.array_equal(panels[:, :50], a) and np.array_equal(panels[:, 54:104], a)
    assert np.all(panels[:, 108:] == 0)
    assert np.any(out[:-40, :50] > 200)   # label text drawn in the strip
    single = compare([a], ["only"])
    assert single.shape[1] == 50
    no_diff = compare([a, a], ["x", "y"], difference=False)
    assert no_diff.shape[1] == 2 * 50 + 4


def test_difference_image_amplifies_the_largest_channel_difference():
    a = np.zeros((4, 5, 3), np.uint8)
    b = a.copy()
    b[1, 2] = [3, 10, 1]
    b[3, 4] = [200, 0, 0]
    d = difference_image(a, b, amplify=4)
    assert d.shape == a.shape and np.all(d[..., 0] == d[..., 1])
    assert d[1, 2, 0] == 40 and d[3, 4, 0] == 255 and d.sum() == 3 * (40 + 255)
    worst, mean = difference_stats(a, b)
    assert worst == 200 and mean == pytest.approx(214 / a.size)
    with pytest.raises(ValueError, match="differ in size"):
        difference_image(a, b[:2])


def test_png_bytes_round_trip():
    from io import BytesIO

    from PIL import Image

    a = render(_blob, (16, 16, 16), size=(20, 12), spp=16)
    assert np.array_equal(np.asarray(Image.open(BytesIO(png_bytes(a)))), a)


# --- CLI helpers ---------------------------------------------------------------------------------------


def test_cli_side_by_side_of_network_and_data(iron_prot):
    # a stand-in "network": the data seen through a coarser grid, rendered beside the data itself
    coarse = iron_prot[::2, ::2, ::2]
    img = render_cli.side_by_side(raw_field(coarse), iron_prot, iron_prot.shape, ("network", "data"),
                                  size=40, spp=48)
    assert img.shape[1] == 3 * 40 + 2 * 4
    assert img[-40:, 88:].max() > 0                     # the two differ somewhere
    only = render_cli.side_by_side(raw_field(coarse), None, iron_prot.shape, ("network", ""), size=40, spp=48)
    assert only.shape == (40, 40, 3)
    with pytest.raises(ValueError, match="trained on"):
        render_cli.side_by_side(raw_field(coarse), coarse, iron_prot.shape, ("n", "d"), size=8, spp=8)


def test_cli_option_parsing(tmp_path):
    assert render_cli.parse_size("512") == (512, 512)
    assert render_cli.parse_size("640x480") == (640, 480)
    for bad in ("0", "12x", "axb", "99999"):
        with pytest.raises(ValueError):
            render_cli.parse_size(bad)
    data = tmp_path / "vol.npy"
    data.write_bytes(b"")
    bundle = tmp_path / "v.ngasset"
    assert render_cli.recorded_source(bundle, {"vol.npy": "0" * 64}) == (data, None)
    path, note = render_cli.recorded_source(bundle, {"missing.nc": "0" * 64})
    assert path is None and "missing.nc" in note
    assert render_cli.load_options({"steps": 5, "ingest": {"variable": "tos", "shape": [2, 3, 4]}}) == {
        "variable": "tos", "shape": (2, 3, 4)}
    assert render_cli.recorded_spacing({"spacing": [1, 2, 0.5]}) == (1.0, 2.0, 0.5)
    assert render_cli.recorded_spacing({"spacing": [1, -2, 0.5]}) == (1.0, 1.0, 1.0)
    bundle.mkdir()
    result = CliRunner().invoke(render_cli.command, [str(bundle), "--out", str(tmp_path / "x.png"),
                                                     "--transfer", "0:0,1"])
    assert result.exit_code == 2 and "--transfer" in result.output
    result = CliRunner().invoke(render_cli.command, [str(bundle), "--out", str(tmp_path / "x.png"),
                                                     "--size", "12x"])
    assert result.exit_code == 2 and "--size" in result.output

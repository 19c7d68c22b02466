"""The test vectors of docs/decode-spec.md: current, and their assets in both latent layouts and formats.

The vector assets (tools/decode_vectors.py ``tiny_asset``) are the fixed inputs every implementation is
checked on: the ``grids`` layout (one tap per grid, the 1.x layout) and the ``pyramid`` layout (format 2.0:
one grid read by two taps at consecutive levels, plus a LOD input). A 1.x bundle (``texture.grid_levels``)
must still load and decode to the same bytes as its 2.0 form.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ngsdk.runtime_ref import neural_texture_int as ni
from ngsdk.verify.catalog import neural_texture as NT
from tests.fixtures.decode_vectors import tiny_asset, vector_uvs, write_vector_bundle

REPO = Path(__file__).resolve().parents[2]


def test_decode_spec_vectors_are_current():
    res = subprocess.run([sys.executable, "tools/decode_vectors.py", "--check"], cwd=REPO,
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


def test_pyramid_asset_reads_two_levels_and_a_lod_input():
    a = tiny_asset("exact", "wrap", "pyramid")
    assert len(a.grids) == 1 and a.grids[0].array_size == 1
    assert a.taps == [[(0, 0), (0, 1)], [(0, 0), (0, 1)], [(0, 1), (0, 2)], [(0, 1), (0, 2)]]
    assert a.lod_inputs == [-127, 127, -127, 127]
    assert a.decoder.inputs == 8 + 8 + 4 + 1
    with pytest.raises(ValueError, match="pyramid"):
        tiny_asset("hardware", "wrap", "pyramid")


@pytest.mark.parametrize("address", ["wrap", "clamp"])
def test_pyramid_mips_on_the_same_levels_differ_by_their_lod_input(address):
    from ngsdk.runtime_ref.neural_texture_exact import decode_uv

    a = tiny_asset("exact", address, "pyramid")
    uv = vector_uvs()
    m0, m1 = decode_uv(a, uv, 0), decode_uv(a, uv, 1)
    assert not np.array_equal(m0, m1)
    a.lod_inputs = [127, 127, 127, 127]  # same LOD input: mips 0 and 1 are the same function
    assert np.array_equal(decode_uv(a, uv, 0), m1)


def test_param_blob_carries_taps_and_lod_inputs():
    a = tiny_asset("exact", "clamp", "pyramid")
    b = ni.param_blob(a)
    assert b[0] == 0x3244544E and b[0].tobytes() == b"NTD2"
    grids, terms, layers, address, outputs, mode, taps, lod, mips, w, h = b[1:12]
    assert (grids, terms, layers, address, outputs, mode, taps, lod, mips, w, h) == (1, 2, 3, 1, 3, 0, 2, 1, 4, 9, 7)
    at_taps, at_mips, at_terms, at_layers = b[12:16]
    assert b[16:24].tolist() == [8, 4, 1, 5, 4, 3, 0, 0] and at_taps == 24
    assert b[at_taps:at_mips].tolist() == [0, 0]
    assert b[at_mips:at_terms].reshape(4, 3).tolist() == [[0, 1, -127], [0, 1, 127], [1, 2, -127], [1, 2, 127]]
    assert b[at_terms:at_layers].tolist() == [2, 0, 2, 256]
    assert b[at_layers:at_layers + 3].tolist()[:2] == [21, 8]
    g = ni.param_blob(tiny_asset("hardware", "wrap"))
    assert g[6] == 1 and g[7] == 2 and g[8] == 0
    assert g[g[13]:g[14]].reshape(4, 3).tolist() == [[0, 0, 0], [1, 1, 0], [2, 1, 0], [2, 1, 0]]


def test_pyramid_bundle_round_trip(tmp_path):
    from ngsdk.runtime_ref.neural_texture import load_neural_texture
    from ngsdk.runtime_ref.neural_texture_modes import decode_mip

    a = tiny_asset("exact", "wrap", "pyramid")
    b = write_vector_bundle(a, tmp_path / "p.ngasset")
    m = json.loads((b / "manifest.json").read_text())
    assert m["format_version"] == "2.0" and "grid_levels" not in m["texture"]
    assert m["texture"]["mip_inputs"][1] == {"lod": 127, "taps": [[0, 0], [0, 1]]}
    assert m["decoder"]["quantized"]["latent_shift"] == [13, 13]
    back = load_neural_texture(b)
    assert back.taps == a.taps and back.lod_inputs == a.lod_inputs
    for mip in range(a.mip_levels):
        assert np.array_equal(decode_mip(back, mip), decode_mip(a, mip))
    with pytest.raises(ValueError, match="one tap per grid"):
        write_vector_bundle(a, tmp_path / "p1.ngasset", format_1x=True)


@pytest.mark.parametrize("mode", ["exact", "hardware"])
def test_format_1x_bundle_loads_and_decodes_like_its_2x_form(tmp_path, mode):
    from click.testing import CliRunner

    from ngsdk.cli import main
    from ngsdk.runtime_ref.neural_texture import load_neural_texture
    from ngsdk.runtime_ref.neural_texture_modes import decode_mip

    new = load_neural_texture(write_vector_bundle(tiny_asset(mode, "clamp"), tmp_path / "v2.ngasset"))
    b1 = write_vector_bundle(tiny_asset(mode, "clamp"), tmp_path / "v1.ngasset", format_1x=True)
    m = json.loads((b1 / "manifest.json").read_text())
    assert m["format_version"] == "1.1" and m["texture"]["grid_levels"] == [[0, 0], [1, 1], [2, 1], [2, 1]]
    assert m["decoder"]["input_order"][0] == "grid0[0]"
    old = load_neural_texture(b1)
    assert old.taps == new.taps and old.lod_inputs is None
    assert np.array_equal(ni.param_blob(old), ni.param_blob(new))
    for mip in range(old.mip_levels):
        assert np.array_equal(decode_mip(old, mip), decode_mip(new, mip))
    res = CliRunner().invoke(main, ["verify", str(b1), "--json", str(tmp_path / "r.json")])
    assert res.exit_code == 0, res.output
    checks = {c["code"]: c for c in json.loads((tmp_path / "r.json").read_text())["checks"]}
    assert checks[NT.DECODE_CONSISTENCY.code]["status"] == "pass"


def test_unknown_major_versions_are_refused(tmp_path):
    from ngsdk.asset.errors import AssetError
    from ngsdk.asset.manifest import dump_manifest
    from ngsdk.runtime_ref.neural_texture import load_neural_texture

    b = write_vector_bundle(tiny_asset("exact", "wrap", "pyramid"), tmp_path / "p.ngasset")
    m = json.loads((b / "manifest.json").read_text())
    m["format_version"] = "3.0"
    (b / "manifest.json").write_bytes(dump_manifest(m))
    with pytest.raises(AssetError, match="unknown format version 3.0 .*1.x and 2.x neural_texture.*upgrade ngsdk"):
        load_neural_texture(b)

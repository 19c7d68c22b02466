"""The torch- and Ray-free parts of ``ngsdk batch``: library discovery, the up-to-date key, records and leftovers,
the report page, the shipped config schemas."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ngsdk.asset.errors import AssetError
from ngsdk.batch import records
from ngsdk.batch.library import Item, file_digests, find_materials, find_volumes, item_key
from ngsdk.batch.pool import Resources
from ngsdk.batch.report import rd_plot_svg, write_report


def _touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_materials_are_folders_with_images_or_a_channel_file(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    _touch(lib / "rocks" / "rock01" / "albedo.png")
    _touch(lib / "rocks" / "rock01" / "notes.txt")  # not a source: a change here does not retrain
    _touch(lib / "rocks" / "rock02" / "channels.json", b"{}")
    _touch(lib / "metal" / "Metal_Color.jpg")
    _touch(lib / "metal" / "map.exr")  # ingest refuses it: it is part of the material, which then fails
    _touch(lib / ".hidden" / "albedo.png")
    _touch(lib / "out" / "metal.ngasset" / "x.png")
    _touch(lib / "empty" / "readme.md")
    items = find_materials(lib, skip=lib / "out")
    assert [(i.name, i.files) for i in items] == [
        ("metal", ("Metal_Color.jpg", "map.exr")),
        ("rocks/rock01", ("albedo.png",)),
        ("rocks/rock02", ("channels.json",)),
    ]
    single = find_materials(lib / "metal")
    assert [i.name for i in single] == ["metal"]


def test_library_errors_name_the_folder(tmp_path: Path) -> None:
    with pytest.raises(AssetError, match="library folder does not exist"):
        find_materials(tmp_path / "nope")
    _touch(tmp_path / "lib" / "readme.md")
    with pytest.raises(AssetError, match=r"lib: no material folders found"):
        find_materials(tmp_path / "lib")
    with pytest.raises(AssetError, match=r"lib: no volume files found"):
        find_volumes(tmp_path / "lib")


def test_volumes_are_files(tmp_path: Path) -> None:
    _touch(tmp_path / "v" / "a.npy")
    _touch(tmp_path / "v" / "sub" / "b.vti")
    _touch(tmp_path / "v" / "c.txt")
    assert [i.name for i in find_volumes(tmp_path / "v")] == ["a", "sub/b"]
    assert find_volumes(tmp_path / "v" / "a.npy") == [Item("a", tmp_path / "v" / "a.npy", ("a.npy",))]


def test_key_follows_sources_config_and_version(tmp_path: Path) -> None:
    f = _touch(tmp_path / "m" / "albedo.png", b"one")
    (item,) = find_materials(tmp_path / "m")
    d = file_digests(item)
    key = item_key(d, {"bpp": 5})
    assert key == item_key(file_digests(item), {"bpp": 5})
    assert key != item_key(d, {"bpp": 6}) and key != item_key(d, {"bpp": 5}, version="9.9")
    f.write_bytes(b"two!")  # a new size: read again
    assert item_key(file_digests(item, d), {"bpp": 5}) != key
    # the cache is trusted only for the same size and mtime
    stale = {"albedo.png": {**file_digests(item)["albedo.png"], "sha256": "0" * 64}}
    assert file_digests(item, stale)["albedo.png"]["sha256"] == "0" * 64
    stale["albedo.png"]["mtime_ns"] += 1
    assert file_digests(item, stale)["albedo.png"]["sha256"] != "0" * 64


def test_records_up_to_date_and_leftovers(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _touch(out / "a.ngasset" / "manifest.json", b"{}")
    records.write_record(out, "a", {"status": "ok", "key": "k"})
    rec = records.read_record(out, "a")
    assert records.up_to_date(out, "a", rec, "k") and not records.up_to_date(out, "a", rec, "other")
    assert not records.up_to_date(out, "b", None, "k")
    records.write_record(out, "f", {"status": "failed", "key": "k"})
    assert not records.up_to_date(out, "f", records.read_record(out, "f"), "k")
    _touch(out / "c.batch.json", b"{not json")
    assert records.read_record(out, "c") is None
    left = [_touch(out / ".a.ngasset.x1y2.tmp" / "grid.dds"), _touch(out / "sub" / ".b.batch.json.abc123.tmp"),
            _touch(out / ".a.ngasset.old-123" / "manifest.json")]
    kept = [_touch(out / ".batch.log.99.tmp"), _touch(out / ".unrelated")]
    with records.batch_lock(out):
        with pytest.raises(AssetError, match="another batch is writing"), records.batch_lock(out):
            pass
        gone = records.remove_leftovers(out)
    assert sorted(gone) == sorted(p.parent if p.name != ".b.batch.json.abc123.tmp" else p for p in left)
    assert all(p.exists() for p in kept)


def test_resources_slots_and_checks() -> None:
    cluster = {"CPU": 16.0, "GPU": 2.0}
    assert Resources(cpus=1, gpus=0).slots(cluster) == 16
    assert Resources(cpus=1, gpus=0.5).slots(cluster) == 4
    assert Resources(cpus=4, gpus=1).slots(cluster) == 2
    with pytest.raises(ValueError, match="the Ray cluster has 0 GPUs"):
        Resources(gpus=1).check({"CPU": 2.0})
    with pytest.raises(ValueError, match="--cpus-per-task 4"):
        Resources(cpus=4).check({"CPU": 2.0})


def test_report_from_records(tmp_path: Path) -> None:
    out = tmp_path / "out"
    items = [Item("ok1", tmp_path / "ok1", ("a.png",)), Item("bad", tmp_path / "bad", ("a.png",)),
             Item("new", tmp_path / "new", ("a.png",))]
    _touch(out / "ok1.ngasset" / "manifest.json", b"{}")
    _touch(out / "ok1.error.png", b"\x89PNG\r\n\x1a\nfake")
    row = {"channels": ["albedo.r", "albedo.g", "albedo.b"], "width": 8, "height": 8, "bpp": 5.2, "psnr_db": 31.5,
           "textures_db": {"albedo": 31.5}, "bcn": {"layout": "BC7 albedo", "bpp": 8.0, "psnr_db": 40.0,
                                                     "textures_db": {"albedo": 40.0}},
           "worst_texture": "albedo", "steps": 10, "train_seconds": 1.5, "device": "cpu on host"}
    records.write_record(out, "ok1", {"status": "ok", "key": "k", "row": row})
    records.write_record(out, "bad", {"status": "failed", "key": "k", "error": "bad/a.png: <broken> & worse"})
    path = write_report(out, "texture", tmp_path, items)
    doc = json.loads(path.read_text())
    assert doc["counts"] == {"ok": 1, "failed": 1, "missing": 1}
    assert [r["status"] for r in doc["items"]] == ["ok", "failed", "missing"]
    assert doc["items"][0]["bundle"] == "ok1.ngasset" and doc["items"][0]["thumbnail"] == "ok1.error.png"
    html = (out / "report.html").read_text()
    assert "bad/a.png: &lt;broken&gt; &amp; worse" in html and "<svg" in html and "BC7 albedo" in html
    assert rd_plot_svg([{"status": "failed", "name": "x"}], "bpp") == ""


def test_shipped_batch_schemas_are_current() -> None:
    from ngsdk.cli import batch
    from ngsdk.cli.config_file import SCHEMA_DIR, config_schema

    for cmd, title in ((batch.texture, "batch-texture"), (batch.volume, "batch-volume")):
        shipped = json.loads((SCHEMA_DIR / f"{title}.config.schema.json").read_text())
        assert shipped == config_schema(cmd, title), "options changed: run python -m ngsdk.cli.batch"
        # the training options are train texture's / train volume's own
        assert {"steps", "seed", "device", "address", "max-parallel"} <= set(shipped["properties"])

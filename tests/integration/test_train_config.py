"""Issue 12 item 13: ``--config FILE`` (TOML, JSON, YAML) takes every train option, ``ngsdk inspect B --config``
replays a bundle's training, and the shipped JSON Schemas are the ones the commands generate."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from ngsdk.cli import main
from ngsdk.cli.config_file import SCHEMA_DIR, schema_text, schema_titles

BASE = {"bpp": 12, "hidden": 32, "steps": 2, "seed": 3, "device": "cpu", "batch-size": 4096, "no-previews": True}


def cli(*args: object):  # noqa: ANN201
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def files(bundle: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(bundle.iterdir()) if p.is_file()}


@pytest.mark.parametrize("title", schema_titles())
def test_shipped_schemas_match_the_commands(title: str) -> None:
    shipped = (SCHEMA_DIR / f"{title}.config.schema.json").read_text()
    assert shipped == schema_text(title), "options changed: run python -m ngsdk.cli.config_file"
    jsonschema.Draft202012Validator.check_schema(json.loads(shipped))


@pytest.mark.parametrize("suffix", [".toml", ".json", ".yaml"])
def test_config_file_formats(suffix: str, small_material: Path, tmp_path: Path) -> None:
    out = tmp_path / "c.ngasset"
    values = {**BASE, "source": str(small_material), "out": str(out), "loss-weight": {"albedo": 2}}
    cfg = tmp_path / f"train{suffix}"
    if suffix == ".toml":
        from ngsdk.cli.config_file import toml_lines

        cfg.write_text(toml_lines({k: v for k, v in values.items() if k != "loss-weight"}) +
                       "[loss-weight]\nalbedo = 2\n")
    elif suffix == ".json":
        cfg.write_text(json.dumps(values))
    else:
        import yaml

        cfg.write_text(yaml.safe_dump(values))
    res = cli("train", "texture", "--config", cfg)
    assert res.exit_code == 0, res.output
    recorded = json.loads((out / "manifest.json").read_text())["provenance"]["config"]
    assert recorded["steps"] == 2 and recorded["seed"] == 3 and recorded["loss_weights"] == {"albedo": 2.0}


def test_command_line_wins_over_the_file(small_material: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "t.json"
    cfg.write_text(json.dumps({**BASE, "seed": 3}))
    out = tmp_path / "w.ngasset"
    res = cli("train", "texture", small_material, "--out", out, "--config", cfg, "--seed", "5")
    assert res.exit_code == 0, res.output
    assert json.loads((out / "manifest.json").read_text())["provenance"]["seed"] == 5


def test_bad_config_files_are_one_line_errors(small_material: Path, tmp_path: Path) -> None:
    cases = {"a.toml": ('stepz = 3\n', "unknown option(s) stepz; valid: batch-size, bpp"),
             "b.toml": ('steps = "many"\n', "steps: 'many' is not of type 'integer'"),
             "c.toml": ('steps = \n', "cannot parse config file"),
             "d.ini": ("steps=1\n", "unknown config file type '.ini'")}
    for name, (text, why) in cases.items():
        (tmp_path / name).write_text(text)
        res = cli("train", "texture", small_material, "--out", tmp_path / "x.ngasset", "--config", tmp_path / name)
        assert res.exit_code == 2, name
        assert res.stderr.count("\n") == 1 and name in res.stderr and why in res.stderr, res.stderr


def test_inspect_config_replays_the_training_bit_for_bit(small_material: Path, tmp_path: Path) -> None:
    first = tmp_path / "a" / "g.ngasset"
    res = cli("train", "texture", small_material, "--out", first, "--bpp", "12", "--hidden", "32", "--steps", "3",
              "--seed", "7", "--device", "cpu", "--batch-size", "4096", "--no-tiling", "--loss-weight", "ao=3",
              "--no-previews")
    assert res.exit_code == 0, res.output
    cfg = tmp_path / "replay.toml"
    res = cli("inspect", first, "--config", cfg)
    assert res.exit_code == 0 and res.stdout.strip() == str(cfg)  # the path, for $(ngsdk inspect B --config F)
    text = cfg.read_text()
    assert "tiling = false" in text and 'loss-weight = ["ao=3"]' in text and "steps = 3" in text
    from ngsdk.cli.config_file import read_config_file

    schema = json.loads((SCHEMA_DIR / "train-texture.config.schema.json").read_text())
    jsonschema.validate(read_config_file(str(cfg)), schema)
    second = tmp_path / "b" / "g.ngasset"
    res = cli("train", "texture", small_material, "--out", second, "--config", cfg, "--no-previews")
    assert res.exit_code == 0, res.output
    assert files(second) == files(first)
    res = cli("inspect", first, "--config")  # no value: the TOML on stdout
    assert res.exit_code == 0 and res.stdout.startswith("# ngsdk train texture --config")

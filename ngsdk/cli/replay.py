"""The ``ngsdk train <usecase> --config`` file that replays the training run recorded in a bundle.

``ngsdk inspect B --config FILE`` writes it from ``provenance.config`` (the trainer's configuration): each
configuration field that a train option sets (the ``REPLAY`` table of the kind's train module, ngsdk.kinds)
becomes that option's key (docs/cli.md, "Replaying a bundle's training"). Fields no option sets (learning
rates, encoding, the planned grids) are left out and named in a note when they differ from the trainer's
defaults, since the replay cannot reproduce them.
"""

from __future__ import annotations

from typing import Any

import click

from ngsdk import kinds


def replay_config(manifest: dict[str, Any]) -> tuple[str, dict[str, Any], list[str]]:
    """(use case, config-file values, notes) replaying ``manifest``'s recorded training configuration."""
    kind = kinds.of(manifest)
    if kind.train is None:
        raise ValueError(f"no train command for {kind.title} bundles")
    train = kind.part("train")
    usecase, fields = train.command.name, train.REPLAY
    config = manifest["provenance"].get("config", {})
    values: dict[str, Any] = {}
    for field, (key, convert) in fields.items():
        if field in config and config[field] is not None:
            values[key] = config[field] if convert is None else convert(config[field])
    if values.get("loss-weight") == []:
        del values["loss-weight"]
    try:
        defaults = train.default_config()
    except Exception:  # noqa: BLE001 - a default we cannot build only costs the note
        defaults = {}
    changed = sorted(f for f, v in config.items() if f not in fields and f in defaults and defaults[f] != v
                     and f != "grids")
    notes = [f"recorded setting {f} = {config[f]!r} has no train option; the replay uses the default "
             f"{defaults[f]!r}" for f in changed]
    if config.get("time_budget") is not None:
        notes.append("the run was stopped by --time-budget, so the replay can differ in steps and bytes; "
                     "replays are byte-identical for --steps runs")
    _check_keys(train.command, values)
    return usecase, values, notes


def _check_keys(command: click.Command, values: dict[str, Any]) -> None:
    """Every key must be an option of ``ngsdk train <usecase>`` (guards the train modules' REPLAY tables)."""
    from ngsdk.cli.config_file import _params

    bad = sorted(set(values) - set(_params(command)))
    if bad:
        raise ValueError(f"replay of ngsdk train {command.name}: keys {bad} are not train options")

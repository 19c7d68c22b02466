"""The ``ngsdk train <usecase> --config`` file that replays the training run recorded in a bundle.

``ngsdk inspect B --config FILE`` writes it from ``provenance.config`` (the trainer's configuration): each
configuration field that a train option sets becomes that option's key (docs/cli.md, "Replaying a
bundle's training"). Fields no option sets (learning rates, encoding, the planned grids) are left out and
named in a note when they differ from the trainer's defaults, since the replay cannot reproduce them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

# kind -> (train use case, {config field: (option key, value converter)})
_SAME = None
_TEXTURE = {
    "bpp": ("bpp", _SAME), "steps": ("steps", _SAME), "time_budget": ("time-budget", _SAME),
    "seed": ("seed", _SAME), "device": ("device", _SAME), "latent_bits": ("latent-bits", str),
    "decode_mode": ("decode", _SAME), "qat_start": ("qat-start", _SAME), "hidden": ("hidden", _SAME),
    "batch_size": ("batch-size", _SAME), "address": ("tiling", lambda a: a == "wrap"),
    "loss_weights": ("loss-weight", lambda w: [f"{k}={v:g}" for k, v in w.items()]),
    "early_stop_patience": ("early-stop", _SAME),
}
_VOLUME = {
    "grids": ("grids", _SAME), "grid_res": ("grid-res", _SAME), "features": ("features", _SAME),
    "hidden": ("hidden", _SAME), "hidden_layers": ("layers", _SAME), "storage": ("storage", _SAME),
    "decode_mode": ("decode", _SAME), "steps": ("steps", _SAME), "time_budget": ("time-budget", _SAME),
    "batch_size": ("batch-size", _SAME), "lr": ("lr", _SAME), "jitter_fraction": ("jitter", _SAME),
    "early_stop_patience": ("early-stop", _SAME), "eval_every": ("eval-every", _SAME), "seed": ("seed", _SAME),
    "device": ("device", _SAME), "bricks": ("bricks", lambda b: "x".join(str(int(n)) for n in b)),
    "ghost": ("ghost", _SAME), "sampler": ("sampler", _SAME),
}
_SHADING = {
    "transform": ("transform", _SAME), "encoding": ("encoding", _SAME), "frequencies": ("frequencies", _SAME),
    "hidden": ("hidden", _SAME), "layers": ("layers", _SAME), "activation": ("activation", _SAME),
    "target_filter": ("filter", _SAME), "steps": ("steps", _SAME), "time_budget": ("time-budget", _SAME),
    "seed": ("seed", _SAME), "device": ("device", _SAME), "batch_size": ("batch-size", _SAME), "lr": ("lr", _SAME),
    "lr_schedule": ("lr-schedule", _SAME), "numerics": ("numerics", _SAME), "compile": ("compile", _SAME),
    "fused_adam": ("fused-adam", _SAME),
}
KINDS: dict[str, tuple[str, dict[str, tuple[str, Callable[[Any], Any] | None]]]] = {
    "neural_texture": ("texture", _TEXTURE), "neural_volume": ("volume", _VOLUME), "shading_mlp": ("shading", _SHADING),
}


def _defaults(kind: str) -> dict[str, Any]:
    """The trainer's default configuration (to tell which unreplayable fields were changed)."""
    try:
        if kind == "neural_texture":
            from ngsdk.textures.config import TextureTrainConfig

            return TextureTrainConfig().to_dict()
        if kind == "neural_volume":
            from ngsdk.volumes.config import VolumeTrainConfig

            return VolumeTrainConfig().to_dict()
    except Exception:  # noqa: BLE001 - a default we cannot build only costs the note
        return {}
    return {}


def replay_config(manifest: dict[str, Any]) -> tuple[str, dict[str, Any], list[str]]:
    """(use case, config-file values, notes) replaying ``manifest``'s recorded training configuration."""
    kind = manifest.get("kind")
    if kind not in KINDS:
        raise ValueError(f"no train command for asset kind {kind!r}")
    usecase, fields = KINDS[kind]
    config = manifest["provenance"].get("config", {})
    values: dict[str, Any] = {}
    for field, (key, convert) in fields.items():
        if field in config and config[field] is not None:
            values[key] = config[field] if convert is None else convert(config[field])
    if values.get("loss-weight") == []:
        del values["loss-weight"]
    defaults = _defaults(kind)
    changed = sorted(f for f, v in config.items() if f not in fields and f in defaults and defaults[f] != v
                     and f != "grids")
    notes = [f"recorded setting {f} = {config[f]!r} has no train option; the replay uses the default "
             f"{defaults[f]!r}" for f in changed]
    if config.get("time_budget") is not None:
        notes.append("the run was stopped by --time-budget, so the replay can differ in steps and bytes; "
                     "replays are byte-identical for --steps runs")
    _check_keys(usecase, values)
    return usecase, values, notes


def _check_keys(usecase: str, values: dict[str, Any]) -> None:
    """Every key must be an option of ``ngsdk train <usecase>`` (guards the tables above)."""
    import importlib

    from ngsdk.cli.config_file import _params

    module = {"texture": "train_texture", "volume": "train_volume", "shading": "train_shading"}[usecase]
    command: click.Command = importlib.import_module(f"ngsdk.cli.{module}").command
    bad = sorted(set(values) - set(_params(command)))
    if bad:
        raise ValueError(f"replay of ngsdk train {usecase}: keys {bad} are not train options")

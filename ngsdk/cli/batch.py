"""``ngsdk batch texture|volume``: train a whole library on Ray, resumable, with one library report.

The training options are ``ngsdk train texture`` / ``train volume``'s own click options (the same objects'
copies: names, types, defaults and help stay one definition) and build the one config object of the use
case; a ``--config`` file takes the same keys. docs/batch.md describes local and cluster use.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import click

from ngsdk.cli.common import friendly_errors, log, verbosity_options
from ngsdk.cli.config_file import config_option

TEXTURE_OPTIONS = ("bpp", "target_psnr", "steps", "time_budget", "seed", "device", "latent_bits", "decode_mode",
                   "qat_start", "hidden", "hidden_layers", "latent_features", "batch_size", "tiling", "loss_weights",
                   "early_stop")
"""The options of ``train texture`` that configure the training (not its single-run files)."""
VOLUME_OPTIONS = ("preset", "grids", "grid_res", "features", "hidden", "hidden_layers", "bricks", "ghost", "steps",
                  "time_budget", "seed", "device", "storage", "decode_mode", "batch_size", "lr", "jitter",
                  "early_stop", "eval_every", "sampler", "variable", "axis_order", "shape_text", "dtype",
                  "time_index")

RAY_OPTIONS = ("address", "local_cpus", "gpus_per_task", "cpus_per_task", "max_parallel", "keep_going")


def _borrow(command: click.Command, names: tuple[str, ...]):  # noqa: ANN202 - a click decorator
    """Attach copies of ``command``'s parameters ``names`` (in ``names`` order) to the decorated command."""
    params = {p.name: p for p in command.params}
    missing = [n for n in names if n not in params]
    if missing:  # an option renamed in the train command: fail at import, in tests, not for users
        raise RuntimeError(f"{command.name}: no option(s) {', '.join(missing)}")

    def deco(fn):  # noqa: ANN001, ANN202
        fn.__click_params__ = getattr(fn, "__click_params__", []) + [copy.copy(params[n]) for n in reversed(names)]
        return fn

    return deco


def _ray_options(fn):  # noqa: ANN001, ANN202 - a click decorator
    opts = [
        click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
                     help="Output folder: NAME.ngasset, NAME.batch.json (record), NAME.log per item; report.json "
                          "and report.html."),
        click.option("--address", default=None, metavar="auto|ray://HOST:PORT|HOST:PORT",
                     help="Join this Ray cluster (auto: the one started with 'ray start' on this machine); "
                          "default: a local Ray with this machine's CPUs and GPUs."),
        click.option("--local-cpus", default=None, type=click.IntRange(1), show_default="this machine's cores",
                     help="CPUs of the local Ray (without --address)."),
        click.option("--gpus-per-task", default=None, type=click.FloatRange(0, 64),
                     show_default="1 when the cluster has GPUs, else 0",
                     help="GPUs per task (0.5: two tasks share a GPU; 0: train on CPUs)."),
        click.option("--cpus-per-task", default=1.0, type=click.FloatRange(0.1, 1024),
                     help="CPUs per task (a CPU task trains with that many threads)."),
        click.option("--max-parallel", default=None, type=click.IntRange(1), show_default="what the cluster holds",
                     help="At most this many tasks at once."),
        click.option("--keep-going/--stop-on-failure", default=True,
                     help="After a failed item, go on with the others or submit nothing new."),
    ]
    for o in reversed(opts):
        fn = o(fn)
    return fn


@click.group("batch")
def command() -> None:
    """Train a library of materials or volumes on Ray (local by default, a cluster by --address).

    \b
    Example:
      ngsdk batch texture ../shared/data/textures --out build/library --bpp 5 --time-budget 60
      ngsdk batch volume ../shared/data/volumes --out build/volumes --preset small --steps 2000
    """


def texture_config(values: dict[str, Any]) -> tuple[Any, float | None]:
    """The ``TextureTrainConfig`` (and the ``--target-psnr``) of ``train texture``'s option values."""
    from ngsdk.cli.train_texture import _parse_weights
    from ngsdk.textures.config import TextureTrainConfig

    v = dict(values)
    if v["steps"] is None and v["time_budget"] is None:
        v["time_budget"] = 60.0
    if v["target_psnr"] is not None and v["bpp"] is not None:
        raise click.UsageError("give --bpp or --target-psnr, not both")
    bits = v["latent_bits"] or ("8" if v["decode_mode"] == "hardware" else "4")
    cfg = TextureTrainConfig(bpp=5.0 if v["bpp"] is None else v["bpp"], latent_bits=int(bits),
                             decode_mode=v["decode_mode"], qat_start=v["qat_start"], hidden=v["hidden"],
                             hidden_layers=v["hidden_layers"], latent_features=v["latent_features"],
                             steps=v["steps"], time_budget=v["time_budget"], batch_size=v["batch_size"],
                             seed=v["seed"], device=v["device"], address="wrap" if v["tiling"] else "clamp",
                             loss_weights=_parse_weights(v["loss_weights"]), early_stop_patience=v["early_stop"])
    cfg.check()
    return cfg, v["target_psnr"]


def volume_config(values: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The ``VolumeTrainConfig`` and the reader options of ``train volume``'s option values."""
    from ngsdk.cli.train_volume import _parse_shape
    from ngsdk.volumes.config import VolumeTrainConfig, parse_bricks

    v = dict(values)
    if v["steps"] is None and v["time_budget"] is None:
        v["time_budget"] = 60.0
    cfg = VolumeTrainConfig(hidden=v["hidden"], hidden_layers=v["hidden_layers"], storage=v["storage"],
                            decode_mode=v["decode_mode"], steps=v["steps"], time_budget=v["time_budget"],
                            batch_size=v["batch_size"], lr=v["lr"], jitter_fraction=v["jitter"],
                            early_stop_patience=v["early_stop"], eval_every=v["eval_every"], seed=v["seed"],
                            device=v["device"], bricks=parse_bricks(v["bricks"]), ghost=v["ghost"],
                            sampler=v["sampler"])
    if v["preset"]:
        cfg.apply_preset(v["preset"])
    cfg.grids = v["grids"] or cfg.grids
    cfg.grid_res = v["grid_res"] or cfg.grid_res
    cfg.features = v["features"] or cfg.features
    cfg.check()
    reader: dict[str, Any] = {"axis_order": v["axis_order"]}
    for key, value in (("variable", v["variable"]), ("shape", _parse_shape(v["shape_text"])), ("dtype", v["dtype"]),
                       ("time_index", v["time_index"])):
        if value is not None:
            reader[key] = value
    return cfg, reader


def _run(library: Path, out: Path, spec: Any, device: str, ray: dict[str, Any]) -> None:
    """Run the batch with the Ray options ``ray`` (address, local_cpus, gpus_per_task, ...); exit 1 on failures."""
    from ngsdk.batch.driver import run_batch
    from ngsdk.batch.pool import Resources, local_gpus
    from ngsdk.batch.records import BATCH_LOG
    from ngsdk.cli.progress import log_file

    address, gpus_per_task = ray["address"], ray["gpus_per_task"]
    if ray["local_cpus"] and address:
        raise click.UsageError("--local-cpus sizes a local Ray: it takes no --address")
    if gpus_per_task is None:  # a cluster's GPUs are only known once joined: "auto" asks Ray below
        gpus_per_task = -1.0 if address else (1.0 if local_gpus() else 0.0)
    if gpus_per_task < 0:
        from ngsdk.batch.pool import start_ray

        gpus_per_task = 1.0 if start_ray(address).get("GPU", 0) else 0.0
        ray["gpus_per_task"] = gpus_per_task
    if gpus_per_task == 0 and device.startswith("cuda"):
        raise click.UsageError(f"--device {device} needs --gpus-per-task above 0")
    with log_file(out / BATCH_LOG):
        summary = run_batch(library, out, spec, address=address,
                            resources=Resources(cpus=ray["cpus_per_task"], gpus=gpus_per_task),
                            max_parallel=ray["max_parallel"], keep_going=ray["keep_going"],
                            log=lambda s: log.info("%s", s), ray_cpus=ray["local_cpus"])
        n = len(summary.trained) + len(summary.skipped) + len(summary.failed) + len(summary.not_run)
        log.info("batch: %d trained, %d up to date, %d failed, %d not run, of %d in %.1f s", len(summary.trained),
                 len(summary.skipped), len(summary.failed), len(summary.not_run), n, summary.seconds)
        for name, error in summary.failed.items():
            log.info("failed: %s: %s", name, error)
    if not summary.ok:
        sys.exit(1)


def _task_device(device: str, gpus_per_task: float | None) -> str:
    """A CPU-only task (``--gpus-per-task 0``) trains on the CPU even where ``auto`` would find a GPU; a GPU task
    trains on the GPU Ray gives it (``cuda:N`` would name a GPU the task cannot see)."""
    if gpus_per_task == 0 and device == "auto":
        return "cpu"
    return "cuda" if device.startswith("cuda:") else device


@command.command("texture")
@click.argument("library", type=click.Path(exists=True, file_okay=False, path_type=Path))
@_ray_options
@_borrow(__import__("ngsdk.cli.train_texture", fromlist=["command"]).command, TEXTURE_OPTIONS)
@config_option("batch-texture")
@verbosity_options
@friendly_errors
def texture(library: Path, out: Path, **options: Any) -> None:
    """Compress every material folder under LIBRARY, one Ray task each, into OUT/<material path>.ngasset.

    A material folder holds texture maps (the rules of 'ngsdk train texture'); a re-run trains only the
    materials whose files, options or ngsdk version changed, or that failed.

    \b
    Example:
      ngsdk batch texture ../shared/data/textures --out build/library --bpp 5 --time-budget 60 --max-parallel 2
    """
    import torch  # noqa: F401 - without the train extra: one line naming it, before any work

    from ngsdk.batch.driver import BatchSpec
    from ngsdk.batch.library import find_materials
    from ngsdk.batch.pool import import_ray
    from ngsdk.batch.texture_task import train_material

    import_ray()
    ray = {k: options.pop(k) for k in RAY_OPTIONS}
    options["device"] = _task_device(options["device"], ray["gpus_per_task"])
    cfg, target = texture_config(options)
    spec = BatchSpec("texture", find_materials, train_material, cfg.to_dict(),
                     {"target_psnr": target})
    _run(library, out, spec, cfg.device, ray)


@command.command("volume")
@click.argument("library", type=click.Path(exists=True, path_type=Path))
@_ray_options
@_borrow(__import__("ngsdk.cli.train_volume", fromlist=["command"]).command, VOLUME_OPTIONS)
@config_option("batch-volume")
@verbosity_options
@friendly_errors
def volume(library: Path, out: Path, **options: Any) -> None:
    """Compress every volume file under LIBRARY (.npy, .vti, .nc, .raw), one Ray task each, into
    OUT/<file path without suffix>.ngasset. The reader options apply to every file.

    \b
    Example:
      ngsdk batch volume ../shared/data/volumes --out build/volumes --preset small --time-budget 60
    """
    import torch  # noqa: F401 - without the train extra: one line naming it, before any work

    from ngsdk.batch.driver import BatchSpec
    from ngsdk.batch.library import find_volumes
    from ngsdk.batch.pool import import_ray
    from ngsdk.batch.volume_task import train_volume_item

    import_ray()
    ray = {k: options.pop(k) for k in RAY_OPTIONS}
    options["device"] = _task_device(options["device"], ray["gpus_per_task"])
    cfg, reader = volume_config(options)
    spec = BatchSpec("volume", find_volumes, train_volume_item, cfg.to_dict(),
                     {"reader": reader})
    _run(library, out, spec, cfg.device, ray)


def write_schemas() -> list[Path]:
    """Rewrite ``ngsdk/cli/schema/batch-*.config.schema.json`` from the commands' options."""
    import json

    from ngsdk.asset.atomic import atomic_write_bytes
    from ngsdk.cli.config_file import SCHEMA_DIR, config_schema

    paths = []
    for cmd, title in ((texture, "batch-texture"), (volume, "batch-volume")):
        path = SCHEMA_DIR / f"{title}.config.schema.json"
        atomic_write_bytes(path, (json.dumps(config_schema(cmd, title), indent=2, sort_keys=True) + "\n").encode())
        paths.append(path)
    return paths


if __name__ == "__main__":  # python -m ngsdk.cli.batch: after an option change here or in train texture/volume
    for p in write_schemas():
        print(p)

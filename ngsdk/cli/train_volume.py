"""``ngsdk train volume``: fit an AMGSRN neural volume to a scalar volume file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ngsdk.asset.neural_volume import VOLUME_DECODE_MODES
from ngsdk.cli.common import DEVICE, FILE_ONLY, friendly_errors, log, verbosity_options
from ngsdk.cli.config_file import config_option
from ngsdk.volumes.config import SAMPLERS

# config field -> (option key, value converter): the replay of a bundle's training (ngsdk.cli.replay)
REPLAY: dict[str, tuple[str, Callable[[Any], Any] | None]] = {
    "grids": ("grids", None), "grid_res": ("grid-res", None), "features": ("features", None),
    "hidden": ("hidden", None), "hidden_layers": ("layers", None), "storage": ("storage", None),
    "decode_mode": ("decode", None), "steps": ("steps", None), "time_budget": ("time-budget", None),
    "batch_size": ("batch-size", None), "lr": ("lr", None), "jitter_fraction": ("jitter", None),
    "early_stop_patience": ("early-stop", None), "eval_every": ("eval-every", None), "seed": ("seed", None),
    "device": ("device", None), "bricks": ("bricks", lambda b: "x".join(str(int(n)) for n in b)),
    "ghost": ("ghost", None), "sampler": ("sampler", None),
}


def default_config() -> dict[str, Any]:
    """The trainer's default configuration (replay notes the recorded fields no option sets that differ)."""
    from ngsdk.volumes.config import VolumeTrainConfig

    return VolumeTrainConfig().to_dict()


def _parse_shape(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        dims = tuple(int(p) for p in text.lower().replace(",", "x").split("x"))
    except ValueError:
        raise click.BadParameter(f"{text!r}: expected three sizes in axis order, e.g. 128x256x256") from None
    if len(dims) != 3 or min(dims) < 1:
        raise click.BadParameter(f"{text!r}: expected three positive sizes, e.g. 128x256x256")
    return dims


@click.command("volume")
@click.argument("data", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="Bundle folder to write (NAME.ngasset).")
@click.option("--preset", type=click.Choice(["tiny", "small", "medium", "large", "huge"]), show_default="medium",
              help="Model size: tiny 16x16^3x1, small 16x16^3x4, medium 16x32^3x2, large 16x32^3x4, "
                   "huge 16x64^3x4 (grids x resolution^3 x features); --grids/--grid-res/--features override.")
@click.option("--grids", type=click.IntRange(1, 64), show_default="16, or the preset's",
              help="Feature grids per model.")
@click.option("--grid-res", type=click.IntRange(2, 256), show_default="32, or the preset's",
              help="Nodes per grid axis.")
@click.option("--features", type=click.IntRange(1, 4), show_default="2, or the preset's",
              help="Features per grid node.")
@click.option("--ratio", type=click.FloatRange(1.0), metavar="R",
              help="Size the model for a compression ratio R:1 (source bytes / every byte a decoder reads, counted "
                   "as for ZFP and SZ3: docs/benchmarks.md): grid count and resolution, 4 features, decoder width; "
                   "--grids and --hidden fix theirs.")
@click.option("--target-psnr", type=click.FloatRange(1.0, 99.0), metavar="DB",
              help="Train at the largest ratio of 1000, 500, 300, 200, 100, 50, 30, 20, 10, 5, 3, 2 whose exact "
                   "decode reaches DB dB: a binary search, about 4 trainings of --steps / --time-budget each.")
@click.option("--hidden", type=click.IntRange(1, 1024), show_default="64, or sized by --ratio/--target-psnr",
              help="Decoder hidden width.")
@click.option("--layers", "hidden_layers", default=2, show_default=True, type=click.IntRange(0, 8),
              help="Decoder hidden layers.")
@click.option("--bricks", default="1x1x1", show_default=True, help="Ensemble: bricks along z x y x x, e.g. 2x2x2.")
@click.option("--ghost", default=16, show_default=True, type=click.IntRange(0), help="Ghost voxels around each brick.")
@click.option("--ray", "ray_address", metavar="local|auto|ADDRESS",
              help="Train the bricks as Ray tasks (one GPU each, or one CPU each without GPUs): local starts a Ray "
                   "on this machine, auto or ray://HOST:PORT joins a cluster (pip install 'ngsdk[batch]'; "
                   "docs/batch.md).")
@click.option("--steps", type=click.IntRange(1), help="Training steps (reproducible runs use --steps).")
@click.option("--time-budget", type=click.FloatRange(0.1), show_default="60 s when --steps is not given",
              help="Stop after this many seconds (all bricks together).")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of initialisation and batches.")
@click.option("--device", default="auto", show_default=True, type=DEVICE,
              help="auto, cpu, cuda or cuda:N (the N-th GPU).")
@click.option("--storage", default="unorm8", show_default=True, type=click.Choice(["unorm8", "float16"]),
              help="Feature storage: 8-bit codes with a scale and offset per grid, or float16.")
@click.option("--decode", "decode_mode", default="exact", show_default=True, type=click.Choice(VOLUME_DECODE_MODES),
              help="Decode mode shipped in the bundle (docs/decode-spec.md \"Volumes\"): exact is bit-defined.")
@click.option("--batch-size", type=click.IntRange(64), show_default="2^14 on the CPU, 2^18 on CUDA",
              help="Points per step.")
@click.option("--lr", default=0.02, show_default=True, type=click.FloatRange(1e-6, 1.0), help="Feature learning rate.")
@click.option("--jitter", default=0.0, show_default=True, type=click.FloatRange(0, 1),
              help="Share of training points placed between voxels (target: trilinear data); smoother between "
                   "voxels, a little lower PSNR at them.")
@click.option("--early-stop", default=0, show_default=True, type=click.IntRange(0),
              help="After N evaluations without PSNR gain: start quantization-aware tuning, then stop (0: off).")
@click.option("--eval-every", default=100, show_default=True, type=click.IntRange(1), help="Steps between evaluations.")
@click.option("--sampler", default="auto", show_default=True, type=click.Choice(list(SAMPLERS)),
              help="Training sampler: gather has a deterministic backward everywhere; fused is the same sampling "
                   "and backward in two Triton kernels (CUDA); grid_sample uses float atomics in its CUDA backward "
                   "(runs not bit-reproducible there); auto: gather on CUDA, grid_sample on the CPU (deterministic "
                   "there).")
@click.option("--variable", help="NetCDF variable or .vti point-data array to read.")
@click.option("--axis-order", default="zyx", show_default=True, help="Axis order of .npy/raw arrays as stored.")
@click.option("--shape", "shape_text", help="Raw files: sizes in --axis-order, e.g. 128x256x256.")
@click.option("--dtype", help="Raw files: element type, e.g. uint8, <f4, >u2.")
@click.option("--time-index", type=click.IntRange(0), show_default="0", help="NetCDF: time step of a 4D variable.")
@click.option("--log", "log_file", type=click.Path(dir_okay=False, path_type=Path),
              show_default="OUT.log beside the bundle", help="Log file.")
@config_option("train-volume")
@verbosity_options
@friendly_errors
def command(data: Path, out: Path, preset: str | None, grids: int | None, grid_res: int | None,
            features: int | None, ratio: float | None, target_psnr: float | None, hidden: int | None,
            hidden_layers: int, bricks: str, ghost: int, ray_address: str | None,
            steps: int | None,
            time_budget: float | None, seed: int, device: str, storage: str, decode_mode: str,
            batch_size: int | None, lr: float, jitter: float, early_stop: int, eval_every: int, sampler: str,
            variable: str | None, axis_order: str, shape_text: str | None, dtype: str | None,
            time_index: int | None, log_file: Path | None) -> None:
    """Compress the scalar volume in DATA (.npy, .vti, NetCDF .nc, raw) into a neural volume bundle.

    \b
    Example:
      ngsdk train volume ../shared/data/volumes/ironProt_zyx_68x68x68_uint8.npy --out build/v.ngasset --steps 2000
    """
    import torch  # noqa: F401 - without the train extra: one line naming it, before any work

    from ngsdk.cli.preflight import check_finite, check_train_options
    from ngsdk.cli.progress import log_file as logging_to
    from ngsdk.volumes.config import VolumeTrainConfig, parse_bricks
    from ngsdk.volumes.ingest import load_volume

    check_finite(lr, "--lr")
    check_finite(jitter, "--jitter")
    check_train_options(out, log_file=log_file)
    if ratio is not None and target_psnr is not None:
        raise click.UsageError("give --ratio or --target-psnr, not both")
    sized = ratio is not None or target_psnr is not None
    if sized and (preset or grid_res or features):
        raise click.UsageError("--ratio and --target-psnr size the model: drop --preset, --grid-res and --features "
                               "(--grids and --hidden may stay)")
    if steps is None and time_budget is None:
        time_budget = 60.0
    cfg = VolumeTrainConfig(hidden=hidden or 64, hidden_layers=hidden_layers, storage=storage, decode_mode=decode_mode,
                            steps=steps, time_budget=time_budget, batch_size=batch_size, lr=lr, jitter_fraction=jitter,
                            early_stop_patience=early_stop, eval_every=eval_every, seed=seed, device=device,
                            bricks=parse_bricks(bricks), ghost=ghost, sampler=sampler)
    if preset:
        cfg.apply_preset(preset)
    cfg.grids = grids or cfg.grids
    cfg.grid_res = grid_res or cfg.grid_res
    cfg.features = features or cfg.features
    cfg.check()
    reader: dict = {"axis_order": axis_order}
    for key, value in (("variable", variable), ("shape", _parse_shape(shape_text)), ("dtype", dtype),
                       ("time_index", time_index)):
        if value is not None:
            reader[key] = value

    with logging_to(log_file or out.with_name(out.name + ".log")):
        vol = load_volume(data, **reader)
        d, h, w = vol.values.shape
        log.info(f"source {data}: {w}x{h}x{d} (x, y, z) {vol.normalization.source_dtype}, "
                 f"range [{vol.normalization.vmin:g}, {vol.normalization.vmax:g}]")
        for note in vol.notes:
            log.info(f"  note: {note}")
        limit = " and ".join(x for x in (f"{steps} steps" if steps else "", f"{time_budget:g} s" if time_budget
                                         else "") if x)
        if ratio is not None:
            from ngsdk.volumes.rate import predicted_bytes, size_for_ratio, source_bytes

            cfg = size_for_ratio(cfg, vol.values.shape, vol.normalization.source_dtype, ratio, grids=grids,
                                 hidden=hidden)
            need = predicted_bytes(cfg)
            log.info(f"--ratio {ratio:g}: {need:,} bytes to decode, "
                     f"{source_bytes(vol.values.shape, vol.normalization.source_dtype) / need:.2f}:1")
        if target_psnr is None:
            log.info(f"model: {cfg.grids} grids of {cfg.grid_res}^3 x {cfg.features} ({cfg.storage}), decoder "
                     f"{cfg.hidden_layers} x {cfg.hidden}, {cfg.decode_mode} decode; training for {limit}")
        runner = None
        if ray_address is not None:
            from ngsdk.batch.bricks import RayBricks

            runner = RayBricks(None if ray_address == "local" else ray_address, device=cfg.device)
        if target_psnr is not None:
            from ngsdk.volumes.rate import train_to_target

            log.info(f"--target-psnr {target_psnr:g}: searching ratios, each attempt training for {limit}")
            search = train_to_target(vol, cfg, target_psnr, grids=grids, hidden=hidden,
                                     train=lambda v, c: _train_with_progress(v, c, runner),
                                     log=lambda s: log.info("%s", s))
            result = search.result
            if not search.reached:
                log.warning(f"no ratio reached {target_psnr:g} dB: kept the largest model tried "
                            f"({result.asset.provenance.metrics['psnr_db']:.2f} dB)")
        else:
            result = _train_with_progress(vol, cfg, runner)
        from ngsdk.exporters.neural_volume import write_neural_volume

        asset = result.asset
        write_neural_volume(asset, out)
        m = asset.provenance.metrics
        log.info(f"wrote {out}: {asset.decode_mode} decode PSNR {m['psnr_db']:.2f} dB (max error "
                 f"{m['max_abs_error']:.4f}), compression {m['compression_ratio']:.2f}:1 ({m['stored_bytes']:,} stored "
                 f"bytes for {m['source_bytes']:,} source bytes), {result.steps} steps in {result.seconds:.1f} s "
                 f"+ {result.finalize_seconds:.1f} s decode")
        log.info(f"rate: {m['decode_ratio']:.2f}:1 counting every byte a decoder reads ({m['decode_bytes']:,} bytes, "
                 "as ZFP and SZ3 are counted: docs/benchmarks.md)")
        if "seams" in m:
            s = m["seams"]
            log.info(f"seams: step error across brick faces {s['seam_step_rmse']:.5f} vs {s['near_step_rmse']:.5f} "
                     f"one voxel in; brick disagreement rms {_fmt(s['disagreement_rmse'])}, max "
                     f"{_fmt(s['disagreement_max'])}")
        if m["compression_ratio"] < 1:
            fewer = " or fewer --bricks" if len(asset.bricks) > 1 else ""
            log.info(f"note: the model is larger than the source volume; a smaller --preset or --grid-res{fewer} "
                     "compresses a volume this small")
        log.info("summary: " + json.dumps({"psnr_db": round(m["psnr_db"], 3), "compression_ratio":
                                      round(m["compression_ratio"], 4), "steps": result.steps,
                                      "seconds": round(result.seconds, 2)}), extra=FILE_ONLY)


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.5f}"


def _train_with_progress(vol, cfg, runner=None):  # noqa: ANN001, ANN202 - torch types stay lazy
    from ngsdk.cli.progress import TrainingProgress
    from ngsdk.volumes.train import train_volume

    with TrainingProgress(cfg.steps, cfg.time_budget) as progress:
        return train_volume(vol, cfg, progress=progress, log=lambda s: log.info("%s", s), runner=runner)

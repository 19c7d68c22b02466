"""``ngsdk train volume``: fit an AMGSRN neural volume to a scalar volume file."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ngsdk.cli.common import friendly_errors


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
@click.option("--preset", type=click.Choice(["tiny", "small", "medium", "large", "huge"]),
              help="Model size: tiny 16x16^3x1, small 16x16^3x4, medium 16x32^3x2 (default), large 16x32^3x4, "
                   "huge 16x64^3x4 (grids x resolution^3 x features); --grids/--grid-res/--features override.")
@click.option("--grids", type=click.IntRange(1, 64), help="Feature grids per model [16].")
@click.option("--grid-res", type=click.IntRange(2, 256), help="Nodes per grid axis [32].")
@click.option("--features", type=click.IntRange(1, 4), help="Features per grid node [2].")
@click.option("--hidden", default=64, show_default=True, type=click.IntRange(1, 1024), help="Decoder hidden width.")
@click.option("--layers", "hidden_layers", default=2, show_default=True, type=click.IntRange(0, 8),
              help="Decoder hidden layers.")
@click.option("--bricks", default="1x1x1", show_default=True, help="Ensemble: bricks along z x y x x, e.g. 2x2x2.")
@click.option("--ghost", default=16, show_default=True, type=click.IntRange(0), help="Ghost voxels around each brick.")
@click.option("--steps", type=click.IntRange(1), help="Training steps (reproducible runs use --steps).")
@click.option("--time-budget", type=click.FloatRange(0.1), help="Stop after this many seconds (all bricks together).")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--device", default="auto", show_default=True, type=click.Choice(["auto", "cpu", "cuda"]))
@click.option("--storage", default="unorm8", show_default=True, type=click.Choice(["unorm8", "float16"]),
              help="Feature storage: 8-bit codes with a scale and offset per grid, or float16.")
@click.option("--decode", "decode_mode", default="exact", show_default=True, type=click.Choice(["exact", "float"]),
              help="Decode mode shipped in the bundle (docs/decode-spec.md \"Volumes\"): exact is bit-defined.")
@click.option("--batch-size", type=click.IntRange(64), help="Points per step [2^14 on the CPU, 2^18 on CUDA].")
@click.option("--lr", default=0.02, show_default=True, type=click.FloatRange(1e-6, 1.0), help="Feature learning rate.")
@click.option("--jitter", default=0.0, show_default=True, type=click.FloatRange(0, 1),
              help="Share of training points placed between voxels (target: trilinear data); smoother between "
                   "voxels, a little lower PSNR at them.")
@click.option("--early-stop", default=0, show_default=True, type=click.IntRange(0),
              help="After N evaluations without PSNR gain: start quantization-aware tuning, then stop (0: off).")
@click.option("--eval-every", default=100, show_default=True, type=click.IntRange(1), help="Steps between evaluations.")
@click.option("--sampler", default="auto", show_default=True, type=click.Choice(["auto", "gather", "grid_sample"]),
              help="Training sampler: gather has a deterministic backward everywhere; grid_sample uses float atomics "
                   "in its CUDA backward (runs not bit-reproducible there); auto: gather on CUDA, grid_sample on "
                   "the CPU (deterministic there).")
@click.option("--variable", help="NetCDF variable or .vti point-data array to read.")
@click.option("--axis-order", default="zyx", show_default=True, help="Axis order of .npy/raw arrays as stored.")
@click.option("--shape", "shape_text", help="Raw files: sizes in --axis-order, e.g. 128x256x256.")
@click.option("--dtype", help="Raw files: element type, e.g. uint8, <f4, >u2.")
@click.option("--time-index", type=click.IntRange(0), help="NetCDF: time step of a 4D variable [0].")
@click.option("--log", "log_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Log file (default: OUT.log beside the bundle).")
@friendly_errors
def command(data: Path, out: Path, preset: str | None, grids: int | None, grid_res: int | None,
            features: int | None, hidden: int, hidden_layers: int, bricks: str, ghost: int, steps: int | None,
            time_budget: float | None, seed: int, device: str, storage: str, decode_mode: str,
            batch_size: int | None, lr: float, jitter: float, early_stop: int, eval_every: int, sampler: str,
            variable: str | None, axis_order: str, shape_text: str | None, dtype: str | None,
            time_index: int | None, log_file: Path | None) -> None:
    """Compress the scalar volume in DATA (.npy, .vti, NetCDF .nc, raw) into a neural volume bundle."""
    from ngsdk.volumes.config import VolumeTrainConfig, parse_bricks
    from ngsdk.volumes.ingest import load_volume

    if steps is None and time_budget is None:
        time_budget = 60.0
    cfg = VolumeTrainConfig(hidden=hidden, hidden_layers=hidden_layers, storage=storage, decode_mode=decode_mode,
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

    log_path = log_file or out.with_name(out.name + ".log")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w", encoding="utf-8") as logf:

        def log(msg: str, echo: bool = True) -> None:
            logf.write(msg + "\n")
            logf.flush()
            if echo:
                click.echo(msg)

        vol = load_volume(data, **reader)
        d, h, w = vol.values.shape
        log(f"source {data}: {w}x{h}x{d} (x, y, z) {vol.normalization.source_dtype}, "
            f"range [{vol.normalization.vmin:g}, {vol.normalization.vmax:g}]")
        for note in vol.notes:
            log(f"  note: {note}")
        limit = " and ".join(x for x in (f"{steps} steps" if steps else "", f"{time_budget:g} s" if time_budget
                                         else "") if x)
        log(f"model: {cfg.grids} grids of {cfg.grid_res}^3 x {cfg.features} ({cfg.storage}), decoder "
            f"{cfg.hidden_layers} x {cfg.hidden}, {cfg.decode_mode} decode; training for {limit}")
        result = _train_with_progress(vol, cfg, log)
        from exporters.volume_bundle import write_volume_bundle

        asset = result.asset
        write_volume_bundle(asset, out)
        m = asset.provenance.metrics
        log(f"wrote {out}: {asset.decode_mode} decode PSNR {m['psnr_db']:.2f} dB (max error "
            f"{m['max_abs_error']:.4f}), compression {m['compression_ratio']:.2f}:1 ({m['stored_bytes']:,} stored "
            f"bytes for {m['source_bytes']:,} source bytes), {result.steps} steps in {result.seconds:.1f} s "
            f"+ {result.finalize_seconds:.1f} s decode")
        if "seams" in m:
            s = m["seams"]
            log(f"seams: step error across brick faces {s['seam_step_rmse']:.5f} vs {s['near_step_rmse']:.5f} "
                f"one voxel in; brick disagreement rms {_fmt(s['disagreement_rmse'])}, max "
                f"{_fmt(s['disagreement_max'])}")
        if m["compression_ratio"] < 1:
            fewer = " or fewer --bricks" if len(asset.bricks) > 1 else ""
            log(f"note: the model is larger than the source volume; a smaller --preset or --grid-res{fewer} "
                "compresses a volume this small")
        log("summary: " + json.dumps({"psnr_db": round(m["psnr_db"], 3), "compression_ratio":
                                      round(m["compression_ratio"], 4), "steps": result.steps,
                                      "seconds": round(result.seconds, 2)}), echo=False)


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.5f}"


def _train_with_progress(vol, cfg, log):
    from ngsdk.volumes.train import train_volume

    try:
        from tqdm import tqdm
    except ImportError:  # tqdm ships with the train extra; plain lines otherwise
        tqdm = None
    bar = tqdm(total=cfg.steps, unit="step", dynamic_ncols=True) if tqdm and sys.stderr.isatty() else None
    last: dict[str, int] = {}

    def progress(p) -> None:
        tag = f"[{p.label}] " if p.label else ""
        if bar is not None:
            bar.update(p.step - last.get(p.label, 0))
            bar.set_postfix_str(f"{tag}{p.psnr:.2f} dB {p.phase} {p.elapsed:.0f}s")
        log(f"{tag}step {p.step} {p.elapsed:.1f}s psnr {p.psnr:.2f} dB ({p.phase})", echo=bar is None)
        last[p.label] = p.step

    try:
        return train_volume(vol, cfg, progress=progress, log=lambda s: log(s))
    finally:
        if bar is not None:
            bar.close()

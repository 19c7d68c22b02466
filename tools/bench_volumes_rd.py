"""Rate-distortion mode of tools/bench_volumes.py (``--rd``): per volume, ngsdk sized for each ratio of
``--ratios`` (``ngsdk train volume --ratio R``) and ZFP (fixed rate, fixed accuracy) and SZ3 (absolute error
bound) tuned to the same bytes (ngsdk.volumes.baselines), counted the same way for all: every byte a decoder
reads; PSNR on values normalized to the source's [min, max] and the max abs error.

The GPU machine has torch and NumPy only: there, run with ``--no-baselines`` (or let the missing packages
skip them) and save ``--json``; a CPU run with zfpy/pysz then adds the baselines at the sizes the ngsdk rows
reached: ``--rd --no-train --from-json gpu.json --json merged.json``. Records are written to ``--json`` after
every volume, so a run cut short keeps what it finished.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ngsdk.asset.atomic import atomic_open, atomic_write_bytes
from ngsdk.asset.errors import AssetError
from tools.bench_common import device_description, resolve_device, say, write_docs

SECTION = "rate-distortion"
DEFAULT_RATIOS = (10.0, 50.0, 100.0, 300.0)


def train_at_ratio(vol: Any, ratio: float, args: argparse.Namespace, device: str) -> dict[str, Any]:
    """One ngsdk row: the model sized for ``ratio`` trained on ``vol``; an ``error`` row if it cannot be."""
    import torch

    from ngsdk.training import TrainProgress
    from ngsdk.volumes.config import VolumeTrainConfig
    from ngsdk.volumes.fit import default_batch, resolve_sampler
    from ngsdk.volumes.rate import size_for_ratio
    from ngsdk.volumes.train import train_volume

    base = _row(vol, "ngsdk", ratio)
    cfg = VolumeTrainConfig(steps=args.steps, time_budget=args.time_budget, seed=args.seed, device=device,
                            eval_every=args.eval_every, batch_size=args.batch_size, sampler=args.sampler)
    try:
        cfg = size_for_ratio(cfg, vol.values.shape, vol.normalization.source_dtype, ratio)
    except ValueError as e:
        return dict(base, error=f"unreachable: {e}")

    def progress(p: TrainProgress) -> None:
        if p.psnr is not None:
            say(f"  [{vol.name} {ratio:g}:1] step {p.step} {p.elapsed:.1f}s eval {p.psnr:.2f} dB ({p.phase})")

    result = train_volume(vol, cfg, progress=progress)
    m = result.metrics
    dev = torch.device(device)
    return dict(base, ratio=float(m["decode_ratio"]), bytes=int(m["decode_bytes"]), psnr_db=float(m["psnr_db"]),
                max_abs_error=float(m["max_abs_error"]), reached=True, grids=cfg.grids, grid_res=cfg.grid_res,
                features=cfg.features, hidden=cfg.hidden, train_s=round(result.seconds, 2), steps=result.steps,
                finalize_s=round(result.finalize_seconds, 2), device=device_description(device),
                sampler=resolve_sampler(cfg.sampler, dev), batch=cfg.batch_size or default_batch(dev))


def baseline_rows(vol: Any, target_bytes: int, ratio: float, methods: tuple[str, ...]) -> list[dict[str, Any]]:
    from ngsdk.volumes import baselines as bl

    out = []
    values = np.ascontiguousarray(vol.values, dtype=np.float32)
    src = _source_bytes(vol)
    for m in methods:
        b = bl.match_size(m, values, target_bytes, src)
        out.append(dict(_row(vol, m, ratio), ratio=b.ratio, bytes=b.compressed_bytes, psnr_db=b.psnr_db,
                        max_abs_error=b.max_abs_error, reached=b.reached, parameter=b.parameter,
                        target_bytes=target_bytes, seconds=round(b.seconds, 3)))
        say(f"  {b.label} at {target_bytes:,} bytes: {b.psnr_db:.2f} dB, {b.ratio:.2f}:1"
            + ("" if b.reached else " (cannot match the size)"))
    return out


def _source_bytes(vol: Any) -> int:
    return int(vol.values.size) * np.dtype(vol.normalization.source_dtype).itemsize


def _row(vol: Any, method: str, ratio: float) -> dict[str, Any]:
    return {"volume": vol.name, "shape": list(vol.values.shape), "source_dtype": vol.normalization.source_dtype,
            "source_bytes": _source_bytes(vol), "method": method, "ratio_target": float(ratio)}


# ----------------------------------------------------------------------------------------------
# tables and plots


def _cell(r: dict[str, Any] | None) -> str:
    if r is None:
        return "-"
    if r.get("error"):
        return "unreachable" if r["error"].startswith("unreachable") else "failed"
    note = "" if r.get("reached", True) else " *"
    return f"{r['psnr_db']:.2f} ({r['ratio']:.1f}:1, max {r['max_abs_error']:.3f}){note}"


def render(records: list[dict[str, Any]]) -> str:
    from ngsdk.volumes.baselines import METHODS

    lines = ["| volume | shape (z, y, x) | source | target | ngsdk dB (ratio, max err) | ZFP fixed rate | "
             "ZFP fixed accuracy | SZ3 abs | ngsdk wins |", "|---|---|---|---:|---|---|---|---|---|"]
    keyed = {(r["volume"], r["method"], r["ratio_target"]): r for r in records}
    volumes = list(dict.fromkeys(r["volume"] for r in records))
    for v in volumes:
        first = next(r for r in records if r["volume"] == v)
        for ratio in sorted({r["ratio_target"] for r in records if r["volume"] == v}):
            ng = keyed.get((v, "ngsdk", ratio))
            base = [keyed.get((v, m, ratio)) for m in METHODS]
            done = [b for b in base if b and not b.get("error")]
            if ng and not ng.get("error"):
                # comparable: the baseline matched the size, spent at least ngsdk's bytes, or spent fewer and
                # still reached a higher PSNR (it beats ngsdk on both axes)
                done = [b for b in done if b.get("reached") or b["bytes"] >= ng["bytes"]
                        or b["psnr_db"] >= ng["psnr_db"]]
            if ng and not ng.get("error") and done:
                wins = sum(1 for b in done if ng["psnr_db"] > b["psnr_db"])
                verdict = f"{wins}/{len(done)}"
            else:
                verdict = "-"
            lines.append(f"| {v} | {'x'.join(map(str, first['shape']))} | {first['source_dtype']} | {ratio:g}:1 | "
                         f"{_cell(ng)} | " + " | ".join(_cell(b) for b in base) + f" | {verdict} |")
    return "\n".join(lines)


def plot(records: list[dict[str, Any]], folder: Path) -> list[Path]:
    """One PSNR-vs-ratio PNG per volume (matplotlib; none without it)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        say("matplotlib is not installed: no plots (pip install matplotlib)")
        return []
    from ngsdk.volumes.baselines import LABELS

    out = []
    for v in dict.fromkeys(r["volume"] for r in records):
        fig, ax = plt.subplots(figsize=(5.5, 3.8), dpi=110)
        for method, style in (("ngsdk", "o-"), ("zfp-rate", "s--"), ("zfp-accuracy", "^--"), ("sz3-abs", "d--")):
            pts = sorted((r["ratio"], r["psnr_db"]) for r in records
                         if r["volume"] == v and r["method"] == method and not r.get("error"))
            if pts:
                ax.plot(*zip(*pts), style, label="ngsdk (exact decode)" if method == "ngsdk" else LABELS[method])
        ax.set_xscale("log")
        ax.set_xlabel("compression ratio (every byte a decoder reads)")
        ax.set_ylabel("PSNR (dB, normalized values)")
        ax.set_title(v)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        path = folder / f"volumes_rd_{v}.png"
        with atomic_open(path) as f:
            fig.savefig(f, format="png")
        plt.close(fig)
        out.append(path)
    return out


def section(records: list[dict[str, Any]], meta: dict[str, Any], plots: list[Path], docs: Path) -> str:
    devs = sorted({r["device"] for r in records if r.get("device")})
    runs = meta.get("runs") or [meta]  # merged files keep every run's command and limit
    limit = ", ".join(dict.fromkeys(
        f"{m['time_budget']:g} s per model" if m.get("time_budget") else f"{m.get('steps')} steps per model"
        for m in runs))
    commands = " and ".join(f"`{c}`" for c in dict.fromkeys(m["command"] for m in runs))
    label = "GPU" if any("CUDA" in d for d in devs) else "CPU"
    lines = [f"### Neural volumes vs ZFP and SZ3: quality per byte ({label})", "",
             f"Produced by {commands} on {meta['date']} (ngsdk {meta['ngsdk']}); ngsdk trained on "
             f"{', '.join(devs) or 'n/a'}, {limit}. Each cell: PSNR in dB on normalized values (ratio reached, "
             "max abs error); `*`: the compressor cannot reach that size (its smallest / nearest setting is shown); "
             "`ngsdk wins`: of the baselines that matched the size, spent at least ngsdk's bytes or beat it with "
             "fewer, those with a lower PSNR than ngsdk.", "", render(records)]
    if label == "CPU":
        lines += ["", "CPU smoke figures at a small size: short CPU trainings are far from what the GPU trains in a "
                  "minute, so these ngsdk rows show the method, not ngsdk's quality."]
    if meta.get("merged"):
        lines += ["", f"Merged and rendered by `{meta['merged']}`."]
    if plots:
        lines += [""] + [f"![{p.stem}]({_rel(p, docs)})" for p in plots]
    return "\n".join(lines)


def _rel(path: Path, docs: Path) -> str:
    try:
        return str(path.resolve().relative_to(docs.resolve().parent))
    except ValueError:
        return str(path)


# ----------------------------------------------------------------------------------------------


def _merge(paths: list[Path]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    records: dict[tuple, dict[str, Any]] = {}
    meta: dict[str, Any] = {}
    for p in paths:
        try:
            doc = json.loads(p.read_text(encoding="utf-8"))
            rows = doc["rd"]
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise SystemExit(f"error: {p}: not a bench_volumes --rd JSON ({e})") from None
        doc_meta = doc.get("meta", {})
        meta = meta or dict(doc_meta)
        if doc_meta.get("command"):
            meta.setdefault("runs", [])
            for run in doc_meta.get("runs") or [doc_meta]:
                keep = {k: run.get(k) for k in ("command", "time_budget", "steps")}
                if keep not in meta["runs"]:
                    meta["runs"].append(keep)
        for r in rows:
            records[(r["volume"], r["method"], r["ratio_target"])] = r
    return list(records.values()), meta


def _save(path: Path | None, records: list[dict[str, Any]], meta: dict[str, Any]) -> None:
    if path is not None:
        doc = {"meta": meta, "rd": records}
        atomic_write_bytes(path, (json.dumps(doc, indent=1, allow_nan=False) + "\n").encode("utf-8"))


def run_rd(args: argparse.Namespace, files: list[Path], meta: dict[str, Any]) -> int:
    """The ``--rd`` run; returns the exit status."""
    from ngsdk.volumes import baselines as bl
    from ngsdk.volumes.ingest import load_volume

    meta = dict(meta, mode="rd", ratios=list(args.ratios))
    records: list[dict[str, Any]] = []
    if args.from_json:
        records, old = _merge(args.from_json)
        if old:
            runs = list(old.get("runs") or [])
            if not args.no_train:  # this call may train rows too: name it beside the merged runs
                runs.append({k: meta.get(k) for k in ("command", "time_budget", "steps")})
            meta = dict(old, merged=meta["command"], runs=runs)
    methods: tuple[str, ...] = ()
    if not args.no_baselines:
        methods = bl.available_methods()
        for m in bl.METHODS:
            if m not in methods:
                say(f"baseline {bl.LABELS[m]} skipped: {bl.missing(m)}")
    device = resolve_device(args.device) if not args.no_train else "cpu"
    have = {(r["volume"], r["method"], r["ratio_target"]) for r in records}
    for f in files:
        try:
            vol = load_volume(f)
        except AssetError as e:
            raise SystemExit(f"error: {e}") from None
        say(f"{vol.name}: {'x'.join(map(str, vol.values.shape))} (z, y, x) {vol.normalization.source_dtype}")
        for ratio in args.ratios:
            key = (vol.name, "ngsdk", ratio)
            if not args.no_train and key not in have:
                try:
                    rec = train_at_ratio(vol, ratio, args, device)
                except (ValueError, RuntimeError) as e:
                    rec = dict(_row(vol, "ngsdk", ratio), error=str(e).splitlines()[0])
                say(f"  ngsdk {ratio:g}:1: " + (rec["error"] if rec.get("error") else
                                               f"{rec['psnr_db']:.2f} dB at {rec['ratio']:.2f}:1"))
                records.append(rec)
                have.add(key)
            ng = next((r for r in records if (r["volume"], r["method"], r["ratio_target"]) == key), None)
            todo = tuple(m for m in methods if (vol.name, m, ratio) not in have)
            if todo:
                # match ngsdk's bytes when it ran; else the ratio's own target
                target = ng["bytes"] if ng and not ng.get("error") else bl.target_for_ratio(_source_bytes(vol), ratio)
                if target > bl.NORMALIZATION_BYTES:
                    rows = baseline_rows(vol, target, ratio, todo)
                    records += rows
                    have.update((vol.name, r["method"], ratio) for r in rows)
        _save(args.json, records, meta)
    order = {m: i for i, m in enumerate(("ngsdk",) + bl.METHODS)}
    records.sort(key=lambda r: ([f.stem for f in files].index(r["volume"]) if r["volume"] in
                                [f.stem for f in files] else math.inf, r["ratio_target"], order.get(r["method"], 9)))
    _save(args.json, records, meta)
    if args.json:
        say(f"wrote {args.json}")
    plots = plot(records, args.plots) if args.plots else []
    for p in plots:
        say(f"wrote {p}")
    print(render(records), flush=True)
    if args.write_docs:
        # a CPU table keeps its own section: the GPU run's table does not replace it
        gpu = any("CUDA" in (r.get("device") or "") for r in records)
        write_docs(args.docs, "bench_volumes", SECTION if gpu else SECTION + "-cpu",
                   section(records, meta, plots, args.docs))
    return 1 if any(r.get("error") and not r["error"].startswith("unreachable") for r in records) else 0


def add_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("rate-distortion mode (--rd)")
    g.add_argument("--rd", action="store_true", help="ngsdk at --ratios vs ZFP and SZ3 at the same bytes")
    g.add_argument("--ratios", default=",".join(f"{r:g}" for r in DEFAULT_RATIOS),
                   help="comma-separated compression ratios (default 10,50,100,300)")
    g.add_argument("--no-train", action="store_true", help="no ngsdk rows (baselines only, or add to --from-json)")
    g.add_argument("--no-baselines", action="store_true", help="no ZFP/SZ3 rows (the GPU machine)")
    g.add_argument("--from-json", type=Path, nargs="+", help="start from saved --rd records (merge; rows present "
                   "are kept, missing ones run)")
    g.add_argument("--plots", type=Path, help="folder for one PSNR-vs-ratio PNG per volume (matplotlib)")


def parse_ratios(text: str) -> list[float]:
    try:
        ratios = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise SystemExit(f"error: --ratios {text!r}: expected numbers, e.g. 10,50,100,300") from None
    if not ratios or any(not (r >= 1 and math.isfinite(r)) for r in ratios):
        raise SystemExit(f"error: --ratios {text!r}: every ratio must be >= 1")
    return ratios


def today() -> str:
    return datetime.date.today().isoformat()


if __name__ == "__main__":
    sys.exit("run tools/bench_volumes.py --rd")

"""Library scaling of ``ngsdk batch texture``: the shared materials with 1 and 2 (``--workers``) local Ray workers.

One local Ray is started for the whole run (its start-up is reported apart); each worker count trains the
whole library into a fresh output folder with ``--max-parallel W``, so every run does the same work (fixed
``--steps``). Reported per run: wall time of the batch, mean per-material task time, speed-up over the first
worker count and scaling efficiency (speed-up / worker ratio), all from the same run of this script.

    python tools/bench_batch.py                        # CPU, maps downscaled to 256, 200 steps, 1 and 2 workers
    python tools/bench_batch.py --device cuda --gpus-per-task 0.5 --size 1024 --steps 2000
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import say  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / ".." / "shared" / "data" / "textures"


def downscaled_library(src: Path, dst: Path, size: int, only: list[str] | None) -> list[str]:
    """Copy every material folder of ``src`` with its maps box-filtered to at most ``size`` texels a side."""
    from ngsdk.batch.library import find_materials

    names = []
    for item in find_materials(src):
        if only and item.name not in only:
            continue
        for f in item.files:
            out = dst / item.name / f
            out.parent.mkdir(parents=True, exist_ok=True)
            with Image.open(item.source / f) as im:
                if max(im.size) > size:
                    scale = size / max(im.size)
                    im = im.resize((round(im.width * scale), round(im.height * scale)), Image.Resampling.BOX)
                im.save(out.with_suffix(".png"))
        names.append(item.name)
    return names


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA, help="Library of material folders.")
    ap.add_argument("--materials", help="Comma-separated material names (default: all).")
    ap.add_argument("--size", type=int, default=256, help="Downscale maps to at most this many texels a side.")
    ap.add_argument("--workers", default="1,2", help="Worker counts to compare (--max-parallel).")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--bpp", type=float, default=5.0)
    ap.add_argument("--device", default="cpu", help="cpu or cuda (the tasks' device).")
    ap.add_argument("--cpus-per-task", type=float, default=1.0)
    ap.add_argument("--gpus-per-task", type=float, default=None, help="Default: 1 / the largest worker count "
                                                                      "with --device cuda, else 0.")
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--json", type=Path, help="Also write the figures here.")
    args = ap.parse_args()

    from ngsdk.batch.driver import BatchSpec, run_batch
    from ngsdk.batch.library import find_materials
    from ngsdk.batch.pool import Resources, local_gpus, start_ray, stop_ray
    from ngsdk.batch.texture_task import train_material
    from ngsdk.textures.config import TextureTrainConfig

    workers = [int(w) for w in args.workers.split(",")]
    cuda = args.device.startswith("cuda")
    gpus = args.gpus_per_task if args.gpus_per_task is not None else (1.0 / max(workers) if cuda else 0.0)
    res = Resources(cpus=args.cpus_per_task, gpus=gpus)
    tmp = Path(tempfile.mkdtemp(prefix="bench_batch-"))
    try:
        lib = tmp / "library"
        names = downscaled_library(args.data, lib, args.size,
                                   args.materials.split(",") if args.materials else None)
        say(f"{len(names)} materials ({', '.join(names)}) at <= {args.size} px; {args.steps} steps, {args.bpp} bpp")
        t0 = time.perf_counter()
        cpus = max(1, int(max(workers) * args.cpus_per_task + 0.999))
        cluster = start_ray(num_cpus=cpus, num_gpus=local_gpus() if cuda else 0)
        ray_start = time.perf_counter() - t0
        say(f"local Ray: {cluster.get('CPU', 0):g} CPUs, {cluster.get('GPU', 0):g} GPUs, started in {ray_start:.1f} s")
        cfg = TextureTrainConfig(bpp=args.bpp, steps=args.steps, device="cuda" if cuda else "cpu",
                                 batch_size=args.batch_size)
        spec = BatchSpec("texture", find_materials, train_material, cfg.to_dict(), {"target_psnr": None})
        runs = []
        for w in workers:
            out = tmp / f"out_{w}"
            s = run_batch(lib, out, spec, resources=res, max_parallel=w, log=say)
            rows = json.loads((out / "report.json").read_text())["items"]
            per = [r["task_seconds"] for r in rows if r["status"] == "ok"]
            if s.failed:
                say(f"failed: {s.failed}")
            runs.append({"workers": w, "wall_s": s.seconds, "materials": len(per),
                         "per_material_s": sum(per) / max(1, len(per)),
                         "train_s": sum(r["train_seconds"] for r in rows if r["status"] == "ok") / max(1, len(per)),
                         "psnr_db": {r["name"]: r.get("psnr_db") for r in rows}})
        base = runs[0]
        for r in runs:
            r["speedup"] = base["wall_s"] / r["wall_s"]
            r["efficiency"] = r["speedup"] / (r["workers"] / base["workers"])
    finally:
        stop_ray()
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"ngsdk batch texture: {len(names)} materials at <= {args.size} px, {args.steps} steps, "
          f"device {args.device}, {res.cpus:g} CPU + {res.gpus:g} GPU per task; Ray start-up {ray_start:.1f} s")
    print("| workers | wall (s) | per material (s) | of which training (s) | speed-up | efficiency |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in runs:
        print(f"| {r['workers']} | {r['wall_s']:.1f} | {r['per_material_s']:.1f} | {r['train_s']:.1f} | "
              f"{r['speedup']:.2f} | {r['efficiency']:.0%} |")
    if args.json:
        args.json.write_text(json.dumps({"materials": names, "size": args.size, "steps": args.steps,
                                         "device": args.device, "ray_start_s": ray_start, "runs": runs}, indent=1))


if __name__ == "__main__":
    main()

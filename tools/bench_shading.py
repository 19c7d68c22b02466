"""PSNR against training time for shading MLPs: the seed's loop in plain PyTorch vs ngsdk's trainer.

(a) ``seed``: a plain PyTorch re-implementation of RTX Neural Shading's "Simple Training" loop:
    12 -> 64x4 -> 3, LeakyReLU, sigmoid, library sin/cos frequency encoding, 32x32 = 1024 random
    UVs per step with nearest texel targets, Adam (lr 1e-3) with float32 master weights, fp16
    autocast and a loss scale of 1024 on CUDA (float32 on the CPU), eager mode.
(b) ``ours``: ngsdk.shading.train with larger batches, torch.compile, fused Adam, a learning rate
    schedule over the budget and native fp16 (CUDA); compilation happens in untimed warm-up steps.

Both run on the same images in the same process; the clocks exclude evaluations (PSNR of the
torch model on every texel centre). Prints a table and optionally writes JSON.

    python tools/bench_shading.py                 # CUDA: kodim01..12, seed 15 s vs ours 3 s
    python tools/bench_shading.py --quick         # CPU smoke test: 2 small crops, seconds each
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a plain script: its tools.* siblings import from the checkout
    sys.path.insert(0, str(REPO))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from ngsdk.shading.images import load_image  # noqa: E402
from ngsdk.shading.train import ShadingTrainConfig, train_shading  # noqa: E402
from tools.bench_common import device_description, resolve_device  # noqa: E402

# --------------------------------------------------------------------------- (a) the seed's loop


def seed_encoding(uv: torch.Tensor) -> torch.Tensor:
    """RTXNS EncodeFrequency: per input sin(pi x), cos(pi x), then two double-angle steps."""
    cols = []
    for i in range(uv.shape[1]):
        a = uv[:, i] * math.pi
        s, c = torch.sin(a), torch.cos(a)
        cols += [s, c]
        for _ in range(2):
            s, c = 2 * s * c, 2 * c * c - 1
            cols += [s, c]
    return torch.stack(cols, dim=1)


def seed_network(generator: torch.Generator) -> nn.Sequential:
    layers: list[nn.Module] = []
    sizes = [12, 64, 64, 64, 64, 3]
    for i, (a, b) in enumerate(zip(sizes, sizes[1:], strict=False)):
        lin = nn.Linear(a, b)
        with torch.no_grad():  # the seed's initialisation
            lin.weight.copy_((torch.rand(b, a, generator=generator) * 2 - 1) * math.sqrt(6 / (a + b)))
            lin.bias.copy_((torch.rand(b, generator=generator) * 2 - 1) * math.sqrt(6 / b))
        layers += [lin, nn.Sigmoid() if i == len(sizes) - 2 else nn.LeakyReLU(0.01)]
    return nn.Sequential(*layers)


def run_seed(
    image: np.ndarray, device: torch.device, seconds: float, marks: list[float], seed: int
) -> list[dict]:
    """The seed's loop for ``seconds`` of training; PSNR at each mark (clock paused while evaluating)."""
    h, w = image.shape[:2]
    if device.type == "cpu":
        torch.set_num_threads(1)  # as ours picks for small batches: fastest, and no thread contention
    img = torch.from_numpy(image).to(device)
    gen = torch.Generator().manual_seed(seed)
    net = seed_network(gen).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    cuda = device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", init_scale=1024.0, growth_interval=1 << 30) if cuda else None
    sample = torch.Generator(device=device).manual_seed(seed + 1)
    xs = (torch.arange(w, device=device) + 0.5) / w
    ys = (torch.arange(h, device=device) + 0.5) / h
    eval_uv = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1).reshape(-1, 2)
    eval_ref = img.reshape(-1, 3)

    def psnr() -> float:
        with torch.no_grad(), torch.autocast(device.type, torch.float16, enabled=cuda):
            pred = net(seed_encoding(eval_uv)).float()
        return 10 * math.log10(1 / float(torch.mean((pred - eval_ref) ** 2)))

    out, paused, step = [], 0.0, 0
    todo = sorted(marks)
    t0 = time.perf_counter()
    while True:
        elapsed = time.perf_counter() - t0 - paused
        if todo and elapsed >= todo[0]:
            if cuda:
                torch.cuda.synchronize()
            t_e = time.perf_counter()
            at = t_e - t0 - paused
            while todo and at >= todo[0]:
                todo.pop(0)
            out.append({"seconds": at, "step": step, "psnr": psnr()})
            paused += time.perf_counter() - t_e
        if elapsed >= seconds:
            break
        uv = torch.rand((1024, 2), generator=sample, device=device)
        x = torch.floor(uv[:, 0] * w).clamp(0, w - 1).long()
        y = torch.floor(uv[:, 1] * h).clamp(0, h - 1).long()
        target = img[y, x]
        with torch.autocast(device.type, torch.float16, enabled=cuda):
            pred = net(seed_encoding(uv))
        loss = ((pred.float() - target) ** 2).sum(dim=1).mean()
        opt.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        else:
            loss.backward()
            opt.step()
        step += 1
    return out


# --------------------------------------------------------------------------- (b) ours


def run_ours(
    image: np.ndarray,
    device: str,
    seconds: float,
    marks: list[float],
    seed: int,
    batch: int,
    lr: float,
    compile_: bool,
    exact: bool,
) -> tuple[list[dict], dict]:
    cuda = device == "cuda"
    cfg = ShadingTrainConfig(
        time_budget=seconds,
        device=device,
        seed=seed,
        batch_size=batch,
        lr=lr,
        lr_min=lr / 10,
        lr_schedule="budget",
        compile=compile_ and cuda,
        fused_adam=cuda,
        eval_every=1e9,
        eval_texels=image.shape[0] * image.shape[1],
        eval_at=tuple(marks),
        warmup_steps=20 if cuda else 2,
        threads=None,
    )
    res = train_shading(image, cfg, progress=False, exact_metrics=exact)
    return res.history, res.metrics


def _at(history: list[dict], t: float) -> float:
    """PSNR of the first evaluation taken at or after ``t`` seconds of training (the one for mark t)."""
    later = [h["psnr"] for h in history if h["seconds"] >= t - 1e-9]
    return later[0] if later else float("nan")


def _time_to(history: list[dict], psnr: float) -> float:
    for h in history:
        if h["psnr"] >= psnr:
            return h["seconds"]
    return float("inf")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=Path, default=REPO / ".." / "shared" / "data" / "images")
    ap.add_argument("--count", type=int, default=12, help="kodim01..kodimNN")
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    ap.add_argument("--seed-seconds", type=float, default=15.0, help="training time of the seed's loop")
    ap.add_argument("--ours-seconds", type=float, default=3.0, help="training budget of ours")
    ap.add_argument("--batch", type=int, default=1 << 16, help="our batch size")
    ap.add_argument("--lr", type=float, default=4e-3, help="our base learning rate")
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument(
        "--exact", action="store_true", help="also report ours' exact fp16 decode PSNR (numpy, slow)"
    )
    ap.add_argument("--quick", action="store_true", help="CPU smoke test: 2 crops of 128x96, short runs")
    ap.add_argument("--json", type=Path, help="write all curves and the table here")
    ap.add_argument("--rng-seed", type=int, default=0)
    args = ap.parse_args(argv)

    device = resolve_device("cpu" if args.quick and args.device == "auto" else args.device)
    if args.quick:
        args.count, args.seed_seconds, args.ours_seconds = min(args.count, 2), 2.0, 1.0
        args.batch, args.lr = min(args.batch, 2048), min(args.lr, 2e-3)
    names = [f"kodim{i:02d}.png" for i in range(1, args.count + 1)]
    seed_marks = sorted({m for m in (0.5, 1, 2, 3, 5, 10, 15, args.seed_seconds) if m <= args.seed_seconds})
    ours_marks = sorted({m for m in (0.25, 0.5, 1, 2, 3, args.ours_seconds) if m <= args.ours_seconds})
    info = device_description(device)
    print(
        f"# shading MLP bench on {info}; seed loop {args.seed_seconds:g} s, "
        f"ours {args.ours_seconds:g} s (batch {args.batch}, lr {args.lr:g}, "
        f"compile {not args.no_compile and device == 'cuda'})"
    )
    rows, curves = [], {}
    for name in names:
        image = load_image(args.images / name)
        if args.quick:
            image = np.ascontiguousarray(image[200:296, 300:428])
        seed_hist = run_seed(image, torch.device(device), args.seed_seconds, seed_marks, args.rng_seed)
        ours_hist, metrics = run_ours(
            image,
            device,
            args.ours_seconds,
            ours_marks,
            args.rng_seed,
            args.batch,
            args.lr,
            not args.no_compile,
            args.exact,
        )
        target = _at(seed_hist, args.seed_seconds)
        row = {
            "image": name,
            "seed": {f"{m:g}s": _at(seed_hist, m) for m in seed_marks},
            "ours": {f"{m:g}s": _at(ours_hist, m) for m in ours_marks},
            "ours_time_to_seed_final": _time_to(ours_hist, target),
            "seed_steps": seed_hist[-1]["step"],
            "ours_steps": metrics["steps"],
        }
        if args.exact:
            row["ours_exact_fp16"] = metrics.get("psnr_fp16")
        rows.append(row)
        curves[name] = {"seed": seed_hist, "ours": ours_hist}
        print(
            f"{name}: seed {target:.2f} dB after {args.seed_seconds:g} s ({row['seed_steps']} steps); ours "
            f"{_at(ours_hist, args.ours_seconds):.2f} dB after {args.ours_seconds:g} s ({row['ours_steps']} "
            f"steps), reaches the seed's final PSNR at {row['ours_time_to_seed_final']:.2f} s",
            flush=True,
        )

    cols_s = [f"{m:g}s" for m in seed_marks]
    cols_o = [f"{m:g}s" for m in ours_marks]
    print()
    print(
        "| image | "
        + " | ".join(f"seed {c}" for c in cols_s)
        + " | "
        + " | ".join(f"ours {c}" for c in cols_o)
        + " | ours: time to seed's final |"
    )
    print("|---" * (2 + len(cols_s) + len(cols_o)) + "|")
    for r in rows + [_mean_row(rows, cols_s, cols_o)]:
        print(
            f"| {r['image']} | "
            + " | ".join(f"{r['seed'][c]:.2f}" for c in cols_s)
            + " | "
            + " | ".join(f"{r['ours'][c]:.2f}" for c in cols_o)
            + f" | {r['ours_time_to_seed_final']:.2f} s |"
        )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "device": info,
                    "args": {k: str(v) for k, v in vars(args).items()},
                    "rows": rows,
                    "curves": curves,
                },
                indent=1,
            )
        )
    return 0


def _mean_row(rows: list[dict], cols_s: list[str], cols_o: list[str]) -> dict:
    t = [r["ours_time_to_seed_final"] for r in rows]
    return {
        "image": "**mean**",
        "seed": {c: float(np.mean([r["seed"][c] for r in rows])) for c in cols_s},
        "ours": {c: float(np.mean([r["ours"][c] for r in rows])) for c in cols_o},
        "ours_time_to_seed_final": float(np.mean(t)) if all(math.isfinite(x) for x in t) else float("inf"),
    }


if __name__ == "__main__":
    sys.exit(main())

"""Training checkpoints as npz + JSON (no pickles): model, Adam state, RNG, step, history, parameter average."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import torch

from ngsdk.asset.atomic import atomic_write_bytes
from ngsdk.asset.errors import AssetError
from ngsdk.asset.safe_read import loads_strict
from ngsdk.runtime_ref.npz import read_npz


def _rng_state(gen: torch.Generator | None, device: torch.device) -> torch.Tensor:
    # None: the device's default generator (what captured CUDA graphs draw from)
    return gen.get_state() if gen is not None else torch.cuda.get_rng_state(device)


def _plain(v):
    return float(v) if torch.is_tensor(v) else v


def save_checkpoint(path: str | Path, model: torch.nn.Module, opt: torch.optim.Optimizer,
                    gen: torch.Generator | None, step: int, elapsed: float, history: list,
                    ema: list[torch.Tensor] | None = None) -> None:
    arrays: dict[str, np.ndarray] = {}
    for i, e in enumerate(ema or []):
        arrays[f"ema/{i}"] = e.detach().cpu().numpy()
    for name, p in model.state_dict().items():
        arrays[f"model/{name}"] = p.detach().cpu().numpy()
    sd = opt.state_dict()
    for pid, st in sd["state"].items():
        for k, v in st.items():
            arrays[f"opt/{pid}/{k}"] = v.detach().cpu().numpy() if torch.is_tensor(v) else np.asarray(v)
    device = next(model.parameters()).device
    arrays["rng"] = _rng_state(gen, device).cpu().numpy()
    meta = {"step": step, "elapsed": elapsed, "history": history,
            "param_groups": [{k: _plain(v) for k, v in g.items() if k != "params"} | {"params": g["params"]}
                             for g in sd["param_groups"]]}
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())


def load_checkpoint(path: str | Path, model: torch.nn.Module, opt: torch.optim.Optimizer,
                    gen: torch.Generator | None) -> tuple[int, float, list, list[torch.Tensor]]:
    """Restore model, optimizer and RNG in place; returns (step, elapsed seconds, history, the parameter
    average on the model's device: empty before the average starts).

    A capturable optimizer (CUDA graphs) keeps its step counters on the device and its learning
    rates as tensors: both are put back in that form."""
    try:
        arrays = read_npz(path)
    except AssetError as e:
        raise AssetError(path, f"not a readable ngsdk checkpoint ({e.problem})") from None
    try:
        meta = loads_strict(arrays.pop("meta").tobytes().decode("utf-8"), path)
        int(meta["step"]), float(meta["elapsed"]), list(meta["history"]), arrays["rng"]
    except (KeyError, TypeError, ValueError, UnicodeDecodeError) as e:
        raise AssetError(path, f"not a readable ngsdk checkpoint (meta: {type(e).__name__}: {e})") from None
    bad = [k for k, v in arrays.items() if v.dtype.kind in "fc" and not np.isfinite(v).all()]
    if bad:
        raise AssetError(path, f"checkpoint array {bad[0]!r} holds NaN or infinite values")
    device = next(model.parameters()).device
    state = {k[len("model/"):]: torch.from_numpy(v) for k, v in arrays.items() if k.startswith("model/")}
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise AssetError(path, f"checkpoint does not fit this model/config: {str(e).splitlines()[0]}") from None
    opt_state: dict[int, dict] = {}
    for k, v in arrays.items():
        if k.startswith("opt/"):
            _, pid, name = k.split("/", 2)
            t = torch.from_numpy(v)
            capturable = bool(opt.param_groups[0].get("capturable", False))
            opt_state.setdefault(int(pid), {})[name] = t.to(device) if name != "step" or capturable else t
    lr_tensors = [g["lr"] for g in opt.param_groups]
    try:
        opt.load_state_dict({"state": opt_state, "param_groups": meta["param_groups"]})
    except (ValueError, KeyError) as e:
        raise AssetError(path, f"checkpoint's optimizer does not fit this model/config: {e}") from None
    for g, lr in zip(opt.param_groups, lr_tensors):
        if torch.is_tensor(lr):
            lr.fill_(float(g["lr"]))
            g["lr"] = lr
    rng = torch.from_numpy(arrays["rng"])
    if gen is not None:
        gen.set_state(rng)
    else:
        torch.cuda.set_rng_state(rng, device)
    params = list(model.parameters())
    ema = [torch.from_numpy(arrays[f"ema/{i}"]).to(device) for i in range(len(params)) if f"ema/{i}" in arrays]
    if ema and [e.shape for e in ema] != [p.shape for p in params]:
        raise AssetError(path, "checkpoint's parameter average does not fit this model/config")
    return int(meta["step"]), float(meta["elapsed"]), list(meta["history"]), ema

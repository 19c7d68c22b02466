"""Training checkpoints as npz + JSON (no pickles): model, Adam state, RNG, step, history."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import torch

from ngsdk.asset.atomic import atomic_write_bytes
from ngsdk.asset.errors import AssetError


def save_checkpoint(path: str | Path, model: torch.nn.Module, opt: torch.optim.Optimizer,
                    gen: torch.Generator, step: int, elapsed: float, history: list) -> None:
    arrays: dict[str, np.ndarray] = {}
    for name, p in model.state_dict().items():
        arrays[f"model/{name}"] = p.detach().cpu().numpy()
    sd = opt.state_dict()
    for pid, st in sd["state"].items():
        for k, v in st.items():
            arrays[f"opt/{pid}/{k}"] = v.detach().cpu().numpy() if torch.is_tensor(v) else np.asarray(v)
    arrays["rng"] = gen.get_state().cpu().numpy()
    meta = {"step": step, "elapsed": elapsed, "history": history,
            "param_groups": [{k: v for k, v in g.items() if k != "params"} | {"params": g["params"]}
                             for g in sd["param_groups"]]}
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())


def load_checkpoint(path: str | Path, model: torch.nn.Module, opt: torch.optim.Optimizer,
                    gen: torch.Generator) -> tuple[int, float, list]:
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(arrays.pop("meta").tobytes())
    except (OSError, ValueError, KeyError) as e:
        raise AssetError(path, f"not a readable ngsdk checkpoint ({e})") from None
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
            opt_state.setdefault(int(pid), {})[name] = t.to(device) if name != "step" else t
    opt.load_state_dict({"state": opt_state, "param_groups": meta["param_groups"]})
    gen.set_state(torch.from_numpy(arrays["rng"]))
    return int(meta["step"]), float(meta["elapsed"]), list(meta["history"])

"""Training checkpoints as npz + JSON (no pickles): model (float or QAT graph), optimizer, sampler RNG,
phase, step counts and history."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ngsdk.asset.atomic import atomic_write_bytes
from ngsdk.asset.errors import AssetError

FORMAT = "ngsdk.supersampling.checkpoint/1"


def save(path: str | Path, model: torch.nn.Module, opt: torch.optim.Optimizer, gen: torch.Generator,
         meta: dict[str, Any], extra: dict[str, np.ndarray] | None = None) -> None:
    """Write everything a resume needs; ``meta`` is JSON (phase, steps, elapsed, history, config),
    ``extra`` more arrays (names must not start with ``model/``, ``opt/``)."""
    arrays: dict[str, np.ndarray] = dict(extra or {})
    for name, t in model.state_dict().items():
        arrays[f"model/{name}"] = t.detach().cpu().numpy()
    sd = opt.state_dict()
    for pid, st in sd["state"].items():
        for k, v in st.items():
            arrays[f"opt/{pid}/{k}"] = v.detach().cpu().numpy() if torch.is_tensor(v) else np.asarray(v)
    arrays["rng"] = gen.get_state().numpy()
    groups = [{k: (float(v) if torch.is_tensor(v) else v) for k, v in g.items()} for g in sd["param_groups"]]
    arrays["meta"] = np.frombuffer(json.dumps({"format": FORMAT, **meta, "param_groups": groups}).encode(), np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())


def read(path: str | Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(meta, arrays) of a checkpoint; one-line errors naming the file."""
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(arrays.pop("meta").tobytes())
    except (OSError, ValueError, KeyError) as e:
        raise AssetError(path, f"not a readable ngsdk checkpoint ({e})") from None
    if meta.get("format") != FORMAT:
        raise AssetError(path, f"not a super-sampling checkpoint (format {meta.get('format')!r})")
    return meta, arrays


def restore(path: str | Path, arrays: dict[str, np.ndarray], meta: dict[str, Any], model: torch.nn.Module,
            opt: torch.optim.Optimizer, gen: torch.Generator) -> None:
    """Load model, optimizer and RNG state in place (the model must already be in the saved phase's form)."""
    device = next(model.parameters()).device
    state = {k[len("model/"):]: torch.from_numpy(v).to(device) for k, v in arrays.items() if k.startswith("model/")}
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise AssetError(path, f"checkpoint does not fit this model: {str(e).splitlines()[0]}") from None
    opt_state: dict[int, dict] = {}
    for k, v in arrays.items():
        if k.startswith("opt/"):
            _, pid, name = k.split("/", 2)
            t = torch.from_numpy(v)
            opt_state.setdefault(int(pid), {})[name] = t if name == "step" else t.to(device)
    try:
        opt.load_state_dict({"state": opt_state, "param_groups": meta["param_groups"]})
    except (ValueError, KeyError) as e:
        raise AssetError(path, f"checkpoint's optimizer does not fit this model: {e}") from None
    gen.set_state(torch.from_numpy(arrays["rng"]))

"""Start from a Neural Graphics Model Gym NSS checkpoint (v0.2 model layout) by key mapping (torch).

The gym saves ``{"model_state_dict": ...}`` of its recurrent wrapper: keys such as
``ng_model.autoencoder.conv2d_1.bn.weight`` (older files: ``nss_model.``) and
``ng_model.dm_scale_on_no_motion``. Those map onto :class:`NSSModel` as ``net.conv2d_1.bn.weight`` and
``dm_scale``. ``.pt`` files are read with ``torch.load(weights_only=True)`` (tensors and plain containers
only, never arbitrary objects); ``.safetensors`` files work too.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

from ngsdk.asset.errors import AssetError
from ngsdk.supersampling.lpips import read_weights
from ngsdk.supersampling.pipeline import NSSModel

PREFIXES = ("module.", "ng_model.", "nss_model.", "model.")


def map_gym_keys(state: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], list[str]]:
    """(our state dict, gym keys left unmapped)."""
    out: dict[str, torch.Tensor] = {}
    skipped = []
    for key, value in state.items():
        k = key
        for p in PREFIXES:
            if k.startswith(p):
                k = k[len(p):]
        if k == "dm_scale_on_no_motion":
            out["dm_scale"] = value.reshape(1).float()
        elif k.startswith("autoencoder."):
            out["net." + k[len("autoencoder."):]] = value
        elif re.match(r"(conv2d_\d+|kpn_\d+_\d+_out_conv|temporal_params_out_conv|feedback_out_conv)\.", k):
            out["net." + k] = value
        else:
            skipped.append(key)
    return out, skipped


def load_gym_checkpoint(path: str | Path, model: NSSModel) -> list[str]:
    """Copy a gym checkpoint's weights into ``model`` (float, not yet QAT-prepared); returns notes."""
    path = Path(path)
    state = read_weights(path)
    if any(k.endswith("kpn_params.conv2d.weight") for k in state):
        raise AssetError(path, "is a gym NSS v0.3+ checkpoint (one 6x6 kernel head, no feedback); ngsdk "
                               "implements the v0.2 network of 132,392 parameters")
    mapped, skipped = map_gym_keys(state)
    own = model.state_dict()
    missing = [k for k in own if k not in mapped]
    if missing:
        raise AssetError(path, f"lacks {len(missing)} of the model's tensors (first: {missing[0]}); "
                               f"is it a gym NSS v0.2 float checkpoint?")
    for k, v in mapped.items():
        if k in own and tuple(v.shape) != tuple(own[k].shape):
            raise AssetError(path, f"{k} has shape {tuple(v.shape)}, the model {tuple(own[k].shape)}")
    model.load_state_dict({k: v for k, v in mapped.items() if k in own})
    notes = [f"initialised from gym checkpoint {path.name} ({len(own)} tensors)"]
    extra = [k for k in mapped if k not in own] + skipped
    if extra:
        notes.append(f"ignored {len(extra)} checkpoint entries (first: {extra[0]})")
    return notes

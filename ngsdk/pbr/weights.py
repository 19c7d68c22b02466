"""Weights on disk, never pickles: the model file (npz with the spec as JSON), backbone initialisation from
safetensors or npz, and training checkpoints (generator, discriminator, optimizers, RNG, step).

No pretrained weights can be downloaded here; ``load_backbone`` takes a state dict a user brings (e.g. a
torchvision ResNet or MobileNetV3 state dict saved with ``safetensors.torch.save_file``), matched by name.
"""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ngsdk.asset.atomic import atomic_write_bytes
from ngsdk.asset.errors import AssetError
from ngsdk.pbr.config import ModelSpec
from ngsdk.pbr.model import PBRGenerator, build_model

MODEL_FORMAT = "ngsdk.pbr.model/1"
_SAFETENSORS_DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32,
                       "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}


def _json_array(obj: Any) -> np.ndarray:
    return np.frombuffer(json.dumps(obj, sort_keys=True).encode(), dtype=np.uint8)


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An uncompressed npz file in memory."""
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def state_arrays(module: nn.Module) -> dict[str, np.ndarray]:
    """The state dict (parameters and BN statistics) as float32/int64 numpy arrays."""
    return {k: v.detach().cpu().numpy().copy() for k, v in module.state_dict().items()}


def save_model(model: PBRGenerator, path: str | Path, *, info: dict[str, Any] | None = None) -> None:
    """Write ``path`` (.npz): ``model/<name>`` arrays plus ``meta`` (format, spec, ``info``) as JSON bytes."""
    arrays = {f"model/{k}": v for k, v in state_arrays(model).items()}
    arrays["meta"] = _json_array({"format": MODEL_FORMAT, "spec": model.spec.to_dict(), "info": info or {}})
    atomic_write_bytes(path, npz_bytes(arrays))


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise AssetError(path, "file does not exist") from None
    except (OSError, ValueError, EOFError) as e:
        raise AssetError(path, f"not a readable npz file ({e})") from None


def load_model(path: str | Path) -> tuple[PBRGenerator, dict[str, Any]]:
    """Rebuild a model written by :func:`save_model`; returns (model in eval mode, info)."""
    path = Path(path)
    arrays = _read_npz(path)
    try:
        meta = json.loads(arrays.pop("meta").tobytes())
        if meta.get("format") != MODEL_FORMAT:
            raise ValueError(f"format {meta.get('format')!r}, expected {MODEL_FORMAT}")
        spec = ModelSpec.from_dict(meta["spec"])
    except (KeyError, ValueError, TypeError) as e:
        raise AssetError(path, f"not an ngsdk PBR model file ({e})") from None
    model = build_model(spec)
    _load_state(model, {k[6:]: v for k, v in arrays.items() if k.startswith("model/")}, path)
    return model.eval(), meta.get("info", {})


def _load_state(module: nn.Module, arrays: dict[str, np.ndarray], path: Path) -> None:
    try:
        module.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in arrays.items()})
    except RuntimeError as e:
        raise AssetError(path, f"weights do not fit this model: {str(e).splitlines()[0]}") from None


def read_safetensors(path: str | Path) -> dict[str, np.ndarray]:
    """Read a safetensors file (header length, JSON header, raw little-endian data); BF16 widens to float32."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise AssetError(path, f"cannot read file: {e.strerror or e}") from None
    if len(raw) < 8:
        raise AssetError(path, "not a safetensors file (shorter than its header length)")
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise AssetError(path, "not a safetensors file (header runs past the end)")
    try:
        header = json.loads(raw[8:8 + n])
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise AssetError(path, "not a safetensors file (header is not JSON)") from None
    data = memoryview(raw)[8 + n:]
    out: dict[str, np.ndarray] = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype, shape, (start, end) = entry["dtype"], entry["shape"], entry["data_offsets"]
        except (KeyError, TypeError, ValueError):
            raise AssetError(path, f"tensor {name!r}: malformed header entry") from None
        if not 0 <= start <= end <= len(data):
            raise AssetError(path, f"tensor {name!r}: data offsets {start}..{end} outside the file")
        if dtype == "BF16":
            bits = np.frombuffer(data[start:end], dtype="<u2").astype(np.uint32) << 16
            arr = bits.view(np.float32)
        elif dtype in _SAFETENSORS_DTYPES:
            arr = np.frombuffer(data[start:end], dtype=np.dtype(_SAFETENSORS_DTYPES[dtype]).newbyteorder("<"))
        else:
            raise AssetError(path, f"tensor {name!r}: unsupported dtype {dtype}")
        if arr.size != int(np.prod(shape)):
            raise AssetError(path, f"tensor {name!r}: {arr.size} values for shape {shape}")
        out[name] = arr.reshape(shape).astype(arr.dtype.newbyteorder("="))
    return out


def read_state_dict(path: str | Path) -> dict[str, np.ndarray]:
    """A state dict from ``.safetensors`` or ``.npz`` (pickled ``.pt``/``.pth`` files are refused)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".safetensors":
        return read_safetensors(path)
    if suffix == ".npz":
        return _read_npz(path)
    raise AssetError(path, "backbone weights must be .safetensors or .npz (pickled .pt/.pth files are not read; "
                     "convert with safetensors.torch.save_file(model.state_dict(), 'w.safetensors'))")


def load_backbone(encoder: nn.Module, path: str | Path) -> dict[str, int]:
    """Copy the tensors of ``path`` whose names and shapes match ``encoder``'s state dict (a leading
    ``encoder.``, ``backbone.`` or ``module.`` is stripped). Returns counts of loaded, unused and untouched
    tensors; raises AssetError when nothing matches or a matching name has another shape."""
    path = Path(path)
    arrays = read_state_dict(path)
    own = encoder.state_dict()
    loaded: dict[str, torch.Tensor] = {}
    unused = 0
    for name, arr in arrays.items():
        key = name
        for prefix in ("module.", "encoder.", "backbone."):
            if key.startswith(prefix):
                key = key[len(prefix):]
        if key not in own:
            unused += 1
            continue
        if tuple(arr.shape) != tuple(own[key].shape):
            raise AssetError(path, f"tensor {name!r} has shape {tuple(arr.shape)}, the encoder's "
                             f"{key} is {tuple(own[key].shape)} (another architecture or width?)")
        loaded[key] = torch.from_numpy(np.array(arr)).to(own[key].dtype)
    if not loaded:
        raise AssetError(path, f"no tensor matches the encoder's parameter names (e.g. {next(iter(own))})")
    encoder.load_state_dict(loaded, strict=False)
    return {"loaded": len(loaded), "unused": unused, "untouched": len(own) - len(loaded)}


# ---------------------------------------------------------------------------------------------------------
# training checkpoints

def _optimizer_arrays(prefix: str, opt: torch.optim.Optimizer) -> tuple[dict[str, np.ndarray], list[dict]]:
    sd = opt.state_dict()
    arrays = {}
    for pid, st in sd["state"].items():
        for k, v in st.items():
            arrays[f"{prefix}/{pid}/{k}"] = v.detach().cpu().numpy() if torch.is_tensor(v) else np.asarray(v)
    groups = [{k: (float(v) if torch.is_tensor(v) else v) for k, v in g.items()} for g in sd["param_groups"]]
    return arrays, groups


def _restore_optimizer(opt: torch.optim.Optimizer, prefix: str, arrays: dict[str, np.ndarray], groups: list[dict],
                       device: torch.device, path: Path) -> None:
    state: dict[int, dict[str, torch.Tensor]] = {}
    for k, v in arrays.items():
        if k.startswith(prefix + "/"):
            _, pid, name = k.split("/", 2)
            t = torch.from_numpy(np.array(v))
            state.setdefault(int(pid), {})[name] = t if name == "step" else t.to(device)
    try:
        opt.load_state_dict({"state": state, "param_groups": groups})
    except (ValueError, KeyError) as e:
        raise AssetError(path, f"checkpoint's optimizer does not fit this model/config: {e}") from None


def save_checkpoint(path: str | Path, *, model: nn.Module, opt: torch.optim.Optimizer,
                    disc: nn.Module | None, opt_d: torch.optim.Optimizer | None, data_gen: torch.Generator,
                    step: int, elapsed: float, history: list, config: dict[str, Any]) -> None:
    arrays = {f"g/{k}": v for k, v in state_arrays(model).items()}
    opt_arrays, groups = _optimizer_arrays("opt_g", opt)
    arrays.update(opt_arrays)
    groups_d: list[dict] = []
    if disc is not None and opt_d is not None:
        arrays.update({f"d/{k}": v for k, v in state_arrays(disc).items()})
        d_arrays, groups_d = _optimizer_arrays("opt_d", opt_d)
        arrays.update(d_arrays)
    arrays["rng/global"] = torch.get_rng_state().numpy()
    arrays["rng/data"] = data_gen.get_state().numpy()
    arrays["meta"] = _json_array({"step": step, "elapsed": elapsed, "history": history, "config": config,
                                  "groups_g": groups, "groups_d": groups_d})
    atomic_write_bytes(path, npz_bytes(arrays))


def load_checkpoint(path: str | Path, *, model: nn.Module, opt: torch.optim.Optimizer, disc: nn.Module | None,
                    opt_d: torch.optim.Optimizer | None, data_gen: torch.Generator) -> tuple[int, float, list, dict]:
    """Restore everything in place; returns (step, elapsed seconds, history, recorded config)."""
    path = Path(path)
    arrays = _read_npz(path)
    try:
        meta = json.loads(arrays.pop("meta").tobytes())
        step, elapsed, history, config = meta["step"], meta["elapsed"], meta["history"], meta["config"]
    except (KeyError, ValueError) as e:
        raise AssetError(path, f"not an ngsdk PBR checkpoint ({e})") from None
    device = next(model.parameters()).device
    _load_state(model, {k[2:]: v for k, v in arrays.items() if k.startswith("g/")}, path)
    _restore_optimizer(opt, "opt_g", arrays, meta["groups_g"], device, path)
    has_d = any(k.startswith("d/") for k in arrays)
    if (disc is not None) != has_d:
        raise AssetError(path, "checkpoint and config disagree about the GAN discriminator")
    if disc is not None and opt_d is not None:
        _load_state(disc, {k[2:]: v for k, v in arrays.items() if k.startswith("d/")}, path)
        _restore_optimizer(opt_d, "opt_d", arrays, meta["groups_d"], device, path)
    torch.set_rng_state(torch.from_numpy(np.array(arrays["rng/global"])))
    data_gen.set_state(torch.from_numpy(np.array(arrays["rng/data"])))
    return int(step), float(elapsed), list(history), dict(config)

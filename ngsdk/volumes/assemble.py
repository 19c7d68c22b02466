"""A neural volume asset from trained bricks: provenance, the decode in the bundle's arithmetic (the
reference hash ``ngsdk verify`` checks) and the final metrics, from :mod:`ngsdk.volumes.strict`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ngsdk import __version__
from ngsdk.asset.digest import decode_hash, sha256_file
from ngsdk.asset.neural_volume import NeuralVolumeAsset, Normalization, VolumeBrick
from ngsdk.asset.types import Provenance
from ngsdk.metrics import psnr
from ngsdk.volumes.baselines import decode_bytes
from ngsdk.volumes.config import VolumeTrainConfig
from ngsdk.volumes.strict import reconstruct


@dataclass
class TrainResult:
    asset: NeuralVolumeAsset
    steps: int
    seconds: float
    metrics: dict[str, Any]
    history: list[dict[str, float]] = field(default_factory=list)
    reconstruction: np.ndarray | None = None
    finalize_seconds: float = 0.0


def volume_metrics(decoded: np.ndarray, source: np.ndarray) -> dict[str, float]:
    """PSNR (peak 1) and error statistics of a normalized reconstruction."""
    diff = decoded.astype(np.float64) - source.astype(np.float64)
    mse = float(np.mean(diff**2))
    return {"psnr_db": psnr(mse), "rmse": math.sqrt(mse), "max_abs_error": float(np.abs(diff).max())}


def finalize_asset(asset: NeuralVolumeAsset, values: np.ndarray, device: torch.device | str = "cpu",
                   extra: dict[str, Any] | None = None) -> np.ndarray:
    """Decode every voxel in the asset's decode arithmetic; record hash, PSNR and size in the provenance."""
    decoded = reconstruct(asset, device=device)
    asset.provenance.reference_decode["volume"] = decode_hash(decoded)
    m = volume_metrics(decoded, values)
    m.update({"compression_ratio": asset.compression_ratio(), "stored_bytes": asset.stored_bytes(),
              "source_bytes": asset.source_bytes(), "decode_mode": asset.decode_mode,
              # every byte a decoder reads, counted as the ZFP/SZ3 baselines are (ngsdk.volumes.baselines)
              "decode_bytes": decode_bytes(asset), "decode_ratio": asset.source_bytes() / decode_bytes(asset)})
    m.update(extra or {})
    asset.provenance.metrics = m
    return decoded


def make_asset(data: Any, cfg: VolumeTrainConfig, bricks: list[VolumeBrick]) -> NeuralVolumeAsset:
    """The asset of ``bricks`` trained on ``data`` (a ``VolumeData``) with ``cfg``, its provenance recorded."""
    nrm = data.normalization
    src = Path(str(data.source))
    # like texture sources: file name -> sha256 of its bytes (verify checks a --source against it)
    sources = {src.name: sha256_file(src)} if src.is_file() else {}
    return NeuralVolumeAsset(
        name=data.name, shape=tuple(int(s) for s in data.values.shape),
        normalization=Normalization(nrm.vmin, nrm.vmax, nrm.source_dtype), bricks=bricks,
        provenance=Provenance(ngsdk_version=__version__, config=cfg.to_dict(), seed=cfg.seed,
                              sources=sources),
        decode_mode=cfg.decode_mode,
    )

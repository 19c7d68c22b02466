"""Pieces every torch trainer shares: the device choice, deterministic kernels, progress records."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch


@dataclass
class TrainProgress:
    """One progress report: step (of ``total_steps`` when known), seconds so far, PSNR, phase."""

    step: int
    total_steps: int | None
    elapsed: float
    psnr: float
    phase: str
    label: str = ""
    """Which model of several (a brick of an ensemble); empty for a single model."""


def pick_device(name: str) -> torch.device:
    """``auto``, ``cpu``, ``cuda`` or ``cuda:N`` -> the torch device; a clear error when CUDA is missing."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    head, _, index = name.partition(":")
    if name not in ("cpu", "cuda") and not (head == "cuda" and index.isdigit()):
        raise ValueError(f"--device must be auto, cpu, cuda or cuda:N, got {name!r}")
    if head == "cuda" and not torch.cuda.is_available():
        build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
        raise RuntimeError(f"--device {name}: torch sees no CUDA device (torch {torch.__version__}, {build})")
    if index and int(index) >= torch.cuda.device_count():
        n = torch.cuda.device_count()
        raise RuntimeError(f"--device {name}: this machine has {n} CUDA device{'s' if n != 1 else ''} "
                           f"(cuda:0{f' to cuda:{n - 1}' if n > 1 else ''})")
    return torch.device(name)


def setup_determinism(device: torch.device) -> None:
    """Deterministic kernels where torch has them (cuBLAS needs its workspace setting before first use)."""
    if device.type == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=True)


def triton_available(device: str | torch.device) -> bool:
    """True when Triton kernels can run on ``device``: a CUDA device, or the CPU under ``TRITON_INTERPRET=1``
    (Triton's interpreter, which the tests use; it must be set before Triton is imported)."""
    try:
        import triton  # noqa: F401
    except ImportError:
        return False
    dev = torch.device(device)
    if dev.type == "cuda":
        return torch.cuda.is_available()
    return dev.type == "cpu" and os.environ.get("TRITON_INTERPRET") == "1"

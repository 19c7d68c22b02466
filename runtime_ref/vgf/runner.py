"""Run a .vgf on a Vulkan device (lavapipe by default) with the Arm ML SDK's ``scenario_runner``.

The scenario is the one ``vgf_dump --scenario-template`` derives from the VGF (so bindings and descriptor sets
come from the official tool), with the deprecated ``dispatch_graph`` command renamed to ``dispatch_vgf`` and
the placeholders replaced by .npy files in a scratch folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ngsdk.asset.errors import AssetError
from ngsdk.asset.vgf import VgfInfo, read_vgf
from ngsdk.runtime_ref.vgf.layers import emulation_layer_env
from ngsdk.toolchain import ToolchainError, require_executable


def scenario_for(
    vgf: Path, info: VgfInfo, work: Path, input_files: Sequence[Path], output_files: Sequence[Path]
) -> dict[str, Any]:
    """The scenario JSON that feeds ``input_files`` to ``vgf`` and writes ``output_files``."""
    vgf_dump = require_executable("vgf_dump", "pip package ai-ml-sdk-vgf-library==0.11.0")
    template = work / "template.json"
    r = subprocess.run(
        [vgf_dump, "--input", str(vgf), "--output", str(template), "--scenario-template"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if r.returncode != 0:
        raise AssetError(vgf, f"vgf_dump --scenario-template failed: {(r.stderr or r.stdout).strip()[-500:]}")
    scenario = json.loads(template.read_text())
    subst = {f"TEMPLATE_PATH_TENSOR_INPUT_{i}": str(p) for i, p in enumerate(input_files)}
    subst.update({f"TEMPLATE_PATH_TENSOR_OUTPUT_{i}": str(p) for i, p in enumerate(output_files)})
    used = set()
    for res in scenario.get("resources", []):
        if "graph" in res:
            res["graph"]["src"] = str(vgf)
        tensor = res.get("tensor")
        if tensor is not None:
            for key in ("src", "dst"):
                if key in tensor:
                    if tensor[key] not in subst:
                        raise AssetError(
                            vgf, f"scenario template has an unexpected tensor {key} {tensor[key]!r}"
                        )
                    used.add(tensor[key])
                    tensor[key] = subst[tensor[key]]
    if used != set(subst):
        raise AssetError(vgf, f"scenario template does not bind {sorted(set(subst) - used)}")
    for cmd in scenario.get("commands", []):
        if "dispatch_graph" in cmd:
            cmd["dispatch_vgf"] = cmd.pop("dispatch_graph")
    return scenario


def run_vgf(
    vgf_path: str | Path,
    inputs: Mapping[str, np.ndarray] | Sequence[np.ndarray],
    *,
    lavapipe: bool = True,
    timeout_s: float = 600.0,
    keep_dir: str | Path | None = None,
) -> list[np.ndarray]:
    """Run the VGF once and return its outputs in VGF order.

    ``inputs`` are keyed by the VGF's input names (``input_0`` ...) or given in order; each must have exactly
    the VGF's static shape and dtype (int8 for an int8 VGF: quantize first). ``keep_dir`` keeps the scenario,
    inputs and outputs for inspection.
    """
    vgf = Path(vgf_path).resolve()
    info = read_vgf(vgf)
    assert isinstance(info, VgfInfo)
    if isinstance(inputs, Mapping):
        missing = [t.name for t in info.inputs if t.name not in inputs]
        if missing:
            raise ValueError(
                f"{vgf}: inputs {missing} not given (VGF inputs: {[t.name for t in info.inputs]})"
            )
        arrays = [np.asarray(inputs[t.name]) for t in info.inputs]
    else:
        arrays = [np.asarray(a) for a in inputs]
        if len(arrays) != len(info.inputs):
            raise ValueError(f"{vgf}: {len(arrays)} inputs given, the VGF takes {len(info.inputs)}")
    for t, a in zip(info.inputs, arrays, strict=True):
        if a.shape != t.shape or a.dtype != np.dtype(t.dtype):
            raise ValueError(
                f"{vgf}: input {t.name} needs {t.dtype}{list(t.shape)}, got {a.dtype}{list(a.shape)}"
            )

    runner = require_executable("scenario_runner", "pip package ai-ml-sdk-scenario-runner==0.11.0")
    with tempfile.TemporaryDirectory(prefix="ngsdk-vgf-") as tmp:
        work = Path(keep_dir).resolve() if keep_dir is not None else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        in_files = [work / f"in{i}.npy" for i in range(len(arrays))]
        out_files = [work / f"out{i}.npy" for i in range(len(info.outputs))]
        for f, a in zip(in_files, arrays, strict=True):
            np.save(f, np.ascontiguousarray(a), allow_pickle=False)
        for f in out_files:
            f.unlink(missing_ok=True)
        scenario = scenario_for(vgf, info, work, in_files, out_files)
        (work / "scenario.json").write_text(json.dumps(scenario, indent=2))
        env = dict(os.environ)
        env.update(emulation_layer_env(work / "layers", lavapipe=lavapipe))
        try:
            r = subprocess.run(
                [runner, "--scenario", str(work / "scenario.json"), "--log-level", "warning"],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout_s,
            )
        except subprocess.TimeoutExpired as e:
            raise AssetError(vgf, f"scenario_runner did not finish within {timeout_s:.0f} s") from e
        if r.returncode != 0:
            tail = (r.stderr + r.stdout).strip()[-1500:]
            if "VK_LAYER_ML" in tail or "VK_ARM_data_graph" in tail:
                raise ToolchainError(f"{vgf}: scenario_runner could not use the ML emulation layer: {tail}")
            raise AssetError(vgf, f"scenario_runner failed (exit {r.returncode}): {tail}")
        outs = []
        for t, f in zip(info.outputs, out_files, strict=True):
            if not f.is_file():
                raise AssetError(vgf, f"scenario_runner wrote no output for {t.name}")
            a = np.load(f, allow_pickle=False)
            if a.shape != t.shape or a.dtype != np.dtype(t.dtype):
                raise AssetError(
                    vgf,
                    f"output {t.name}: got {a.dtype}{list(a.shape)}, VGF declares {t.dtype}{list(t.shape)}",
                )
            outs.append(a)
    return outs

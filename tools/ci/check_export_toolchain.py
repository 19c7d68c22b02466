"""Check that every tool the graph exports and their verification need is installed and works.

Run by tools/ci/install_export_toolchain.sh as its last step; exits non-zero naming what is missing.
Runs a real 1-op-free smoke test: lists the Vulkan device that scenario_runner would use (lavapipe).
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

PIP = {
    "torch": "torch (CPU build, installed before this script)",
    "onnx": "onnx",
    "onnxruntime": "onnxruntime",
    "onnxscript": "onnxscript",
    "coremltools": "coremltools==9.0",
    "executorch": "executorch==1.5.1",
    "tosa_serializer": "tosa-tools==2026.5.0",
    "vgfpy": "ai-ml-sdk-vgf-library==0.11.0",
    "emulation_layer": "ai-ml-emulation-layer-for-vulkan==0.11.0",
    "scenario_runner": "ai-ml-sdk-scenario-runner==0.11.0",
    "model_converter": "ai-ml-sdk-model-converter==0.11.0",
}
EXECUTABLES = {
    "scenario_runner": "ai-ml-sdk-scenario-runner",
    "vgf_dump": "ai-ml-sdk-vgf-library",
    "model-converter": "ai-ml-sdk-model-converter",
    "vulkaninfo": "apt vulkan-tools",
}


def main() -> int:
    problems = []
    for mod, pkg in PIP.items():
        try:
            importlib.import_module(mod)
        except Exception as e:  # a broken install raises more than ImportError
            problems.append(f"python module {mod} ({pkg}): {type(e).__name__}: {e}")
    for exe, pkg in EXECUTABLES.items():
        from shutil import which

        if not (which(exe) or which(exe, path=str(Path(sys.executable).parent))):
            problems.append(f"executable {exe} ({pkg}) not on PATH")
    for dist in ("executorch", "tosa-tools", "coremltools"):
        try:
            print(f"  {dist} {md.version(dist)}")
        except md.PackageNotFoundError:
            pass
    if not problems:
        from ngsdk.runtime_ref.vgf.layers import emulation_layer_env

        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ)
            env.update(emulation_layer_env(tmp))
            r = subprocess.run(
                ["vulkaninfo", "--summary"], env=env, capture_output=True, text=True, timeout=120
            )
            out = r.stdout + r.stderr
            if r.returncode != 0 or "llvmpipe" not in out:
                problems.append(
                    f"vulkaninfo with the emulation layers found no lavapipe device: {out[-800:]}"
                )
            elif "VK_LAYER_ML_Graph_Emulation" not in out:
                problems.append("vulkaninfo does not list VK_LAYER_ML_Graph_Emulation")
            else:
                print("  vulkan: lavapipe + VK_LAYER_ML_Graph_Emulation + VK_LAYER_ML_Tensor_Emulation")
    if problems:
        print("graph export toolchain INCOMPLETE:\n  " + "\n  ".join(problems), file=sys.stderr)
        print("fix: bash tools/ci/install_export_toolchain.sh", file=sys.stderr)
        return 1
    print("graph export toolchain OK")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env bash
# Set up ngsdk from scratch on a fresh Debian 12 / Python 3.10-3.12 machine: a virtual environment in
# .venv with torch, ngsdk and every extra, the graph-export toolchain (executorch + Arm ML SDK) and
# lavapipe (a CPU Vulkan driver) for the conformance tests. Idempotent; a second run only re-checks.
#
# torch is installed FIRST and then pinned with a constraints file: an unpinned `torch` requirement
# would pull the newest CUDA build (several GB) on machines that have only a local CPU wheel.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
PY="${PYTHON:-python3}"
VENV="${NGSDK_VENV:-$root/.venv}"
TORCH_SPEC="${NGSDK_TORCH:-torch==2.13.0}"

say() { printf '== setup: %s\n' "$*"; }

if [ ! -x "$VENV/bin/python" ]; then
  say "creating virtual environment $VENV"
  "$PY" -m venv "$VENV"
fi
VPY="$VENV/bin/python"

if ! "$VPY" -c 'import torch' 2>/dev/null; then
  say "installing $TORCH_SPEC"
  "$VPY" -m pip install -q "$TORCH_SPEC"
fi
constraints="$VENV/constraints.txt"
"$VPY" -c 'import importlib.metadata as m; print("torch==" + m.version("torch"))' >"$constraints"
say "pinned $(cat "$constraints")"

say "installing ngsdk with extras train, dev, bench, metrics, vulkan, batch"
"$VPY" -m pip install -q -c "$constraints" -e ".[train,dev,bench,metrics,vulkan,batch]"

if [ "${NGSDK_SKIP_EXPORT_TOOLCHAIN:-0}" != "1" ]; then
  say "installing the graph-export toolchain and lavapipe"
  PYTHON="$VPY" bash tools/ci/install_export_toolchain.sh
fi
say "done: activate with 'source $VENV/bin/activate'"

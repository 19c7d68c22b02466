#!/usr/bin/env bash
# Install the graph-export toolchain (ONNX, Core ML, VGF) and the Linux verification tools on Debian 12 with
# Python 3.11, where a CPU torch is already installed. Idempotent: a second run only re-checks.
#
# Why each piece:
#   apt  mesa-vulkan-drivers libvulkan1 vulkan-tools: lavapipe (a CPU Vulkan driver) and the loader, so the
#        ML emulation layer and scenario_runner can RUN the exported .vgf files without a GPU.
#   pip  executorch==1.5.1 (NOT the [vgf] extra: it pins Arm ML SDK 0.10.0 wheels that need glibc 2.38),
#        tosa-tools==2026.5.0 (what executorch 1.5.1's Arm backend expects), ml_dtypes==0.5.1 (the version
#        the [vgf] extra would have pinned), the four Arm ML SDK 0.11.0 wheels (model converter, VGF library
#        with vgfpy/vgf_dump, scenario runner, emulation layer), onnx/onnxruntime/onnxscript, coremltools 9.0.
#   Every pip call uses a constraints file that pins the torch already installed, so no resolver step can
#   replace the CPU build with a multi-GB CUDA build.
#
# Usage: bash tools/ci/install_export_toolchain.sh        (root, or a user with sudo)
#        PYTHON=/path/to/python3 bash tools/ci/install_export_toolchain.sh
set -euo pipefail

PYTHON="${PYTHON:-python3}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

step() { printf '\n== install_export_toolchain: %s\n' "$*"; }
die() { printf 'install_export_toolchain: ERROR: %s\n' "$*" >&2; exit 1; }

if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
  die "need root or sudo for apt-get"; fi

step "1/4 apt: lavapipe Vulkan driver and loader"
apt_pkgs=(mesa-vulkan-drivers libvulkan1 vulkan-tools)
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "already installed: ${apt_pkgs[*]}"
fi

step "2/4 pip: pin the installed torch"
torch_ver="$("$PYTHON" -c 'import importlib.metadata as m; print(m.version("torch"))' 2>/dev/null)" ||
  die "torch is not installed for $PYTHON; install the CPU build first (pip install torch==2.13.0+cpu)"
constraints="$(mktemp)"
trap 'rm -f "$constraints"' EXIT
echo "torch==${torch_ver}" >"$constraints"
echo "constraints: torch==${torch_ver}"

step "3/4 pip: exporters and Arm ML SDK 0.11.0"
"$PYTHON" -m pip install -q -c "$constraints" \
  "onnx>=1.16" "onnxscript>=0.2" "onnxruntime>=1.18" "coremltools==9.0" \
  "executorch==1.5.1" "tosa-tools==2026.5.0" "ml_dtypes==0.5.1" \
  "ai-ml-sdk-model-converter==0.11.0" "ai-ml-sdk-vgf-library==0.11.0" \
  "ai-ml-sdk-scenario-runner==0.11.0" "ai-ml-emulation-layer-for-vulkan==0.11.0"
got="$("$PYTHON" -c 'import importlib.metadata as m; print(m.version("torch"))')"
[ "$got" = "$torch_ver" ] || die "pip replaced torch ${torch_ver} with ${got}"

step "4/4 check: every tool the graph-export tests need"
"$PYTHON" "$here/check_export_toolchain.py"

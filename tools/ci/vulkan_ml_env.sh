# Source this file to run VGF files by hand with scenario_runner on lavapipe:
#   source tools/ci/vulkan_ml_env.sh && scenario_runner --scenario my_scenario.json
# Sets VK_LAYER_PATH (Graph layer folder first: Debian 12's loader stacks layers in discovery order),
# VK_INSTANCE_LAYERS, LD_LIBRARY_PATH and VK_DRIVER_FILES/VK_ICD_FILENAMES (lavapipe). Set
# NGSDK_VK_ANY_DRIVER=1 to keep the system's driver choice.
# ngsdk must be installed for the interpreter: $PYTHON, else the checkout's .venv (tools/setup.sh), else python3.
_ngsdk_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
_ngsdk_py="${PYTHON:-$_ngsdk_root/.venv/bin/python}"
[ -x "$_ngsdk_py" ] || _ngsdk_py=python3
eval "$("$_ngsdk_py" -m ngsdk.runtime_ref.vgf ${NGSDK_VK_ANY_DRIVER:+--any-driver})"
unset _ngsdk_root _ngsdk_py

# Source this file to run VGF files by hand with scenario_runner on lavapipe:
#   source tools/ci/vulkan_ml_env.sh && scenario_runner --scenario my_scenario.json
# Sets VK_LAYER_PATH (Graph layer folder first: Debian 12's loader stacks layers in discovery order),
# VK_INSTANCE_LAYERS, LD_LIBRARY_PATH and VK_DRIVER_FILES/VK_ICD_FILENAMES (lavapipe). Set
# NGSDK_VK_ANY_DRIVER=1 to keep the system's driver choice.
_ngsdk_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
eval "$(cd "$_ngsdk_root" && "${PYTHON:-python3}" -m runtime_ref.vgf ${NGSDK_VK_ANY_DRIVER:+--any-driver})"
unset _ngsdk_root

#!/usr/bin/env bash
# Build and test the C++ engine code (engine_plugins/) the way CI does:
#   1. install the Debian packages it needs (compiler, CMake, zlib, Vulkan loader + headers, lavapipe,
#      glslang, SPIR-V tools) when missing;
#   2. build the loader (engine_plugins/common) in Release with -ffp-contract=off and run its ctest
#      suite; build it again with ASan/UBSan and run the suite (unit tests + mutation run) there;
#   3. build the Vulkan sample (engine_plugins/vulkan; its compute shader is compiled from the
#      shared shader source) and run its ctest suite on lavapipe;
#   4. check the Unreal plugin: .uplugin is valid JSON with Runtime and Editor modules, the shared
#      .ush compiles with a real HLSL compiler (glslang's HLSL front end) through the Unreal shim,
#      and an installed copy of the plugin carries every loader source and shader it references.
# Builds go to build/engine_plugins/<name> (or $NGSDK_ENGINE_BUILD), where the pytest integration
# tests (tests/integration/test_cpp_loader.py, test_vulkan_sample.py) find them.
# Options: --no-install (skip apt-get), --no-asan (skip the sanitizer build), --jobs N.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
out="${NGSDK_ENGINE_BUILD:-$root/build/engine_plugins}"
install=1
asan=1
jobs="${NGSDK_JOBS:-2}"
while [ $# -gt 0 ]; do
  case "$1" in
    --no-install) install=0 ;;
    --no-asan) asan=0 ;;
    --jobs) jobs="$2"; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
say() { printf '== engine_plugins: %s\n' "$*"; }

packages=(cmake g++ make zlib1g-dev libvulkan-dev libvulkan1 mesa-vulkan-drivers vulkan-tools glslang-tools spirv-tools)
if [ "$install" = 1 ]; then
  missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing ${missing[*]}"
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

build() {  # name source-dir extra-cmake-args...
  local name="$1" src="$2"
  shift 2
  say "building $name"
  cmake -S "$src" -B "$out/$name" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
  cmake --build "$out/$name" -j "$jobs"
}

build common engine_plugins/common
(cd "$out/common" && ctest --output-on-failure)

if [ "$asan" = 1 ]; then
  build common-asan engine_plugins/common -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNGSDK_SANITIZE=ON
  (cd "$out/common-asan" && ctest --output-on-failure)
fi

build vulkan engine_plugins/vulkan
(cd "$out/vulkan" && ctest --output-on-failure)

say "checking the Unreal plugin"
bash tools/ci/check_unreal_plugin.sh "$out/unreal"
say "done"

#!/usr/bin/env bash
# Set up everything (tools/setup.sh), build and unit-test the C++ engine code (loader with ASan/UBSan,
# Vulkan sample on lavapipe, Unreal shader compile check), then run the whole Python test suite: unit,
# integration, conformance (lavapipe) and graph-export tests. Extra arguments go to pytest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash tools/setup.sh
bash tools/ci/build_engine_plugins.sh
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
# .venv/bin is deliberately not put on PATH: ngsdk must find the export tools pip installed there by itself
# (ngsdk.toolchain), as it must for a user who runs .venv/bin/ngsdk without activating the venv.
exec .venv/bin/python -m pytest -q "$@"

#!/usr/bin/env bash
# Issue 15's GPU acceptance (one run, < 9 minutes on an H100): see tools/gpu/supersampling.py.
# Usage (repository root, GPU machine): tools/gpu/supersampling.sh [OUT_DIR] [extra flags for supersampling.py]
# Runs from the checkout without installing ngsdk: ngsdk/, exporters/ and runtime_ref/ are laid out under /tmp/src
# as pip would (setup.py's package_dir). Wheels in .whl/ (optional: executorch, torchao, jsonschema, safetensors
# for Python 3.12) are unpacked to /tmp/site first; without them the run trains float32 only and measures fp32.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT="${1:-/tmp/nss_gpu}"; shift || true
mkdir -p "$OUT"
if compgen -G ".whl/*.whl" > /dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
fi
rm -rf /tmp/src && mkdir -p /tmp/src && cp -r ngsdk /tmp/src/ && cp -r exporters /tmp/src/ngsdk/exporters \
  && cp -r runtime_ref /tmp/src/ngsdk/runtime_ref
export PYTHONPATH="/tmp/site:/tmp/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
timeout 560 python3 tools/gpu/supersampling.py --device "${DEVICE:-cuda}" --out "$OUT" "$@" 2>&1 | tee "$OUT/run.log"

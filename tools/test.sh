#!/usr/bin/env bash
# Set up everything (tools/setup.sh) and run the whole test suite: unit, integration, conformance
# (lavapipe) and graph-export tests. Extra arguments go to pytest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash tools/setup.sh
exec .venv/bin/python -m pytest -q "$@"

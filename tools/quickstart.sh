#!/usr/bin/env bash
# The main job end to end on the bundled sample material: set up, train a 5 bpp neural texture of
# ambientCG Ground068 (CC0) for 60 s, export every format, verify, and write previews and reports.
# Outputs land in build/quickstart/. Pass --time-budget SECONDS to train longer.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
budget=60
[ "${1:-}" = "--time-budget" ] && budget="$2"
bash tools/setup.sh
source .venv/bin/activate
src="../shared/data/textures/ground068_1k"
out="build/quickstart"
mkdir -p "$out"
set -x
ngsdk train texture "$src" --out "$out/ground068.ngasset" --bpp 5 --time-budget "$budget" --seed 0
ngsdk export "$out/ground068.ngasset" --format dds-npz,onnx,coreml,vgf
ngsdk verify "$out/ground068.ngasset" --source "$src" --json "$out/report.json" --html "$out/report.html" \
  --previews "$out/verify_previews"
ngsdk inspect "$out/ground068.ngasset"
set +x
echo "quickstart: bundle, report.json, report.html and previews are in $out/"

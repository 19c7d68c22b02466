#!/usr/bin/env bash
# The main job end to end on the sample material shipped in the repository (ngsdk/samples/ground068_512:
# ambientCG Ground068 at 512x512, CC0; nothing outside the checkout is read): set up, train a 5 bpp neural
# texture for 60 s, export every format, verify, decode the maps, and write previews and reports.
# Outputs land in build/quickstart/.
#   --time-budget SECONDS   train longer (or shorter)
#   --no-setup              skip tools/setup.sh and use the `ngsdk` already on PATH (a pip install, or the
#                           test suite's run of these steps in a copy of the checkout)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
budget=60
setup=1
while [ $# -gt 0 ]; do
  case "$1" in
    --time-budget) budget="$2"; shift ;;
    --no-setup) setup=0 ;;
    *) echo "error: unknown option $1 (use --time-budget SECONDS, --no-setup)" >&2; exit 2 ;;
  esac
  shift
done
if [ "$setup" = 1 ]; then
  bash tools/setup.sh
  source .venv/bin/activate
fi
src="ngsdk/samples/ground068_512"
out="build/quickstart"
mkdir -p "$out"
set -x
ngsdk train texture "$src" --out "$out/ground068.ngasset" --bpp 5 --time-budget "$budget" --seed 0
ngsdk export "$out/ground068.ngasset" --format dds-npz,onnx,coreml,vgf
ngsdk verify "$out/ground068.ngasset" --source "$src" --json "$out/report.json" --html "$out/report.html" \
  --previews "$out/verify_previews"
ngsdk decode "$out/ground068.ngasset" --out "$out/maps" --format png
ngsdk inspect "$out/ground068.ngasset"
set +x
echo "quickstart: bundle, report.json, report.html, decoded maps and previews are in $out/"

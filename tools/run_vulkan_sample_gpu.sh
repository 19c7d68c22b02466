#!/usr/bin/env bash
# Run the Vulkan decode sample on a real GPU (the lent NVIDIA machine) and record the result in
# docs/conformance.md.
#
#   tools/run_vulkan_sample_gpu.sh [--debs DIR] [--binary PATH] [--expect FILE] [--out DIR] [--no-append] BUNDLE...
#
# tools/prepare_vulkan_gpu_run.py DIR makes the bundles, DIR/expected.json and DIR/debs on the
# development machine; carry DIR and the built sample along.
#
# BUNDLE: .ngasset folders (exact and/or hardware mode) trained elsewhere; each carries the sha256 of
# the reference runtime's decode of every mip (provenance.reference_decode), so no Python is needed.
# For every bundle, mip and mode the sample decodes on the GPU and compares with that reference, or
# with --expect FILE ({"NAME.ngasset": {"MIP": sha256}}: hardware bundles, whose result depends on the
# GPU's sampler; prepare_vulkan_gpu_run.py writes runtime_ref's hashes under the nvidia profile).
#
# Vulkan loader: if libvulkan.so.1 is not installed, the .deb files in --debs DIR (libvulkan1 and the
# GL/EGL dispatch libraries: `apt-get download libvulkan1 libglvnd0 libegl1 libgl1 libglx0 libgles2
# libopengl0`) are unpacked into a
# private prefix and put on LD_LIBRARY_PATH; the NVIDIA ICD manifest (nvidia_icd.json) is searched
# in the usual places and passed through VK_ICD_FILENAMES.
#
# Binary: with cmake, g++ and the Vulkan headers present the sample is built here
# (build/engine_plugins/vulkan-gpu); otherwise --binary (default build/engine_plugins/vulkan/
# ngsdk_vulkan_sample, built on the development machine and carried along) is used as is: it loads
# libvulkan at run time and embeds its SPIR-V, so it needs nothing else.
#
# Output: a markdown section appended to docs/conformance.md (unless --no-append) and written to
# --out DIR (default $OUT when set) as conformance_vulkan_gpu.md, with the sample's raw log.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
debs=""
binary=""
expect_file=""
outdir="${OUT:-}"
append=1
bundles=()
while [ $# -gt 0 ]; do
  case "$1" in
    --debs) debs="$2"; shift ;;
    --binary) binary="$2"; shift ;;
    --expect) expect_file="$2"; shift ;;
    --out) outdir="$2"; shift ;;
    --no-append) append=0 ;;
    -h|--help) sed -n '2,32p' "$0"; exit 0 ;;
    *) bundles+=("$1") ;;
  esac
  shift
done
[ "${#bundles[@]}" -gt 0 ] || { echo "usage: $0 [--debs DIR] [--binary PATH] [--expect FILE] [--out DIR] BUNDLE..." >&2; exit 2; }
say() { printf '== vulkan-gpu: %s\n' "$*" >&2; }

# --- Vulkan loader -------------------------------------------------------------------------------
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1'; then
  [ -n "$debs" ] || { echo "no libvulkan.so.1 installed and no --debs DIR given" >&2; exit 1; }
  prefix="$(mktemp -d)/vk"
  for d in "$debs"/*.deb; do
    dpkg-deb -x "$d" "$prefix" 2>/dev/null || (cd "$prefix" && ar p "$d" data.tar.xz | tar -xJ)
  done
  libdirs="$(find "$prefix" -name 'libvulkan.so.1*' -printf '%h\n' | sort -u | tr '\n' ':')"
  [ -n "$libdirs" ] || { echo "$debs: no libvulkan.so.1 inside the .deb files" >&2; exit 1; }
  otherdirs="$(find "$prefix" -name '*.so*' -printf '%h\n' | sort -u | tr '\n' ':')"
  export LD_LIBRARY_PATH="${libdirs}${otherdirs}${LD_LIBRARY_PATH:-}"
  say "using the Vulkan loader unpacked from $debs"
fi
if [ -z "${VK_ICD_FILENAMES:-}" ]; then
  # The driver's own folder first: on the lent machines /usr/share/vulkan/icd.d may hold a stale copy.
  icd="$(find /usr/local/nvidia /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/share/vulkan/icd.d \
          /usr/lib /usr/lib64 /usr/local/lib -maxdepth 5 -name 'nvidia_icd*.json' 2>/dev/null | head -1 || true)"
  if [ -n "$icd" ]; then
    export VK_ICD_FILENAMES="$icd" VK_DRIVER_FILES="$icd"
    say "NVIDIA ICD: $icd"
  fi
fi

# --- binary ----------------------------------------------------------------------------------------
if [ -z "$binary" ]; then
  if command -v cmake >/dev/null && command -v g++ >/dev/null && [ -f /usr/include/vulkan/vulkan.h ]; then
    say "building the sample"
    cmake -S "$root/engine_plugins/vulkan" -B "$root/build/engine_plugins/vulkan-gpu" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$root/build/engine_plugins/vulkan-gpu" -j 8 >/dev/null
    binary="$root/build/engine_plugins/vulkan-gpu/ngsdk_vulkan_sample"
  else
    binary="$root/build/engine_plugins/vulkan/ngsdk_vulkan_sample"
  fi
fi
[ -x "$binary" ] || { echo "$binary: no sample binary (build it with tools/ci/build_engine_plugins.sh and carry it)" >&2; exit 1; }

# --- runs ------------------------------------------------------------------------------------------
log="$(mktemp)"
device="$("$binary" --list-devices 2>&1 | head -1 || true)"
rows=()
failures=0
for b in "${bundles[@]}"; do
  mode="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]+"/manifest.json"))["decode_mode"])' "$b" 2>/dev/null || echo exact)"
  mips="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]+"/manifest.json"))["texture"]["mip_levels"])' "$b" 2>/dev/null || echo 1)"
  for ((m = 0; m < mips; m++)); do
    check=(--check-reference)
    if [ -n "$expect_file" ]; then
      want="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], {}).get(sys.argv[3], ""))' \
              "$expect_file" "$(basename "$b")" "$m")"
      [ -z "$want" ] || check=(--expect "$want")
    fi
    line="$("$binary" "$b" --mip "$m" --mode "$mode" "${check[@]}" --repeat 20 2>&1 | tee -a "$log" | tail -1)" || failures=$((failures + 1))
    # "mip M WxHxC MODE (DEVICE) sha256 HASH VERDICT[, gpu T ms]" -> table cells
    size="$(sed -n 's/^mip [0-9]* \([0-9x]*\) .*/\1/p' <<<"$line")"
    hash="$(sed -n 's/.* sha256 \([0-9a-f]\{12\}\).*/\1/p' <<<"$line")"
    verdict="$(sed -n 's/.* sha256 [0-9a-f]* \(.*\)/\1/p' <<<"$line" | sed 's/, gpu [0-9.]* ms$//; s/ (hardware decodes.*//')"
    gpu="$(sed -n 's/.*, gpu \([0-9.]*\) ms$/\1/p' <<<"$line")"
    rows+=("| $(basename "$b") | $mode | $m | ${size:-?} | ${hash:-?} | ${verdict:-$line} | ${gpu:--} |")
  done
done
{
  echo
  echo "## Vulkan sample on $(hostname) ($(date -u +%Y-%m-%d))"
  echo
  echo "Device: ${device:-unknown}. Command: \`tools/run_vulkan_sample_gpu.sh\`; each row decodes one mip on the GPU"
  echo "and compares its sha256 with the reference runtime's (provenance.reference_decode); GPU time is the"
  echo "median of 20 dispatches (timestamp queries)."
  echo
  echo "| bundle | mode | mip | size | sha256 | result | GPU ms |"
  echo "|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "$((${#rows[@]} - failures)) passed, $failures failed"
} >"$log.md"
cat "$log.md"
if [ "$append" = 1 ]; then
  # One marked section per device, replaced on a re-run (the layout of tools/run_nvidia_conformance.py).
  python3 - "$root/docs/conformance.md" "$log.md" "$device" <<'PY'
import re, sys
from pathlib import Path
doc, section, device = Path(sys.argv[1]), Path(sys.argv[2]).read_text().strip(), sys.argv[3]
key = "run_vulkan_sample_gpu:" + (re.sub(r"[^a-z0-9]+", "-", device.lower()).strip("-")[:60] or "unknown")
block = f"<!-- BEGIN {key} -->\n{section}\n<!-- END {key} -->\n"
text = doc.read_text() if doc.exists() else "# Conformance on real Vulkan drivers\n"
pattern = re.compile(rf"<!-- BEGIN {re.escape(key)} -->.*?<!-- END {re.escape(key)} -->\n?", re.S)
text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + block
doc.write_text(text)
PY
fi
if [ -n "$outdir" ]; then
  mkdir -p "$outdir"
  cp "$log.md" "$outdir/conformance_vulkan_gpu.md"
  cp "$log" "$outdir/vulkan_gpu.log"
fi
[ "$failures" = 0 ]

#!/usr/bin/env bash
# One GPU-machine run (H100, Python 3.12, torch+CUDA preinstalled, no registry). Parts:
#   capture      raw NVIDIA Vulkan sampler outputs for fitting the nvidia profile (tools/gpu/capture_sampler.py)
#   conformance  the conformance suite on NVIDIA (sampler + WGSL shader decode; tools/run_nvidia_conformance.py)
#                and the Vulkan decode sample on .gpu_vk (tools/prepare_vulkan_gpu_run.py .gpu_vk made it;
#                carry build/engine_plugins/vulkan/ngsdk_vulkan_sample too)
#   volumes      tools/bench_volumes.py on CUDA (VOL_SIZES, default tiny; VOL_BUDGET seconds per model, default 40)
#   sampler | texture | shading   earlier benchmark parts
# Carry: .gl (libvulkan1 and GL dispatch .debs), .whl (wgpu, cffi, rendercanvas, jsonschema & deps),
# .bench_data (copies of ../shared/data/textures, images, volumes). Each part writes its files as it finishes.
set -uo pipefail
OUT="${OUT:-build/gpu}"; mkdir -p "$OUT"
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 XDG_RUNTIME_DIR=/tmp
nvidia-smi --query-gpu=name,driver_version --format=csv | tee "$OUT/gpu.txt"
part="${1:-all}"
[ -e ../shared/data ] || { mkdir -p ../shared && ln -s "$PWD/.bench_data" ../shared/data; }
if [ "$part" = capture ]; then
  timeout 240 python3 tools/gpu/capture_sampler.py "$OUT" --adapter nvidia 2>&1 | grep -v XDG | tail -20
fi
if [ "$part" = capture ] || [ "$part" = conformance ]; then
  NGSDK_WGPU_ADAPTER=nvidia timeout 300 python3 tools/run_nvidia_conformance.py -k "not hlsl" > "$OUT/conformance.log" 2>&1
  tail -25 "$OUT/conformance.log"; cp docs/conformance.md "$OUT/conformance.md"
  if [ -d .gpu_vk/bundles ]; then
    timeout 120 bash tools/run_vulkan_sample_gpu.sh --debs .gl --binary build/engine_plugins/vulkan/ngsdk_vulkan_sample \
      --expect .gpu_vk/expected.json --out "$OUT" --no-append .gpu_vk/bundles/*.ngasset 2>&1 | tail -15
  fi
fi
if [ "$part" = volumes ]; then
  sizes="${VOL_SIZES:-tiny}"
  timeout 480 python3 tools/bench_volumes.py --data .bench_data/volumes --device cuda --sizes "$sizes" \
    --time-budget "${VOL_BUDGET:-40}" ${VOL_ARGS:-} --json "$OUT/volumes_${sizes//,/_}.json" > "$OUT/volumes_${sizes//,/_}.log" 2>&1
  tail -40 "$OUT/volumes_${sizes//,/_}.log"
fi
if [ "$part" = all ] || [ "$part" = sampler ]; then
  NGSDK_WGPU_ADAPTER=nvidia NGSDK_CONFORMANCE_REPORT="$OUT/sampler_nvidia.jsonl" \
    timeout 150 python3 -m pytest -q -p no:cacheprovider -m conformance tests/conformance/test_sampler_vulkan.py \
    2>&1 | tail -15 | tee "$OUT/sampler_nvidia.log"
fi
if [ "$part" = all ] || [ "$part" = texture ]; then
  timeout 150 python3 tools/bench_textures.py --gpu-convergence --time-budget 45 --batch-size 65536 \
    --data .bench_data/textures --json "$OUT/texture_gpu.json" 2>&1 | tail -12 | tee "$OUT/texture_gpu.log"
fi
if [ "$part" = all ] || [ "$part" = shading ]; then
  timeout 200 python3 tools/bench_shading.py --images .bench_data/images --count 6 --device cuda \
    --json "$OUT/shading.json" 2>&1 | grep -v Warning | tail -20 | tee "$OUT/shading.log"
fi

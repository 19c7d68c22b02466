#!/usr/bin/env bash
# One GPU-machine run (H100, Python 3.12, torch+CUDA preinstalled, no registry). Parts:
#   capture      raw NVIDIA Vulkan sampler outputs for fitting the nvidia profile (tools/gpu/capture_sampler.py)
#   conformance  the conformance suite on NVIDIA (sampler + WGSL shader decode; tools/run_nvidia_conformance.py)
#                and the Vulkan decode sample on .gpu_vk (tools/prepare_vulkan_gpu_run.py .gpu_vk made it;
#                carry build/engine_plugins/vulkan/ngsdk_vulkan_sample too)
#   volumes      tools/bench_volumes.py on CUDA (VOL_SIZES, default tiny; VOL_BUDGET seconds per model, default 40)
#   texture-speed  tools/bench_texture_training.py: samples/s per trainer switch and phase, profiler tables,
#                  time to within 0.5 dB (boombox_2k, SPEED_BUDGET seconds, default 30; 0 skips it;
#                  SPEED_ARGS replaces the default --profile)
#   texture-table  tools/bench_textures.py --no-bcn at 1, 2.5, 5, 10 bpp on the 7 shared materials (TABLE_BUDGET
#                  seconds per run, default 60); merge with a CPU --no-train run's records through --from-json
#   texture-decode tools/bench_texture_decode.py: whole-mip exact decode of a synthetic 4096^2 9-channel asset, the
#                  fused Triton kernel vs the torch decode (ms, G texels/s, int8 TOPS, bytes/s, byte-identical
#                  outputs); TEXTURE_DECODE_ARGS adds options (e.g. --sweep for the kernel configurations)
#   texture-campaign tools/texture_campaign.py: model/schedule variants x materials at 5 bpp (CAMPAIGN_ARGS, default:
#                  the shipped defaults and the uniform latent start on the 7 shared materials, 30 s each)
#   sampler | texture | shading   earlier benchmark parts
# Carry: .gl (libvulkan1 and GL dispatch .debs), .whl (wgpu, cffi, rendercanvas, jsonschema & deps),
# .bench_data (copies of ../shared/data/textures, images, volumes). Each part writes its files as it finishes;
# the device tool returns at most 8 files, so they are written under a scratch folder and packed into
# $OUT/results.tgz when the script exits (unpack with tar xzf).
set -uo pipefail
FINAL="${OUT:-build/gpu}"; mkdir -p "$FINAL"
OUT=$(mktemp -d /tmp/ngsdk_gpu.XXXXXX)
trap 'tar czf "$FINAL/results.tgz" -C "$OUT" . && cp "$OUT/gpu.txt" "$FINAL/" 2>/dev/null; echo "results: $FINAL/results.tgz"' EXIT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
# lay the three folders out as pip installs them (setup.py's package_dir: exporters/ -> ngsdk.exporters,
# runtime_ref/ -> ngsdk.runtime_ref); the GPU machine has no package index to build a wheel from
rm -rf /tmp/src && mkdir -p /tmp/src && cp -r ngsdk /tmp/src/ && cp -r exporters /tmp/src/ngsdk/exporters \
  && cp -r runtime_ref /tmp/src/ngsdk/runtime_ref
export PYTHONPATH=/tmp/site:/tmp/src:$PWD PYTHONUNBUFFERED=1 XDG_RUNTIME_DIR=/tmp
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
if [ "$part" = texture-speed ]; then
  timeout 560 python3 tools/bench_texture_training.py --data .bench_data/textures --device cuda \
    ${SPEED_ARGS:---profile $OUT/profile} --json "$OUT/texture_speed.json" 2>&1 | tail -30 | tee "$OUT/texture_speed.log"
  if [ "${SPEED_BUDGET:-30}" != 0 ]; then
    timeout 200 python3 tools/bench_texture_training.py --data .bench_data/textures --device cuda --no-speed \
      --material boombox_2k --convergence "${SPEED_BUDGET:-30}" --json "$OUT/texture_convergence.json" 2>&1 | tail -8
  fi
fi
if [ "$part" = texture-table ]; then
  timeout 580 python3 tools/bench_textures.py --no-bcn --no-astc --device cuda --data .bench_data/textures \
    --time-budget "${TABLE_BUDGET:-60}" ${TABLE_ARGS:-} --json "$OUT/texture_table.json" 2>&1 | tail -40 \
    | tee "$OUT/texture_table.log"
fi
if [ "$part" = texture-campaign ]; then
  timeout 580 python3 tools/texture_campaign.py --data .bench_data/textures --device cuda \
    ${CAMPAIGN_ARGS:---time-budget 30 --materials ground068_1k,rock,metal,bark,onyx,fabric_pattern_07_1k,boombox_2k --variants base,uniform} \
    --json "$OUT/texture_campaign.json" 2>&1 | tail -40 | tee "$OUT/texture_campaign.log"
fi
if [ "$part" = texture-decode ]; then
  timeout 400 python3 tools/bench_texture_decode.py ${TEXTURE_DECODE_ARGS:-} --json "$OUT/texture_decode.json" 2>&1 | tail -30 \
    | tee "$OUT/texture_decode.log"
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
# volume-decode  tools/bench_volume_decode.py: the fused Triton float decode of neural volumes vs the torch paths,
#                and the bit-exact CUDA kernel's schedules (thread = the first kernel, block:THREADS:OUTPUTS) each
#                checked against NumPy exact; tiny and medium models of DECODE_VOLUME (default bunny) trained
#                DECODE_BUDGET s each (default 40); DECODE_ARGS adds options (e.g. --block 64,128
#                --unorm8-records uint8,float16 for a Triton launch sweep, --exact-configs thread,block:128:64);
#                then tools/gpu/profile_volume_decode.py under ncu (or the torch profiler where ncu is missing)
if [ "$part" = volume-decode ]; then
  timeout 560 python3 tools/bench_volume_decode.py --device cuda \
    --volume ".bench_data/volumes/${DECODE_VOLUME:-bunny_zyx_64x64x64_float32.npy}" \
    --time-budget "${DECODE_BUDGET:-40}" ${DECODE_ARGS:-} --json "$OUT/volume_decode.json" 2>&1 | tee "$OUT/volume_decode.log"
  if command -v ncu >/dev/null; then
    timeout 120 ncu --section SpeedOfLight --section Occupancy --section LaunchStats -k regex:"decode|fused" \
      python3 tools/gpu/profile_volume_decode.py > "$OUT/ncu_volume.txt" 2>&1; tail -60 "$OUT/ncu_volume.txt"
  else
    timeout 120 python3 tools/gpu/profile_volume_decode.py --torch-profiler 2>&1 | tee "$OUT/torch_profile_volume.txt"
  fi
fi

#!/usr/bin/env bash
# Rate-distortion run of neural volumes on the GPU machine (H100, Python 3.12, torch+CUDA preinstalled, no
# package index): ngsdk sized for 10:1, 50:1, 100:1 and 300:1 on the four largest corpus volumes, trained with
# --time-budget each, in at most 9 minutes. ZFP/SZ3 are not installed there: their rows come from a CPU run
# that merges this JSON (docs/benchmarks.md, "Neural volumes vs ZFP and SZ3"):
#   python tools/bench_volumes.py --rd --no-train --from-json build/gpu/rd_*.json --data .bench_data/volumes \
#     --json build/rd.json --plots docs/images --write-docs
# Carry .bench_data/volumes (embryo 256^3 + plume 128^3 + copies of ../shared/data/volumes: ~31 MB); a missing
# plume is generated here (numpy, ~40 s). Env: EMBRYO_BUDGET (s per embryo model, default 40), BUDGET (s per
# model of the others, default 20), RATIOS (default 10,50,100,300), OUT (default build/gpu); for a CPU smoke test
# DEVICE=cpu DATA=<folder> EMBRYO=<file> OTHERS=<files> EXTRA="--steps 3 --eval-every 3" PYTHON=.venv/bin/python.
set -uo pipefail
OUT="${OUT:-build/gpu}"; mkdir -p "$OUT"
rm -rf /tmp/src && mkdir -p /tmp/src && cp -r ngsdk /tmp/src/ && cp -r exporters /tmp/src/ngsdk/exporters \
  && cp -r runtime_ref /tmp/src/ngsdk/runtime_ref
export PYTHONPATH=/tmp/src:$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv 2>/dev/null | tee "$OUT/gpu.txt"
PY="${PYTHON:-python3}"
DEVICE="${DEVICE:-cuda}"
DATA="${DATA:-.bench_data/volumes}"
RATIOS="${RATIOS:-10,50,100,300}"
EMBRYO="${EMBRYO:-embryo_zyx_256x256x256_uint8.npy}"
OTHERS="${OTHERS:-plume_zyx_128x128x128_float32.npy,tos_O1_2001-2002.nc,bunny_zyx_64x64x64_float32.npy}"
[ -f "$DATA/$EMBRYO" ] || echo "warning: $DATA/$EMBRYO missing (carry .bench_data/volumes)"
case ",$OTHERS," in *,plume_zyx_128x128x128_float32.npy,*)
  [ -f "$DATA/plume_zyx_128x128x128_float32.npy" ] || timeout 90 "$PY" -m ngsdk.volumes.synth_plume --size 128 \
    --out "$DATA/plume_zyx_128x128x128_float32.npy";;
esac
# 4 x 40 s + 12 x 20 s of training, plus the exact decodes and start-up: about 7 minutes
timeout 250 "$PY" tools/bench_volumes.py --rd --no-baselines --device "$DEVICE" --data "$DATA" \
  --volumes "$EMBRYO" --ratios "$RATIOS" --time-budget "${EMBRYO_BUDGET:-40}" ${EXTRA:-} \
  --json "$OUT/rd_embryo.json" 2>&1 | tee "$OUT/rd_embryo.log" | grep -v " eval " | tail -12
timeout 270 "$PY" tools/bench_volumes.py --rd --no-baselines --device "$DEVICE" --data "$DATA" \
  --volumes "$OTHERS" --ratios "$RATIOS" --time-budget "${BUDGET:-20}" ${EXTRA:-} \
  --json "$OUT/rd_others.json" 2>&1 | tee "$OUT/rd_others.log" | grep -v " eval " | tail -20
ls -l "$OUT"

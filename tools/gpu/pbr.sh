#!/usr/bin/env bash
# Issue 16's GPU acceptance in one GPU-machine run (H100, Python 3.12, torch+CUDA preinstalled, no package
# index): synth >= 500 samples at 512^2 on CUDA, the base teacher and the mobile512 student for PBR_TEACHER_TIME
# and PBR_STUDENT_TIME seconds each (default 150), per-map PSNR/SSIM/MAE and normal angle error of both and of
# the naive baseline on the held-out material, params/MACs beside the shipped student (tools/pbr_gpu.py).
# Budget: synthesis wrote ~360 samples in 530 s on the H100 (2026-12-07, PNG encoding in one thread; now a thread
# pool), so run it as two calls of a warm machine (/tmp/pbr_gpu persists): PBR_SYNTH_ONLY=1 first, then the
# trainings (2 x PBR_*_TIME) and the evaluation (< 1 min) reuse /tmp/pbr_gpu/data.
# Needs Pillow beside torch: carry its cp312 manylinux wheel in .whl/ (pip download pillow --only-binary=:all:
# --python-version 3.12 -d .whl); the data sets come from ../shared/data/textures (or carry .bench_data).
# PBR_ARGS: more tools/pbr_gpu.py flags (e.g. "--hue 0.5 --relief 0.7 4"). PBR_LIMIT (seconds, default 530) caps
# the Python run; an interrupted synthesis resumes in the next call.
# Writes $OUT/pbr_gpu.json, $OUT/pbr_gpu.md (the docs/benchmarks.md table) and $OUT/pbr.log.
set -uo pipefail
OUT="${OUT:-build/gpu}"; mkdir -p "$OUT"
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
fi
rm -rf /tmp/src_pbr && mkdir -p /tmp/src_pbr && cp -r ngsdk /tmp/src_pbr/ && cp -r exporters /tmp/src_pbr/ngsdk/exporters \
  && cp -r runtime_ref /tmp/src_pbr/ngsdk/runtime_ref
export PYTHONPATH=/tmp/site:/tmp/src_pbr PYTHONUNBUFFERED=1
python3 -c "import PIL" 2>/dev/null || { echo "error: Pillow is missing: put its cp312 wheel in .whl/" >&2; exit 2; }
[ -e ../shared/data ] || { [ -d .bench_data ] && mkdir -p ../shared && ln -s "$PWD/.bench_data" ../shared/data; }
nvidia-smi --query-gpu=name,driver_version --format=csv | tee "$OUT/gpu.txt"
timeout "${PBR_LIMIT:-530}" python3 tools/pbr_gpu.py --device cuda --out /tmp/pbr_gpu --samples "${PBR_SAMPLES:-500}" \
  --res "${PBR_RES:-512}" --teacher-time "${PBR_TEACHER_TIME:-150}" --student-time "${PBR_STUDENT_TIME:-150}" \
  --eval-samples "${PBR_EVAL_SAMPLES:-16}" ${PBR_SYNTH_ONLY:+--synth-only} ${PBR_ARGS:-} 2>&1 | tee "$OUT/pbr.log" | tail -40
cp /tmp/pbr_gpu/pbr_gpu.json /tmp/pbr_gpu/pbr_gpu.md "$OUT/" 2>/dev/null || echo "no results (see $OUT/pbr.log)"

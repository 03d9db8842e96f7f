#!/usr/bin/env bash
# The GPU check on a bare GPU machine (torch, timm, torchvision; no Ray, Optuna or MLflow needed), under 8 minutes on
# one H100-class GPU: one Markdown table (benchmarks/gpu_check.py), also written to $OUT/gpu_check.md (and .json)
# where OUT is set. Without a GPU it says so and exits 0; `--cpu-dry` runs it tiny on CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
if command -v nvidia-smi >/dev/null; then  # the driver, on stderr: the table names the card
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >&2 || true
fi
if [ -n "${OUT:-}" ]; then
  mkdir -p "$OUT"
  "$PY" -m benchmarks.gpu_check --json "$OUT/gpu_check.json" "$@" | tee "$OUT/gpu_check.md"
else
  "$PY" -m benchmarks.gpu_check "$@"
fi

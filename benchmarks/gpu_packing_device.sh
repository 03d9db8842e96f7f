#!/usr/bin/env bash
# One go on a lent GPU (< 5 min on an H100): which GPU, then K = 1, 2, 4 local trials packed on it (gpu_packing.py).
# The device image has torch and timm but not ray or optuna: carry them as wheels in .whl/ (device README).
set -euo pipefail
cd "$(dirname "$0")/.."
if compgen -G ".whl/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1  # Ray's trial processes import the repo too
PY=${PY:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
nvidia-smi -L
"$PY" -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda, torch.cuda.get_device_name())'
"$PY" -m benchmarks.gpu_packing --trials-per-gpu 1 2 4 --seconds 30 "$@" 2>&1 | tee "${OUT:-/tmp}/gpu_packing.txt"

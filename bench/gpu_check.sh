#!/usr/bin/env bash
# The one GPU check for the device machine (run from the repo root):
#   bash bench/gpu_check.sh            # SIZE=medium STEPS=3 by default; SIZE=small for a quicker run
# A few GRPO steps of a random-init Qwen2.5-VL-architecture model (~2.2 B with the real vision tower)
# in bf16 autocast on 60 real-size frames; prints tokens/s, per-phase times and peak GPU memory.
# Needs the project's Python environment (.venv, or PYTHON=...); no network is used.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-}
if [ -z "$PY" ]; then
  if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
fi
if ! "$PY" -c 'import torch, transformers, accelerate, pyarrow, PIL' 2>/dev/null; then
  echo "gpu_check: $PY lacks torch/transformers/accelerate/pyarrow/pillow; set PYTHON= or carry .venv" >&2
  exit 1
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
"$PY" -c 'import torch, transformers; print("torch", torch.__version__, "cuda", torch.version.cuda, "transformers", transformers.__version__, "gpu", torch.cuda.is_available())'

out=${OUT:-/tmp}
export TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1
"$PY" bench/gpu_check.py --size "${SIZE:-medium}" --steps "${STEPS:-3}" --json "$out/gpu_check.json" 2>&1 \
  | grep -v -e "Loading weights" -e "Writing model" | tee "$out/gpu_check.txt"

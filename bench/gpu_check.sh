#!/usr/bin/env bash
# The one GPU check for the device machine (run from the repo root):
#   bash bench/gpu_check.sh            # SIZE=medium STEPS=3 by default; SIZE=small for a quicker run
# A few GRPO steps of a random-init Qwen2.5-VL-architecture model (~2.2 B with the real vision tower)
# in bf16 autocast on 60 real-size frames; prints the positions check, tokens/s, per-phase times and
# peak GPU memory. With 2+ GPUs it then runs the 2-process paths the README's commands use: FSDP2
# (train/configs/accelerate_fsdp.yaml) and DDP (accelerate_ddp.yaml), SIZE2=small STEPS2=2 by default.
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

gpus=$("$PY" -c 'import torch; print(torch.cuda.device_count())')
if [ "$gpus" -ge 2 ]; then
  for kind in fsdp ddp; do
    echo "== 2 processes, $kind (train/configs/accelerate_$kind.yaml) =="
    "$PY" -m accelerate.commands.launch --config_file "train/configs/accelerate_$kind.yaml" --num_processes 2 \
      bench/gpu_check.py --size "${SIZE2:-small}" --steps "${STEPS2:-2}" --json "$out/gpu_check_2proc_$kind.json" 2>&1 \
      | grep -v -e "Loading weights" -e "Writing model" | tee "$out/gpu_check_2proc_$kind.txt"
  done
else
  echo "== 2-process paths skipped: $gpus GPU(s) visible =="
fi

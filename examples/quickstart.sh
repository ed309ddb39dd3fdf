#!/usr/bin/env bash
# The README's quickstart, top to bottom: the VideoChat-R1 recipe on the real datasets.
#
#   bash examples/quickstart.sh                 # from the checkout's root, with vrft on PATH (source .venv/bin/activate)
#   bash examples/quickstart.sh --labels-only   # no video needed: ingest the labels, validate, mix, evaluate the floors
#
# Where your files are: set these (the defaults follow each dataset's published layout under two folders).
# The annotation files are public (../shared/data/real/README.md says where each comes from, and lays
# them out as ANNOTATIONS expects); the videos you download yourself.
ANNOTATIONS=${ANNOTATIONS:-data/annotations}
VIDEOS=${VIDEOS:-data/videos}
CHARADES_STA=${CHARADES_STA:-$ANNOTATIONS/charades_sta}          # charades_sta_train.txt, charades_sta_test.txt, charades.json
NEXTGQA=${NEXTGQA:-$ANNOTATIONS/nextgqa}                        # val.csv, test.csv, gsub_*.json, map_vid_vidorID.json
GOT10K_VAL=${GOT10K_VAL:-$ANNOTATIONS/videochat_r1/got_val.json}  # VideoChat-R1's 180 GOT-10k val tracks (the paper's)
CHARADES_VIDEOS=${CHARADES_VIDEOS:-$VIDEOS/Charades_v1_480}
NEXTGQA_VIDEOS=${NEXTGQA_VIDEOS:-$VIDEOS/NExTVideo}              # NExT-QA's videos (VidOR)
GOT10K=${GOT10K:-$VIDEOS/GOT-10k}                              # GOT-10k's train/ and val/ split folders (frames + labels)
WORK=${WORK:-work}                                             # everything this writes goes under it
OUT=$WORK/out MIXES=$WORK/mixes RUNS=$WORK/runs EVAL=$WORK/eval

set -euo pipefail
case "${1:-}" in
  --labels-only) LABELS_ONLY=1 ;;
  "") LABELS_ONLY=0 ;;
  *) echo "usage: bash examples/quickstart.sh [--labels-only]" >&2; exit 2 ;;
esac
[ -f pipelines/mix/recipes/videochat_r1.yaml ] || { echo "quickstart: run it from the vrft checkout's root" >&2; exit 2; }
command -v vrft >/dev/null || { echo "quickstart: no vrft on PATH (source .venv/bin/activate)" >&2; exit 2; }
mkdir -p "$WORK"

run() {  # print a command, then run it; --labels-only: ingestion without video (--no-frames), mixtures keep frameless rows
  local cmd=()
  if [ "$LABELS_ONLY" = 1 ] && [ "$1 ${2:-}" = "vrft ingest" ]; then
    while [ $# -gt 0 ]; do
      if [ "$1" = --videos ]; then shift 2; else cmd+=("$1"); shift; fi
    done
    cmd+=(--no-frames)
  elif [ "$LABELS_ONLY" = 1 ] && [ "$1 ${2:-}" = "vrft mix" ]; then
    cmd=("$@" --frames optional)
  else
    cmd=("$@")
  fi
  echo "+ ${cmd[*]}" >&2
  "${cmd[@]}"
}

# 1. ingest: one folder per source, named as the recipes expect. Each run validates its output at the end
#    (FOLDER/report/index.html) and the script stops on a failed validation.
run vrft ingest charades-sta --annotations "$CHARADES_STA/charades_sta_train.txt" --durations "$CHARADES_STA/charades.json" --videos "$CHARADES_VIDEOS" --out "$OUT/charades_sta_train"
run vrft ingest charades-sta --annotations "$CHARADES_STA/charades_sta_test.txt" --durations "$CHARADES_STA/charades.json" --videos "$CHARADES_VIDEOS" --out "$OUT/charades_sta_test"
run vrft ingest got10k --annotations "$GOT10K/train" --out "$OUT/got10k_train"
run vrft ingest videochat-r1 --annotations "$GOT10K_VAL" --videos "$GOT10K/val" --out "$OUT/got10k_val"
run vrft ingest nextgqa --annotations "$NEXTGQA/val.csv" --videos "$NEXTGQA_VIDEOS" --out "$OUT/nextgqa_val"
run vrft ingest nextgqa --annotations "$NEXTGQA/test.csv" --videos "$NEXTGQA_VIDEOS" --out "$OUT/nextgqa_test"

# 2. look at what you are about to train on: the sample ids (id, task, video, query), then one sample drawn
run vrft show "$OUT/charades_sta_train" --list > "$WORK/charades_sta_train.ids"
head -n 4 "$WORK/charades_sta_train.ids"
SAMPLE=$(awk 'NR == 2 {print $1}' "$WORK/charades_sta_train.ids")
run vrft show "$OUT/charades_sta_train" "$SAMPLE" --out "$WORK/sample.png"

# 3. mix: the training shards (plain concatenation, as the paper; evaluation videos refused in training)
#    and the evaluation shards (Charades-STA test, NExT-GQA test, GOT-10k val)
run vrft mix pipelines/mix/recipes/videochat_r1.yaml --root "$OUT" --out "$MIXES/videochat_r1"
run vrft mix pipelines/mix/recipes/videochat_r1_eval.yaml --root "$OUT" --out "$MIXES/videochat_r1_eval"

# 4. the floors a model has to beat on those shards: the whole video as the span, the given first box copied
run vrft eval --baseline whole-video --data "$MIXES/videochat_r1_eval" --out "$EVAL/whole-video" --profile videochat-r1
run vrft eval --baseline copy-first-box --data "$MIXES/videochat_r1_eval" --out "$EVAL/copy-first-box" --profile videochat-r1
if [ "$LABELS_ONLY" = 1 ]; then
  echo "quickstart (labels only): done up to the floors; training and evaluating a model need the frames"
  exit 0
fi

# 5. train (8 GPUs; README, "Several GPUs"); follow it with: tensorboard --logdir "$RUNS/videochat-r1"
run accelerate launch --config_file train/configs/accelerate_fsdp.yaml -m vrft train train/configs/videochat_r1.yaml data.shards="$MIXES/videochat_r1" run.out="$RUNS/videochat-r1"

# 6. evaluate the trained model, the floors beside
run vrft eval --model "$RUNS/videochat-r1/final" --data "$MIXES/videochat_r1_eval" --out "$EVAL/videochat-r1" --profile videochat-r1

#!/usr/bin/env bash
# The documented BERT run (README "Training BERT on text"): MLM pre-training of a compact BERT on the
# offline text, fine-tuning on fine_foods (sentiment, accuracy) and the acceptability attempts
# (brown_cola_fw, brown_cola_scramble; MCC), then CAT at 8 and 4 bits with λ = 0 and λ = 1 on
# fine_foods. Sizes are cut to what a shared 2-core machine runs in about an hour; every step writes
# a run folder with report.json (metrics, bits/value, milliseconds per step, seconds). An
# interrupted step continues with the same command + --resume.
# (In the README's run the acceptability fine-tunes were stopped once they sat at MCC 0 — the
# scratch control after 2 of 3 epochs, bcfw-float after 1 of 2 — to give the CPU to the CAT runs.)
# Usage: bash scripts/bert-offline-run.sh [OUT_DIR]   (then: node scripts/bert-table.mjs OUT_DIR)
set -euo pipefail
cd "$(dirname "$0")/.."
R=${1:-runs}
export CATKIT_THREADS=${CATKIT_THREADS:-1}
ck() { nice -n 19 node dist/src/cli/bin.js text "$@"; }
ck pretrain --out "$R/mlm" --layers 2 --hidden 128 --steps 800 --batch-size 32 --max-length 48 --lr 1.5e-3 --warmup-steps 60
FF=(--task fine_foods --max-length 64)
ck finetune "${FF[@]}" --init "$R/mlm" --pooling mean --out "$R/ff-float" --epochs 3 --batch-size 32 --lr 1e-3 &
ck finetune --task brown_cola_fw --max-length 48 --train-limit 16000 --layers 2 --hidden 128 --pooling mean --out "$R/bcfw-float-scratch" --epochs 3 --batch-size 32 --lr 1e-3 &
ck finetune --task brown_cola_fw --max-length 48 --train-limit 12000 --init "$R/mlm" --pooling mean --out "$R/bcfw-float" --epochs 2 --batch-size 32 --lr 1e-3 &
ck finetune --task brown_cola_scramble --max-length 48 --train-limit 8000 --init "$R/mlm" --pooling mean --out "$R/bcs-float" --epochs 2 --batch-size 32 --lr 1e-3 &
ck finetune --task brown_cola_scramble --max-length 48 --train-limit 8000 --init "$R/mlm" --pooling mean --out "$R/bcs-float-lr3e-3" --epochs 2 --batch-size 32 --lr 3e-3 &
wait
for bits in 8 4; do
  for lambda in 0 1; do
    ck cat "${FF[@]}" --train-limit 2000 --init "$R/ff-float" --out "$R/ff-cat$bits-l$lambda" --bits "$bits" --lambda "$lambda" --epochs 1 --batch-size 32 --lr 3e-4 &
  done
done
wait

#!/usr/bin/env bash
# The documented BERT run (README "Training BERT on text"): MLM pre-training of a compact BERT on the
# offline text, fine-tuning on fine_foods (sentiment, accuracy) and brown_cola (acceptability, MCC),
# then CAT at 8 and 4 bits with λ = 0 and λ = 1. Sizes are cut to what a shared 2-core machine runs
# in about an hour; every step writes a run folder with report.json (metrics, bits/value, seconds).
# Usage: bash scripts/bert-offline-run.sh [OUT_DIR]   (then: node scripts/bert-table.mjs OUT_DIR)
set -euo pipefail
cd "$(dirname "$0")/.."
R=${1:-runs}
export CATKIT_THREADS=${CATKIT_THREADS:-1}
ck() { node dist/src/cli/bin.js text "$@"; }
ck pretrain --out "$R/bert-tiny-mlm" --layers 2 --hidden 128 --steps 300 --batch-size 16 --max-length 48 --lr 1e-3 --warmup-steps 30
FF=(--task fine_foods --train-limit 2000 --max-length 48)
BC=(--task brown_cola --train-limit 3000 --max-length 40)
ck finetune "${FF[@]}" --init "$R/bert-tiny-mlm" --pooling mean --out "$R/ff-float" --epochs 3 --batch-size 16 --lr 1e-3 &
ck finetune "${BC[@]}" --init "$R/bert-tiny-mlm" --pooling mean --out "$R/bc-float" --epochs 2 --batch-size 16 --lr 1e-3 &
wait
for bits in 8 4; do
  for lambda in 0 1; do
    ck cat "${FF[@]}" --init "$R/ff-float" --out "$R/ff-cat$bits-l$lambda" --bits "$bits" --lambda "$lambda" --epochs 1 --batch-size 16 --lr 2e-4 &
    ck cat "${BC[@]}" --init "$R/bc-float" --out "$R/bc-cat$bits-l$lambda" --bits "$bits" --lambda "$lambda" --epochs 1 --batch-size 16 --lr 2e-4 &
  done
  wait
done

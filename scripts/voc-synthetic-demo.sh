#!/usr/bin/env bash
# CPU-sized SSD + CAT run on the synthetic VOC set (README "Detection" table): a synthetic set a small
# detector learns in minutes (3 classes, 1–2 large objects per image, 128–160 px images), full-precision
# SSDLite at 128 px from random weights, then CAT fine-tuning at 6 and 4 activation bits with λ = 0 and
# with a rate target (--target-bits) below λ = 0's rate; prints mAP vs bits/value. The four CAT runs
# run side by side; each codes the activations of the first CODED test batches for real (mAP is over
# all test images).
# Usage: bash scripts/voc-synthetic-demo.sh [OUT] [FP_EPOCHS] [CAT_EPOCHS] [CODED]
set -euo pipefail
OUT=${1:-runs/voc}
FP_EPOCHS=${2:-5}
CAT_EPOCHS=${3:-1}
CODED=${4:-10}
CATKIT="node $(dirname "$0")/../dist/src/cli/bin.js"
export CATKIT_THREADS=${CATKIT_THREADS:-1}
[ -d "$OUT/VOCdevkit" ] || $CATKIT data make-voc-synthetic "$OUT/VOCdevkit" --images 2000 --seed 0 --classes 3 --max-objects 2 \
  --min-side 128 --max-side 160 --min-object 0.3 --max-object 0.7
[ -f "$OUT/fp32/report.json" ] || $CATKIT train --data "$OUT/VOCdevkit" --model ssdlite320_mobilenet_v3_large --image-size 128 --batch-size 16 \
  --optimizer adamw --lr 0.003 --warmup-iters 50 --workers 1 --augment light --epochs "$FP_EPOCHS" --out "$OUT/fp32"
cat_run() { # NAME BITS RATE-OPTIONS…
  local d="$OUT/$1" bits=$2; shift 2
  [ -f "$d/report.json" ] || $CATKIT cat --init "$OUT/fp32" --out "$d" --epochs "$CAT_EPOCHS" --optimizer adamw --lr 0.0003 --act-bits "$bits" \
    --clip-init max --workers 1 --coded-batches "$CODED" "$@" > "$d.log" 2>&1
}
cat_run cat-6bit-lambda0 6 --lambda 0 &
cat_run cat-6bit-target2.0 6 --target-bits 2.0 &
cat_run cat-4bit-lambda0 4 --lambda 0 &
cat_run cat-4bit-target1.0 4 --target-bits 1.0 &
wait
node "$(dirname "$0")/voc-table.mjs" "$OUT"

#!/usr/bin/env bash
# CPU-sized SSD + CAT run on the synthetic VOC set (README "Detection" table): a synthetic set a small
# detector learns in minutes (3 classes, 1–2 large objects per image, 128–160 px images), full-precision
# SSDLite at 128 px, then CAT fine-tuning at 6 and 4 activation bits with λ = 0 and λ > 0; prints
# mAP vs bits/value. The CAT runs of one bit width run side by side.
# Usage: bash scripts/voc-synthetic-demo.sh [OUT] [FP_EPOCHS] [CAT_EPOCHS] [LAMBDA]
set -euo pipefail
OUT=${1:-runs/voc-easy}
FP_EPOCHS=${2:-8}
CAT_EPOCHS=${3:-2}
LAMBDA=${4:-0.1}
CATKIT="node $(dirname "$0")/../dist/src/cli/bin.js"
export CATKIT_THREADS=${CATKIT_THREADS:-1}
[ -d "$OUT/VOCdevkit" ] || $CATKIT data make-voc-synthetic "$OUT/VOCdevkit" --images 1000 --seed 0 --classes 3 --max-objects 2 \
  --min-side 128 --max-side 160 --min-object 0.3 --max-object 0.7
[ -f "$OUT/fp32/report.json" ] || $CATKIT train --data "$OUT/VOCdevkit" --model ssdlite320_mobilenet_v3_large --image-size 128 --batch-size 16 \
  --optimizer adamw --lr 0.003 --warmup-iters 50 --workers 1 --augment light --epochs "$FP_EPOCHS" --out "$OUT/fp32"
for BITS in 6 4; do
  for L in 0 "$LAMBDA"; do
    D="$OUT/cat-${BITS}bit-lambda$L"
    [ -f "$D/report.json" ] || $CATKIT cat --init "$OUT/fp32" --out "$D" --epochs "$CAT_EPOCHS" --optimizer adamw --lr 0.0003 --act-bits "$BITS" --lambda "$L" --clip-init max --workers 1 &
  done
  wait
done
node "$(dirname "$0")/voc-table.mjs" "$OUT"

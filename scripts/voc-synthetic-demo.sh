#!/usr/bin/env bash
# CPU-sized SSD + CAT run on the synthetic VOC set (README "Detection" table): full-precision SSDLite,
# then CAT fine-tuning at 6 and 4 activation bits with λ = 0 and λ > 0; prints mAP vs bits/value.
# Usage: bash scripts/voc-synthetic-demo.sh [OUT] [IMAGES] [SIZE] [FP_EPOCHS] [CAT_EPOCHS] [LAMBDA]
set -euo pipefail
OUT=${1:-runs/voc-synth}
IMAGES=${2:-300}
SIZE=${3:-96}
FP_EPOCHS=${4:-12}
CAT_EPOCHS=${5:-2}
LAMBDA=${6:-0.03}
CATKIT="node $(dirname "$0")/../dist/src/cli/bin.js"
export CATKIT_THREADS=${CATKIT_THREADS:-1}
COMMON="--data $OUT/VOCdevkit --model ssdlite320_mobilenet_v3_large --image-size $SIZE --batch-size 8 --optimizer adamw --workers 1"
[ -d "$OUT/VOCdevkit" ] || $CATKIT data make-voc-synthetic "$OUT/VOCdevkit" --images "$IMAGES" --seed 0
[ -f "$OUT/fp32/report.json" ] || $CATKIT detect train $COMMON --out "$OUT/fp32" --epochs "$FP_EPOCHS" --lr 0.002 --warmup-iters 50
for BITS in 6 4; do  # the λ = 0 and λ > 0 runs of one bit width side by side
  for L in 0 "$LAMBDA"; do
    D="$OUT/cat-${BITS}bit-lambda$L"
    [ -f "$D/report.json" ] || $CATKIT detect cat $COMMON --init "$OUT/fp32" --out "$D" --epochs "$CAT_EPOCHS" --lr 0.0002 --warmup-iters 0 --act-bits "$BITS" --lambda "$L" &
  done
  wait
done
node -e '
const fs = require("fs"), path = require("path");
const out = process.argv[1];
console.log("| run | act bits | λ | mAP (VOC07, %) | bits/value (entropy) | Huffman | rANS |");
console.log("|---|---|---|---|---|---|---|");
for (const d of fs.readdirSync(out).filter((d) => fs.existsSync(path.join(out, d, "report.json"))).sort()) {
  const r = JSON.parse(fs.readFileSync(path.join(out, d, "report.json"), "utf8"));
  const e = r.evaluation, b = e.bitsPerValue, c = r.config.cat;
  console.log(`| ${d} | ${c ? c.actBits : 32} | ${c ? c.lambda : "–"} | ${(100 * e.map).toFixed(2)} | ${b ? b.entropy.toFixed(3) : "32 (float)"} | ${b ? b.huffman.toFixed(3) : "–"} | ${b ? b.rans.toFixed(3) : "–"} |`);
}' "$OUT"

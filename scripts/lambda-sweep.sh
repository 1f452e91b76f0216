#!/usr/bin/env bash
# λ sweep on Fashion-MNIST (Debian's dataset-fashion-mnist): one full-precision ResNet-8, then CAT
# fine-tuning from it at 4-bit activations / 8-bit weights for each λ, then a table of the reports.
#   bash scripts/lambda-sweep.sh [OUT_DIR] [CAT_EPOCHS] [λ ...]
# CAT runs use `catkit cat`'s default recipe, which came from this sweep: SGD lr 0.01 with a cosine
# decay over the run (the seed's lr 1e-4 barely moves the entropy in a few epochs), the soft entropy
# sampled from 16 images per batch (the reference's single image gives a noisy gradient), BN
# statistics re-estimated on 50 batches after each epoch. Extra options: CAT_OPTS="--recipe paper".
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/fmnist-sweep}; cat_epochs=${2:-4}
lambdas=("${@:3}"); [ ${#lambdas[@]} -gt 0 ] || lambdas=(0 0.2 0.3 0.5)
catkit() { node dist/src/cli/bin.js "$@"; }
[ -f "$out/fp/checkpoint.json" ] || catkit train --model resnet8 --dataset fashion-mnist --epochs 4 --batch-size 128 --lr 0.1 --random-crop 2 --out "$out/fp"
for l in "${lambdas[@]}"; do
  # shellcheck disable=SC2086
  [ -f "$out/cat-$l/report.json" ] || catkit cat --init "$out/fp" --lambda "$l" --epochs "$cat_epochs" --coded-batches 10 ${CAT_OPTS:-} --out "$out/cat-$l"
done
node scripts/sweep-table.mjs "$out"/*/report.json

#!/usr/bin/env bash
# Installs what catkit needs on a Debian 12 machine (apt packages when missing, npm dependencies,
# the native addon and the TypeScript build). Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."

# libtorch-dev: the engine; libopenblas0-pthread: fast BLAS for libtorch (reference BLAS is 30x slower);
# python3-torch/torchvision: the test oracle and benchmark reference; dataset-fashion-mnist: real data;
# libgloo-dev: Gloo headers for libtorch's c10d (multi-process training; libtorch-dev does not pull it in);
# opencv-doc: ships digits.png, kept here only as the source of the committed demo fixture.
# r-cran-modeldata: ships the small_fine_foods reviews (MIT) that the BERT sentiment task reads.
# python3-onnx: the ONNX checker the export tests run on written .onnx files.
# chromium: the headless browser the HTML report test and the browser demo's test run in (through puppeteer-core).
APT_PACKAGES=(libtorch-dev libgloo-dev libopenblas0-pthread python3-torch python3-torchvision dataset-fashion-mnist r-cran-modeldata g++ make python3 python3-onnx chromium)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "catkit setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -f build/Release/catkit_native.node ] || [ ! -d node_modules ] || [ package.json -nt node_modules ]; then
  # onnxruntime-node (tests) bundles its CPU library; skip its installer's download of GPU parts.
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
fi
npm run build --silent

#!/usr/bin/env bash
# Sets up (see setup.sh) and runs the main job: `catkit demo` on the embedded digits data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node dist/src/cli/bin.js demo "$@"

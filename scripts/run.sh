#!/usr/bin/env bash
# run.sh: sets up, builds and runs Cell. Until the replicated cell lands
# (celld), this runs the cell-state demo.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh build >/dev/null
exec ./build/bin/cellstate-demo

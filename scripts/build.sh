#!/usr/bin/env bash
# build.sh [DIR [CMAKE_ARGS...]]: installs the packages, configures and builds
# into DIR (default build/).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
dir=${1:-build}
shift || true
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$dir" -j "$(nproc)"

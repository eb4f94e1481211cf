#!/usr/bin/env bash
# test.sh: sets up, builds and runs every test: once in a normal build, once
# under AddressSanitizer + UndefinedBehaviorSanitizer (with leak checks).
# Before any test runs, check.sh must find the tree formatted and cppcheck
# clean. The randomized tests print their seed; rerun one with CELL_SEED=N.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

./scripts/build.sh build
./scripts/check.sh build
ctest --test-dir build --output-on-failure -j "$jobs"

./scripts/build.sh build-asan -DCELL_ASAN=ON -DCELL_UBSAN=ON
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ctest --test-dir build-asan --output-on-failure -j "$jobs"

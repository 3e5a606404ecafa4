#!/usr/bin/env bash
# Configures and builds seller (Release with debug info) into ${SELLER_BUILD_DIR:-build}.
# Extra arguments go to cmake's configure step (e.g. -DSELLER_WITH_TORCH=OFF).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${SELLER_BUILD_DIR:-build}
jobs=${SELLER_JOBS:-$(nproc)}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" > "$build.configure.log" 2>&1 ||
  { cat "$build.configure.log"; exit 1; }
grep -E "^-- seller:" "$build.configure.log" || true
cmake --build "$build" -j "$jobs"

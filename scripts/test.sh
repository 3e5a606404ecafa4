#!/usr/bin/env bash
# The whole test suite, as CI runs it (after scripts/setup.sh):
#   1. the normal build: unit + integration tests (ctest labels `unit`, `integration`);
#   2. an AddressSanitizer + UndefinedBehaviorSanitizer build running the unit tests;
#   3. a clang libFuzzer build running each fuzz target for SELLER_FUZZ_SECONDS (label `fuzz`);
#   4. GPU tests (label `gpu`) only where a GPU is present; elsewhere the reason is printed.
# Stages can be chosen with SELLER_TEST_STAGES="main asan fuzz gpu" (default: all).
# Exits non-zero on any failure and ends with one line "summary: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
stages=${SELLER_TEST_STAGES:-main asan fuzz gpu}
jobs=${SELLER_JOBS:-$(nproc)}
passed=0 failed=0 status=0
log_dir=${SELLER_TEST_LOG_DIR:-build-logs}
mkdir -p "$log_dir"

# run_ctest NAME BUILD_DIR ctest-args...: runs ctest, adds its counts to the totals.
run_ctest() {
  local name=$1 dir=$2; shift 2
  echo "== test stage: $name"
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" "$@" 2>&1 | tee "$log_dir/$name.log"
  local rc=${PIPESTATUS[0]}
  local line
  line=$(grep -E "tests passed, [0-9]+ tests? failed out of [0-9]+" "$log_dir/$name.log" | tail -1)
  if [[ $line =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then
    failed=$((failed + BASH_REMATCH[1]))
    passed=$((passed + BASH_REMATCH[2] - BASH_REMATCH[1]))
  fi
  if [ "$rc" -ne 0 ]; then status=1; fi
  if grep -q "No tests were found" "$log_dir/$name.log"; then
    echo "stage $name ran no test"; status=1
  fi
}

build_or_fail() {
  local name=$1; shift
  echo "== build: $name"
  if ! "$@"; then echo "build $name FAILED"; status=1; return 1; fi
}

for stage in $stages; do
  case $stage in
    main)
      build_or_fail main scripts/build.sh &&
        run_ctest main build -L "unit|integration"
      ;;
    asan)
      build_or_fail asan env SELLER_BUILD_DIR=build-asan scripts/build.sh \
        -DSELLER_SANITIZE=address,undefined -DSELLER_WITH_TORCH=OFF -DSELLER_BUILD_BENCH=OFF &&
        ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
          run_ctest asan build-asan -L unit
      ;;
    fuzz)
      build_or_fail fuzz env CC=clang CXX=clang++ SELLER_BUILD_DIR=build-fuzz scripts/build.sh \
        -DSELLER_FUZZ=ON -DSELLER_WITH_TORCH=OFF -DSELLER_BUILD_BENCH=OFF \
        -DSELLER_FUZZ_SECONDS="${SELLER_FUZZ_SECONDS:-15}" &&
        run_ctest fuzz build-fuzz -L fuzz -j 1
      ;;
    gpu)
      if command -v nvidia-smi > /dev/null && nvidia-smi -L > /dev/null 2>&1; then
        run_ctest gpu build -L gpu
      else
        echo "== test stage: gpu skipped: no NVIDIA GPU on this machine (nvidia-smi finds none);" \
             "GPU tests run on the device machine, see docs/gpu.md"
      fi
      ;;
    *) echo "unknown stage '$stage'"; status=1 ;;
  esac
done

echo "summary: $passed passed, $failed failed"
exit $status

#!/usr/bin/env bash
# Builds the libFuzzer harnesses of tests/fuzz (clang, ASan + UBSan + LeakSanitizer) and runs
# each for SECONDS, starting from its seed corpus in tests/fuzz/corpus/<harness>. Fails on any
# finding (crash, sanitizer report, leak, timeout, allocation over the limit); the input that
# triggered it is left in $BUILD/fuzz-artifacts/.
# Usage: scripts/fuzz.sh SECONDS [HARNESS...]      (default: every tests/fuzz/fuzz_*.cpp)
# Environment: FUZZ_BUILD (build folder, default build-fuzz; an existing XGRAD_FUZZ build is
# reused as it is), FUZZ_PARALLEL (harnesses run at once, default 1), JOBS (build jobs, default 1).
set -euo pipefail
secs=${1:?usage: $0 SECONDS [HARNESS...]}
shift
cd "$(dirname "$0")/.."
src=$(pwd)
build=${FUZZ_BUILD:-build-fuzz}
parallel=${FUZZ_PARALLEL:-1}
if [ $# -gt 0 ]; then
  harnesses=("$@")
else
  harnesses=()
  for f in tests/fuzz/fuzz_*.cpp; do harnesses+=("$(basename "$f" .cpp)"); done
fi

if ! grep -q '^XGRAD_FUZZ:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
  launcher=()
  command -v ccache > /dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  CXX=${CXX:-clang++} cmake -S . -B "$build" "${launcher[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" -DXGRAD_FUZZ=ON \
    -DXGRAD_BUILD_TESTS=OFF -DXGRAD_BUILD_EXAMPLES=OFF -DXGRAD_BUILD_BENCH=OFF > /dev/null
fi
cmake --build "$build" -j "${JOBS:-1}" --target "${harnesses[@]}"

mkdir -p "$build/fuzz-artifacts" "$build/fuzz-logs"
run_one() {
  local h=$1 work="$build/fuzz-corpus/$1" log="$build/fuzz-logs/$1.log"
  mkdir -p "$work"
  # New inputs go to the work corpus; the committed seeds are only read.
  if "$build/$h" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=20 -max_len=4096 \
       -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$h-" \
       "$work" "$src/tests/fuzz/corpus/$h" > "$log" 2>&1; then
    local done_line execs
    done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1)
    execs=$(sed -n 's/^stat::number_of_executed_units: //p' "$log")
    echo "fuzz $h: ok, ${secs}s, $execs execs, ${done_line#*DONE }"
  else
    echo "fuzz $h: FINDING (log $log)"
    grep -E 'ERROR|runtime error|SUMMARY|Test unit written|out-of-memory|timeout' "$log" | head -20
    return 1
  fi
}

status=0
pids=()
for h in "${harnesses[@]}"; do
  run_one "$h" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$parallel" ]; then
    wait "${pids[0]}" || status=1
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || status=1; done
exit $status

#!/usr/bin/env bash
# A rank that dies mid-run (SIGKILL), or stops taking part without dying, must make the run
# fail, not hang, and leave the last checkpoint intact.
# Usage: rank_death.sh MPIEXEC RANK_DEATH_BINARY
set -uo pipefail
mpiexec=$1 bin=$2
for mode in kill hang; do
  dir=$(mktemp -d)
  start=$SECONDS
  timeout 120 "$mpiexec" --allow-run-as-root --oversubscribe \
    --mca btl_vader_single_copy_mechanism none -np 2 "$bin" "$mode" "$dir" > "$dir/log" 2>&1
  rc=$?
  elapsed=$((SECONDS - start))
  echo "== rank 1: $mode"
  sed 's/^/  | /' "$dir/log" | grep -v '^  | -*$' | head -12
  echo "mpirun exited with $rc after ${elapsed} s"
  if [ "$rc" -eq 0 ]; then echo "FAIL: the run succeeded although rank 1 failed"; exit 1; fi
  if [ "$rc" -eq 124 ]; then echo "FAIL: still running after 120 s (hung)"; exit 1; fi
  if [ "$mode" = hang ] && ! grep -q "rank 0 waited .* for the other ranks" "$dir/log"; then
    echo "FAIL: rank 0 did not report the timeout"; exit 1
  fi
  "$bin" verify "$dir" || { echo "FAIL: the checkpoint does not load"; exit 1; }
  echo "ok: the run failed in ${elapsed} s and the checkpoint is intact"
  rm -rf "$dir"
done

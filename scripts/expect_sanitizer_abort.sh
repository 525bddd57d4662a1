#!/usr/bin/env bash
# Runs a sanitizer canary and passes only if it exits non-zero with the expected report.
# Usage: scripts/expect_sanitizer_abort.sh REPORT_REGEX PROGRAM [ARGS...]
set -uo pipefail
want=${1:?usage: $0 REPORT_REGEX PROGRAM [ARGS...]}
shift
out=$("$@" 2>&1)
rc=$?
if [ "$rc" -eq 0 ]; then
  echo "FAIL: '$*' exited 0: the sanitizer did not abort it"; echo "$out"; exit 1
fi
if ! grep -Eq "$want" <<<"$out"; then
  echo "FAIL: '$*' exited $rc without the report /$want/"; echo "$out"; exit 1
fi
echo "ok: '$*' aborted (exit $rc) with /$want/"

#!/usr/bin/env bash
# Installs the built xgrad into a temporary prefix, checks the installed package, then configures,
# builds and runs the consumer project in tests/consumer against it (find_package(xgrad CONFIG
# REQUIRED)). Checks: the exported targets name no absolute library path (only imported targets,
# which xgradConfig.cmake finds again on the consumer's machine); with WITH_DISTRIBUTED=ON, the
# distributed/ headers and libxgrad_distributed are installed and a consumer links
# xgrad::distributed; with OFF, neither is there.
# Usage: scripts/check_install.sh BUILD_DIR [WITH_DISTRIBUTED (ON|OFF, default OFF)]
set -euo pipefail
build=$(cd "${1:?usage: $0 BUILD_DIR [ON|OFF]}" && pwd)
case "${2:-OFF}" in ON|on|1|TRUE|true) dist=1 ;; *) dist=0 ;; esac
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
fail() { echo "FAIL: $*" >&2; exit 1; }
cmake --install "$build" --prefix "$prefix" > "$work/install.log"

config=$(find "$prefix" -name xgradConfig.cmake -path '*/cmake/xgrad/*' | head -1)
[ -n "$config" ] || fail "no xgradConfig.cmake under $prefix"
cmakedir=$(dirname "$config")
# An absolute path to a library file (/usr/lib/x86_64-linux-gnu/libopenblas.so, ...).
abs_lib='(^|[";[:space:]])/[^";[:space:]]*\.(so|a|dylib)(\.[0-9]+)*($|[";[:space:]])'
if grep -nE "$abs_lib" "$cmakedir"/xgradTargets*.cmake; then
  fail "the exported targets above name absolute library paths: link imported targets instead"
fi

headers=$prefix/include/xgrad/distributed
if [ "$dist" = 1 ]; then
  for h in "$src"/distributed/*.hpp; do
    [ -f "$headers/$(basename "$h")" ] || fail "distributed/$(basename "$h") is not installed"
  done
  [ -n "$(find "$prefix" -name 'libxgrad_distributed.*')" ] ||
    fail "libxgrad_distributed is not installed"
  grep -q 'xgrad::distributed' "$cmakedir"/xgradTargets.cmake ||
    fail "xgrad::distributed is not exported"
else
  [ ! -e "$headers" ] || fail "distributed/ headers installed although distributed/ was not built"
fi

# The build's own compiler: a sanitizer build's libxgrad.a needs that compiler's runtimes.
cxx=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")
cmake -S "$src/tests/consumer" -B "$work/build" -DCMAKE_BUILD_TYPE=Release \
      ${cxx:+-DCMAKE_CXX_COMPILER="$cxx"} -DCMAKE_PREFIX_PATH="$prefix" \
      > "$work/configure.log" 2>&1 ||
  { cat "$work/configure.log"; exit 1; }
cmake --build "$work/build" > "$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
"$work/build/consumer"
if [ "$dist" = 1 ]; then
  [ -x "$work/build/consumer_distributed" ] || fail "consumer_distributed was not built"
  # Runs without mpirun: it only asks the uninitialized process group its size.
  "$work/build/consumer_distributed"
else
  [ ! -e "$work/build/consumer_distributed" ] ||
    fail "consumer_distributed was built without distributed/"
fi

#!/usr/bin/env bash
# Installs the Debian packages xgrad needs, only those that are missing. Idempotent.
# Usage: scripts/install_deps.sh [build|run|lm|test|ci|fuzz|format|browser|bench|all]   (default: test)
#   build: compilers and libraries; run and test add the Fashion-MNIST dataset package (the main
#   job trains on it, and the end-to-end tests read it); lm adds the fortunes text (make run-lm's
#   corpus); fuzz adds clang and its sanitizer and
#   libFuzzer runtimes; ci is test plus fuzz (the sanitizer jobs of .ci/run build with clang)
#   plus clang-format (make format-check, the first stage of .ci/run) and chromium; format is
#   clang-format alone; browser is chromium alone (`make test` adds it: the report_browser test
#   renders report.html headless; `make run` does not need it).
#   bench adds libtorch and the LeNet epoch's peers (dlib; tiny-dnn with cereal, stb, gemmlowp).
#   OpenMPI is in the build set: distributed/ and its tests (mpirun -np 2) build when it is found.
set -euo pipefail
what=${1:-test}
build=(g++ cmake make libxtensor-dev libxtensor-blas-dev xtl-dev libxsimd-dev libfmt-dev libdnnl-dev
       doctest-dev libopenblas-dev liblapack-dev zlib1g-dev nlohmann-json3-dev libcli11-dev
       libopenmpi-dev openmpi-bin)
pkgs=("${build[@]}")
case "$what" in
  build) ;;
  run|test|data) pkgs+=(dataset-fashion-mnist) ;;
  lm) pkgs+=(fortunes) ;;
  fuzz) pkgs+=(clang libclang-rt-14-dev) ;;
  format) pkgs=(clang-format) ;;
  browser) pkgs=(chromium) ;;
  ci) pkgs+=(dataset-fashion-mnist chromium clang libclang-rt-14-dev clang-format) ;;
  bench) pkgs+=(libtorch-dev python3-torch dataset-fashion-mnist fortunes libblis-dev libdlib-dev
               tiny-dnn libcereal-dev libstb-dev libgemmlowp-dev) ;;
  all) pkgs+=(libtorch-dev dataset-fashion-mnist fortunes chromium graphviz python3-torch python3-numpy
              clang libclang-rt-14-dev libblis-dev clang-format) ;;
  *) echo "usage: $0 [build|run|lm|test|ci|fuzz|format|browser|bench|all]" >&2; exit 2 ;;
esac
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"

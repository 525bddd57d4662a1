#pragma once
// How many threads xgrad's kernels may use, like torch::set_num_threads: xgrad's parallel
// kernels and oneDNN's gemm (both on OpenMP's pool) and OpenBLAS's (float64 gemms, or every
// gemm when built without oneDNN) all follow it. Default: OMP_NUM_THREADS or
// OPENBLAS_NUM_THREADS when set, else the cores. xgrad's parallel kernels use it from any
// thread; oneDNN's gemm outside them follows OpenMP's setting of the calling thread, which
// set_num_threads sets for the thread that calls it (other threads keep OMP_NUM_THREADS).
namespace xg {

void set_num_threads(int n);  // n >= 1; throws xg::Error otherwise
int get_num_threads();
// Whether a BLAS library that can change its thread count (OpenBLAS) was found at run time.
bool blas_threads_controllable();

}  // namespace xg

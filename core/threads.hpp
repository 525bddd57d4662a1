#pragma once
// How many threads xgrad's kernels may use, like torch::set_num_threads: xgrad's parallel
// kernels and oneDNN's gemm (both on OpenMP's pool) follow it, and OpenBLAS's when it runs
// every gemm (built without oneDNN; with oneDNN, OpenBLAS runs float64 gemms on one thread).
// Default: OMP_NUM_THREADS or OPENBLAS_NUM_THREADS when set, else the cores. xgrad's parallel
// kernels use it from any thread; oneDNN's gemm outside them follows OpenMP's setting of the
// calling thread, which set_num_threads sets for the thread that calls it (other threads keep
// OMP_NUM_THREADS).
namespace xg {

void set_num_threads(int n);  // n >= 1; throws xg::Error otherwise
int get_num_threads();
// Whether a BLAS library that can change its thread count (OpenBLAS) was found at run time.
bool blas_threads_controllable();
// OpenBLAS's thread count (0 without OpenBLAS), and whether the BLAS runs the float32 gemms
// (false when oneDNN does: then OpenBLAS runs float64 gemms only, on one thread).
int blas_num_threads();
bool blas_runs_float32_gemms();

}  // namespace xg

#pragma once
// How many threads xgrad's kernels may use, like torch::set_num_threads. Today that is the BLAS
// library's thread count (OpenBLAS's gemm is where xgrad runs in parallel); the default is
// what the BLAS library chose (the cores, or OPENBLAS_NUM_THREADS).
namespace xg {

void set_num_threads(int n);  // n >= 1; throws xg::Error otherwise
int get_num_threads();
// Whether a BLAS library that can change its thread count (OpenBLAS) was found at run time.
bool blas_threads_controllable();

}  // namespace xg

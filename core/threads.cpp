#include "core/threads.hpp"

#include <dlfcn.h>

#include <thread>

#include "core/error.hpp"

namespace xg {

namespace {
// Looked up at run time so that xgrad links against any BLAS (the reference one has no thread
// control), and finds OpenBLAS behind Debian's libblas.so.3 alternative.
using SetFn = void (*)(int);
using GetFn = int (*)();
SetFn blas_set() {
    static SetFn f = reinterpret_cast<SetFn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
    return f;
}
GetFn blas_get() {
    static GetFn f = reinterpret_cast<GetFn>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
    return f;
}
// OpenMP's runtime, when loaded (oneDNN's gemm and xgrad's parallel kernels run on it).
SetFn omp_set() {
    static SetFn f = reinterpret_cast<SetFn>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
    return f;
}
int& fallback_threads() {
    static int n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    return n;
}
}  // namespace

bool blas_threads_controllable() {
    return blas_set() != nullptr && blas_get() != nullptr;
}

void set_num_threads(int n) {
    XG_CHECK(n >= 1, "set_num_threads: expected at least 1 thread, got {}", n);
    fallback_threads() = n;
    if (auto f = blas_set()) f(n);
    if (auto f = omp_set()) f(n);
}

int get_num_threads() {
    return fallback_threads();
}

}  // namespace xg

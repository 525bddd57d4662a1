#include "core/threads.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
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
// The default: OMP_NUM_THREADS (its first value) or OPENBLAS_NUM_THREADS when set, as the
// libraries themselves would take it, else the cores.
int default_threads() {
    for (const char* var : {"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"}) {
        if (const char* v = std::getenv(var)) {
            char* end = nullptr;
            long n = std::strtol(v, &end, 10);
            if (end != v && n >= 1 && n <= 4096) return static_cast<int>(n);
        }
    }
    return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}
std::atomic<int>& fallback_threads() {
    static std::atomic<int> n{default_threads()};
    return n;
}
}  // namespace

int blas_num_threads() {
    auto f = blas_get();
    return f ? f() : 0;
}

bool blas_threads_controllable() {
    return blas_set() != nullptr && blas_get() != nullptr;
}

bool blas_runs_float32_gemms() {
#if defined(XGRAD_USE_DNNL)
    return false;
#else
    return true;
#endif
}

void set_num_threads(int n) {
    XG_CHECK(n >= 1, "set_num_threads: expected at least 1 thread, got {}", n);
    fallback_threads() = n;
    // With oneDNN, OpenBLAS runs only float64 gemms: more OpenBLAS threads would be a second
    // pool beside OpenMP's, each worker asking for a 128 MB buffer when it starts (under a
    // memory limit it retries forever and exit() waits for it), so it stays at one thread.
    if (auto f = blas_set()) f(blas_runs_float32_gemms() ? n : 1);
    if (auto f = omp_set()) f(n);
}

int get_num_threads() {
    return fallback_threads().load();
}

}  // namespace xg

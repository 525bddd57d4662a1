#include "core/threads.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
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
// The count OMP_NUM_THREADS (its first value) or OPENBLAS_NUM_THREADS fixes, as the libraries
// themselves would take it; 0 when neither is set.
int env_threads() {
    for (const char* var : {"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"}) {
        if (const char* v = std::getenv(var)) {
            char* end = nullptr;
            long n = std::strtol(v, &end, 10);
            if (end != v && n >= 1 && n <= 4096) return static_cast<int>(n);
        }
    }
    return 0;
}
int default_threads() {
    int n = env_threads();
    return n ? n : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}
std::atomic<int>& fallback_threads() {
    static std::atomic<int> n{default_threads()};
    return n;
}
std::atomic<bool>& adaptive() {
    static std::atomic<bool> on{env_threads() == 0};
    return on;
}

using Clock = std::chrono::steady_clock;
constexpr auto kSample = std::chrono::milliseconds(50);

// The run-queue delay of the calling thread so far, in seconds; negative when unknown.
double runqueue_delay() {
    std::FILE* f = std::fopen("/proc/thread-self/schedstat", "r");
    if (!f) return -1;
    unsigned long long run = 0, wait = 0;
    int got = std::fscanf(f, "%llu %llu", &run, &wait);
    std::fclose(f);
    return got == 2 ? double(wait) * 1e-9 : -1;
}

// The sampler: one thread samples at a time (try_lock); the level is read lock-free by every op.
struct Policy {
    std::atomic<int> level{0};  // 0: all threads; 1: one thread
    std::atomic<Clock::rep> next_sample{0};
    std::mutex m;
    std::thread::id sampler;
    Clock::time_point last_wall;
    double last_delay = -1;
    detail::LoadPolicy load;
    bool disabled = false;  // no schedstat on this system

    void sample(Clock::time_point now) {
        std::unique_lock<std::mutex> lock(m, std::try_to_lock);
        if (!lock.owns_lock() || disabled) return;
        next_sample = (now + kSample).time_since_epoch().count();
        const auto me = std::this_thread::get_id();
        const double delay = runqueue_delay();
        if (delay < 0) {
            disabled = true;
            return;
        }
        // Another thread's delay is another counter: start over from it.
        if (me != sampler || last_delay < 0 || now - last_wall > 20 * kSample) {
            sampler = me, last_delay = delay, last_wall = now;
            return;
        }
        const double wall = std::chrono::duration<double>(now - last_wall).count();
        load.observe((delay - last_delay) / std::max(wall, 1e-6), now);
        last_delay = delay, last_wall = now;
        level = load.one_thread ? 1 : 0;
    }
};
Policy& policy() {
    static Policy p;
    return p;
}
using InParallelFn = int (*)();
InParallelFn omp_in_parallel_fn() {
    static auto f = reinterpret_cast<InParallelFn>(dlsym(RTLD_DEFAULT, "omp_in_parallel"));
    return f;
}
thread_local int omp_applied = -1;  // the count last given to OpenMP on this thread
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
    adaptive() = false;
    // With oneDNN, OpenBLAS runs only float64 gemms: more OpenBLAS threads would be a second
    // pool beside OpenMP's, each worker asking for a 128 MB buffer when it starts (under a
    // memory limit it retries forever and exit() waits for it), so it stays at one thread.
    if (auto f = blas_set()) f(blas_runs_float32_gemms() ? n : 1);
    if (auto f = omp_set()) f(n);
    omp_applied = n;
}

bool adaptive_threads() {
    return adaptive().load();
}

namespace detail {

int active_threads() {
    if (auto f = omp_in_parallel_fn(); f && f()) return 1;  // nested regions run serially
    int n = fallback_threads().load();
    if (n > 1 && adaptive().load(std::memory_order_relaxed)) {
        Policy& p = policy();
        const auto now = Clock::now();
        if (now.time_since_epoch().count() >= p.next_sample.load(std::memory_order_relaxed))
            p.sample(now);
        if (p.level.load(std::memory_order_relaxed) == 1) n = 1;
    }
    if (n != omp_applied) {
        if (auto f = omp_set()) f(n);
        omp_applied = n;
    }
    return n;
}

AdaptiveStats adaptive_stats() {
    Policy& p = policy();
    std::lock_guard<std::mutex> lock(p.m);
    return {p.load.downs, p.load.ups};
}

void LoadPolicy::observe(double busy, Clock::time_point now) {
    if (!one_thread && busy > kBusy) {
        // Busy again soon after going back up: wait twice as long before the next try.
        const bool soon = ups > 0 && now - up_since < 4 * backoff;
        backoff = soon ? std::min<Clock::duration>(2 * backoff, kMaxBackoff)
                       : Clock::duration(kFirstBackoff);
        one_thread = true, retry_at = now + backoff, ++downs;
    } else if (one_thread && busy < kFree && now >= retry_at) {
        one_thread = false, up_since = now, ++ups;
    }
}

}  // namespace detail

int get_num_threads() {
    return fallback_threads().load();
}

}  // namespace xg

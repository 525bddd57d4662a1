#pragma once
// How many threads xgrad's kernels may use, like torch::set_num_threads: xgrad's parallel
// kernels and oneDNN's gemm (both on OpenMP's pool) follow it, and OpenBLAS's when it runs
// every gemm (built without oneDNN; with oneDNN, OpenBLAS runs float64 gemms on one thread).
// Default: OMP_NUM_THREADS or OPENBLAS_NUM_THREADS when set, else the cores. xgrad's parallel
// kernels use it from any thread; oneDNN's gemm outside them follows OpenMP's setting of the
// calling thread, which set_num_threads sets for the thread that calls it (other threads keep
// OMP_NUM_THREADS).
//
// Until set_num_threads is called (or when OMP_NUM_THREADS is set, which fixes the count too),
// the count adapts to the machine's load: OpenMP teams end in a barrier, and on a machine whose
// cores are busy with other processes a team waits at each barrier for a thread that is not
// scheduled, so an op split over 2 threads can take many times its serial time. xgrad watches
// how long the thread that runs ops waits to be scheduled (its run-queue delay, from
// /proc/thread-self/schedstat, sampled every 50 ms): above a quarter of the wall time it runs on
// one thread, and it tries all the threads again, after a back-off that doubles while the
// machine stays busy, once the delay is gone. Results do not depend on the count where xgrad
// promises determinism (docs/RELIABILITY.md), so the switch changes no bits there.
#include <chrono>

namespace xg {

void set_num_threads(int n);  // n >= 1; throws xg::Error otherwise
int get_num_threads();
// Whether a BLAS library that can change its thread count (OpenBLAS) was found at run time.
bool blas_threads_controllable();
// Whether the count adapts to load (true until set_num_threads fixes it; see above).
bool adaptive_threads();

namespace detail {
// The threads a parallel region may use now: get_num_threads(), or 1 while the adaptive policy
// finds the machine busy. Also applies the count to OpenMP for the calling thread, so oneDNN's
// gemm follows it; call it before every parallel region and gemm.
int active_threads();
// How many times the adaptive policy went down to one thread and back up (for benchmarks).
struct AdaptiveStats {
    long downs = 0, ups = 0;
};
AdaptiveStats adaptive_stats();

// The decision, fed one sample at a time: `busy` is the run-queue delay per second of wall time
// since the last sample. Down to one thread above kBusy; back up below kFree once the back-off
// has passed; the back-off doubles (up to kMaxBackoff) when the machine is busy again within
// four back-offs of going up, and starts over otherwise.
struct LoadPolicy {
    using Clock = std::chrono::steady_clock;
    static constexpr double kBusy = 0.25, kFree = 0.08;
    static constexpr Clock::duration kFirstBackoff = std::chrono::milliseconds(500);
    static constexpr Clock::duration kMaxBackoff = std::chrono::seconds(16);

    void observe(double busy, Clock::time_point now);
    bool one_thread = false;
    Clock::duration backoff = kFirstBackoff;
    Clock::time_point up_since, retry_at;
    long downs = 0, ups = 0;
};
}  // namespace detail
// OpenBLAS's thread count (0 without OpenBLAS), and whether the BLAS runs the float32 gemms
// (false when oneDNN does: then OpenBLAS runs float64 gemms only, on one thread).
int blas_num_threads();
bool blas_runs_float32_gemms();

}  // namespace xg

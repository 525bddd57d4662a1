#include "core/parallel.hpp"

#include <algorithm>
#include <exception>

#include "core/threads.hpp"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace xg::detail {

int parallel_threads(std::size_t n, std::size_t work) {
#if defined(_OPENMP)
    if (n < 2 || work < min_parallel_work || omp_in_parallel()) return 1;
    return static_cast<int>(std::min<std::size_t>(n, std::size_t(active_threads())));
#else
    (void)n, (void)work;
    return 1;
#endif
}

void parallel_for(std::size_t n, std::size_t work,
                  const std::function<void(std::size_t, std::size_t, int)>& body) {
    parallel_for_threads(n, parallel_threads(n, work), body);
}

void parallel_for_threads(std::size_t n, int threads,
                          const std::function<void(std::size_t, std::size_t, int)>& body) {
    if (threads <= 1) {
        if (n) body(0, n, 0);
        return;
    }
    std::exception_ptr err;
#if defined(_OPENMP)
#pragma omp parallel num_threads(threads)
    {
        // OpenMP may grant fewer threads (OMP_DYNAMIC, OMP_THREAD_LIMIT): each thread then
        // takes several of the `threads` chunks, so the split, and the results, stay the same.
        const auto nt = static_cast<std::size_t>(threads);
        const auto team = static_cast<std::size_t>(omp_get_num_threads());
        try {
            for (auto t = static_cast<std::size_t>(omp_get_thread_num()); t < nt; t += team)
                if (n * t / nt < n * (t + 1) / nt) body(n * t / nt, n * (t + 1) / nt, int(t));
        } catch (...) {
#pragma omp critical(xg_parallel_error)
            if (!err) err = std::current_exception();
        }
    }
#else
    const auto nt = static_cast<std::size_t>(threads);
    for (std::size_t t = 0; t < nt; ++t)
        if (n * t / nt < n * (t + 1) / nt) body(n * t / nt, n * (t + 1) / nt, int(t));
#endif
    if (err) std::rethrow_exception(err);
}

}  // namespace xg::detail

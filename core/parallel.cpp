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
    return static_cast<int>(std::min<std::size_t>(n, std::size_t(get_num_threads())));
#else
    (void)n, (void)work;
    return 1;
#endif
}

void parallel_for(std::size_t n, std::size_t work,
                  const std::function<void(std::size_t, std::size_t, int)>& body) {
    const int threads = parallel_threads(n, work);
    if (threads <= 1) {
        if (n) body(0, n, 0);
        return;
    }
    std::exception_ptr err;
#if defined(_OPENMP)
#pragma omp parallel num_threads(threads)
    {
        const auto t = static_cast<std::size_t>(omp_get_thread_num());
        const auto nt = static_cast<std::size_t>(omp_get_num_threads());
        try {
            if (n * t / nt < n * (t + 1) / nt) body(n * t / nt, n * (t + 1) / nt, int(t));
        } catch (...) {
#pragma omp critical(xg_parallel_error)
            if (!err) err = std::current_exception();
        }
    }
#endif
    if (err) std::rethrow_exception(err);
}

}  // namespace xg::detail

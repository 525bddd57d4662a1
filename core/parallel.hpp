#pragma once
// xgrad's one thread pool: OpenMP's (when built with it), sized by xg::set_num_threads.
// parallel_for splits [0, n) into one contiguous chunk per thread, so which thread computes what
// depends only on n and the thread count: results are reproducible for a given thread count.
#include <cstddef>
#include <functional>

namespace xg::detail {

// Calls body(first, last, thread) on chunks of [0, n). Runs on the caller's thread alone when
// xgrad uses one thread, when n < 2, when already inside a parallel region, or when `work` (an
// estimate of the operations in all of [0, n)) is below `min_parallel_work`. An exception in
// any chunk is rethrown on the caller's thread after all chunks end.
inline constexpr std::size_t min_parallel_work = std::size_t(1) << 16;
void parallel_for(std::size_t n, std::size_t work,
                  const std::function<void(std::size_t, std::size_t, int)>& body);
// The threads parallel_for would use for this n and work (1 = serial).
int parallel_threads(std::size_t n, std::size_t work);
// The same with the thread count already chosen by parallel_threads (so that per-thread
// buffers sized from it match the team even if set_num_threads runs meanwhile).
void parallel_for_threads(std::size_t n, int threads,
                          const std::function<void(std::size_t, std::size_t, int)>& body);

}  // namespace xg::detail

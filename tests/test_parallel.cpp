// core/parallel: the chunks cover the range once, in a split fixed by the thread count, and an
// exception in any chunk reaches the caller.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <vector>

#include "core/parallel.hpp"
#include "xgrad.hpp"

namespace xg::testing {

TEST_CASE("parallel_for: every index once, contiguous chunks per thread") {
    const int before = get_num_threads();
    for (int threads : {1, 2, 3}) {
        set_num_threads(threads);
        for (std::size_t n : {0, 1, 2, 5, 1000}) {
            std::vector<std::atomic<int>> seen(n);
            std::vector<int> owner(n, -1);
            detail::parallel_for_threads(n, threads, [&](std::size_t a, std::size_t b, int t) {
                for (std::size_t i = a; i < b; ++i) ++seen[i], owner[i] = t;
            });
            CAPTURE(threads);
            CAPTURE(n);
            for (std::size_t i = 0; i < n; ++i) CHECK(seen[i] == 1);
            // chunk t is [n*t/threads, n*(t+1)/threads)
            for (std::size_t t = 0; t < std::size_t(threads); ++t)
                for (std::size_t i = n * t / threads; i < n * (t + 1) / threads; ++i)
                    CHECK(owner[i] == int(t));
        }
    }
    set_num_threads(before);
}

TEST_CASE("parallel_for: small work runs on the caller alone; exceptions reach the caller") {
    CHECK(detail::parallel_threads(1000, 10) == 1);
    CHECK(detail::parallel_threads(1, std::size_t(1) << 30) == 1);
    CHECK_THROWS_WITH_AS(
        detail::parallel_for_threads(
            10, 2, [](std::size_t a, std::size_t, int) { XG_CHECK(a == 0, "chunk {} failed", a); }),
        "chunk 5 failed", Error);
}

TEST_CASE("buffer cache: a block larger than the limit is freed without emptying the cache") {
    const auto limit = cache_stats().limit_bytes;
    empty_cache();
    set_cache_limit(std::size_t(2) << 20);
    { Tensor a = zeros({256, 1024}); }  // 1 MB: cached
    const auto cached = cache_stats().cached_bytes;
    CHECK(cached > 0);
    { Tensor big = zeros({1024, 1024}); }  // 4 MB: above the limit
    CHECK(cache_stats().cached_bytes == cached);
    set_cache_limit(limit);
}

TEST_CASE("threads: the load policy goes to one thread when busy, back after its back-off") {
    using P = detail::LoadPolicy;
    using ms = std::chrono::milliseconds;
    P p;
    P::Clock::time_point t{};
    auto at = [&](long ms_) { return t + ms(ms_); };
    p.observe(0.02, at(1000));  // a quiet machine: all threads
    CHECK_FALSE(p.one_thread);
    p.observe(0.5, at(1050));  // busy: one thread, first back-off 500 ms
    CHECK(p.one_thread);
    CHECK(p.downs == 1);
    CHECK(p.backoff == P::kFirstBackoff);
    p.observe(0.01, at(1100));  // free, but within the back-off: stay
    CHECK(p.one_thread);
    p.observe(0.2, at(1600));  // past the back-off but not free (1 of 3 runnable waits): stay
    CHECK(p.one_thread);
    p.observe(0.01, at(1650));  // free and past the back-off: all threads again
    CHECK_FALSE(p.one_thread);
    CHECK(p.ups == 1);
    p.observe(0.4, at(1700));  // busy again at once: the back-off doubles
    CHECK(p.one_thread);
    CHECK(p.backoff == 2 * P::kFirstBackoff);
    p.observe(0.01, at(1700 + 999));  // not yet
    CHECK(p.one_thread);
    p.observe(0.01, at(1700 + 1000));
    CHECK_FALSE(p.one_thread);
    // Busy long after going up: the back-off starts over.
    p.observe(0.6, at(1700 + 1000 + 60000));
    CHECK(p.one_thread);
    CHECK(p.backoff == P::kFirstBackoff);
    // Doubling stops at the cap.
    for (int i = 0; i < 20; ++i) {
        long now = 100000 + i * 100000;
        p.observe(0.01, at(now));
        p.observe(0.9, at(now + 1));
    }
    CHECK(p.backoff == P::kMaxBackoff);
}

TEST_CASE("threads: adaptive until set_num_threads fixes the count") {
    const int before = get_num_threads();
    set_num_threads(2);
    CHECK_FALSE(adaptive_threads());
    CHECK(detail::active_threads() == 2);
    set_num_threads(1);
    CHECK(detail::active_threads() == 1);
    set_num_threads(before);
}

}  // namespace xg::testing

#pragma once
// Timing helpers shared by the benchmarks: run a body several times, report the median.
#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

namespace xg::bench {

// Runs `body` `warmup` times untimed, then `reps` times; returns the median in milliseconds.
inline double median_ms(const std::function<void()>& body, int reps = 15, int warmup = 3) {
    for (int i = 0; i < warmup; ++i) body();
    std::vector<double> t;
    for (int i = 0; i < reps; ++i) {
        auto s = std::chrono::steady_clock::now();
        body();
        t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s)
                        .count());
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

}  // namespace xg::bench

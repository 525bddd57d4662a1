// The all-reduce cost model of docs/PERFORMANCE.md ("Data-parallel scale"): times
// xg::distributed::all_reduce of float32 tensors from 1 element to 16M (64 MB) between the
// ranks of this run, median of 20 after 3 warm-ups (a barrier before each), and fits
// t(n) = a + b * bytes to the smallest and the largest sizes: a is the latency term, 1 / b the
// bandwidth. Then prints the model of a ring all-reduce over p ranks,
// 2 (p - 1) a + 2 (p - 1) / p * bytes * b, for the main job's gradient (20,586 floats) and
// larger ones. Run: mpirun -np 2 ./build/bench/bench_allreduce
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "xgrad.hpp"

namespace dist = xg::distributed;

namespace {
double median_all_reduce_s(std::size_t n) {
    xg::Tensor t = xg::ones({n});
    std::vector<double> times;
    for (int i = 0; i < 23; ++i) {
        dist::barrier();
        auto t0 = std::chrono::steady_clock::now();
        dist::all_reduce(t);
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (i >= 3) times.push_back(s);
    }
    std::sort(times.begin(), times.end());
    // The slowest rank's median: what a step waits for.
    xg::Tensor m = xg::full({1}, times[times.size() / 2], xg::float64);
    dist::all_reduce(m, dist::ReduceOp::max);
    return m.item();
}
}  // namespace

int main(int argc, char** argv) {
    dist::init(&argc, &argv);
    const int p = dist::world_size();
    const bool lead = dist::rank() == 0;
    if (lead) fmt::print("all_reduce of float32 over {} ranks, median of 20 (slowest rank)\n", p);
    if (lead) fmt::print("{:>12} {:>12} {:>12}\n", "elements", "time (us)", "GB/s (algbw)");
    std::vector<std::pair<std::size_t, double>> rows;
    for (std::size_t n = 1; n <= (std::size_t(1) << 24); n *= 8) {
        const double s = median_all_reduce_s(n);
        rows.push_back({n, s});
        if (lead) fmt::print("{:>12} {:>12.1f} {:>12.3f}\n", n, 1e6 * s, 4.0 * n / s / 1e9);
    }
    // Two-point fit: latency from the smallest message, per-byte cost from the largest.
    const double a = rows.front().second;
    const double bytes_big = 4.0 * rows.back().first;
    const double b = (rows.back().second - a) / bytes_big;
    // What one all-reduce of `bytes` over 2 ranks costs in the ring model, p = 2:
    // 2 (p - 1) a' + 2 (p - 1) / p * bytes * b'  =>  a' = a / 2, b' = b.
    const double alpha = a / 2, beta = b;
    if (lead) {
        fmt::print(
            "\nfit: latency a = {:.1f} us per all-reduce ({:.1f} us per ring step), "
            "bandwidth 1/b = {:.2f} GB/s\n",
            1e6 * a, 1e6 * alpha, 1e-9 / beta);
        fmt::print(
            "ring all-reduce model, 2 (p-1) alpha + 2 (p-1)/p bytes beta (a MODEL, from "
            "these loopback figures):\n");
        fmt::print("{:>8} {:>16} {:>16} {:>16}\n", "ranks", "20,586 floats", "1M floats",
                   "25 MB bucket");
        for (int ranks : {2, 4, 8, 16}) {
            auto model = [&](double bytes) {
                return 2.0 * (ranks - 1) * alpha + 2.0 * (ranks - 1) / ranks * bytes * beta;
            };
            fmt::print("{:>8} {:>13.1f} us {:>13.1f} us {:>13.1f} us\n", ranks,
                       1e6 * model(4.0 * 20586), 1e6 * model(4.0 * (1 << 20)),
                       1e6 * model(25.0 * 1024 * 1024));
        }
    }
    dist::finalize();
    return 0;
}

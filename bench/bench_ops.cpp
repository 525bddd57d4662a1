// Per-op overhead and matmul, xgrad beside libtorch in one run. Prints medians and the ratio
// xgrad / libtorch (below 1 means xgrad is faster).
#include <fmt/core.h>

#include "bench/bench_util.hpp"
#include "xgrad.hpp"

#ifdef XGRAD_WITH_TORCH
#include <torch/torch.h>
#endif

namespace {

constexpr int kChain = 1000;

double xgrad_chain(std::size_t n) {
    auto x = xg::randn({n}, xg::float32).requires_grad_();
    auto a = xg::randn({n}, xg::float32);
    return xg::bench::median_ms([&] {
        xg::Tensor c = x;
        for (int i = 0; i < kChain / 4; ++i) c = xg::tanh(c * a + 0.5) - a;
        c.sum().backward();
        x.zero_grad();
    });
}

double xgrad_matmul(std::size_t n) {
    auto a = xg::randn({n, n}, xg::float32).requires_grad_();
    auto b = xg::randn({n, n}, xg::float32).requires_grad_();
    return xg::bench::median_ms([&] {
        xg::matmul(a, b).sum().backward();
        a.zero_grad();
        b.zero_grad();
    });
}

#ifdef XGRAD_WITH_TORCH
double torch_chain(int64_t n) {
    auto x = torch::randn({n}).requires_grad_();
    auto a = torch::randn({n});
    return xg::bench::median_ms([&] {
        torch::Tensor c = x;
        for (int i = 0; i < kChain / 4; ++i) c = torch::tanh(c * a + 0.5) - a;
        c.sum().backward();
        x.mutable_grad().reset();
    });
}

double torch_matmul(int64_t n) {
    auto a = torch::randn({n, n}).requires_grad_();
    auto b = torch::randn({n, n}).requires_grad_();
    return xg::bench::median_ms([&] {
        torch::matmul(a, b).sum().backward();
        a.mutable_grad().reset();
        b.mutable_grad().reset();
    });
}
#endif

void row(const char* name, double ours, double theirs) {
    if (theirs > 0) {
        fmt::print("{:<44} {:>10.3f} {:>10.3f} {:>8.2f}\n", name, ours, theirs, ours / theirs);
    } else {
        fmt::print("{:<44} {:>10.3f} {:>10} {:>8}\n", name, ours, "-", "-");
    }
}

}  // namespace

int main() {
    xg::manual_seed(0);
    fmt::print("{:<44} {:>10} {:>10} {:>8}\n", "benchmark (median of 15, ms)", "xgrad", "libtorch",
               "ratio");
    double t = 0;
#ifdef XGRAD_WITH_TORCH
    torch::manual_seed(0);
    t = torch_chain(16);
#endif
    row("chain of 1000 elementwise ops, 16 floats, fwd+bwd", xgrad_chain(16), t);
#ifdef XGRAD_WITH_TORCH
    t = torch_chain(4096);
#endif
    row("chain of 1000 elementwise ops, 4096 floats, fwd+bwd", xgrad_chain(4096), t);
#ifdef XGRAD_WITH_TORCH
    t = torch_matmul(256);
#endif
    row("matmul 256x256 float32, fwd+bwd", xgrad_matmul(256), t);
#ifndef XGRAD_WITH_TORCH
    fmt::print("(libtorch not found at configure time: install libtorch-dev for the comparison)\n");
#endif
    return 0;
}

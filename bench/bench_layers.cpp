// The CNN layers other than conv, forward + backward, xgrad beside libtorch (when built with it)
// in one run: medians in ms and the ratio xgrad / libtorch (below 1: xgrad faster). float32.
#include <fmt/core.h>

#include <functional>
#include <string>
#include <vector>

#include "bench/bench_util.hpp"
#include "xgrad.hpp"

#ifdef XGRAD_WITH_TORCH
#include <torch/torch.h>
#endif

namespace {

struct Row {
    std::string name;
    std::function<double()> ours, theirs;
};

// Times `loss_of(x)` forward + backward into x.
double time_xgrad(const xg::Shape& shape, const std::function<xg::Tensor(const xg::Tensor&)>& f) {
    xg::manual_seed(0);
    xg::Tensor x = xg::randn(shape).requires_grad_();
    return xg::bench::median_ms([&] {
        f(x).sum().backward();
        x.zero_grad();
    });
}

#ifdef XGRAD_WITH_TORCH
double time_torch(const std::vector<int64_t>& shape,
                  const std::function<torch::Tensor(const torch::Tensor&)>& f) {
    torch::manual_seed(0);
    torch::Tensor x = torch::randn(shape).requires_grad_();
    return xg::bench::median_ms([&] {
        f(x).sum().backward();
        x.mutable_grad().reset();
    });
}
#endif

}  // namespace

int main() {
    using xg::Tensor;
    const xg::Shape act{64, 32, 32, 32};  // a CNN activation: 2M floats
    xg::Tensor rm = xg::zeros({32}), rv = xg::ones({32});
    xg::Tensor labels = xg::full({128}, 3.0, xg::int64);
#ifdef XGRAD_WITH_TORCH
    namespace F = torch::nn::functional;
    const std::vector<int64_t> tact{64, 32, 32, 32};
    torch::Tensor trm = torch::zeros({32}), trv = torch::ones({32});
    torch::Tensor tlabels = torch::full({128}, 3, torch::kLong);
#endif
    std::vector<Row> rows;
    auto add = [&](std::string name, std::function<double()> ours, std::function<double()> theirs) {
        rows.push_back({std::move(name), std::move(ours), std::move(theirs)});
    };
#ifdef XGRAD_WITH_TORCH
#define THEIRS(shape, expr) \
    [&] { return time_torch(shape, [&](const torch::Tensor& x) { return expr; }); }
#else
#define THEIRS(shape, expr) std::function<double()>()
#endif
    add(
        "relu [64,32,32,32]",
        [&] { return time_xgrad(act, [](const Tensor& x) { return xg::relu(x); }); },
        THEIRS(tact, torch::relu(x)));
    add(
        "max_pool2d 2x2 [64,32,32,32]",
        [&] {
            return time_xgrad(act, [](const Tensor& x) {
                return xg::max_pool2d(x, xg::MaxPool2dFuncOptions(2));
            });
        },
        THEIRS(tact, torch::max_pool2d(x, {2, 2})));
    add(
        "avg_pool2d 2x2 [64,32,32,32]",
        [&] {
            return time_xgrad(act, [](const Tensor& x) {
                return xg::avg_pool2d(x, xg::AvgPool2dFuncOptions(2));
            });
        },
        THEIRS(tact, torch::avg_pool2d(x, {2, 2})));
    add(
        "batch_norm train [64,32,32,32]",
        [&] {
            return time_xgrad(act, [&](const Tensor& x) {
                return xg::batch_norm(x, rm, rv, xg::BatchNormFuncOptions().training(true));
            });
        },
        THEIRS(tact, torch::batch_norm(x, {}, {}, trm, trv, true, 0.1, 1e-5, false)));
    add(
        "layer_norm [64,1024] over 1024",
        [&] {
            return time_xgrad({64, 1024},
                              [](const Tensor& x) { return xg::layer_norm(x, {1024}); });
        },
        THEIRS(std::vector<int64_t>({64, 1024}), torch::layer_norm(x, {1024})));
    add(
        "cross_entropy [128,10]",
        [&] {
            return time_xgrad({128, 10},
                              [&](const Tensor& x) { return xg::cross_entropy(x, labels); });
        },
        THEIRS(std::vector<int64_t>({128, 10}), F::cross_entropy(x, tlabels)));
    add(
        "log_softmax [128,1000]",
        [&] {
            return time_xgrad({128, 1000}, [](const Tensor& x) { return xg::log_softmax(x, 1); });
        },
        THEIRS(std::vector<int64_t>({128, 1000}), torch::log_softmax(x, 1)));
#undef THEIRS

    fmt::print("{:<34} {:>10} {:>10} {:>7}\n", "fwd+bwd, median of 15 (ms)", "xgrad", "libtorch",
               "ratio");
    for (auto& r : rows) {
        double ours = r.ours();
        if (r.theirs) {
            double theirs = r.theirs();
            fmt::print("{:<34} {:>10.3f} {:>10.3f} {:>7.2f}\n", r.name, ours, theirs,
                       ours / theirs);
        } else {
            fmt::print("{:<34} {:>10.3f} {:>10} {:>7}\n", r.name, ours, "-", "-");
        }
    }
    return 0;
}

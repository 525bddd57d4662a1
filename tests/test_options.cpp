// core/options.hpp: Pair2 and the one options style (chained setters, libtorch's forms) of the
// functional, module, optimizer, scheduler and loader options; the Generator overloads of rand,
// randn and dropout.
#include <doctest/doctest.h>

#include <optional>
#include <utility>

#include "tests/op_registry.hpp"
#include "train/solver.hpp"

using namespace xg;
using namespace xg::testing;

TEST_CASE("Pair2: from one int or two") {
    CHECK(Pair2(3) == Pair2(3, 3));
    Pair2 p = {2, 1};
    CHECK(p.first == 2);
    CHECK(p.second == 1);
    CHECK(MaxPool2dFuncOptions(2).stride(1).padding(1).stride() == Pair2(1));
    CHECK_FALSE(MaxPool2dFuncOptions(2).stride().has_value());
}

// One options style: the positional overloads of the pooling ops and batch_norm are gone (a
// lone Pair2 still converts to the pooling options, as ExpandingArray does in libtorch).
template <class... A>
constexpr auto max_pool2d_takes(int) -> decltype(max_pool2d(std::declval<A>()...), true) {
    return true;
}
template <class... A>
constexpr bool max_pool2d_takes(...) {
    return false;
}
template <class... A>
constexpr auto avg_pool2d_takes(int) -> decltype(avg_pool2d(std::declval<A>()...), true) {
    return true;
}
template <class... A>
constexpr bool avg_pool2d_takes(...) {
    return false;
}
template <class... A>
constexpr auto batch_norm_takes(int) -> decltype(batch_norm(std::declval<A>()...), true) {
    return true;
}
template <class... A>
constexpr bool batch_norm_takes(...) {
    return false;
}
static_assert(max_pool2d_takes<Tensor, MaxPool2dFuncOptions>(0));
static_assert(!max_pool2d_takes<Tensor, Pair2, Pair2, Pair2>(0));
static_assert(avg_pool2d_takes<Tensor, AvgPool2dFuncOptions>(0));
static_assert(!avg_pool2d_takes<Tensor, Pair2, std::optional<Pair2>, Pair2, bool>(0));
static_assert(batch_norm_takes<Tensor, Tensor, Tensor, BatchNormFuncOptions>(0));
static_assert(!batch_norm_takes<Tensor, Tensor, Tensor, Tensor, Tensor, bool>(0));

TEST_CASE("functional options: defaults are PyTorch's") {
    manual_seed(1);
    Tensor x = randn({2, 3, 6, 5}, float64);
    // stride defaults to kernel_size, padding to 0.
    CHECK(max_pool2d(x, MaxPool2dFuncOptions({3, 2})).to_vector() ==
          max_pool2d(x, MaxPool2dFuncOptions({3, 2}).stride(Pair2(3, 2)).padding(0)).to_vector());
    CHECK(max_pool2d(x, MaxPool2dFuncOptions(2)).shape() == Shape{2, 3, 3, 2});
    // count_include_pad defaults to true; with padding the two settings differ.
    CHECK(AvgPool2dFuncOptions(3).count_include_pad());
    CHECK(avg_pool2d(x, AvgPool2dFuncOptions(3).padding(1)).to_vector() ==
          avg_pool2d(x, AvgPool2dFuncOptions(3).stride(3).padding(1).count_include_pad(true))
              .to_vector());
    CHECK(avg_pool2d(x, AvgPool2dFuncOptions(3).padding(1)).to_vector() !=
          avg_pool2d(x, AvgPool2dFuncOptions(3).padding(1).count_include_pad(false)).to_vector());
    // batch_norm: no affine, eval mode, momentum 0.1, eps 1e-5.
    BatchNormFuncOptions d;
    CHECK_FALSE(d.weight().defined());
    CHECK_FALSE(d.bias().defined());
    CHECK_FALSE(d.training());
    CHECK(d.momentum() == 0.1);
    CHECK(d.eps() == 1e-5);
    Tensor w = rand({3}, float64), b = rand({3}, float64);
    Tensor rm = zeros({3}, float64), rv = ones({3}, float64);
    Tensor rm2 = zeros({3}, float64), rv2 = ones({3}, float64);
    Tensor y1 = batch_norm(x, rm, rv, BatchNormFuncOptions().weight(w).bias(b).training(true));
    Tensor y2 =
        batch_norm(x, rm2, rv2,
                   BatchNormFuncOptions().weight(w).bias(b).training(true).momentum(0.1).eps(1e-5));
    CHECK(y1.to_vector() == y2.to_vector());
    CHECK(rm.to_vector() == rm2.to_vector());
    CHECK(rv.to_vector() == rv2.to_vector());
    CHECK(rm.to_vector() != zeros({3}, float64).to_vector());  // training updated the stats
    // Eval (the default) normalizes by the running stats and leaves them alone.
    Tensor ye = batch_norm(x, rm, rv, BatchNormFuncOptions());
    CHECK(ye.to_vector() ==
          batch_norm(x, rm2, rv2, BatchNormFuncOptions().training(false)).to_vector());
    CHECK(rm.to_vector() == rm2.to_vector());
}

TEST_CASE("rand, randn and dropout draw from a given generator, leaving the global one alone") {
    manual_seed(5);
    Tensor g1 = randn({4});
    manual_seed(5);
    Generator a(9), b(9);
    Tensor r1 = randn({3, 2}, a, float64), r2 = randn({3, 2}, b, float64);
    CHECK(r1.to_vector() == r2.to_vector());
    CHECK(rand({5}, a).to_vector() == rand({5}, b).to_vector());
    for (double v : rand({100}, a).to_vector()) CHECK((v >= 0.0 && v < 1.0));
    Tensor x = ones({50}, float64);
    a.manual_seed(3);
    b.manual_seed(3);
    CHECK(dropout(x, 0.5, true, a).to_vector() == dropout(x, 0.5, true, b).to_vector());
    CHECK(randn({4}).to_vector() == g1.to_vector());  // the global stream did not move
    Generator c(10);
    CHECK(randn({3, 2}, c, float64).to_vector() != r1.to_vector());
}

TEST_CASE("options: the forms libtorch accepts, as a libtorch user writes them") {
    Tensor w = ones({2}).requires_grad_();
    optim::SGD sgd({w}, 0.01);  // SGD(params, 0.01)
    optim::Adam adam({w}, 1e-3);
    CHECK(sgd.defaults().get_lr() == 0.01);
    CHECK(std::get<1>(static_cast<const optim::AdamOptions&>(adam.defaults()).betas()) == 0.999);
    nn::MaxPool2d pool(2);
    CHECK(pool->options.kernel_size() == Pair2(2));
    nn::AdaptiveAvgPool2d adaptive({3, 2});
    CHECK(adaptive->options.output_size() == Pair2(3, 2));
    CHECK(nn::AdaptiveAvgPool2d(3)->options.output_size() == Pair2(3));
    CHECK(nn::Dropout(0.2)->options.p() == 0.2);
    CHECK(nn::LeakyReLU(0.1)->options.negative_slope() == 0.1);
    CHECK(data::DataLoaderOptions(64).shuffle(true).batch_size() == 64);
    // The functional and module forms of conv have their own names, as in libtorch.
    CHECK(Conv2dFuncOptions().stride(2).padding(1).groups() == 1);
    CHECK(nn::Conv2dOptions(1, 6, 5).padding(2).kernel_size() == Pair2(5));
}

TEST_CASE("options: every options struct chains its setters and reads back through getters") {
    auto ce = CrossEntropyFuncOptions().label_smoothing(0.1).reduction(Reduction::sum);
    CHECK(ce.label_smoothing() == 0.1);
    CHECK(nn::CrossEntropyLoss(ce)->options.reduction() == Reduction::sum);
    CHECK(nn::MSELoss(Reduction::sum)->options.reduction() == Reduction::sum);
    CHECK(MultiMarginLossFuncOptions().p(2).margin(0.5).p() == 2);
    CHECK(optim::OneCycleLROptions().total_steps(10).pct_start(0.25).pct_start() == 0.25);
    CHECK(optim::ReduceLROnPlateauOptions().mode("max").patience(2).mode() == "max");
    CHECK(GradcheckOptions().eps(1e-3).atol(1e-4).rtol() == 1e-3);
    CHECK(data::IdxOptions().max_bytes(59).max_bytes() == 59);
    CHECK(nn::FlattenOptions().start_dim(0).end_dim() == -1);
    CHECK(train::SolverOptions().batch_size(7).batch_size() == 7);
    // Optimizer options are typed: each group holds its own copy, read through typed getters.
    auto sgd_options = optim::SGDOptions(0.1).momentum(0.9).nesterov(true);
    CHECK(sgd_options.momentum() == 0.9);
    auto adamw = optim::AdamWOptions(1e-3).betas({0.8, 0.9}).eps(1e-6);  // keeps its type
    CHECK(adamw.weight_decay() == 1e-2);
    CHECK(adamw.get_cycled_momentum() == 0.8);
    std::vector<std::string> keys;
    for (const auto& [k, v] : optim::RMSpropOptions().values()) keys.push_back(k);
    CHECK(keys == std::vector<std::string>{"lr", "alpha", "eps", "weight_decay", "momentum",
                                           "centered", "maximize"});
}

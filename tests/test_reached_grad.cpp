// Every leaf the backward graph reaches gets a defined .grad, zeros when no gradient flows
// through (a conv bias in front of a ReLU that is off everywhere), as in PyTorch, so momentum
// and weight decay update it as PyTorch does; a leaf the graph does not reach keeps none.
#include <doctest/doctest.h>

#include <vector>

#include "xgrad.hpp"

namespace xg::testing {
namespace {

// conv(1 -> 2, 3x3) with zero weights and bias -1: every pre-activation is -1 and the ReLU
// passes no gradient at all.
nn::Conv2d dead_conv() {
    nn::Conv2d conv(nn::Conv2dOptions(1, 2, 3));
    NoGradGuard no_grad;
    conv->weight.fill_(0.0);
    conv->bias.fill_(-1.0);
    return conv;
}

TEST_CASE("reached grad: a conv bias behind an all-off ReLU gets a zero gradient") {
    nn::Conv2d conv = dead_conv();
    Tensor x = randn({2, 1, 5, 5});
    Tensor loss = relu(conv(x)).sum();
    loss.backward();
    REQUIRE(conv->bias.grad().defined());
    REQUIRE(conv->weight.grad().defined());
    CHECK(conv->bias.grad().shape() == Shape{2});
    CHECK(conv->bias.grad().to_vector() == std::vector<double>{0, 0});
    CHECK(conv->weight.grad().to_vector() == std::vector<double>(18, 0.0));
}

TEST_CASE("reached grad: SGD with momentum and weight decay then updates it as PyTorch") {
    // PyTorch 1.13: g = 0 + wd * p; buf = g (first step), then buf = m * buf + g; p -= lr * buf.
    const double lr = 0.1, m = 0.9, wd = 0.5;
    nn::Conv2d conv = dead_conv();
    optim::SGD opt(conv->parameters(), optim::SGDOptions(lr).momentum(m).weight_decay(wd));
    Tensor x = randn({1, 1, 4, 4});
    double p = -1.0, buf = 0.0;
    for (int step = 0; step < 3; ++step) {
        opt.zero_grad();
        relu(conv(x)).sum().backward();
        opt.step();
        const double g = wd * p;
        buf = step == 0 ? g : m * buf + g;
        p -= lr * buf;
        CAPTURE(step);
        for (double v : conv->bias.to_vector()) CHECK(v == doctest::Approx(p).epsilon(1e-6));
    }
    const optim::ParamState* st = opt.state(conv->bias);
    REQUIRE(st != nullptr);
    CHECK(st->step == 3);
}

TEST_CASE("reached grad: zeros through a module chain and through xg::grad") {
    nn::Conv2d conv = dead_conv();
    nn::Linear fc(2 * 3 * 3, 3);
    Tensor logits = fc(relu(conv(randn({2, 1, 5, 5}))).flatten(1));
    Tensor loss = cross_entropy(logits, tensor(std::vector<std::int64_t>{0, 2}));
    TensorList g = xg::grad({loss}, {conv->bias, fc->bias}, {}, true);
    REQUIRE(g[0].defined());
    CHECK(g[0].to_vector() == std::vector<double>{0, 0});
    loss.backward();
    REQUIRE(conv->bias.grad().defined());
    CHECK(conv->bias.grad().to_vector() == std::vector<double>{0, 0});
}

TEST_CASE("reached grad: a leaf the graph does not reach keeps an undefined grad") {
    Tensor a = randn({3}).requires_grad_();
    Tensor b = randn({3}).requires_grad_();
    Tensor unused_product = mul(b, 2.0);  // recorded, but not part of the loss
    (void)unused_product;
    relu(a).sum().backward();
    CHECK(a.grad().defined());
    CHECK(!b.grad().defined());

    // A parameter of a module that forward did not call.
    nn::Linear used(3, 2), unused(3, 2);
    used(randn({4, 3})).sum().backward();
    CHECK(used->weight.grad().defined());
    CHECK(!unused->weight.grad().defined());
    CHECK(!unused->bias.grad().defined());
}

}  // namespace
}  // namespace xg::testing

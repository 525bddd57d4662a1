// The layers of nn/layers1d.hpp: GELU, SiLU, Softmax, LogSoftmax, Identity, Conv1d, MaxPool1d
// and AvgPool1d. PyTorch parity of batched and unbatched stacks (tests/parity/nn_modules_more.py),
// forward against the functional ops, Conv1d's default init, float64 gradient checks and bad
// inputs.
#include <doctest/doctest.h>

#include <cmath>

#include "tests/error_of.hpp"
#include "tests/module_parity.hpp"
#include "tests/nn_check.hpp"
#include "xgrad.hpp"

using namespace xg;
using namespace xg::testing;

namespace {
nn::Sequential conv1d_stack() {
    return nn::Sequential({
        nn::Conv1d(nn::Conv1dOptions(2, 4, 3).stride(2).padding(1).dilation(2).groups(2)),
        nn::SiLU(),
        nn::MaxPool1d(nn::MaxPool1dOptions(3).stride(2).padding(1)),
        nn::Conv1d(nn::Conv1dOptions(4, 3, 2).bias(false)),
        nn::GELU(),
        nn::AvgPool1d(nn::AvgPool1dOptions(3).stride(2).padding(1).count_include_pad(false)),
        nn::Flatten(),
        nn::Softmax(1),
        nn::Identity(),
    });
}
}  // namespace

TEST_CASE("layers1d parity: Conv1d, pools and activations in a Sequential match PyTorch") {
    check_module_parity(conv1d_stack(), "nn/nn_conv1d_seq");
}

TEST_CASE("layers1d parity: unbatched [C, L] input") {
    check_module_parity(nn::Sequential({nn::Conv1d(nn::Conv1dOptions(3, 2, 3).padding(1)),
                                        nn::AvgPool1d(2), nn::MaxPool1d(2)}),
                        "nn/nn_conv1d_unbatched");
}

TEST_CASE("activation modules equal their ops and print as PyTorch") {
    manual_seed(5);
    Tensor x = randn({3, 4}, float64);
    CHECK(nn::GELU()(x).to_vector() == gelu(x).to_vector());
    CHECK(nn::GELU(nn::GELUOptions().approximate("tanh"))(x).to_vector() ==
          gelu(x, "tanh").to_vector());
    CHECK(nn::SiLU()(x).to_vector() == silu(x).to_vector());
    CHECK(nn::Softmax(0)(x).to_vector() == softmax(x, 0).to_vector());
    CHECK(nn::LogSoftmax(-1)(x).to_vector() == log_softmax(x, -1).to_vector());
    nn::Identity id;
    CHECK(id(x).data<double>().data() == x.data<double>().data());
    CHECK(nn::GELU()->repr() == "GELU(approximate='none')");
    CHECK(nn::SiLU()->repr() == "SiLU()");
    CHECK(nn::Softmax(1)->repr() == "Softmax(dim=1)");
    CHECK(nn::LogSoftmax(-1)->repr() == "LogSoftmax(dim=-1)");
    CHECK(fmt::format("{}", *id) == "Identity()");
    CHECK(fmt::format("{}", *nn::MaxPool1d(2)) ==
          "MaxPool1d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)");
    CHECK(fmt::format("{}", *nn::AvgPool1d(nn::AvgPool1dOptions(3).stride(2).padding(1))) ==
          "AvgPool1d(kernel_size=(3,), stride=(2,), padding=(1,))");
    CHECK(fmt::format("{}", *nn::Conv1d(2, 4, 3)) == "Conv1d(2, 4, kernel_size=(3,), stride=(1,))");
}

TEST_CASE("Conv1d: PyTorch's weight layout and default init; forward equals conv2d") {
    manual_seed(8);
    nn::Conv1d c(nn::Conv1dOptions(6, 4, 5).groups(2));
    CHECK(c->weight.shape() == Shape{4, 3, 5});
    CHECK(c->bias.shape() == Shape{4});
    CHECK(c->named_parameters().keys() == std::vector<std::string>{"weight", "bias"});
    const double bound = 1.0 / std::sqrt(3.0 * 5.0);  // fan_in = in/groups * k
    double top = 0.0;
    for (double v : c->weight.to_vector()) top = std::max(top, std::abs(v));
    for (double v : c->bias.to_vector()) CHECK(std::abs(v) <= bound);
    CHECK(top <= bound);
    CHECK(top > 0.8 * bound);
    c->to(float64);
    Tensor x = randn({2, 6, 9}, float64);
    Tensor want = squeeze(
        conv2d(unsqueeze(x, 2), unsqueeze(c->weight, 2), c->bias, Conv2dFuncOptions().groups(2)),
        2);
    CHECK(c(x).to_vector() == want.to_vector());
    CHECK(nn::Conv1d(nn::Conv1dOptions(6, 4, 5).bias(false))->bias.defined() == false);
}

TEST_CASE("gradcheck: the Conv1d stack, float64, input and every parameter") {
    manual_seed(13);
    auto net = conv1d_stack();
    net->to(float64);
    Tensor x = randn({2, 2, 16}, float64);
    auto r =
        gradcheck([&](const TensorList& in) { return net(in[0]); }, {x.clone().requires_grad_()});
    CHECK_MESSAGE(r, r.log);
    Tensor gout = randn({2, 6}, float64);
    check_model_gradients(*net, [&] { return mul(net(x), gout).sum(); });
    nn::Conv1d c(nn::Conv1dOptions(3, 2, 2).dilation(2));  // unbatched, dilated
    c->to(float64);
    Tensor u = randn({3, 7}, float64), gu = randn({2, 5}, float64);
    check_model_gradients(*c, [&] { return mul(c(u), gu).sum(); });
}

TEST_CASE("layers1d: bad inputs name the module and the values") {
    nn::Conv1d c(3, 4, 3);
    check_error_rows({
        {"GELU approximate",
         [] { nn::GELU(nn::GELUOptions().approximate("exact")); },
         {"GELU:", "'exact'"}},
        {"Conv1d groups",
         [] { nn::Conv1d(nn::Conv1dOptions(3, 4, 3).groups(2)); },
         {"Conv1d:", "in_channels (3)", "groups (2)"}},
        {"Conv1d kernel", [] { nn::Conv1d(3, 4, 0); }, {"Conv1d:", "kernel_size", "0"}},
        {"Conv1d padding",
         [] { nn::Conv1d(nn::Conv1dOptions(3, 4, 3).padding(-1)); },
         {"Conv1d:", "padding", "-1"}},
        {"Conv1d channels",
         [&] {
             c(zeros({2, 5, 8}));
         },
         {"Conv1d:", "3 input channels", "5"}},
        {"Conv1d rank",
         [&] {
             c(zeros({2, 3, 8, 8}));
         },
         {"Conv1d:", "[2, 3, 8, 8]"}},
        {"Conv1d length",
         [&] {
             c(zeros({2, 3, 2}));
         },
         {"Conv1d:", "length 2", "window 3"}},
        {"MaxPool1d kernel", [] { nn::MaxPool1d(0); }, {"MaxPool1d:", "kernel_size", "0"}},
        {"MaxPool1d padding",
         [] { nn::MaxPool1d(nn::MaxPool1dOptions(2).padding(2)); },
         {"MaxPool1d:", "padding", "2"}},
        {"AvgPool1d stride",
         [] { nn::AvgPool1d(nn::AvgPool1dOptions(2).stride(0)); },
         {"AvgPool1d:", "stride", "0"}},
        {"AvgPool1d length",
         [] {
             nn::AvgPool1d(4)(zeros({1, 2, 3}));
         },
         {"AvgPool1d:", "length 3", "window 4"}},
        {"MaxPool1d rank", [] { nn::MaxPool1d(2)(zeros({4})); }, {"MaxPool1d:", "[4]"}},
        {"GELU int64", [] { nn::GELU()(zeros({2}).to(int64)); }, {"GELU:", "int64"}},
        {"SiLU int64", [] { nn::SiLU()(zeros({2}).to(int64)); }, {"SiLU:", "int64"}},
        {"Softmax dim",
         [] {
             nn::Softmax(2)(zeros({2, 3}));
         },
         {"Softmax:", "dim 2", "2 dims"}},
        {"LogSoftmax dim",
         [] {
             nn::LogSoftmax(-3)(zeros({2, 3}));
         },
         {"LogSoftmax:", "dim -3", "2 dims"}},
        {"LogSoftmax int64",
         [] { nn::LogSoftmax(0)(zeros({2}).to(int64)); },
         {"LogSoftmax:", "int64"}},
    });
}

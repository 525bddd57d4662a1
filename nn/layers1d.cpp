#include "nn/layers1d.hpp"

#include <cmath>

#include <fmt/format.h>

#include "core/checked.hpp"
#include "core/dispatch.hpp"
#include "nn/init.hpp"
#include "nn/layers.hpp"
#include "ops/conv.hpp"
#include "ops/loss.hpp"
#include "ops/math.hpp"
#include "ops/pool.hpp"
#include "ops/shape.hpp"

namespace xg::nn {

namespace {

std::size_t sz(std::int64_t v) {
    return static_cast<std::size_t>(v);
}

std::string py_single(std::int64_t v) {
    return fmt::format("({},)", v);
}

// [N, C, L] -> [N, C, 1, L] (an unbatched [C, L] gets N = 1), the 2-D op, and back.
template <class F>
Tensor as_2d(const char* layer, const Tensor& x, F&& op2d) {
    XG_CHECK(x.defined(), "{}: the input is undefined", layer);
    XG_CHECK(x.dim() == 2 || x.dim() == 3, "{}: expects an input [N, C, L] or [C, L], got shape {}",
             layer, x.shape());
    const bool unbatched = x.dim() == 2;
    Tensor x4 = unsqueeze(unbatched ? unsqueeze(x, 0) : x, 2);
    Tensor y = squeeze(op2d(x4), 2);
    return unbatched ? squeeze(y, 0) : y;
}

// The window fits the padded length (the 2-D op would name itself instead of the layer).
void check_length(const char* layer, const Tensor& x, std::int64_t window, std::int64_t padding) {
    if (x.defined() && (x.dim() == 2 || x.dim() == 3)) {
        const auto len = std::int64_t(x.shape().back());
        XG_CHECK(len + 2 * padding >= window,
                 "{}: input length {} (padded {}) is shorter than the window {}", layer, len,
                 len + 2 * padding, window);
    }
}

}  // namespace

// ---- activations ----

namespace {
// The op would name itself ("gelu: ..."); these name the module first.
void check_float_input(const char* layer, const Tensor& x) {
    xg::detail::check_defined(layer, x, "input");
    XG_CHECK(is_floating(x.dtype()), "{}: expects a floating input, got {}", layer, x.dtype());
}

void check_dim(const char* layer, const Tensor& x, std::int64_t dim) {
    check_float_input(layer, x);
    xg::detail::wrap_dim(layer, dim, x.dim());
}
}  // namespace

GELUImpl::GELUImpl(const GELUOptions& o) : UnaryModule("GELU"), options(o) {
    XG_CHECK(o.approximate() == "none" || o.approximate() == "tanh",
             "GELU: approximate must be 'none' or 'tanh', got '{}'", o.approximate());
}

Tensor GELUImpl::forward(const Tensor& x) {
    check_float_input("GELU", x);
    return gelu(x, options.approximate());
}

std::string GELUImpl::extra_repr() const {
    return "approximate='" + options.approximate() + "'";
}

Tensor SiLUImpl::forward(const Tensor& x) {
    check_float_input("SiLU", x);
    return silu(x);
}

Tensor SoftmaxImpl::forward(const Tensor& x) {
    check_dim("Softmax", x, options.dim());
    return softmax(x, options.dim());
}

std::string SoftmaxImpl::extra_repr() const {
    return fmt::format("dim={}", options.dim());
}

Tensor LogSoftmaxImpl::forward(const Tensor& x) {
    check_dim("LogSoftmax", x, options.dim());
    return log_softmax(x, options.dim());
}

std::string LogSoftmaxImpl::extra_repr() const {
    return fmt::format("dim={}", options.dim());
}

// ---- Conv1d ----

Conv1dImpl::Conv1dImpl(const Conv1dOptions& o) : UnaryModule("Conv1d"), options(o) {
    const char* layer = "Conv1d";
    XG_CHECK(o.in_channels() > 0 && o.out_channels() > 0 && o.groups() > 0,
             "{}: in_channels, out_channels and groups must be positive, got {}, {} and {}", layer,
             o.in_channels(), o.out_channels(), o.groups());
    XG_CHECK(o.in_channels() % o.groups() == 0 && o.out_channels() % o.groups() == 0,
             "{}: in_channels ({}) and out_channels ({}) must be divisible by groups ({})", layer,
             o.in_channels(), o.out_channels(), o.groups());
    XG_CHECK(o.kernel_size() > 0 && o.stride() > 0 && o.dilation() > 0,
             "{}: kernel_size, stride and dilation must be positive, got {}, {} and {}", layer,
             o.kernel_size(), o.stride(), o.dilation());
    XG_CHECK(o.padding() >= 0, "{}: padding must be non-negative, got {}", layer, o.padding());
    const Shape w{sz(o.out_channels()), sz(o.in_channels() / o.groups()), sz(o.kernel_size())};
    checked_numel(layer, w, sizeof(float));
    weight = register_parameter("weight", zeros(w));
    if (o.bias()) bias = register_parameter("bias", zeros({sz(o.out_channels())}));
    reset_parameters();
}

// torch.nn.Conv1d's reset_parameters: kaiming_uniform_(a = sqrt(5)), bias U(+-1/sqrt(fan_in)).
void Conv1dImpl::reset_parameters(Generator& gen) {
    init::kaiming_uniform_(weight, std::sqrt(5.0), init::FanMode::fan_in,
                           init::Nonlinearity::leaky_relu, gen);
    if (bias.defined()) {
        const auto fan_in = init::calculate_fan_in_and_fan_out(weight).first;
        const double bound = fan_in > 0 ? 1.0 / std::sqrt(double(fan_in)) : 0.0;
        init::uniform_(bias, -bound, bound, gen);
    }
}

Tensor Conv1dImpl::forward(const Tensor& x) {
    if (x.defined() && (x.dim() == 2 || x.dim() == 3)) {
        const auto c = std::int64_t(x.shape()[x.dim() - 2]);
        XG_CHECK(c == options.in_channels(), "Conv1d: expects {} input channels, input has {}",
                 options.in_channels(), c);
    }
    check_length("Conv1d", x, options.dilation() * (options.kernel_size() - 1) + 1,
                 options.padding());
    const auto o = Conv2dFuncOptions()
                       .stride(Pair2(1, options.stride()))
                       .padding(Pair2(0, options.padding()))
                       .dilation(Pair2(1, options.dilation()))
                       .groups(options.groups());
    return as_2d("Conv1d", x,
                 [&](const Tensor& x4) { return conv2d(x4, unsqueeze(weight, 2), bias, o); });
}

std::string Conv1dImpl::extra_repr() const {
    const auto& o = options;
    std::string s =
        fmt::format("{}, {}, kernel_size={}, stride={}", o.in_channels(), o.out_channels(),
                    py_single(o.kernel_size()), py_single(o.stride()));
    if (o.padding() != 0) s += ", padding=" + py_single(o.padding());
    if (o.dilation() != 1) s += ", dilation=" + py_single(o.dilation());
    if (o.groups() != 1) s += fmt::format(", groups={}", o.groups());
    if (!o.bias()) s += ", bias=False";
    return s;
}

// ---- pooling ----

namespace {
template <class O>
void check_pool1d(const char* layer, const O& o) {
    const std::int64_t k = o.kernel_size(), s = o.stride().value_or(k), p = o.padding();
    XG_CHECK(k > 0, "{}: kernel_size must be positive, got {}", layer, k);
    XG_CHECK(s > 0, "{}: stride must be positive, got {}", layer, s);
    XG_CHECK(p >= 0 && p <= k / 2,
             "{}: padding must be non-negative and at most half the kernel size {}, got {}", layer,
             k, p);
}
}  // namespace

MaxPool1dImpl::MaxPool1dImpl(const MaxPool1dOptions& o) : UnaryModule("MaxPool1d"), options(o) {
    check_pool1d("MaxPool1d", o);
}

Tensor MaxPool1dImpl::forward(const Tensor& x) {
    const std::int64_t k = options.kernel_size();
    check_length("MaxPool1d", x, k, options.padding());
    const auto o = MaxPool2dFuncOptions(Pair2(1, k))
                       .stride(Pair2(1, options.stride().value_or(k)))
                       .padding(Pair2(0, options.padding()));
    return as_2d("MaxPool1d", x, [&](const Tensor& x4) { return max_pool2d(x4, o); });
}

std::string MaxPool1dImpl::extra_repr() const {
    return fmt::format("kernel_size={}, stride={}, padding={}, dilation=1, ceil_mode=False",
                       options.kernel_size(), options.stride().value_or(options.kernel_size()),
                       options.padding());
}

AvgPool1dImpl::AvgPool1dImpl(const AvgPool1dOptions& o) : UnaryModule("AvgPool1d"), options(o) {
    check_pool1d("AvgPool1d", o);
}

Tensor AvgPool1dImpl::forward(const Tensor& x) {
    const std::int64_t k = options.kernel_size();
    check_length("AvgPool1d", x, k, options.padding());
    const auto o = AvgPool2dFuncOptions(Pair2(1, k))
                       .stride(Pair2(1, options.stride().value_or(k)))
                       .padding(Pair2(0, options.padding()))
                       .count_include_pad(options.count_include_pad());
    return as_2d("AvgPool1d", x, [&](const Tensor& x4) { return avg_pool2d(x4, o); });
}

std::string AvgPool1dImpl::extra_repr() const {
    return fmt::format("kernel_size={}, stride={}, padding={}", py_single(options.kernel_size()),
                       py_single(options.stride().value_or(options.kernel_size())),
                       py_single(options.padding()));
}

}  // namespace xg::nn

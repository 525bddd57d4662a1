#include "nn/layers.hpp"

#include <cmath>

#include <fmt/format.h>

#include "core/checked.hpp"
#include "nn/init.hpp"
#include "ops/conv.hpp"
#include "ops/dropout.hpp"
#include "ops/elementwise.hpp"
#include "ops/matmul.hpp"
#include "ops/pool.hpp"
#include "ops/shape.hpp"

namespace xg::nn {

namespace detail {

std::string py_float(double v) {
    std::string s = fmt::format("{}", v);
    if (s.find_first_of(".eni") == std::string::npos) s += ".0";
    return s;
}

std::string py_pair(Pair2 p) {
    return fmt::format("({}, {})", p.first, p.second);
}

}  // namespace detail

namespace {

const char* py_bool(bool b) {
    return b ? "True" : "False";
}

// Linear/conv default init (torch.nn.Linear/_ConvNd.reset_parameters): kaiming_uniform_ with
// a = sqrt(5), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the bias with the same bound.
void reset_affine(const Tensor& weight, const Tensor& bias, Generator& gen) {
    init::kaiming_uniform_(weight, std::sqrt(5.0), init::FanMode::fan_in,
                           init::Nonlinearity::leaky_relu, gen);
    if (bias.defined()) {
        auto fan_in = init::calculate_fan_in_and_fan_out(weight).first;
        double bound = fan_in > 0 ? 1.0 / std::sqrt(double(fan_in)) : 0.0;
        init::uniform_(bias, -bound, bound, gen);
    }
}

void check_positive(const char* layer, const char* what, std::int64_t v) {
    XG_CHECK(v > 0, "{}: {} must be positive, got {}", layer, what, v);
}

}  // namespace

// ---- Linear ----

LinearImpl::LinearImpl(const LinearOptions& o) : UnaryModule("Linear"), options(o) {
    XG_CHECK(o.in_features() >= 0 && o.out_features() >= 0,
             "Linear: in_features and out_features must be non-negative, got {} and {}",
             o.in_features(), o.out_features());
    checked_numel("Linear", {std::size_t(o.out_features()), std::size_t(o.in_features())},
                  sizeof(float));
    weight = register_parameter(
        "weight", zeros({std::size_t(o.out_features()), std::size_t(o.in_features())}));
    if (o.bias()) bias = register_parameter("bias", zeros({std::size_t(o.out_features())}));
    reset_parameters();
}

void LinearImpl::reset_parameters(Generator& gen) {
    reset_affine(weight, bias, gen);
}

Tensor LinearImpl::forward(const Tensor& x) {
    return linear(x, weight, bias);
}

std::string LinearImpl::extra_repr() const {
    return fmt::format("in_features={}, out_features={}, bias={}", options.in_features(),
                       options.out_features(), py_bool(options.bias()));
}

// ---- Conv2d / ConvTranspose2d ----

namespace {

void check_conv(const char* layer, const Conv2dOptions& o) {
    check_positive(layer, "in_channels", o.in_channels());
    check_positive(layer, "out_channels", o.out_channels());
    check_positive(layer, "groups", o.groups());
    XG_CHECK(o.in_channels() % o.groups() == 0,
             "{}: in_channels ({}) must be divisible by groups ({})", layer, o.in_channels(),
             o.groups());
    XG_CHECK(o.out_channels() % o.groups() == 0,
             "{}: out_channels ({}) must be divisible by groups ({})", layer, o.out_channels(),
             o.groups());
    XG_CHECK(o.kernel_size().first > 0 && o.kernel_size().second > 0,
             "{}: kernel_size must be positive, got {}", layer, detail::py_pair(o.kernel_size()));
    // The op checks these again at forward; refusing them here names the layer at once.
    XG_CHECK(o.stride().first > 0 && o.stride().second > 0, "{}: stride must be positive, got {}",
             layer, detail::py_pair(o.stride()));
    XG_CHECK(o.padding().first >= 0 && o.padding().second >= 0,
             "{}: padding must be non-negative, got {}", layer, detail::py_pair(o.padding()));
    XG_CHECK(o.dilation().first > 0 && o.dilation().second > 0,
             "{}: dilation must be positive, got {}", layer, detail::py_pair(o.dilation()));
    XG_CHECK(o.output_padding().first >= 0 && o.output_padding().second >= 0,
             "{}: output_padding must be non-negative, got {}", layer,
             detail::py_pair(o.output_padding()));
    checked_numel(layer,
                  {std::size_t(o.out_channels()), std::size_t(o.in_channels() / o.groups()),
                   std::size_t(o.kernel_size().first), std::size_t(o.kernel_size().second)},
                  sizeof(float));
}

std::string conv_repr(const Conv2dOptions& o, bool transposed) {
    std::string s =
        fmt::format("{}, {}, kernel_size={}, stride={}", o.in_channels(), o.out_channels(),
                    detail::py_pair(o.kernel_size()), detail::py_pair(o.stride()));
    if (o.padding() != Pair2(0)) s += ", padding=" + detail::py_pair(o.padding());
    if (o.dilation() != Pair2(1)) s += ", dilation=" + detail::py_pair(o.dilation());
    if (transposed && o.output_padding() != Pair2(0))
        s += ", output_padding=" + detail::py_pair(o.output_padding());
    if (o.groups() != 1) s += fmt::format(", groups={}", o.groups());
    if (!o.bias()) s += ", bias=False";
    return s;
}

std::size_t sz(std::int64_t v) {
    return static_cast<std::size_t>(v);
}

}  // namespace

Conv2dImpl::Conv2dImpl(const Conv2dOptions& o) : UnaryModule("Conv2d"), options(o) {
    check_conv("Conv2d", o);
    weight = register_parameter("weight",
                                zeros({sz(o.out_channels()), sz(o.in_channels() / o.groups()),
                                       sz(o.kernel_size().first), sz(o.kernel_size().second)}));
    if (o.bias()) bias = register_parameter("bias", zeros({sz(o.out_channels())}));
    reset_parameters();
}

void Conv2dImpl::reset_parameters(Generator& gen) {
    reset_affine(weight, bias, gen);
}

Tensor Conv2dImpl::forward(const Tensor& x) {
    return conv2d(x, weight, bias,
                  Conv2dFuncOptions()
                      .stride(options.stride())
                      .padding(options.padding())
                      .dilation(options.dilation())
                      .groups(options.groups()));
}

std::string Conv2dImpl::extra_repr() const {
    return conv_repr(options, false);
}

ConvTranspose2dImpl::ConvTranspose2dImpl(const ConvTranspose2dOptions& o)
    : UnaryModule("ConvTranspose2d"), options(o) {
    check_conv("ConvTranspose2d", o);
    weight = register_parameter("weight",
                                zeros({sz(o.in_channels()), sz(o.out_channels() / o.groups()),
                                       sz(o.kernel_size().first), sz(o.kernel_size().second)}));
    if (o.bias()) bias = register_parameter("bias", zeros({sz(o.out_channels())}));
    reset_parameters();
}

void ConvTranspose2dImpl::reset_parameters(Generator& gen) {
    reset_affine(weight, bias, gen);
}

Tensor ConvTranspose2dImpl::forward(const Tensor& x) {
    return conv_transpose2d(x, weight, bias,
                            ConvTranspose2dFuncOptions()
                                .stride(options.stride())
                                .padding(options.padding())
                                .output_padding(options.output_padding())
                                .dilation(options.dilation())
                                .groups(options.groups()));
}

std::string ConvTranspose2dImpl::extra_repr() const {
    return conv_repr(options, true);
}

// ---- pooling ----

namespace {
// Python prints what it was given; a square pair is printed as one int, as it usually is.
std::string py_size(Pair2 p) {
    return p.first == p.second ? std::to_string(p.first) : detail::py_pair(p);
}

// Kernel, stride and padding refused at construction (the op checks them again with the input).
template <class O>
void check_pool(const char* layer, const O& o) {
    const Pair2 k = o.kernel_size(), s = o.stride().value_or(k), p = o.padding();
    XG_CHECK(k.first > 0 && k.second > 0, "{}: kernel_size must be positive, got {}", layer,
             detail::py_pair(k));
    XG_CHECK(s.first > 0 && s.second > 0, "{}: stride must be positive, got {}", layer,
             detail::py_pair(s));
    XG_CHECK(p.first >= 0 && p.second >= 0 && p.first <= k.first / 2 && p.second <= k.second / 2,
             "{}: padding must be non-negative and at most half the kernel size {}, got {}", layer,
             detail::py_pair(k), detail::py_pair(p));
}
}  // namespace

MaxPool2dImpl::MaxPool2dImpl(const MaxPool2dOptions& o) : UnaryModule("MaxPool2d"), options(o) {
    check_pool("MaxPool2d", o);
}

Tensor MaxPool2dImpl::forward(const Tensor& x) {
    return max_pool2d(x, options);
}

std::string MaxPool2dImpl::extra_repr() const {
    return fmt::format("kernel_size={}, stride={}, padding={}, dilation=1, ceil_mode=False",
                       py_size(options.kernel_size()),
                       py_size(options.stride().value_or(options.kernel_size())),
                       py_size(options.padding()));
}

AvgPool2dImpl::AvgPool2dImpl(const AvgPool2dOptions& o) : UnaryModule("AvgPool2d"), options(o) {
    check_pool("AvgPool2d", o);
}

Tensor AvgPool2dImpl::forward(const Tensor& x) {
    return avg_pool2d(x, options);
}

std::string AvgPool2dImpl::extra_repr() const {
    std::string s = fmt::format(
        "kernel_size={}, stride={}, padding={}", py_size(options.kernel_size()),
        py_size(options.stride().value_or(options.kernel_size())), py_size(options.padding()));
    if (!options.count_include_pad()) s += ", count_include_pad=False";
    return s;
}

AdaptiveAvgPool2dImpl::AdaptiveAvgPool2dImpl(const AdaptiveAvgPool2dOptions& o)
    : UnaryModule("AdaptiveAvgPool2d"), options(o) {
    const Pair2 out = o.output_size();
    XG_CHECK(out.first > 0 && out.second > 0,
             "AdaptiveAvgPool2d: output_size must be positive, got {}", detail::py_pair(out));
}

Tensor AdaptiveAvgPool2dImpl::forward(const Tensor& x) {
    return adaptive_avg_pool2d(x, options.output_size());
}

std::string AdaptiveAvgPool2dImpl::extra_repr() const {
    return "output_size=" + detail::py_pair(options.output_size());
}

// ---- activations, dropout, flatten ----

Tensor ReLUImpl::forward(const Tensor& x) {
    return relu(x);
}

LeakyReLUImpl::LeakyReLUImpl(const LeakyReLUOptions& o) : UnaryModule("LeakyReLU"), options(o) {}

Tensor LeakyReLUImpl::forward(const Tensor& x) {
    return leaky_relu(x, options.negative_slope());
}

std::string LeakyReLUImpl::extra_repr() const {
    return "negative_slope=" + detail::py_float(options.negative_slope());
}

Tensor TanhImpl::forward(const Tensor& x) {
    return xg::tanh(x);
}

Tensor SigmoidImpl::forward(const Tensor& x) {
    return sigmoid(x);
}

DropoutImpl::DropoutImpl(const DropoutOptions& o) : UnaryModule("Dropout"), options(o) {
    const double p = o.p();
    XG_CHECK(p >= 0.0 && p < 1.0, "Dropout: p (the drop probability) must be in [0, 1), got {}", p);
}

Tensor DropoutImpl::forward(const Tensor& x) {
    return dropout(x, options.p(), is_training(), generator ? *generator : default_generator());
}

std::string DropoutImpl::extra_repr() const {
    return "p=" + detail::py_float(options.p()) + ", inplace=False";
}

FlattenImpl::FlattenImpl(const FlattenOptions& o) : UnaryModule("Flatten"), options(o) {}

Tensor FlattenImpl::forward(const Tensor& x) {
    return flatten(x, options.start_dim(), options.end_dim());
}

std::string FlattenImpl::extra_repr() const {
    return fmt::format("start_dim={}, end_dim={}", options.start_dim(), options.end_dim());
}

}  // namespace xg::nn

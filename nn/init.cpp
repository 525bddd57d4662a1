#include "nn/init.hpp"

#include <cmath>

#include "core/grad_mode.hpp"
#include "nn/module.hpp"

namespace xg::nn::init {

namespace {

void check_float(const char* op, const Tensor& t) {
    XG_CHECK(t.defined(), "{}: tensor is undefined", op);
    XG_CHECK(is_floating(t.dtype()), "{}: tensor must be float32 or float64, got {}", op,
             t.dtype());
}

// Fills t with draw() values (in double, then cast), in place and unrecorded.
template <class Draw>
void fill_with(const Tensor& t, Draw draw) {
    xg::array<double> a = xg::array<double>::from_shape(t.shape());
    for (auto& v : a) v = draw();
    NoGradGuard no_grad;
    Tensor(t).copy_(Tensor(std::move(a)).to(t.dtype()));
}

std::int64_t fan(const char* op, const Tensor& t, FanMode mode) {
    XG_CHECK(t.dim() >= 2,
             "{}: fan in and fan out need a tensor with at least 2 dims, got shape {}", op,
             t.shape());
    auto [in, out] = calculate_fan_in_and_fan_out(t);
    return mode == FanMode::fan_in ? in : out;
}

}  // namespace

double calculate_gain(Nonlinearity n, double param) {
    switch (n) {
        case Nonlinearity::linear:
        case Nonlinearity::conv2d:
        case Nonlinearity::sigmoid:
            return 1.0;
        case Nonlinearity::tanh:
            return 5.0 / 3.0;
        case Nonlinearity::relu:
            return std::sqrt(2.0);
        case Nonlinearity::leaky_relu:
            return std::sqrt(2.0 / (1.0 + param * param));
        case Nonlinearity::selu:
            return 3.0 / 4.0;
    }
    return 1.0;
}

std::pair<std::int64_t, std::int64_t> calculate_fan_in_and_fan_out(const Tensor& t) {
    XG_CHECK(t.defined() && t.dim() >= 2,
             "calculate_fan_in_and_fan_out: needs a tensor with at least 2 dims, got shape {}",
             t.defined() ? t.shape() : Shape{});
    std::int64_t receptive = 1;
    for (std::size_t d = 2; d < t.dim(); ++d) receptive *= static_cast<std::int64_t>(t.shape()[d]);
    return {static_cast<std::int64_t>(t.shape()[1]) * receptive,
            static_cast<std::int64_t>(t.shape()[0]) * receptive};
}

void uniform_(const Tensor& t, double a, double b, Generator& gen) {
    check_float("uniform_", t);
    XG_CHECK(a <= b, "uniform_: needs a <= b, got a = {}, b = {}", a, b);
    fill_with(t, [&] { return a + (b - a) * gen.uniform(); });
}

void normal_(const Tensor& t, double mean, double std, Generator& gen) {
    check_float("normal_", t);
    XG_CHECK(std >= 0.0, "normal_: std must be non-negative, got {}", std);
    fill_with(t, [&] { return mean + std * gen.normal(); });
}

void constant_(const Tensor& t, double value) {
    check_float("constant_", t);
    fill_with(t, [&] { return value; });
}

void zeros_(const Tensor& t) {
    constant_(t, 0.0);
}
void ones_(const Tensor& t) {
    constant_(t, 1.0);
}

void xavier_uniform_(const Tensor& t, double gain, Generator& gen) {
    check_float("xavier_uniform_", t);
    double s = gain * std::sqrt(2.0 / double(fan("xavier_uniform_", t, FanMode::fan_in) +
                                             fan("xavier_uniform_", t, FanMode::fan_out)));
    double bound = std::sqrt(3.0) * s;
    fill_with(t, [&] { return -bound + 2.0 * bound * gen.uniform(); });
}

void xavier_normal_(const Tensor& t, double gain, Generator& gen) {
    check_float("xavier_normal_", t);
    double s = gain * std::sqrt(2.0 / double(fan("xavier_normal_", t, FanMode::fan_in) +
                                             fan("xavier_normal_", t, FanMode::fan_out)));
    fill_with(t, [&] { return s * gen.normal(); });
}

void kaiming_uniform_(const Tensor& t, double a, FanMode mode, Nonlinearity n, Generator& gen) {
    check_float("kaiming_uniform_", t);
    std::int64_t f = fan("kaiming_uniform_", t, mode);
    XG_CHECK(f > 0, "kaiming_uniform_: fan is 0 for shape {}", t.shape());
    double bound = std::sqrt(3.0) * calculate_gain(n, a) / std::sqrt(double(f));
    fill_with(t, [&] { return -bound + 2.0 * bound * gen.uniform(); });
}

void kaiming_normal_(const Tensor& t, double a, FanMode mode, Nonlinearity n, Generator& gen) {
    check_float("kaiming_normal_", t);
    std::int64_t f = fan("kaiming_normal_", t, mode);
    XG_CHECK(f > 0, "kaiming_normal_: fan is 0 for shape {}", t.shape());
    double s = calculate_gain(n, a) / std::sqrt(double(f));
    fill_with(t, [&] { return s * gen.normal(); });
}

}  // namespace xg::nn::init

#pragma once
// torch.nn.init: in-place initializers drawing from an xg::Generator (the global one by default).
// They write under NoGradGuard, so they work on parameters that require grad.
#include <cstdint>
#include <utility>

#include "core/random.hpp"
#include "core/tensor.hpp"

namespace xg::nn::init {

enum class Nonlinearity { linear, conv2d, sigmoid, tanh, relu, leaky_relu, selu };
enum class FanMode { fan_in, fan_out };

// torch.nn.init.calculate_gain: 1 for linear/conv/sigmoid, 5/3 tanh, sqrt(2) relu,
// sqrt(2 / (1 + param^2)) leaky_relu (param = negative slope, default 0.01), 3/4 selu.
double calculate_gain(Nonlinearity nonlinearity, double param = 0.01);
// (fan_in, fan_out) of a weight with at least 2 dims: (size(1) * receptive, size(0) * receptive).
std::pair<std::int64_t, std::int64_t> calculate_fan_in_and_fan_out(const Tensor& t);

void uniform_(const Tensor& t, double a = 0.0, double b = 1.0,
              Generator& gen = default_generator());
void normal_(const Tensor& t, double mean = 0.0, double std = 1.0,
             Generator& gen = default_generator());
void constant_(const Tensor& t, double value);
void zeros_(const Tensor& t);
void ones_(const Tensor& t);
// std = gain * sqrt(2 / (fan_in + fan_out)); uniform bound sqrt(3) * std.
void xavier_uniform_(const Tensor& t, double gain = 1.0, Generator& gen = default_generator());
void xavier_normal_(const Tensor& t, double gain = 1.0, Generator& gen = default_generator());
// std = gain(nonlinearity, a) / sqrt(fan); uniform bound sqrt(3) * std.
void kaiming_uniform_(const Tensor& t, double a = 0.0, FanMode mode = FanMode::fan_in,
                      Nonlinearity nonlinearity = Nonlinearity::leaky_relu,
                      Generator& gen = default_generator());
void kaiming_normal_(const Tensor& t, double a = 0.0, FanMode mode = FanMode::fan_in,
                     Nonlinearity nonlinearity = Nonlinearity::leaky_relu,
                     Generator& gen = default_generator());

}  // namespace xg::nn::init

#pragma once
// Elementwise math beyond arithmetic, with PyTorch's formulas and gradients (docs/ops_math.md):
// trigonometric, hyperbolic and special functions, rounding, remainders, and the activation
// functions of torch.nn.functional. Float tensors only. Every backward rule is written with
// differentiable ops, so all of them are twice differentiable; the rounding ops have a zero
// gradient, as in PyTorch.
#include <string>

#include "core/tensor.hpp"

namespace xg {

Tensor sin(const Tensor& a, Site site = Site());
Tensor cos(const Tensor& a, Site site = Site());
Tensor tan(const Tensor& a, Site site = Site());
Tensor asin(const Tensor& a, Site site = Site());  // NaN outside [-1, 1]
Tensor acos(const Tensor& a, Site site = Site());
Tensor atan(const Tensor& a, Site site = Site());
Tensor sinh(const Tensor& a, Site site = Site());
Tensor cosh(const Tensor& a, Site site = Site());
// atan2(a, b): the angle of the point (b, a), in (-pi, pi]; a and b broadcast.
Tensor atan2(const Tensor& a, const Tensor& b, Site site = Site());

Tensor erf(const Tensor& a, Site site = Site());
Tensor erfinv(const Tensor& a, Site site = Site());  // +-inf at +-1, NaN beyond
Tensor log1p(const Tensor& a, Site site = Site());   // log(1 + a), exact near 0
Tensor expm1(const Tensor& a, Site site = Site());   // exp(a) - 1, exact near 0
Tensor log2(const Tensor& a, Site site = Site());
Tensor log10(const Tensor& a, Site site = Site());
Tensor rsqrt(const Tensor& a, Site site = Site());       // 1 / sqrt(a)
Tensor reciprocal(const Tensor& a, Site site = Site());  // 1 / a
Tensor square(const Tensor& a, Site site = Site());

// Rounding (zero gradient). round is to the nearest integer, halves to even, as torch.round.
Tensor floor(const Tensor& a, Site site = Site());
Tensor ceil(const Tensor& a, Site site = Site());
Tensor round(const Tensor& a, Site site = Site());
Tensor trunc(const Tensor& a, Site site = Site());
Tensor frac(const Tensor& a, Site site = Site());  // a - trunc(a)

// fmod: the remainder with the sign of the dividend (C's fmod); remainder: with the sign of the
// divisor (Python's %). Differentiable in both; the divisor's gradient is -trunc(a/b) or
// -floor(a/b).
Tensor fmod(const Tensor& a, const Tensor& b, Site site = Site());
Tensor fmod(const Tensor& a, double b, Site site = Site());
Tensor remainder(const Tensor& a, const Tensor& b, Site site = Site());
Tensor remainder(const Tensor& a, double b, Site site = Site());

// Activations, as torch.nn.functional's.
// softplus: log(1 + exp(beta * a)) / beta, and a itself where beta * a > threshold.
Tensor softplus(const Tensor& a, double beta = 1.0, double threshold = 20.0, Site site = Site());
// gelu: a * Phi(a) with approximate "none" (erf), or the "tanh" approximation.
Tensor gelu(const Tensor& a, const std::string& approximate = "none", Site site = Site());
Tensor silu(const Tensor& a, Site site = Site());  // a * sigmoid(a)
Tensor mish(const Tensor& a, Site site = Site());  // a * tanh(softplus(a))
Tensor elu(const Tensor& a, double alpha = 1.0, Site site = Site());
Tensor selu(const Tensor& a, Site site = Site());
Tensor hardtanh(const Tensor& a, double min_val = -1.0, double max_val = 1.0, Site site = Site());
Tensor hardsigmoid(const Tensor& a, Site site = Site());  // clamp(a / 6 + 1/2, 0, 1)
Tensor hardswish(const Tensor& a, Site site = Site());    // a * hardsigmoid(a)
Tensor logsigmoid(const Tensor& a, Site site = Site());   // log(sigmoid(a)), stable

}  // namespace xg

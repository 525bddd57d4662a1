#pragma once
// Elementwise ops with NumPy broadcasting. Binary ops accept a Tensor or a double on either
// side; gradients are summed back to each input's shape.
#include "core/tensor.hpp"

namespace xg {

Tensor add(const Tensor& a, const Tensor& b, Site site = Site());
Tensor sub(const Tensor& a, const Tensor& b, Site site = Site());
Tensor mul(const Tensor& a, const Tensor& b, Site site = Site());
Tensor div(const Tensor& a, const Tensor& b, Site site = Site());
Tensor add(const Tensor& a, double b, Site site = Site());
Tensor sub(const Tensor& a, double b, Site site = Site());
Tensor mul(const Tensor& a, double b, Site site = Site());
Tensor div(const Tensor& a, double b, Site site = Site());
Tensor rsub(double a, const Tensor& b, Site site = Site());  // a - b
Tensor rdiv(double a, const Tensor& b, Site site = Site());  // a / b

Tensor neg(const Tensor& a, Site site = Site());
Tensor pow(const Tensor& a, double exponent, Site site = Site());
Tensor pow(const Tensor& a, const Tensor& exponent,
           Site site = Site());  // a > 0 where exponent needs grad
Tensor exp(const Tensor& a, Site site = Site());
Tensor log(const Tensor& a, Site site = Site());
Tensor sqrt(const Tensor& a, Site site = Site());
Tensor abs(const Tensor& a, Site site = Site());
Tensor tanh(const Tensor& a, Site site = Site());
Tensor sigmoid(const Tensor& a, Site site = Site());
Tensor relu(const Tensor& a, Site site = Site());
Tensor leaky_relu(const Tensor& a, double negative_slope = 0.01, Site site = Site());
// Either bound may be omitted (pass std::nullopt); the gradient passes where min <= a <= max.
Tensor clamp(const Tensor& a, std::optional<double> min, std::optional<double> max,
             Site site = Site());

// No gradient: 0/1 results of the input's dtype (int64 stays int64), like a mask.
Tensor sign(const Tensor& a);
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor eq(const Tensor& a, double b);
Tensor ne(const Tensor& a, double b);
Tensor lt(const Tensor& a, double b);
Tensor le(const Tensor& a, double b);
Tensor gt(const Tensor& a, double b);
Tensor ge(const Tensor& a, double b);
// where(cond, a, b): cond is a 0/1 tensor; differentiable in a and b.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b, Site site = Site());

// An operand that remembers where the expression was written: operators cannot take a defaulted
// Site, so their Tensor operand converts to this (the conversion happens at the caller's line).
struct TensorAt {
    TensorAt(const Tensor& t, Site site = Site()) : tensor(t), site(site) {}  // NOLINT: implicit
    const Tensor& tensor;
    Site site;
};

Tensor operator+(TensorAt a, const Tensor& b);
Tensor operator-(TensorAt a, const Tensor& b);
Tensor operator*(TensorAt a, const Tensor& b);
Tensor operator/(TensorAt a, const Tensor& b);
Tensor operator+(TensorAt a, double b);
Tensor operator-(TensorAt a, double b);
Tensor operator*(TensorAt a, double b);
Tensor operator/(TensorAt a, double b);
Tensor operator+(double a, TensorAt b);
Tensor operator-(double a, TensorAt b);
Tensor operator*(double a, TensorAt b);
Tensor operator/(double a, TensorAt b);
Tensor operator-(TensorAt a);

}  // namespace xg

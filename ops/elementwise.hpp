#pragma once
// Elementwise ops with NumPy broadcasting. Binary ops accept a Tensor or a Scalar (any C++
// number) on either side; gradients are summed back to each input's shape. Mixed dtypes promote
// as in PyTorch (docs/ops_elementwise_reduce.md): bool < integers < floats, the wider within a
// kind, a 0-d tensor or a scalar only when of a higher kind (int64 tensor * 2.5 is float32).
// Integer arithmetic wraps on overflow; div is true division (float32 for integers).
#include <optional>
#include <string>

#include "core/scalar.hpp"
#include "core/tensor.hpp"

namespace xg {

Tensor add(const Tensor& a, const Tensor& b, Site site = Site());
Tensor sub(const Tensor& a, const Tensor& b, Site site = Site());
Tensor mul(const Tensor& a, const Tensor& b, Site site = Site());
Tensor div(const Tensor& a, const Tensor& b, Site site = Site());
Tensor add(const Tensor& a, Scalar b, Site site = Site());
Tensor sub(const Tensor& a, Scalar b, Site site = Site());
Tensor mul(const Tensor& a, Scalar b, Site site = Site());
Tensor div(const Tensor& a, Scalar b, Site site = Site());
Tensor rsub(Scalar a, const Tensor& b, Site site = Site());  // a - b
Tensor rdiv(Scalar a, const Tensor& b, Site site = Site());  // a / b
// Division rounded "trunc" (toward zero) or "floor"; integers stay integers (division by zero
// is an error). No gradient, as in PyTorch. floor_divide(a, b) is div(a, b, "floor") (//).
Tensor div(const Tensor& a, const Tensor& b, const std::string& rounding_mode, Site site = Site());
Tensor floor_divide(const Tensor& a, const Tensor& b, Site site = Site());

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
// Integer tensors with integer bounds stay integers.
Tensor clamp(const Tensor& a, std::optional<Scalar> min, std::optional<Scalar> max,
             Site site = Site());

// No gradient: -1, 0 or 1 in the input's dtype.
Tensor sign(const Tensor& a);
// No gradient: bool results, the operands compared in their result dtype (NaN != NaN).
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor eq(const Tensor& a, Scalar b);
Tensor ne(const Tensor& a, Scalar b);
Tensor lt(const Tensor& a, Scalar b);
Tensor le(const Tensor& a, Scalar b);
Tensor gt(const Tensor& a, Scalar b);
Tensor ge(const Tensor& a, Scalar b);
// where(cond, a, b): a where the bool cond holds, else b (all three broadcast; a and b promote);
// differentiable in a and b.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b, Site site = Site());
Tensor where(const Tensor& cond, const Tensor& a, Scalar b, Site site = Site());
Tensor where(const Tensor& cond, Scalar a, const Tensor& b, Site site = Site());

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
Tensor operator+(TensorAt a, Scalar b);
Tensor operator-(TensorAt a, Scalar b);
Tensor operator*(TensorAt a, Scalar b);
Tensor operator/(TensorAt a, Scalar b);
Tensor operator+(Scalar a, TensorAt b);
Tensor operator-(Scalar a, TensorAt b);
Tensor operator*(Scalar a, TensorAt b);
Tensor operator/(Scalar a, TensorAt b);
Tensor operator-(TensorAt a);
// Comparisons as operators (bool results, as torch's): a == b, t < 0.5, 2 <= t.
Tensor operator==(const Tensor& a, const Tensor& b);
Tensor operator!=(const Tensor& a, const Tensor& b);
Tensor operator<(const Tensor& a, const Tensor& b);
Tensor operator<=(const Tensor& a, const Tensor& b);
Tensor operator>(const Tensor& a, const Tensor& b);
Tensor operator>=(const Tensor& a, const Tensor& b);
Tensor operator==(const Tensor& a, Scalar b);
Tensor operator!=(const Tensor& a, Scalar b);
Tensor operator<(const Tensor& a, Scalar b);
Tensor operator<=(const Tensor& a, Scalar b);
Tensor operator>(const Tensor& a, Scalar b);
Tensor operator>=(const Tensor& a, Scalar b);
Tensor operator==(Scalar a, const Tensor& b);
Tensor operator!=(Scalar a, const Tensor& b);
Tensor operator<(Scalar a, const Tensor& b);
Tensor operator<=(Scalar a, const Tensor& b);
Tensor operator>(Scalar a, const Tensor& b);
Tensor operator>=(Scalar a, const Tensor& b);

}  // namespace xg

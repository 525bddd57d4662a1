#pragma once
// Bool tensors: logical and bitwise ops, any/all, and the ops that take a bool mask
// (masked_fill, masked_select). Comparisons that make masks are in ops/elementwise.hpp;
// where(cond, a, b) too.
#include "core/scalar.hpp"
#include "core/tensor.hpp"

namespace xg {

// Any dtype in, bool out (nonzero counts as true), broadcasting; no gradient.
Tensor logical_and(const Tensor& a, const Tensor& b, Site site = Site());
Tensor logical_or(const Tensor& a, const Tensor& b, Site site = Site());
Tensor logical_xor(const Tensor& a, const Tensor& b, Site site = Site());
Tensor logical_not(const Tensor& a, Site site = Site());

// Bitwise ops on bool and integer tensors (the operators & | ^ ~, as torch's); floats are
// refused. Mixed dtypes promote as arithmetic does.
Tensor bitwise_and(const Tensor& a, const Tensor& b, Site site = Site());
Tensor bitwise_or(const Tensor& a, const Tensor& b, Site site = Site());
Tensor bitwise_xor(const Tensor& a, const Tensor& b, Site site = Site());
Tensor bitwise_not(const Tensor& a, Site site = Site());
Tensor operator&(const Tensor& a, const Tensor& b);
Tensor operator|(const Tensor& a, const Tensor& b);
Tensor operator^(const Tensor& a, const Tensor& b);
Tensor operator~(const Tensor& a);

// Whether any / all elements are nonzero: a 0-d bool, or per dim (keepdim as in sum).
Tensor any(const Tensor& a, Site site = Site());
Tensor any(const Tensor& a, std::int64_t dim, bool keepdim = false, Site site = Site());
Tensor all(const Tensor& a, Site site = Site());
Tensor all(const Tensor& a, std::int64_t dim, bool keepdim = false, Site site = Site());

// a with value written where the bool mask (broadcast to a's shape) holds; the value is cast
// to a's dtype. Differentiable in a, and in a 0-d value tensor (it gets the masked sum).
Tensor masked_fill(const Tensor& a, const Tensor& mask, Scalar value, Site site = Site());
Tensor masked_fill(const Tensor& a, const Tensor& mask, const Tensor& value, Site site = Site());
// The elements of a where mask holds (both broadcast), in row-major order, as a 1-D tensor.
// Differentiable: the gradient goes back to the selected positions.
Tensor masked_select(const Tensor& a, const Tensor& mask, Site site = Site());

}  // namespace xg

#pragma once
// Cumulative ops along one dim (torch.cumsum, cumprod, logcumsumexp), each twice
// differentiable; a 0-d input is taken as one element (dim 0 or -1).
#include <cstdint>

#include "core/tensor.hpp"

namespace xg {

// int64 stays int64 (wrapping on overflow, as PyTorch's), like sum.
Tensor cumsum(const Tensor& a, std::int64_t dim, Site site = Site());
// The gradient is exact with zeros in the input, as PyTorch's.
Tensor cumprod(const Tensor& a, std::int64_t dim, Site site = Site());
// log(cumsum(exp(a))), computed stably; float only.
Tensor logcumsumexp(const Tensor& a, std::int64_t dim, Site site = Site());

namespace detail {
// a reversed along dim; differentiable (its backward is itself).
Tensor flip_dim(const Tensor& a, std::size_t dim);
}  // namespace detail

}  // namespace xg

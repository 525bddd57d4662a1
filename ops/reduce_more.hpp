#pragma once
// More reductions, as PyTorch's: logsumexp, the vector p-norm and dist, and prod. Dims as in
// ops/reduce.hpp (negative from the end, `{}` for all, keepdim keeps them as size 1). Every
// backward is written with differentiable ops, so each is twice differentiable.
#include <cstdint>

#include "core/tensor.hpp"
#include "ops/reduce.hpp"

namespace xg {

// log(sum(exp(a))) over dims, shifted by the maximum so it neither overflows nor underflows;
// all -inf gives -inf. An int64 input is taken as float32 (torch's type promotion).
Tensor logsumexp(const Tensor& a, const Dims& dims, bool keepdim = false, Site site = Site());

// The vector p-norm over dims (torch.norm / linalg.vector_norm): (sum |a|^p)^(1/p) for p > 0,
// max |a| for inf, min |a| for -inf, the count of nonzeros for 0. The p = 2 gradient at an
// all-zero input is 0, as in PyTorch.
Tensor norm(const Tensor& a, double p = 2.0, const Dims& dims = {}, bool keepdim = false,
            Site site = Site());
// norm(a - b, p) over all elements; a and b broadcast.
Tensor dist(const Tensor& a, const Tensor& b, double p = 2.0, Site site = Site());

// Product of all elements, or along one dim. The gradient is exact with zeros in the input.
// int64 stays int64 (wrapping on overflow, as PyTorch's).
Tensor prod(const Tensor& a, Site site = Site());
Tensor prod(const Tensor& a, std::int64_t dim, bool keepdim = false, Site site = Site());

}  // namespace xg

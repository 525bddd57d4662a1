#pragma once
// Reductions over given dims (negative dims count from the end; keepdim keeps them as size 1)
// or over all elements, and the broadcast pair sum_to / expand.
#include <cstdint>
#include <optional>
#include <vector>

#include "core/tensor.hpp"

namespace xg {

using Dims = std::vector<std::int64_t>;

// sum of a bool or integer tensor is int64 (eq(pred, y).sum() counts the hits), as in PyTorch;
// mean of one is float32.
Tensor sum(const Tensor& a, Site site = Site());
Tensor sum(const Tensor& a, const Dims& dims, bool keepdim = false, Site site = Site());
Tensor mean(const Tensor& a, Site site = Site());
Tensor mean(const Tensor& a, const Dims& dims, bool keepdim = false, Site site = Site());
// max/min: the gradient is shared evenly among tied maxima (like torch.amax).
Tensor max(const Tensor& a, Site site = Site());
Tensor max(const Tensor& a, const Dims& dims, bool keepdim = false, Site site = Site());
Tensor min(const Tensor& a, Site site = Site());
Tensor min(const Tensor& a, const Dims& dims, bool keepdim = false, Site site = Site());
// Variance with Bessel's correction by default (correction = 1), as torch.var; no dims (`{}`)
// means all elements: var(x), var(x, {1}), var(x, {}, 0). There is deliberately no
// var(x, correction) overload: var(x, {1}) would silently pick it.
Tensor var(const Tensor& a, const Dims& dims = {}, std::int64_t correction = 1,
           bool keepdim = false, Site site = Site());

// No gradient: int64 indices of the maximum (first one on ties); over all elements if no dim.
Tensor argmax(const Tensor& a, std::optional<std::int64_t> dim = {}, bool keepdim = false);
Tensor argmin(const Tensor& a, std::optional<std::int64_t> dim = {}, bool keepdim = false);

// Sums a tensor down to `shape` (the inverse of broadcasting), and broadcasts up to `shape`.
Tensor sum_to(const Tensor& a, const Shape& shape, Site site = Site());
Tensor expand(const Tensor& a, const Shape& shape, Site site = Site());

}  // namespace xg

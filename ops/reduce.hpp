#pragma once
// Reductions over given dims (negative dims count from the end; keepdim keeps them as size 1)
// or over all elements, and the broadcast pair sum_to / expand.
#include <cstdint>
#include <optional>
#include <tuple>
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
// max/min of all elements; amax/amin over dims (`{}`: all), as torch.amax. The gradient is
// shared evenly among tied extremes; NaN is the extreme wherever it is. int64 works (no grad).
Tensor max(const Tensor& a, Site site = Site());
Tensor min(const Tensor& a, Site site = Site());
Tensor amax(const Tensor& a, const Dims& dims = {}, bool keepdim = false, Site site = Site());
Tensor amin(const Tensor& a, const Dims& dims = {}, bool keepdim = false, Site site = Site());
// torch.max(a, dim): (values, int64 indices) of the first extreme along dim (NaN wins); the
// values' gradient goes to the chosen index only.
std::tuple<Tensor, Tensor> max(const Tensor& a, std::int64_t dim, bool keepdim = false,
                               Site site = Site());
std::tuple<Tensor, Tensor> min(const Tensor& a, std::int64_t dim, bool keepdim = false,
                               Site site = Site());
// Variance with Bessel's correction by default (correction = 1), as torch.var; no dims (`{}`)
// means all elements: var(x), var(x, {1}), var(x, {}, 0). There is deliberately no
// var(x, correction) overload: var(x, {1}) would silently pick it.
Tensor var(const Tensor& a, const Dims& dims = {}, std::int64_t correction = 1,
           bool keepdim = false, Site site = Site());
// The square root of var (same arguments); its gradient is 0 where std is 0, as in torch.
Tensor std(const Tensor& a, const Dims& dims = {}, std::int64_t correction = 1,
           bool keepdim = false, Site site = Site());

// No gradient: int64 indices of the maximum (first one on ties); over all elements if no dim.
Tensor argmax(const Tensor& a, std::optional<std::int64_t> dim = {}, bool keepdim = false);
Tensor argmin(const Tensor& a, std::optional<std::int64_t> dim = {}, bool keepdim = false);

// Sums a tensor down to `shape` (the inverse of broadcasting), and broadcasts up to `shape`.
Tensor sum_to(const Tensor& a, const Shape& shape, Site site = Site());
Tensor expand(const Tensor& a, const Shape& shape, Site site = Site());

namespace detail {
// Sorted, unique, wrapped dims (`{}`: every dim) and helpers for reductions over them.
std::vector<std::size_t> reduce_axes(const char* op, const Dims& dims, std::size_t ndim);
Shape keepdim_shape(const Shape& in, const std::vector<std::size_t>& axes);
Dims to_dims_of(const std::vector<std::size_t>& axes);
// A reduction's gradient brought back to the input's shape; differentiable.
Tensor unreduce(const Tensor& g, const Shape& in_shape, const std::vector<std::size_t>& axes);
// 1/k on each of the k elements of x tied with the reduction's result `out`, 0 elsewhere.
Tensor tie_weights(const Tensor& x, const Tensor& out, const std::vector<std::size_t>& axes);

// A row-major shape seen as (outer, n, inner) around dim d (a 0-d shape: 1, 1, 1).
struct DimSplit {
    std::size_t outer = 1, n = 1, inner = 1;
};
DimSplit split_at(const Shape& s, std::size_t d);
// out[.., j, ..] = src[.., index[.., j, ..], ..] along dim (index int64, src's shape but for
// dim); differentiable in src, recorded as `node_name`. Its backward is scatter_add_dim.
Tensor gather_dim(const char* node_name, const Tensor& src, std::size_t dim, const Tensor& index);
// Zeros of `shape` with g added at the positions index names along dim (float g);
// differentiable in g, its backward gather_dim.
Tensor scatter_add_dim(const Tensor& g, std::size_t dim, const Tensor& index, const Shape& shape);
}  // namespace detail

}  // namespace xg

#pragma once
// Movement ops. xgrad tensors are always contiguous, so view() and reshape() both return a
// new tensor (a copy), and transpose/permute materialize their result.
#include <cstdint>
#include <vector>

#include "core/tensor.hpp"

namespace xg {

Tensor reshape(const Tensor& a, const std::vector<std::int64_t>& shape,
               Site site = Site());  // one -1 allowed
Tensor view(const Tensor& a, const std::vector<std::int64_t>& shape, Site site = Site());
Tensor flatten(const Tensor& a, std::int64_t start_dim = 0, std::int64_t end_dim = -1,
               Site site = Site());
Tensor transpose(const Tensor& a, std::int64_t d0, std::int64_t d1, Site site = Site());
Tensor permute(const Tensor& a, const std::vector<std::int64_t>& dims, Site site = Site());
Tensor squeeze(const Tensor& a, Site site = Site());  // all size-1 dims
Tensor squeeze(const Tensor& a, std::int64_t dim, Site site = Site());
Tensor unsqueeze(const Tensor& a, std::int64_t dim, Site site = Site());
// Elements start, start+step, ... < end along dim (negative start/end count from the end and
// are clamped like Python slices); step >= 1.
Tensor slice(const Tensor& a, std::int64_t dim, std::int64_t start, std::int64_t end,
             std::int64_t step = 1, Site site = Site());
Tensor cat(const TensorList& tensors, std::int64_t dim = 0, Site site = Site());
Tensor stack(const TensorList& tensors, std::int64_t dim = 0, Site site = Site());
// Constant padding, torch.nn.functional.pad order: {last_left, last_right, prev_left, ...}.
Tensor pad(const Tensor& a, const std::vector<std::int64_t>& pads, double value = 0.0,
           Site site = Site());

namespace detail {
// The identity case of a shape op (same shape out as in): a new tensor handle that shares a's
// storage, as a PyTorch view would, with a `name` node passing the gradient through.
Tensor alias(const char* name, const Tensor& a);
Tensor reshape_raw(const Tensor& a, const Shape& shape);  // copy with a new shape, no history
// The gradient of slice: zeros of in_shape with g written at start, start+step, ... < end of
// dim (start/end already clamped). Differentiable; its own backward is slice.
Tensor slice_backward(const Tensor& g, const Shape& in_shape, std::int64_t dim, std::int64_t start,
                      std::int64_t end, std::int64_t step);
}  // namespace detail

}  // namespace xg

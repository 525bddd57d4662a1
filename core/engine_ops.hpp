#pragma once
// What the engine needs from ops/, and nothing more: summing two gradients and reducing a
// broadcast gradient to its input's shape. Under create_graph these steps must be recorded like
// any other op, so they are ops; they are defined in ops/engine_ops.cpp, which keeps core/ free
// of any ops/ header.
#include "core/tensor.hpp"

namespace xg::detail {

Tensor grad_sum(const Tensor& a, const Tensor& b);           // xg::add
Tensor grad_reduce_to(const Tensor& g, const Shape& shape);  // xg::sum_to

}  // namespace xg::detail

#pragma once
// Graph export: the recorded graph behind a tensor as Graphviz DOT.
#include <string>

#include "core/tensor.hpp"

namespace xg {

// One box per op (backward node name, output shape, dtype), one ellipse per leaf (its name if
// set with set_name, its shape), edges in the direction data flowed in the forward pass.
std::string to_dot(const Tensor& root);

}  // namespace xg

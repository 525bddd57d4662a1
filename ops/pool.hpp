#pragma once
// 2-D pooling on NCHW tensors, with PyTorch's output sizes (floor mode) and padding rules.
// Every backward rule is itself differentiable (second derivatives work).
#include <cstdint>
#include <optional>
#include <utility>

#include "core/tensor.hpp"
#include "ops/options.hpp"

namespace xg {

// Max over each window; padding counts as -inf (so it is never picked) and must be at most half
// the kernel. The gradient goes to the argmax; on ties to the first maximum in row-major window
// order, exactly one element per window, as PyTorch's CPU kernel. stride defaults to kernel.
// OH = (H + 2*pad_h - kernel_h) / stride_h + 1.
Tensor max_pool2d(const Tensor& x, Pair2 kernel, std::optional<Pair2> stride = std::nullopt,
                  Pair2 padding = {0, 0});

// Mean over each window. count_include_pad=true divides by the window size clipped to the
// padded input (PyTorch's default); false divides by the number of real elements.
Tensor avg_pool2d(const Tensor& x, Pair2 kernel, std::optional<Pair2> stride = std::nullopt,
                  Pair2 padding = {0, 0}, bool count_include_pad = true);

// Mean over windows [floor(o*H/OH), ceil((o+1)*H/OH)) per dim, as PyTorch; output {1, 1} is
// global average pooling.
// The same with torch::nn::functional's options structs:
// max_pool2d(x, MaxPool2dFuncOptions(2).stride(1)).
Tensor max_pool2d(const Tensor& x, const MaxPool2dFuncOptions& opts);
Tensor avg_pool2d(const Tensor& x, const AvgPool2dFuncOptions& opts);

Tensor adaptive_avg_pool2d(const Tensor& x, Pair2 output_size);

}  // namespace xg

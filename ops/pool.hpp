#pragma once
// 2-D pooling on NCHW tensors, with PyTorch's output sizes (floor mode) and padding rules.
// Every backward rule is itself differentiable (second derivatives work).
#include <cstdint>

#include "core/tensor.hpp"
#include "ops/options.hpp"

namespace xg {

// The pooling options are torch::nn::functional's (ops/options.hpp), e.g.
// max_pool2d(x, MaxPool2dFuncOptions(3).stride(2).padding(1)); stride defaults to kernel_size,
// padding to 0, count_include_pad to true.

// Max over each window; padding counts as -inf (so it is never picked) and must be at most half
// the kernel. The gradient goes to the argmax; on ties to the first maximum in row-major window
// order, exactly one element per window, as PyTorch's CPU kernel.
// OH = (H + 2*pad_h - kernel_h) / stride_h + 1.
Tensor max_pool2d(const Tensor& x, const MaxPool2dFuncOptions& opts, Site site = Site());

// Mean over each window. count_include_pad=true divides by the window size clipped to the
// padded input (PyTorch's default); false divides by the number of real elements.
Tensor avg_pool2d(const Tensor& x, const AvgPool2dFuncOptions& opts, Site site = Site());

// Mean over windows [floor(o*H/OH), ceil((o+1)*H/OH)) per dim, as PyTorch; output {1, 1} is
// global average pooling.
Tensor adaptive_avg_pool2d(const Tensor& x, Pair2 output_size, Site site = Site());

}  // namespace xg

#pragma once
// 2-D pooling on NCHW tensors, with PyTorch's output sizes (floor mode) and padding rules.
// Every backward rule is itself differentiable (second derivatives work).
#include <cstdint>
#include <optional>

#include "core/options.hpp"
#include "core/tensor.hpp"

namespace xg {

// torch::nn::functional's pooling options: max_pool2d(x, MaxPool2dFuncOptions(3).stride(2));
// stride defaults to kernel_size, padding to 0, count_include_pad to true.
struct MaxPool2dFuncOptions {
    MaxPool2dFuncOptions(Pair2 kernel_size) : kernel_size_(kernel_size) {}  // NOLINT
    XG_ARG(Pair2, kernel_size);
    XG_ARG(std::optional<Pair2>, stride) = std::nullopt;
    XG_ARG(Pair2, padding) = 0;
};

// torch::nn::functional::AvgPool2dFuncOptions.
struct AvgPool2dFuncOptions {
    AvgPool2dFuncOptions(Pair2 kernel_size) : kernel_size_(kernel_size) {}  // NOLINT
    XG_ARG(Pair2, kernel_size);
    XG_ARG(std::optional<Pair2>, stride) = std::nullopt;
    XG_ARG(Pair2, padding) = 0;
    XG_ARG(bool, count_include_pad) = true;
};

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

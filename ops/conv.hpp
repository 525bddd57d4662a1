#pragma once
// 2-D convolution on NCHW tensors with PyTorch's weight layouts: conv2d by im2col + one gemm per
// group, and conv_transpose2d, its adjoint, sharing the same im2col/col2im kernels.
#include <cstdint>
#include <utility>

#include "core/options.hpp"
#include "core/tensor.hpp"

namespace xg {

// torch::nn::functional::Conv2dFuncOptions: conv2d(x, w, b, Conv2dFuncOptions().stride(2)).
struct Conv2dFuncOptions {
    XG_ARG(Pair2, stride) = 1;
    XG_ARG(Pair2, padding) = 0;  // zeros added on both sides
    XG_ARG(Pair2, dilation) = 1;
    XG_ARG(std::int64_t, groups) = 1;
};

// torch::nn::functional::ConvTranspose2dFuncOptions.
struct ConvTranspose2dFuncOptions {
    XG_ARG(Pair2, stride) = 1;
    XG_ARG(Pair2, padding) = 0;         // removed from both sides of the output
    XG_ARG(Pair2, output_padding) = 0;  // added to one side; < stride or < dilation
    XG_ARG(Pair2, dilation) = 1;
    XG_ARG(std::int64_t, groups) = 1;
};

// x (N, C, H, W), weight (F, C/groups, kh, kw), bias (F) or undefined -> (N, F, OH, OW) with
// OH = (H + 2*pad_h - dil_h*(kh-1) - 1) / stride_h + 1 (same for W), as torch.nn.functional.conv2d.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
              const Conv2dFuncOptions& opts = {}, Site site = Site());

// x (N, C_in, H, W), weight (C_in, C_out/groups, kh, kw), bias (C_out) or undefined ->
// (N, C_out, OH, OW) with OH = (H-1)*stride_h - 2*pad_h + dil_h*(kh-1) + out_pad_h + 1, as
// torch.nn.functional.conv_transpose2d: the gradient of conv2d with respect to its input.
Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
                        const ConvTranspose2dFuncOptions& opts = {}, Site site = Site());

// The gradient of conv2d(input, w) with respect to a weight w of shape weight_shape, given
// grad_output, the gradient of conv2d's output: dw[f, c, i, j] = sum over n, oh, ow of
// grad_output[n, f, oh, ow] * input[n, g*C/groups + c, oh*s + i*d - p, ...]. It is an op of its own
// so that conv2d's and conv_transpose2d's backward rules are differentiable (second derivatives);
// its backward is conv_transpose2d (for input) and conv2d (for grad_output). grad_output's
// spatial size is conv2d's output size, or smaller by what a valid output_padding accounts for
// (the weight gradient of conv_transpose2d).
Tensor conv2d_weight_grad(const Tensor& input, const Tensor& grad_output, const Shape& weight_shape,
                          const Conv2dFuncOptions& opts = {}, Site site = Site());

}  // namespace xg

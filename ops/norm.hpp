#pragma once
// Normalization layers as fused ops with hand-written backward rules (see docs/ops_norm_loss.md).
// Each normalizes x by a mean and a biased variance, then applies an optional per-channel (or
// per-element for layer_norm) affine transform y = xhat * weight + bias. Undefined weight/bias
// tensors mean "no affine".
#include <cstdint>
#include <vector>

#include "core/options.hpp"
#include "core/tensor.hpp"

namespace xg {

// torch::nn::functional::BatchNormFuncOptions: the tensors besides input and running stats.
struct BatchNormFuncOptions {
    XG_ARG(Tensor, weight);
    XG_ARG(Tensor, bias);
    XG_ARG(bool, training) = false;
    XG_ARG(double, momentum) = 0.1;
    XG_ARG(double, eps) = 1e-5;
};

// Batch normalization over (N, C), (N, C, L), (N, C, H, W) or any (N, C, *): statistics per
// channel over the batch and every trailing dim.
//   training: normalize by the batch statistics (biased variance) and, when running stats are
//             given, update them in place (without recording):
//             running = (1 - momentum) * running + momentum * batch_stat, with the unbiased
//             batch variance for running_var (PyTorch's convention). Needs more than one value
//             per channel.
//   eval:     normalize by running_mean/running_var (both required).
// running_mean/running_var are (C) tensors of the input's dtype that do not require grad.
// The rest comes in an options struct, as torch::nn::functional::batch_norm:
// batch_norm(x, rm, rv, BatchNormFuncOptions().weight(w).bias(b).training(true)); weight and
// bias default to none, training to false, momentum to 0.1, eps to 1e-5.
Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                  const BatchNormFuncOptions& opts, Site site = Site());

// Layer normalization over the trailing dims given by normalized_shape; weight and bias (if
// given) have shape normalized_shape.
Tensor layer_norm(const Tensor& input, const std::vector<std::int64_t>& normalized_shape,
                  const Tensor& weight = Tensor(), const Tensor& bias = Tensor(), double eps = 1e-5,
                  Site site = Site());

// Group normalization of (N, C, *): the C channels are split into num_groups groups and each
// (sample, group) is normalized over its channels and trailing dims; weight and bias are (C).
// Equals cs231n's spatial group norm and torch.nn.functional.group_norm.
Tensor group_norm(const Tensor& input, std::int64_t num_groups, const Tensor& weight = Tensor(),
                  const Tensor& bias = Tensor(), double eps = 1e-5, Site site = Site());

}  // namespace xg

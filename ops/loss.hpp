#pragma once
// Softmax and the loss functions, with PyTorch's semantics (see docs/ops_norm_loss.md). Each
// loss is one fused op: a single-pass forward kernel and a backward rule written with
// differentiable ops, so every one of them is twice differentiable.
#include <cstdint>

#include "core/tensor.hpp"

namespace xg {

enum class Reduction { none, mean, sum };

// softmax and log_softmax along dim, computed max-subtracted (log-sum-exp), so any finite input
// gives a finite result.
Tensor softmax(const Tensor& input, std::int64_t dim, Site site = Site());
Tensor log_softmax(const Tensor& input, std::int64_t dim, Site site = Site());

// Class-index losses take input (N, C) and an int64 target (N) with labels in [0, C); class
// weights (C) are constants (they must not require grad). With weights, the mean reduction
// divides by the sum of the weights of the targets, as PyTorch does.
struct CrossEntropyOptions {
    Reduction reduction = Reduction::mean;
    double label_smoothing = 0.0;  // in [0, 1]
    Tensor weight;                 // (C), optional
};

// cross_entropy(x, y) = nll_loss(log_softmax(x, 1), y), fused. With label smoothing eps, the
// per-sample loss is (1 - eps) * w[y] * -logp[y] + eps / C * sum_c w[c] * -logp[c].
Tensor cross_entropy(const Tensor& logits, const Tensor& target,
                     const CrossEntropyOptions& options = {}, Site site = Site());

struct NllLossOptions {
    Reduction reduction = Reduction::mean;
    Tensor weight;  // (C), optional
};

// Per sample -w[y] * input[y].
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const NllLossOptions& options = {},
                Site site = Site());

// (input - target)^2 and |input - target|; input and target have the same shape and dtype and
// both may require grad.
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::mean,
                Site site = Site());
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::mean,
               Site site = Site());

struct BceWithLogitsOptions {
    Reduction reduction = Reduction::mean;
    Tensor weight;      // broadcast to the input's shape, optional
    Tensor pos_weight;  // broadcast to the input's shape (usually (C)), optional
};

// Per element w * ((1 - y) * x + (1 + (pos_weight - 1) * y) * softplus(-x)), with the stable
// softplus(-x) = log1p(exp(-|x|)) + max(-x, 0). Differentiable in input and target.
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const BceWithLogitsOptions& options = {},
                                        Site site = Site());

struct MultiMarginOptions {
    Reduction reduction = Reduction::mean;
    int p = 1;  // 1 or 2
    double margin = 1.0;
    Tensor weight;  // (C), optional
};

// The multiclass hinge loss: per sample sum_{j != y} w[y] * max(0, margin - x[y] + x[j])^p / C,
// and the mean over samples. cs231n's svm_loss (margin 1) is this loss times C.
Tensor multi_margin_loss(const Tensor& input, const Tensor& target,
                         const MultiMarginOptions& options = {}, Site site = Site());

}  // namespace xg

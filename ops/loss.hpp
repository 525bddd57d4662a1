#pragma once
// Softmax and the loss functions, with PyTorch's semantics (see docs/ops_norm_loss.md). Each
// loss is one fused op: a single-pass forward kernel and a backward rule written with
// differentiable ops, so every one of them is twice differentiable.
#include <cstdint>

#include "core/options.hpp"
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
struct CrossEntropyFuncOptions {
    XG_ARG(Reduction, reduction) = Reduction::mean;
    XG_ARG(double, label_smoothing) = 0.0;  // in [0, 1]
    XG_ARG(Tensor, weight);                 // (C), optional
    XG_ARG(std::int64_t, ignore_index) = -100;
};

// cross_entropy(x, y) = nll_loss(log_softmax(x, 1), y), fused. With label smoothing eps, the
// per-sample loss is (1 - eps) * w[y] * -logp[y] + eps / C * sum_c w[c] * -logp[c]. Besides
// (N, C) with (N) labels it takes (C) with a 0-d label and PyTorch's K-dimensional case:
// (N, C, d1, ...) logits ([N, C, T] for sequences) with (N, d1, ...) labels; reduction none
// keeps the target's shape. A label equal to ignore_index adds 0 (and gets no gradient), and
// mean divides by the summed weights of the other labels only (NaN when all are ignored).
Tensor cross_entropy(const Tensor& logits, const Tensor& target,
                     const CrossEntropyFuncOptions& options = {}, Site site = Site());

struct NLLLossFuncOptions {
    XG_ARG(Reduction, reduction) = Reduction::mean;
    XG_ARG(Tensor, weight);  // (C), optional
};

// Per sample -w[y] * input[y].
Tensor nll_loss(const Tensor& log_probs, const Tensor& target,
                const NLLLossFuncOptions& options = {}, Site site = Site());

// Options that hold only a reduction; built from one too: mse_loss(x, y, Reduction::sum).
struct MSELossFuncOptions {
    MSELossFuncOptions(Reduction reduction = Reduction::mean) : reduction_(reduction) {}  // NOLINT
    XG_ARG(Reduction, reduction);
};
struct L1LossFuncOptions {
    L1LossFuncOptions(Reduction reduction = Reduction::mean) : reduction_(reduction) {}  // NOLINT
    XG_ARG(Reduction, reduction);
};

// (input - target)^2 and |input - target|; input and target have the same shape and dtype and
// both may require grad.
Tensor mse_loss(const Tensor& input, const Tensor& target, const MSELossFuncOptions& options = {},
                Site site = Site());
Tensor l1_loss(const Tensor& input, const Tensor& target, const L1LossFuncOptions& options = {},
               Site site = Site());

struct BinaryCrossEntropyWithLogitsFuncOptions {
    XG_ARG(Reduction, reduction) = Reduction::mean;
    XG_ARG(Tensor, weight);      // broadcast to the input's shape, optional
    XG_ARG(Tensor, pos_weight);  // broadcast to the input's shape (usually (C)), optional
};

// Per element w * ((1 - y) * x + (1 + (pos_weight - 1) * y) * softplus(-x)), with the stable
// softplus(-x) = log1p(exp(-|x|)) + max(-x, 0). Differentiable in input and target.
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const BinaryCrossEntropyWithLogitsFuncOptions& options = {},
                                        Site site = Site());

struct MultiMarginLossFuncOptions {
    XG_ARG(Reduction, reduction) = Reduction::mean;
    XG_ARG(int, p) = 1;  // 1 or 2
    XG_ARG(double, margin) = 1.0;
    XG_ARG(Tensor, weight);  // (C), optional
};

// The multiclass hinge loss: per sample sum_{j != y} w[y] * max(0, margin - x[y] + x[j])^p / C,
// and the mean over samples. cs231n's svm_loss (margin 1) is this loss times C.
Tensor multi_margin_loss(const Tensor& input, const Tensor& target,
                         const MultiMarginLossFuncOptions& options = {}, Site site = Site());

}  // namespace xg

#include "nn/loss.hpp"

#include <fmt/format.h>

#include "nn/layers.hpp"

namespace xg::nn {

CrossEntropyLossImpl::CrossEntropyLossImpl(const CrossEntropyLossOptions& o)
    : LossModule("CrossEntropyLoss"), options(o) {
    options.weight(register_buffer("weight", o.weight()));
}

Tensor CrossEntropyLossImpl::forward(const Tensor& input, const Tensor& target) {
    return cross_entropy(input, target, options);
}

std::string CrossEntropyLossImpl::extra_repr() const {
    return options.label_smoothing() != 0.0
               ? "label_smoothing=" + detail::py_float(options.label_smoothing())
               : "";
}

NLLLossImpl::NLLLossImpl(const NLLLossOptions& o) : LossModule("NLLLoss"), options(o) {
    options.weight(register_buffer("weight", o.weight()));
}

Tensor NLLLossImpl::forward(const Tensor& input, const Tensor& target) {
    return nll_loss(input, target, options);
}

Tensor MSELossImpl::forward(const Tensor& input, const Tensor& target) {
    return mse_loss(input, target, options);
}

Tensor L1LossImpl::forward(const Tensor& input, const Tensor& target) {
    return l1_loss(input, target, options);
}

BCEWithLogitsLossImpl::BCEWithLogitsLossImpl(const BCEWithLogitsLossOptions& o)
    : LossModule("BCEWithLogitsLoss"), options(o) {
    options.weight(register_buffer("weight", o.weight()));
    options.pos_weight(register_buffer("pos_weight", o.pos_weight()));
}

Tensor BCEWithLogitsLossImpl::forward(const Tensor& input, const Tensor& target) {
    return binary_cross_entropy_with_logits(input, target, options);
}

MultiMarginLossImpl::MultiMarginLossImpl(const MultiMarginLossOptions& o)
    : LossModule("MultiMarginLoss"), options(o) {
    options.weight(register_buffer("weight", o.weight()));
}

Tensor MultiMarginLossImpl::forward(const Tensor& input, const Tensor& target) {
    return multi_margin_loss(input, target, options);
}

std::string MultiMarginLossImpl::extra_repr() const {
    return options.p() != 1 || options.margin() != 1.0
               ? fmt::format("p={}, margin={}", options.p(), detail::py_float(options.margin()))
               : "";
}

}  // namespace xg::nn

#include "nn/norm.hpp"

#include <fmt/format.h>

#include "core/grad_mode.hpp"
#include "nn/init.hpp"
#include "nn/layers.hpp"
#include "ops/norm.hpp"

namespace xg::nn {

namespace {
std::size_t sz(std::int64_t v) {
    return static_cast<std::size_t>(v);
}
const char* py_bool(bool b) {
    return b ? "True" : "False";
}
}  // namespace

BatchNormImplBase::BatchNormImplBase(const char* type, const BatchNormOptions& o)
    : UnaryModule(type), options(o) {
    XG_CHECK(o.num_features() > 0, "{}: num_features must be positive, got {}", type,
             o.num_features());
    XG_CHECK(!o.momentum() || (*o.momentum() >= 0.0 && *o.momentum() <= 1.0),
             "{}: momentum must be in [0, 1], got {}", type, o.momentum().value_or(0.0));
    XG_CHECK(o.eps() > 0.0, "{}: eps must be positive, got {}", type, o.eps());
    const Shape c{sz(o.num_features())};
    if (o.affine()) {
        weight = register_parameter("weight", ones(c));
        bias = register_parameter("bias", zeros(c));
    }
    if (o.track_running_stats()) {
        running_mean = register_buffer("running_mean", zeros(c));
        running_var = register_buffer("running_var", ones(c));
        num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, int64));
    }
}

void BatchNormImplBase::reset_running_stats() {
    if (!options.track_running_stats()) return;
    init::zeros_(running_mean);
    init::ones_(running_var);
    NoGradGuard no_grad;
    num_batches_tracked.zero_();
}

void BatchNormImplBase::reset_parameters() {
    reset_running_stats();
    if (options.affine()) {
        init::ones_(weight);
        init::zeros_(bias);
    }
}

Tensor BatchNormImplBase::forward(const Tensor& x) {
    check_input(x);
    XG_CHECK(x.shape()[1] == sz(options.num_features()),
             "{}: expected {} channels (dim 1), input has {} (shape {})", type_name(),
             options.num_features(), x.shape()[1], x.shape());
    double momentum = options.momentum().value_or(0.0);
    const bool use_batch = is_training() || !options.track_running_stats();
    const bool update = is_training() && options.track_running_stats();
    const std::int64_t n = update ? num_batches_tracked.item<std::int64_t>() + 1 : 0;
    if (update && !options.momentum()) momentum = 1.0 / double(n);
    auto opts = BatchNormFuncOptions().weight(weight).bias(bias).training(use_batch);
    Tensor y = batch_norm(x, running_mean, running_var, opts.momentum(momentum).eps(options.eps()));
    if (update) num_batches_tracked.fill_(double(n));
    return y;
}

std::string BatchNormImplBase::extra_repr() const {
    return fmt::format("{}, eps={}, momentum={}, affine={}, track_running_stats={}",
                       options.num_features(), detail::py_float(options.eps()),
                       options.momentum() ? detail::py_float(*options.momentum()) : "None",
                       py_bool(options.affine()), py_bool(options.track_running_stats()));
}

void BatchNorm1dImpl::check_input(const Tensor& x) const {
    XG_CHECK(x.dim() == 2 || x.dim() == 3,
             "BatchNorm1d: expected 2-D (N, C) or 3-D (N, C, L) input, got shape {}", x.shape());
}

void BatchNorm2dImpl::check_input(const Tensor& x) const {
    XG_CHECK(x.dim() == 4, "BatchNorm2d: expected 4-D (N, C, H, W) input, got shape {}", x.shape());
}

LayerNormImpl::LayerNormImpl(const LayerNormOptions& o) : UnaryModule("LayerNorm"), options(o) {
    XG_CHECK(!o.normalized_shape().empty(), "LayerNorm: normalized_shape must not be empty");
    Shape s;
    for (auto d : o.normalized_shape()) {
        XG_CHECK(d > 0, "LayerNorm: normalized_shape must be positive, got {}", d);
        s.push_back(sz(d));
    }
    if (o.elementwise_affine()) {
        weight = register_parameter("weight", ones(s));
        bias = register_parameter("bias", zeros(s));
    }
}

void LayerNormImpl::reset_parameters() {
    if (!options.elementwise_affine()) return;
    init::ones_(weight);
    init::zeros_(bias);
}

Tensor LayerNormImpl::forward(const Tensor& x) {
    return layer_norm(x, options.normalized_shape(), weight, bias, options.eps());
}

std::string LayerNormImpl::extra_repr() const {
    const auto& ns = options.normalized_shape();
    std::string shape = "(";
    for (std::size_t i = 0; i < ns.size(); ++i) shape += (i ? ", " : "") + std::to_string(ns[i]);
    shape += ns.size() == 1 ? ",)" : ")";
    return fmt::format("{}, eps={}, elementwise_affine={}", shape, detail::py_float(options.eps()),
                       py_bool(options.elementwise_affine()));
}

GroupNormImpl::GroupNormImpl(const GroupNormOptions& o) : UnaryModule("GroupNorm"), options(o) {
    XG_CHECK(o.num_groups() > 0 && o.num_channels() > 0,
             "GroupNorm: num_groups and num_channels must be positive, got {} and {}",
             o.num_groups(), o.num_channels());
    XG_CHECK(o.num_channels() % o.num_groups() == 0,
             "GroupNorm: num_channels ({}) must be divisible by num_groups ({})", o.num_channels(),
             o.num_groups());
    if (o.affine()) {
        weight = register_parameter("weight", ones({sz(o.num_channels())}));
        bias = register_parameter("bias", zeros({sz(o.num_channels())}));
    }
}

void GroupNormImpl::reset_parameters() {
    if (!options.affine()) return;
    init::ones_(weight);
    init::zeros_(bias);
}

Tensor GroupNormImpl::forward(const Tensor& x) {
    return group_norm(x, options.num_groups(), weight, bias, options.eps());
}

std::string GroupNormImpl::extra_repr() const {
    return fmt::format("{}, {}, eps={}, affine={}", options.num_groups(), options.num_channels(),
                       detail::py_float(options.eps()), py_bool(options.affine()));
}

}  // namespace xg::nn

#pragma once
// Normalization layers over ops/norm: BatchNorm1d/2d (running statistics as buffers, with
// num_batches_tracked as int64), LayerNorm and GroupNorm; PyTorch's defaults (eps 1e-5,
// momentum 0.1, affine weight ones and bias zeros).
#include <cstdint>
#include <optional>
#include <vector>

#include "core/options.hpp"
#include "nn/module.hpp"

namespace xg::nn {

struct BatchNormOptions {
    BatchNormOptions(std::int64_t num_features) : num_features_(num_features) {}  // NOLINT
    XG_ARG(std::int64_t, num_features);
    XG_ARG(double, eps) = 1e-5;
    // nullopt: a cumulative moving average (factor 1 / num_batches_tracked), as momentum=None.
    XG_ARG(std::optional<double>, momentum) = 0.1;
    XG_ARG(bool, affine) = true;
    XG_ARG(bool, track_running_stats) = true;
};
using BatchNorm1dOptions = BatchNormOptions;
using BatchNorm2dOptions = BatchNormOptions;

// Training (or no running stats): batch statistics, and the running ones updated. Eval with
// running stats: normalizes by them.
class BatchNormImplBase : public UnaryModule {
  public:
    BatchNormImplBase(const char* type, const BatchNormOptions& options);
    void reset_running_stats();
    void reset_parameters();
    Tensor forward(const Tensor& x) override;
    std::string extra_repr() const override;
    BatchNormOptions options;
    Tensor weight, bias, running_mean, running_var, num_batches_tracked;

  protected:
    virtual void check_input(const Tensor& x) const = 0;
};

class BatchNorm1dImpl : public BatchNormImplBase {
  public:
    explicit BatchNorm1dImpl(const BatchNormOptions& o) : BatchNormImplBase("BatchNorm1d", o) {}

  protected:
    void check_input(const Tensor& x) const override;  // (N, C) or (N, C, L)
};
XG_MODULE(BatchNorm1d);

class BatchNorm2dImpl : public BatchNormImplBase {
  public:
    explicit BatchNorm2dImpl(const BatchNormOptions& o) : BatchNormImplBase("BatchNorm2d", o) {}

  protected:
    void check_input(const Tensor& x) const override;  // (N, C, H, W)
};
XG_MODULE(BatchNorm2d);

struct LayerNormOptions {
    LayerNormOptions(std::vector<std::int64_t> normalized_shape)  // NOLINT
        : normalized_shape_(std::move(normalized_shape)) {}
    XG_ARG(std::vector<std::int64_t>, normalized_shape);
    XG_ARG(double, eps) = 1e-5;
    XG_ARG(bool, elementwise_affine) = true;
};

class LayerNormImpl : public UnaryModule {
  public:
    explicit LayerNormImpl(const LayerNormOptions& options);
    void reset_parameters();
    Tensor forward(const Tensor& x) override;
    std::string extra_repr() const override;
    LayerNormOptions options;
    Tensor weight, bias;
};
XG_MODULE(LayerNorm);

struct GroupNormOptions {
    GroupNormOptions(std::int64_t num_groups, std::int64_t num_channels)
        : num_groups_(num_groups), num_channels_(num_channels) {}
    XG_ARG(std::int64_t, num_groups);
    XG_ARG(std::int64_t, num_channels);
    XG_ARG(double, eps) = 1e-5;
    XG_ARG(bool, affine) = true;
};

class GroupNormImpl : public UnaryModule {
  public:
    GroupNormImpl(std::int64_t num_groups, std::int64_t num_channels)
        : GroupNormImpl(GroupNormOptions(num_groups, num_channels)) {}
    explicit GroupNormImpl(const GroupNormOptions& options);
    void reset_parameters();
    Tensor forward(const Tensor& x) override;
    std::string extra_repr() const override;
    GroupNormOptions options;
    Tensor weight, bias;
};
XG_MODULE(GroupNorm);

}  // namespace xg::nn

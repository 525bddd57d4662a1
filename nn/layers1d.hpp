#pragma once
// More layers over ops/: the activations GELU, SiLU, Softmax, LogSoftmax and Identity, and the
// 1-D Conv1d, MaxPool1d and AvgPool1d on [N, C, L] (or unbatched [C, L]) inputs, run on the 2-D
// ops with a unit height. PyTorch's defaults, init, parameter names and repr.
#include <cstdint>
#include <optional>
#include <string>

#include "core/options.hpp"
#include "core/random.hpp"
#include "nn/module.hpp"

namespace xg::nn {

// nn::GELU(nn::GELUOptions().approximate("tanh")).
struct GELUOptions {
    XG_ARG(std::string, approximate) = "none";
};

class GELUImpl : public UnaryModule {
  public:
    explicit GELUImpl(const GELUOptions& options = {});
    Tensor forward(const Tensor& x) override;
    std::string extra_repr() const override;
    GELUOptions options;
};
XG_MODULE(GELU);

class SiLUImpl : public UnaryModule {
  public:
    SiLUImpl() : UnaryModule("SiLU") {}
    Tensor forward(const Tensor& x) override;
};
XG_MODULE(SiLU);

// nn::Softmax(1) / nn::LogSoftmax(nn::LogSoftmaxOptions(-1)).
struct SoftmaxOptions {
    SoftmaxOptions(std::int64_t dim) : dim_(dim) {}  // NOLINT
    XG_ARG(std::int64_t, dim);
};
using LogSoftmaxOptions = SoftmaxOptions;

class SoftmaxImpl : public UnaryModule {
  public:
    explicit SoftmaxImpl(const SoftmaxOptions& options)
        : UnaryModule("Softmax"), options(options) {}
    Tensor forward(const Tensor& x) override;
    std::string extra_repr() const override;
    SoftmaxOptions options;
};
XG_MODULE(Softmax);

class LogSoftmaxImpl : public UnaryModule {
  public:
    explicit LogSoftmaxImpl(const LogSoftmaxOptions& options)
        : UnaryModule("LogSoftmax"), options(options) {}
    Tensor forward(const Tensor& x) override;
    std::string extra_repr() const override;
    LogSoftmaxOptions options;
};
XG_MODULE(LogSoftmax);

class IdentityImpl : public UnaryModule {
  public:
    IdentityImpl() : UnaryModule("Identity") {}
    Tensor forward(const Tensor& x) override { return x; }
};
XG_MODULE(Identity);

// torch::nn::Conv1dOptions(in, out, kernel).stride(..).padding(..).dilation(..).groups(..).bias(..)
struct Conv1dOptions {
    Conv1dOptions(std::int64_t in_channels, std::int64_t out_channels, std::int64_t kernel_size)
        : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}
    XG_ARG(std::int64_t, in_channels);
    XG_ARG(std::int64_t, out_channels);
    XG_ARG(std::int64_t, kernel_size);
    XG_ARG(std::int64_t, stride) = 1;
    XG_ARG(std::int64_t, padding) = 0;
    XG_ARG(std::int64_t, dilation) = 1;
    XG_ARG(std::int64_t, groups) = 1;
    XG_ARG(bool, bias) = true;
};

// weight (out, in/groups, k), bias (out), initialized as torch.nn.Conv1d (fan_in = in/groups*k).
class Conv1dImpl : public UnaryModule {
  public:
    Conv1dImpl(std::int64_t in, std::int64_t out, std::int64_t kernel)
        : Conv1dImpl(Conv1dOptions(in, out, kernel)) {}
    explicit Conv1dImpl(const Conv1dOptions& options);
    void reset_parameters(Generator& gen = default_generator());
    Tensor forward(const Tensor& x) override;
    std::string extra_repr() const override;
    Conv1dOptions options;
    Tensor weight, bias;
};
XG_MODULE(Conv1d);

// nn::MaxPool1d(2) or nn::MaxPool1d(nn::MaxPool1dOptions(3).stride(2).padding(1)); stride
// defaults to kernel_size; padding at most half the kernel.
struct MaxPool1dOptions {
    MaxPool1dOptions(std::int64_t kernel_size) : kernel_size_(kernel_size) {}  // NOLINT
    XG_ARG(std::int64_t, kernel_size);
    XG_ARG(std::optional<std::int64_t>, stride) = std::nullopt;
    XG_ARG(std::int64_t, padding) = 0;
};

struct AvgPool1dOptions {
    AvgPool1dOptions(std::int64_t kernel_size) : kernel_size_(kernel_size) {}  // NOLINT
    XG_ARG(std::int64_t, kernel_size);
    XG_ARG(std::optional<std::int64_t>, stride) = std::nullopt;
    XG_ARG(std::int64_t, padding) = 0;
    XG_ARG(bool, count_include_pad) = true;
};

class MaxPool1dImpl : public UnaryModule {
  public:
    MaxPool1dImpl(std::int64_t kernel_size)  // NOLINT
        : MaxPool1dImpl(MaxPool1dOptions(kernel_size)) {}
    explicit MaxPool1dImpl(const MaxPool1dOptions& options);
    Tensor forward(const Tensor& x) override;
    std::string extra_repr() const override;
    MaxPool1dOptions options;
};
XG_MODULE(MaxPool1d);

class AvgPool1dImpl : public UnaryModule {
  public:
    AvgPool1dImpl(std::int64_t kernel_size)  // NOLINT
        : AvgPool1dImpl(AvgPool1dOptions(kernel_size)) {}
    explicit AvgPool1dImpl(const AvgPool1dOptions& options);
    Tensor forward(const Tensor& x) override;
    std::string extra_repr() const override;
    AvgPool1dOptions options;
};
XG_MODULE(AvgPool1d);

}  // namespace xg::nn

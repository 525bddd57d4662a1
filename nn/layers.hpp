#pragma once
// The layers over ops/: Linear, Conv2d, ConvTranspose2d, the 2-D poolings, activations,
// Dropout and Flatten, with PyTorch's defaults, default initialization and repr. Each is a
// `NameImpl` module with a `Name` holder (nn::Linear fc(3, 4); fc(x); fc->weight).
#include <cstdint>
#include <memory>
#include <optional>

#include "core/options.hpp"
#include "core/random.hpp"
#include "nn/module.hpp"
#include "ops/conv.hpp"
#include "ops/pool.hpp"

namespace xg::nn {

struct LinearOptions {
    LinearOptions(std::int64_t in_features, std::int64_t out_features)
        : in_features_(in_features), out_features_(out_features) {}
    XG_ARG(std::int64_t, in_features);
    XG_ARG(std::int64_t, out_features);
    XG_ARG(bool, bias) = true;
};

// y = x W^T + b; weight (out, in) ~ kaiming_uniform_(a = sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)),
// bias U(-1/sqrt(in), 1/sqrt(in)), as torch.nn.Linear.
class LinearImpl : public UnaryModule {
  public:
    LinearImpl(std::int64_t in_features, std::int64_t out_features)
        : LinearImpl(LinearOptions(in_features, out_features)) {}
    explicit LinearImpl(const LinearOptions& options);
    void reset_parameters(Generator& gen = default_generator());
    Tensor forward(const Tensor& x) override;
    std::string extra_repr() const override;
    LinearOptions options;
    Tensor weight, bias;
};
XG_MODULE(Linear);

// torch::nn::Conv2dOptions(in, out, kernel).stride(..).padding(..).dilation(..).groups(..).bias(..)
struct Conv2dOptions {
    Conv2dOptions(std::int64_t in_channels, std::int64_t out_channels, Pair2 kernel_size)
        : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}
    XG_ARG(std::int64_t, in_channels);
    XG_ARG(std::int64_t, out_channels);
    XG_ARG(Pair2, kernel_size);
    XG_ARG(Pair2, stride) = 1;
    XG_ARG(Pair2, padding) = 0;
    XG_ARG(Pair2, output_padding) = 0;  // ConvTranspose2d only
    XG_ARG(Pair2, dilation) = 1;
    XG_ARG(std::int64_t, groups) = 1;
    XG_ARG(bool, bias) = true;
};
using ConvTranspose2dOptions = Conv2dOptions;

// weight (out, in/groups, kh, kw), initialized as torch.nn.Conv2d (fan_in = in/groups*kh*kw).
class Conv2dImpl : public UnaryModule {
  public:
    Conv2dImpl(std::int64_t in, std::int64_t out, Pair2 kernel)
        : Conv2dImpl(Conv2dOptions(in, out, kernel)) {}
    explicit Conv2dImpl(const Conv2dOptions& options);
    void reset_parameters(Generator& gen = default_generator());
    Tensor forward(const Tensor& x) override;
    std::string extra_repr() const override;
    Conv2dOptions options;
    Tensor weight, bias;
};
XG_MODULE(Conv2d);

// weight (in, out/groups, kh, kw), initialized as torch.nn.ConvTranspose2d.
class ConvTranspose2dImpl : public UnaryModule {
  public:
    ConvTranspose2dImpl(std::int64_t in, std::int64_t out, Pair2 kernel)
        : ConvTranspose2dImpl(ConvTranspose2dOptions(in, out, kernel)) {}
    explicit ConvTranspose2dImpl(const ConvTranspose2dOptions& options);
    void reset_parameters(Generator& gen = default_generator());
    Tensor forward(const Tensor& x) override;
    std::string extra_repr() const override;
    ConvTranspose2dOptions options;
    Tensor weight, bias;
};
XG_MODULE(ConvTranspose2d);

// The pooling modules take the functional options (nn::MaxPool2d(2) or
// nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2))), as in libtorch.
using MaxPool2dOptions = MaxPool2dFuncOptions;
using AvgPool2dOptions = AvgPool2dFuncOptions;

class MaxPool2dImpl : public UnaryModule {
  public:
    MaxPool2dImpl(Pair2 kernel_size) : MaxPool2dImpl(MaxPool2dOptions(kernel_size)) {}  // NOLINT
    explicit MaxPool2dImpl(const MaxPool2dOptions& options);
    Tensor forward(const Tensor& x) override;
    std::string extra_repr() const override;
    MaxPool2dOptions options;
};
XG_MODULE(MaxPool2d);

class AvgPool2dImpl : public UnaryModule {
  public:
    AvgPool2dImpl(Pair2 kernel_size) : AvgPool2dImpl(AvgPool2dOptions(kernel_size)) {}  // NOLINT
    explicit AvgPool2dImpl(const AvgPool2dOptions& options);
    Tensor forward(const Tensor& x) override;
    std::string extra_repr() const override;
    AvgPool2dOptions options;
};
XG_MODULE(AvgPool2d);

// nn::AdaptiveAvgPool2d(3) or nn::AdaptiveAvgPool2d({3, 2}).
struct AdaptiveAvgPool2dOptions {
    AdaptiveAvgPool2dOptions(Pair2 output_size) : output_size_(output_size) {}  // NOLINT
    AdaptiveAvgPool2dOptions(std::int64_t h, std::int64_t w) : output_size_(h, w) {}
    XG_ARG(Pair2, output_size);
};

class AdaptiveAvgPool2dImpl : public UnaryModule {
  public:
    using Options = AdaptiveAvgPool2dOptions;
    AdaptiveAvgPool2dImpl(Pair2 output_size)  // NOLINT
        : AdaptiveAvgPool2dImpl(AdaptiveAvgPool2dOptions(output_size)) {}
    explicit AdaptiveAvgPool2dImpl(const AdaptiveAvgPool2dOptions& options);
    Tensor forward(const Tensor& x) override;
    std::string extra_repr() const override;
    AdaptiveAvgPool2dOptions options;
};
XG_MODULE(AdaptiveAvgPool2d);

class ReLUImpl : public UnaryModule {
  public:
    ReLUImpl() : UnaryModule("ReLU") {}
    Tensor forward(const Tensor& x) override;
};
XG_MODULE(ReLU);

struct LeakyReLUOptions {
    LeakyReLUOptions(double negative_slope = 0.01) : negative_slope_(negative_slope) {}  // NOLINT
    XG_ARG(double, negative_slope);
};

class LeakyReLUImpl : public UnaryModule {
  public:
    explicit LeakyReLUImpl(const LeakyReLUOptions& options = {});
    Tensor forward(const Tensor& x) override;
    std::string extra_repr() const override;
    LeakyReLUOptions options;
};
XG_MODULE(LeakyReLU);

class TanhImpl : public UnaryModule {
  public:
    TanhImpl() : UnaryModule("Tanh") {}
    Tensor forward(const Tensor& x) override;
};
XG_MODULE(Tanh);

class SigmoidImpl : public UnaryModule {
  public:
    SigmoidImpl() : UnaryModule("Sigmoid") {}
    Tensor forward(const Tensor& x) override;
};
XG_MODULE(Sigmoid);

// p = probability of dropping, as torch.nn.Dropout. Masks come from the generator given with
// set_generator (shared, so several layers can use one stream), else from the global one.
struct DropoutOptions {
    DropoutOptions(double p = 0.5) : p_(p) {}  // NOLINT
    XG_ARG(double, p);
};

class DropoutImpl : public UnaryModule {
  public:
    explicit DropoutImpl(const DropoutOptions& options = {});
    Tensor forward(const Tensor& x) override;
    std::string extra_repr() const override;
    void set_generator(std::shared_ptr<Generator> gen) { generator = std::move(gen); }
    DropoutOptions options;
    std::shared_ptr<Generator> generator;
};
XG_MODULE(Dropout);

struct FlattenOptions {
    XG_ARG(std::int64_t, start_dim) = 1;
    XG_ARG(std::int64_t, end_dim) = -1;
};

class FlattenImpl : public UnaryModule {
  public:
    explicit FlattenImpl(const FlattenOptions& options = {});
    Tensor forward(const Tensor& x) override;
    std::string extra_repr() const override;
    FlattenOptions options;
};
XG_MODULE(Flatten);

namespace detail {
// Python's repr of a float ("1e-05", "0.1", "1.0").
std::string py_float(double v);
// "(h, w)".
std::string py_pair(Pair2 p);
}  // namespace detail

}  // namespace xg::nn

#pragma once
// The cs231n models of the seed as modules: FullyConnectedNet (fc_net.py) and ThreeLayerConvNet
// (cnn.py). forward gives the class scores; loss adds the softmax loss and the seed's L2 term
// 0.5 * reg * sum(W^2) over the weights (not the biases or the norm parameters).
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "nn/layers.hpp"
#include "nn/norm.hpp"
#include "nn/sequential.hpp"

namespace xg::nn {

enum class Normalization { none, batchnorm, layernorm };

struct FullyConnectedNetOptions {
    FullyConnectedNetOptions(std::vector<std::int64_t> hidden_dims)  // NOLINT
        : hidden_dims_(std::move(hidden_dims)) {}
    XG_ARG(std::vector<std::int64_t>, hidden_dims);
    XG_ARG(std::int64_t, input_dim) = 3 * 32 * 32;
    XG_ARG(std::int64_t, num_classes) = 10;
    XG_ARG(double, dropout_keep_ratio) = 1.0;  // 1: no dropout layers
    XG_ARG(Normalization, normalization) = Normalization::none;
    XG_ARG(double, reg) = 0.0;
    XG_ARG(double, weight_scale) = 1e-2;
    XG_ARG(Dtype, dtype) = float32;
    // Seeds the weight init and the dropout masks (each its own generator); none: the global one.
    XG_ARG(std::optional<std::uint64_t>, seed) = std::nullopt;
};

// {affine - [batch/layer norm] - relu - [dropout]} x (L - 1) - affine, as fc_net.py. Modules
// are named fc1, norm1, drop1, ..., fcL; weights (out, in) ~ weight_scale * N(0, 1), biases 0.
class FullyConnectedNetImpl : public UnaryModule {
  public:
    explicit FullyConnectedNetImpl(const FullyConnectedNetOptions& options);
    Tensor forward(const Tensor& x) override;  // x (N, d1, ...) -> scores (N, num_classes)
    Tensor loss(const Tensor& x, const Tensor& y);
    FullyConnectedNetOptions options;
    std::vector<Linear> fcs;
    std::vector<ModulePtr> norms;
    std::vector<Dropout> drops;
    std::shared_ptr<Generator> dropout_generator;  // set when options.seed is

  private:
    std::vector<UnaryModule*> steps_;
};
XG_MODULE(FullyConnectedNet);

struct ThreeLayerConvNetOptions {
    XG_ARG(std::vector<std::int64_t>, input_dim) = std::vector<std::int64_t>{3, 32, 32};
    XG_ARG(std::int64_t, num_filters) = 32;
    XG_ARG(std::int64_t, filter_size) = 7;
    XG_ARG(std::int64_t, hidden_dim) = 100;
    XG_ARG(std::int64_t, num_classes) = 10;
    XG_ARG(double, weight_scale) = 1e-3;
    XG_ARG(double, reg) = 0.0;
    XG_ARG(Dtype, dtype) = float32;
    XG_ARG(std::optional<std::uint64_t>, seed) = std::nullopt;
};

// conv (same padding, stride 1) - relu - 2x2 max pool - affine - relu - affine, as cnn.py.
class ThreeLayerConvNetImpl : public UnaryModule {
  public:
    explicit ThreeLayerConvNetImpl(const ThreeLayerConvNetOptions& options = {});
    Tensor forward(const Tensor& x) override;  // x (N, C, H, W) -> scores (N, num_classes)
    Tensor loss(const Tensor& x, const Tensor& y);
    ThreeLayerConvNetOptions options;
    Conv2d conv{nullptr};
    Linear fc1{nullptr}, fc2{nullptr};
    MaxPool2d pool{nullptr};
};
XG_MODULE(ThreeLayerConvNet);

// LeNet-5 (LeCun et al. 1998) with ReLU and max pooling, for 1x28x28 inputs: conv 6@5x5 pad 2 -
// relu - pool 2 - conv 16@5x5 - relu - pool 2 - linear 400-120-84-10 (relu between).
Sequential lenet5();
// The main job's CNN (examples/train_cnn) for 1x28x28 inputs: {conv 3x3 pad 1 - batch norm -
// relu - max pool 2} with `width` then 2*width channels, flatten, dropout 0.25, linear to 10.
Sequential small_cnn(std::int64_t width = 16);

}  // namespace xg::nn

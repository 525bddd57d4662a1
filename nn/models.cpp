#include "nn/models.hpp"

#include "nn/init.hpp"
#include "ops/elementwise.hpp"
#include "ops/loss.hpp"
#include "ops/reduce.hpp"

namespace xg::nn {

namespace {

// Weights weight_scale * N(0, 1), biases zeros, as the seed's nets; from gen.
void scaled_normal_init(const Tensor& w, const Tensor& b, double scale, Generator& gen) {
    init::normal_(w, 0.0, scale, gen);
    if (b.defined()) init::zeros_(b);
}

// 0.5 * reg * sum over weights of sum(W^2).
Tensor l2_term(const std::vector<Tensor>& weights, double reg) {
    Tensor s;
    for (const auto& w : weights) {
        Tensor t = sum(mul(w, w));
        s = s.defined() ? add(s, t) : t;
    }
    return mul(s, 0.5 * reg);
}

}  // namespace

FullyConnectedNetImpl::FullyConnectedNetImpl(const FullyConnectedNetOptions& o)
    : UnaryModule("FullyConnectedNet"), options(o) {
    XG_CHECK(o.input_dim() > 0 && o.num_classes() > 0,
             "FullyConnectedNet: input_dim and num_classes must be positive, got {} and {}",
             o.input_dim(), o.num_classes());
    XG_CHECK(o.dropout_keep_ratio() > 0.0 && o.dropout_keep_ratio() <= 1.0,
             "FullyConnectedNet: dropout_keep_ratio must be in (0, 1], got {}",
             o.dropout_keep_ratio());
    XG_CHECK(o.reg() >= 0.0, "FullyConnectedNet: reg must be non-negative, got {}", o.reg());
    Generator seeded(o.seed().value_or(0));
    Generator& gen = o.seed() ? seeded : default_generator();
    if (o.seed()) dropout_generator = std::make_shared<Generator>(*o.seed());
    std::vector<std::int64_t> dims{o.input_dim()};
    for (auto h : o.hidden_dims()) {
        XG_CHECK(h > 0, "FullyConnectedNet: hidden_dims must be positive, got {}", h);
        dims.push_back(h);
    }
    dims.push_back(o.num_classes());
    const std::size_t layers = dims.size() - 1;
    for (std::size_t l = 0; l < layers; ++l) {
        const std::string id = std::to_string(l + 1);
        Linear fc = register_module("fc" + id, Linear(dims[l], dims[l + 1]));
        scaled_normal_init(fc->weight, fc->bias, o.weight_scale(), gen);
        fcs.push_back(fc);
        steps_.push_back(fc.ptr().get());
        if (l + 1 == layers) break;
        if (o.normalization() == Normalization::batchnorm) {
            BatchNorm1d bn{BatchNormOptions(dims[l + 1])};
            norms.push_back(register_module("norm" + id, bn).ptr());
            steps_.push_back(bn.ptr().get());
        } else if (o.normalization() == Normalization::layernorm) {
            LayerNorm ln{LayerNormOptions({dims[l + 1]})};
            norms.push_back(register_module("norm" + id, ln).ptr());
            steps_.push_back(ln.ptr().get());
        }
        ReLU relu = register_module("relu" + id, ReLU());
        steps_.push_back(relu.ptr().get());
        if (o.dropout_keep_ratio() < 1.0) {
            Dropout d = register_module("drop" + id, Dropout(1.0 - o.dropout_keep_ratio()));
            d->set_generator(dropout_generator);
            drops.push_back(d);
            steps_.push_back(d.ptr().get());
        }
    }
    to(o.dtype());
}

Tensor FullyConnectedNetImpl::forward(const Tensor& x) {
    XG_CHECK(x.defined() && x.dim() >= 1, "FullyConnectedNet: input must have a batch dim");
    Tensor h = x.reshape({static_cast<std::int64_t>(x.shape()[0]), -1});
    XG_CHECK(h.shape()[1] == static_cast<std::size_t>(options.input_dim()),
             "FullyConnectedNet: expected {} features per sample, input {} has {}",
             options.input_dim(), x.shape(), h.shape()[1]);
    for (auto* m : steps_) h = (*m)(h);
    return h;
}

Tensor FullyConnectedNetImpl::loss(const Tensor& x, const Tensor& y) {
    std::vector<Tensor> ws;
    for (auto& fc : fcs) ws.push_back(fc->weight);
    Tensor l = cross_entropy(forward(x), y);
    return options.reg() == 0.0 ? l : add(l, l2_term(ws, options.reg()));
}

ThreeLayerConvNetImpl::ThreeLayerConvNetImpl(const ThreeLayerConvNetOptions& o)
    : UnaryModule("ThreeLayerConvNet"), options(o) {
    XG_CHECK(o.input_dim().size() == 3,
             "ThreeLayerConvNet: input_dim must be (C, H, W), got {} values", o.input_dim().size());
    XG_CHECK(o.filter_size() > 0 && o.filter_size() % 2 == 1,
             "ThreeLayerConvNet: filter_size must be odd (same padding), got {}", o.filter_size());
    XG_CHECK(o.reg() >= 0.0, "ThreeLayerConvNet: reg must be non-negative, got {}", o.reg());
    const auto c = o.input_dim()[0], h = o.input_dim()[1], w = o.input_dim()[2];
    XG_CHECK(c > 0 && h >= 2 && w >= 2,
             "ThreeLayerConvNet: input_dim needs C > 0 and H, W >= 2, got ({}, {}, {})", c, h, w);
    Generator seeded(o.seed().value_or(0));
    Generator& gen = o.seed() ? seeded : default_generator();
    conv = register_module(
        "conv",
        Conv2d(
            Conv2dOptions(c, o.num_filters(), o.filter_size()).padding((o.filter_size() - 1) / 2)));
    register_module("relu1", ReLU());
    pool = register_module("pool", MaxPool2d(MaxPool2dOptions(2).stride(2)));
    fc1 = register_module("fc1", Linear(o.num_filters() * (h / 2) * (w / 2), o.hidden_dim()));
    register_module("relu2", ReLU());
    fc2 = register_module("fc2", Linear(o.hidden_dim(), o.num_classes()));
    scaled_normal_init(conv->weight, conv->bias, o.weight_scale(), gen);
    scaled_normal_init(fc1->weight, fc1->bias, o.weight_scale(), gen);
    scaled_normal_init(fc2->weight, fc2->bias, o.weight_scale(), gen);
    to(o.dtype());
}

Tensor ThreeLayerConvNetImpl::forward(const Tensor& x) {
    Tensor h = pool(relu(conv(x)));
    h = relu(fc1(h.flatten(1)));
    return fc2(h);
}

Tensor ThreeLayerConvNetImpl::loss(const Tensor& x, const Tensor& y) {
    Tensor l = cross_entropy(forward(x), y);
    if (options.reg() == 0.0) return l;
    return add(l, l2_term({conv->weight, fc1->weight, fc2->weight}, options.reg()));
}

Sequential lenet5() {
    return Sequential({Conv2d(Conv2dOptions(1, 6, 5).padding(2)), ReLU(),
                       MaxPool2d(MaxPool2dOptions(2)), Conv2d(6, 16, 5), ReLU(),
                       MaxPool2d(MaxPool2dOptions(2)), Flatten(), Linear(400, 120), ReLU(),
                       Linear(120, 84), ReLU(), Linear(84, 10)});
}

Sequential small_cnn(std::int64_t c) {
    return Sequential({Conv2d(Conv2dOptions(1, c, 3).padding(1)), BatchNorm2d(c), ReLU(),
                       MaxPool2d(MaxPool2dOptions(2)),
                       Conv2d(Conv2dOptions(c, 2 * c, 3).padding(1)), BatchNorm2d(2 * c), ReLU(),
                       MaxPool2d(MaxPool2dOptions(2)), Flatten(), Dropout(0.25),
                       Linear(2 * c * 7 * 7, 10)});
}

}  // namespace xg::nn

// The cs231n models (nn/models.hpp): structure, the seed's sanity checks (initial loss near
// ln(C), the L2 term), whole-model gradient checks in float64 and overfitting 50 examples.
#include <doctest/doctest.h>

#include <cmath>

#include "tests/nn_check.hpp"
#include "tests/op_registry.hpp"
#include "xgrad.hpp"

using namespace xg;
using namespace xg::testing;

namespace {

// Random labels in [0, classes) from gen.
Tensor labels(std::size_t n, std::int64_t classes, Generator& gen) {
    xt::xarray<std::int64_t> y = xt::xarray<std::int64_t>::from_shape({n});
    for (auto& v : y) v = static_cast<std::int64_t>(gen.uniform() * double(classes));
    return Tensor(std::move(y));
}

double accuracy(const Tensor& scores, const Tensor& y) {
    auto pred = scores.argmax(1).to_vector(), truth = y.to_vector();
    double hit = 0;
    for (std::size_t i = 0; i < pred.size(); ++i) hit += pred[i] == truth[i];
    return hit / double(pred.size());
}

// Plain full-batch SGD written here (optim/ is elsewhere): p -= lr * grad, under NoGradGuard.
void sgd_step(nn::Module& m, double lr) {
    NoGradGuard no_grad;
    for (auto& p : m.parameters()) {
        Tensor h = p;
        h.mutable_data<float>() -= static_cast<float>(lr) * p.grad().data<float>();
    }
    m.zero_grad();
}

// Trains until every training example is classified correctly; returns the steps it took (or
// max_steps + 1 if it never did).
template <class Net>
int overfit(Net& net, const Tensor& x, const Tensor& y, double lr, int max_steps) {
    for (int step = 0; step < max_steps; ++step) {
        net->train();
        net->loss(x, y).backward();
        sgd_step(*net, lr);
        net->eval();
        NoGradGuard no_grad;
        if (accuracy(net(x), y) == 1.0) return step + 1;
    }
    return max_steps + 1;
}

}  // namespace

TEST_CASE("lenet5 and small_cnn: parameter counts and output shapes as in PyTorch") {
    manual_seed(0);
    nn::Sequential lenet = nn::lenet5();
    CHECK(lenet->num_parameters() == 61706);  // sum(p.numel()) of the same torch.nn model
    CHECK(lenet(randn({3, 1, 28, 28})).shape() == Shape{3, 10});
    nn::Sequential cnn = nn::small_cnn(16);
    CHECK(cnn->num_parameters() == 20586);
    CHECK(cnn(randn({2, 1, 28, 28})).shape() == Shape{2, 10});
    CHECK(nn::small_cnn(8)->num_parameters() < cnn->num_parameters());
}

TEST_CASE("FullyConnectedNet: structure as the seed's fc_net") {
    nn::FullyConnectedNet net(nn::FullyConnectedNetOptions({5, 4})
                                  .input_dim(6)
                                  .num_classes(3)
                                  .normalization(nn::Normalization::batchnorm)
                                  .dropout_keep_ratio(0.5)
                                  .seed(1));
    CHECK(net->named_parameters().keys() ==
          std::vector<std::string>{"fc1.weight", "fc1.bias", "norm1.weight", "norm1.bias",
                                   "fc2.weight", "fc2.bias", "norm2.weight", "norm2.bias",
                                   "fc3.weight", "fc3.bias"});
    CHECK(net->fcs[0]->weight.shape() == Shape{5, 6});
    CHECK(net->drops.size() == 2);
    CHECK(net->drops[0]->options.p() == 0.5);
    for (double b : net->fcs[1]->bias.to_vector()) CHECK(b == 0.0);
    // The seed fixes the weights.
    nn::FullyConnectedNet again(
        nn::FullyConnectedNetOptions({5, 4}).input_dim(6).num_classes(3).seed(1));
    CHECK(again->fcs[2]->weight.to_vector() == net->fcs[2]->weight.to_vector());
    nn::FullyConnectedNet ln(
        nn::FullyConnectedNetOptions({5}).input_dim(6).normalization(nn::Normalization::layernorm));
    CHECK(ln->named_modules()[2].second->type_name() == "LayerNorm");
    CHECK(ln(zeros({2, 2, 3})).shape() == Shape{2, 10});  // inputs are flattened per sample
    CHECK_THROWS_WITH_AS(ln(zeros({2, 5})),
                         doctest::Contains("FullyConnectedNet: expected 6 features per sample"),
                         Error);
    CHECK_THROWS_WITH_AS(
        nn::FullyConnectedNet(nn::FullyConnectedNetOptions({3}).dropout_keep_ratio(0)),
        doctest::Contains("dropout_keep_ratio must be in (0, 1]"), Error);
}

TEST_CASE("sanity: initial softmax loss is near ln(10) for small weights; reg adds 0.5*reg*W^2") {
    Generator gen(2);
    Tensor x = randn({50, 40}, gen, float64);
    Tensor y = labels(50, 10, gen);
    nn::FullyConnectedNet net(
        nn::FullyConnectedNetOptions({30, 20}).input_dim(40).weight_scale(1e-3).dtype(float64).seed(
            3));
    const double l0 = net->loss(x, y).item();
    CHECK(std::abs(l0 - std::log(10.0)) < 1e-3);
    net->options.reg(0.7);
    double w2 = 0;
    for (auto& fc : net->fcs)
        for (double v : fc->weight.to_vector()) w2 += v * v;
    CHECK(net->loss(x, y).item() == doctest::Approx(l0 + 0.5 * 0.7 * w2).epsilon(1e-12));

    nn::ThreeLayerConvNet cnn(nn::ThreeLayerConvNetOptions()
                                  .input_dim({3, 8, 8})
                                  .num_filters(4)
                                  .hidden_dim(12)
                                  .dtype(float64)
                                  .seed(4));
    Tensor img = randn({20, 3, 8, 8}, gen, float64);
    CHECK(std::abs(cnn->loss(img, labels(20, 10, gen)).item() - std::log(10.0)) < 1e-3);
    CHECK(cnn->conv->options.padding() == Pair2(3));  // (7 - 1) / 2, "same" for stride 1
    CHECK(cnn->fc1->weight.shape() == Shape{12, 4 * 4 * 4});
}

TEST_CASE("gradcheck: FullyConnectedNet with batchnorm, dropout and reg, float64") {
    nn::FullyConnectedNet net(nn::FullyConnectedNetOptions({6, 5})
                                  .input_dim(7)
                                  .num_classes(4)
                                  .normalization(nn::Normalization::batchnorm)
                                  .dropout_keep_ratio(0.7)
                                  .reg(0.1)
                                  .weight_scale(0.3)
                                  .dtype(float64)
                                  .seed(5));
    Generator gen(6);
    Tensor x = randn({4, 7}, gen, float64);
    Tensor y = labels(4, 4, gen);
    // The dropout masks come from the model's generator: reseed it for every evaluation.
    auto loss = [&](const Tensor& in) {
        net->dropout_generator->manual_seed(7);
        return net->loss(in, y);
    };
    check_model_gradients(*net, [&] { return loss(x); });
    auto r =
        gradcheck([&](const TensorList& in) { return loss(in[0]); }, {x.clone().requires_grad_()});
    CHECK_MESSAGE(r, r.log);
    // Dropout did act: with a different seed the loss changes.
    double a = loss(x).item();
    net->dropout_generator->manual_seed(8);
    CHECK(net->loss(x, y).item() != a);
}

TEST_CASE("gradcheck: FullyConnectedNet with layernorm, float64") {
    nn::FullyConnectedNet net(nn::FullyConnectedNetOptions({5})
                                  .input_dim(4)
                                  .num_classes(3)
                                  .normalization(nn::Normalization::layernorm)
                                  .weight_scale(0.5)
                                  .reg(0.05)
                                  .dtype(float64)
                                  .seed(9));
    Generator gen(10);
    Tensor x = randn({3, 4}, gen, float64);
    Tensor y = labels(3, 3, gen);
    check_model_gradients(*net, [&] { return net->loss(x, y); });
}

TEST_CASE("gradcheck: ThreeLayerConvNet, float64") {
    nn::ThreeLayerConvNet net(nn::ThreeLayerConvNetOptions()
                                  .input_dim({2, 6, 6})
                                  .num_filters(3)
                                  .filter_size(3)
                                  .hidden_dim(5)
                                  .num_classes(4)
                                  .weight_scale(0.3)
                                  .reg(0.05)
                                  .dtype(float64)
                                  .seed(11));
    Generator gen(12);
    Tensor x = randn({2, 2, 6, 6}, gen, float64);
    Tensor y = labels(2, 4, gen);
    check_model_gradients(*net, [&] { return net->loss(x, y); });
    auto r = gradcheck([&](const TensorList& in) { return net->loss(in[0], y); },
                       {x.clone().requires_grad_()});
    CHECK_MESSAGE(r, r.log);
}

TEST_CASE("overfit: FullyConnectedNet reaches 100% train accuracy on 50 examples") {
    Generator gen(13);
    Tensor x = randn({50, 20}, gen);
    Tensor y = labels(50, 10, gen);
    nn::FullyConnectedNet net(
        nn::FullyConnectedNetOptions({100, 100}).input_dim(20).weight_scale(0.1).seed(14));
    int steps = overfit(net, x, y, 0.1, 2000);
    CHECK(steps <= 2000);
    MESSAGE("FullyConnectedNet: 100% after ", steps, " steps");
}

TEST_CASE("overfit: ThreeLayerConvNet reaches 100% train accuracy on 50 examples") {
    Generator gen(15);
    Tensor x = randn({50, 3, 8, 8}, gen);
    Tensor y = labels(50, 10, gen);
    nn::ThreeLayerConvNet net(nn::ThreeLayerConvNetOptions()
                                  .input_dim({3, 8, 8})
                                  .num_filters(8)
                                  .filter_size(3)
                                  .hidden_dim(50)
                                  .weight_scale(0.1)
                                  .seed(16));
    int steps = overfit(net, x, y, 0.05, 2000);
    CHECK(steps <= 2000);
    MESSAGE("ThreeLayerConvNet: 100% after ", steps, " steps");
}

// The layers of nn/layers.hpp, nn/norm.hpp, nn/loss.hpp and Sequential: forward values against
// the functional ops and PyTorch (tests/parity/nn_modules.py), state_dict round trips, default
// init, train/eval behaviour, and whole-model gradient checks in float64.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <sstream>
#include <tuple>

#include "test_paths.hpp"
#include "tests/error_of.hpp"
#include "tests/nn_check.hpp"
#include "tests/op_registry.hpp"
#include "tests/parity.hpp"
#include "xgrad.hpp"

using namespace xg;
using namespace xg::testing;
namespace init = xg::nn::init;

namespace {

// The model of tests/parity/nn_modules.py: every Tensor -> Tensor layer type.
nn::Sequential every_layer_cnn() {
    return nn::Sequential({
        nn::Conv2d(nn::Conv2dOptions(2, 4, 3).padding(1)),
        nn::BatchNorm2d(nn::BatchNormOptions(4)),
        nn::ReLU(),
        nn::MaxPool2d(nn::MaxPool2dOptions(2)),
        nn::ConvTranspose2d(nn::ConvTranspose2dOptions(4, 3, 2).stride(2)),
        nn::GroupNorm(1, 3),
        nn::LeakyReLU(0.1),
        nn::AvgPool2d(nn::AvgPool2dOptions(2)),
        nn::AdaptiveAvgPool2d(Pair2(2, 2)),
        nn::Flatten(),
        nn::Linear(12, 6),
        nn::LayerNorm(nn::LayerNormOptions({6})),
        nn::Tanh(),
        nn::Dropout(0.0),
        nn::Linear(6, 5),
        nn::BatchNorm1d(nn::BatchNormOptions(5).momentum(std::nullopt)),
        nn::Sigmoid(),
    });
}

nn::Sequential nested_net() {
    return nn::Sequential({nn::Sequential({nn::Linear(nn::LinearOptions(3, 4).bias(false)),
                                           nn::BatchNorm1d(nn::BatchNormOptions(4).affine(false))}),
                           nn::Sequential({nn::ReLU(), nn::Linear(4, 2)})});
}

std::string read_text(const std::string& path) {
    std::ifstream f(path);
    REQUIRE_MESSAGE(f.good(), path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::vector<std::string> fixture_keys(const std::string& name) {
    std::istringstream in(read_text(std::string(XGRAD_FIXTURE_DIR) + "/" + name + ".keys.txt"));
    std::vector<std::string> keys;
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) keys.push_back(line);
    return keys;
}

void close(const Tensor& got, const Tensor& want, const std::string& what, double tol = 1e-9) {
    REQUIRE_MESSAGE(got.shape() == want.shape(), what);
    auto a = got.to_vector(), b = want.to_vector();
    double worst = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
    CHECK_MESSAGE(worst <= tol, what << ": max abs diff " << worst);
}

// Loads the PyTorch state dict into model (float64), then checks repr, the train-mode output and
// parameter gradients, the updated running statistics and the eval-mode output.
void check_module_parity(nn::Sequential model, const std::string& name) {
    model->to(float64);
    const auto keys = fixture_keys(name);
    CHECK(model->state_dict().keys() == keys);
    nn::StateDict sd;
    for (const auto& k : keys) sd.insert(k, load_fixture(name, "sd." + k));
    model->load_state_dict(sd);
    std::string repr = read_text(std::string(XGRAD_FIXTURE_DIR) + "/" + name + ".repr.txt");
    CHECK(model->repr() + "\n" == repr);

    Tensor x = load_fixture(name, "in");
    model->train();
    Tensor y = model(x);
    close(y, load_fixture(name, "out_train"), name + " train output");
    y.backward(load_fixture(name, "gout"));
    for (const auto& [k, p] : model->named_parameters())
        close(p.grad(), load_fixture(name, "grad." + k), name + " grad " + k, 1e-8);
    for (const auto& [k, t] : model->state_dict())
        close(t, load_fixture(name, "sd_after." + k), name + " after train " + k, 1e-12);
    model->eval();
    close(model(x), load_fixture(name, "out_eval"), name + " eval output");
}

// Every module type: a state_dict saved and loaded into a fresh instance gives identical outputs.
template <class Make>
void check_round_trip(Make make, const Tensor& x) {
    auto a = make();
    auto b = make();
    a->eval();
    b->eval();
    b->load_state_dict(a->state_dict());
    CHECK_MESSAGE(a(x).to_vector() == b(x).to_vector(), a->repr());
    for (const auto& item : a->state_dict()) {  // no structured binding: doctest's lambdas
        const auto& k = std::get<0>(item);
        CHECK_MESSAGE(b->state_dict().at(k).to_vector() == std::get<1>(item).to_vector(), k);
    }
}

}  // namespace

TEST_CASE("nn parity: a Sequential CNN with every layer type matches PyTorch") {
    check_module_parity(every_layer_cnn(), "nn/nn_seq_cnn");
}

TEST_CASE("nn parity: nested Sequentials, no bias, BatchNorm1d without affine") {
    check_module_parity(nested_net(), "nn/nn_seq_nested");
}

TEST_CASE("layers: forward equals the functional op") {
    manual_seed(7);
    Tensor x = randn({2, 3, 6, 5}, float64);
    nn::Conv2d conv(nn::Conv2dOptions(3, 4, Pair2(3, 2)).stride(2).padding(1).dilation(1));
    conv->to(float64);
    CHECK(
        conv(x).to_vector() ==
        conv2d(x, conv->weight, conv->bias, Conv2dFuncOptions().stride(2).padding(1)).to_vector());
    nn::ConvTranspose2d ct(nn::ConvTranspose2dOptions(3, 2, 3).stride(2).output_padding(1));
    ct->to(float64);
    CHECK(ct(x).to_vector() ==
          conv_transpose2d(x, ct->weight, ct->bias,
                           ConvTranspose2dFuncOptions().stride(2).output_padding(1))
              .to_vector());
    CHECK(nn::MaxPool2d(nn::MaxPool2dOptions(2).stride(1))(x).to_vector() ==
          max_pool2d(x, MaxPool2dFuncOptions(2).stride(1)).to_vector());
    CHECK(
        nn::AvgPool2d(nn::AvgPool2dOptions(3).padding(1).count_include_pad(false))(x).to_vector() ==
        avg_pool2d(x, AvgPool2dFuncOptions(3).padding(1).count_include_pad(false)).to_vector());
    CHECK(nn::AdaptiveAvgPool2d(Pair2(1))(x).to_vector() ==
          adaptive_avg_pool2d(x, {1, 1}).to_vector());
    CHECK(nn::ReLU()(x).to_vector() == relu(x).to_vector());
    CHECK(nn::LeakyReLU(0.2)(x).to_vector() == leaky_relu(x, 0.2).to_vector());
    CHECK(nn::Tanh()(x).to_vector() == xg::tanh(x).to_vector());
    CHECK(nn::Sigmoid()(x).to_vector() == sigmoid(x).to_vector());
    CHECK(nn::Flatten()(x).shape() == Shape{2, 30 * 3});
    CHECK(nn::Flatten(nn::FlattenOptions().start_dim(0).end_dim(1))(x).shape() == Shape{6, 6, 5});
    nn::Linear fc(5, 3);
    fc->to(float64);
    CHECK(fc(x).to_vector() == linear(x, fc->weight, fc->bias).to_vector());
    nn::GroupNorm gn(3, 3);
    gn->to(float64);
    CHECK(gn(x).to_vector() == group_norm(x, 3, gn->weight, gn->bias).to_vector());
    nn::LayerNorm ln(nn::LayerNormOptions({6, 5}).eps(1e-3));
    ln->to(float64);
    CHECK(ln(x).to_vector() == layer_norm(x, {6, 5}, ln->weight, ln->bias, 1e-3).to_vector());
}

TEST_CASE("loss modules equal the functional losses") {
    manual_seed(8);
    Tensor x = randn({4, 3}, float64), t = randn({4, 3}, float64);
    Tensor y = tensor({0, 2, 1, 2}, int64);
    auto ce = CrossEntropyFuncOptions().label_smoothing(0.1);
    CHECK(nn::CrossEntropyLoss(ce)(x, y).item() == cross_entropy(x, y, ce).item());
    CHECK(nn::CrossEntropyLoss()(x, y).item() == cross_entropy(x, y).item());
    CHECK(nn::NLLLoss()(log_softmax(x, 1), y).item() == nll_loss(log_softmax(x, 1), y).item());
    CHECK(nn::MSELoss()(x, t).item() == mse_loss(x, t).item());
    CHECK(nn::L1Loss(Reduction::sum)(x, t).item() == l1_loss(x, t, Reduction::sum).item());
    CHECK(nn::BCEWithLogitsLoss()(x, sigmoid(t)).item() ==
          binary_cross_entropy_with_logits(x, sigmoid(t)).item());
    auto mm = MultiMarginLossFuncOptions().margin(0.5).weight(tensor({1.0, 2.0, 0.5}, float64));
    nn::MultiMarginLoss svm(mm);
    CHECK(svm(x, y).item() == multi_margin_loss(x, y, mm).item());
    CHECK(svm->state_dict().keys() == std::vector<std::string>{"weight"});
    CHECK(svm->repr() == "MultiMarginLoss(p=1, margin=0.5)");
}

TEST_CASE("layers: state_dict round trip for every module type") {
    manual_seed(9);
    Tensor img = randn({2, 4, 6, 6}), flat = randn({3, 4});
    check_round_trip([] { return nn::Linear(4, 3); }, flat);
    check_round_trip([] { return nn::Conv2d(4, 2, 3); }, img);
    check_round_trip([] { return nn::ConvTranspose2d(4, 2, 3); }, img);
    check_round_trip([] { return nn::MaxPool2d(nn::MaxPool2dOptions(2)); }, img);
    check_round_trip([] { return nn::AvgPool2d(nn::AvgPool2dOptions(2)); }, img);
    check_round_trip([] { return nn::AdaptiveAvgPool2d(Pair2(3)); }, img);
    check_round_trip([] { return nn::GroupNorm(2, 4); }, img);
    check_round_trip([] { return nn::LayerNorm(nn::LayerNormOptions({4})); }, flat);
    check_round_trip([] { return nn::ReLU(); }, flat);
    check_round_trip([] { return nn::LeakyReLU(); }, flat);
    check_round_trip([] { return nn::Tanh(); }, flat);
    check_round_trip([] { return nn::Sigmoid(); }, flat);
    check_round_trip([] { return nn::Dropout(); }, flat);
    check_round_trip([] { return nn::Flatten(); }, img);
    // Batch norms with trained (non-default) running statistics.
    auto trained_bn2d = [&] {
        nn::BatchNorm2d bn(nn::BatchNormOptions(4));
        bn(mul(img, 3.0));
        init::uniform_(bn->weight);
        return bn;
    };
    check_round_trip(trained_bn2d, img);
    auto trained_bn1d = [&] {
        nn::BatchNorm1d bn(nn::BatchNormOptions(4));
        bn(add(flat, 2.0));
        bn(flat);
        return bn;
    };
    auto a = trained_bn1d();
    CHECK(a->num_batches_tracked.item<std::int64_t>() == 2);
    check_round_trip(trained_bn1d, flat);
    check_round_trip([] { return every_layer_cnn(); }, randn({2, 2, 6, 6}));
}

TEST_CASE("init: default initialization has PyTorch's distributions") {
    // Linear(in=50): weight and bias U(-1/sqrt(50), 1/sqrt(50)); uniform std = bound / sqrt(3).
    manual_seed(10);
    nn::Linear fc(50, 400);
    const double bound = 1.0 / std::sqrt(50.0);
    auto w = fc->weight.to_vector();
    double mean = 0, sq = 0, mx = 0;
    for (double v : w) mean += v, sq += v * v, mx = std::max(mx, std::abs(v));
    mean /= double(w.size());
    double sd = std::sqrt(sq / double(w.size()) - mean * mean);
    // 20000 samples: the mean's standard error is bound/sqrt(3)/sqrt(20000) ~ 0.0006.
    CHECK(std::abs(mean) < 0.003);
    CHECK(sd == doctest::Approx(bound / std::sqrt(3.0)).epsilon(0.02));
    CHECK(mx <= bound);
    CHECK(mx > 0.99 * bound);
    for (double v : fc->bias.to_vector()) CHECK(std::abs(v) <= bound);
    // Conv2d fan_in = in/groups * kh * kw.
    nn::Conv2d conv(nn::Conv2dOptions(6, 8, 3).groups(2));
    const double cb = 1.0 / std::sqrt(3.0 * 9.0);
    double cmax = 0;
    for (double v : conv->weight.to_vector()) cmax = std::max(cmax, std::abs(v));
    CHECK(cmax <= cb);
    CHECK(cmax > 0.9 * cb);
    // Norms: ones and zeros.
    nn::BatchNorm2d bn(nn::BatchNormOptions(3));
    CHECK(bn->weight.to_vector() == std::vector<double>{1, 1, 1});
    CHECK(bn->bias.to_vector() == std::vector<double>{0, 0, 0});
    CHECK(bn->running_var.to_vector() == std::vector<double>{1, 1, 1});
}

TEST_CASE("init: kaiming and xavier, normal and uniform, from a generator") {
    Generator gen(11);
    Tensor w = zeros({200, 100, 2, 2}, float64);  // fan_in 400, fan_out 800
    auto moments = [](const Tensor& t) {
        auto v = t.to_vector();
        double m = 0, s = 0, mx = 0;
        for (double x : v) m += x, s += x * x, mx = std::max(mx, std::abs(x));
        m /= double(v.size());
        return std::make_tuple(m, std::sqrt(s / double(v.size()) - m * m), mx);
    };
    // 80000 samples: the std estimate is within ~0.5% (3 sigma).
    init::kaiming_normal_(w, 0.0, init::FanMode::fan_in, init::Nonlinearity::relu, gen);
    auto [m1, s1, x1] = moments(w);
    CHECK(std::abs(m1) < 4 * s1 / std::sqrt(80000.0));
    CHECK(s1 == doctest::Approx(std::sqrt(2.0 / 400)).epsilon(0.01));
    init::kaiming_uniform_(w, 0.0, init::FanMode::fan_out, init::Nonlinearity::relu, gen);
    auto [m2, s2, x2] = moments(w);
    CHECK(s2 == doctest::Approx(std::sqrt(2.0 / 800)).epsilon(0.01));
    CHECK(x2 <= std::sqrt(3.0) * std::sqrt(2.0 / 800));
    init::xavier_uniform_(w, init::calculate_gain(init::Nonlinearity::tanh), gen);
    auto [m3, s3, x3] = moments(w);
    const double xs = 5.0 / 3.0 * std::sqrt(2.0 / 1200);
    CHECK(s3 == doctest::Approx(xs).epsilon(0.01));
    CHECK(x3 <= std::sqrt(3.0) * xs);
    init::xavier_normal_(w, 1.0, gen);
    CHECK(std::get<1>(moments(w)) == doctest::Approx(std::sqrt(2.0 / 1200)).epsilon(0.01));
    init::normal_(w, 2.0, 0.5, gen);
    auto [m5, s5, x5] = moments(w);
    CHECK(m5 == doctest::Approx(2.0).epsilon(0.005));
    CHECK(s5 == doctest::Approx(0.5).epsilon(0.01));
    init::uniform_(w, -3.0, -1.0, gen);
    for (double v : w.to_vector()) CHECK((v >= -3.0 && v < -1.0));
    init::constant_(w, 0.25);
    CHECK(std::get<2>(moments(w)) == 0.25);
    CHECK(init::calculate_gain(init::Nonlinearity::leaky_relu, 0.2) ==
          doctest::Approx(std::sqrt(2.0 / 1.04)));
    CHECK(init::calculate_fan_in_and_fan_out(w) ==
          std::make_pair<std::int64_t, std::int64_t>(400, 800));
    // The same generator state gives the same numbers; the global generator is untouched.
    manual_seed(5);
    double g0 = randn({1}).item();
    Generator a(3), b(3);
    Tensor u = zeros({10}), v = zeros({10});
    manual_seed(5);
    init::normal_(u, 0, 1, a);
    init::normal_(v, 0, 1, b);
    CHECK(u.to_vector() == v.to_vector());
    CHECK(randn({1}).item() == g0);
    CHECK_THROWS_WITH_AS(init::kaiming_uniform_(zeros({3})), doctest::Contains("at least 2 dims"),
                         Error);
    CHECK_THROWS_WITH_AS(init::normal_(zeros({3}, int64)),
                         doctest::Contains("normal_: tensor must be float32 or float64"), Error);
}

TEST_CASE("Dropout: train drops with the layer's generator, eval is the identity") {
    nn::Dropout d(0.3);
    auto gen = std::make_shared<Generator>(42);
    d->set_generator(gen);
    Tensor x = ones({1000}, float64);
    Tensor y1 = d(x);
    auto v = y1.to_vector();
    std::size_t zeros_n = 0;
    for (double e : v) {
        CHECK((e == 0.0 || std::abs(e - 1.0 / 0.7) < 1e-12));
        zeros_n += e == 0.0;
    }
    // Binomial(1000, 0.3): mean 300, sd 14.5.
    CHECK(zeros_n > 240);
    CHECK(zeros_n < 360);
    gen->manual_seed(42);
    CHECK(d(x).to_vector() == v);  // reseeding the layer's stream repeats the mask
    d->eval();
    CHECK(d(x).to_vector() == x.to_vector());
}

TEST_CASE("BatchNorm: train uses batch statistics and updates running ones; eval uses them") {
    nn::BatchNorm1d bn(nn::BatchNormOptions(2).momentum(0.5));
    bn->to(float64);
    Tensor x = tensor({{1.0, 10.0}, {3.0, 30.0}}, float64);
    Tensor y = bn(x);
    check_values(y, {-1, -1, 1, 1}, 1e-4);  // (x - mean) / sqrt(var + eps), biased var = 1, 100
    // running = 0.5 * old + 0.5 * batch (unbiased var: 2, 200).
    check_values(bn->running_mean, {1.0, 10.0});
    check_values(bn->running_var, {1.5, 100.5});
    bn->eval();
    Tensor z = bn(tensor({{1.0, 10.0}}, float64));
    check_values(z, {0.0, 0.0}, 1e-12);
    CHECK(bn->num_batches_tracked.item<std::int64_t>() == 1);  // eval does not count
    // Without running statistics eval also uses the batch.
    nn::BatchNorm1d nb(nn::BatchNormOptions(2).track_running_stats(false));
    nb->eval();
    CHECK(nb->state_dict().keys() == std::vector<std::string>{"weight", "bias"});
    check_values(nb(x.to(float32)), {-1, -1, 1, 1}, 1e-4);
    CHECK_THROWS_WITH_AS(bn(zeros({2, 3}, float64)),
                         doctest::Contains("BatchNorm1d: expected 2 channels (dim 1), input has 3"),
                         Error);
    CHECK_THROWS_WITH_AS(nn::BatchNorm2d(nn::BatchNormOptions(2))(zeros({2, 2})),
                         doctest::Contains("BatchNorm2d: expected 4-D"), Error);
}

TEST_CASE("layer option errors name the layer") {
    CHECK_THROWS_WITH_AS(
        nn::Conv2d(nn::Conv2dOptions(3, 4, 3).groups(2)),
        doctest::Contains("Conv2d: in_channels (3) must be divisible by groups (2)"), Error);
    CHECK_THROWS_WITH_AS(nn::GroupNorm(4, 6), doctest::Contains("GroupNorm: num_channels (6)"),
                         Error);
    CHECK_THROWS_WITH_AS(nn::Linear(3, 4)(zeros({2, 5})),
                         doctest::Contains("linear: weight expects 3 input features, input has 5"),
                         Error);
    auto s = nn::Sequential({nn::ReLU()});
    CHECK_THROWS_WITH_AS(s->at<nn::LinearImpl>(0), doctest::Contains("module 0 is a ReLU"), Error);
    CHECK_THROWS_WITH_AS((*s)[3], doctest::Contains("index 3 is out of range for 1 modules"),
                         Error);
}

// Bad options throw at construction naming the layer; bad sizes reach the functional op at
// forward and throw naming it.
TEST_CASE("layers: bad options and inputs throw naming the layer or its op") {
    const std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
    const std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
    const double nan = std::numeric_limits<double>::quiet_NaN();
    auto x = [](const Shape& s) { return ones(s); };
    using C = nn::Conv2dOptions;
    check_error_rows({
        {"Linear: negative in_features",
         [] { nn::Linear(-1, 2); },
         {"Linear: in_features and out_features must be non-negative"}},
        {"Linear: 2^40 x 2^40 weight exceeds the limit",
         [] { nn::Linear(1l << 40, 1l << 40); },
         {"Linear: shape [1099511627776, 1099511627776]"}},
        {"Linear: 2^19 x 2^20 weight (2 TiB) exceeds the limit",
         [] { nn::Linear(1l << 19, 1l << 20); },
         {"Linear:", "allocation limit"}},
        {"Conv2d: stride 0",
         [] { nn::Conv2d(C(1, 1, 3).stride(0)); },
         {"Conv2d: stride must be positive"}},
        {"Conv2d: padding -1",
         [] { nn::Conv2d(C(1, 1, 3).padding(-1)); },
         {"Conv2d: padding must be non-negative"}},
        {"Conv2d: dilation 0",
         [] { nn::Conv2d(C(1, 1, 3).dilation(0)); },
         {"Conv2d: dilation must be positive"}},
        {"Conv2d: kernel 0",
         [] { nn::Conv2d(C(1, 1, 0)); },
         {"Conv2d: kernel_size must be positive"}},
        {"Conv2d: in_channels 0",
         [] { nn::Conv2d(C(0, 2, 3)); },
         {"Conv2d: in_channels must be positive"}},
        {"Conv2d: 2^30 channels and kernel 2^10 exceed the limit",
         [] { nn::Conv2d(C(1l << 30, 1l << 10, 1l << 10)); },
         {"Conv2d: shape", "too many elements"}},
        {"Conv2d: padding INT64_MAX fails at forward naming the op",
         [=] {
             nn::Conv2d(C(1, 1, 3).padding(kMax))->forward(x({1, 1, 4, 4}));
         },
         {"conv2d:", "overflows int64"}},
        {"ConvTranspose2d: output_padding -1",
         [] { nn::ConvTranspose2d(C(1, 1, 3).output_padding(-1)); },
         {"ConvTranspose2d: output_padding must be non-negative"}},
        {"ConvTranspose2d: stride INT64_MAX fails at forward",
         [=] {
             nn::ConvTranspose2d(C(1, 1, 3).stride(kMax))->forward(x({1, 1, 4, 4}));
         },
         {"conv_transpose2d: the output height overflows int64"}},
        {"MaxPool2d: kernel 0",
         [] { nn::MaxPool2d(nn::MaxPool2dOptions(0)); },
         {"MaxPool2d: kernel_size must be positive"}},
        {"MaxPool2d: stride -1",
         [] { nn::MaxPool2d(nn::MaxPool2dOptions(2).stride(Pair2(-1))); },
         {"MaxPool2d: stride must be positive"}},
        {"MaxPool2d: padding over half the kernel",
         [] { nn::MaxPool2d(nn::MaxPool2dOptions(2).padding(2)); },
         {"MaxPool2d: padding must be non-negative and at most half"}},
        {"AvgPool2d: padding INT64_MIN",
         [=] { nn::AvgPool2d(nn::AvgPool2dOptions(2).padding(kMin)); },
         {"AvgPool2d: padding"}},
        {"AdaptiveAvgPool2d: output 0",
         [] { nn::AdaptiveAvgPool2d(Pair2(0, 2)); },
         {"AdaptiveAvgPool2d: output_size must be positive"}},
        {"AdaptiveAvgPool2d: output 2^40 fails at forward",
         [=] {
             nn::AdaptiveAvgPool2d(Pair2(1l << 40))->forward(x({1, 1, 2, 2}));
         },
         {"adaptive_avg_pool2d:", "too many elements"}},
        {"Dropout: p = 1",
         [] { nn::Dropout(1.0); },
         {"Dropout: p (the drop probability) must be in [0, 1)"}},
        {"Dropout: NaN p", [=] { (void)nn::Dropout(nan); }, {"Dropout:", "got nan"}},
        {"BatchNorm2d: 0 features",
         [] { nn::BatchNorm2d(0); },
         {"BatchNorm2d: num_features must be positive"}},
        {"BatchNorm2d: eps 0",
         [] { nn::BatchNorm2d(nn::BatchNormOptions(3).eps(0)); },
         {"BatchNorm2d: eps must be positive"}},
        {"BatchNorm2d: NaN eps",
         [=] { nn::BatchNorm2d(nn::BatchNormOptions(3).eps(nan)); },
         {"BatchNorm2d: eps must be positive"}},
        {"BatchNorm2d: momentum 2",
         [] { nn::BatchNorm2d(nn::BatchNormOptions(3).momentum(2.0)); },
         {"BatchNorm2d:", "momentum"}},
        {"BatchNorm2d: forward with the wrong channels",
         [=] {
             nn::BatchNorm2d(3)->forward(x({2, 4, 2, 2}));
         },
         {"BatchNorm2d:"}},
        {"LayerNorm: empty normalized_shape",
         [] { nn::LayerNorm(nn::LayerNormOptions({})); },
         {"LayerNorm: normalized_shape must not be empty"}},
        {"LayerNorm: negative size",
         [] { nn::LayerNorm(nn::LayerNormOptions({-3})); },
         {"LayerNorm: normalized_shape must be positive"}},
        {"MSELoss: invalid Reduction at forward",
         [=] { nn::MSELoss(static_cast<Reduction>(9))->forward(x({2}), x({2})); },
         {"mse_loss: invalid reduction 9"}},
        {"Flatten: dims out of range at forward",
         [=] {
             nn::Flatten(nn::FlattenOptions().start_dim(5).end_dim(6))->forward(x({2, 3}));
         },
         {"flatten:", "dim"}},
    });
}

TEST_CASE("gradcheck: a Sequential CNN with every layer type, float64") {
    manual_seed(12);
    auto net = every_layer_cnn();
    net->to(float64);
    Tensor x = randn({3, 2, 6, 6}, float64);
    // Input gradient through the whole stack with the library's gradcheck.
    auto r =
        gradcheck([&](const TensorList& in) { return net(in[0]); }, {x.clone().requires_grad_()});
    CHECK_MESSAGE(r, r.log);
    // Every parameter, against central differences.
    Tensor gout = randn({3, 5}, float64);
    check_model_gradients(*net, [&] { return mul(net(x), gout).sum(); });
}

TEST_CASE("Sequential: push_back, indexing and printing") {
    nn::Sequential s;
    s->push_back(nn::Linear(2, 3));
    s->push_back("act", nn::Tanh());
    CHECK(s->size() == 2);
    CHECK(s->named_children()[1].first == "act");
    CHECK(s->at<nn::LinearImpl>(0)->options.out_features() == 3);
    CHECK(s(zeros({4, 2})).shape() == Shape{4, 3});
    std::ostringstream os;
    os << *s;
    CHECK(os.str() ==
          "Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=True)\n"
          "  (act): Tanh()\n)");
}

// The libtorch side of bench_steps: the same models, inputs and steps as xgrad_cases.cpp, written
// as a libtorch user would (torch::nn modules, torch::optim).
#include "bench/bench_steps.hpp"

#ifdef XGRAD_WITH_TORCH
#include <torch/torch.h>

#include <chrono>
#include <limits>

#include "bench/bench_util.hpp"
#include "data/mnist.hpp"  // the IDX files are decoded by xgrad's reader on both sides
#endif

namespace xg::bench {

#ifndef XGRAD_WITH_TORCH
bool torch_available() {
    return false;
}
bool lenet_epoch_torch(int, EpochFigures&) {
    return false;
}
double run_torch(const Case&, int, int) {
    return -1;
}
#else
bool torch_available() {
    return true;
}

namespace {
namespace tnn = torch::nn;

torch::Tensor labels(long n) {
    return torch::arange(n, torch::kLong).mul(7).remainder(10);
}

tnn::Sequential lenet5() {
    return tnn::Sequential(tnn::Conv2d(tnn::Conv2dOptions(1, 6, 5).padding(2)), tnn::ReLU(),
                           tnn::MaxPool2d(2), tnn::Conv2d(6, 16, 5), tnn::ReLU(), tnn::MaxPool2d(2),
                           tnn::Flatten(), tnn::Linear(400, 120), tnn::ReLU(), tnn::Linear(120, 84),
                           tnn::ReLU(), tnn::Linear(84, 10));
}

tnn::Sequential three_layer_convnet() {
    return tnn::Sequential(tnn::Conv2d(tnn::Conv2dOptions(3, 32, 7).padding(3)), tnn::ReLU(),
                           tnn::MaxPool2d(2), tnn::Flatten(), tnn::Linear(32 * 16 * 16, 100),
                           tnn::ReLU(), tnn::Linear(100, 10));
}

tnn::Sequential fcn() {
    return tnn::Sequential(tnn::Linear(784, 100), tnn::BatchNorm1d(100), tnn::ReLU(),
                           tnn::Dropout(0.5), tnn::Linear(100, 100), tnn::BatchNorm1d(100),
                           tnn::ReLU(), tnn::Dropout(0.5), tnn::Linear(100, 10));
}

tnn::Sequential small_cnn(long c) {
    return tnn::Sequential(tnn::Conv2d(tnn::Conv2dOptions(1, c, 3).padding(1)), tnn::BatchNorm2d(c),
                           tnn::ReLU(), tnn::MaxPool2d(2),
                           tnn::Conv2d(tnn::Conv2dOptions(c, 2 * c, 3).padding(1)),
                           tnn::BatchNorm2d(2 * c), tnn::ReLU(), tnn::MaxPool2d(2), tnn::Flatten(),
                           tnn::Dropout(0.25), tnn::Linear(2 * c * 7 * 7, 10));
}

void train_step(tnn::Sequential& model, torch::optim::Optimizer& opt, const torch::Tensor& x,
                const torch::Tensor& y) {
    opt.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(model->forward(x), y);
    loss.backward();
    opt.step();
}

// Peak: the highest resident set during 200 steps above the one before the model was made (both
// programs carry libtorch's and xgrad's code). Growth: percent from step 100 to step 1000.
double lenet_memory(bool growth) {
    const double start = rss_mb();
    auto model = lenet5();
    torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
    auto x = torch::randn({64, 1, 28, 28}), y = labels(64);
    if (!growth) {
        for (int i = 0; i < 200; ++i) train_step(model, opt, x, y);
        return peak_rss_mb() - start;
    }
    for (int i = 0; i < 100; ++i) train_step(model, opt, x, y);
    double at100 = rss_mb();
    for (int i = 100; i < 1000; ++i) train_step(model, opt, x, y);
    return 100.0 * (rss_mb() - at100) / at100;
}

// A split as one normalized image tensor and its labels, decoded by xgrad's IDX reader.
std::pair<torch::Tensor, torch::Tensor> fashion(xg::data::Split split) {
    xg::data::FashionMNIST ds(split);
    const auto& px = ds.pixels();
    const long n = static_cast<long>(ds.size());
    auto images =
        torch::from_blob(const_cast<std::uint8_t*>(px.data()), {n, 1, 28, 28}, torch::kUInt8)
            .to(torch::kFloat)
            .div_(255)
            .sub_(0.2860)
            .div_(0.3530);
    const auto& yl = ds.labels().data<std::int64_t>();
    return {images,
            torch::from_blob(const_cast<std::int64_t*>(yl.data()), {n}, torch::kLong).clone()};
}

// One epoch as a libtorch user writes it without torchvision: the images in one tensor,
// normalized once, a shuffled index per epoch, index_select per batch.
double epoch_seconds() {
    auto t0 = std::chrono::steady_clock::now();
    auto [images, targets] = fashion(xg::data::Split::train);
    const long n = images.size(0);
    auto model = small_cnn(16);
    torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(2e-3));
    model->train();
    auto order = torch::randperm(n, torch::kLong);
    for (long s = 0; s < n; s += 64) {
        auto idx = order.slice(0, s, std::min(n, s + 64));
        train_step(model, opt, images.index_select(0, idx), targets.index_select(0, idx));
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double conv(const std::string& name, int reps) {
    const ConvShape& s = conv_shape(name);
    auto x = torch::randn({s.n, s.c, s.h, s.w});
    auto w = torch::randn({s.f, s.c, s.k, s.k});
    auto b = torch::randn({s.f});
    if (name.find("fwdbwd") == std::string::npos) {
        return median_ms(
            [&] {
                torch::NoGradGuard ng;
                torch::conv2d(x, w, b, 1, s.pad);
            },
            reps);
    }
    x.requires_grad_(), w.requires_grad_(), b.requires_grad_();
    torch::Tensor gy;
    {
        torch::NoGradGuard ng;
        gy = torch::randn(torch::conv2d(x, w, b, 1, s.pad).sizes());
    }
    return median_ms(
        [&] {
            auto y = torch::conv2d(x, w, b, 1, s.pad);
            y.backward(gy);
            x.mutable_grad().reset(), w.mutable_grad().reset(), b.mutable_grad().reset();
        },
        reps);
}

constexpr long kLstmIn = 128, kLstmHidden = 256, kSeqT = 64, kBatch = 32, kVocab = 96;
constexpr long kGptD = 128, kGptHeads = 4, kGptLayers = 4, kGptT = 128;

struct GptBlockImpl : tnn::Module {
    tnn::LayerNorm ln1{nullptr}, ln2{nullptr};
    tnn::MultiheadAttention attn{nullptr};
    tnn::Linear fc1{nullptr}, fc2{nullptr};
    GptBlockImpl() {
        ln1 = register_module("ln1", tnn::LayerNorm(tnn::LayerNormOptions({kGptD})));
        attn = register_module("attn", tnn::MultiheadAttention(kGptD, kGptHeads));
        ln2 = register_module("ln2", tnn::LayerNorm(tnn::LayerNormOptions({kGptD})));
        fc1 = register_module("fc1", tnn::Linear(kGptD, 4 * kGptD));
        fc2 = register_module("fc2", tnn::Linear(4 * kGptD, kGptD));
    }
    // x (T, N, E): libtorch 1.13's MultiheadAttention has no batch_first.
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask) {
        auto h = ln1(x);
        auto y = x + std::get<0>(attn(h, h, h, torch::Tensor(), false, mask));
        return y + fc2(torch::gelu(fc1(ln2(y))));
    }
};
TORCH_MODULE(GptBlock);

struct GptImpl : tnn::Module {
    tnn::Embedding tok{nullptr}, pos{nullptr};
    std::vector<GptBlock> blocks;
    tnn::LayerNorm ln{nullptr};
    tnn::Linear head{nullptr};
    torch::Tensor mask =
        torch::triu(torch::full({kGptT, kGptT}, -std::numeric_limits<float>::infinity()), 1);
    torch::Tensor positions = torch::arange(kGptT);
    GptImpl() {
        tok = register_module("tok", tnn::Embedding(kVocab, kGptD));
        pos = register_module("pos", tnn::Embedding(kGptT, kGptD));
        for (long i = 0; i < kGptLayers; ++i)
            blocks.push_back(register_module("h" + std::to_string(i), GptBlock()));
        ln = register_module("ln", tnn::LayerNorm(tnn::LayerNormOptions({kGptD})));
        head = register_module("head", tnn::Linear(kGptD, kVocab));
    }
    torch::Tensor forward(const torch::Tensor& idx) {
        auto x = (tok(idx) + pos(positions)).transpose(0, 1);
        for (auto& b : blocks) x = b(x, mask);
        return head(ln(x.transpose(0, 1)));
    }
};
TORCH_MODULE(Gpt);

double lstm_step(int reps) {
    tnn::LSTM lstm(tnn::LSTMOptions(kLstmIn, kLstmHidden).num_layers(2).batch_first(true));
    tnn::Linear head(kLstmHidden, kVocab);
    auto params = lstm->parameters();
    for (auto& p : head->parameters()) params.push_back(p);
    torch::optim::Adam opt(params, torch::optim::AdamOptions(1e-3));
    auto x = torch::randn({kBatch, kSeqT, kLstmIn});
    auto y = torch::randint(kVocab, {kBatch * kSeqT}, torch::kLong);
    return median_ms(
        [&] {
            opt.zero_grad();
            auto out = std::get<0>(lstm(x));
            auto loss = torch::nn::functional::cross_entropy(
                head(out).reshape({kBatch * kSeqT, kVocab}), y);
            loss.backward();
            opt.step();
        },
        reps, 3);
}

double gpt_step(int reps) {
    Gpt model;
    torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-3));
    auto x = torch::randint(kVocab, {kBatch, kGptT}, torch::kLong);
    auto y = torch::randint(kVocab, {kBatch * kGptT}, torch::kLong);
    return median_ms(
        [&] {
            opt.zero_grad();
            auto loss =
                torch::nn::functional::cross_entropy(model(x).reshape({kBatch * kGptT, kVocab}), y);
            loss.backward();
            opt.step();
        },
        reps, 3);
}

}  // namespace

bool lenet_epoch_torch(int threads, EpochFigures& out) {
    if (threads > 0) torch::set_num_threads(threads);
    torch::manual_seed(0);
    auto t0 = std::chrono::steady_clock::now();
    auto [images, targets] = fashion(xg::data::Split::train);
    const long n = images.size(0);
    auto model = lenet5();
    torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
    model->train();
    auto order = torch::randperm(n, torch::kLong);
    for (long s = 0; s < n; s += 64) {
        auto idx = order.slice(0, s, std::min(n, s + 64));
        train_step(model, opt, images.index_select(0, idx), targets.index_select(0, idx));
    }
    auto t1 = std::chrono::steady_clock::now();
    auto [test_x, test_y] = fashion(xg::data::Split::test);
    torch::NoGradGuard no_grad;
    model->eval();
    long right = 0;
    for (long s = 0; s < test_x.size(0); s += 1000) {
        long e = std::min(test_x.size(0), s + 1000);
        right += model->forward(test_x.slice(0, s, e))
                     .argmax(1)
                     .eq(test_y.slice(0, s, e))
                     .sum()
                     .item<long>();
    }
    auto t2 = std::chrono::steady_clock::now();
    out.train_s = std::chrono::duration<double>(t1 - t0).count();
    out.test_s = std::chrono::duration<double>(t2 - t1).count();
    out.accuracy = 100.0 * double(right) / double(test_x.size(0));
    return true;
}

double run_torch(const Case& c, int reps, int threads) {
    if (threads > 0) torch::set_num_threads(threads);
    torch::manual_seed(0);
    if (c.name == "lenet") {
        auto model = lenet5();
        torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
        auto x = torch::randn({64, 1, 28, 28}), y = labels(64);
        return median_ms([&] { train_step(model, opt, x, y); }, reps, 5);
    }
    if (c.name == "convnet") {
        auto model = three_layer_convnet();
        torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-3));
        auto x = torch::randn({50, 3, 32, 32}), y = labels(50);
        return median_ms([&] { train_step(model, opt, x, y); }, reps, 5);
    }
    if (c.name == "fcn") {
        auto model = fcn();
        torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-3));
        auto x = torch::randn({200, 784}), y = labels(200);
        return median_ms([&] { train_step(model, opt, x, y); }, reps, 5);
    }
    if (c.name == "epoch") return epoch_seconds();
    if (c.name == "lstm") return lstm_step(reps);
    if (c.name == "gpt") return gpt_step(reps);
    if (c.name.compare(0, 4, "conv") == 0) return conv(c.name, reps);
    if (c.name == "sgemm") {
        auto a = torch::ones({1024, 1024}), b = torch::full({1024, 1024}, 0.5);
        auto out = torch::empty({1024, 1024});
        return median_ms([&] { torch::mm_out(out, a, b); }, reps, 2);
    }
    if (c.name == "overhead") {
        auto a = torch::randn({16}).requires_grad_(), c0 = torch::randn({16}).requires_grad_();
        return median_ms(
            [&] {
                auto t = c0;
                for (int i = 0; i < 250; ++i) t = torch::tanh(t * a + 0.5) - a;
                t.sum().backward();
                a.mutable_grad().reset(), c0.mutable_grad().reset();
            },
            reps, 3);
    }
    if (c.name == "peak_rss") return lenet_memory(false);
    if (c.name == "rss_growth") return lenet_memory(true);
    return -1;
}
#endif

}  // namespace xg::bench

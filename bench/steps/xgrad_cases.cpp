// The xgrad side of bench_steps: the same models, inputs and steps as torch_cases.cpp.
#include <chrono>
#include <memory>

#include "bench/bench_steps.hpp"
#include "bench/bench_util.hpp"
#include "xgrad.hpp"

namespace xg::bench {

namespace {

Tensor labels(std::size_t n) {
    xt::xarray<std::int64_t> y = xt::zeros<std::int64_t>({n});
    for (std::size_t i = 0; i < n; ++i) y(i) = static_cast<std::int64_t>((i * 7) % 10);
    return Tensor(std::move(y));
}

template <class Model>
void train_step(Model& model, optim::Optimizer& opt, const Tensor& x, const Tensor& y) {
    opt.zero_grad();
    Tensor loss = cross_entropy(model(x), y);
    loss.backward();
    opt.step();
}

// Peak: the highest resident set during 200 steps above the one before the model was made (both
// programs carry libtorch's and xgrad's code). Growth: percent from step 100 to step 1000.
double lenet_memory(bool growth) {
    const double start = rss_mb();
    nn::Sequential model = nn::lenet5();
    optim::SGD opt(model->parameters(), optim::SGDOptions(0.01).momentum(0.9));
    Tensor x = randn({64, 1, 28, 28}), y = labels(64);
    if (!growth) {
        for (int i = 0; i < 200; ++i) train_step(model, opt, x, y);
        return peak_rss_mb() - start;
    }
    for (int i = 0; i < 100; ++i) train_step(model, opt, x, y);
    double at100 = rss_mb();
    for (int i = 100; i < 1000; ++i) train_step(model, opt, x, y);
    return 100.0 * (rss_mb() - at100) / at100;
}

double epoch_seconds() {
    auto t0 = std::chrono::steady_clock::now();
    auto train = std::make_shared<data::FashionMNIST>(data::Split::train);
    data::Normalize normalize({0.2860}, {0.3530});
    data::DataLoaderOptions lo;
    lo.batch_size(64);
    lo.shuffle(true);
    lo.seed(0);
    lo.transform([normalize](const Tensor& x, Generator&) { return normalize(x); });
    data::DataLoader loader(train, lo);
    nn::Sequential model = nn::small_cnn(16);
    optim::Adam opt(model->parameters(), optim::AdamOptions(2e-3));
    model->train();
    for (auto& batch : loader) train_step(model, opt, batch.images, batch.labels);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

data::DataLoader<> fashion_loader(data::Split split, bool shuffle, std::size_t batch) {
    data::Normalize normalize({0.2860}, {0.3530});
    data::DataLoaderOptions lo;
    lo.batch_size(batch);
    lo.shuffle(shuffle);
    lo.seed(0);
    lo.transform([normalize](const Tensor& x, Generator&) { return normalize(x); });
    return data::DataLoader<>(std::make_shared<data::FashionMNIST>(split), lo);
}

double conv(const std::string& name, int reps) {
    const ConvShape& s = conv_shape(name);
    Tensor x = randn({std::size_t(s.n), std::size_t(s.c), std::size_t(s.h), std::size_t(s.w)});
    Tensor w = randn({std::size_t(s.f), std::size_t(s.c), std::size_t(s.k), std::size_t(s.k)});
    Tensor b = randn({std::size_t(s.f)});
    auto o = Conv2dFuncOptions().padding(s.pad);
    if (name.find("fwdbwd") == std::string::npos) {
        return median_ms(
            [&] {
                NoGradGuard ng;
                conv2d(x, w, b, o);
            },
            reps);
    }
    x.requires_grad_(), w.requires_grad_(), b.requires_grad_();
    Tensor gy = randn(conv2d(x.detach(), w.detach(), b.detach(), o).shape());
    return median_ms(
        [&] {
            Tensor y = conv2d(x, w, b, o);
            backward({y}, {gy});
            x.zero_grad(), w.zero_grad(), b.zero_grad();
        },
        reps);
}

// The sequence cases: shapes of issue [seq] item 5, the same on both sides.
constexpr std::int64_t kLstmIn = 128, kLstmHidden = 256, kSeqT = 64, kBatch = 32, kVocab = 96;
constexpr std::int64_t kGptD = 128, kGptHeads = 4, kGptLayers = 4, kGptT = 128;

// Pre-norm GPT block: x + attn(ln1(x)), then x + mlp(ln2(x)), causal self-attention.
struct GptBlock : nn::Module {
    nn::LayerNorm ln1{nullptr}, ln2{nullptr};
    nn::MultiheadAttention attn{nullptr};
    nn::Linear fc1{nullptr}, fc2{nullptr};
    GptBlock() {
        ln1 = register_module("ln1", nn::LayerNorm(nn::LayerNormOptions({kGptD})));
        attn = register_module(
            "attn", nn::MultiheadAttention(
                        nn::MultiheadAttentionOptions(kGptD, kGptHeads).batch_first(true)));
        ln2 = register_module("ln2", nn::LayerNorm(nn::LayerNormOptions({kGptD})));
        fc1 = register_module("fc1", nn::Linear(kGptD, 4 * kGptD));
        fc2 = register_module("fc2", nn::Linear(4 * kGptD, kGptD));
    }
    Tensor forward(const Tensor& x, const Tensor& mask) {
        Tensor h = ln1(x);
        Tensor y = x + std::get<0>(attn(h, h, h, Tensor(), false, mask));
        return y + fc2(gelu(fc1(ln2(y))));
    }
};

struct Gpt : nn::Module {
    nn::Embedding tok{nullptr}, pos{nullptr};
    std::vector<std::shared_ptr<GptBlock>> blocks;
    nn::LayerNorm ln{nullptr};
    nn::Linear head{nullptr};
    Tensor mask = nn::generate_square_subsequent_mask(kGptT),
           positions = arange(double(kGptT), int64);
    Gpt() {
        tok = register_module("tok", nn::Embedding(kVocab, kGptD));
        pos = register_module("pos", nn::Embedding(kGptT, kGptD));
        for (int i = 0; i < kGptLayers; ++i)
            blocks.push_back(
                register_module("h" + std::to_string(i), std::make_shared<GptBlock>()));
        ln = register_module("ln", nn::LayerNorm(nn::LayerNormOptions({kGptD})));
        head = register_module("head", nn::Linear(kGptD, kVocab));
    }
    Tensor forward(const Tensor& idx) {
        Tensor x = tok(idx) + pos(positions);
        for (auto& b : blocks) x = b->forward(x, mask);
        return head(ln(x));
    }
};

Tensor tokens(std::int64_t n, std::int64_t t) {
    return randint(0, kVocab, {std::size_t(n), std::size_t(t)});
}

double lstm_step(int reps) {
    nn::LSTM lstm(nn::LSTMOptions(kLstmIn, kLstmHidden).num_layers(2).batch_first(true));
    nn::Linear head(kLstmHidden, kVocab);
    auto params = lstm->parameters();
    for (auto& p : head->parameters()) params.push_back(p);
    optim::Adam opt(params, optim::AdamOptions(1e-3));
    Tensor x = randn({std::size_t(kBatch), std::size_t(kSeqT), std::size_t(kLstmIn)});
    Tensor y = tokens(kBatch, kSeqT).reshape({kBatch * kSeqT});
    return median_ms(
        [&] {
            opt.zero_grad();
            Tensor out = std::get<0>(lstm(x));
            Tensor loss = cross_entropy(head(out).reshape({kBatch * kSeqT, kVocab}), y);
            loss.backward();
            opt.step();
        },
        reps, 3);
}

double gpt_step(int reps) {
    auto model = std::make_shared<Gpt>();
    optim::Adam opt(model->parameters(), optim::AdamOptions(1e-3));
    Tensor x = tokens(kBatch, kGptT), y = tokens(kBatch, kGptT).reshape({kBatch * kGptT});
    return median_ms(
        [&] {
            opt.zero_grad();
            Tensor loss = cross_entropy(model->forward(x).reshape({kBatch * kGptT, kVocab}), y);
            loss.backward();
            opt.step();
        },
        reps, 3);
}

}  // namespace

// As examples/train_cnn.cpp trains: the data loader (loading and normalizing timed with the
// epoch), then the test set in eval mode without recording, in batches of 1000.
bool lenet_epoch_xgrad(int threads, EpochFigures& out) {
    if (threads > 0) set_num_threads(threads);
    manual_seed(0);
    auto t0 = std::chrono::steady_clock::now();
    data::DataLoader train = fashion_loader(data::Split::train, true, 64);
    nn::Sequential model = nn::lenet5();
    optim::SGD opt(model->parameters(), optim::SGDOptions(0.05).momentum(0.9));
    model->train();
    for (auto& batch : train) train_step(model, opt, batch.images, batch.labels);
    auto t1 = std::chrono::steady_clock::now();
    data::DataLoader test = fashion_loader(data::Split::test, false, 1000);
    NoGradGuard no_grad;
    model->eval();
    double right = 0, seen = 0;
    for (auto& batch : test) {
        right += eq(argmax(model(batch.images), 1), batch.labels).sum().item();
        seen += double(batch.size());
    }
    auto t2 = std::chrono::steady_clock::now();
    out.train_s = std::chrono::duration<double>(t1 - t0).count();
    out.test_s = std::chrono::duration<double>(t2 - t1).count();
    out.accuracy = 100 * right / seen;
    return true;
}

double run_xgrad(const Case& c, int reps, int threads) {
    if (threads > 0) set_num_threads(threads);
    manual_seed(0);
    if (c.name == "lenet") {
        nn::Sequential model = nn::lenet5();
        optim::SGD opt(model->parameters(), optim::SGDOptions(0.01).momentum(0.9));
        Tensor x = randn({64, 1, 28, 28}), y = labels(64);
        return median_ms([&] { train_step(model, opt, x, y); }, reps, 5);
    }
    if (c.name == "convnet") {
        nn::ThreeLayerConvNet model;
        optim::Adam opt(model->parameters(), optim::AdamOptions(1e-3));
        Tensor x = randn({50, 3, 32, 32}), y = labels(50);
        return median_ms([&] { train_step(model, opt, x, y); }, reps, 5);
    }
    if (c.name == "fcn") {
        nn::FullyConnectedNet model(nn::FullyConnectedNetOptions({100, 100})
                                        .input_dim(784)
                                        .dropout_keep_ratio(0.5)
                                        .normalization(nn::Normalization::batchnorm));
        optim::Adam opt(model->parameters(), optim::AdamOptions(1e-3));
        Tensor x = randn({200, 784}), y = labels(200);
        return median_ms([&] { train_step(model, opt, x, y); }, reps, 5);
    }
    if (c.name == "epoch") return epoch_seconds();
    if (c.name == "lstm") return lstm_step(reps);
    if (c.name == "gpt") return gpt_step(reps);
    if (c.name.compare(0, 4, "conv") == 0) return conv(c.name, reps);
    if (c.name == "sgemm") {
        const std::size_t m = 1024;
        std::vector<float> a(m * m, 1.0f), b(m * m, 0.5f), out(m * m);
        return median_ms(
            [&] {
                detail::gemm(false, false, m, m, m, 1.0f, a.data(), m, b.data(), m, 0.0f,
                             out.data(), m);
            },
            reps, 2);
    }
    if (c.name == "overhead") {
        Tensor a = randn({16}).requires_grad_(), c0 = randn({16}).requires_grad_();
        return median_ms(
            [&] {
                Tensor t = c0;
                for (int i = 0; i < 250; ++i) t = tanh(t * a + 0.5) - a;
                t.sum().backward();
                a.zero_grad(), c0.zero_grad();
            },
            reps, 3);
    }
    if (c.name == "peak_rss") return lenet_memory(false);
    if (c.name == "rss_growth") return lenet_memory(true);
    return -1;
}

}  // namespace xg::bench

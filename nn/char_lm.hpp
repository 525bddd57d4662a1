#pragma once
// The character-level language models of examples/train_lm.cpp (here for its tests too): a small
// GPT (token and learned position embeddings, pre-norm Transformer blocks with causal
// self-attention and a GELU MLP, a final LayerNorm, a linear head) and an LSTM. Both map token
// ids [B, T] (int64) to next-token logits [B, T, vocab]. bench/lm_torch.py is the same GPT in
// PyTorch, with the same parameter names and initialization.
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/grad_mode.hpp"
#include "core/random.hpp"
#include "core/tensor.hpp"
#include "nn/containers.hpp"
#include "nn/embedding.hpp"
#include "nn/init.hpp"
#include "nn/layers.hpp"
#include "nn/module.hpp"
#include "nn/norm.hpp"
#include "nn/rnn.hpp"
#include "ops/attention.hpp"
#include "ops/elementwise.hpp"
#include "ops/factories.hpp"
#include "ops/logical.hpp"
#include "ops/loss.hpp"
#include "ops/math.hpp"
#include "ops/random.hpp"
#include "ops/shape.hpp"
#include "ops/sort.hpp"

namespace xg::nn::lm {

struct Config {
    std::string model = "gpt";  // or "lstm"
    std::int64_t vocab = 0, context = 128, layers = 4, width = 128, heads = 4;
    double dropout = 0.0;
};

// What the training loop and the sampler need of a model.
class LanguageModel : public xg::nn::Module {
  public:
    explicit LanguageModel(const char* name, const Config& c) : Module(name), config(c) {}
    // ids [B, T] int64 with T <= config.context: logits [B, T, vocab].
    virtual xg::Tensor forward(const xg::Tensor& ids) = 0;
    Config config;
};

// Multi-head self-attention where position t sees positions <= t: one projection to q, k, v
// (c_attn), scaled_dot_product_attention with is_causal, an output projection (c_proj).
class CausalSelfAttention : public xg::nn::Module {
  public:
    explicit CausalSelfAttention(const Config& c)
        : Module("CausalSelfAttention"), heads_(c.heads), dropout_(c.dropout) {
        c_attn = register_module("c_attn", xg::nn::Linear(c.width, 3 * c.width));
        c_proj = register_module("c_proj", xg::nn::Linear(c.width, c.width));
    }
    xg::Tensor forward(const xg::Tensor& x) {
        const auto B = std::int64_t(x.size(0)), T = std::int64_t(x.size(1)),
                   C = std::int64_t(x.size(2));
        xg::Tensor qkv = c_attn(x);
        auto head = [&](std::int64_t i) {  // [B, H, T, C / H]
            return xg::slice(qkv, 2, i * C, (i + 1) * C)
                .reshape({B, T, heads_, C / heads_})
                .transpose(1, 2);
        };
        xg::Tensor y = xg::scaled_dot_product_attention(head(0), head(1), head(2), xg::Tensor(),
                                                        is_training() ? dropout_ : 0.0, true);
        return c_proj(y.transpose(1, 2).reshape({B, T, C}));
    }
    xg::nn::Linear c_attn{nullptr}, c_proj{nullptr};

  private:
    std::int64_t heads_;
    double dropout_;
};

// x = x + attn(ln_1(x)); x = x + mlp(ln_2(x)), mlp = c_proj(gelu(c_fc(x))).
class Block : public xg::nn::Module {
  public:
    explicit Block(const Config& c) : Module("Block") {
        ln_1 = register_module("ln_1", xg::nn::LayerNorm(xg::nn::LayerNormOptions({c.width})));
        attn = register_module("attn", std::make_shared<CausalSelfAttention>(c));
        ln_2 = register_module("ln_2", xg::nn::LayerNorm(xg::nn::LayerNormOptions({c.width})));
        c_fc = register_module("c_fc", xg::nn::Linear(c.width, 4 * c.width));
        c_proj = register_module("c_proj", xg::nn::Linear(4 * c.width, c.width));
    }
    xg::Tensor forward(const xg::Tensor& x) {
        xg::Tensor h = x + attn->forward(ln_1(x));
        return h + c_proj(xg::gelu(c_fc(ln_2(h))));
    }
    xg::nn::LayerNorm ln_1{nullptr}, ln_2{nullptr};
    std::shared_ptr<CausalSelfAttention> attn;
    xg::nn::Linear c_fc{nullptr}, c_proj{nullptr};
};

class GPT : public LanguageModel {
  public:
    explicit GPT(const Config& c, xg::Generator& gen = xg::default_generator())
        : LanguageModel("GPT", c) {
        XG_CHECK(
            c.vocab > 0 && c.context > 0 && c.layers > 0 && c.heads > 0 && c.width % c.heads == 0,
            "GPT: needs vocab, context, layers and heads > 0 and width divisible by heads, "
            "got vocab {} context {} layers {} width {} heads {}",
            c.vocab, c.context, c.layers, c.width, c.heads);
        wte = register_module("wte", xg::nn::Embedding(c.vocab, c.width));
        wpe = register_module("wpe", xg::nn::Embedding(c.context, c.width));
        h = register_module("h", xg::nn::ModuleList());
        for (std::int64_t i = 0; i < c.layers; ++i) {
            blocks.push_back(std::make_shared<Block>(c));
            h->push_back(blocks.back());
        }
        ln_f = register_module("ln_f", xg::nn::LayerNorm(xg::nn::LayerNormOptions({c.width})));
        lm_head = register_module(
            "lm_head", xg::nn::Linear(xg::nn::LinearOptions(c.width, c.vocab).bias(false)));
        init_weights(gen);
    }
    // GPT-2's: every Linear and Embedding weight N(0, 0.02), biases 0, the projections into
    // the residual stream N(0, 0.02 / sqrt(2 * layers)); LayerNorms stay (1, 0).
    void init_weights(xg::Generator& gen) {
        xg::NoGradGuard no_grad;
        for (auto& item : named_parameters()) {
            const std::string& name = item.first;
            const xg::Tensor& p = item.second;
            auto ends_with = [&](const std::string& tail) {
                return name.size() >= tail.size() &&
                       name.compare(name.size() - tail.size(), tail.size(), tail) == 0;
            };
            if (name.find("ln_") != std::string::npos) continue;
            const bool residual = ends_with("c_proj.weight");
            if (ends_with(".bias")) {
                xg::nn::init::zeros_(p);
            } else {
                const double std = residual ? 0.02 / std::sqrt(2.0 * double(config.layers)) : 0.02;
                xg::nn::init::normal_(p, 0.0, std, gen);
            }
        }
    }
    xg::Tensor forward(const xg::Tensor& ids) override {
        XG_CHECK(ids.dim() == 2 && std::int64_t(ids.size(1)) <= config.context,
                 "GPT: expected ids [B, T] with T <= context {}, got shape {}", config.context,
                 ids.shape());
        const auto T = std::int64_t(ids.size(1));
        xg::Tensor x = wte(ids) + wpe(xg::arange(0, double(T), 1.0, xg::int64));
        for (auto& b : blocks) x = b->forward(x);
        return lm_head(ln_f(x));
    }
    xg::nn::Embedding wte{nullptr}, wpe{nullptr};
    xg::nn::ModuleList h{nullptr};
    std::vector<std::shared_ptr<Block>> blocks;  // h's blocks, typed
    xg::nn::LayerNorm ln_f{nullptr};
    xg::nn::Linear lm_head{nullptr};
};

// Embedding (width), an LSTM of `layers` layers of `width` (batch_first), a linear head.
class LSTMModel : public LanguageModel {
  public:
    explicit LSTMModel(const Config& c) : LanguageModel("LSTMModel", c) {
        XG_CHECK(c.vocab > 0 && c.layers > 0 && c.width > 0,
                 "LSTMModel: needs vocab, layers and width > 0, got {} {} {}", c.vocab, c.layers,
                 c.width);
        embed = register_module("embed", xg::nn::Embedding(c.vocab, c.width));
        lstm = register_module("lstm", xg::nn::LSTM(xg::nn::LSTMOptions(c.width, c.width)
                                                        .num_layers(c.layers)
                                                        .batch_first(true)
                                                        .dropout(c.layers > 1 ? c.dropout : 0.0)));
        head = register_module("head", xg::nn::Linear(c.width, c.vocab));
    }
    xg::Tensor forward(const xg::Tensor& ids) override {
        XG_CHECK(ids.dim() == 2, "LSTMModel: expected ids [B, T], got shape {}", ids.shape());
        return head(std::get<0>(lstm(embed(ids))));
    }
    xg::nn::Embedding embed{nullptr};
    xg::nn::LSTM lstm{nullptr};
    xg::nn::Linear head{nullptr};
};

inline std::shared_ptr<LanguageModel> make_model(const Config& c) {
    if (c.model == "gpt") return std::make_shared<GPT>(c);
    XG_CHECK(c.model == "lstm", "make_model: unknown model '{}' (gpt or lstm)", c.model);
    return std::make_shared<LSTMModel>(c);
}

// Mean cross-entropy (nats per token) of logits [B, T, V] against targets [B, T].
inline xg::Tensor lm_loss(const xg::Tensor& logits, const xg::Tensor& targets) {
    const auto V = std::int64_t(logits.size(2));
    return xg::cross_entropy(logits.reshape({-1, V}), targets.reshape({-1}));
}

// Draws `n` tokens after `prompt` (ids, non-empty), each from the model's distribution for the
// last `context` tokens, with temperature (> 0) and top_k (0: all); deterministic for gen.
inline std::vector<std::int64_t> sample(LanguageModel& model, std::vector<std::int64_t> ids,
                                        std::size_t n, double temperature, std::int64_t top_k,
                                        xg::Generator& gen) {
    XG_CHECK(!ids.empty(), "sample: the prompt is empty");
    XG_CHECK(temperature > 0, "sample: the temperature must be > 0, got {}", temperature);
    xg::NoGradGuard no_grad;
    const bool was_training = model.is_training();
    model.eval();
    const auto V = model.config.vocab;
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t T = std::min(ids.size(), std::size_t(model.config.context));
        std::vector<std::int64_t> window(ids.end() - std::ptrdiff_t(T), ids.end());
        xg::Tensor x = xg::tensor(window, xg::Shape{1, T});
        xg::Tensor logits = model.forward(x).reshape({-1, V});
        logits =
            xg::slice(logits, 0, std::int64_t(T) - 1, std::int64_t(T)).reshape({V}) / temperature;
        if (top_k > 0 && top_k < V) {
            xg::Tensor kth = xg::slice(std::get<0>(xg::topk(logits, top_k)), 0, top_k - 1, top_k);
            logits = xg::masked_fill(logits, xg::lt(logits, kth), -INFINITY);
        }
        xg::Tensor probs = xg::softmax(logits, 0);
        ids.push_back(xg::multinomial(probs, 1, false, gen).item<std::int64_t>());
    }
    model.train(was_training);
    return ids;
}

}  // namespace xg::nn::lm

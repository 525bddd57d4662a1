#pragma once
// nn::MultiheadAttention, as torch.nn.MultiheadAttention (see docs/nn.md), and PyTorch's causal
// mask for it.
#include <cstdint>
#include <memory>
#include <tuple>

#include "core/options.hpp"
#include "core/random.hpp"
#include "nn/layers.hpp"
#include "nn/module.hpp"

namespace xg::nn {

// nn.Transformer.generate_square_subsequent_mask(T): a float [T, T] mask, -inf above the
// diagonal and 0 elsewhere, added to the scores (detail::causal_mask is its bool form).
Tensor generate_square_subsequent_mask(std::int64_t T, Dtype dtype = float32);

// kdim and vdim are embed_dim (PyTorch's separate q/k/v projection weights for other key and
// value sizes are not provided); add_bias_kv and add_zero_attn are not provided either.
struct MultiheadAttentionOptions {
    MultiheadAttentionOptions(std::int64_t embed_dim, std::int64_t num_heads)
        : embed_dim_(embed_dim), num_heads_(num_heads) {}
    XG_ARG(std::int64_t, embed_dim);
    XG_ARG(std::int64_t, num_heads);
    XG_ARG(double, dropout) = 0.0;  // on the attention weights, in training
    XG_ARG(bool, bias) = true;
    XG_ARG(bool, batch_first) = false;
};

// Parameters as PyTorch: in_proj_weight [3E, E] (xavier_uniform_), in_proj_bias [3E] (zeros),
// out_proj a Linear(E, E) (PyTorch's default Linear init, then bias zeros).
// forward takes query (L, N, E), key and value (S, N, E) ((N, L, E) with batch_first; (L, E) and
// (S, E) unbatched). key_padding_mask (N, S) and attn_mask (L, S) or (N * num_heads, L, S) are
// bool, true = masked OUT (the opposite of scaled_dot_product_attention's bool mask, as in
// PyTorch), or float and added to the scores. Returns the output (the query's layout) and, when
// need_weights, the attention weights after dropout: (N, L, S) averaged over heads, or
// (N, num_heads, L, S) (undefined when need_weights is false). A query row whose every key is
// masked gives NaN, as PyTorch.
class MultiheadAttentionImpl : public Module {
  public:
    MultiheadAttentionImpl(std::int64_t embed_dim, std::int64_t num_heads)
        : MultiheadAttentionImpl(MultiheadAttentionOptions(embed_dim, num_heads)) {}
    explicit MultiheadAttentionImpl(const MultiheadAttentionOptions& options);
    void reset_parameters(Generator& gen = default_generator());
    std::tuple<Tensor, Tensor> forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                       const Tensor& key_padding_mask = Tensor(),
                                       bool need_weights = true, const Tensor& attn_mask = Tensor(),
                                       bool average_attn_weights = true);
    std::string extra_repr() const override { return ""; }
    // The dropout masks' stream (default: the global generator), as nn::Dropout.
    void set_generator(std::shared_ptr<Generator> gen) { generator = std::move(gen); }
    MultiheadAttentionOptions options;
    Tensor in_proj_weight, in_proj_bias;
    Linear out_proj{nullptr};
    std::shared_ptr<Generator> generator;
};
XG_MODULE(MultiheadAttention);

}  // namespace xg::nn

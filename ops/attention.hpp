#pragma once
// Scaled dot-product attention, built from differentiable ops (see docs/ops_attention.md).
#include <cstdint>
#include <tuple>

#include "core/random.hpp"
#include "core/tensor.hpp"

namespace xg {

// softmax(q k^T / sqrt(E) + mask) v, as torch.nn.functional.scaled_dot_product_attention
// (PyTorch 2.0; torch 1.13 has only a private variant). q [..., L, E], k [..., S, E],
// v [..., S, Ev]; the batch dims broadcast. attn_mask (optional) broadcasts to [..., L, S]:
// a bool mask says which positions TAKE PART (true = attend; the opposite of
// nn::MultiheadAttention's bool masks, as in PyTorch), a float mask (the query's dtype) is added
// to the scores. is_causal masks out j > i (lower-triangular mask of ones(L, S)); it cannot be
// combined with attn_mask. dropout_p > 0 drops attention weights through xg::dropout (always,
// as PyTorch: pass 0 in eval). A row whose every position is masked gives NaN, as PyTorch.
// Built from matmul, masked_fill, softmax and dropout, so twice differentiable.
Tensor scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const Tensor& attn_mask = Tensor(), double dropout_p = 0.0,
                                    bool is_causal = false, Site site = Site());
// The same with the dropout mask drawn from gen.
Tensor scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const Tensor& attn_mask, double dropout_p, bool is_causal,
                                    Generator& gen, Site site = Site());

namespace detail {

// The bool [L, S] mask that is true above the diagonal (j > i): the positions a causal
// attention masks out (nn.Transformer.generate_square_subsequent_mask's -inf entries).
Tensor causal_mask(std::int64_t L, std::int64_t S);

// Attention output and weights (after dropout) for an additive float mask (or none): what
// scaled_dot_product_attention and nn::MultiheadAttention share. No argument checks.
std::tuple<Tensor, Tensor> attention_weights(const Tensor& query, const Tensor& key,
                                             const Tensor& value, const Tensor& float_mask,
                                             double dropout_p, Generator& gen);

}  // namespace detail

}  // namespace xg

#include "ops/attention.hpp"

#include <cmath>
#include <limits>

#include "core/dispatch.hpp"
#include "ops/dropout.hpp"
#include "ops/elementwise.hpp"
#include "ops/layout.hpp"
#include "ops/logical.hpp"
#include "ops/loss.hpp"
#include "ops/matmul.hpp"
#include "ops/shape.hpp"

namespace xg {

namespace {

constexpr const char* kOp = "scaled_dot_product_attention";

Shape batch_of(const Tensor& t) {
    return Shape(t.shape().begin(), t.shape().end() - 2);
}

// The attention weights' shape [..., L, S] after checking q, k, v against each other.
Shape check_qkv(const Tensor& q, const Tensor& k, const Tensor& v) {
    detail::check_defined(kOp, q, "query");
    detail::check_defined(kOp, k, "key");
    detail::check_defined(kOp, v, "value");
    detail::check_floating(kOp, q, "query");
    detail::check_same_dtype(kOp, q, k);
    detail::check_same_dtype(kOp, q, v);
    XG_CHECK(q.dim() >= 2 && k.dim() >= 2 && v.dim() >= 2,
             "{}: query, key and value need at least 2 dims, got shapes {}, {} and {}", kOp,
             q.shape(), k.shape(), v.shape());
    XG_CHECK(q.size(-1) == k.size(-1),
             "{}: query's embedding size E = {} (shape {}) differs from key's {} (shape {})", kOp,
             q.size(-1), q.shape(), k.size(-1), k.shape());
    XG_CHECK(k.size(-2) == v.size(-2),
             "{}: key's sequence length S = {} (shape {}) differs from value's {} (shape {})", kOp,
             k.size(-2), k.shape(), v.size(-2), v.shape());
    Shape batch = detail::broadcast_shapes(kOp, batch_of(q), batch_of(k));
    detail::broadcast_shapes(kOp, batch, batch_of(v));
    batch.push_back(q.size(-2));
    batch.push_back(k.size(-2));
    return batch;
}

// attn_mask as an additive float mask (undefined if none).
Tensor float_mask(const Tensor& q, const Tensor& attn_mask, bool is_causal, const Shape& scores) {
    const double inf = std::numeric_limits<double>::infinity();
    if (is_causal) {
        XG_CHECK(!attn_mask.defined(),
                 "{}: attn_mask and is_causal = true cannot both be given (is_causal is the mask)",
                 kOp);
        const auto L = static_cast<std::int64_t>(q.size(-2));
        const auto S = static_cast<std::int64_t>(scores.back());
        return masked_fill(zeros({std::size_t(L), std::size_t(S)}, q.dtype()),
                           detail::causal_mask(L, S), -inf);
    }
    if (!attn_mask.defined()) return Tensor();
    XG_CHECK(attn_mask.dtype() == bool_ || attn_mask.dtype() == q.dtype(),
             "{}: attn_mask must be bool or of the query's dtype {}, got {}", kOp, q.dtype(),
             attn_mask.dtype());
    XG_CHECK(detail::is_broadcastable_to(attn_mask.shape(), scores),
             "{}: attn_mask of shape {} does not broadcast to the attention weights' shape {}", kOp,
             attn_mask.shape(), scores);
    if (attn_mask.dtype() != bool_) return attn_mask;
    return masked_fill(zeros(attn_mask.shape(), q.dtype()), logical_not(attn_mask), -inf);
}

}  // namespace

namespace detail {

Tensor causal_mask(std::int64_t L, std::int64_t S) {
    XG_CHECK(L >= 0 && S >= 0, "causal_mask: sizes must be non-negative, got {} and {}", L, S);
    return triu(ones({std::size_t(L), std::size_t(S)}, bool_), 1);
}

std::tuple<Tensor, Tensor> attention_weights(const Tensor& q, const Tensor& k, const Tensor& v,
                                             const Tensor& mask, double dropout_p, Generator& gen) {
    const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
    Tensor scores = mul(matmul(q, transpose(k, -2, -1)), scale);
    if (mask.defined()) scores = add(scores, mask);
    Tensor w = softmax(scores, -1);
    if (dropout_p > 0.0) w = dropout(w, dropout_p, true, gen);
    return {matmul(w, v), w};
}

}  // namespace detail

Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const Tensor& attn_mask, double dropout_p, bool is_causal,
                                    Generator& gen, Site site) {
    detail::SiteScope at(site);
    const Shape scores = check_qkv(q, k, v);
    XG_CHECK(dropout_p >= 0.0 && dropout_p < 1.0, "{}: dropout_p must be in [0, 1), got {}", kOp,
             dropout_p);
    Tensor mask = float_mask(q, attn_mask, is_causal, scores);
    return std::get<0>(detail::attention_weights(q, k, v, mask, dropout_p, gen));
}

Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const Tensor& attn_mask, double dropout_p, bool is_causal,
                                    Site site) {
    return scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal,
                                        default_generator(), site);
}

}  // namespace xg

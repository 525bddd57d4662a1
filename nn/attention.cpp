#include "nn/attention.hpp"

#include <cmath>
#include <limits>

#include "core/dispatch.hpp"
#include "nn/init.hpp"
#include "ops/attention.hpp"
#include "ops/elementwise.hpp"
#include "ops/layout.hpp"
#include "ops/logical.hpp"
#include "ops/matmul.hpp"
#include "ops/reduce.hpp"
#include "ops/shape.hpp"

namespace xg::nn {

namespace {

constexpr const char* kMha = "MultiheadAttention";
constexpr double kInf = std::numeric_limits<double>::infinity();

// A bool (true = masked out) or float mask as the additive float mask.
Tensor additive(const Tensor& mask, const char* name, Dtype dtype) {
    XG_CHECK(mask.dtype() == bool_ || mask.dtype() == dtype,
             "{}: {} must be bool or of the query's dtype {}, got {}", kMha, name, dtype,
             mask.dtype());
    if (mask.dtype() != bool_) return mask;
    return masked_fill(zeros(mask.shape(), dtype), mask, -kInf);
}

std::int64_t i64(std::size_t v) {
    return static_cast<std::int64_t>(v);
}

}  // namespace

Tensor generate_square_subsequent_mask(std::int64_t T, Dtype dtype) {
    XG_CHECK(T >= 0, "generate_square_subsequent_mask: size must be non-negative, got {}", T);
    XG_CHECK(is_floating(dtype), "generate_square_subsequent_mask: dtype must be floating, got {}",
             dtype);
    return masked_fill(zeros({std::size_t(T), std::size_t(T)}, dtype),
                       xg::detail::causal_mask(T, T), -kInf);
}

MultiheadAttentionImpl::MultiheadAttentionImpl(const MultiheadAttentionOptions& o)
    : Module("MultiheadAttention"), options(o) {
    const auto E = o.embed_dim(), H = o.num_heads();
    XG_CHECK(E > 0 && H > 0, "{}: embed_dim and num_heads must be positive, got {} and {}", kMha, E,
             H);
    XG_CHECK(E % H == 0, "{}: embed_dim {} is not divisible by num_heads {}", kMha, E, H);
    XG_CHECK(o.dropout() >= 0.0 && o.dropout() < 1.0, "{}: dropout must be in [0, 1), got {}", kMha,
             o.dropout());
    XG_CHECK(E <= (std::int64_t(1) << 20), "{}: embed_dim {} is too large", kMha, E);
    const auto e = static_cast<std::size_t>(E);
    in_proj_weight = register_parameter("in_proj_weight", zeros({3 * e, e}));
    if (o.bias()) in_proj_bias = register_parameter("in_proj_bias", zeros({3 * e}));
    // Created after in_proj_weight, as PyTorch: its init draws before the xavier draw below.
    out_proj = register_module("out_proj", Linear(LinearOptions(E, E).bias(o.bias())));
    init::xavier_uniform_(in_proj_weight);
    if (o.bias()) {
        init::zeros_(in_proj_bias);
        init::zeros_(out_proj->bias);
    }
}

void MultiheadAttentionImpl::reset_parameters(Generator& gen) {
    out_proj->reset_parameters(gen);
    init::xavier_uniform_(in_proj_weight, 1.0, gen);
    if (options.bias()) {
        init::zeros_(in_proj_bias);
        init::zeros_(out_proj->bias);
    }
}

std::tuple<Tensor, Tensor> MultiheadAttentionImpl::forward(
    const Tensor& query, const Tensor& key, const Tensor& value, const Tensor& key_padding_mask,
    bool need_weights, const Tensor& attn_mask, bool average_attn_weights) {
    xg::detail::check_defined(kMha, query, "query");
    xg::detail::check_defined(kMha, key, "key");
    xg::detail::check_defined(kMha, value, "value");
    const std::size_t E = static_cast<std::size_t>(options.embed_dim());
    const auto H = options.num_heads();
    XG_CHECK(query.dim() == 3 || query.dim() == 2,
             "{}: query must be 3-D (batched) or 2-D (unbatched), got shape {}", kMha,
             query.shape());
    XG_CHECK(query.size(-1) == E, "{}: query's last dim must be embed_dim {}, got shape {}", kMha,
             E, query.shape());
    XG_CHECK(query.dtype() == in_proj_weight.dtype(),
             "{}: query is {} but the parameters are {} (use module->to())", kMha, query.dtype(),
             in_proj_weight.dtype());
    XG_CHECK(key.dim() == query.dim() && value.dim() == query.dim(),
             "{}: key {} and value {} must have the query's {} dims", kMha, key.shape(),
             value.shape(), query.dim());
    XG_CHECK(key.shape() == value.shape(), "{}: key shape {} does not match value shape {}", kMha,
             key.shape(), value.shape());
    XG_CHECK(key.size(-1) == E, "{}: key's last dim must be embed_dim {}, got shape {}", kMha, E,
             key.shape());
    XG_CHECK(key.dtype() == query.dtype() && value.dtype() == query.dtype(),
             "{}: key ({}) and value ({}) must have the query's dtype {}", kMha, key.dtype(),
             value.dtype(), query.dtype());
    const bool batched = query.dim() == 3;
    Tensor q = query, k = key, v = value;
    if (!batched) {
        q = unsqueeze(q, 1), k = unsqueeze(k, 1), v = unsqueeze(v, 1);
    } else if (options.batch_first()) {
        q = transpose(q, 0, 1), k = transpose(k, 0, 1), v = transpose(v, 0, 1);
    }
    const std::size_t L = q.size(0), N = q.size(1), S = k.size(0);
    XG_CHECK(k.size(1) == N, "{}: key's batch size {} differs from the query's {}", kMha, k.size(1),
             N);
    const std::size_t hd = E / static_cast<std::size_t>(H), NH = N * static_cast<std::size_t>(H);

    Tensor mask;
    if (attn_mask.defined()) {
        Tensor am = additive(attn_mask, "attn_mask", q.dtype());
        const Shape two{L, S}, three{NH, L, S};
        XG_CHECK(am.shape() == two || am.shape() == three,
                 "{}: attn_mask must have shape {} or {}, got {}", kMha, two, three, am.shape());
        mask = am;
    }
    if (key_padding_mask.defined()) {
        Tensor kpm = additive(key_padding_mask, "key_padding_mask", q.dtype());
        const Shape want = batched ? Shape{N, S} : Shape{S};
        XG_CHECK(kpm.shape() == want, "{}: key_padding_mask must have shape {}, got {}", kMha, want,
                 kpm.shape());
        // (N, S) -> (N * H, 1, S): every head of a sequence shares its padding.
        kpm = reshape(broadcast_to(reshape(kpm, {i64(N), 1, 1, i64(S)}), {i64(N), H, 1, i64(S)}),
                      {i64(NH), 1, i64(S)});
        mask = mask.defined() ? add(mask, kpm) : kpm;
    }

    Tensor w_q = slice(in_proj_weight, 0, 0, i64(E)),
           w_k = slice(in_proj_weight, 0, i64(E), i64(2 * E)),
           w_v = slice(in_proj_weight, 0, i64(2 * E), i64(3 * E));
    Tensor b_q, b_k, b_v;
    if (in_proj_bias.defined()) {
        b_q = slice(in_proj_bias, 0, 0, i64(E));
        b_k = slice(in_proj_bias, 0, i64(E), i64(2 * E));
        b_v = slice(in_proj_bias, 0, i64(2 * E), i64(3 * E));
    }
    // (len, N, E) -> (N * H, len, hd)
    auto heads = [&](const Tensor& x, std::size_t len) {
        return transpose(reshape(x, {i64(len), i64(NH), i64(hd)}), 0, 1);
    };
    Tensor qh = heads(linear(q, w_q, b_q), L), kh = heads(linear(k, w_k, b_k), S),
           vh = heads(linear(v, w_v, b_v), S);
    const double p = is_training() ? options.dropout() : 0.0;
    auto [out, w] = xg::detail::attention_weights(qh, kh, vh, mask, p,
                                                  generator ? *generator : default_generator());
    out = out_proj->forward(reshape(transpose(out, 0, 1), {i64(L), i64(N), i64(E)}));
    if (!batched) {
        out = squeeze(out, 1);
    } else if (options.batch_first()) {
        out = transpose(out, 0, 1);
    }
    if (!need_weights) return {out, Tensor()};
    w = reshape(w, {i64(N), H, i64(L), i64(S)});
    if (average_attn_weights) w = mean(w, {1});
    if (!batched) w = squeeze(w, 0);
    return {out, w};
}

}  // namespace xg::nn

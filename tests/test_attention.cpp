// ops/attention.hpp: the registry row of scaled_dot_product_attention (float64 gradcheck and
// gradgradcheck samples, error inputs, PyTorch fixtures from tests/parity/attention_ops.py) and
// values checked by hand: masks against each other, fully masked rows, seeded dropout.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "ops/attention.hpp"
#include "tests/error_of.hpp"
#include "tests/op_registry.hpp"

namespace xg::testing {

namespace {

using indexing::Slice;
constexpr double kInf = std::numeric_limits<double>::infinity();

// The constant mask of tests/parity/attention_ops.py (true = attend).
Tensor bool_mask34() {
    return tensor({{0, 1, 1, 0}, {1, 0, 1, 1}, {1, 1, 0, 1}}, bool_);
}

Tensor sdpa(const TensorList& x, const Tensor& mask = Tensor(), bool causal = false) {
    return scaled_dot_product_attention(x[0], x[1], x[2], mask, 0.0, causal);
}

std::vector<Sample> attention_samples() {
    std::vector<Sample> s;
    s.push_back({"[2,3,4] [2,5,4] [2,5,3] no mask",
                 {rand64({2, 3, 4}), rand64({2, 5, 4}), rand64({2, 5, 3})},
                 [](const TensorList& x) { return sdpa(x); }});
    s.push_back({"bool mask [3,4] broadcast over the batch",
                 {rand64({2, 3, 4}), rand64({2, 4, 4}), rand64({2, 4, 2})},
                 [](const TensorList& x) { return sdpa(x, bool_mask34()); }});
    s.push_back(
        {"float mask [2,1,3,4] (gradchecked too), 4-D",
         {rand64({2, 2, 3, 4}), rand64({2, 2, 4, 4}), rand64({2, 2, 4, 3}), rand64({2, 1, 3, 4})},
         [](const TensorList& x) { return scaled_dot_product_attention(x[0], x[1], x[2], x[3]); }});
    s.push_back({"causal, batched 4-D [2,2,4,3]",
                 {rand64({2, 2, 4, 3}), rand64({2, 2, 4, 3}), rand64({2, 2, 4, 5})},
                 [](const TensorList& x) { return sdpa(x, Tensor(), true); }});
    s.push_back({"causal L=3 < S=5, 2-D",
                 {rand64({3, 2}), rand64({5, 2}), rand64({5, 3})},
                 [](const TensorList& x) { return sdpa(x, Tensor(), true); }});
    s.push_back({"key and value [4,4] [4,2] broadcast against query [2,3,4]",
                 {rand64({2, 3, 4}), rand64({4, 4}), rand64({4, 2})},
                 [](const TensorList& x) { return sdpa(x); }});
    s.push_back({"dropout 0.3 from a generator seeded in the call",
                 {rand64({2, 3, 4}), rand64({2, 4, 4}), rand64({2, 4, 3})},
                 [](const TensorList& x) {
                     Generator gen(11);
                     return scaled_dot_product_attention(x[0], x[1], x[2], Tensor(), 0.3, false,
                                                         gen);
                 }});
    return s;
}

std::vector<ErrorCase> attention_errors() {
    std::vector<ErrorCase> e;
    auto q = [] { return zeros({2, 3, 4}, float64); };
    auto k = [] { return zeros({2, 5, 4}, float64); };
    auto v = [] { return zeros({2, 5, 3}, float64); };
    e.push_back({"E of query and key differ",
                 [=] {
                     scaled_dot_product_attention(q(), zeros({2, 5, 6}, float64), v());
                 },
                 "query's embedding size E = 4 (shape [2, 3, 4]) differs from key's 6"});
    e.push_back({"S of key and value differ",
                 [=] {
                     scaled_dot_product_attention(q(), k(), zeros({2, 6, 3}, float64));
                 },
                 "key's sequence length S = 5 (shape [2, 5, 4]) differs from value's 6"});
    e.push_back({"mask that does not broadcast",
                 [=] {
                     scaled_dot_product_attention(q(), k(), v(), zeros({3, 4}, bool_));
                 },
                 "attn_mask of shape [3, 4] does not broadcast to the attention weights' shape "
                 "[2, 3, 5]"});
    e.push_back({"int64 mask",
                 [=] {
                     scaled_dot_product_attention(q(), k(), v(), zeros({3, 5}, int64));
                 },
                 "attn_mask must be bool or of the query's dtype float64, got int64"});
    e.push_back({"float32 mask for float64 query",
                 [=] {
                     scaled_dot_product_attention(q(), k(), v(), zeros({3, 5}, float32));
                 },
                 "attn_mask must be bool or of the query's dtype float64, got float32"});
    e.push_back({"mask and is_causal",
                 [=] {
                     scaled_dot_product_attention(q(), k(), v(), zeros({3, 5}, bool_), 0.0, true);
                 },
                 "attn_mask and is_causal = true cannot both be given"});
    e.push_back({"batch dims that do not broadcast",
                 [=] {
                     scaled_dot_product_attention(q(), zeros({3, 5, 4}, float64), v());
                 },
                 "shapes [2] and [3] cannot be broadcast"});
    e.push_back({"1-D query", [=] { scaled_dot_product_attention(zeros({4}, float64), k(), v()); },
                 "need at least 2 dims, got shapes [4], [2, 5, 4] and [2, 5, 3]"});
    e.push_back({"int64 query",
                 [=] {
                     scaled_dot_product_attention(zeros({2, 3, 4}, int64), k(), v());
                 },
                 "argument 'query' must be float32 or float64, got int64"});
    e.push_back({"mixed dtypes",
                 [=] {
                     scaled_dot_product_attention(q(), zeros({2, 5, 4}, float32), v());
                 },
                 "same dtype, got float64 and float32"});
    e.push_back({"dropout_p 1", [=] { scaled_dot_product_attention(q(), k(), v(), {}, 1.0); },
                 "dropout_p must be in [0, 1), got 1"});
    e.push_back(
        {"undefined key", [=] { scaled_dot_product_attention(q(), Tensor(), v()); }, "key"});
    return e;
}

Parity attention_parity() {
    auto three = [](std::string name, TensorFn f) {
        return ParityCase{"attention_" + std::move(name), 3, std::move(f)};
    };
    return Parity{
        {three("plain", [](const TensorList& x) { return sdpa(x); }),
         three("bool_mask", [](const TensorList& x) { return sdpa(x, bool_mask34()); }),
         {"attention_float_mask", 4,
          [](const TensorList& x) { return scaled_dot_product_attention(x[0], x[1], x[2], x[3]); }},
         three("causal_4d", [](const TensorList& x) { return sdpa(x, {}, true); }),
         three("causal_rect", [](const TensorList& x) { return sdpa(x, {}, true); })}};
}

}  // namespace

XG_REGISTER_OP_INFO(attention_info, {"scaled_dot_product_attention", attention_samples,
                                     attention_errors, attention_parity});

TEST_CASE("attention: a bool mask equals the float mask with -inf where it is false") {
    Tensor q = rand64({2, 3, 4}), k = rand64({2, 4, 4}), v = rand64({2, 4, 3});
    Tensor m = bool_mask34();
    Tensor f = masked_fill(zeros({3, 4}, float64), logical_not(m), -kInf);
    CHECK(max_abs_diff(scaled_dot_product_attention(q, k, v, m),
                       scaled_dot_product_attention(q, k, v, f)) == 0.0);
}

TEST_CASE("attention: is_causal equals the mask tril(ones(L, S))") {
    Tensor q = rand64({2, 3, 2}), k = rand64({2, 5, 2}), v = rand64({2, 5, 3});
    Tensor keep = tril(ones({3, 5}, bool_));
    CHECK(max_abs_diff(scaled_dot_product_attention(q, k, v, {}, 0.0, true),
                       scaled_dot_product_attention(q, k, v, keep)) == 0.0);
    // Row 0 sees only key 0: its output is value row 0.
    Tensor out = scaled_dot_product_attention(q, k, v, {}, 0.0, true);
    CHECK(max_abs_diff(out.index({Slice(), 0}), v.index({Slice(), 0})) < 1e-15);
}

TEST_CASE("attention: the causal mask helper is true above the diagonal") {
    CHECK(detail::causal_mask(3, 4).to(int64).to_vector() ==
          std::vector<double>{0, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 1});
    CHECK(detail::causal_mask(0, 2).shape() == Shape{0, 2});
    CHECK(error_of([] { detail::causal_mask(-1, 2); }).find("sizes must be non-negative") !=
          std::string::npos);
}

TEST_CASE("attention: a fully masked row gives NaN, as PyTorch; the other rows are finite") {
    Tensor q = rand64({3, 2}), k = rand64({4, 2}), v = rand64({4, 2});
    Tensor m = tensor({{1, 1, 0, 0}, {0, 0, 0, 0}, {1, 0, 0, 1}}, bool_);
    auto out = scaled_dot_product_attention(q, k, v, m).to_vector();
    CHECK(std::isfinite(out[0]));
    CHECK(std::isnan(out[2]));
    CHECK(std::isnan(out[3]));
    CHECK(std::isfinite(out[4]));
}

TEST_CASE("attention: dropout from a seeded generator is reproducible and scales by 1/(1-p)") {
    Tensor q = rand64({2, 3, 4}), k = rand64({2, 4, 4}), v = ones({2, 4, 1}, float64);
    Generator g1(5), g2(5);
    Tensor a = scaled_dot_product_attention(q, k, v, {}, 0.5, false, g1);
    Tensor b = scaled_dot_product_attention(q, k, v, {}, 0.5, false, g2);
    CHECK(a.to_vector() == b.to_vector());
    // v = 1: each output is (sum of the kept weights) * 2, which differs from 1 somewhere.
    Tensor plain = scaled_dot_product_attention(q, k, v);
    CHECK(max_abs_diff(plain, ones({2, 3, 1}, float64)) < 1e-14);
    CHECK(max_abs_diff(a, plain) > 0.0);
    manual_seed(3);
    Tensor c = scaled_dot_product_attention(q, k, v, {}, 0.5);
    manual_seed(3);
    CHECK(scaled_dot_product_attention(q, k, v, {}, 0.5).to_vector() == c.to_vector());
}

TEST_CASE("attention: float32 runs and matches float64") {
    Tensor q = rand64({2, 3, 4}), k = rand64({2, 4, 4}), v = rand64({2, 4, 3});
    Tensor a =
        scaled_dot_product_attention(q.to(float32), k.to(float32), v.to(float32), bool_mask34());
    CHECK(a.dtype() == float32);
    CHECK(max_abs_diff(a.to(float64), scaled_dot_product_attention(q, k, v, bool_mask34())) < 1e-5);
}

}  // namespace xg::testing

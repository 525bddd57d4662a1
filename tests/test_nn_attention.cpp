// nn::MultiheadAttention (nn/attention.hpp): outputs, weights and input and parameter gradients
// against PyTorch-written fixtures (tests/parity/nn_attention.py), init, layouts, masks, errors.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "nn/attention.hpp"
#include "ops/attention.hpp"
#include "test_paths.hpp"
#include "tests/error_of.hpp"
#include "tests/nn_check.hpp"
#include "tests/op_registry.hpp"
#include "tests/parity.hpp"
#include "xgrad.hpp"

using namespace xg;
using namespace xg::testing;
using xg::indexing::Slice;

namespace {

std::vector<std::string> keys_of(const std::string& name) {
    std::ifstream f(std::string(XGRAD_FIXTURE_DIR) + "/" + name + ".keys.txt");
    REQUIRE_MESSAGE(f.good(), name);
    std::vector<std::string> keys;
    for (std::string line; std::getline(f, line);)
        if (!line.empty()) keys.push_back(line);
    return keys;
}

void close(const Tensor& got, const Tensor& want, const std::string& what) {
    REQUIRE_MESSAGE(got.shape() == want.shape(), what);
    CHECK_MESSAGE(max_abs_diff(got, want) <= 1e-9,
                  what << ": max diff " << max_abs_diff(got, want));
}

void check_mha_parity(const std::string& name, nn::MultiheadAttentionOptions o, bool bool_attn,
                      bool average) {
    nn::MultiheadAttention m(o);
    m->to(float64);
    const auto keys = keys_of(name);
    CHECK(m->state_dict().keys() == keys);
    nn::StateDict sd;
    for (const auto& k : keys) sd.insert(k, load_fixture(name, "sd." + k));
    m->load_state_dict(sd);
    Tensor q = load_fixture(name, "query").requires_grad_();
    Tensor k = load_fixture(name, "key").requires_grad_();
    Tensor v = load_fixture(name, "value").requires_grad_();
    Tensor kpm = load_fixture(name, "key_padding_mask").to(bool_);
    Tensor am = load_fixture(name, "attn_mask");
    if (bool_attn) am = am.to(bool_);
    auto [out, w] = m(q, k, v, kpm, true, am, average);
    close(out, load_fixture(name, "out"), name + " output");
    close(w, load_fixture(name, "weights"), name + " weights");
    Tensor loss =
        add(sum(mul(out, load_fixture(name, "gout"))), sum(mul(w, load_fixture(name, "gweights"))));
    loss.backward();
    close(q.grad(), load_fixture(name, "grad.query"), name + " grad query");
    close(k.grad(), load_fixture(name, "grad.key"), name + " grad key");
    close(v.grad(), load_fixture(name, "grad.value"), name + " grad value");
    for (const auto& item : m->named_parameters()) {
        const auto& key = std::get<0>(item);
        close(std::get<1>(item).grad(), load_fixture(name, "grad." + key), name + " grad " + key);
    }
}

nn::MultiheadAttention mha64(std::int64_t E, std::int64_t H, bool batch_first = false) {
    nn::MultiheadAttention m(nn::MultiheadAttentionOptions(E, H).batch_first(batch_first));
    m->to(float64);
    return m;
}

}  // namespace

TEST_CASE("MultiheadAttention parity: (L, N, E), causal float attn_mask, key_padding_mask") {
    check_mha_parity("nn/mha_causal", nn::MultiheadAttentionOptions(6, 2), false, true);
}

TEST_CASE("MultiheadAttention parity: batch_first, S != L, bool attn_mask, per-head weights") {
    check_mha_parity("nn/mha_batch_first", nn::MultiheadAttentionOptions(6, 3).batch_first(true),
                     true, false);
}

TEST_CASE("MultiheadAttention: parameters, names and PyTorch's init") {
    manual_seed(0);
    nn::MultiheadAttention m(8, 2);
    CHECK(m->state_dict().keys() == std::vector<std::string>{"in_proj_weight", "in_proj_bias",
                                                             "out_proj.weight", "out_proj.bias"});
    CHECK(m->in_proj_weight.shape() == Shape{24, 8});
    CHECK(m->out_proj->weight.shape() == Shape{8, 8});
    CHECK(m->in_proj_bias.to_vector() == std::vector<double>(24, 0.0));
    CHECK(m->out_proj->bias.to_vector() == std::vector<double>(8, 0.0));
    const double xavier = std::sqrt(6.0 / (8 + 24)), kaiming = 1.0 / std::sqrt(8.0);
    double wmax = 0, omax = 0;
    for (double x : m->in_proj_weight.to_vector()) wmax = std::max(wmax, std::abs(x));
    for (double x : m->out_proj->weight.to_vector()) omax = std::max(omax, std::abs(x));
    CHECK(wmax <= xavier);
    CHECK(wmax > 0.8 * xavier);
    CHECK(omax <= kaiming);
    CHECK(omax > 0.8 * kaiming);
    nn::MultiheadAttention nb(nn::MultiheadAttentionOptions(4, 4).bias(false));
    CHECK(nb->state_dict().keys() == std::vector<std::string>{"in_proj_weight", "out_proj.weight"});
    auto [out, w] = nb(rand64({3, 2, 4}).to(float32), rand64({5, 2, 4}).to(float32),
                       rand64({5, 2, 4}).to(float32));
    CHECK(out.shape() == Shape{3, 2, 4});
    CHECK(w.shape() == Shape{2, 3, 5});
}

TEST_CASE("MultiheadAttention: layouts, unbatched input, need_weights and weights per head") {
    auto m = mha64(6, 3);
    auto mb = mha64(6, 3, true);
    mb->load_state_dict(m->state_dict());
    Tensor q = rand64({4, 2, 6}), k = rand64({5, 2, 6}), v = rand64({5, 2, 6});
    auto [o1, w1] = m(q, k, v);
    auto [o2, w2] = mb(transpose(q, 0, 1), transpose(k, 0, 1), transpose(v, 0, 1));
    CHECK(max_abs_diff(transpose(o2, 0, 1), o1) < 1e-14);
    CHECK(max_abs_diff(w2, w1) < 1e-14);
    // Weights sum to 1 over the keys; per head they average to the returned weights.
    CHECK(max_abs_diff(sum(w1, {-1}), ones({2, 4}, float64)) < 1e-14);
    auto [o3, wh] = m(q, k, v, Tensor(), true, Tensor(), false);
    CHECK(wh.shape() == Shape{2, 3, 4, 5});
    CHECK(max_abs_diff(mean(wh, {1}), w1) < 1e-14);
    auto [o4, none] = m(q, k, v, Tensor(), false);
    CHECK(!none.defined());
    CHECK(max_abs_diff(o4, o1) == 0.0);
    // Unbatched (L, E) is the batch of one, for both layouts.
    Tensor q1 = q.index({Slice(), 0}), k1 = k.index({Slice(), 0}), v1 = v.index({Slice(), 0});
    auto [ou, wu] = m(q1, k1, v1, tensor({0, 0, 1, 0, 0}, bool_));
    auto [ob, wb] = m(unsqueeze(q1, 1), unsqueeze(k1, 1), unsqueeze(v1, 1),
                      unsqueeze(tensor({0, 0, 1, 0, 0}, bool_), 0));
    CHECK(ou.shape() == Shape{4, 6});
    CHECK(wu.shape() == Shape{4, 5});
    CHECK(max_abs_diff(ou, squeeze(ob, 1)) < 1e-14);
    CHECK(max_abs_diff(wu, squeeze(wb, 0)) < 1e-14);
    auto [oub, wub] = mb(q1, k1, v1);  // batch_first does not apply to unbatched input
    CHECK(oub.shape() == Shape{4, 6});
}

TEST_CASE("MultiheadAttention: bool masks mean masked out; float masks are added") {
    auto m = mha64(4, 2);
    Tensor q = rand64({3, 2, 4}), k = rand64({3, 2, 4}), v = rand64({3, 2, 4});
    Tensor causal = nn::generate_square_subsequent_mask(3, float64);
    CHECK(causal.to_vector()[1] == -std::numeric_limits<double>::infinity());
    CHECK(causal.to_vector()[3] == 0.0);
    auto [o1, w1] = m(q, k, v, Tensor(), true, causal);
    auto [o2, w2] = m(q, k, v, Tensor(), true, detail::causal_mask(3, 3));
    CHECK(max_abs_diff(o1, o2) == 0.0);
    CHECK(w1.to_vector()[1] == 0.0);  // query 0 never sees key 1
    // A padded key gets weight 0; a float key_padding_mask of -inf does the same.
    Tensor pad = tensor({{0, 0, 1}, {0, 0, 0}}, bool_);
    auto [o3, w3] = m(q, k, v, pad);
    Tensor fpad = masked_fill(zeros({2, 3}, float64), pad, -INFINITY);
    auto [o4, w4] = m(q, k, v, fpad);
    CHECK(max_abs_diff(o3, o4) == 0.0);
    CHECK(w3.index({0, Slice(), 2}).to_vector() == std::vector<double>{0, 0, 0});
    // Every key of sequence 1 padded: NaN there, as PyTorch; sequence 0 stays finite.
    auto [o5, w5] = m(q, k, v, tensor({{0, 0, 0}, {1, 1, 1}}, bool_));
    CHECK(std::isfinite(o5.index({0, 0, 0}).item()));
    CHECK(std::isnan(o5.index({0, 1, 0}).item()));
}

TEST_CASE("MultiheadAttention: gradients of every parameter in float64 (finite differences)") {
    auto m = mha64(4, 2);
    Tensor q = rand64({3, 2, 4}).detach(), k = rand64({5, 2, 4}).detach(),
           v = rand64({5, 2, 4}).detach();
    Tensor pad = tensor({{0, 0, 0, 0, 1}, {0, 1, 0, 0, 0}}, bool_);
    Tensor gw = rand64({2, 3, 5}).detach();
    check_model_gradients(*m, [&] {
        auto [o, w] = m(q, k, v, pad);
        return add(sum(mul(o, o)), sum(mul(w, gw)));
    });
}

TEST_CASE("MultiheadAttention: dropout on the weights in training only, seeded") {
    nn::MultiheadAttention m(nn::MultiheadAttentionOptions(4, 2).dropout(0.5));
    m->to(float64);
    Tensor q = rand64({3, 2, 4}), k = rand64({3, 2, 4}), v = rand64({3, 2, 4});
    m->set_generator(std::make_shared<Generator>(9));
    auto [a, wa] = m(q, k, v);
    m->set_generator(std::make_shared<Generator>(9));
    auto [b, wb] = m(q, k, v);
    CHECK(a.to_vector() == b.to_vector());
    CHECK(max_abs_diff(sum(wa, {-1}), ones({2, 3}, float64)) > 1e-3);  // some weights dropped
    m->eval();
    auto [c, wc] = m(q, k, v);
    CHECK(max_abs_diff(sum(wc, {-1}), ones({2, 3}, float64)) < 1e-14);
}

TEST_CASE("MultiheadAttention: bad options and inputs name the module and the values") {
    auto has = [](const std::string& msg, const std::string& frag) {
        CHECK_MESSAGE(msg.rfind("MultiheadAttention: ", 0) == 0, msg);
        CHECK_MESSAGE(msg.find(frag) != std::string::npos, msg);
    };
    has(error_of([] { nn::MultiheadAttention(6, 4); }),
        "embed_dim 6 is not divisible by num_heads 4");
    has(error_of([] { nn::MultiheadAttention(6, 0); }), "must be positive, got 6 and 0");
    has(error_of([] { nn::MultiheadAttention(nn::MultiheadAttentionOptions(4, 2).dropout(1.0)); }),
        "dropout must be in [0, 1), got 1");
    auto m = mha64(4, 2);
    Tensor q = rand64({3, 2, 4}), kv = rand64({5, 2, 4});
    has(error_of([&] {
            m(rand64({2, 3, 2, 4}), kv, kv);
        }),
        "query must be 3-D (batched) or 2-D (unbatched), got shape [2, 3, 2, 4]");
    has(error_of([&] {
            m(rand64({3, 2, 5}), kv, kv);
        }),
        "query's last dim must be embed_dim 4, got shape [3, 2, 5]");
    has(error_of([&] {
            m(q, rand64({5, 2, 3}), rand64({5, 2, 3}));
        }),
        "key's last dim must be embed_dim 4, got shape [5, 2, 3]");
    has(error_of([&] {
            m(q, kv, rand64({4, 2, 4}));
        }),
        "key shape [5, 2, 4] does not match value shape [4, 2, 4]");
    has(error_of([&] {
            m(q, rand64({5, 3, 4}), rand64({5, 3, 4}));
        }),
        "key's batch size 3 differs from the query's 2");
    has(error_of([&] { m(q.to(float32), kv, kv); }), "query is float32 but the parameters are");
    has(error_of([&] { m(q, kv.to(float32), kv); }),
        "key (float32) and value (float64) must have the query's dtype float64");
    has(error_of([&] {
            m(q, kv, zeros({5, 2, 4}, int64));
        }),
        "key (float64) and value (int64) must have the query's dtype float64");
    has(error_of([&] {
            m(q, kv, kv, zeros({2, 4}, bool_));
        }),
        "key_padding_mask must have shape [2, 5], got [2, 4]");
    has(error_of([&] {
            m(q, kv, kv, zeros({2, 5}, int64));
        }),
        "key_padding_mask must be bool or of the query's dtype float64, got int64");
    has(error_of([&] {
            m(q, kv, kv, Tensor(), true, zeros({5, 3}, bool_));
        }),
        "attn_mask must have shape [3, 5] or [4, 3, 5], got [5, 3]");
    has(error_of([&] {
            m(q, kv, kv, Tensor(), true, zeros({3, 5}, int32));
        }),
        "attn_mask must be bool or of the query's dtype float64, got int32");
    has(error_of([&] { m(Tensor(), kv, kv); }), "query");
    CHECK(error_of([] {
              nn::generate_square_subsequent_mask(-1);
          }).find("generate_square_subsequent_mask: size must be non-negative, got -1") == 0);
}

// The Transformer modules (nn/transformer.hpp): outputs and input and parameter gradients against
// PyTorch-written fixtures (tests/parity/nn_transformer.py) in float64 and float32, the holder's
// call forms, deep copies in the stacks, dropout, gradchecks and bad inputs.
#include <doctest/doctest.h>

#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "check/gradcheck.hpp"
#include "nn/transformer.hpp"
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

// PyTorch in float32 against xgrad in float32, both from the same float64 values: the largest
// differences measured were 1.2e-7 (outputs) and 9.5e-7 (gradients); float64 2.2e-15.
constexpr double kTol64 = 1e-9, kTol32Out = 1e-6, kTol32Grad = 1e-5;

std::vector<std::string> keys_of(const std::string& name) {
    std::ifstream f(std::string(XGRAD_FIXTURE_DIR) + "/" + name + ".keys.txt");
    REQUIRE_MESSAGE(f.good(), name);
    std::vector<std::string> keys;
    for (std::string line; std::getline(f, line);)
        if (!line.empty()) keys.push_back(line);
    return keys;
}

void close(const Tensor& got, const Tensor& want, const std::string& what, double tol) {
    REQUIRE_MESSAGE(got.shape() == want.shape(), what);
    const double d = max_abs_diff(got.to(float64), want);
    CHECK_MESSAGE(d <= tol, what << ": max diff " << d);
}

// A fixture mask: 0/1 as bool (true = masked out), or a float mask in dtype.
Tensor mask_of(const std::string& name, const std::string& part, bool is_bool, Dtype dtype) {
    Tensor m = load_fixture(name, part);
    return is_bool ? m.to(bool_) : m.to(dtype);
}

using Run = std::function<Tensor(const TensorList& inputs, Dtype dtype)>;

// Loads the PyTorch state dict into m, runs it in eval mode in float64 and float32 and compares
// the outputs and the gradients of every input and parameter.
void check_parity(nn::Module& m, const std::string& name, const std::vector<std::string>& inputs,
                  const Run& run) {
    m.to(float64);
    const auto keys = keys_of(name);
    CHECK(m.state_dict().keys() == keys);
    nn::StateDict sd;
    for (const auto& k : keys) sd.insert(k, load_fixture(name, "sd." + k));
    m.load_state_dict(sd);
    m.eval();
    TensorList in;
    for (const auto& n : inputs) in.push_back(load_fixture(name, n).requires_grad_());
    Tensor out = run(in, float64);
    close(out, load_fixture(name, "out"), name + " output", kTol64);
    out.backward(load_fixture(name, "gout"));
    for (std::size_t i = 0; i < inputs.size(); ++i)
        close(in[i].grad(), load_fixture(name, "grad." + inputs[i]), name + " grad " + inputs[i],
              kTol64);
    for (const auto& item : m.named_parameters()) {
        const auto& key = std::get<0>(item);
        close(std::get<1>(item).grad(), load_fixture(name, "grad." + key), name + " grad " + key,
              kTol64);
    }

    m.to(float32);
    m.zero_grad();
    TensorList in32;
    for (const auto& n : inputs) in32.push_back(load_fixture(name, n).to(float32));
    Tensor out32 = run(in32, float32);
    CHECK(out32.dtype() == float32);
    close(out32, load_fixture(name, "out32"), name + " float32 output", kTol32Out);
    out32.backward(load_fixture(name, "gout").to(float32));
    for (const auto& item : m.named_parameters()) {
        const auto& key = std::get<0>(item);
        close(std::get<1>(item).grad(), load_fixture(name, "grad32." + key),
              name + " float32 grad " + key, kTol32Grad);
    }
}

nn::TransformerEncoderLayerOptions small(std::int64_t E = 4, std::int64_t H = 2) {
    return nn::TransformerEncoderLayerOptions(E, H).dim_feedforward(6).dropout(0.0);
}

Tensor seeded(const Shape& shape, std::uint64_t seed) {
    Generator g(seed);
    return sub(rand(shape, g, float64), 0.5);
}

}  // namespace

TEST_CASE("TransformerEncoderLayer parity: post-norm, relu, (S, N, E), float causal mask") {
    const std::string name = "nn/tfm_enc_post_relu";
    nn::TransformerEncoderLayer layer(nn::TransformerEncoderLayerOptions(6, 2).dim_feedforward(10));
    check_parity(*layer, name, {"src"}, [&](const TensorList& x, Dtype dt) {
        return layer(x[0], mask_of(name, "src_mask", false, dt),
                     mask_of(name, "src_key_padding_mask", true, dt));
    });
}

TEST_CASE("TransformerEncoderLayer parity: pre-norm, gelu, batch_first, bool causal mask") {
    const std::string name = "nn/tfm_enc_pre_gelu_bf";
    nn::TransformerEncoderLayer layer(nn::TransformerEncoderLayerOptions(6, 3)
                                          .dim_feedforward(8)
                                          .activation("gelu")
                                          .batch_first(true)
                                          .norm_first(true)
                                          .layer_norm_eps(1e-6));
    check_parity(*layer, name, {"src"}, [&](const TensorList& x, Dtype dt) {
        return layer(x[0], mask_of(name, "src_mask", true, dt),
                     mask_of(name, "src_key_padding_mask", true, dt));
    });
}

TEST_CASE("TransformerEncoder parity: two pre-norm gelu layers and a final LayerNorm") {
    const std::string name = "nn/tfm_encoder_stack";
    nn::TransformerEncoderLayer layer(nn::TransformerEncoderLayerOptions(6, 2)
                                          .dim_feedforward(12)
                                          .activation("gelu")
                                          .batch_first(true)
                                          .norm_first(true));
    nn::TransformerEncoder enc(
        nn::TransformerEncoderOptions(layer, 2).norm(nn::LayerNorm(nn::LayerNormOptions({6}))));
    check_parity(*enc, name, {"src"}, [&](const TensorList& x, Dtype dt) {
        return enc(x[0], mask_of(name, "mask", false, dt),
                   mask_of(name, "src_key_padding_mask", true, dt));
    });
}

TEST_CASE("TransformerDecoderLayer parity: post-norm, relu, every mask") {
    const std::string name = "nn/tfm_dec_post_relu";
    nn::TransformerDecoderLayer layer(nn::TransformerDecoderLayerOptions(6, 2).dim_feedforward(10));
    check_parity(*layer, name, {"tgt", "memory"}, [&](const TensorList& x, Dtype dt) {
        return layer(x[0], x[1], mask_of(name, "tgt_mask", false, dt),
                     mask_of(name, "memory_mask", true, dt),
                     mask_of(name, "tgt_key_padding_mask", true, dt),
                     mask_of(name, "memory_key_padding_mask", true, dt));
    });
}

TEST_CASE("TransformerDecoder parity: two pre-norm gelu batch_first layers, final LayerNorm") {
    const std::string name = "nn/tfm_decoder_stack";
    nn::TransformerDecoderLayer layer(nn::TransformerDecoderLayerOptions(6, 3)
                                          .dim_feedforward(8)
                                          .activation("gelu")
                                          .batch_first(true)
                                          .norm_first(true));
    nn::TransformerDecoder dec(
        nn::TransformerDecoderOptions(layer, 2).norm(nn::LayerNorm(nn::LayerNormOptions({6}))));
    check_parity(*dec, name, {"tgt", "memory"}, [&](const TensorList& x, Dtype dt) {
        return dec(x[0], x[1], mask_of(name, "tgt_mask", true, dt), Tensor(), Tensor(),
                   mask_of(name, "memory_key_padding_mask", true, dt));
    });
}

TEST_CASE("Transformer layers: PyTorch's defaults, names and deep copies in the stacks") {
    nn::TransformerEncoderLayer layer(8, 2);
    CHECK(layer->options.dim_feedforward() == 2048);
    CHECK(layer->options.dropout() == 0.1);
    CHECK(layer->options.activation() == "relu");
    CHECK(layer->options.layer_norm_eps() == 1e-5);
    CHECK(layer->linear1->weight.shape() == Shape{2048, 8});
    CHECK(layer->dropout->options.p() == 0.1);
    CHECK(layer->self_attn->options.dropout() == 0.1);
    CHECK(layer->state_dict().keys() ==
          std::vector<std::string>{
              "self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
              "self_attn.out_proj.bias", "linear1.weight", "linear1.bias", "linear2.weight",
              "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias"});
    nn::TransformerDecoderLayer dl(8, 2);
    CHECK(dl->state_dict().size() == 18);  // adds multihead_attn (4) and norm3 (2)

    // The stack copies the layer: equal values, separate storage, no draw from the global stream.
    nn::TransformerEncoderLayer proto(small().dropout(0.1));
    proto->to(float64);
    manual_seed(3);
    const double before = rand({1}, float64).item();
    manual_seed(3);
    nn::TransformerEncoder enc(proto, 3);
    CHECK(rand({1}, float64).item() == before);
    CHECK(enc->layer_list.size() == 3);
    CHECK(enc->state_dict().keys().front() == "layers.0.self_attn.in_proj_weight");
    CHECK(enc->state_dict().keys().back() == "layers.2.norm2.bias");
    CHECK(!enc->norm);
    const Tensor w0 = enc->layer_list[0]->linear1->weight, w2 = enc->layer_list[2]->linear1->weight;
    CHECK(w0.dtype() == float64);
    CHECK(max_abs_diff(w0, proto->linear1->weight) == 0.0);
    {
        NoGradGuard g;
        Tensor(w0).fill_(1.0);
    }
    CHECK(max_abs_diff(w2, proto->linear1->weight) == 0.0);
    CHECK(max_abs_diff(w0, proto->linear1->weight) > 0.0);
    nn::TransformerDecoder dec(nn::TransformerDecoderLayer(small()), 2);
    CHECK(dec->state_dict().keys().back() == "layers.1.norm3.bias");
}

TEST_CASE("Transformer layers: holder call forms, batch_first, unbatched input, Sequential") {
    nn::TransformerEncoderLayer layer(small());
    layer->to(float64);
    Tensor src = seeded({3, 2, 4}, 1), causal = nn::generate_square_subsequent_mask(3, float64);
    Tensor pad = tensor({{0, 0, 1}, {0, 0, 0}}, bool_);
    Tensor full = layer(src, causal, pad);
    CHECK(full.shape() == Shape{3, 2, 4});
    CHECK(max_abs_diff(layer(src, causal), layer(src, causal, Tensor())) == 0.0);
    CHECK(max_abs_diff(layer(src), layer->forward(src, Tensor(), Tensor())) == 0.0);
    // A bool causal mask is the float one.
    CHECK(max_abs_diff(layer(src, detail::causal_mask(3, 3), pad), full) < 1e-14);
    // batch_first is the same computation on the transposed layout.
    nn::TransformerEncoderLayer bf(small().batch_first(true));
    bf->to(float64);
    bf->load_state_dict(layer->state_dict());
    CHECK(max_abs_diff(transpose(bf(transpose(src, 0, 1), causal, pad), 0, 1), full) < 1e-14);
    // Unbatched (S, E) is the batch of one.
    Tensor one = src.index({Slice(), 0});
    CHECK(max_abs_diff(layer(one, causal, tensor({0, 0, 1}, bool_)), full.index({Slice(), 0})) <
          1e-14);
    // A Tensor -> Tensor module: Sequential holds it.
    nn::Linear lin(4, 4);
    lin->to(float64);
    nn::Sequential seq({lin, layer});
    CHECK(max_abs_diff(seq(src), layer(lin(src))) == 0.0);

    nn::TransformerDecoderLayer dl(small());
    dl->to(float64);
    Tensor mem = seeded({5, 2, 4}, 2);
    CHECK(dl(src, mem).shape() == Shape{3, 2, 4});
    CHECK(max_abs_diff(dl(src, mem, causal), dl->forward(src, mem, causal)) == 0.0);
    nn::TransformerDecoder dec(dl, 2);
    CHECK(dec(src, mem, causal).shape() == Shape{3, 2, 4});
    CHECK(dec(src.index({Slice(), 0}), mem.index({Slice(), 0})).shape() == Shape{3, 4});
}

TEST_CASE("Transformer layers: dropout in training only, from the given generator") {
    nn::TransformerEncoderLayer layer(small(8, 2).dropout(0.5));
    layer->to(float64);
    Tensor src = seeded({4, 2, 8}, 3);
    layer->set_generator(std::make_shared<Generator>(11));
    Tensor a = layer(src);
    layer->set_generator(std::make_shared<Generator>(11));
    Tensor b = layer(src);
    CHECK(max_abs_diff(a, b) == 0.0);
    layer->eval();
    Tensor e = layer(src);
    CHECK(max_abs_diff(a, e) > 1e-3);
    nn::TransformerEncoderLayer nodrop(small(8, 2));
    nodrop->to(float64);
    nodrop->load_state_dict(layer->state_dict());
    CHECK(max_abs_diff(nodrop(src), e) < 1e-14);  // eval is dropout off

    nn::TransformerDecoder dec(nn::TransformerDecoderLayer(small(8, 2).dropout(0.5)), 2);
    dec->to(float64);
    Tensor mem = seeded({3, 2, 8}, 4);
    dec->set_generator(std::make_shared<Generator>(5));
    Tensor da = dec(src, mem);
    dec->set_generator(std::make_shared<Generator>(5));
    CHECK(max_abs_diff(dec(src, mem), da) == 0.0);
    dec->eval();
    CHECK(max_abs_diff(dec(src, mem), da) > 1e-3);
}

TEST_CASE("Transformer layers: float64 gradcheck of inputs and parameters, gradgradcheck") {
    for (bool norm_first : {false, true}) {
        CAPTURE(norm_first);
        nn::TransformerEncoderLayer layer(small().activation("gelu").norm_first(norm_first));
        layer->to(float64);
        Tensor causal = nn::generate_square_subsequent_mask(3, float64);
        Tensor pad = tensor({{0, 0, 0}, {0, 1, 0}}, bool_);
        TensorList in = {seeded({3, 2, 4}, 6).requires_grad_()};
        auto r = gradcheck([&](const TensorList& v) { return layer(v[0], causal, pad); }, in);
        CHECK_MESSAGE(r.ok, r.log);
        Tensor src = seeded({3, 2, 4}, 7), gout = seeded({3, 2, 4}, 8);
        check_model_gradients(*layer, [&] { return sum(mul(layer(src, causal, pad), gout)); });

        nn::TransformerDecoderLayer dl(small().norm_first(norm_first));
        dl->to(float64);
        TensorList din = {seeded({3, 1, 4}, 9).requires_grad_(),
                          seeded({2, 1, 4}, 10).requires_grad_()};
        r = gradcheck([&](const TensorList& v) { return dl(v[0], v[1], causal); }, din);
        CHECK_MESSAGE(r.ok, r.log);
        Tensor tgt = seeded({3, 1, 4}, 11), mem = seeded({2, 1, 4}, 12);
        check_model_gradients(*dl, [&] { return sum(mul(dl(tgt, mem, causal), tgt)); });
    }
    nn::TransformerEncoderLayer tiny(small().activation("gelu").norm_first(true));
    tiny->to(float64);
    TensorList in = {seeded({2, 1, 4}, 13).requires_grad_()};
    auto r = gradgradcheck([&](const TensorList& v) { return tiny(v[0]); }, in);
    CHECK_MESSAGE(r.ok, r.log);
}

TEST_CASE("Transformer layers: bad options and inputs name the module and the values") {
    auto has = [](const std::string& msg, const std::string& module, const std::string& frag) {
        CHECK_MESSAGE(msg.rfind(module + ": ", 0) == 0, msg);
        CHECK_MESSAGE(msg.find(frag) != std::string::npos, msg);
    };
    const std::string el = "TransformerEncoderLayer", dl = "TransformerDecoderLayer";
    has(error_of([] { nn::TransformerEncoderLayer(6, 4); }), el,
        "d_model 6 is not divisible by nhead 4");
    has(error_of([] {
            nn::TransformerDecoderLayer(
                nn::TransformerDecoderLayerOptions(4, 2).activation("tanh"));
        }),
        dl, "activation should be relu/gelu, not tanh");
    has(error_of([] {
            nn::TransformerEncoderLayer(nn::TransformerEncoderLayerOptions(4, 2).dropout(1.5));
        }),
        el, "dropout must be in [0, 1), got 1.5");
    has(error_of([] { nn::TransformerEncoder(nn::TransformerEncoderLayer(small()), 0); }),
        "TransformerEncoder", "num_layers must be in [1, 4096], got 0");
    has(error_of([] {
            nn::TransformerEncoder(
                nn::TransformerEncoderOptions(nn::TransformerEncoderLayer(small()), 1)
                    .norm(nn::MultiheadAttention(4, 2)));
        }),
        "TransformerEncoder", "norm must map a Tensor to a Tensor, got a MultiheadAttention");

    nn::TransformerEncoderLayer layer(small());
    layer->to(float64);
    Tensor src = seeded({3, 2, 4}, 1);
    has(error_of([&] {
            layer(seeded({1, 3, 2, 4}, 1));
        }),
        el, "src must be 3-D (batched) or 2-D (unbatched), got shape [1, 3, 2, 4]");
    has(error_of([&] {
            layer(seeded({3, 2, 5}, 1));
        }),
        el, "src's last dim must be d_model 4, got shape [3, 2, 5]");
    has(error_of([&] { layer(src.to(float32)); }), el, "src is float32 but the parameters are");
    has(error_of([&] {
            layer(src, zeros({3, 2}, bool_));
        }),
        el, "src_mask must have shape [3, 3] or [4, 3, 3], got [3, 2]");
    has(error_of([&] {
            layer(src, zeros({3, 3}, int64));
        }),
        el, "src_mask must be bool or of the input's dtype float64, got int64");
    has(error_of([&] {
            layer(src, Tensor(), zeros({3, 2}, bool_));
        }),
        el, "src_key_padding_mask must have shape [2, 3], got [3, 2]");
    has(error_of([&] {
            layer(src, Tensor(), zeros({2, 3}, float32));
        }),
        el, "src_key_padding_mask must be bool or of the input's dtype float64, got float32");
    has(error_of([&] { layer(Tensor()); }), el, "src");

    nn::TransformerDecoderLayer dec(small());
    dec->to(float64);
    Tensor mem = seeded({5, 2, 4}, 2);
    has(error_of([&] {
            dec(src, seeded({5, 3, 4}, 2));
        }),
        dl, "memory [5, 3, 4] and tgt [3, 2, 4] must have the same batch size");
    has(error_of([&] {
            dec(src, seeded({5, 2, 3}, 2));
        }),
        dl, "memory's last dim must be d_model 4, got shape [5, 2, 3]");
    has(error_of([&] {
            dec(src, mem, Tensor(), zeros({3, 3}, bool_));
        }),
        dl, "memory_mask must have shape [3, 5] or [4, 3, 5], got [3, 3]");
    has(error_of([&] {
            dec(src, mem, Tensor(), Tensor(), Tensor(), zeros({2, 3}, bool_));
        }),
        dl, "memory_key_padding_mask must have shape [2, 5], got [2, 3]");
    nn::TransformerEncoder enc(layer, 2);
    has(error_of([&] {
            enc(seeded({3, 4}, 1), zeros({4, 4}, bool_));
        }),
        "TransformerEncoder", "src_mask must have shape [3, 3] or [2, 3, 3], got [4, 4]");
}

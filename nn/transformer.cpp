#include "nn/transformer.hpp"

#include <tuple>

#include "core/dispatch.hpp"
#include "ops/elementwise.hpp"
#include "ops/math.hpp"

namespace xg::nn {

namespace {

constexpr const char* kEncLayer = "TransformerEncoderLayer";
constexpr const char* kDecLayer = "TransformerDecoderLayer";

void check_options(const char* who, const TransformerEncoderLayerOptions& o) {
    XG_CHECK(o.d_model() > 0 && o.nhead() > 0,
             "{}: d_model and nhead must be positive, got {} and {}", who, o.d_model(), o.nhead());
    XG_CHECK(o.d_model() % o.nhead() == 0, "{}: d_model {} is not divisible by nhead {}", who,
             o.d_model(), o.nhead());
    XG_CHECK(o.dim_feedforward() > 0, "{}: dim_feedforward must be positive, got {}", who,
             o.dim_feedforward());
    XG_CHECK(o.dropout() >= 0.0 && o.dropout() < 1.0, "{}: dropout must be in [0, 1), got {}", who,
             o.dropout());
    XG_CHECK(o.activation() == "relu" || o.activation() == "gelu",
             "{}: activation should be relu/gelu, not {}", who, o.activation());
    XG_CHECK(o.layer_norm_eps() >= 0.0, "{}: layer_norm_eps must be non-negative, got {}", who,
             o.layer_norm_eps());
}

MultiheadAttention make_attention(const TransformerEncoderLayerOptions& o) {
    return MultiheadAttention(MultiheadAttentionOptions(o.d_model(), o.nhead())
                                  .dropout(o.dropout())
                                  .batch_first(o.batch_first()));
}

LayerNorm make_norm(const TransformerEncoderLayerOptions& o) {
    return LayerNorm(LayerNormOptions({o.d_model()}).eps(o.layer_norm_eps()));
}

Tensor activate(const std::string& name, const Tensor& x) {
    return name == "gelu" ? gelu(x) : relu(x);
}

// The length and batch size of a sequence input, after checking its rank, width and dtype.
struct SeqDims {
    std::size_t len, batch;
    bool batched;
};

SeqDims check_seq(const char* who, const char* name, const Tensor& x,
                  const TransformerEncoderLayerOptions& o, Dtype dtype) {
    xg::detail::check_defined(who, x, name);
    XG_CHECK(x.dim() == 3 || x.dim() == 2,
             "{}: {} must be 3-D (batched) or 2-D (unbatched), got shape {}", who, name, x.shape());
    const auto E = static_cast<std::size_t>(o.d_model());
    XG_CHECK(x.size(-1) == E, "{}: {}'s last dim must be d_model {}, got shape {}", who, name, E,
             x.shape());
    XG_CHECK(x.dtype() == dtype, "{}: {} is {} but the parameters are {} (use module->to())", who,
             name, x.dtype(), dtype);
    if (x.dim() == 2) return {x.size(0), 1, false};
    return o.batch_first() ? SeqDims{x.size(1), x.size(0), true}
                           : SeqDims{x.size(0), x.size(1), true};
}

void check_mask_dtype(const char* who, const char* name, const Tensor& m, Dtype dtype) {
    XG_CHECK(m.dtype() == bool_ || m.dtype() == dtype,
             "{}: {} must be bool or of the input's dtype {}, got {}", who, name, dtype, m.dtype());
}

// An attention mask: (L, S) or (N * nhead, L, S).
void check_attn_mask(const char* who, const char* name, const Tensor& m, std::size_t L,
                     std::size_t S, std::size_t N, std::int64_t nhead, Dtype dtype) {
    if (!m.defined()) return;
    check_mask_dtype(who, name, m, dtype);
    const Shape two{L, S}, three{N * static_cast<std::size_t>(nhead), L, S};
    XG_CHECK(m.shape() == two || m.shape() == three, "{}: {} must have shape {} or {}, got {}", who,
             name, two, three, m.shape());
}

// A key padding mask: (N, S), or (S) for unbatched input.
void check_padding_mask(const char* who, const char* name, const Tensor& m, const SeqDims& d,
                        Dtype dtype) {
    if (!m.defined()) return;
    check_mask_dtype(who, name, m, dtype);
    const Shape want = d.batched ? Shape{d.batch, d.len} : Shape{d.len};
    XG_CHECK(m.shape() == want, "{}: {} must have shape {}, got {}", who, name, want, m.shape());
}

void check_encoder_inputs(const char* who, const TransformerEncoderLayerOptions& o, Dtype dtype,
                          const Tensor& src, const Tensor& mask, const Tensor& kpm) {
    const SeqDims d = check_seq(who, "src", src, o, dtype);
    check_attn_mask(who, "src_mask", mask, d.len, d.len, d.batch, o.nhead(), dtype);
    check_padding_mask(who, "src_key_padding_mask", kpm, d, dtype);
}

void check_decoder_inputs(const char* who, const TransformerDecoderLayerOptions& o, Dtype dtype,
                          const Tensor& tgt, const Tensor& memory, const Tensor& tgt_mask,
                          const Tensor& memory_mask, const Tensor& tgt_kpm,
                          const Tensor& memory_kpm) {
    const SeqDims t = check_seq(who, "tgt", tgt, o, dtype);
    const SeqDims m = check_seq(who, "memory", memory, o, dtype);
    XG_CHECK(t.batched == m.batched && t.batch == m.batch,
             "{}: memory {} and tgt {} must have the same batch size", who, memory.shape(),
             tgt.shape());
    check_attn_mask(who, "tgt_mask", tgt_mask, t.len, t.len, t.batch, o.nhead(), dtype);
    check_attn_mask(who, "memory_mask", memory_mask, t.len, m.len, t.batch, o.nhead(), dtype);
    check_padding_mask(who, "tgt_key_padding_mask", tgt_kpm, t, dtype);
    check_padding_mask(who, "memory_key_padding_mask", memory_kpm, m, dtype);
}

// Builds a copy without drawing from the global stream (the values are overwritten), then
// copies the values, dtype, requires_grad flags and mode.
template <class Impl>
std::shared_ptr<Impl> copy_module(const Impl& m) {
    Generator& gen = default_generator();
    const std::string saved = gen.state();
    auto c = std::make_shared<Impl>(m.options);
    gen.set_state(saved);
    const StateDict sd = m.state_dict();
    if (!sd.empty()) c->to(sd.begin()->second.dtype());
    c->load_state_dict(sd);
    const auto mine = m.named_parameters();
    for (const auto& item : c->named_parameters())
        Tensor(item.second).requires_grad_(mine.at(item.first).requires_grad());
    c->train(m.is_training());
    return c;
}

}  // namespace

// ---- TransformerEncoderLayer ----

TransformerEncoderLayerImpl::TransformerEncoderLayerImpl(const TransformerEncoderLayerOptions& o)
    : UnaryModule(kEncLayer), options(o) {
    check_options(kEncLayer, o);
    // Registration order is PyTorch's: the state_dict keys and the init draws follow it.
    self_attn = register_module("self_attn", make_attention(o));
    linear1 = register_module("linear1", Linear(o.d_model(), o.dim_feedforward()));
    dropout = register_module("dropout", Dropout(o.dropout()));
    linear2 = register_module("linear2", Linear(o.dim_feedforward(), o.d_model()));
    norm1 = register_module("norm1", make_norm(o));
    norm2 = register_module("norm2", make_norm(o));
    dropout1 = register_module("dropout1", Dropout(o.dropout()));
    dropout2 = register_module("dropout2", Dropout(o.dropout()));
}

void TransformerEncoderLayerImpl::reset_parameters(Generator& gen) {
    self_attn->reset_parameters(gen);
    linear1->reset_parameters(gen);
    linear2->reset_parameters(gen);
    norm1->reset_parameters();
    norm2->reset_parameters();
}

std::shared_ptr<TransformerEncoderLayerImpl> TransformerEncoderLayerImpl::clone() const {
    auto c = copy_module(*this);
    c->self_attn->generator = self_attn->generator;
    c->dropout->generator = dropout->generator;
    c->dropout1->generator = dropout1->generator;
    c->dropout2->generator = dropout2->generator;
    return c;
}

void TransformerEncoderLayerImpl::set_generator(std::shared_ptr<Generator> gen) {
    self_attn->set_generator(gen);
    dropout->set_generator(gen);
    dropout1->set_generator(gen);
    dropout2->set_generator(gen);
}

Tensor TransformerEncoderLayerImpl::forward(const Tensor& src, const Tensor& src_mask,
                                            const Tensor& src_key_padding_mask) {
    check_encoder_inputs(kEncLayer, options, self_attn->in_proj_weight.dtype(), src, src_mask,
                         src_key_padding_mask);
    auto sa = [&](const Tensor& x) {
        Tensor a = std::get<0>(self_attn->forward(x, x, x, src_key_padding_mask, false, src_mask));
        return (*dropout1)(a);
    };
    auto ff = [&](const Tensor& x) {
        Tensor h = (*dropout)(activate(options.activation(), (*linear1)(x)));
        return (*dropout2)((*linear2)(h));
    };
    Tensor x = src;
    if (options.norm_first()) {
        x = add(x, sa((*norm1)(x)));
        x = add(x, ff((*norm2)(x)));
    } else {
        x = (*norm1)(add(x, sa(x)));
        x = (*norm2)(add(x, ff(x)));
    }
    return x;
}

// ---- TransformerDecoderLayer ----

TransformerDecoderLayerImpl::TransformerDecoderLayerImpl(const TransformerDecoderLayerOptions& o)
    : Module(kDecLayer), options(o) {
    check_options(kDecLayer, o);
    self_attn = register_module("self_attn", make_attention(o));
    multihead_attn = register_module("multihead_attn", make_attention(o));
    linear1 = register_module("linear1", Linear(o.d_model(), o.dim_feedforward()));
    dropout = register_module("dropout", Dropout(o.dropout()));
    linear2 = register_module("linear2", Linear(o.dim_feedforward(), o.d_model()));
    norm1 = register_module("norm1", make_norm(o));
    norm2 = register_module("norm2", make_norm(o));
    norm3 = register_module("norm3", make_norm(o));
    dropout1 = register_module("dropout1", Dropout(o.dropout()));
    dropout2 = register_module("dropout2", Dropout(o.dropout()));
    dropout3 = register_module("dropout3", Dropout(o.dropout()));
}

void TransformerDecoderLayerImpl::reset_parameters(Generator& gen) {
    self_attn->reset_parameters(gen);
    multihead_attn->reset_parameters(gen);
    linear1->reset_parameters(gen);
    linear2->reset_parameters(gen);
    norm1->reset_parameters();
    norm2->reset_parameters();
    norm3->reset_parameters();
}

std::shared_ptr<TransformerDecoderLayerImpl> TransformerDecoderLayerImpl::clone() const {
    auto c = copy_module(*this);
    c->self_attn->generator = self_attn->generator;
    c->multihead_attn->generator = multihead_attn->generator;
    c->dropout->generator = dropout->generator;
    c->dropout1->generator = dropout1->generator;
    c->dropout2->generator = dropout2->generator;
    c->dropout3->generator = dropout3->generator;
    return c;
}

void TransformerDecoderLayerImpl::set_generator(std::shared_ptr<Generator> gen) {
    self_attn->set_generator(gen);
    multihead_attn->set_generator(gen);
    dropout->set_generator(gen);
    dropout1->set_generator(gen);
    dropout2->set_generator(gen);
    dropout3->set_generator(gen);
}

Tensor TransformerDecoderLayerImpl::forward(const Tensor& tgt, const Tensor& memory,
                                            const Tensor& tgt_mask, const Tensor& memory_mask,
                                            const Tensor& tgt_key_padding_mask,
                                            const Tensor& memory_key_padding_mask) {
    check_decoder_inputs(kDecLayer, options, self_attn->in_proj_weight.dtype(), tgt, memory,
                         tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask);
    auto sa = [&](const Tensor& x) {
        Tensor a = std::get<0>(self_attn->forward(x, x, x, tgt_key_padding_mask, false, tgt_mask));
        return (*dropout1)(a);
    };
    auto mha = [&](const Tensor& x) {
        Tensor a = std::get<0>(multihead_attn->forward(x, memory, memory, memory_key_padding_mask,
                                                       false, memory_mask));
        return (*dropout2)(a);
    };
    auto ff = [&](const Tensor& x) {
        Tensor h = (*dropout)(activate(options.activation(), (*linear1)(x)));
        return (*dropout3)((*linear2)(h));
    };
    Tensor x = tgt;
    if (options.norm_first()) {
        x = add(x, sa((*norm1)(x)));
        x = add(x, mha((*norm2)(x)));
        x = add(x, ff((*norm3)(x)));
    } else {
        x = (*norm1)(add(x, sa(x)));
        x = (*norm2)(add(x, mha(x)));
        x = (*norm3)(add(x, ff(x)));
    }
    return x;
}

// ---- the stacks ----

namespace {

constexpr const char* kEnc = "TransformerEncoder";
constexpr const char* kDec = "TransformerDecoder";

std::shared_ptr<UnaryModule> final_norm(const char* who, const std::optional<AnyModule>& norm) {
    if (!norm) return nullptr;
    XG_CHECK(norm->ptr != nullptr, "{}: norm is null", who);
    auto p = std::dynamic_pointer_cast<UnaryModule>(norm->ptr);
    XG_CHECK(p != nullptr, "{}: norm must map a Tensor to a Tensor, got a {}", who,
             norm->ptr->type_name());
    return p;
}

void check_stack(const char* who, bool has_layer, std::int64_t num_layers) {
    XG_CHECK(has_layer, "{}: the layer to clone is null", who);
    XG_CHECK(num_layers >= 1 && num_layers <= 4096, "{}: num_layers must be in [1, 4096], got {}",
             who, num_layers);
}

}  // namespace

TransformerEncoderImpl::TransformerEncoderImpl(const TransformerEncoderOptions& o)
    : UnaryModule(kEnc), options(o) {
    check_stack(kEnc, o.encoder_layer().ptr() != nullptr, o.num_layers());
    layers = register_module("layers", ModuleList());
    for (std::int64_t i = 0; i < o.num_layers(); ++i) {
        layer_list.push_back(o.encoder_layer()->clone());
        layers->push_back(layer_list.back());
    }
    norm = final_norm(kEnc, o.norm());
    if (norm) register_module("norm", norm);
}

void TransformerEncoderImpl::set_generator(std::shared_ptr<Generator> gen) {
    for (auto& l : layer_list) l->set_generator(gen);
}

Tensor TransformerEncoderImpl::forward(const Tensor& src, const Tensor& mask,
                                       const Tensor& src_key_padding_mask) {
    const auto& first = *layer_list.front();
    check_encoder_inputs(kEnc, first.options, first.self_attn->in_proj_weight.dtype(), src, mask,
                         src_key_padding_mask);
    Tensor x = src;
    for (auto& l : layer_list) x = l->forward(x, mask, src_key_padding_mask);
    return norm ? (*norm)(x) : x;
}

TransformerDecoderImpl::TransformerDecoderImpl(const TransformerDecoderOptions& o)
    : Module(kDec), options(o) {
    check_stack(kDec, o.decoder_layer().ptr() != nullptr, o.num_layers());
    layers = register_module("layers", ModuleList());
    for (std::int64_t i = 0; i < o.num_layers(); ++i) {
        layer_list.push_back(o.decoder_layer()->clone());
        layers->push_back(layer_list.back());
    }
    norm = final_norm(kDec, o.norm());
    if (norm) register_module("norm", norm);
}

void TransformerDecoderImpl::set_generator(std::shared_ptr<Generator> gen) {
    for (auto& l : layer_list) l->set_generator(gen);
}

Tensor TransformerDecoderImpl::forward(const Tensor& tgt, const Tensor& memory,
                                       const Tensor& tgt_mask, const Tensor& memory_mask,
                                       const Tensor& tgt_key_padding_mask,
                                       const Tensor& memory_key_padding_mask) {
    const auto& first = *layer_list.front();
    check_decoder_inputs(kDec, first.options, first.self_attn->in_proj_weight.dtype(), tgt, memory,
                         tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask);
    Tensor x = tgt;
    for (auto& l : layer_list)
        x = l->forward(x, memory, tgt_mask, memory_mask, tgt_key_padding_mask,
                       memory_key_padding_mask);
    return norm ? (*norm)(x) : x;
}

}  // namespace xg::nn

#pragma once
// nn::TransformerEncoderLayer, TransformerDecoderLayer, TransformerEncoder and TransformerDecoder,
// as torch.nn's (PyTorch 1.13) with libtorch's options; see docs/nn.md.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/options.hpp"
#include "core/random.hpp"
#include "nn/attention.hpp"
#include "nn/containers.hpp"
#include "nn/layers.hpp"
#include "nn/module.hpp"
#include "nn/norm.hpp"
#include "nn/sequential.hpp"

namespace xg::nn {

// torch::nn::TransformerEncoderLayerOptions(d_model, nhead); the decoder layer takes the same.
// activation is "relu" or "gelu" (erf GELU, F.gelu's default).
struct TransformerEncoderLayerOptions {
    TransformerEncoderLayerOptions(std::int64_t d_model, std::int64_t nhead)
        : d_model_(d_model), nhead_(nhead) {}
    XG_ARG(std::int64_t, d_model);
    XG_ARG(std::int64_t, nhead);
    XG_ARG(std::int64_t, dim_feedforward) = 2048;
    XG_ARG(double, dropout) = 0.1;
    XG_ARG(std::string, activation) = "relu";
    XG_ARG(double, layer_norm_eps) = 1e-5;
    XG_ARG(bool, batch_first) = false;
    XG_ARG(bool, norm_first) = false;
};
using TransformerDecoderLayerOptions = TransformerEncoderLayerOptions;

// Submodules (and state_dict keys) as PyTorch: self_attn, linear1, dropout, linear2, norm1,
// norm2, dropout1, dropout2.
//   norm_first=false: x = norm1(x + dropout1(sa(x))); x = norm2(x + dropout2(ff(x)))
//   norm_first=true:  x = x + dropout1(sa(norm1(x))); x = x + dropout2(ff(norm2(x)))
// with ff(x) = linear2(dropout(activation(linear1(x)))). src is (S, N, E) ((N, S, E) with
// batch_first) or unbatched (S, E); src_mask (S, S) or (N * nhead, S, S) and
// src_key_padding_mask (N, S) are bool (true = masked out) or float (added to the scores), as
// MultiheadAttention's. A Tensor -> Tensor module, so it also sits in a Sequential.
class TransformerEncoderLayerImpl : public UnaryModule {
  public:
    TransformerEncoderLayerImpl(std::int64_t d_model, std::int64_t nhead)
        : TransformerEncoderLayerImpl(TransformerEncoderLayerOptions(d_model, nhead)) {}
    explicit TransformerEncoderLayerImpl(const TransformerEncoderLayerOptions& options);
    Tensor forward(const Tensor& src) override { return forward(src, Tensor()); }
    Tensor forward(const Tensor& src, const Tensor& src_mask,
                   const Tensor& src_key_padding_mask = Tensor());
    void reset_parameters(Generator& gen = default_generator());
    // A deep copy (same values, dtype, mode and dropout generator), as copy.deepcopy.
    std::shared_ptr<TransformerEncoderLayerImpl> clone() const;
    // One dropout stream for every dropout inside (attention weights included).
    void set_generator(std::shared_ptr<Generator> gen);
    TransformerEncoderLayerOptions options;
    MultiheadAttention self_attn{nullptr};
    Linear linear1{nullptr}, linear2{nullptr};
    Dropout dropout{nullptr}, dropout1{nullptr}, dropout2{nullptr};
    LayerNorm norm1{nullptr}, norm2{nullptr};
};
XG_MODULE(TransformerEncoderLayer);

// Adds the cross attention multihead_attn, norm3 and dropout3 (PyTorch's names):
//   norm_first=false: x = norm1(x + sa(x)); x = norm2(x + mha(x, memory)); x = norm3(x + ff(x))
//   norm_first=true:  x = x + sa(norm1(x)); x = x + mha(norm2(x), memory); x = x + ff(norm3(x))
// tgt is (T, N, E), memory (S, N, E) (batch first: (N, T, E), (N, S, E); unbatched (T, E),
// (S, E)). tgt_mask (T, T), memory_mask (T, S), tgt_key_padding_mask (N, T),
// memory_key_padding_mask (N, S).
class TransformerDecoderLayerImpl : public Module {
  public:
    TransformerDecoderLayerImpl(std::int64_t d_model, std::int64_t nhead)
        : TransformerDecoderLayerImpl(TransformerDecoderLayerOptions(d_model, nhead)) {}
    explicit TransformerDecoderLayerImpl(const TransformerDecoderLayerOptions& options);
    Tensor forward(const Tensor& tgt, const Tensor& memory, const Tensor& tgt_mask = Tensor(),
                   const Tensor& memory_mask = Tensor(),
                   const Tensor& tgt_key_padding_mask = Tensor(),
                   const Tensor& memory_key_padding_mask = Tensor());
    void reset_parameters(Generator& gen = default_generator());
    std::shared_ptr<TransformerDecoderLayerImpl> clone() const;
    void set_generator(std::shared_ptr<Generator> gen);
    TransformerDecoderLayerOptions options;
    MultiheadAttention self_attn{nullptr}, multihead_attn{nullptr};
    Linear linear1{nullptr}, linear2{nullptr};
    Dropout dropout{nullptr}, dropout1{nullptr}, dropout2{nullptr}, dropout3{nullptr};
    LayerNorm norm1{nullptr}, norm2{nullptr}, norm3{nullptr};
};
XG_MODULE(TransformerDecoderLayer);

// torch::nn::TransformerEncoderOptions(encoder_layer, num_layers).norm(nn::LayerNorm(...)): the
// layer is deep-copied num_layers times (keys "layers.0.self_attn.in_proj_weight", ...); the
// optional final norm (a Tensor -> Tensor module, registered as "norm") is used as given.
struct TransformerEncoderOptions {
    TransformerEncoderOptions(TransformerEncoderLayer encoder_layer, std::int64_t num_layers)
        : encoder_layer_(std::move(encoder_layer)), num_layers_(num_layers) {}
    XG_ARG(TransformerEncoderLayer, encoder_layer);
    XG_ARG(std::int64_t, num_layers);
    XG_ARG(std::optional<AnyModule>, norm) = std::nullopt;
};

class TransformerEncoderImpl : public UnaryModule {
  public:
    TransformerEncoderImpl(TransformerEncoderLayer encoder_layer, std::int64_t num_layers)
        : TransformerEncoderImpl(TransformerEncoderOptions(std::move(encoder_layer), num_layers)) {}
    explicit TransformerEncoderImpl(const TransformerEncoderOptions& options);
    Tensor forward(const Tensor& src) override { return forward(src, Tensor()); }
    Tensor forward(const Tensor& src, const Tensor& mask,
                   const Tensor& src_key_padding_mask = Tensor());
    void set_generator(std::shared_ptr<Generator> gen);
    TransformerEncoderOptions options;
    ModuleList layers{nullptr};
    std::vector<std::shared_ptr<TransformerEncoderLayerImpl>> layer_list;
    std::shared_ptr<UnaryModule> norm;  // null without a final norm
};
XG_MODULE(TransformerEncoder);

struct TransformerDecoderOptions {
    TransformerDecoderOptions(TransformerDecoderLayer decoder_layer, std::int64_t num_layers)
        : decoder_layer_(std::move(decoder_layer)), num_layers_(num_layers) {}
    XG_ARG(TransformerDecoderLayer, decoder_layer);
    XG_ARG(std::int64_t, num_layers);
    XG_ARG(std::optional<AnyModule>, norm) = std::nullopt;
};

class TransformerDecoderImpl : public Module {
  public:
    TransformerDecoderImpl(TransformerDecoderLayer decoder_layer, std::int64_t num_layers)
        : TransformerDecoderImpl(TransformerDecoderOptions(std::move(decoder_layer), num_layers)) {}
    explicit TransformerDecoderImpl(const TransformerDecoderOptions& options);
    Tensor forward(const Tensor& tgt, const Tensor& memory, const Tensor& tgt_mask = Tensor(),
                   const Tensor& memory_mask = Tensor(),
                   const Tensor& tgt_key_padding_mask = Tensor(),
                   const Tensor& memory_key_padding_mask = Tensor());
    void set_generator(std::shared_ptr<Generator> gen);
    TransformerDecoderOptions options;
    ModuleList layers{nullptr};
    std::vector<std::shared_ptr<TransformerDecoderLayerImpl>> layer_list;
    std::shared_ptr<UnaryModule> norm;
};
XG_MODULE(TransformerDecoder);

}  // namespace xg::nn

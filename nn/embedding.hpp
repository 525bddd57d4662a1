#pragma once
// nn::Embedding, a lookup table of num_embeddings rows of embedding_dim, as torch.nn.Embedding:
// weight ~ N(0, 1) with the padding_idx row zeroed (that row gets no gradient), optional
// max_norm renormalizing the rows looked up, and Embedding::from_pretrained.
#include <cstdint>
#include <optional>

#include "core/options.hpp"
#include "core/random.hpp"
#include "nn/module.hpp"

namespace xg::nn {

// torch::nn::EmbeddingOptions(num_embeddings, embedding_dim).padding_idx(0).max_norm(1.0).
struct EmbeddingOptions {
    EmbeddingOptions(std::int64_t num_embeddings, std::int64_t embedding_dim)
        : num_embeddings_(num_embeddings), embedding_dim_(embedding_dim) {}
    XG_ARG(std::int64_t, num_embeddings);
    XG_ARG(std::int64_t, embedding_dim);
    XG_ARG(std::optional<std::int64_t>, padding_idx) = std::nullopt;  // negative: from the end
    XG_ARG(std::optional<double>, max_norm) = std::nullopt;
    XG_ARG(double, norm_type) = 2.0;  // the p of max_norm's p-norm
};

// torch::nn::EmbeddingFromPretrainedOptions().freeze(false).padding_idx(0).
struct EmbeddingFromPretrainedOptions {
    XG_ARG(bool, freeze) = true;
    XG_ARG(std::optional<std::int64_t>, padding_idx) = std::nullopt;
    XG_ARG(std::optional<double>, max_norm) = std::nullopt;
    XG_ARG(double, norm_type) = 2.0;
};

class EmbeddingImpl : public UnaryModule {
  public:
    EmbeddingImpl(std::int64_t num_embeddings, std::int64_t embedding_dim)
        : EmbeddingImpl(EmbeddingOptions(num_embeddings, embedding_dim)) {}
    // The options' padding_idx is stored counted from the start, as PyTorch does.
    explicit EmbeddingImpl(const EmbeddingOptions& options);
    // Takes `weight` (2-D, floating) as the table instead of drawing one; shares its data.
    EmbeddingImpl(const EmbeddingOptions& options, const Tensor& weight);
    void reset_parameters(Generator& gen = default_generator());
    // ids: int64 or int32 of any shape; result ids' shape + [embedding_dim].
    Tensor forward(const Tensor& ids) override;
    std::string extra_repr() const override;
    EmbeddingOptions options;
    Tensor weight;
};

class Embedding : public ModuleHolder<EmbeddingImpl> {
  public:
    using ModuleHolder<EmbeddingImpl>::ModuleHolder;
    // torch.nn.Embedding.from_pretrained: the module's weight shares `embeddings`' data and
    // requires grad only when freeze is false; the padding row is left as given.
    static Embedding from_pretrained(const Tensor& embeddings, bool freeze = true,
                                     std::optional<std::int64_t> padding_idx = std::nullopt,
                                     std::optional<double> max_norm = std::nullopt);
    static Embedding from_pretrained(const Tensor& embeddings,
                                     const EmbeddingFromPretrainedOptions& options);
};

}  // namespace xg::nn

#include "nn/embedding.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/checked.hpp"
#include "core/dispatch.hpp"
#include "core/grad_mode.hpp"
#include "nn/init.hpp"
#include "nn/layers.hpp"
#include "ops/gather.hpp"

namespace xg::nn {

namespace {

EmbeddingOptions checked(EmbeddingOptions o) {
    const std::int64_t n = o.num_embeddings(), d = o.embedding_dim();
    XG_CHECK(n >= 0 && d >= 0,
             "Embedding: num_embeddings and embedding_dim must be non-negative, got {} and {}", n,
             d);
    if (o.padding_idx()) {
        const std::int64_t p = *o.padding_idx();
        XG_CHECK(p >= -n && p < n,
                 "Embedding: padding_idx {} is out of range for num_embeddings {}", p, n);
        if (p < 0) o.padding_idx(p + n);
    }
    if (o.max_norm()) {
        XG_CHECK(*o.max_norm() >= 0.0, "Embedding: max_norm must be non-negative, got {}",
                 *o.max_norm());
    }
    XG_CHECK(o.norm_type() > 0.0, "Embedding: norm_type must be positive, got {}", o.norm_type());
    checked_numel("Embedding", {std::size_t(n), std::size_t(d)}, sizeof(float));
    return o;
}

// torch.embedding_renorm_: each distinct row looked up whose p-norm exceeds max_norm is scaled
// by max_norm / (norm + 1e-7), in place and unrecorded.
void renorm_rows(const Tensor& weight, std::vector<std::int64_t> ids, double max_norm, double p) {
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    NoGradGuard no_grad;
    Tensor w = weight;
    xg::detail::dispatch_float("Embedding", w.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const std::size_t width = w.shape()[1];
        T* data = w.mutable_data<T>().data();
        for (auto id : ids) {
            T* row = data + static_cast<std::size_t>(id) * width;
            double norm = 0.0;
            for (std::size_t j = 0; j < width; ++j) {
                const double a = std::abs(double(row[j]));
                norm += p == 2.0 ? a * a : p == 1.0 ? a : std::pow(a, p);
            }
            norm = p == 2.0 ? std::sqrt(norm) : p == 1.0 ? norm : std::pow(norm, 1.0 / p);
            if (norm > max_norm) {
                const double scale = max_norm / (norm + 1e-7);
                for (std::size_t j = 0; j < width; ++j) row[j] = T(double(row[j]) * scale);
            }
        }
        return Tensor();
    });
}

}  // namespace

EmbeddingImpl::EmbeddingImpl(const EmbeddingOptions& o)
    : UnaryModule("Embedding"), options(checked(o)) {
    weight = register_parameter(
        "weight", zeros({std::size_t(o.num_embeddings()), std::size_t(o.embedding_dim())}));
    reset_parameters();
}

EmbeddingImpl::EmbeddingImpl(const EmbeddingOptions& o, const Tensor& w)
    : UnaryModule("Embedding"), options(checked(o)) {
    XG_CHECK(w.defined() && w.dim() == 2,
             "Embedding: the pretrained weight must be 2-D, got shape {}",
             w.defined() ? w.shape() : Shape{});
    XG_CHECK(is_floating(w.dtype()), "Embedding: the pretrained weight must be floating, got {}",
             w.dtype());
    XG_CHECK(std::int64_t(w.shape()[0]) == o.num_embeddings() &&
                 std::int64_t(w.shape()[1]) == o.embedding_dim(),
             "Embedding: the pretrained weight has shape {}, expected [{}, {}]", w.shape(),
             o.num_embeddings(), o.embedding_dim());
    weight = register_parameter("weight", w.detach());
}

void EmbeddingImpl::reset_parameters(Generator& gen) {
    init::normal_(weight, 0.0, 1.0, gen);
    if (options.padding_idx()) {
        NoGradGuard no_grad;
        Tensor w = weight;
        xg::detail::dispatch_float("Embedding", w.dtype(), [&](auto tag) {
            using T = decltype(tag);
            const std::size_t width = w.shape()[1];
            T* row = w.mutable_data<T>().data() + std::size_t(*options.padding_idx()) * width;
            std::fill_n(row, width, T(0));
            return Tensor();
        });
    }
}

Tensor EmbeddingImpl::forward(const Tensor& ids) {
    const std::vector<std::int64_t> v = xg::detail::index_values("Embedding", ids, "ids");
    const std::int64_t n = options.num_embeddings();
    for (auto id : v)
        XG_CHECK(id >= 0 && id < n, "Embedding: id {} is out of range for num_embeddings {}", id,
                 n);
    if (options.max_norm()) renorm_rows(weight, v, *options.max_norm(), options.norm_type());
    return embedding(weight, ids, options.padding_idx());
}

std::string EmbeddingImpl::extra_repr() const {
    std::string s = fmt::format("{}, {}", options.num_embeddings(), options.embedding_dim());
    if (options.padding_idx()) s += fmt::format(", padding_idx={}", *options.padding_idx());
    if (options.max_norm()) s += ", max_norm=" + detail::py_float(*options.max_norm());
    if (options.norm_type() != 2.0) s += ", norm_type=" + detail::py_float(options.norm_type());
    return s;
}

Embedding Embedding::from_pretrained(const Tensor& embeddings, bool freeze,
                                     std::optional<std::int64_t> padding_idx,
                                     std::optional<double> max_norm) {
    XG_CHECK(embeddings.defined() && embeddings.dim() == 2,
             "Embedding::from_pretrained: embeddings must be 2-D, got shape {}",
             embeddings.defined() ? embeddings.shape() : Shape{});
    auto o =
        EmbeddingOptions(std::int64_t(embeddings.shape()[0]), std::int64_t(embeddings.shape()[1]))
            .padding_idx(padding_idx)
            .max_norm(max_norm);
    Embedding e(std::make_shared<EmbeddingImpl>(o, embeddings));
    e->weight.requires_grad_(!freeze);
    return e;
}

Embedding Embedding::from_pretrained(const Tensor& embeddings,
                                     const EmbeddingFromPretrainedOptions& options) {
    Embedding e =
        from_pretrained(embeddings, options.freeze(), options.padding_idx(), options.max_norm());
    XG_CHECK(options.norm_type() > 0.0, "Embedding: norm_type must be positive, got {}",
             options.norm_type());
    e->options.norm_type(options.norm_type());
    return e;
}

}  // namespace xg::nn

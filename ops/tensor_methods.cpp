// The Tensor methods that mirror torch::Tensor's for the ops of ops/, each calling the free
// function of the same name (the older methods sit next to their ops).
#include "core/random.hpp"
#include "core/tensor.hpp"
#include "ops/elementwise.hpp"
#include "ops/gather.hpp"
#include "ops/layout.hpp"
#include "ops/linalg.hpp"
#include "ops/logical.hpp"
#include "ops/random.hpp"
#include "ops/reduce.hpp"
#include "ops/reduce_more.hpp"
#include "ops/scan.hpp"
#include "ops/sort.hpp"

namespace xg {

using TensorPair = std::tuple<Tensor, Tensor>;
using Ints = std::vector<std::int64_t>;

Tensor Tensor::sum(std::int64_t dim, bool keepdim, Site site) const {
    return xg::sum(*this, Ints{dim}, keepdim, site);
}
Tensor Tensor::mean(std::int64_t dim, bool keepdim, Site site) const {
    return xg::mean(*this, Ints{dim}, keepdim, site);
}

#define XG_BINARY_METHOD(NAME)                                  \
    Tensor Tensor::NAME(const Tensor& other, Site site) const { \
        return xg::NAME(*this, other, site);                    \
    }                                                           \
    Tensor Tensor::NAME(Scalar other, Site site) const {        \
        return xg::NAME(*this, other, site);                    \
    }
XG_BINARY_METHOD(add)
XG_BINARY_METHOD(sub)
XG_BINARY_METHOD(mul)
XG_BINARY_METHOD(div)
#undef XG_BINARY_METHOD

#define XG_COMPARE_METHOD(NAME)                      \
    Tensor Tensor::NAME(const Tensor& other) const { \
        return xg::NAME(*this, other);               \
    }                                                \
    Tensor Tensor::NAME(Scalar other) const {        \
        return xg::NAME(*this, other);               \
    }
XG_COMPARE_METHOD(eq)
XG_COMPARE_METHOD(ne)
XG_COMPARE_METHOD(lt)
XG_COMPARE_METHOD(le)
XG_COMPARE_METHOD(gt)
XG_COMPARE_METHOD(ge)
#undef XG_COMPARE_METHOD

Tensor Tensor::logical_and(const Tensor& other, Site site) const {
    return xg::logical_and(*this, other, site);
}
Tensor Tensor::logical_or(const Tensor& other, Site site) const {
    return xg::logical_or(*this, other, site);
}
Tensor Tensor::logical_xor(const Tensor& other, Site site) const {
    return xg::logical_xor(*this, other, site);
}
Tensor Tensor::logical_not(Site site) const {
    return xg::logical_not(*this, site);
}
Tensor Tensor::any(Site site) const {
    return xg::any(*this, site);
}
Tensor Tensor::any(std::int64_t dim, bool keepdim, Site site) const {
    return xg::any(*this, dim, keepdim, site);
}
Tensor Tensor::all(Site site) const {
    return xg::all(*this, site);
}
Tensor Tensor::all(std::int64_t dim, bool keepdim, Site site) const {
    return xg::all(*this, dim, keepdim, site);
}
Tensor Tensor::masked_fill(const Tensor& mask, Scalar value, Site site) const {
    return xg::masked_fill(*this, mask, value, site);
}
Tensor Tensor::masked_fill(const Tensor& mask, const Tensor& value, Site site) const {
    return xg::masked_fill(*this, mask, value, site);
}
Tensor Tensor::masked_select(const Tensor& mask, Site site) const {
    return xg::masked_select(*this, mask, site);
}
Tensor Tensor::floor_divide(const Tensor& other, Site site) const {
    return xg::floor_divide(*this, other, site);
}
Tensor Tensor::argmin(std::optional<std::int64_t> dim, bool keepdim) const {
    return xg::argmin(*this, dim, keepdim);
}

Tensor Tensor::max(Site site) const {
    return xg::max(*this, site);
}
Tensor Tensor::min(Site site) const {
    return xg::min(*this, site);
}
TensorPair Tensor::max(std::int64_t dim, bool keepdim, Site site) const {
    return xg::max(*this, dim, keepdim, site);
}
TensorPair Tensor::min(std::int64_t dim, bool keepdim, Site site) const {
    return xg::min(*this, dim, keepdim, site);
}
Tensor Tensor::amax(std::vector<std::int64_t> dims, bool keepdim, Site site) const {
    return xg::amax(*this, dims, keepdim, site);
}
Tensor Tensor::amin(std::vector<std::int64_t> dims, bool keepdim, Site site) const {
    return xg::amin(*this, dims, keepdim, site);
}
Tensor Tensor::var(std::vector<std::int64_t> dims, std::int64_t correction, bool keepdim,
                   Site site) const {
    return xg::var(*this, dims, correction, keepdim, site);
}
Tensor Tensor::std(std::vector<std::int64_t> dims, std::int64_t correction, bool keepdim,
                   Site site) const {
    return xg::std(*this, dims, correction, keepdim, site);
}
Tensor Tensor::logsumexp(std::vector<std::int64_t> dims, bool keepdim, Site site) const {
    return xg::logsumexp(*this, dims, keepdim, site);
}
Tensor Tensor::norm(double p, std::vector<std::int64_t> dims, bool keepdim, Site site) const {
    return xg::norm(*this, p, dims, keepdim, site);
}
Tensor Tensor::dist(const Tensor& other, double p, Site site) const {
    return xg::dist(*this, other, p, site);
}
Tensor Tensor::prod(Site site) const {
    return xg::prod(*this, site);
}
Tensor Tensor::prod(std::int64_t dim, bool keepdim, Site site) const {
    return xg::prod(*this, dim, keepdim, site);
}
Tensor Tensor::cumsum(std::int64_t dim, Site site) const {
    return xg::cumsum(*this, dim, site);
}
Tensor Tensor::cumprod(std::int64_t dim, Site site) const {
    return xg::cumprod(*this, dim, site);
}
Tensor Tensor::logcumsumexp(std::int64_t dim, Site site) const {
    return xg::logcumsumexp(*this, dim, site);
}
TensorPair Tensor::sort(std::int64_t dim, bool descending, Site site) const {
    return xg::sort(*this, dim, descending, site);
}
Tensor Tensor::argsort(std::int64_t dim, bool descending, Site site) const {
    return xg::argsort(*this, dim, descending, site);
}
TensorPair Tensor::topk(std::int64_t k, std::int64_t dim, bool largest, bool sorted,
                        Site site) const {
    return xg::topk(*this, k, dim, largest, sorted, site);
}
TensorPair Tensor::kthvalue(std::int64_t k, std::int64_t dim, bool keepdim, Site site) const {
    return xg::kthvalue(*this, k, dim, keepdim, site);
}
Tensor Tensor::median(Site site) const {
    return xg::median(*this, site);
}
TensorPair Tensor::median(std::int64_t dim, bool keepdim, Site site) const {
    return xg::median(*this, dim, keepdim, site);
}

std::vector<Tensor> Tensor::split(std::int64_t split_size, std::int64_t dim, Site site) const {
    return xg::split(*this, split_size, dim, site);
}
std::vector<Tensor> Tensor::split(const std::vector<std::int64_t>& sizes, std::int64_t dim,
                                  Site site) const {
    return xg::split(*this, sizes, dim, site);
}
std::vector<Tensor> Tensor::split_with_sizes(const std::vector<std::int64_t>& sizes,
                                             std::int64_t dim, Site site) const {
    return xg::split(*this, sizes, dim, site);
}
std::vector<Tensor> Tensor::chunk(std::int64_t chunks, std::int64_t dim, Site site) const {
    return xg::chunk(*this, chunks, dim, site);
}
std::vector<Tensor> Tensor::unbind(std::int64_t dim, Site site) const {
    return xg::unbind(*this, dim, site);
}
Tensor Tensor::narrow(std::int64_t dim, std::int64_t start, std::int64_t length, Site site) const {
    return xg::narrow(*this, dim, start, length, site);
}
Tensor Tensor::repeat(const std::vector<std::int64_t>& repeats, Site site) const {
    return xg::repeat(*this, repeats, site);
}
Tensor Tensor::tile(const std::vector<std::int64_t>& reps, Site site) const {
    return xg::tile(*this, reps, site);
}
Tensor Tensor::repeat_interleave(std::int64_t repeats, std::optional<std::int64_t> dim,
                                 Site site) const {
    return xg::repeat_interleave(*this, repeats, dim, site);
}
Tensor Tensor::repeat_interleave(const Tensor& repeats, std::optional<std::int64_t> dim,
                                 Site site) const {
    return xg::repeat_interleave(*this, repeats, dim, site);
}
Tensor Tensor::flip(const std::vector<std::int64_t>& dims, Site site) const {
    return xg::flip(*this, dims, site);
}
Tensor Tensor::roll(const std::vector<std::int64_t>& shifts, const std::vector<std::int64_t>& dims,
                    Site site) const {
    return xg::roll(*this, shifts, dims, site);
}
Tensor Tensor::tril(std::int64_t diagonal, Site site) const {
    return xg::tril(*this, diagonal, site);
}
Tensor Tensor::triu(std::int64_t diagonal, Site site) const {
    return xg::triu(*this, diagonal, site);
}
Tensor Tensor::diagonal(std::int64_t offset, std::int64_t dim1, std::int64_t dim2,
                        Site site) const {
    return xg::diagonal(*this, offset, dim1, dim2, site);
}
Tensor Tensor::movedim(std::int64_t source, std::int64_t destination, Site site) const {
    return xg::movedim(*this, source, destination, site);
}
Tensor Tensor::movedim(const std::vector<std::int64_t>& source,
                       const std::vector<std::int64_t>& destination, Site site) const {
    return xg::movedim(*this, source, destination, site);
}
Tensor Tensor::swapaxes(std::int64_t axis0, std::int64_t axis1, Site site) const {
    return xg::swapaxes(*this, axis0, axis1, site);
}
Tensor Tensor::expand_as(const Tensor& other, Site site) const {
    return xg::expand_as(*this, other, site);
}
Tensor Tensor::expand(const std::vector<std::int64_t>& size, Site site) const {
    return xg::broadcast_to(*this, size, site);
}
Tensor Tensor::broadcast_to(const std::vector<std::int64_t>& size, Site site) const {
    return xg::broadcast_to(*this, size, site);
}
Tensor Tensor::bmm(const Tensor& mat2, Site site) const {
    return xg::bmm(*this, mat2, site);
}
Tensor Tensor::baddbmm(const Tensor& batch1, const Tensor& batch2, double beta, double alpha,
                       Site site) const {
    return xg::baddbmm(*this, batch1, batch2, beta, alpha, site);
}
Tensor Tensor::addmm(const Tensor& mat1, const Tensor& mat2, double beta, double alpha,
                     Site site) const {
    return xg::addmm(*this, mat1, mat2, beta, alpha, site);
}
Tensor Tensor::outer(const Tensor& vec2, Site site) const {
    return xg::outer(*this, vec2, site);
}

Tensor Tensor::index_select(std::int64_t dim, const Tensor& index, Site site) const {
    return xg::index_select(*this, dim, index, site);
}
Tensor Tensor::gather(std::int64_t dim, const Tensor& index, Site site) const {
    return xg::gather(*this, dim, index, site);
}
Tensor Tensor::take_along_dim(const Tensor& indices, std::optional<std::int64_t> dim,
                              Site site) const {
    return xg::take_along_dim(*this, indices, dim, site);
}
Tensor Tensor::scatter(std::int64_t dim, const Tensor& index, const Tensor& src, Site site) const {
    return xg::scatter(*this, dim, index, src, site);
}
Tensor Tensor::scatter(std::int64_t dim, const Tensor& index, double value, Site site) const {
    return xg::scatter(*this, dim, index, value, site);
}
Tensor Tensor::scatter_add(std::int64_t dim, const Tensor& index, const Tensor& src,
                           Site site) const {
    return xg::scatter_add(*this, dim, index, src, site);
}
Tensor Tensor::index_add(std::int64_t dim, const Tensor& index, const Tensor& source, double alpha,
                         Site site) const {
    return xg::index_add(*this, dim, index, source, alpha, site);
}
Tensor Tensor::nonzero(Site site) const {
    return xg::nonzero(*this, site);
}
Tensor Tensor::bernoulli(Site site) const {
    return xg::bernoulli(*this, site);
}
Tensor Tensor::multinomial(std::int64_t num_samples, bool replacement, Site site) const {
    return xg::multinomial(*this, num_samples, replacement, site);
}
Tensor& Tensor::uniform_(double from, double to) {
    return xg::uniform_(*this, from, to);
}
Tensor& Tensor::uniform_(double from, double to, Generator& gen) {
    return xg::uniform_(*this, from, to, gen);
}
Tensor& Tensor::normal_(double mean, double std) {
    return xg::normal_(*this, mean, std);
}
Tensor& Tensor::normal_(double mean, double std, Generator& gen) {
    return xg::normal_(*this, mean, std, gen);
}

}  // namespace xg

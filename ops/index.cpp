#include "ops/index.hpp"

#include <algorithm>
#include <limits>
#include <numeric>
#include <utility>

#include "core/dispatch.hpp"
#include "core/grad_mode.hpp"
#include "core/node.hpp"
#include "core/tensor_impl.hpp"
#include "ops/elementwise.hpp"
#include "ops/elementwise_kernels.hpp"
#include "ops/gather.hpp"
#include "ops/reduce.hpp"
#include "ops/shape.hpp"

namespace xg {
namespace indexing {

TensorIndex::TensorIndex(const char* s) : kind_(Kind::ellipsis) {
    XG_CHECK(s != nullptr && std::string(s) == "...",
             "index: a string index must be \"...\" (Ellipsis), got \"{}\"", s ? s : "");
}

std::string TensorIndex::str() const {
    auto bound = [](const std::optional<std::int64_t>& b) {
        return b ? std::to_string(*b) : std::string("None");
    };
    switch (kind_) {
        case Kind::none:
            return "None";
        case Kind::ellipsis:
            return "...";
        case Kind::integer:
            return std::to_string(integer_);
        case Kind::boolean:
            return boolean_ ? "True" : "False";
        case Kind::slice:
            return fmt::format("{}:{}:{}", bound(slice_.start), bound(slice_.stop),
                               bound(slice_.step));
        case Kind::tensor:
            return fmt::format("tensor of {} {}", tensor_.dtype(), tensor_.shape());
    }
    return "?";
}

}  // namespace indexing

namespace {

using Kind = TensorIndex::Kind;
using indexing::Slice;

// The dims an index consumes of the tensor it indexes.
std::size_t consumed(const TensorIndex& ix) {
    switch (ix.kind()) {
        case Kind::integer:
        case Kind::slice:
            return 1;
        case Kind::tensor:
            return ix.tensor().dtype() == bool_ ? ix.tensor().dim() : 1;
        default:
            return 0;
    }
}

// An index tensor's values as int64 in [0, size), negatives counted from the end; anything else
// is an error naming the value, the dim and its size.
Tensor wrapped_indices(const Tensor& t, std::size_t dim, std::size_t size) {
    XG_CHECK(t.dtype() == int64 || t.dtype() == int32,
             "index: tensors used as indices must be int64, int32 or bool, got {}", t.dtype());
    Tensor idx = t.detach().to(int64).clone();
    const auto n = static_cast<std::int64_t>(size);
    for (auto& v : idx.mutable_data<std::int64_t>()) {
        XG_CHECK(v >= -n && v < n, "index: index {} is out of bounds for dim {} with size {}", v,
                 dim, size);
        if (v < 0) v += n;
    }
    return idx;
}

struct Advanced {
    std::size_t dim;  // in the tensor after basic indexing
    Tensor index;     // int64, wrapped
};

// Applies the basic indices (integers, slices, None, Ellipsis) and collects the advanced ones
// (tensors and masks). Integers always select first, as in PyTorch (NumPy instead counts them
// among the advanced indices when placing the result's dims).
Tensor apply_basic(const Tensor& self, const std::vector<TensorIndex>& indices,
                   std::vector<Advanced>& adv) {
    std::size_t used = 0, ellipses = 0;
    for (const auto& ix : indices) {
        used += consumed(ix);
        ellipses += ix.kind() == Kind::ellipsis;
        if (ix.kind() == Kind::tensor) detail::check_defined("index", ix.tensor(), "index");
    }
    XG_CHECK(ellipses <= 1, "index: an index can only have a single ellipsis ('...'), got {}",
             ellipses);
    XG_CHECK(used <= self.dim(), "index: too many indices for a tensor of {} dims ({} given)",
             self.dim(), used);
    Tensor r = self;
    std::size_t d = 0;
    for (const auto& ix : indices) {
        switch (ix.kind()) {
            case Kind::none:
                r = unsqueeze(r, static_cast<std::int64_t>(d++));
                break;
            case Kind::ellipsis:
                d += self.dim() - used;
                break;
            case Kind::integer: {
                const std::size_t size = r.shape()[d];
                const auto n = static_cast<std::int64_t>(size);
                std::int64_t i = ix.integer();
                XG_CHECK(i >= -n && i < n,
                         "index: index {} is out of bounds for dim {} with size {}", i, d, size);
                if (i < 0) i += n;
                const auto sd = static_cast<std::int64_t>(d);
                r = squeeze(slice(r, sd, i, i + 1), sd);
                break;
            }
            case Kind::slice: {
                const Slice& s = ix.slice();
                const std::int64_t step = s.step.value_or(1);
                XG_CHECK(step >= 1, "index: slice step must be positive, got {}", step);
                r = slice(r, static_cast<std::int64_t>(d++), s.start.value_or(0),
                          s.stop.value_or(std::numeric_limits<std::int64_t>::max()), step);
                break;
            }
            case Kind::boolean:  // x[True] adds a dim of size 1, x[False] one of size 0
                r = unsqueeze(r, static_cast<std::int64_t>(d));
                adv.push_back({d++, ix.boolean() ? zeros({1}, int64) : zeros({0}, int64)});
                break;
            case Kind::tensor: {
                const Tensor& t = ix.tensor();
                if (t.dim() == 0 && t.dtype() == bool_) {  // as x[True] / x[False]
                    r = unsqueeze(r, static_cast<std::int64_t>(d));
                    adv.push_back({d++, t.item<bool>() ? zeros({1}, int64) : zeros({0}, int64)});
                    break;
                }
                if (t.dim() == 0 && is_integral(t.dtype())) {  // selects, as an integer does
                    XG_CHECK(d < r.dim(), "index: too many indices for a tensor of {} dims",
                             self.dim());
                    const std::size_t size = r.shape()[d];
                    const auto n = static_cast<std::int64_t>(size);
                    std::int64_t i = t.item<std::int64_t>();
                    XG_CHECK(i >= -n && i < n,
                             "index: index {} is out of bounds for dim {} with size {}", i, d,
                             size);
                    if (i < 0) i += n;
                    const auto sd = static_cast<std::int64_t>(d);
                    r = squeeze(slice(r, sd, i, i + 1), sd);
                    break;
                }
                if (t.dtype() != bool_) {
                    adv.push_back({d, wrapped_indices(t, d, r.shape()[d])});
                    ++d;
                    break;
                }
                Shape part(r.shape().begin() + static_cast<std::ptrdiff_t>(d),
                           r.shape().begin() + static_cast<std::ptrdiff_t>(d + t.dim()));
                XG_CHECK(
                    t.shape() == part,
                    "index: the mask of shape {} does not match the indexed shape {} at dim {}",
                    t.shape(), part, d);
                const Tensor nz = nonzero(t);  // [n, k]
                for (std::size_t j = 0; j < t.dim(); ++j)
                    adv.push_back(
                        {d + j, squeeze(slice(nz, 1, std::int64_t(j), std::int64_t(j + 1)), 1)});
                d += t.dim();
                break;
            }
        }
    }
    return r;
}

// The advanced part: the indexed dims gathered as one flat dim through index_select, whose
// gradient is index_add.
Tensor apply_advanced(const Tensor& r, const std::vector<Advanced>& adv) {
    Shape b{};
    for (const auto& a : adv) b = detail::broadcast_shapes("index", b, a.index.shape());
    std::vector<std::int64_t> perm;
    std::vector<bool> is_adv(r.dim(), false);
    for (const auto& a : adv) {
        XG_CHECK(!is_adv[a.dim], "index: dim {} is indexed twice", a.dim);
        is_adv[a.dim] = true;
        perm.push_back(static_cast<std::int64_t>(a.dim));
    }
    std::vector<std::int64_t> rest_shape;
    std::size_t first_rest = perm.size();
    for (std::size_t k = 0; k < r.dim(); ++k) {
        if (is_adv[k]) continue;
        perm.push_back(static_cast<std::int64_t>(k));
        rest_shape.push_back(static_cast<std::int64_t>(r.shape()[k]));
    }
    // The flat position of each combination of indices in the advanced dims (row-major).
    const std::size_t nb = shape_numel(b);
    auto flat = xg::array<std::int64_t>::from_shape({nb});
    std::fill(flat.begin(), flat.end(), 0);
    std::int64_t span = 1;
    for (std::size_t j = adv.size(); j-- > 0;) {
        const auto size = static_cast<std::int64_t>(r.shape()[adv[j].dim]);
        if (nb > 0) {  // an empty index has no data pointer to walk
            const auto bj = xt::broadcast(adv[j].index.data<std::int64_t>(), b);
            std::size_t k = 0;
            for (auto it = bj.cbegin(); it != bj.cend(); ++it, ++k) flat.data()[k] += *it * span;
        }
        span *= size;
    }
    std::vector<std::int64_t> merged = {span};
    merged.insert(merged.end(), rest_shape.begin(), rest_shape.end());
    Tensor picked = index_select(reshape(permute(r, perm), merged), 0, Tensor(std::move(flat)));
    std::vector<std::int64_t> out_shape(b.begin(), b.end());
    out_shape.insert(out_shape.end(), rest_shape.begin(), rest_shape.end());
    Tensor out = reshape(picked, out_shape);
    // Adjacent advanced dims put their result where they were (NumPy's rule), else first.
    bool adjacent = true;
    for (std::size_t j = 1; j < adv.size(); ++j)
        adjacent = adjacent && adv[j].dim == adv[0].dim + j;
    const std::size_t at = adv[0].dim;
    if (!adjacent || at == 0 || first_rest == 0) return out;
    std::vector<std::int64_t> order;
    const std::size_t nbd = b.size();
    for (std::size_t k = 0; k < at; ++k) order.push_back(static_cast<std::int64_t>(nbd + k));
    for (std::size_t k = 0; k < nbd; ++k) order.push_back(static_cast<std::int64_t>(k));
    for (std::size_t k = nbd + at; k < out.dim(); ++k)
        order.push_back(static_cast<std::int64_t>(k));
    return permute(out, order);
}

}  // namespace

Tensor index(const Tensor& self, const std::vector<TensorIndex>& indices, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("index", self, "self");
    std::vector<Advanced> adv;
    Tensor r = apply_basic(self, indices, adv);
    return adv.empty() ? r : apply_advanced(r, adv);
}

namespace {
// Where self[indices] lives in self, as flat positions (the indexed shape); a bad index is
// reported under the writing op's name.
Tensor positions(const char* op, const Tensor& self, const std::vector<TensorIndex>& indices) {
    NoGradGuard no_grad;
    std::vector<std::int64_t> shape(self.shape().begin(), self.shape().end());
    Tensor all = reshape(arange(static_cast<double>(self.numel()), int64), shape);
    try {
        return index(all, indices);
    } catch (const Error& e) {
        const std::string msg = e.what();
        throw Error(std::string(op) + msg.substr(msg.rfind("index", 0) == 0 ? 5 : 0));
    }
}

Tensor values_for(const char* op, const Tensor& values, const Tensor& where, Dtype dtype) {
    detail::check_defined(op, values, "values");
    XG_CHECK(detail::is_broadcastable_to(values.shape(), where.shape()),
             "{}: values of shape {} cannot be broadcast to the indexed shape {}", op,
             values.shape(), where.shape());
    return expand(values.to(dtype), where.shape());
}
}  // namespace

namespace detail {
Tensor index_put_as(const char* op, const Tensor& self, const std::vector<TensorIndex>& indices,
                    const Tensor& values, bool accumulate) {
    check_defined(op, self, "self");
    const Tensor where = positions(op, self, indices);
    const Tensor pos = reshape(where, {-1});
    const Tensor v = values_for(op, values, where, self.dtype());
    const Tensor flat = reshape(self, {-1});
    const Tensor vf = reshape(v, {-1});
    Tensor out = accumulate ? index_add(flat, 0, pos, vf) : scatter(flat, 0, pos, vf);
    std::vector<std::int64_t> shape(self.shape().begin(), self.shape().end());
    return reshape(out, shape);
}
}  // namespace detail

Tensor index_put(const Tensor& self, const std::vector<TensorIndex>& indices, const Tensor& values,
                 bool accumulate, Site site) {
    detail::SiteScope at(site);
    return detail::index_put_as("index_put", self, indices, values, accumulate);
}

Tensor& index_put_(Tensor& self, const std::vector<TensorIndex>& indices, const Tensor& values,
                   bool accumulate, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("index_put_", self, "self");
    const bool grad = GradMode::is_enabled() && (self.requires_grad() || values.requires_grad());
    XG_CHECK(!(grad && self.is_leaf() && self.requires_grad()),
             "index_put_: a leaf tensor that requires grad cannot be written in place while grad "
             "mode is on (use xg::NoGradGuard, or index_put out of place)");
    Tensor out = detail::index_put_as("index_put_", self, indices, values, accumulate);
    // Write into self's own storage (aliases see it; saved copies notice the version).
    detail::dispatch_all(self.dtype(), [&](auto tag) {
        using T = decltype(tag);
        NoGradGuard no_grad;  // mutable_data refuses a leaf that requires grad in grad mode
        self.mutable_data<T>() = out.data<T>();
        return 0;
    });
    if (grad) {  // the write becomes self's history, as a recorded in-place op in PyTorch
        self.impl()->grad_fn = out.impl()->grad_fn;
        self.impl()->output_nr = out.impl()->output_nr;
        self.impl()->requires_grad = true;
    }
    return self;
}

Tensor& index_put_(Tensor& self, const std::vector<TensorIndex>& indices, Scalar value, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("index_put_", self, "self");
    // In self's dtype, exactly (integers beyond 2^53 too); one it cannot hold is an error.
    Tensor v = value.is_integral(true) && !is_floating(self.dtype())
                   ? detail::scalar_as("index_put_", value, self.dtype())
                   : full(Shape{}, value.to_double(), self.dtype());
    return index_put_(self, indices, v);
}

Tensor Tensor::index(const std::vector<TensorIndex>& indices) const {
    return xg::index(*this, indices);
}

Tensor& Tensor::index_put_(const std::vector<TensorIndex>& indices, const Tensor& values) {
    return xg::index_put_(*this, indices, values);
}

Tensor& Tensor::index_put_(const std::vector<TensorIndex>& indices, Scalar value) {
    return xg::index_put_(*this, indices, value);
}

}  // namespace xg

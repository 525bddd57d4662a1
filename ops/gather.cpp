// Index-tensor ops (ops/gather.hpp). Kernels are plain row-major loops over any dtype; each
// backward is another op of this file (gather <-> scatter_add, index_select <-> index_add), so
// gradients of gradients come for free.
#include "ops/gather.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include <xtensor/xbroadcast.hpp>
#include <xtensor/xbuilder.hpp>

#include "core/checked.hpp"
#include "core/dispatch.hpp"
#include "core/node.hpp"
#include "ops/elementwise.hpp"
#include "ops/reduce.hpp"
#include "ops/shape.hpp"

namespace xg {

namespace detail {

std::vector<std::int64_t> index_values(const char* op, const Tensor& index, const char* arg) {
    check_defined(op, index, arg);
    XG_CHECK(index.dtype() == int64 || index.dtype() == int32,
             "{}: {} must be an int64 tensor, got {}", op, arg, index.dtype());
    const Tensor i = index.to(int64);  // int32 indices are read as int64
    const auto& v = i.data<std::int64_t>();
    return std::vector<std::int64_t>(v.begin(), v.end());
}

}  // namespace detail

namespace {

using detail::checked_index;
using detail::dispatch_all;
using detail::index_values;

// PyTorch treats a 0-d tensor as one of shape [1] in these ops.
Shape nonempty(const Shape& s) {
    return s.empty() ? Shape{1} : s;
}

std::vector<std::size_t> strides_of(const Shape& s) {
    std::vector<std::size_t> st(s.size(), 1);
    for (std::size_t d = s.size(); d-- > 1;) st[d - 1] = st[d] * s[d];
    return st;
}

std::vector<std::int64_t> to_dims(const Shape& s) {
    return std::vector<std::int64_t>(s.begin(), s.end());
}

// Integer sums wrap (two's complement, as PyTorch's) instead of overflowing; bool ORs.
template <class T>
T wrap_add(T a, T b) {
    if constexpr (std::is_same_v<T, bool>) {
        return a || b;
    } else if constexpr (std::is_integral_v<T>) {
        using U = std::make_unsigned_t<T>;
        return static_cast<T>(static_cast<U>(a) + static_cast<U>(b));
    } else {
        return a + b;
    }
}

template <class T>
T wrap_mul(T a, T b) {
    if constexpr (std::is_same_v<T, bool>) {
        return a && b;
    } else if constexpr (std::is_integral_v<T>) {
        using U = std::make_unsigned_t<T>;
        return static_cast<T>(static_cast<U>(a) * static_cast<U>(b));
    } else {
        return a * b;
    }
}

// A number written into (or scaling) an integer tensor must be whole and in range.
void check_whole(const char* op, const Tensor& a, double v, const char* what) {
    if (is_floating(a.dtype()) || a.dtype() == bool_) return;
    const double lo = a.dtype() == int32 ? -2147483648.0 : -9223372036854775808.0;
    XG_CHECK(std::isfinite(v) && v == std::floor(v) && v >= lo && v < -lo,
             "{}: an {} input takes a whole {} within its range, got {}", op, a.dtype(), what, v);
}

void check_index_rank01(const char* op, const Tensor& index) {
    XG_CHECK(index.dim() <= 1, "{}: index must be 1-D or 0-d, got shape {}", op, index.shape());
}

// Visits the elements of an index of shape `is` in row-major order: f(k, oa, os) with k the
// element's offset in index, oa the offset in a (shape `as`) of its coordinates with the one
// along `dim` set to 0, and os its offset in src (shape `ss`). Shapes have equal ranks.
template <class F>
void walk(const Shape& is, const Shape& as, const Shape& ss, std::size_t dim, F f) {
    const std::size_t n = shape_numel(is), nd = is.size();
    if (n == 0) return;
    std::vector<std::size_t> sa = strides_of(as), sb = strides_of(ss), c(nd, 0);
    sa[dim] = 0;
    std::size_t oa = 0, os = 0;
    for (std::size_t k = 0; k < n; ++k) {
        f(k, oa, os);
        for (std::size_t d = nd; d-- > 0;) {  // the next coordinate, odometer style
            if (++c[d] < is[d]) {
                oa += sa[d], os += sb[d];
                break;
            }
            oa -= sa[d] * (is[d] - 1), os -= sb[d] * (is[d] - 1), c[d] = 0;
        }
    }
}

// gather/scatter shapes (0-d counting as [1]): index has a's rank and is no larger than a
// outside dim; src (scatter) has that rank too and is no smaller than index anywhere.
void check_shapes(const char* op, const Tensor& a, std::size_t dim, const Tensor& index,
                  const Tensor* src) {
    const Shape as = nonempty(a.shape()), is = nonempty(index.shape());
    XG_CHECK(is.size() == as.size(),
             "{}: index {} has {} dims, input {} has {} (they must be equal)", op, index.shape(),
             index.dim(), a.shape(), a.dim());
    for (std::size_t d = 0; d < as.size(); ++d) {
        XG_CHECK(d == dim || is[d] <= as[d],
                 "{}: index {} is larger than input {} in dim {} (only dim {} may be larger)", op,
                 index.shape(), a.shape(), d, dim);
    }
    if (!src) return;
    const Shape ss = nonempty(src->shape());
    XG_CHECK(ss.size() == as.size(), "{}: src {} has {} dims, input {} has {} (they must be equal)",
             op, src->shape(), src->dim(), a.shape(), a.dim());
    for (std::size_t d = 0; d < as.size(); ++d) {
        XG_CHECK(is[d] <= ss[d], "{}: index {} is larger than src {} in dim {}", op, index.shape(),
                 src->shape(), d);
    }
}

Tensor gather_raw(const char* op, const Tensor& a, std::size_t dim, const Tensor& index,
                  const char* arg) {
    const std::vector<std::int64_t> idx = index_values(op, index, arg);
    check_shapes(op, a, dim, index, nullptr);
    const Shape as = nonempty(a.shape()), is = nonempty(index.shape());
    const std::size_t stride = strides_of(as)[dim], size = as[dim];
    return naming_oom(op, [&] {
        return dispatch_all(a.dtype(), [&](auto tag) {
            using T = decltype(tag);
            const T* x = a.data<T>().data();
            auto r = xg::array<T>::from_shape(index.shape());
            T* y = r.data();
            walk(is, as, is, dim, [&](std::size_t k, std::size_t oa, std::size_t) {
                y[k] = x[oa + checked_index(op, idx[k], dim, size) * stride];
            });
            return Tensor(std::move(r));
        });
    });
}

// A copy of a with src's elements (or `value`) written (add = false) or added at the index
// positions, in row-major order of index: for duplicates the last write wins.
Tensor scatter_raw(const char* op, const Tensor& a, std::size_t dim, const Tensor& index,
                   const Tensor& src, double value, bool add) {
    const std::vector<std::int64_t> idx = index_values(op, index, "index");
    check_shapes(op, a, dim, index, src.defined() ? &src : nullptr);
    const Shape as = nonempty(a.shape()), is = nonempty(index.shape());
    const Shape ss = src.defined() ? nonempty(src.shape()) : is;
    const std::size_t stride = strides_of(as)[dim], size = as[dim];
    return naming_oom(op, [&] {
        return dispatch_all(a.dtype(), [&](auto tag) {
            using T = decltype(tag);
            xg::array<T> r = a.data<T>();
            T* y = r.data();
            const T* s = src.defined() ? src.data<T>().data() : nullptr;
            const T v = detail::value_cast<T>(op, value);
            walk(is, as, ss, dim, [&](std::size_t k, std::size_t oa, std::size_t os) {
                T& out = y[oa + checked_index(op, idx[k], dim, size) * stride];
                const T x = s ? s[os] : v;
                out = add ? wrap_add(out, x) : x;
            });
            return Tensor(std::move(r));
        });
    });
}

// 1 where an element of index is the last write to its position (row-major), 0 where a later
// duplicate overwrites it, in src's dtype and index's shape; undefined if there are no
// duplicates. Only the winners of scatter reach the output, so only they get a gradient.
Tensor winner_mask(const Tensor& a, std::size_t dim, const Tensor& index, Dtype dtype) {
    const std::vector<std::int64_t> idx = index_values("scatter", index);
    const Shape as = nonempty(a.shape()), is = nonempty(index.shape());
    const std::size_t stride = strides_of(as)[dim];
    std::vector<std::size_t> target(idx.size());
    std::vector<std::size_t> last(shape_numel(as), std::numeric_limits<std::size_t>::max());
    walk(is, as, is, dim, [&](std::size_t k, std::size_t oa, std::size_t) {
        target[k] = oa + static_cast<std::size_t>(idx[k]) * stride;  // checked by the forward
        last[target[k]] = k;
    });
    std::vector<double> m(idx.size());
    bool dup = false;
    for (std::size_t k = 0; k < idx.size(); ++k) {
        m[k] = last[target[k]] == k ? 1.0 : 0.0;
        dup = dup || m[k] == 0.0;
    }
    if (!dup) return Tensor();
    return detail::dispatch_float("scatter", dtype, [&](auto tag) {
        using T = decltype(tag);
        auto r = xg::array<T>::from_shape(index.shape());
        std::copy(m.begin(), m.end(), r.begin());
        return Tensor(std::move(r));
    });
}

// The gradient of src from one of index's shape: zero-padded at the far end of each dim where
// src is larger than index (those elements were never read), or reshaped between 0-d and [1].
Tensor pad_to(const Tensor& t, const Shape& shape) {
    if (t.shape() == shape) return t;
    if (t.dim() != shape.size()) return reshape(t, to_dims(shape));
    std::vector<std::int64_t> pads;
    for (std::size_t d = shape.size(); d-- > 0;) {
        pads.push_back(0);
        pads.push_back(static_cast<std::int64_t>(shape[d] - t.shape()[d]));
    }
    return pad(t, pads, 0.0);
}

Tensor gather_op(const char* op, const Tensor& a, std::int64_t dim, const Tensor& index,
                 const char* arg) {
    detail::check_defined(op, a, "input");
    const std::size_t d = detail::wrap_dim(op, dim, a.dim());
    Tensor out = gather_raw(op, a, d, index, arg);
    if (auto node = record("GatherBackward", {a}, {out})) {
        const auto sd = static_cast<std::int64_t>(d);
        node->set_fn(
            [in = a.shape(), dt = a.dtype(), sd, si = SavedTensor(index)](const TensorList& g) {
                return TensorList{scatter_add(zeros(in, dt), sd, si.unpack(), g[0])};
            });
    }
    return out;
}

// `t` broadcast to `shape`, written out, no history (for index tensors and int data).
Tensor broadcast_raw(const Tensor& t, const Shape& shape) {
    if (t.shape() == shape) return t;
    return dispatch_all(t.dtype(), [&](auto tag) {
        using T = decltype(tag);
        return Tensor(xg::array<T>(xt::broadcast(t.data<T>(), shape)));
    });
}

// Rows (outer, n, inner) around dim of a shape, 0-d counting as [1].
struct Rows {
    std::size_t outer = 1, n = 1, inner = 1;
};
Rows rows_of(const Shape& s0, std::size_t dim) {
    const Shape s = nonempty(s0);
    Rows r;
    for (std::size_t i = 0; i < dim; ++i) r.outer *= s[i];
    for (std::size_t i = dim + 1; i < s.size(); ++i) r.inner *= s[i];
    r.n = s[dim];
    return r;
}

}  // namespace

// ---- index_select / index_add ----

Tensor index_select(const Tensor& a, std::int64_t dim, const Tensor& index, Site site) {
    detail::SiteScope at(site);
    const char* op = "index_select";
    detail::check_defined(op, a, "input");
    const std::size_t d = detail::wrap_dim(op, dim, a.dim());
    const std::vector<std::int64_t> idx = index_values(op, index);
    check_index_rank01(op, index);
    const Rows in = rows_of(a.shape(), d);
    for (auto i : idx) checked_index(op, i, d, in.n);
    Shape out_shape = a.shape();
    if (a.dim() == 0) {
        XG_CHECK(idx.size() == 1, "index_select: a 0-d input takes one index, got {} ({})",
                 idx.size(), index.shape());
    } else {
        out_shape[d] = idx.size();
    }
    checked_numel(op, out_shape, dtype_size(a.dtype()));
    Tensor out = naming_oom(op, [&] {
        return dispatch_all(a.dtype(), [&](auto tag) {
            using T = decltype(tag);
            const T* x = a.data<T>().data();
            auto r = xg::array<T>::from_shape(out_shape);
            if (r.size() == 0) return Tensor(std::move(r));  // the outer count may still be huge
            const std::size_t k = idx.size();
            for (std::size_t o = 0; o < in.outer; ++o)
                for (std::size_t i = 0; i < k; ++i)
                    std::copy_n(x + (o * in.n + static_cast<std::size_t>(idx[i])) * in.inner,
                                in.inner, r.data() + (o * k + i) * in.inner);
            return Tensor(std::move(r));
        });
    });
    if (auto node = record("IndexSelectBackward", {a}, {out})) {
        const auto sd = static_cast<std::int64_t>(d);
        node->set_fn(
            [in = a.shape(), dt = a.dtype(), sd, si = SavedTensor(index)](const TensorList& g) {
                return TensorList{index_add(zeros(in, dt), sd, si.unpack(), g[0])};
            });
    }
    return out;
}

Tensor index_add(const Tensor& a, std::int64_t dim, const Tensor& index, const Tensor& source,
                 double alpha, Site site) {
    detail::SiteScope at(site);
    const char* op = "index_add";
    detail::check_defined(op, a, "input");
    detail::check_defined(op, source, "source");
    const std::size_t d = detail::wrap_dim(op, dim, a.dim());
    const std::vector<std::int64_t> idx = index_values(op, index);
    check_index_rank01(op, index);
    XG_CHECK(source.dtype() == a.dtype(), "index_add: source has dtype {}, input has {}",
             source.dtype(), a.dtype());
    check_whole(op, a, alpha, "alpha");
    Shape want = nonempty(a.shape());
    want[d] = idx.size();
    XG_CHECK(nonempty(source.shape()) == want,
             "index_add: source {} must have input {}'s shape but {} (index's size) in dim {}",
             source.shape(), a.shape(), idx.size(), d);
    const Rows in = rows_of(a.shape(), d);
    for (auto i : idx) checked_index(op, i, d, in.n);
    Tensor out = naming_oom(op, [&] {
        return dispatch_all(a.dtype(), [&](auto tag) {
            using T = decltype(tag);
            const T* s = source.data<T>().data();
            xg::array<T> r = a.data<T>();
            if (source.numel() == 0) return Tensor(std::move(r));
            const std::size_t k = idx.size();
            const T w = detail::value_cast<T>(op, alpha);
            for (std::size_t o = 0; o < in.outer; ++o) {
                for (std::size_t i = 0; i < k; ++i) {
                    T* y = r.data() + (o * in.n + static_cast<std::size_t>(idx[i])) * in.inner;
                    const T* x = s + (o * k + i) * in.inner;
                    for (std::size_t j = 0; j < in.inner; ++j)
                        y[j] = wrap_add(y[j], alpha == 1.0 ? x[j] : wrap_mul(w, x[j]));
                }
            }
            return Tensor(std::move(r));
        });
    });
    if (auto node = record("IndexAddBackward", {a, source}, {out})) {
        const auto sd = static_cast<std::int64_t>(d);
        node->set_fn([sd, alpha, rs = source.requires_grad(), ss = source.shape(),
                      si = SavedTensor(index)](const TensorList& g) {
            if (!rs) return TensorList{g[0], Tensor()};
            Tensor gs = index_select(g[0], sd, si.unpack());
            if (alpha != 1.0) gs = mul(gs, alpha);
            return TensorList{g[0], pad_to(gs, ss)};
        });
    }
    return out;
}

// ---- gather / take_along_dim ----

Tensor gather(const Tensor& a, std::int64_t dim, const Tensor& index, Site site) {
    detail::SiteScope at(site);
    return gather_op("gather", a, dim, index, "index");
}

Tensor take_along_dim(const Tensor& a, const Tensor& indices, std::optional<std::int64_t> dim,
                      Site site) {
    detail::SiteScope at(site);
    const char* op = "take_along_dim";
    detail::check_defined(op, a, "input");
    index_values(op, indices, "indices");  // defined and int64
    if (!dim) {
        return gather_op(op, reshape(a, {-1}), 0,
                         detail::reshape_raw(indices, Shape{indices.numel()}), "indices");
    }
    const std::size_t d = detail::wrap_dim(op, *dim, a.dim());
    XG_CHECK(a.dim() == indices.dim(),
             "take_along_dim: input {} and indices {} must have the same number of dims, got {} "
             "and {}",
             a.shape(), indices.shape(), a.dim(), indices.dim());
    if (a.dim() == 0) return gather_op(op, a, 0, indices, "indices");
    Shape as = a.shape();
    as[d] = indices.shape()[d];
    Shape b = detail::broadcast_shapes(op, as, indices.shape());
    checked_numel(op, b, sizeof(std::int64_t));
    Shape ab = b;
    ab[d] = a.shape()[d];
    checked_numel(op, ab, dtype_size(a.dtype()));
    const Tensor ax =
        a.shape() == ab || !is_floating(a.dtype()) ? broadcast_raw(a, ab) : expand(a, ab);
    return gather_op(op, ax, static_cast<std::int64_t>(d), broadcast_raw(indices, b), "indices");
}

// ---- scatter / scatter_add ----

Tensor scatter(const Tensor& a, std::int64_t dim, const Tensor& index, const Tensor& src,
               Site site) {
    detail::SiteScope at(site);
    const char* op = "scatter";
    detail::check_defined(op, a, "input");
    detail::check_defined(op, src, "src");
    const std::size_t d = detail::wrap_dim(op, dim, a.dim());
    XG_CHECK(src.dtype() == a.dtype(), "scatter: src has dtype {}, input has {}", src.dtype(),
             a.dtype());
    Tensor out = scatter_raw(op, a, d, index, src, 0.0, false);
    if (auto node = record("ScatterBackward", {a, src}, {out})) {
        const auto sd = static_cast<std::int64_t>(d);
        Tensor mask = src.requires_grad() ? winner_mask(a, d, index, src.dtype()) : Tensor();
        node->set_fn([sd, mask, ra = a.requires_grad(), rs = src.requires_grad(), ss = src.shape(),
                      si = SavedTensor(index)](const TensorList& g) {
            Tensor ix = si.unpack();
            TensorList r(2);
            if (ra) r[0] = scatter(g[0], sd, ix, 0.0);
            if (rs) {
                Tensor gs = gather(g[0], sd, ix);
                r[1] = pad_to(mask.defined() ? mul(gs, mask) : gs, ss);
            }
            return r;
        });
    }
    return out;
}

Tensor scatter(const Tensor& a, std::int64_t dim, const Tensor& index, double value, Site site) {
    detail::SiteScope at(site);
    const char* op = "scatter";
    detail::check_defined(op, a, "input");
    const std::size_t d = detail::wrap_dim(op, dim, a.dim());
    check_whole(op, a, value, "value");
    Tensor out = scatter_raw(op, a, d, index, Tensor(), value, false);
    if (auto node = record("ScatterBackward", {a}, {out})) {
        const auto sd = static_cast<std::int64_t>(d);
        node->set_fn([sd, si = SavedTensor(index)](const TensorList& g) {
            return TensorList{scatter(g[0], sd, si.unpack(), 0.0)};
        });
    }
    return out;
}

Tensor scatter_add(const Tensor& a, std::int64_t dim, const Tensor& index, const Tensor& src,
                   Site site) {
    detail::SiteScope at(site);
    const char* op = "scatter_add";
    detail::check_defined(op, a, "input");
    detail::check_defined(op, src, "src");
    const std::size_t d = detail::wrap_dim(op, dim, a.dim());
    XG_CHECK(src.dtype() == a.dtype(), "scatter_add: src has dtype {}, input has {}", src.dtype(),
             a.dtype());
    Tensor out = scatter_raw(op, a, d, index, src, 0.0, true);
    if (auto node = record("ScatterAddBackward", {a, src}, {out})) {
        const auto sd = static_cast<std::int64_t>(d);
        node->set_fn([sd, rs = src.requires_grad(), ss = src.shape(),
                      si = SavedTensor(index)](const TensorList& g) {
            return TensorList{g[0], rs ? pad_to(gather(g[0], sd, si.unpack()), ss) : Tensor()};
        });
    }
    return out;
}

// ---- embedding / one_hot / nonzero ----

Tensor embedding(const Tensor& weight, const Tensor& indices,
                 std::optional<std::int64_t> padding_idx, Site site) {
    detail::SiteScope at(site);
    const char* op = "embedding";
    detail::check_defined(op, weight, "weight");
    XG_CHECK(weight.dim() == 2, "embedding: weight must be 2-D, got shape {}", weight.shape());
    const std::vector<std::int64_t> idx = index_values(op, indices, "indices");
    const std::size_t rows = weight.shape()[0], width = weight.shape()[1];
    const auto n_rows = static_cast<std::int64_t>(rows);  // a tensor's size fits
    std::int64_t pad_row = -1;
    if (padding_idx) {
        XG_CHECK(*padding_idx >= -n_rows && *padding_idx < n_rows,
                 "embedding: padding_idx {} is out of range for weight {} (num_embeddings {})",
                 *padding_idx, weight.shape(), rows);
        pad_row = *padding_idx < 0 ? *padding_idx + n_rows : *padding_idx;
    }
    for (auto i : idx) checked_index(op, i, 0, rows);
    Shape out_shape = indices.shape();
    out_shape.push_back(width);
    checked_numel(op, out_shape, dtype_size(weight.dtype()));
    Tensor out = naming_oom(op, [&] {
        return dispatch_all(weight.dtype(), [&](auto tag) {
            using T = decltype(tag);
            const T* w = weight.data<T>().data();
            auto r = xg::array<T>::from_shape(out_shape);
            if (width == 0) return Tensor(std::move(r));
            for (std::size_t i = 0; i < idx.size(); ++i)
                std::copy_n(w + static_cast<std::size_t>(idx[i]) * width, width,
                            r.data() + i * width);
            return Tensor(std::move(r));
        });
    });
    if (auto node = record("EmbeddingBackward", {weight}, {out})) {
        const auto n = static_cast<std::int64_t>(idx.size());
        Tensor flat = detail::reshape_raw(indices, Shape{idx.size()});  // a snapshot
        Tensor keep;  // 0 on the rows that read padding_idx
        if (pad_row >= 0 && std::count(idx.begin(), idx.end(), pad_row) > 0) {
            keep = detail::dispatch_float(op, weight.dtype(), [&](auto tag) {
                using T = decltype(tag);
                auto m = xg::array<T>::from_shape({idx.size(), 1});
                for (std::size_t i = 0; i < idx.size(); ++i) m(i, 0) = idx[i] == pad_row ? 0 : 1;
                return Tensor(std::move(m));
            });
        }
        node->set_fn(
            [n, flat, keep, ws = weight.shape(), dt = weight.dtype()](const TensorList& g) {
                Tensor rows_g = reshape(g[0], {n, static_cast<std::int64_t>(ws[1])});
                if (keep.defined()) rows_g = mul(rows_g, keep);
                return TensorList{index_add(zeros(ws, dt), 0, flat, rows_g)};
            });
    }
    return out;
}

Tensor one_hot(const Tensor& indices, std::int64_t num_classes, Site site) {
    detail::SiteScope at(site);
    const char* op = "one_hot";
    const std::vector<std::int64_t> idx = index_values(op, indices, "indices");
    XG_CHECK(num_classes >= -1, "one_hot: num_classes must be -1 or at least 0, got {}",
             num_classes);
    for (std::size_t k = 0; k < idx.size(); ++k)
        XG_CHECK(idx[k] >= 0, "one_hot: class values must be non-negative, got {} at element {}",
                 idx[k], k);
    std::int64_t c = num_classes;
    if (c == -1) {
        XG_CHECK(!idx.empty(),
                 "one_hot: cannot infer num_classes from an empty tensor (shape {}); pass it",
                 indices.shape());
        c = checked_add(op, "max(indices) + 1", *std::max_element(idx.begin(), idx.end()), 1);
    }
    for (auto i : idx)
        XG_CHECK(i < c, "one_hot: class value {} is out of bounds for num_classes {}", i, c);
    Shape out_shape = indices.shape();
    out_shape.push_back(static_cast<std::size_t>(c));
    checked_numel(op, out_shape, sizeof(std::int64_t));
    return naming_oom(op, [&] {
        xg::array<std::int64_t> r = xt::zeros<std::int64_t>(out_shape);
        for (std::size_t k = 0; k < idx.size(); ++k)
            r.data()[k * static_cast<std::size_t>(c) + static_cast<std::size_t>(idx[k])] = 1;
        return Tensor(std::move(r));
    });
}

Tensor nonzero(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    const char* op = "nonzero";
    detail::check_defined(op, a, "input");
    const Shape& s = a.shape();
    const std::size_t nd = s.size();
    return naming_oom(op, [&] {
        return dispatch_all(a.dtype(), [&](auto tag) {
            using T = decltype(tag);
            const auto& x = a.data<T>();
            std::size_t count = 0;
            for (const T& v : x) count += v != T(0) ? 1 : 0;  // NaN != 0
            auto r = xg::array<std::int64_t>::from_shape({count, nd});
            std::vector<std::int64_t> c(nd, 0);
            std::int64_t* y = r.data();
            for (std::size_t k = 0; k < x.size(); ++k) {
                if (x.data()[k] != T(0)) y = std::copy(c.begin(), c.end(), y);
                for (std::size_t d = nd; d-- > 0;) {
                    if (static_cast<std::size_t>(++c[d]) < s[d]) break;
                    c[d] = 0;
                }
            }
            return Tensor(std::move(r));
        });
    });
}

}  // namespace xg

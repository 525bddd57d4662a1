// Gathering and scattering along one dim: what the value-selecting ops (max/min over a dim,
// sort, topk, kthvalue, median) use to pick their values and send the gradient back to the
// picked positions. Internal (ops/reduce.hpp, namespace detail).
#include <cstdint>

#include "core/dispatch.hpp"
#include "core/node.hpp"
#include "ops/reduce.hpp"

namespace xg::detail {

DimSplit split_at(const Shape& s, std::size_t d) {
    DimSplit r;
    if (s.empty()) return r;
    r.n = s[d];
    for (std::size_t i = 0; i < d; ++i) r.outer *= s[i];
    for (std::size_t i = d + 1; i < s.size(); ++i) r.inner *= s[i];
    return r;
}

namespace {

// index must be int64 with src's rank and src's sizes except along dim; its entries in
// [0, src's size along dim). The callers make such indices; checked anyway, never UB.
void check_index(const char* op, const Shape& s, std::size_t dim, const Tensor& index) {
    const Shape& is = index.shape();
    XG_CHECK(index.dtype() == int64, "{}: index must be int64, got {}", op, index.dtype());
    bool ok = is.size() == s.size() && (s.empty() || dim < s.size());
    for (std::size_t i = 0; ok && i < s.size(); ++i) ok = i == dim || is[i] == s[i];
    XG_CHECK(ok, "{}: index of shape {} does not fit shape {} along dim {}", op, is, s, dim);
}

}  // namespace

Tensor gather_dim(const char* node_name, const Tensor& src, std::size_t dim, const Tensor& index) {
    check_index(node_name, src.shape(), dim, index);
    const DimSplit sp = split_at(src.shape(), dim), ip = split_at(index.shape(), dim);
    const std::int64_t* ix = index.data<std::int64_t>().data();
    Tensor out = naming_oom(node_name, [&] {
        return dispatch_all(src.dtype(), [&](auto tag) {
            using T = decltype(tag);
            auto r = xg::array<T>::from_shape(index.shape());
            const T* x = src.data<T>().data();
            T* y = r.data();
            for (std::size_t o = 0; o < ip.outer; ++o) {
                for (std::size_t j = 0; j < ip.n; ++j) {
                    const std::size_t at = (o * ip.n + j) * ip.inner;
                    for (std::size_t i = 0; i < ip.inner; ++i) {
                        const std::int64_t k = ix[at + i];
                        XG_CHECK(k >= 0 && static_cast<std::size_t>(k) < sp.n,
                                 "{}: index {} is out of range for size {}", node_name, k, sp.n);
                        y[at + i] = x[(o * sp.n + static_cast<std::size_t>(k)) * sp.inner + i];
                    }
                }
            }
            return Tensor(std::move(r));
        });
    });
    if (auto node = record(node_name, {src}, {out})) {
        Shape in = src.shape();
        Tensor idx = index.detach();
        node->set_fn([in, dim, idx](const TensorList& g) {
            return TensorList{scatter_add_dim(g[0], dim, idx, in)};
        });
    }
    return out;
}

Tensor scatter_add_dim(const Tensor& g, std::size_t dim, const Tensor& index, const Shape& shape) {
    check_index("scatter_add_dim", shape, dim, index);
    XG_CHECK(g.shape() == index.shape(), "scatter_add_dim: source shape {} is not index shape {}",
             g.shape(), index.shape());
    const DimSplit sp = split_at(shape, dim), ip = split_at(index.shape(), dim);
    const std::int64_t* ix = index.data<std::int64_t>().data();
    Tensor out = dispatch_float("scatter_add_dim", g.dtype(), [&](auto tag) {
        using T = decltype(tag);
        auto r = xg::array<T>::from_shape(shape);
        r.fill(T(0));
        const T* x = g.data<T>().data();
        T* y = r.data();
        for (std::size_t o = 0; o < ip.outer; ++o) {
            for (std::size_t j = 0; j < ip.n; ++j) {
                const std::size_t at = (o * ip.n + j) * ip.inner;
                for (std::size_t i = 0; i < ip.inner; ++i) {
                    const std::int64_t k = ix[at + i];
                    XG_CHECK(k >= 0 && static_cast<std::size_t>(k) < sp.n,
                             "scatter_add_dim: index {} is out of range for size {}", k, sp.n);
                    y[(o * sp.n + static_cast<std::size_t>(k)) * sp.inner + i] += x[at + i];
                }
            }
        }
        return Tensor(std::move(r));
    });
    if (auto node = record("ScatterAddBackward", {g}, {out})) {
        Tensor idx = index.detach();
        node->set_fn([dim, idx](const TensorList& gg) {
            return TensorList{gather_dim("GatherBackward", gg[0], dim, idx)};
        });
    }
    return out;
}

}  // namespace xg::detail

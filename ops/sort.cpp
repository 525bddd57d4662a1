#include "ops/sort.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <type_traits>
#include <vector>

#include "core/dispatch.hpp"
#include "core/node.hpp"
#include "ops/elementwise.hpp"
#include "ops/reduce.hpp"
#include "ops/shape.hpp"

namespace xg {

namespace {

// a < b, with NaN the largest (two NaNs are equal).
template <class T>
bool less_nan_last(T a, T b) {
    if constexpr (std::is_floating_point_v<T>) {
        if (std::isnan(a)) return false;
        if (std::isnan(b)) return true;
    }
    return a < b;
}

// A total order on the positions of one lane: by value (NaN largest), ties by position, so
// every algorithm below gives what a stable sort would.
template <class T>
auto position_order(const std::vector<T>& v, bool descending) {
    return [&v, descending](std::int64_t i, std::int64_t j) {
        const T a = v[static_cast<std::size_t>(i)], b = v[static_cast<std::size_t>(j)];
        if (descending ? less_nan_last(b, a) : less_nan_last(a, b)) return true;
        if (descending ? less_nan_last(a, b) : less_nan_last(b, a)) return false;
        return i < j;
    };
}

// For each lane (o, i) of x seen as (outer, n, inner): its values and positions 0..n-1 to
// `arrange`, which puts the wanted positions first; the first out_n go to idx (outer, out_n,
// inner).
template <class T, class F>
void for_each_lane(const T* x, const detail::DimSplit& sp, std::size_t out_n, std::int64_t* idx,
                   F arrange) {
    std::vector<T> v(sp.n);
    std::vector<std::int64_t> perm(sp.n);
    for (std::size_t o = 0; o < sp.outer; ++o) {
        for (std::size_t i = 0; i < sp.inner; ++i) {
            for (std::size_t k = 0; k < sp.n; ++k) v[k] = x[(o * sp.n + k) * sp.inner + i];
            std::iota(perm.begin(), perm.end(), std::int64_t{0});
            arrange(v, perm);
            for (std::size_t j = 0; j < out_n; ++j) idx[(o * out_n + j) * sp.inner + i] = perm[j];
        }
    }
}

enum class Pick { sort, topk, kth, median };

// The int64 indices (the input's shape with out_n along d) of what `pick` selects in each lane:
// all positions in order, the first k, or the one at order statistic k - 1 (median: the lower
// median, or the first NaN).
Tensor order_indices(const char* op, const Tensor& a, std::size_t d, Pick pick, std::size_t k,
                     bool descending) {
    const auto sp = detail::split_at(a.shape(), d);
    const std::size_t out_n = pick == Pick::sort ? sp.n : pick == Pick::topk ? k : 1;
    Shape out_shape = a.shape();
    if (a.dim() > 0) out_shape[d] = out_n;
    return naming_oom(op, [&] {
        auto idx = xg::array<std::int64_t>::from_shape(out_shape);
        detail::dispatch_all(a.dtype(), [&](auto tag) {
            using T = decltype(tag);
            for_each_lane(a.data<T>().data(), sp, out_n, idx.data(), [&](const auto& v, auto& p) {
                auto order = position_order(v, descending);
                auto at = [&](std::size_t pos) {  // puts the pos-th in order first
                    const auto nth = p.begin() + static_cast<std::ptrdiff_t>(pos);
                    std::nth_element(p.begin(), nth, p.end(), order);
                    std::iter_swap(p.begin(), nth);
                };
                if (pick == Pick::sort) {
                    std::sort(p.begin(), p.end(), order);
                } else if (pick == Pick::topk) {
                    const auto end = p.begin() + static_cast<std::ptrdiff_t>(out_n);
                    std::partial_sort(p.begin(), end, p.end(), order);
                } else if (pick == Pick::kth) {
                    at(k - 1);
                } else {
                    const auto nans = static_cast<std::size_t>(
                        std::count_if(v.begin(), v.end(), [](auto e) { return e != e; }));
                    at(nans > 0 ? v.size() - nans : (v.size() - 1) / 2);
                }
            });
        });
        return Tensor(std::move(idx));
    });
}

// The size of dim d (1 for a 0-d tensor, which is taken as one element).
std::size_t size_at(const Tensor& a, std::size_t d) {
    return a.dim() == 0 ? 1 : a.shape()[d];
}

// The values at idx, differentiable; without keepdim the picked dim (of size 1) is dropped.
std::tuple<Tensor, Tensor> take(const char* node_name, const Tensor& a, std::size_t d, Tensor idx,
                                bool keep) {
    Tensor values = detail::gather_dim(node_name, a, d, idx);
    if (keep || a.dim() == 0) return {values, idx};
    Shape out = idx.shape();
    out.erase(out.begin() + static_cast<std::ptrdiff_t>(d));
    return {reshape(values, Dims(out.begin(), out.end())), detail::reshape_raw(idx, out)};
}

}  // namespace

std::tuple<Tensor, Tensor> sort(const Tensor& a, std::int64_t dim, bool descending, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("sort", a, "input");
    const std::size_t d = detail::wrap_dim("sort", dim, a.dim());
    Tensor idx = order_indices("sort", a, d, Pick::sort, 0, descending);
    return take("SortBackward", a, d, idx, true);
}

Tensor argsort(const Tensor& a, std::int64_t dim, bool descending, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("argsort", a, "input");
    const std::size_t d = detail::wrap_dim("argsort", dim, a.dim());
    return order_indices("argsort", a, d, Pick::sort, 0, descending);
}

std::tuple<Tensor, Tensor> topk(const Tensor& a, std::int64_t k, std::int64_t dim, bool largest,
                                bool /*sorted*/, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("topk", a, "input");
    const std::size_t d = detail::wrap_dim("topk", dim, a.dim());
    const std::size_t n = size_at(a, d);
    XG_CHECK(k >= 0 && static_cast<std::size_t>(k) <= n,
             "topk: k {} is out of range for dim {} of size {} (input shape {})", k, dim, n,
             a.shape());
    // A 0-d input gives its element for k = 0 too, as torch.topk.
    const std::size_t kk = a.dim() == 0 ? 1 : static_cast<std::size_t>(k);
    Tensor idx = order_indices("topk", a, d, Pick::topk, kk, largest);
    return take("TopkBackward", a, d, idx, true);
}

std::tuple<Tensor, Tensor> kthvalue(const Tensor& a, std::int64_t k, std::int64_t dim, bool keepdim,
                                    Site site) {
    detail::SiteScope at(site);
    detail::check_defined("kthvalue", a, "input");
    const std::size_t d = detail::wrap_dim("kthvalue", dim, a.dim());
    const std::size_t n = size_at(a, d);
    XG_CHECK(k >= 1 && static_cast<std::size_t>(k) <= n,
             "kthvalue: k {} is out of range for dim {} of size {} (k counts from 1; input shape "
             "{})",
             k, dim, n, a.shape());
    Tensor idx = order_indices("kthvalue", a, d, Pick::kth, static_cast<std::size_t>(k), false);
    return take("KthvalueBackward", a, d, idx, keepdim);
}

std::tuple<Tensor, Tensor> median(const Tensor& a, std::int64_t dim, bool keepdim, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("median", a, "input");
    const std::size_t d = detail::wrap_dim("median", dim, a.dim());
    XG_CHECK(size_at(a, d) > 0,
             "median: cannot reduce over zero elements (dim {} has size 0, input shape {})", dim,
             a.shape());
    Tensor idx = order_indices("median", a, d, Pick::median, 1, false);
    return take("MedianBackward", a, d, idx, keepdim);
}

Tensor median(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("median", a, "input");
    if (a.numel() == 0) {
        XG_CHECK(is_floating(a.dtype()),
                 "median: the median of no elements is NaN, which {} cannot hold (input shape {})",
                 a.dtype(), a.shape());
        return full({}, std::numeric_limits<double>::quiet_NaN(), a.dtype());
    }
    Tensor flat = detail::reshape_raw(a.detach(), {a.numel()});
    Tensor idx = order_indices("median", flat, 0, Pick::median, 1, false);
    Tensor out = detail::reshape_raw(detail::gather_dim("median", flat, 0, idx), {});
    if (auto node = record("MedianBackward", {a}, {out})) {
        std::vector<std::size_t> axes(a.dim());
        std::iota(axes.begin(), axes.end(), std::size_t{0});
        Shape in = a.shape();
        Tensor w = detail::tie_weights(a, out, axes);
        node->set_fn([in, axes, w](const TensorList& g) {
            return TensorList{mul(detail::unreduce(g[0], in, axes), w)};
        });
    }
    return out;
}

}  // namespace xg

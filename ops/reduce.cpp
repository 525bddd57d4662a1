#include "ops/reduce.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <xtensor/xbroadcast.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xreducer.hpp>

#include "core/dispatch.hpp"
#include "core/node.hpp"
#include "ops/elementwise.hpp"
#include "ops/logical.hpp"
#include "ops/shape.hpp"
#include "ops/vec_math.hpp"

namespace xg {

namespace detail {

// Sorted, unique, wrapped dims; an empty list means every dim.
std::vector<std::size_t> reduce_axes(const char* op, const Dims& dims, std::size_t ndim) {
    std::vector<std::size_t> axes;
    if (dims.empty()) {
        for (std::size_t i = 0; i < ndim; ++i) axes.push_back(i);
        return axes;
    }
    for (auto d : dims) axes.push_back(wrap_dim(op, d, ndim));
    std::sort(axes.begin(), axes.end());
    auto dup = std::adjacent_find(axes.begin(), axes.end());
    XG_CHECK(dup == axes.end(), "{}: dim {} appears more than once in the list of dims [{}]", op,
             dup == axes.end() ? 0 : *dup, fmt::join(dims, ", "));
    if (ndim == 0) axes.clear();  // dim 0 / -1 of a 0-d tensor is the tensor itself, as in torch
    return axes;
}

// The shape a reduction over `axes` has with keepdim=true.
Shape keepdim_shape(const Shape& in, const std::vector<std::size_t>& axes) {
    Shape out = in;
    for (auto ax : axes) out[ax] = 1;
    return out;
}

std::vector<std::int64_t> to_dims(const Shape& s) {
    return {s.begin(), s.end()};
}
Dims to_dims_of(const std::vector<std::size_t>& axes) {
    return {axes.begin(), axes.end()};
}

// Brings a gradient of a reduction back to the input's shape (undoing !keepdim, then
// broadcasting); differentiable.
Tensor unreduce(const Tensor& g, const Shape& in_shape, const std::vector<std::size_t>& axes) {
    return expand(reshape(g, to_dims(keepdim_shape(in_shape, axes))), in_shape);
}

}  // namespace detail

namespace {

std::size_t reduced_count(const Shape& s, const std::vector<std::size_t>& axes) {
    std::size_t n = 1;
    for (auto ax : axes) n *= s[ax];
    return n;
}

// Reduces x over `axes` with an xtensor reducer (empty axes, as for a 0-d tensor: a copy).
template <class T, class R>
xg::array<T> reduce_raw(const xg::array<T>& x, const std::vector<std::size_t>& axes, bool keepdim,
                        R&& reducer) {
    if (axes.empty()) return x;
    if (x.size() == 0) {  // xtensor's reducers crash on empty input; an empty sum is 0
        Shape out = detail::keepdim_shape(x.shape(), axes);
        if (!keepdim) {
            for (auto it = axes.rbegin(); it != axes.rend(); ++it)
                out.erase(out.begin() + static_cast<std::ptrdiff_t>(*it));
        }
        xg::array<T> r = xg::array<T>::from_shape(out);
        r.fill(T(0));
        return r;
    }
    constexpr auto now = xt::evaluation_strategy::immediate;
    if (keepdim) return xg::array<T>(reducer(x, axes, xt::keep_dims | now));
    return xg::array<T>(reducer(x, axes, now));
}

// One pass of sum_axes: src seen as (outer, r, inner) summed over r into dst (outer, inner);
// inner == 1 sums contiguous runs, otherwise rows are added elementwise. Allocates nothing and
// cannot throw: GCC 12 compiles a call to a target_clones function as a call that never throws,
// so an exception leaving one ends in std::terminate (see XG_SIMD_CLONES).
template <class T>
XG_SIMD_CLONES void sum_pass(const T* src, T* dst, std::size_t outer, std::size_t r,
                             std::size_t inner) {
    for (std::size_t o = 0; o < outer; ++o) {
        const T* block = src + o * r * inner;
        T* row = dst + o * inner;
        if (inner == 1) {
            row[0] = static_cast<T>(detail::sum_run(block, r));
            continue;
        }
        std::fill(row, row + inner, T(0));
        for (std::size_t k = 0; k < r; ++k) {
            const T* in = block + k * inner;
            for (std::size_t i = 0; i < inner; ++i) row[i] += in[i];
        }
    }
}

// Sums over sorted axes with flat loops, one run of adjacent axes at a time (innermost first).
// xtensor's reducers step through indices and were 5x slower.
template <class T>
xg::array<T> sum_axes(const xg::array<T>& x, const std::vector<std::size_t>& axes, bool keepdim) {
    Shape cur(x.shape().begin(), x.shape().end());
    xg::array<T> data;
    const T* src = x.data();  // the input, then each pass's result
    for (std::size_t e = axes.size(); e > 0;) {
        std::size_t b = e - 1;  // the run axes[b..e) of adjacent dims
        while (b > 0 && axes[b - 1] + 1 == axes[b]) --b;
        const std::size_t first = axes[b], last = axes[e - 1];
        std::size_t outer = 1, r = 1, inner = 1;
        for (std::size_t d = 0; d < cur.size(); ++d)
            (d < first ? outer : d <= last ? r : inner) *= cur[d];
        for (std::size_t d = first; d <= last; ++d) cur[d] = 1;
        auto out = xg::array<T>::from_shape(cur);
        sum_pass(src, out.data(), outer, r, inner);
        data = std::move(out);
        src = data.data();
        e = b;
    }
    Shape final_shape;
    for (std::size_t d = 0; d < cur.size(); ++d) {
        if (keepdim || !std::binary_search(axes.begin(), axes.end(), d))
            final_shape.push_back(cur[d]);
    }
    data.reshape(final_shape);
    return data;
}

const auto sum_reducer = [](const auto& x, const auto& ax, auto es) { return xt::sum(x, ax, es); };
// NaN wins, as in torch.max/min, and the start is -inf/+inf (lowest/highest for integers):
// xt::amax/amin drop a NaN unless it comes last, and start from lowest()/max() for floats too,
// so the max of -inf was -3.4e38.
template <class T>
T lowest_start() {
    if constexpr (std::numeric_limits<T>::has_infinity)
        return -std::numeric_limits<T>::infinity();
    else
        return std::numeric_limits<T>::lowest();
}
template <class T>
T highest_start() {
    if constexpr (std::numeric_limits<T>::has_infinity)
        return std::numeric_limits<T>::infinity();
    else
        return std::numeric_limits<T>::max();
}
const auto max_reducer = [](const auto& x, const auto& ax, auto es) {
    using T = typename std::decay_t<decltype(x)>::value_type;
    auto f = [](T a, T b) { return (a > b || a != a) ? a : b; };
    auto init = xt::const_value<T>(lowest_start<T>());
    return xt::reduce(xt::make_xreducer_functor(f, init), x, ax, es);
};
const auto min_reducer = [](const auto& x, const auto& ax, auto es) {
    using T = typename std::decay_t<decltype(x)>::value_type;
    auto f = [](T a, T b) { return (a < b || a != a) ? a : b; };
    auto init = xt::const_value<T>(highest_start<T>());
    return xt::reduce(xt::make_xreducer_functor(f, init), x, ax, es);
};

// int64 sums are exact and wrap on overflow (two's complement, as PyTorch's), added in uint64:
// never through the float kernels' double accumulators, and no signed-overflow UB.
xg::array<std::int64_t> sum_int64(const xg::array<std::int64_t>& x,
                                  const std::vector<std::size_t>& axes, bool keepdim) {
    Shape kept(x.shape().begin(), x.shape().end());
    for (std::size_t ax : axes) kept[ax] = 1;
    std::vector<std::uint64_t> acc(shape_numel(kept), 0);
    std::vector<std::size_t> stride(kept.size(), 0);  // of the output; 0 on the reduced axes
    for (std::size_t d = kept.size(), s = 1; d-- > 0; s *= kept[d])
        stride[d] = kept[d] == 1 ? 0 : s;
    std::vector<std::size_t> pos(kept.size(), 0);
    for (std::size_t i = 0, o = 0; i < x.size(); ++i) {
        acc[o] += static_cast<std::uint64_t>(x.data()[i]);
        for (std::size_t d = kept.size(); d-- > 0;) {  // the next index, odometer style
            o += stride[d];
            if (++pos[d] < x.shape()[d]) break;
            o -= stride[d] * pos[d];
            pos[d] = 0;
        }
    }
    Shape out;
    for (std::size_t d = 0; d < kept.size(); ++d)
        if (keepdim || std::find(axes.begin(), axes.end(), d) == axes.end()) out.push_back(kept[d]);
    auto r = xg::array<std::int64_t>::from_shape(out);
    for (std::size_t i = 0; i < acc.size(); ++i) r.data()[i] = static_cast<std::int64_t>(acc[i]);
    return r;
}

// bool, int32 and int64: an int64 sum (counting a mask: eq(pred, y).sum()), as in PyTorch.
Tensor sum_kernel(const char* op, const Tensor& a, const std::vector<std::size_t>& axes,
                  bool keepdim) {
    return naming_oom(op, [&] {
        return detail::dispatch_all(a.dtype(), [&](auto tag) {
            using T = decltype(tag);
            if (axes.empty()) return Tensor(xg::array<T>(a.data<T>()));  // a 0-d tensor: a copy
            if constexpr (std::is_same_v<T, std::int64_t>)
                return Tensor(sum_int64(a.data<T>(), axes, keepdim));
            else
                return Tensor(sum_axes(a.data<T>(), axes, keepdim));
        });
    });
}

}  // namespace

Tensor sum(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    return sum(a, {}, false);
}

Tensor sum(const Tensor& a0, const Dims& dims, bool keepdim, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("sum", a0, "input");
    // bool and int32 sum as int64, as in PyTorch (a mask's sum counts it).
    const Tensor a = is_floating(a0.dtype()) ? a0 : a0.to(int64);
    auto axes = detail::reduce_axes("sum", dims, a.dim());
    Tensor out = sum_kernel("sum", a, axes, keepdim);
    if (auto node = record("SumBackward", {a}, {out})) {
        Shape in = a.shape();
        node->set_fn([in, axes](const TensorList& g) {
            return TensorList{detail::unreduce(g[0], in, axes)};
        });
    }
    return out;
}

Tensor mean(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    return mean(a, {}, false);
}

Tensor mean(const Tensor& a0, const Dims& dims, bool keepdim, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("mean", a0, "input");
    // Integers and bool average in float32 (PyTorch refuses them; the float is what is meant).
    const Tensor a = is_floating(a0.dtype()) ? a0 : a0.to(float32);
    auto axes = detail::reduce_axes("mean", dims, a.dim());
    // Over zero elements the sum is 0 and the mean 0 / 0 = NaN, as in PyTorch.
    const std::size_t n = reduced_count(a.shape(), axes);
    if (n == 0) return mul(sum(a, dims, keepdim), std::numeric_limits<double>::quiet_NaN());
    return div(sum(a, dims, keepdim), static_cast<double>(n));
}

Tensor sum_to(const Tensor& a, const Shape& shape, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("sum_to", a, "input");
    XG_CHECK(detail::is_broadcastable_to(shape, a.shape()),
             "sum_to: cannot sum shape {} down to {} (it does not broadcast to it)", a.shape(),
             shape);
    if (a.shape() == shape) return detail::alias("SumToBackward", a);
    std::size_t lead = a.dim() - shape.size();
    std::vector<std::size_t> axes;
    for (std::size_t i = 0; i < a.dim(); ++i) {
        if (i < lead || (shape[i - lead] == 1 && a.shape()[i] != 1)) axes.push_back(i);
    }
    detail::check_floating("sum_to", a, "input");  // a gradient reduction: floats only
    Tensor summed = sum_kernel("sum_to", a, axes, true);
    Tensor out = detail::reshape_raw(summed, shape);
    if (auto node = record("SumToBackward", {a}, {out})) {
        Shape in = a.shape();
        node->set_fn([in](const TensorList& g) { return TensorList{expand(g[0], in)}; });
    }
    return out;
}

Tensor expand(const Tensor& a, const Shape& shape, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("expand", a, "input");
    XG_CHECK(detail::is_broadcastable_to(a.shape(), shape), "expand: cannot broadcast {} to {}",
             a.shape(), shape);
    if (a.shape() == shape) return detail::alias("ExpandBackward", a);
    checked_numel("expand", shape, dtype_size(a.dtype()));
    // Not written out (a stride-0 view in effect): the gradient of sum and mean is one.
    Tensor out = detail::dispatch_float("expand", a.dtype(),
                                        [&](auto) { return detail::broadcast_lazy(a, shape); });
    if (auto node = record("ExpandBackward", {a}, {out})) {
        Shape in = a.shape();
        node->set_fn([in](const TensorList& g) { return TensorList{sum_to(g[0], in)}; });
    }
    return out;
}

// ---- max / min ----

namespace detail {

// 1/k on each of the k elements tied for the extreme of their reduction, 0 elsewhere: the
// share of the gradient each one gets. A constant (computed from detached data).
Tensor tie_weights(const Tensor& x, const Tensor& out, const std::vector<std::size_t>& axes) {
    Tensor xd = x.detach(), od = unreduce(out.detach(), x.shape(), axes);
    // A NaN extreme is "equal" to the NaN elements it came from, as in torch.
    Tensor mask = logical_or(eq(xd, od), logical_and(ne(xd, xd), ne(od, od))).to(x.dtype());
    return div(mask, sum(mask, to_dims_of(axes), true));
}

}  // namespace detail

namespace {

Tensor extreme(const char* op, const char* node_name, bool is_max, const Tensor& a,
               const Dims& dims, bool keepdim) {
    detail::check_defined(op, a, "input");
    auto axes = detail::reduce_axes(op, dims, a.dim());
    XG_CHECK(reduced_count(a.shape(), axes) > 0,
             "{}: cannot reduce over zero elements (input shape {}, dims [{}])", op, a.shape(),
             fmt::join(dims, ", "));
    Tensor out = naming_oom(op, [&] {
        return detail::dispatch_all(a.dtype(), [&](auto tag) {
            using T = decltype(tag);
            if (is_max) return Tensor(reduce_raw(a.data<T>(), axes, keepdim, max_reducer));
            return Tensor(reduce_raw(a.data<T>(), axes, keepdim, min_reducer));
        });
    });
    if (auto node = record(node_name, {a}, {out})) {
        Shape in = a.shape();
        Tensor w = detail::tie_weights(a, out, axes);
        node->set_fn([in, axes, w](const TensorList& g) {
            return TensorList{mul(detail::unreduce(g[0], in, axes), w)};
        });
    }
    return out;
}

// torch.max(a, dim): the first extreme's index (NaN wins), its value gathered, so the gradient
// goes to that index only.
std::tuple<Tensor, Tensor> extreme_dim(const char* op, const char* node_name, bool is_max,
                                       const Tensor& a, std::int64_t dim, bool keepdim);

}  // namespace

Tensor max(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    return extreme("max", "MaxBackward", true, a, {}, false);
}
Tensor min(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    return extreme("min", "MinBackward", false, a, {}, false);
}
Tensor amax(const Tensor& a, const Dims& dims, bool keepdim, Site site) {
    detail::SiteScope at(site);
    return extreme("amax", "AmaxBackward", true, a, dims, keepdim);
}
Tensor amin(const Tensor& a, const Dims& dims, bool keepdim, Site site) {
    detail::SiteScope at(site);
    return extreme("amin", "AminBackward", false, a, dims, keepdim);
}
std::tuple<Tensor, Tensor> max(const Tensor& a, std::int64_t dim, bool keepdim, Site site) {
    detail::SiteScope at(site);
    return extreme_dim("max", "MaxBackward", true, a, dim, keepdim);
}
std::tuple<Tensor, Tensor> min(const Tensor& a, std::int64_t dim, bool keepdim, Site site) {
    detail::SiteScope at(site);
    return extreme_dim("min", "MinBackward", false, a, dim, keepdim);
}

// ---- var ----

namespace {

Tensor variance(const char* op, const Tensor& a, const Dims& dims, std::int64_t correction,
                bool keepdim) {
    detail::check_defined(op, a, "input");
    detail::check_floating(op, a, "input");
    auto axes = detail::reduce_axes(op, dims, a.dim());
    const auto n = static_cast<std::int64_t>(reduced_count(a.shape(), axes));
    // n - correction must not overflow: correction is the caller's.
    std::int64_t dof = 0;
    XG_CHECK(!__builtin_sub_overflow(n, correction, &dof) && dof > 0,
             "{}: {} elements per reduction (input shape {}) with correction {} leave N - "
             "correction = {}, which must be positive",
             op, n, a.shape(), correction, dof);
    const double denom = static_cast<double>(dof);
    Tensor out = detail::dispatch_float(op, a.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const auto& x = a.data<T>();
        xg::array<T> mu = reduce_raw(x, axes, true, sum_reducer) / static_cast<T>(n);
        xg::array<T> sq = xt::square(x - mu);
        return Tensor(xg::array<T>(reduce_raw(sq, axes, keepdim, sum_reducer) / T(denom)));
    });
    if (auto node = record("VarBackward", {a}, {out})) {
        // 2 (x - mean) / (N - correction), with differentiable ops so it has a derivative too.
        SavedTensor sa = a;
        Shape in = a.shape();
        node->set_fn([sa, in, axes, denom](const TensorList& g) {
            Tensor x = sa.unpack();
            Tensor centered = sub(x, mean(x, detail::to_dims_of(axes), true));
            return TensorList{mul(detail::unreduce(g[0], in, axes), mul(centered, 2.0 / denom))};
        });
    }
    return out;
}

}  // namespace

Tensor var(const Tensor& a, const Dims& dims, std::int64_t correction, bool keepdim, Site site) {
    detail::SiteScope at(site);
    return variance("var", a, dims, correction, keepdim);
}

Tensor std(const Tensor& a, const Dims& dims, std::int64_t correction, bool keepdim, Site site) {
    detail::SiteScope at(site);
    Tensor v = variance("std", a, dims, correction, keepdim);
    Tensor out = detail::dispatch_float("std", v.dtype(), [&](auto tag) {
        using T = decltype(tag);
        return Tensor(xg::array<T>(xt::sqrt(v.data<T>())));
    });
    if (auto node = record("StdBackward", {v}, {out})) {
        // d sqrt(v) = g / (2 std), and 0 where std is 0 (torch's std_backward), with no inf
        // on the way so that the second derivative stays finite too.
        node->set_fn([so = SavedTensor(out)](const TensorList& g) {
            Tensor s = so.unpack();
            Tensor zero = eq(s.detach(), 0.0).to(s.dtype());  // 1 where std is 0
            return TensorList{mul(div(g[0], mul(add(s, zero), 2.0)), rsub(1.0, zero))};
        });
    }
    return out;
}

// ---- argmax / argmin ----

namespace {

// Index of the extreme along the middle axis of x viewed as [outer, n, inner]; first index on
// ties, NaN counts as the extreme (as in torch).
template <class T>
xg::array<std::int64_t> arg_extreme_raw(const xg::array<T>& x, bool is_max, std::size_t outer,
                                        std::size_t n, std::size_t inner, const Shape& shape) {
    xg::array<std::int64_t> r = xg::array<std::int64_t>::from_shape(shape);
    const T* p = x.data();
    std::int64_t* q = r.data();
    for (std::size_t o = 0; o < outer; ++o) {
        for (std::size_t i = 0; i < inner; ++i) {
            const T* base = p + o * n * inner + i;
            std::size_t best = 0;
            for (std::size_t k = 1; k < n && !(base[best * inner] != base[best * inner]); ++k) {
                const T v = base[k * inner], b = base[best * inner];
                if (v != v || (is_max ? v > b : v < b)) best = k;
            }
            q[o * inner + i] = static_cast<std::int64_t>(best);
        }
    }
    return r;
}

Tensor arg_extreme(const char* op, bool is_max, const Tensor& a, std::optional<std::int64_t> dim,
                   bool keepdim) {
    detail::check_defined(op, a, "input");
    const Shape& s = a.shape();
    std::size_t outer = 1, n = a.numel(), inner = 1;
    Shape out_shape = keepdim ? Shape(a.dim(), 1) : Shape{};
    if (!dim) {
        XG_CHECK(n > 0, "{}: cannot take the {} of an empty tensor (shape {})", op, op, s);
    } else {
        std::size_t d = detail::wrap_dim(op, *dim, a.dim());
        if (a.dim() > 0) {
            n = s[d];
            XG_CHECK(n > 0, "{}: dim {} has size 0 (input shape {})", op, *dim, s);
            for (std::size_t i = 0; i < d; ++i) outer *= s[i];
            for (std::size_t i = d + 1; i < s.size(); ++i) inner *= s[i];
            out_shape = s;
            if (keepdim) {
                out_shape[d] = 1;
            } else {
                out_shape.erase(out_shape.begin() + static_cast<std::ptrdiff_t>(d));
            }
        }
    }
    return detail::dispatch_all(a.dtype(), [&](auto tag) {
        using T = decltype(tag);
        return Tensor(arg_extreme_raw(a.data<T>(), is_max, outer, n, inner, out_shape));
    });
}

std::tuple<Tensor, Tensor> extreme_dim(const char* op, const char* node_name, bool is_max,
                                       const Tensor& a, std::int64_t dim, bool keepdim) {
    detail::check_defined(op, a, "input");
    const std::size_t d = detail::wrap_dim(op, dim, a.dim());
    const auto sp = detail::split_at(a.shape(), d);
    XG_CHECK(sp.n > 0, "{}: cannot reduce over zero elements (dim {} has size 0, input shape {})",
             op, dim, a.shape());
    Shape kept = a.shape(), out = a.shape();
    if (a.dim() > 0) {
        kept[d] = 1;
        out.erase(out.begin() + static_cast<std::ptrdiff_t>(d));
    }
    Tensor idx = naming_oom(op, [&] {
        return detail::dispatch_all(a.dtype(), [&](auto tag) {
            using T = decltype(tag);
            return Tensor(arg_extreme_raw(a.data<T>(), is_max, sp.outer, sp.n, sp.inner, kept));
        });
    });
    Tensor values = detail::gather_dim(node_name, a, d, idx);
    if (keepdim || a.dim() == 0) return {values, idx};
    return {reshape(values, detail::to_dims(out)), detail::reshape_raw(idx, out)};
}

}  // namespace

Tensor argmax(const Tensor& a, std::optional<std::int64_t> dim, bool keepdim) {
    return arg_extreme("argmax", true, a, dim, keepdim);
}

Tensor argmin(const Tensor& a, std::optional<std::int64_t> dim, bool keepdim) {
    return arg_extreme("argmin", false, a, dim, keepdim);
}

Tensor Tensor::argmax(std::optional<std::int64_t> dim, bool keepdim) const {
    return xg::argmax(*this, dim, keepdim);
}

Tensor Tensor::sum(Site site) const {
    return xg::sum(*this, site);
}
Tensor Tensor::sum(std::vector<std::int64_t> dims, bool keepdim, Site site) const {
    return xg::sum(*this, dims, keepdim, site);
}
Tensor Tensor::mean(Site site) const {
    return xg::mean(*this, site);
}
Tensor Tensor::mean(std::vector<std::int64_t> dims, bool keepdim, Site site) const {
    return xg::mean(*this, dims, keepdim, site);
}

}  // namespace xg

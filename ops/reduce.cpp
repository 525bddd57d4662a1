#include "ops/reduce.hpp"

#include <algorithm>

#include <xtensor/xbroadcast.hpp>
#include <xtensor/xreducer.hpp>

#include "core/dispatch.hpp"
#include "core/node.hpp"
#include "ops/elementwise.hpp"
#include "ops/shape.hpp"

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
    XG_CHECK(std::adjacent_find(axes.begin(), axes.end()) == axes.end(),
             "{}: dim {} appears more than once in the list of dims", op,
             *std::adjacent_find(axes.begin(), axes.end()));
    return axes;
}

// The shape a reduction over `axes` has with keepdim=true.
Shape keepdim_shape(const Shape& in, const std::vector<std::size_t>& axes) {
    Shape out = in;
    for (auto ax : axes) out[ax] = 1;
    return out;
}

std::vector<std::int64_t> to_dims(const Shape& s) { return {s.begin(), s.end()}; }

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

Tensor sum_kernel(const char* op, const Tensor& a, const std::vector<std::size_t>& axes,
                  bool keepdim) {
    return detail::dispatch_float(op, a.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const auto& x = a.data<T>();
        if (axes.empty()) return Tensor(xt::xarray<T>(x));
        constexpr auto now = xt::evaluation_strategy::immediate;
        if (keepdim) return Tensor(xt::xarray<T>(xt::sum(x, axes, xt::keep_dims | now)));
        return Tensor(xt::xarray<T>(xt::sum(x, axes, now)));
    });
}

}  // namespace

Tensor sum(const Tensor& a) { return sum(a, {}, false); }

Tensor sum(const Tensor& a, const Dims& dims, bool keepdim) {
    detail::check_defined("sum", a, "input");
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

Tensor mean(const Tensor& a) { return mean(a, {}, false); }

Tensor mean(const Tensor& a, const Dims& dims, bool keepdim) {
    detail::check_defined("mean", a, "input");
    auto axes = detail::reduce_axes("mean", dims, a.dim());
    std::size_t n = reduced_count(a.shape(), axes);
    XG_CHECK(n > 0, "mean: cannot take the mean of zero elements (shape {})", a.shape());
    return div(sum(a, dims, keepdim), static_cast<double>(n));
}

Tensor sum_to(const Tensor& a, const Shape& shape) {
    detail::check_defined("sum_to", a, "input");
    XG_CHECK(detail::is_broadcastable_to(shape, a.shape()),
             "sum_to: cannot sum shape {} down to {} (it does not broadcast to it)", a.shape(),
             shape);
    if (a.shape() == shape) return a;
    std::size_t lead = a.dim() - shape.size();
    std::vector<std::size_t> axes;
    for (std::size_t i = 0; i < a.dim(); ++i) {
        if (i < lead || (shape[i - lead] == 1 && a.shape()[i] != 1)) axes.push_back(i);
    }
    Tensor summed = sum_kernel("sum_to", a, axes, true);
    Tensor out = detail::reshape_raw(summed, shape);
    if (auto node = record("SumToBackward", {a}, {out})) {
        Shape in = a.shape();
        node->set_fn([in](const TensorList& g) { return TensorList{expand(g[0], in)}; });
    }
    return out;
}

Tensor expand(const Tensor& a, const Shape& shape) {
    detail::check_defined("expand", a, "input");
    XG_CHECK(detail::is_broadcastable_to(a.shape(), shape), "expand: cannot broadcast {} to {}",
             a.shape(), shape);
    if (a.shape() == shape) return a;
    Tensor out = detail::dispatch_float("expand", a.dtype(), [&](auto tag) {
        using T = decltype(tag);
        return Tensor(xt::xarray<T>(xt::broadcast(a.data<T>(), shape)));
    });
    if (auto node = record("ExpandBackward", {a}, {out})) {
        Shape in = a.shape();
        node->set_fn([in](const TensorList& g) { return TensorList{sum_to(g[0], in)}; });
    }
    return out;
}

Tensor Tensor::sum() const { return xg::sum(*this); }
Tensor Tensor::sum(std::vector<std::int64_t> dims, bool keepdim) const {
    return xg::sum(*this, dims, keepdim);
}
Tensor Tensor::mean() const { return xg::mean(*this); }
Tensor Tensor::mean(std::vector<std::int64_t> dims, bool keepdim) const {
    return xg::mean(*this, dims, keepdim);
}

}  // namespace xg

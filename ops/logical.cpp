#include "ops/logical.hpp"

#include <algorithm>
#include <type_traits>

#include "core/dispatch.hpp"
#include "core/node.hpp"
#include "ops/elementwise.hpp"
#include "ops/elementwise_kernels.hpp"
#include "ops/reduce.hpp"

namespace xg {

namespace {

// a's elements as bools (nonzero is true), without history.
Tensor truth(const Tensor& a) {
    return a.dtype() == bool_ ? a.detach() : a.detach().to(bool_);
}

template <class F>
Tensor logical_binary(const char* op, const Tensor& a, const Tensor& b, F f) {
    detail::check_defined(op, a, "input");
    detail::check_defined(op, b, "other");
    return detail::exact_binary(op, truth(a), truth(b), f);
}

template <class F>
Tensor bitwise_binary(const char* op, const Tensor& a0, const Tensor& b0, F f) {
    detail::check_defined(op, a0, "input");
    detail::check_defined(op, b0, "other");
    const auto ab = detail::promoted(op, a0.detach(), b0.detach());
    const Tensor &a = ab.first, &b = ab.second;
    XG_CHECK(!is_floating(a.dtype()), "{}: only bool and integer tensors have bits, got {} and {}",
             op, a0.dtype(), b0.dtype());
    return detail::exact_binary(op, a, b, f);
}

}  // namespace

Tensor logical_and(const Tensor& a, const Tensor& b, Site site) {
    detail::SiteScope at(site);
    return logical_binary("logical_and", a, b, [](auto x, auto y) { return x && y; });
}
Tensor logical_or(const Tensor& a, const Tensor& b, Site site) {
    detail::SiteScope at(site);
    return logical_binary("logical_or", a, b, [](auto x, auto y) { return x || y; });
}
Tensor logical_xor(const Tensor& a, const Tensor& b, Site site) {
    detail::SiteScope at(site);
    return logical_binary("logical_xor", a, b, [](auto x, auto y) { return x != y; });
}
Tensor logical_not(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("logical_not", a, "input");
    return eq(truth(a), false);
}

Tensor bitwise_and(const Tensor& a, const Tensor& b, Site site) {
    detail::SiteScope at(site);
    return bitwise_binary("bitwise_and", a, b, [](auto x, auto y) { return decltype(x)(x & y); });
}
Tensor bitwise_or(const Tensor& a, const Tensor& b, Site site) {
    detail::SiteScope at(site);
    return bitwise_binary("bitwise_or", a, b, [](auto x, auto y) { return decltype(x)(x | y); });
}
Tensor bitwise_xor(const Tensor& a, const Tensor& b, Site site) {
    detail::SiteScope at(site);
    return bitwise_binary("bitwise_xor", a, b, [](auto x, auto y) { return decltype(x)(x ^ y); });
}
Tensor bitwise_not(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("bitwise_not", a, "input");
    XG_CHECK(!is_floating(a.dtype()),
             "bitwise_not: only bool and integer tensors have bits, got {}", a.dtype());
    return detail::dispatch_all(a.dtype(), [&](auto tag) {
        using T = decltype(tag);
        if constexpr (std::is_floating_point_v<T>) {
            return Tensor();  // refused above
        } else {
            return Tensor(detail::map_unary(a.data<T>(), [](T x) {
                if constexpr (std::is_same_v<T, bool>) {
                    return !x;
                } else {
                    return static_cast<T>(~x);
                }
            }));
        }
    });
}
Tensor operator&(const Tensor& a, const Tensor& b) {
    return bitwise_and(a, b);
}
Tensor operator|(const Tensor& a, const Tensor& b) {
    return bitwise_or(a, b);
}
Tensor operator^(const Tensor& a, const Tensor& b) {
    return bitwise_xor(a, b);
}
Tensor operator~(const Tensor& a) {
    return bitwise_not(a);
}

// Counting the true elements keeps these two ops to the reductions sum already has.
Tensor any(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("any", a, "input");
    return gt(sum(truth(a)), 0);
}
Tensor any(const Tensor& a, std::int64_t dim, bool keepdim, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("any", a, "input");
    detail::wrap_dim("any", dim, a.dim());
    return gt(sum(truth(a), {dim}, keepdim), 0);
}
Tensor all(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("all", a, "input");
    return eq(sum(logical_not(a)), 0);
}
Tensor all(const Tensor& a, std::int64_t dim, bool keepdim, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("all", a, "input");
    detail::wrap_dim("all", dim, a.dim());
    return eq(sum(logical_not(a), {dim}, keepdim), 0);
}

namespace {
void check_mask(const char* op, const Tensor& a, const Tensor& mask) {
    detail::check_defined(op, a, "input");
    detail::check_defined(op, mask, "mask");
    XG_CHECK(mask.dtype() == bool_, "{}: expected a bool mask, got {} (compare to make one)", op,
             mask.dtype());
}
}  // namespace

Tensor masked_fill(const Tensor& a, const Tensor& mask, Scalar value, Site site) {
    detail::SiteScope at(site);
    check_mask("masked_fill", a, mask);
    // The value in a's dtype: an integer that the dtype cannot hold is an error.
    Tensor v = value.is_integral(true) && !is_floating(a.dtype())
                   ? detail::scalar_as("masked_fill", value, a.dtype())
                   : full(Shape{}, value.to_double(), a.dtype());
    return masked_fill(a, mask, v);
}

Tensor masked_fill(const Tensor& a, const Tensor& mask, const Tensor& value, Site site) {
    detail::SiteScope at(site);
    check_mask("masked_fill", a, mask);
    detail::check_defined("masked_fill", value, "value");
    XG_CHECK(value.dim() == 0, "masked_fill: the value must be a 0-d tensor, got shape {}",
             value.shape());
    XG_CHECK(detail::is_broadcastable_to(mask.shape(), a.shape()),
             "masked_fill: mask of shape {} does not broadcast to the input's shape {}",
             mask.shape(), a.shape());
    return where(mask, value.to(a.dtype()), a);
}

namespace {
Tensor select_kernel(const Tensor& a, const Tensor& m) {
    const auto& mb = m.data<bool>();
    const std::size_t n = static_cast<std::size_t>(std::count(mb.begin(), mb.end(), true));
    return detail::dispatch_all(a.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const auto& x = a.data<T>();
        auto r = xg::array<T>::from_shape({n});
        std::size_t k = 0;
        for (std::size_t i = 0; i < mb.size(); ++i)
            if (mb.data()[i]) r.data()[k++] = x.data()[i];
        return Tensor(std::move(r));
    });
}

// zeros of `shape` with g's elements written, in order, where the (written-out) mask holds: the
// gradient of masked_select. Linear in g; its own gradient is masked_select again.
Tensor masked_scatter_zeros(const Tensor& g, const Tensor& mask, const Shape& shape) {
    Tensor out = detail::dispatch_all(g.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const auto& mb = mask.data<bool>();
        const auto& src = g.data<T>();
        xg::array<T> r = xt::zeros<T>(shape);
        std::size_t k = 0;
        for (std::size_t i = 0; i < mb.size(); ++i)
            if (mb.data()[i]) r.data()[i] = src.data()[k++];
        return Tensor(std::move(r));
    });
    if (auto node = record("MaskedScatterBackward", {g}, {out})) {
        node->set_fn(
            [mask](const TensorList& gg) { return TensorList{masked_select(gg[0], mask)}; });
    }
    return out;
}
}  // namespace

Tensor masked_select(const Tensor& a, const Tensor& mask, Site site) {
    detail::SiteScope at(site);
    check_mask("masked_select", a, mask);
    const Shape shape = detail::broadcast_shapes("masked_select", a.shape(), mask.shape());
    const Tensor ab = expand(a, shape);
    const Tensor m = detail::broadcast_lazy(mask.detach(), shape).clone();  // written out
    Tensor out = select_kernel(ab, m);
    if (auto node = record("MaskedSelectBackward", {ab}, {out})) {
        node->set_fn([m, shape](const TensorList& g) {
            return TensorList{masked_scatter_zeros(g[0], m, shape)};
        });
    }
    return out;
}

}  // namespace xg

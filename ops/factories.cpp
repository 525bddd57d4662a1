// Factories (ops/factories.hpp).
#include "ops/factories.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "core/checked.hpp"
#include "core/dispatch.hpp"

namespace xg {

namespace {

template <class V>
constexpr Dtype natural_dtype() {
    if constexpr (std::is_same_v<V, float>) {
        return float32;
    } else if constexpr (std::is_same_v<V, double>) {
        return float64;
    } else {
        return int64;
    }
}

template <class V>
Tensor from_vector(const std::vector<V>& values, const Shape& shape, std::optional<Dtype> dtype) {
    const char* op = "tensor";
    const Dtype dt = dtype.value_or(natural_dtype<V>());
    const std::size_t n = checked_numel(op, shape, dtype_size(dt));
    XG_CHECK(n == values.size(), "tensor: {} values do not fill shape {} ({} elements)",
             values.size(), shape, n);
    return naming_oom(op, [&] {
        return detail::dispatch_all(dt, [&](auto tag) {
            using T = decltype(tag);
            auto a = xg::array<T>::from_shape(shape);
            for (std::size_t i = 0; i < n; ++i) {
                if constexpr (std::is_same_v<T, bool>) {
                    a.data()[i] = values[i] != V(0);  // nonzero is true, NaN too
                } else if constexpr (std::is_integral_v<T> && std::is_floating_point_v<V>) {
                    a.data()[i] = detail::value_cast<T>(op, static_cast<double>(values[i]));
                } else {
                    a.data()[i] = static_cast<T>(values[i]);
                }
            }
            return Tensor(std::move(a));
        });
    });
}

}  // namespace

#define XG_TENSOR_FROM_VECTOR(V)                                                                \
    Tensor tensor(const std::vector<V>& values, std::optional<Dtype> dtype, Site site) {        \
        detail::SiteScope at(site);                                                             \
        return from_vector(values, Shape{values.size()}, dtype);                                \
    }                                                                                           \
    Tensor tensor(const std::vector<V>& values, const Shape& shape, std::optional<Dtype> dtype, \
                  Site site) {                                                                  \
        detail::SiteScope at(site);                                                             \
        return from_vector(values, shape, dtype);                                               \
    }
XG_TENSOR_FROM_VECTOR(float)
XG_TENSOR_FROM_VECTOR(double)
XG_TENSOR_FROM_VECTOR(std::int64_t)
XG_TENSOR_FROM_VECTOR(int)
#undef XG_TENSOR_FROM_VECTOR

Tensor eye(std::int64_t n, Dtype dtype, Site site) {
    detail::SiteScope at(site);
    return eye(n, std::nullopt, dtype);
}

Tensor eye(std::int64_t n, std::optional<std::int64_t> m, Dtype dtype, Site site) {
    detail::SiteScope at(site);
    const char* op = "eye";
    XG_CHECK(n >= 0, "eye: n must be non-negative, got {}", n);
    const std::int64_t cols = m.value_or(n);
    XG_CHECK(cols >= 0, "eye: m must be non-negative, got {}", cols);
    const Shape shape{static_cast<std::size_t>(n), static_cast<std::size_t>(cols)};
    checked_numel(op, shape, dtype_size(dtype));
    return naming_oom(op, [&] {
        return detail::dispatch_all(dtype, [&](auto tag) {
            using T = decltype(tag);
            auto a = xg::array<T>::from_shape(shape);
            std::fill(a.begin(), a.end(), static_cast<T>(0));
            for (std::size_t i = 0; i < std::min(shape[0], shape[1]); ++i)
                a(i, i) = static_cast<T>(1);
            return Tensor(std::move(a));
        });
    });
}

Tensor linspace(double start, double end, std::int64_t steps, Dtype dtype, Site site) {
    detail::SiteScope at(site);
    const char* op = "linspace";
    XG_CHECK(steps >= 0, "linspace: steps must be non-negative, got {}", steps);
    XG_CHECK(std::isfinite(start) && std::isfinite(end),
             "linspace: start and end must be finite, got {} and {}", start, end);
    const auto n = static_cast<std::size_t>(steps);
    checked_numel(op, Shape{n}, dtype_size(dtype));
    if (!is_floating(dtype)) {  // the ends must convert
        detail::check_representable(op, start, dtype);
        detail::check_representable(op, end, dtype);
    }
    return naming_oom(op, [&] {
        return detail::dispatch_all(dtype, [&](auto tag) {
            using T = decltype(tag);
            // PyTorch's kernel: the ends in T, the step in T (double for integers).
            using S = std::conditional_t<std::is_floating_point_v<T>, T, double>;
            auto a = xg::array<T>::from_shape({n});
            if (n == 1) a(0) = static_cast<T>(start);
            if (n <= 1) return Tensor(std::move(a));
            const S s0 = static_cast<S>(static_cast<T>(start)),
                    s1 = static_cast<S>(static_cast<T>(end));
            const S step = (s1 - s0) / static_cast<S>(steps - 1);
            const std::size_t half = n / 2;
            for (std::size_t i = 0; i < n; ++i) {
                // One rounding per value, as PyTorch's kernel compiled with FMA.
                const S v = i < half ? std::fma(step, static_cast<S>(i), s0)
                                     : std::fma(-step, static_cast<S>(n - 1 - i), s1);
                a(i) = static_cast<T>(v);
            }
            return Tensor(std::move(a));
        });
    });
}

Tensor empty(const Shape& shape, Dtype dtype, Site site) {
    detail::SiteScope at(site);
    const char* op = "empty";
    checked_numel(op, shape, dtype_size(dtype));
    return naming_oom(op, [&] {
        return detail::dispatch_all(dtype, [&](auto tag) {
            using T = decltype(tag);
            auto a = xg::array<T>::from_shape(shape);
            std::fill(a.begin(), a.end(), static_cast<T>(0));
            return Tensor(std::move(a));
        });
    });
}

}  // namespace xg

#pragma once
// The loops under the elementwise ops, for the op families built on them (ops/elementwise.cpp,
// ops/math.cpp): flat loops over contiguous buffers that GCC vectorizes, broadcasting, and the
// dtype dispatch of a unary or binary float kernel, the promotion of mixed operands and the
// integer/bool loops. Internal: not part of the public API.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/dispatch.hpp"
#include "core/scalar.hpp"
#include "ops/vec_math.hpp"

namespace xg {
namespace detail {
// Internal linkage on purpose: each including file gets its own copy of these templates, as
// when they lived in one .cpp, so the target_clones ifunc resolvers are never shared.
namespace {

// Integer arithmetic wraps around in two's complement, as PyTorch's does (computed unsigned, so
// it is defined C++); on bool, + is "or" and * is "and"; floats are plain IEEE arithmetic.
template <class T>
T wrap_add(T x, T y) {
    if constexpr (std::is_floating_point_v<T>) {
        return x + y;
    } else if constexpr (std::is_same_v<T, bool>) {
        return x || y;
    } else {
        using U = std::make_unsigned_t<T>;
        return static_cast<T>(static_cast<U>(static_cast<U>(x) + static_cast<U>(y)));
    }
}
template <class T>
T wrap_sub(T x, T y) {
    if constexpr (std::is_floating_point_v<T>) {
        return x - y;
    } else if constexpr (std::is_same_v<T, bool>) {
        return x != y;  // callers refuse bool subtraction first, as PyTorch does
    } else {
        using U = std::make_unsigned_t<T>;
        return static_cast<T>(static_cast<U>(static_cast<U>(x) - static_cast<U>(y)));
    }
}
template <class T>
T wrap_mul(T x, T y) {
    if constexpr (std::is_floating_point_v<T>) {
        return x * y;
    } else if constexpr (std::is_same_v<T, bool>) {
        return x && y;
    } else {
        using U = std::make_unsigned_t<T>;
        return static_cast<T>(static_cast<U>(static_cast<U>(x) * static_cast<U>(y)));
    }
}

// Elementwise loops over the raw contiguous buffers, which GCC vectorizes (xtensor's assignment
// of dynamic-shape expressions steps through indices and does not). f takes and returns scalars.
// XG_SIMD_CLONES (ops/vec_math.hpp) adds an AVX2 build picked at load time.
template <class T, class F>
XG_SIMD_CLONES void unary_loop(const T* x, T* y, std::size_t n, F f) {
    for (std::size_t i = 0; i < n; ++i) y[i] = f(x[i]);
}

template <class T, class F>
XG_SIMD_CLONES void binary_loop(const T* x, const T* z, T* y, std::size_t n, F f) {
    for (std::size_t i = 0; i < n; ++i) y[i] = f(x[i], z[i]);
}

template <class T, class F>
xg::array<T> map_unary(const xg::array<T>& a, F f) {
    auto out = xg::array<T>::from_shape(a.shape());
    unary_loop(a.data(), out.data(), a.size(), f);
    return out;
}

// General broadcasting: a walk over the output whose innermost run is one flat loop. Adjacent
// dims merge when both operands step through them alike, so (N, C, H, W) * (1, C, 1, 1) runs
// N*C loops of H*W elements.
template <class T, class F>
xg::array<T> map_broadcast(const xg::array<T>& a, const xg::array<T>& b, F f) {
    const std::size_t nd = std::max(a.dimension(), b.dimension());
    auto size_of = [nd](const xg::array<T>& t, std::size_t d) {
        std::size_t lead = nd - t.dimension();
        return d < lead ? std::size_t{1} : t.shape()[d - lead];
    };
    Shape out(nd);
    std::vector<std::size_t> stride_a(nd), stride_b(nd);
    for (std::size_t d = nd, acc_a = 1, acc_b = 1; d-- > 0;) {
        const std::size_t da = size_of(a, d), db = size_of(b, d);
        out[d] = da == 1 ? db : da;
        stride_a[d] = da == 1 ? 0 : acc_a;
        stride_b[d] = db == 1 ? 0 : acc_b;
        acc_a *= da;
        acc_b *= db;
    }
    auto result = xg::array<T>::from_shape(out);
    if (result.size() == 0) return result;
    std::vector<std::size_t> len, sa, sb;  // merged dims, outermost first
    for (std::size_t d = 0; d < nd; ++d) {
        if (out[d] == 1) continue;
        if (!len.empty() && sa.back() == stride_a[d] * out[d] &&
            sb.back() == stride_b[d] * out[d]) {
            len.back() *= out[d];
            sa.back() = stride_a[d];
            sb.back() = stride_b[d];
        } else {
            len.push_back(out[d]);
            sa.push_back(stride_a[d]);
            sb.push_back(stride_b[d]);
        }
    }
    const T* x = a.data();
    const T* z = b.data();
    T* y = result.data();
    if (len.empty()) {  // every dim is 1
        y[0] = f(x[0], z[0]);
        return result;
    }
    const std::size_t inner = len.back(), outer = result.size() / inner, k = len.size() - 1;
    const bool step_a = sa.back() != 0, step_b = sb.back() != 0;  // stride 1 when stepping
    std::vector<std::size_t> pos(k, 0);
    std::size_t pa = 0, pb = 0;
    for (std::size_t o = 0; o < outer; ++o, y += inner) {
        if (step_a && step_b) {
            binary_loop(x + pa, z + pb, y, inner, f);
        } else if (step_a) {
            const T s = z[pb];
            unary_loop(x + pa, y, inner, [&f, s](T v) { return f(v, s); });
        } else if (step_b) {
            const T s = x[pa];
            unary_loop(z + pb, y, inner, [&f, s](T v) { return f(s, v); });
        } else {
            std::fill(y, y + inner, f(x[pa], z[pb]));
        }
        for (std::size_t d = k; d-- > 0;) {  // next outer index, odometer style
            pa += sa[d];
            pb += sb[d];
            if (++pos[d] < len[d]) break;
            pa -= sa[d] * len[d];
            pb -= sb[d] * len[d];
            pos[d] = 0;
        }
    }
    return result;
}

// Same shapes and one-element operands take flat loops; other broadcasts go
// through map_broadcast.
template <class T, class F>
xg::array<T> map_binary(const xg::array<T>& a, const xg::array<T>& b, F f) {
    const T* x = a.data();
    const T* z = b.data();
    if (a.shape() == b.shape()) {
        auto out = xg::array<T>::from_shape(a.shape());
        binary_loop(x, z, out.data(), a.size(), f);
        return out;
    }
    if (b.size() == 1 && b.dimension() <= a.dimension()) {
        const T s = z[0];
        return map_unary(a, [&f, s](T v) { return f(v, s); });
    }
    if (a.size() == 1 && a.dimension() <= b.dimension()) {
        const T s = x[0];
        return map_unary(b, [&f, s](T v) { return f(s, v); });
    }
    return map_broadcast(a, b, f);
}

// Runs f(T) on every element of a float tensor. On a broadcast not written out (the gradient of
// a sum, core/tensor.hpp) f runs on its source and the result stays a broadcast.
template <class F>
Tensor unary_kernel(const char* op, const Tensor& a, F&& f) {
    detail::check_defined(op, a, "input");
    const Tensor src = detail::broadcast_source(a);
    return detail::dispatch_float(op, a.dtype(), [&](auto tag) {
        using T = decltype(tag);
        if (src.defined())
            return detail::broadcast_lazy(Tensor(map_unary(src.data<T>(), f)), a.shape(), true);
        return Tensor(map_unary(a.data<T>(), f));
    });
}

// An operand that is a broadcast not written out is read through its source (map_binary
// broadcasts anyway); a result smaller than the output's shape stays a broadcast.
template <class F>
Tensor binary_kernel(const char* op, const Tensor& a, const Tensor& b, F&& f) {
    detail::check_defined(op, a, "input");
    detail::check_defined(op, b, "other");
    detail::check_same_dtype(op, a, b);
    const Shape out =
        a.shape() == b.shape() ? a.shape() : detail::broadcast_shapes(op, a.shape(), b.shape());
    const Tensor sa = detail::broadcast_source(a), sb = detail::broadcast_source(b);
    const Tensor& ra = sa.defined() ? sa : a;
    const Tensor& rb = sb.defined() ? sb : b;
    return detail::dispatch_float(op, a.dtype(), [&](auto tag) {
        using T = decltype(tag);
        Tensor r(map_binary(ra.data<T>(), rb.data<T>(), f));
        return r.shape() == out ? r : detail::broadcast_lazy(r, out, true);
    });
}

// An integer or bool binary op on operands of one such dtype: never recorded (no gradient).
template <class F>
Tensor exact_binary(const char* op, const Tensor& a, const Tensor& b, F f) {
    if (a.shape() != b.shape()) detail::broadcast_shapes(op, a.shape(), b.shape());
    return detail::dispatch_all(a.dtype(), [&](auto tag) {
        using T = decltype(tag);
        if constexpr (std::is_floating_point_v<T>) {
            return Tensor();  // unreachable: callers send floats down the recorded path
        } else {
            return Tensor(map_binary(a.data<T>(), b.data<T>(), [&f](T x, T y) { return f(x, y); }));
        }
    });
}

// The operands of a binary op in their result dtype (PyTorch's promotion, result_type); with
// `floating`, integers go to float32 (true division). The casts are differentiable, so a
// float32 operand beside a float64 one gets a float32 gradient back.
std::pair<Tensor, Tensor> promoted(const char* op, const Tensor& a, const Tensor& b,
                                   bool floating = false) {
    detail::check_defined(op, a, "input");
    detail::check_defined(op, b, "other");
    Dtype r = result_type(a, b);
    if (floating && !is_floating(r)) r = float32;
    return {a.to(r), b.to(r)};
}

// A scalar as a 0-d tensor of dtype d; an integer scalar that d cannot hold is an error.
Tensor scalar_as(const char* op, const Scalar& s, Dtype d) {
    return detail::dispatch_all(d, [&](auto tag) {
        using T = decltype(tag);
        auto v = xg::array<T>::from_shape({});
        if constexpr (std::is_floating_point_v<T>) {
            v() = static_cast<T>(s.to_double());
        } else if constexpr (std::is_same_v<T, bool>) {
            v() = s.to_double() != 0.0;
        } else if (s.is_floating_point()) {
            v() = detail::value_cast<T>(op, s.to_double());
        } else {
            const std::int64_t x = s.to_long();
            XG_CHECK(x >= std::numeric_limits<T>::min() && x <= std::numeric_limits<T>::max(),
                     "{}: value {} cannot be represented as {}", op, x, d);
            v() = static_cast<T>(x);
        }
        return Tensor(std::move(v));
    });
}

}  // namespace
}  // namespace detail
}  // namespace xg

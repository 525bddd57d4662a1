#include "ops/elementwise.hpp"

#include <cmath>
#include <type_traits>

#include <xtensor/xmath.hpp>
#include <xtensor/xoperation.hpp>
#include <xtensor/xvectorize.hpp>

#include "core/dispatch.hpp"
#include "core/node.hpp"
#include "ops/vec_math.hpp"

namespace xg {

namespace {

using detail::dispatch_float;

// Elementwise loops over the raw contiguous buffers, which GCC vectorizes (xtensor's assignment
// of dynamic-shape expressions steps through indices and does not). f takes and returns scalars.
// An AVX2 clone is picked at load time where the CPU has it (twice the SSE2 width); without FMA,
// so every machine computes the same bits.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define XG_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define XG_SIMD_CLONES
#endif

template <class T, class F>
XG_SIMD_CLONES void unary_loop(const T* x, T* y, std::size_t n, F f) {
    for (std::size_t i = 0; i < n; ++i) y[i] = f(x[i]);
}

template <class T, class F>
XG_SIMD_CLONES void binary_loop(const T* x, const T* z, T* y, std::size_t n, F f) {
    for (std::size_t i = 0; i < n; ++i) y[i] = f(x[i], z[i]);
}

template <class T, class F>
xt::xarray<T> map_unary(const xt::xarray<T>& a, F f) {
    auto out = xt::xarray<T>::from_shape(a.shape());
    unary_loop(a.data(), out.data(), a.size(), f);
    return out;
}

// Same shapes and one-element operands take flat loops; other broadcasts go through xtensor.
template <class T, class F>
xt::xarray<T> map_binary(const xt::xarray<T>& a, const xt::xarray<T>& b, F f) {
    const T* x = a.data();
    const T* z = b.data();
    if (a.shape() == b.shape()) {
        auto out = xt::xarray<T>::from_shape(a.shape());
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
    auto g = [&f](T u, T v) -> T { return f(u, v); };
    return xt::xarray<T>(xt::vectorize(g)(a, b));
}

// Runs f(T) on every element of a float tensor.
template <class F>
Tensor unary_kernel(const char* op, const Tensor& a, F&& f) {
    detail::check_defined(op, a, "input");
    return dispatch_float(op, a.dtype(),
                          [&](auto tag) { return Tensor(map_unary(a.data<decltype(tag)>(), f)); });
}

template <class F>
Tensor binary_kernel(const char* op, const Tensor& a, const Tensor& b, F&& f) {
    detail::check_defined(op, a, "input");
    detail::check_defined(op, b, "other");
    detail::check_same_dtype(op, a, b);
    if (a.shape() != b.shape()) detail::broadcast_shapes(op, a.shape(), b.shape());
    return dispatch_float(op, a.dtype(), [&](auto tag) {
        using T = decltype(tag);
        return Tensor(map_binary(a.data<T>(), b.data<T>(), f));
    });
}

// Comparisons: 0/1 in the dtype of the inputs, never recorded.
template <class F>
Tensor compare_kernel(const char* op, const Tensor& a, const Tensor& b, F&& f) {
    detail::check_defined(op, a, "input");
    detail::check_defined(op, b, "other");
    detail::check_same_dtype(op, a, b);
    if (a.shape() != b.shape()) detail::broadcast_shapes(op, a.shape(), b.shape());
    return detail::dispatch_all(a.dtype(), [&](auto tag) {
        using T = decltype(tag);
        return Tensor(xt::xarray<T>(xt::cast<T>(f(a.data<T>(), b.data<T>()))));
    });
}

// The scalar is taken in the tensor's dtype, except that an int64 tensor is compared with a
// fractional scalar in double (casting 2.5 to 2 would make 2 < 2.5 false).
template <class F>
Tensor compare_scalar(const char* op, const Tensor& a, double s, F&& f) {
    detail::check_defined(op, a, "input");
    return detail::dispatch_all(a.dtype(), [&](auto tag) {
        using T = decltype(tag);
        if constexpr (std::is_integral_v<T>) {
            if (s != std::floor(s) || std::abs(s) > 9.0e18) {
                return Tensor(xt::xarray<T>(xt::cast<T>(f(xt::cast<double>(a.data<T>()), s))));
            }
        }
        return Tensor(xt::xarray<T>(xt::cast<T>(f(a.data<T>(), static_cast<T>(s)))));
    });
}

}  // namespace

// ---- binary arithmetic ----

Tensor add(const Tensor& a, const Tensor& b) {
    Tensor out = binary_kernel("add", a, b, [](auto x, auto y) { return x + y; });
    if (auto node = record("AddBackward", {a, b}, {out}))
        node->set_fn([](const TensorList& g) { return TensorList{g[0], g[0]}; });
    return out;
}

Tensor sub(const Tensor& a, const Tensor& b) {
    Tensor out = binary_kernel("sub", a, b, [](auto x, auto y) { return x - y; });
    if (auto node = record("SubBackward", {a, b}, {out})) {
        bool gb = b.requires_grad();
        node->set_fn([gb](const TensorList& g) {
            return TensorList{g[0], gb ? neg(g[0]) : Tensor()};
        });
    }
    return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
    Tensor out = binary_kernel("mul", a, b, [](auto x, auto y) { return x * y; });
    if (auto node = record("MulBackward", {a, b}, {out})) {
        bool ga = a.requires_grad(), gb = b.requires_grad();
        // Each input is saved only if the other one needs its gradient.
        SavedTensor sa = gb ? a : Tensor(), sb = ga ? b : Tensor();
        node->set_fn([sa, sb, ga, gb](const TensorList& g) {
            return TensorList{ga ? mul(g[0], sb.unpack()) : Tensor(),
                              gb ? mul(g[0], sa.unpack()) : Tensor()};
        });
    }
    return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
    Tensor out = binary_kernel("div", a, b, [](auto x, auto y) { return x / y; });
    if (auto node = record("DivBackward", {a, b}, {out})) {
        bool ga = a.requires_grad(), gb = b.requires_grad();
        SavedTensor sa = gb ? a : Tensor(), sb = b;
        node->set_fn([sa, sb, ga, gb](const TensorList& g) {
            Tensor bb = sb.unpack();
            Tensor gx = div(g[0], bb);  // d/da = g / b; d/db = -g * a / b^2 = -(g / b) * a / b
            return TensorList{ga ? gx : Tensor(),
                              gb ? neg(div(mul(gx, sa.unpack()), bb)) : Tensor()};
        });
    }
    return out;
}

// ---- with a scalar operand ----

Tensor add(const Tensor& a, double s) {
    Tensor out = unary_kernel("add", a, [s](auto x) { return x + decltype(x)(s); });
    if (auto node = record("AddBackward", {a}, {out}))
        node->set_fn([](const TensorList& g) { return g; });
    return out;
}

Tensor sub(const Tensor& a, double s) {
    Tensor out = unary_kernel("sub", a, [s](auto x) { return x - decltype(x)(s); });
    if (auto node = record("SubBackward", {a}, {out}))
        node->set_fn([](const TensorList& g) { return g; });
    return out;
}

Tensor mul(const Tensor& a, double s) {
    Tensor out = unary_kernel("mul", a, [s](auto x) { return x * decltype(x)(s); });
    if (auto node = record("MulBackward", {a}, {out}))
        node->set_fn([s](const TensorList& g) { return TensorList{mul(g[0], s)}; });
    return out;
}

Tensor div(const Tensor& a, double s) {
    XG_CHECK(s != 0.0, "div: division of a tensor by the scalar 0");
    Tensor out = unary_kernel("div", a, [s](auto x) { return x / decltype(x)(s); });
    if (auto node = record("DivBackward", {a}, {out}))
        node->set_fn([s](const TensorList& g) { return TensorList{div(g[0], s)}; });
    return out;
}

Tensor rsub(double s, const Tensor& b) {
    Tensor out = unary_kernel("sub", b, [s](auto x) { return decltype(x)(s) - x; });
    if (auto node = record("SubBackward", {b}, {out}))
        node->set_fn([](const TensorList& g) { return TensorList{neg(g[0])}; });
    return out;
}

Tensor rdiv(double s, const Tensor& b) {
    Tensor out = unary_kernel("div", b, [s](auto x) { return decltype(x)(s) / x; });
    if (auto node = record("DivBackward", {b}, {out})) {
        SavedTensor sb = b, so = out;
        node->set_fn([sb, so](const TensorList& g) {  // d(s/b)/db = -(s/b) / b
            return TensorList{neg(div(mul(g[0], so.unpack()), sb.unpack()))};
        });
    }
    return out;
}

// ---- unary ----

Tensor neg(const Tensor& a) {
    Tensor out = unary_kernel("neg", a, [](auto x) { return -x; });
    if (auto node = record("NegBackward", {a}, {out}))
        node->set_fn([](const TensorList& g) { return TensorList{neg(g[0])}; });
    return out;
}

Tensor pow(const Tensor& a, double p) {
    Tensor out = unary_kernel("pow", a, [p](auto x) { return std::pow(x, decltype(x)(p)); });
    if (auto node = record("PowBackward", {a}, {out})) {
        SavedTensor sa = a;
        node->set_fn([sa, p](const TensorList& g) {
            if (p == 0.0) return TensorList{mul(g[0], 0.0)};  // zero, but still a function of g
            return TensorList{mul(g[0], mul(pow(sa.unpack(), p - 1.0), p))};
        });
    }
    return out;
}

Tensor pow(const Tensor& a, const Tensor& e) {
    Tensor out = binary_kernel("pow", a, e, [](auto x, auto y) { return std::pow(x, y); });
    if (auto node = record("PowBackward", {a, e}, {out})) {
        bool ga = a.requires_grad(), ge = e.requires_grad();
        SavedTensor sa = a, se = e, so = ge ? out : Tensor();
        node->set_fn([sa, se, so, ga, ge](const TensorList& g) {
            Tensor x = sa.unpack(), y = se.unpack();
            return TensorList{ga ? mul(g[0], mul(y, pow(x, sub(y, 1.0)))) : Tensor(),
                              ge ? mul(g[0], mul(so.unpack(), log(x))) : Tensor()};
        });
    }
    return out;
}

Tensor exp(const Tensor& a) {
    Tensor out = unary_kernel("exp", a, [](auto x) { return detail::exp_of(x); });
    if (auto node = record("ExpBackward", {a}, {out})) {
        SavedTensor so = out;
        node->set_fn([so](const TensorList& g) { return TensorList{mul(g[0], so.unpack())}; });
    }
    return out;
}

Tensor log(const Tensor& a) {
    Tensor out = unary_kernel("log", a, [](auto x) { return std::log(x); });
    if (auto node = record("LogBackward", {a}, {out})) {
        SavedTensor sa = a;
        node->set_fn([sa](const TensorList& g) { return TensorList{div(g[0], sa.unpack())}; });
    }
    return out;
}

Tensor sqrt(const Tensor& a) {
    Tensor out = unary_kernel("sqrt", a, [](auto x) { return std::sqrt(x); });
    if (auto node = record("SqrtBackward", {a}, {out})) {
        SavedTensor so = out;
        node->set_fn(
            [so](const TensorList& g) { return TensorList{div(g[0], mul(so.unpack(), 2.0))}; });
    }
    return out;
}

Tensor abs(const Tensor& a) {
    Tensor out = unary_kernel("abs", a, [](auto x) { return std::abs(x); });
    if (auto node = record("AbsBackward", {a}, {out})) {
        Tensor s = sign(a.detach());  // constant: the derivative of sign is 0 almost everywhere
        node->set_fn([s](const TensorList& g) { return TensorList{mul(g[0], s)}; });
    }
    return out;
}

Tensor tanh(const Tensor& a) {
    Tensor out = unary_kernel("tanh", a, [](auto x) { return detail::tanh_of(x); });
    if (auto node = record("TanhBackward", {a}, {out})) {
        SavedTensor so = out;
        node->set_fn([so](const TensorList& g) {
            Tensor y = so.unpack();
            return TensorList{mul(g[0], rsub(1.0, mul(y, y)))};
        });
    }
    return out;
}

Tensor sigmoid(const Tensor& a) {
    Tensor out = unary_kernel("sigmoid", a, [](auto x) { return detail::sigmoid_of(x); });
    if (auto node = record("SigmoidBackward", {a}, {out})) {
        SavedTensor so = out;
        node->set_fn([so](const TensorList& g) {
            Tensor y = so.unpack();
            return TensorList{mul(g[0], mul(y, rsub(1.0, y)))};
        });
    }
    return out;
}

// relu, leaky_relu and clamp scale the gradient by a constant mask taken in the forward pass.
namespace {
Tensor masked_grad(const char* name, const Tensor& a, const Tensor& out, Tensor mask) {
    if (auto node = record(name, {a}, {out}))
        node->set_fn([mask](const TensorList& g) { return TensorList{mul(g[0], mask)}; });
    return out;
}
}  // namespace

Tensor relu(const Tensor& a) {
    // x > 0 ? x : 0 keeps NaN as NaN
    Tensor out =
        unary_kernel("relu", a, [](auto x) { return x > 0 || x != x ? x : decltype(x)(0); });
    if (!any_requires_grad({&a})) return out;
    return masked_grad("ReluBackward", a, out, gt(a.detach(), 0.0));
}

Tensor leaky_relu(const Tensor& a, double slope) {
    Tensor out = unary_kernel("leaky_relu", a,
                              [slope](auto x) { return x > 0 ? x : x * decltype(x)(slope); });
    if (!any_requires_grad({&a})) return out;
    Tensor mask = unary_kernel(
        "leaky_relu", a, [slope](auto x) { return x > 0 ? decltype(x)(1) : decltype(x)(slope); });
    return masked_grad("LeakyReluBackward", a, out, mask);
}

Tensor clamp(const Tensor& a, std::optional<double> lo, std::optional<double> hi) {
    XG_CHECK(lo || hi, "clamp: at least one of min and max must be given");
    XG_CHECK(!(lo && hi) || *lo <= *hi, "clamp: min {} is greater than max {}", lo.value_or(0.0),
             hi.value_or(0.0));
    const double l = lo.value_or(-HUGE_VAL), h = hi.value_or(HUGE_VAL);
    Tensor out = unary_kernel("clamp", a, [l, h](auto x) {
        using T = decltype(x);
        return x < T(l) ? T(l) : (x > T(h) ? T(h) : x);  // NaN stays NaN
    });
    if (!any_requires_grad({&a})) return out;
    Tensor mask = unary_kernel("clamp", a, [l, h](auto x) {
        using T = decltype(x);
        return x >= T(l) && x <= T(h) ? T(1) : T(0);
    });
    return masked_grad("ClampBackward", a, out, mask);
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
    detail::check_defined("where", cond, "condition");
    detail::check_defined("where", a, "input");
    detail::check_defined("where", b, "other");
    detail::check_same_dtype("where", a, b);
    detail::broadcast_shapes("where", detail::broadcast_shapes("where", cond.shape(), a.shape()),
                             b.shape());
    Tensor c = cond.detach();
    Tensor out = dispatch_float("where", a.dtype(), [&](auto tag) {
        using T = decltype(tag);
        return detail::dispatch_all(c.dtype(), [&](auto ctag) {
            using C = decltype(ctag);
            return Tensor(xt::xarray<T>(
                xt::where(xt::not_equal(c.data<C>(), C(0)), a.data<T>(), b.data<T>())));
        });
    });
    if (auto node = record("WhereBackward", {a, b}, {out})) {
        bool ga = a.requires_grad(), gb = b.requires_grad();
        node->set_fn([c, ga, gb](const TensorList& g) {
            Tensor z = zeros(Shape{}, g[0].dtype());
            return TensorList{ga ? where(c, g[0], z) : Tensor(), gb ? where(c, z, g[0]) : Tensor()};
        });
    }
    return out;
}

// ---- no-grad ops ----

Tensor sign(const Tensor& a) {
    detail::check_defined("sign", a, "input");
    return detail::dispatch_all(a.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const auto& x = a.data<T>();
        return Tensor(xt::xarray<T>(xt::cast<T>(x > T(0)) - xt::cast<T>(x < T(0))));
    });
}

#define XG_COMPARE(NAME, OP)                                                                 \
    Tensor NAME(const Tensor& a, const Tensor& b) {                                          \
        return compare_kernel(#NAME, a, b, [](const auto& x, const auto& y) { return OP; }); \
    }                                                                                        \
    Tensor NAME(const Tensor& a, double s) {                                                 \
        /* y by reference: the lazy result must not point at a dead by-value parameter */    \
        return compare_scalar(#NAME, a, s, [](const auto& x, const auto& y) { return OP; }); \
    }
XG_COMPARE(eq, xt::equal(x, y))
XG_COMPARE(ne, xt::not_equal(x, y))
XG_COMPARE(lt, x < y)
XG_COMPARE(le, x <= y)
XG_COMPARE(gt, x > y)
XG_COMPARE(ge, x >= y)
#undef XG_COMPARE

// ---- operators and Tensor methods ----

Tensor operator+(const Tensor& a, const Tensor& b) {
    return add(a, b);
}
Tensor operator-(const Tensor& a, const Tensor& b) {
    return sub(a, b);
}
Tensor operator*(const Tensor& a, const Tensor& b) {
    return mul(a, b);
}
Tensor operator/(const Tensor& a, const Tensor& b) {
    return div(a, b);
}
Tensor operator+(const Tensor& a, double b) {
    return add(a, b);
}
Tensor operator-(const Tensor& a, double b) {
    return sub(a, b);
}
Tensor operator*(const Tensor& a, double b) {
    return mul(a, b);
}
Tensor operator/(const Tensor& a, double b) {
    return div(a, b);
}
Tensor operator+(double a, const Tensor& b) {
    return add(b, a);
}
Tensor operator-(double a, const Tensor& b) {
    return rsub(a, b);
}
Tensor operator*(double a, const Tensor& b) {
    return mul(b, a);
}
Tensor operator/(double a, const Tensor& b) {
    return rdiv(a, b);
}
Tensor operator-(const Tensor& a) {
    return neg(a);
}

Tensor Tensor::pow(double e) const {
    return xg::pow(*this, e);
}
Tensor Tensor::exp() const {
    return xg::exp(*this);
}
Tensor Tensor::log() const {
    return xg::log(*this);
}
Tensor Tensor::tanh() const {
    return xg::tanh(*this);
}
Tensor Tensor::relu() const {
    return xg::relu(*this);
}
Tensor Tensor::sigmoid() const {
    return xg::sigmoid(*this);
}

}  // namespace xg

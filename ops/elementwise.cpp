#include "ops/elementwise.hpp"

#include <cmath>
#include <type_traits>

#include <xtensor/xmath.hpp>
#include <xtensor/xoperation.hpp>

#include "core/dispatch.hpp"
#include "core/grad_mode.hpp"
#include "core/node.hpp"
#include "ops/elementwise_kernels.hpp"
#include "ops/vec_math.hpp"

namespace xg {

namespace {

using detail::dispatch_float;

using detail::binary_kernel;
using detail::map_binary;
using detail::map_unary;
using detail::unary_kernel;

// Comparisons: 0/1 in the dtype of the inputs, never recorded. f returns bool.
template <class F>
Tensor compare_kernel(const char* op, const Tensor& a, const Tensor& b, F&& f) {
    detail::check_defined(op, a, "input");
    detail::check_defined(op, b, "other");
    detail::check_same_dtype(op, a, b);
    if (a.shape() != b.shape()) detail::broadcast_shapes(op, a.shape(), b.shape());
    return detail::dispatch_all(a.dtype(), [&](auto tag) {
        using T = decltype(tag);
        return Tensor(
            map_binary(a.data<T>(), b.data<T>(), [&f](T x, T y) { return f(x, y) ? T(1) : T(0); }));
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
                return Tensor(map_unary(a.data<T>(), [&f, s](T x) {
                    return f(static_cast<double>(x), s) ? T(1) : T(0);
                }));
            }
        }
        const T st = static_cast<T>(s);
        return Tensor(map_unary(a.data<T>(), [&f, st](T x) { return f(x, st) ? T(1) : T(0); }));
    });
}

}  // namespace

// ---- binary arithmetic ----

Tensor add(const Tensor& a, const Tensor& b, Site site) {
    detail::SiteScope at(site);
    Tensor out = binary_kernel("add", a, b, [](auto x, auto y) { return x + y; });
    if (auto node = record("AddBackward", {a, b}, {out}))
        node->set_fn([](const TensorList& g) { return TensorList{g[0], g[0]}; });
    return out;
}

Tensor sub(const Tensor& a, const Tensor& b, Site site) {
    detail::SiteScope at(site);
    Tensor out = binary_kernel("sub", a, b, [](auto x, auto y) { return x - y; });
    if (auto node = record("SubBackward", {a, b}, {out})) {
        bool gb = b.requires_grad();
        node->set_fn([gb](const TensorList& g) {
            return TensorList{g[0], gb ? neg(g[0]) : Tensor()};
        });
    }
    return out;
}

Tensor mul(const Tensor& a, const Tensor& b, Site site) {
    detail::SiteScope at(site);
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

Tensor div(const Tensor& a, const Tensor& b, Site site) {
    detail::SiteScope at(site);
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

Tensor add(const Tensor& a, double s, Site site) {
    detail::SiteScope at(site);
    Tensor out = unary_kernel("add", a, [s](auto x) { return x + decltype(x)(s); });
    if (auto node = record("AddBackward", {a}, {out}))
        node->set_fn([](const TensorList& g) { return g; });
    return out;
}

Tensor sub(const Tensor& a, double s, Site site) {
    detail::SiteScope at(site);
    Tensor out = unary_kernel("sub", a, [s](auto x) { return x - decltype(x)(s); });
    if (auto node = record("SubBackward", {a}, {out}))
        node->set_fn([](const TensorList& g) { return g; });
    return out;
}

Tensor mul(const Tensor& a, double s, Site site) {
    detail::SiteScope at(site);
    Tensor out = unary_kernel("mul", a, [s](auto x) { return x * decltype(x)(s); });
    if (auto node = record("MulBackward", {a}, {out}))
        node->set_fn([s](const TensorList& g) { return TensorList{mul(g[0], s)}; });
    return out;
}

Tensor div(const Tensor& a, double s, Site site) {
    detail::SiteScope at(site);
    XG_CHECK(s != 0.0, "div: division of a tensor by the scalar 0");
    Tensor out = unary_kernel("div", a, [s](auto x) { return x / decltype(x)(s); });
    if (auto node = record("DivBackward", {a}, {out}))
        node->set_fn([s](const TensorList& g) { return TensorList{div(g[0], s)}; });
    return out;
}

Tensor rsub(double s, const Tensor& b, Site site) {
    detail::SiteScope at(site);
    Tensor out = unary_kernel("sub", b, [s](auto x) { return decltype(x)(s) - x; });
    if (auto node = record("SubBackward", {b}, {out}))
        node->set_fn([](const TensorList& g) { return TensorList{neg(g[0])}; });
    return out;
}

Tensor rdiv(double s, const Tensor& b, Site site) {
    detail::SiteScope at(site);
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

Tensor neg(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    Tensor out = unary_kernel("neg", a, [](auto x) { return -x; });
    if (auto node = record("NegBackward", {a}, {out}))
        node->set_fn([](const TensorList& g) { return TensorList{neg(g[0])}; });
    return out;
}

Tensor pow(const Tensor& a, double p, Site site) {
    detail::SiteScope at(site);
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

Tensor pow(const Tensor& a, const Tensor& e, Site site) {
    detail::SiteScope at(site);
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

Tensor exp(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    Tensor out = unary_kernel("exp", a, [](auto x) { return detail::exp_of(x); });
    if (auto node = record("ExpBackward", {a}, {out})) {
        SavedTensor so = out;
        node->set_fn([so](const TensorList& g) { return TensorList{mul(g[0], so.unpack())}; });
    }
    return out;
}

Tensor log(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    Tensor out = unary_kernel("log", a, [](auto x) { return std::log(x); });
    if (auto node = record("LogBackward", {a}, {out})) {
        SavedTensor sa = a;
        node->set_fn([sa](const TensorList& g) { return TensorList{div(g[0], sa.unpack())}; });
    }
    return out;
}

Tensor sqrt(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    Tensor out = unary_kernel("sqrt", a, [](auto x) { return std::sqrt(x); });
    if (auto node = record("SqrtBackward", {a}, {out})) {
        SavedTensor so = out;
        node->set_fn(
            [so](const TensorList& g) { return TensorList{div(g[0], mul(so.unpack(), 2.0))}; });
    }
    return out;
}

Tensor abs(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    Tensor out = unary_kernel("abs", a, [](auto x) { return std::abs(x); });
    if (auto node = record("AbsBackward", {a}, {out})) {
        Tensor s = sign(a.detach());  // constant: the derivative of sign is 0 almost everywhere
        node->set_fn([s](const TensorList& g) { return TensorList{mul(g[0], s)}; });
    }
    return out;
}

Tensor tanh(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    Tensor out = unary_kernel("tanh", a, [](auto x) { return detail::tanh_of(x); });
    if (auto node = record("TanhBackward", {a}, {out})) {
        SavedTensor so = out;
        node->set_fn([so](const TensorList& g) {
            Tensor y = so.unpack();
            if (!GradMode::is_enabled())  // plain backward: one pass instead of three ops
                return TensorList{binary_kernel("tanh", g[0], y, [](auto gv, auto yv) {
                    return gv * (decltype(yv)(1) - yv * yv);
                })};
            return TensorList{mul(g[0], rsub(1.0, mul(y, y)))};
        });
    }
    return out;
}

Tensor sigmoid(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    Tensor out = unary_kernel("sigmoid", a, [](auto x) { return detail::sigmoid_of(x); });
    if (auto node = record("SigmoidBackward", {a}, {out})) {
        SavedTensor so = out;
        node->set_fn([so](const TensorList& g) {
            Tensor y = so.unpack();
            if (!GradMode::is_enabled())
                return TensorList{binary_kernel("sigmoid", g[0], y, [](auto gv, auto yv) {
                    return gv * (yv * (decltype(yv)(1) - yv));
                })};
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

namespace {
// g where y > 0, else 0: relu's backward from its output (torch's threshold_backward), one pass
// and no saved mask. Linear in g, so its own backward is itself with the same constant y.
Tensor relu_backward(const Tensor& g, const Tensor& y) {
    Tensor out =
        binary_kernel("relu", g, y, [](auto gv, auto yv) { return yv > 0 ? gv : decltype(gv)(0); });
    if (auto node = record("ReluBackwardBackward", {g}, {out})) {
        node->set_fn([y](const TensorList& gg) { return TensorList{relu_backward(gg[0], y)}; });
    }
    return out;
}
}  // namespace

Tensor relu(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    // x > 0 ? x : 0 keeps NaN as NaN
    Tensor out =
        unary_kernel("relu", a, [](auto x) { return x > 0 || x != x ? x : decltype(x)(0); });
    if (auto node = record("ReluBackward", {a}, {out})) {
        SavedTensor so = out;
        node->set_fn([so](const TensorList& g) {
            return TensorList{relu_backward(g[0], so.unpack().detach())};
        });
    }
    return out;
}

Tensor leaky_relu(const Tensor& a, double slope, Site site) {
    detail::SiteScope at(site);
    Tensor out = unary_kernel("leaky_relu", a,
                              [slope](auto x) { return x > 0 ? x : x * decltype(x)(slope); });
    if (!any_requires_grad({&a})) return out;
    Tensor mask = unary_kernel(
        "leaky_relu", a, [slope](auto x) { return x > 0 ? decltype(x)(1) : decltype(x)(slope); });
    return masked_grad("LeakyReluBackward", a, out, mask);
}

Tensor clamp(const Tensor& a, std::optional<double> lo, std::optional<double> hi, Site site) {
    detail::SiteScope at(site);
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

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b, Site site) {
    detail::SiteScope at(site);
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
            return Tensor(xg::array<T>(
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
        return Tensor(xg::array<T>(xt::cast<T>(x > T(0)) - xt::cast<T>(x < T(0))));
    });
}

#define XG_COMPARE(NAME, OP)                                                   \
    Tensor NAME(const Tensor& a, const Tensor& b) {                            \
        return compare_kernel(#NAME, a, b, [](auto x, auto y) { return OP; }); \
    }                                                                          \
    Tensor NAME(const Tensor& a, double s) {                                   \
        return compare_scalar(#NAME, a, s, [](auto x, auto y) { return OP; }); \
    }
XG_COMPARE(eq, x == y)
XG_COMPARE(ne, x != y)
XG_COMPARE(lt, x < y)
XG_COMPARE(le, x <= y)
XG_COMPARE(gt, x > y)
XG_COMPARE(ge, x >= y)
#undef XG_COMPARE

// ---- operators and Tensor methods ----

Tensor operator+(TensorAt a, const Tensor& b) {
    return add(a.tensor, b, a.site);
}
Tensor operator-(TensorAt a, const Tensor& b) {
    return sub(a.tensor, b, a.site);
}
Tensor operator*(TensorAt a, const Tensor& b) {
    return mul(a.tensor, b, a.site);
}
Tensor operator/(TensorAt a, const Tensor& b) {
    return div(a.tensor, b, a.site);
}
Tensor operator+(TensorAt a, double b) {
    return add(a.tensor, b, a.site);
}
Tensor operator-(TensorAt a, double b) {
    return sub(a.tensor, b, a.site);
}
Tensor operator*(TensorAt a, double b) {
    return mul(a.tensor, b, a.site);
}
Tensor operator/(TensorAt a, double b) {
    return div(a.tensor, b, a.site);
}
Tensor operator+(double a, TensorAt b) {
    return add(b.tensor, a, b.site);
}
Tensor operator-(double a, TensorAt b) {
    return rsub(a, b.tensor, b.site);
}
Tensor operator*(double a, TensorAt b) {
    return mul(b.tensor, a, b.site);
}
Tensor operator/(double a, TensorAt b) {
    return rdiv(a, b.tensor, b.site);
}
Tensor operator-(TensorAt a) {
    return neg(a.tensor, a.site);
}

Tensor Tensor::pow(double e, Site site) const {
    return xg::pow(*this, e, site);
}
Tensor Tensor::exp(Site site) const {
    return xg::exp(*this, site);
}
Tensor Tensor::log(Site site) const {
    return xg::log(*this, site);
}
Tensor Tensor::tanh(Site site) const {
    return xg::tanh(*this, site);
}
Tensor Tensor::relu(Site site) const {
    return xg::relu(*this, site);
}
Tensor Tensor::sigmoid(Site site) const {
    return xg::sigmoid(*this, site);
}
Tensor Tensor::neg(Site site) const {
    return xg::neg(*this, site);
}
Tensor Tensor::sqrt(Site site) const {
    return xg::sqrt(*this, site);
}
Tensor Tensor::abs(Site site) const {
    return xg::abs(*this, site);
}
Tensor Tensor::clamp(std::optional<double> min, std::optional<double> max, Site site) const {
    return xg::clamp(*this, min, max, site);
}

}  // namespace xg

#include "ops/elementwise.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>

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
using detail::exact_binary;
using detail::map_binary;
using detail::map_unary;
using detail::promoted;
using detail::scalar_as;
using detail::unary_kernel;
using detail::wrap_add;
using detail::wrap_mul;
using detail::wrap_sub;

void check_not_bool(const char* op, const Tensor& a, const char* instead) {
    XG_CHECK(a.dtype() != bool_, "{}: not supported for bool tensors ({})", op, instead);
}

// Comparisons: a bool tensor, never recorded; the operands are compared in their result dtype.
template <class F>
Tensor compare_kernel(const char* op, const Tensor& a0, const Tensor& b0, F f) {
    detail::check_defined(op, a0, "input");
    detail::check_defined(op, b0, "other");
    auto ab = promoted(op, a0.detach(), b0.detach());
    const Tensor &a = ab.first, &b = ab.second;
    if (a.shape() != b.shape()) detail::broadcast_shapes(op, a.shape(), b.shape());
    return detail::dispatch_all(a.dtype(), [&](auto tag) {
        using T = decltype(tag);
        xg::array<T> r =
            map_binary(a.data<T>(), b.data<T>(), [&f](T x, T y) { return f(x, y) ? T(1) : T(0); });
        auto out = xg::array<bool>::from_shape(r.shape());
        std::transform(r.begin(), r.end(), out.begin(), [](T v) { return v != T(0); });
        return Tensor(std::move(out));
    });
}

// The scalar is taken in the result dtype, except that an integer tensor is compared with a
// fractional scalar in double (as PyTorch's float32 would round large integers, and casting 2.5
// to 2 would make 2 < 2.5 false).
template <class F>
Tensor compare_scalar(const char* op, const Tensor& a, const Scalar& s, F f) {
    detail::check_defined(op, a, "input");
    if (s.is_floating_point() && !is_floating(a.dtype())) {
        const Tensor x = a.to(float64);
        const double v = s.to_double();
        auto r = xg::array<bool>::from_shape(x.shape());
        std::transform(x.data<double>().begin(), x.data<double>().end(), r.begin(),
                       [&f, v](double e) { return f(e, v); });
        return Tensor(std::move(r));
    }
    const Dtype d = result_type(a.dtype(), s);
    return compare_kernel(op, a, scalar_as(op, s, d), f);
}

}  // namespace

// ---- binary arithmetic ----

Tensor add(const Tensor& a0, const Tensor& b0, Site site) {
    detail::SiteScope at(site);
    const auto ab = promoted("add", a0, b0);  // no structured binding: lambdas capture a and b
    const Tensor &a = ab.first, &b = ab.second;
    if (!is_floating(a.dtype()))
        return exact_binary("add", a, b, [](auto x, auto y) { return wrap_add(x, y); });
    Tensor out = binary_kernel("add", a, b, [](auto x, auto y) { return x + y; });
    if (auto node = record("AddBackward", {a, b}, {out}))
        node->set_fn([](const TensorList& g) { return TensorList{g[0], g[0]}; });
    return out;
}

Tensor sub(const Tensor& a0, const Tensor& b0, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("sub", a0, "input");
    detail::check_defined("sub", b0, "other");
    check_not_bool("sub", a0, "use logical_xor or ^");
    check_not_bool("sub", b0, "use logical_xor or ^");
    const auto ab = promoted("sub", a0, b0);
    const Tensor &a = ab.first, &b = ab.second;
    if (!is_floating(a.dtype()))
        return exact_binary("sub", a, b, [](auto x, auto y) {
            if constexpr (std::is_same_v<decltype(x), bool>) {
                return x;  // unreachable: refused above
            } else {
                return wrap_sub(x, y);
            }
        });
    Tensor out = binary_kernel("sub", a, b, [](auto x, auto y) { return x - y; });
    if (auto node = record("SubBackward", {a, b}, {out})) {
        bool gb = b.requires_grad();
        node->set_fn([gb](const TensorList& g) {
            return TensorList{g[0], gb ? neg(g[0]) : Tensor()};
        });
    }
    return out;
}

Tensor mul(const Tensor& a0, const Tensor& b0, Site site) {
    detail::SiteScope at(site);
    const auto ab = promoted("mul", a0, b0);
    const Tensor &a = ab.first, &b = ab.second;
    if (!is_floating(a.dtype()))
        return exact_binary("mul", a, b, [](auto x, auto y) { return wrap_mul(x, y); });
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

// True division: integers divide as float32, as torch.div without a rounding mode.
Tensor div(const Tensor& a0, const Tensor& b0, Site site) {
    detail::SiteScope at(site);
    const auto ab = promoted("div", a0, b0, true);
    const Tensor &a = ab.first, &b = ab.second;
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

// floor_divide / div with a rounding mode: integers stay integers (division by zero is an
// error, as PyTorch's ZeroDivisionError), floats are rounded. No gradient (zero almost
// everywhere), as in PyTorch.
namespace {
Tensor rounding_div(const char* op, const Tensor& a0, const Tensor& b0,
                    const std::string& rounding_mode) {
    XG_CHECK(rounding_mode == "trunc" || rounding_mode == "floor",
             "{}: rounding_mode must be 'trunc' or 'floor', got '{}'", op, rounding_mode);
    const bool floor_mode = rounding_mode == "floor";
    detail::check_defined(op, a0, "input");
    detail::check_defined(op, b0, "other");
    const auto ab = promoted(op, a0.detach(), b0.detach());
    const Tensor &a = ab.first, &b = ab.second;
    check_not_bool(op, a, "convert to an integer dtype first");
    if (is_floating(a.dtype())) {
        Tensor q = binary_kernel(op, a, b, [floor_mode](auto x, auto y) {
            using T = decltype(x);
            if (!floor_mode) return std::trunc(x / y);
            // PyTorch's div_floor (Python's //): from fmod, so 1.0 // 0.1 is 9, not floor(10.0).
            if (y == T(0)) return x / y;
            const T mod = std::fmod(x, y);
            T d = (x - mod) / y;
            if (mod != T(0) && ((y < T(0)) != (mod < T(0)))) d -= T(1);
            if (d == T(0)) return std::copysign(T(0), x / y);
            T f = std::floor(d);
            if (d - f > T(0.5)) f += T(1);
            return f;
        });
        return q;
    }
    return detail::dispatch_all(a.dtype(), [&](auto tag) {
        using T = decltype(tag);
        if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
            const auto& y = b.data<T>();
            if (a.shape() != b.shape()) detail::broadcast_shapes(op, a.shape(), b.shape());
            XG_CHECK(std::find(y.begin(), y.end(), T(0)) == y.end(),
                     "{}: integer division by zero (rounding_mode '{}')", op, rounding_mode);
            return Tensor(map_binary(a.data<T>(), y, [floor_mode](T p, T q) {
                // min / -1 overflows: PyTorch wraps it to min; so does the unsigned negation.
                if (q == T(-1)) return wrap_sub(T(0), p);
                T r = static_cast<T>(p / q);
                if (floor_mode && (p % q != 0) && ((p < 0) != (q < 0))) r = static_cast<T>(r - 1);
                return r;
            }));
        } else {
            return Tensor();  // unreachable: floats and bool handled above
        }
    });
}

}  // namespace

Tensor div(const Tensor& a, const Tensor& b, const std::string& rounding_mode, Site site) {
    detail::SiteScope at(site);
    return rounding_div("div", a, b, rounding_mode);
}

Tensor floor_divide(const Tensor& a, const Tensor& b, Site site) {
    detail::SiteScope at(site);
    return rounding_div("floor_divide", a, b, "floor");
}

// ---- with a scalar operand ----

Tensor add(const Tensor& a0, Scalar sc, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("add", a0, "input");
    const Dtype r = result_type(a0.dtype(), sc);
    if (!is_floating(r)) return add(a0.to(r), scalar_as("add", sc, r));
    const Tensor a = a0.to(r);
    const double s = sc.to_double();
    Tensor out = unary_kernel("add", a, [s](auto x) { return x + decltype(x)(s); });
    if (auto node = record("AddBackward", {a}, {out}))
        node->set_fn([](const TensorList& g) { return g; });
    return out;
}

Tensor sub(const Tensor& a0, Scalar sc, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("sub", a0, "input");
    check_not_bool("sub", a0, "use logical_xor or ^");
    XG_CHECK(!sc.is_boolean(), "sub: not supported for bool operands (use logical_xor or ^)");
    const Dtype r = result_type(a0.dtype(), sc);
    if (!is_floating(r)) return sub(a0.to(r), scalar_as("sub", sc, r));
    const Tensor a = a0.to(r);
    const double s = sc.to_double();
    Tensor out = unary_kernel("sub", a, [s](auto x) { return x - decltype(x)(s); });
    if (auto node = record("SubBackward", {a}, {out}))
        node->set_fn([](const TensorList& g) { return g; });
    return out;
}

Tensor mul(const Tensor& a0, Scalar sc, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("mul", a0, "input");
    const Dtype r = result_type(a0.dtype(), sc);
    if (!is_floating(r)) return mul(a0.to(r), scalar_as("mul", sc, r));
    const Tensor a = a0.to(r);
    const double s = sc.to_double();
    Tensor out = unary_kernel("mul", a, [s](auto x) { return x * decltype(x)(s); });
    if (auto node = record("MulBackward", {a}, {out}))
        node->set_fn([s](const TensorList& g) { return TensorList{mul(g[0], s)}; });
    return out;
}

Tensor div(const Tensor& a0, Scalar sc, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("div", a0, "input");
    const double s = sc.to_double();
    XG_CHECK(s != 0.0, "div: division of a tensor by the scalar 0");
    const Tensor a = a0.to(is_floating(a0.dtype()) ? a0.dtype() : float32);
    Tensor out = unary_kernel("div", a, [s](auto x) { return x / decltype(x)(s); });
    if (auto node = record("DivBackward", {a}, {out}))
        node->set_fn([s](const TensorList& g) { return TensorList{div(g[0], s)}; });
    return out;
}

Tensor rsub(Scalar sc, const Tensor& b0, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("sub", b0, "input");
    check_not_bool("sub", b0, "use logical_xor or ^");
    XG_CHECK(!sc.is_boolean(), "sub: not supported for bool operands (use logical_xor or ^)");
    const Dtype r = result_type(b0.dtype(), sc);
    if (!is_floating(r)) return sub(scalar_as("sub", sc, r), b0.to(r));
    const Tensor b = b0.to(r);
    const double s = sc.to_double();
    Tensor out = unary_kernel("sub", b, [s](auto x) { return decltype(x)(s) - x; });
    if (auto node = record("SubBackward", {b}, {out}))
        node->set_fn([](const TensorList& g) { return TensorList{neg(g[0])}; });
    return out;
}

Tensor rdiv(Scalar sc, const Tensor& b0, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("div", b0, "input");
    const Tensor b = b0.to(is_floating(b0.dtype()) ? b0.dtype() : float32);
    const double s = sc.to_double();
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

namespace {
// An integer tensor mapped elementwise (no gradient); f takes and returns T.
template <class F>
Tensor exact_unary(const char* op, const Tensor& a, F f) {
    return detail::dispatch_all(a.dtype(), [&](auto tag) {
        using T = decltype(tag);
        if constexpr (std::is_floating_point_v<T> || std::is_same_v<T, bool>) {
            return Tensor();  // unreachable: integers only
        } else {
            return Tensor(map_unary(a.data<T>(), [&f](T x) { return f(x); }));
        }
    });
}
}  // namespace

Tensor neg(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("neg", a, "input");
    if (is_integral(a.dtype()))
        return exact_unary("neg", a, [](auto x) { return wrap_sub(decltype(x)(0), x); });
    check_not_bool("neg", a, "use logical_not or ~");
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
    detail::check_defined("abs", a, "input");
    if (is_integral(a.dtype()))  // abs(min) wraps to min, as in PyTorch
        return exact_unary("abs", a,
                           [](auto x) { return x < 0 ? wrap_sub(decltype(x)(0), x) : x; });
    check_not_bool("abs", a, "it is its own absolute value");
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

Tensor clamp(const Tensor& a0, std::optional<Scalar> lo_s, std::optional<Scalar> hi_s, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("clamp", a0, "input");
    XG_CHECK(lo_s || hi_s, "clamp: at least one of min and max must be given");
    const double l = lo_s ? lo_s->to_double() : -HUGE_VAL, h = hi_s ? hi_s->to_double() : HUGE_VAL;
    XG_CHECK(!(lo_s && hi_s) || l <= h, "clamp: min {} is greater than max {}", l, h);
    Dtype r = a0.dtype();
    if (lo_s) r = result_type(r, *lo_s);
    if (hi_s) r = result_type(r, *hi_s);
    check_not_bool("clamp", a0.to(r), "convert to an integer dtype first");
    if (is_integral(r)) {
        const Tensor a = a0.to(r);
        return detail::dispatch_all(r, [&](auto tag) {
            using T = decltype(tag);
            if constexpr (std::is_floating_point_v<T> || std::is_same_v<T, bool>) {
                return Tensor();  // unreachable: integers only
            } else {
                const T lt =
                    lo_s ? scalar_as("clamp", *lo_s, r).item<T>() : std::numeric_limits<T>::min();
                const T ht =
                    hi_s ? scalar_as("clamp", *hi_s, r).item<T>() : std::numeric_limits<T>::max();
                return Tensor(map_unary(a.data<T>(),
                                        [lt, ht](T x) { return x < lt ? lt : (x > ht ? ht : x); }));
            }
        });
    }
    const Tensor a = a0.to(r);
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

Tensor where(const Tensor& cond, const Tensor& a0, const Tensor& b0, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("where", cond, "condition");
    XG_CHECK(cond.dtype() == bool_,
             "where: expected a bool condition, got {} (compare it, e.g. ne(c, 0), or .to(kBool))",
             cond.dtype());
    const auto ab = promoted("where", a0, b0);
    const Tensor &a = ab.first, &b = ab.second;
    detail::broadcast_shapes("where", detail::broadcast_shapes("where", cond.shape(), a.shape()),
                             b.shape());
    Tensor c = cond.detach();
    Tensor out = detail::dispatch_all(a.dtype(), [&](auto tag) {
        using T = decltype(tag);
        return Tensor(xg::array<T>(xt::where(c.data<bool>(), a.data<T>(), b.data<T>())));
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

Tensor where(const Tensor& cond, const Tensor& a, Scalar b, Site site) {
    detail::check_defined("where", a, "input");
    return where(cond, a, scalar_as("where", b, result_type(a.dtype(), b)), site);
}

Tensor where(const Tensor& cond, Scalar a, const Tensor& b, Site site) {
    detail::check_defined("where", b, "other");
    return where(cond, scalar_as("where", a, result_type(b.dtype(), a)), b, site);
}

// ---- no-grad ops ----

Tensor sign(const Tensor& a) {
    detail::check_defined("sign", a, "input");
    check_not_bool("sign", a, "it is its own sign");
    return detail::dispatch_numeric("sign", a.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const auto& x = a.data<T>();
        return Tensor(xg::array<T>(xt::cast<T>(x > T(0)) - xt::cast<T>(x < T(0))));
    });
}

#define XG_COMPARE(NAME, OP)                                                   \
    Tensor NAME(const Tensor& a, const Tensor& b) {                            \
        return compare_kernel(#NAME, a, b, [](auto x, auto y) { return OP; }); \
    }                                                                          \
    Tensor NAME(const Tensor& a, Scalar s) {                                   \
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
Tensor operator+(TensorAt a, Scalar b) {
    return add(a.tensor, b, a.site);
}
Tensor operator-(TensorAt a, Scalar b) {
    return sub(a.tensor, b, a.site);
}
Tensor operator*(TensorAt a, Scalar b) {
    return mul(a.tensor, b, a.site);
}
Tensor operator/(TensorAt a, Scalar b) {
    return div(a.tensor, b, a.site);
}
Tensor operator+(Scalar a, TensorAt b) {
    return add(b.tensor, a, b.site);
}
Tensor operator-(Scalar a, TensorAt b) {
    return rsub(a, b.tensor, b.site);
}
Tensor operator*(Scalar a, TensorAt b) {
    return mul(b.tensor, a, b.site);
}
Tensor operator/(Scalar a, TensorAt b) {
    return rdiv(a, b.tensor, b.site);
}
Tensor operator-(TensorAt a) {
    return neg(a.tensor, a.site);
}

#define XG_COMPARE_OPERATOR(OP, NAME)                      \
    Tensor operator OP(const Tensor& a, const Tensor& b) { \
        return NAME(a, b);                                 \
    }                                                      \
    Tensor operator OP(const Tensor& a, Scalar b) {        \
        return NAME(a, b);                                 \
    }
XG_COMPARE_OPERATOR(==, eq)
XG_COMPARE_OPERATOR(!=, ne)
XG_COMPARE_OPERATOR(<, lt)
XG_COMPARE_OPERATOR(<=, le)
XG_COMPARE_OPERATOR(>, gt)
XG_COMPARE_OPERATOR(>=, ge)
#undef XG_COMPARE_OPERATOR
// A scalar on the left: 2 < t is t > 2.
Tensor operator==(Scalar a, const Tensor& b) {
    return eq(b, a);
}
Tensor operator!=(Scalar a, const Tensor& b) {
    return ne(b, a);
}
Tensor operator<(Scalar a, const Tensor& b) {
    return gt(b, a);
}
Tensor operator<=(Scalar a, const Tensor& b) {
    return ge(b, a);
}
Tensor operator>(Scalar a, const Tensor& b) {
    return lt(b, a);
}
Tensor operator>=(Scalar a, const Tensor& b) {
    return le(b, a);
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
Tensor Tensor::clamp(std::optional<Scalar> min, std::optional<Scalar> max, Site site) const {
    return xg::clamp(*this, min, max, site);
}

}  // namespace xg

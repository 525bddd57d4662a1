#include "ops/math.hpp"

#include <cmath>
#include <limits>

#include "core/node.hpp"
#include "ops/elementwise.hpp"
#include "ops/elementwise_kernels.hpp"

namespace xg {

namespace {

using detail::binary_kernel;
using detail::unary_kernel;

constexpr double kPi = 3.14159265358979323846;
constexpr int kSaveInput = 1, kSaveOutput = 2;

// Runs f on every element and records rule(g, x, y) as the backward, x the input and y the
// output; only what `saves` names is kept (the other comes undefined).
template <class F, class Rule>
Tensor unary_op(const char* op, const char* node_name, int saves, const Tensor& a, F f, Rule rule) {
    Tensor out = unary_kernel(op, a, f);
    if (auto node = record(node_name, {a}, {out})) {
        SavedTensor sx = (saves & kSaveInput) ? a : Tensor();
        SavedTensor sy = (saves & kSaveOutput) ? out : Tensor();
        node->set_fn([sx, sy, rule](const TensorList& g) {
            return TensorList{rule(g[0], sx.unpack(), sy.unpack())};
        });
    }
    return out;
}

// erfinv: Giles' single-precision approximation, then two Newton steps on erf (full double
// precision); +-inf at +-1 and NaN outside [-1, 1], as torch.erfinv.
template <class T>
T erfinv_of(T y) {
    if (!(y >= T(-1) && y <= T(1))) return std::numeric_limits<T>::quiet_NaN();
    if (y == T(1) || y == T(-1)) return y * std::numeric_limits<T>::infinity();
    const double yd = double(y);
    double w = -std::log((1.0 - yd) * (1.0 + yd)), p;
    if (w < 5.0) {
        w -= 2.5;
        p = 2.81022636e-08;
        for (double c : {3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                         -0.00125372503, -0.00417768164, 0.246640727, 1.50140941})
            p = c + p * w;
    } else {
        w = std::sqrt(w) - 3.0;
        p = -0.000200214257;
        for (double c : {0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
                         -0.0076224613, 0.00943887047, 1.00167406, 2.83297682})
            p = c + p * w;
    }
    double x = p * yd;
    for (int i = 0; i < 2; ++i) x -= (std::erf(x) - yd) / (2.0 / std::sqrt(kPi) * std::exp(-x * x));
    return T(x);
}

}  // namespace

// ---- trigonometric and hyperbolic ----

Tensor sin(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    return unary_op(
        "sin", "SinBackward", kSaveInput, a, [](auto x) { return std::sin(x); },
        [](const Tensor& g, const Tensor& x, const Tensor&) { return mul(g, cos(x)); });
}

Tensor cos(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    return unary_op(
        "cos", "CosBackward", kSaveInput, a, [](auto x) { return std::cos(x); },
        [](const Tensor& g, const Tensor& x, const Tensor&) { return neg(mul(g, sin(x))); });
}

Tensor tan(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    return unary_op(
        "tan", "TanBackward", kSaveOutput, a, [](auto x) { return std::tan(x); },
        [](const Tensor& g, const Tensor&, const Tensor& y) {
            return mul(g, add(mul(y, y), 1.0));  // 1 + tan^2
        });
}

Tensor asin(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    return unary_op(
        "asin", "AsinBackward", kSaveInput, a, [](auto x) { return std::asin(x); },
        [](const Tensor& g, const Tensor& x, const Tensor&) {
            return div(g, sqrt(rsub(1.0, mul(x, x))));
        });
}

Tensor acos(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    return unary_op(
        "acos", "AcosBackward", kSaveInput, a, [](auto x) { return std::acos(x); },
        [](const Tensor& g, const Tensor& x, const Tensor&) {
            return neg(div(g, sqrt(rsub(1.0, mul(x, x)))));
        });
}

Tensor atan(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    return unary_op(
        "atan", "AtanBackward", kSaveInput, a, [](auto x) { return std::atan(x); },
        [](const Tensor& g, const Tensor& x, const Tensor&) {
            return div(g, add(mul(x, x), 1.0));
        });
}

Tensor sinh(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    return unary_op(
        "sinh", "SinhBackward", kSaveInput, a, [](auto x) { return std::sinh(x); },
        [](const Tensor& g, const Tensor& x, const Tensor&) { return mul(g, cosh(x)); });
}

Tensor cosh(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    return unary_op(
        "cosh", "CoshBackward", kSaveInput, a, [](auto x) { return std::cosh(x); },
        [](const Tensor& g, const Tensor& x, const Tensor&) { return mul(g, sinh(x)); });
}

Tensor atan2(const Tensor& a, const Tensor& b, Site site) {
    detail::SiteScope at(site);
    Tensor out = binary_kernel("atan2", a, b, [](auto y, auto x) { return std::atan2(y, x); });
    if (auto node = record("Atan2Backward", {a, b}, {out})) {
        SavedTensor sa = a, sb = b;
        const bool ga = a.requires_grad(), gb = b.requires_grad();
        node->set_fn([sa, sb, ga, gb](const TensorList& g) {
            Tensor y = sa.unpack(), x = sb.unpack();
            Tensor scale = div(g[0], add(mul(x, x), mul(y, y)));  // d/dy = x/r^2, d/dx = -y/r^2
            return TensorList{ga ? mul(scale, x) : Tensor(), gb ? neg(mul(scale, y)) : Tensor()};
        });
    }
    return out;
}

// ---- special functions, logarithms, powers ----

Tensor erf(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    return unary_op(
        "erf", "ErfBackward", kSaveInput, a, [](auto x) { return std::erf(x); },
        [](const Tensor& g, const Tensor& x, const Tensor&) {
            return mul(g, mul(exp(neg(mul(x, x))), 2.0 / std::sqrt(kPi)));
        });
}

Tensor erfinv(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    return unary_op(
        "erfinv", "ErfinvBackward", kSaveOutput, a, [](auto x) { return erfinv_of(x); },
        [](const Tensor& g, const Tensor&, const Tensor& y) {
            return mul(g, mul(exp(mul(y, y)), std::sqrt(kPi) / 2.0));
        });
}

Tensor log1p(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    return unary_op(
        "log1p", "Log1pBackward", kSaveInput, a, [](auto x) { return std::log1p(x); },
        [](const Tensor& g, const Tensor& x, const Tensor&) { return div(g, add(x, 1.0)); });
}

Tensor expm1(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    return unary_op(
        "expm1", "Expm1Backward", kSaveOutput, a, [](auto x) { return std::expm1(x); },
        [](const Tensor& g, const Tensor&, const Tensor& y) { return mul(g, add(y, 1.0)); });
}

Tensor log2(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    return unary_op(
        "log2", "Log2Backward", kSaveInput, a, [](auto x) { return std::log2(x); },
        [](const Tensor& g, const Tensor& x, const Tensor&) {
            return div(g, mul(x, std::log(2.0)));
        });
}

Tensor log10(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    return unary_op(
        "log10", "Log10Backward", kSaveInput, a, [](auto x) { return std::log10(x); },
        [](const Tensor& g, const Tensor& x, const Tensor&) {
            return div(g, mul(x, std::log(10.0)));
        });
}

Tensor rsqrt(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    return unary_op(
        "rsqrt", "RsqrtBackward", kSaveOutput, a,
        [](auto x) { return decltype(x)(1) / std::sqrt(x); },
        [](const Tensor& g, const Tensor&, const Tensor& y) {
            return mul(g, mul(pow(y, 3.0), -0.5));
        });
}

Tensor reciprocal(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    return unary_op(
        "reciprocal", "ReciprocalBackward", kSaveOutput, a,
        [](auto x) { return decltype(x)(1) / x; },
        [](const Tensor& g, const Tensor&, const Tensor& y) { return neg(mul(g, mul(y, y))); });
}

Tensor square(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    return unary_op(
        "square", "SquareBackward", kSaveInput, a, [](auto x) { return x * x; },
        [](const Tensor& g, const Tensor& x, const Tensor&) { return mul(g, mul(x, 2.0)); });
}

// ---- rounding and remainders ----

namespace {
// A rounding op: its gradient is zero, also where g is inf (PyTorch's zeros_like(grad)).
template <class F>
Tensor rounding(const char* op, const char* node_name, const Tensor& a, F f) {
    return unary_op(op, node_name, 0, a, f,
                    [](const Tensor& g, const Tensor&, const Tensor&) { return zeros_like(g); });
}
}  // namespace

Tensor floor(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    return rounding("floor", "FloorBackward", a, [](auto x) { return std::floor(x); });
}

Tensor ceil(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    return rounding("ceil", "CeilBackward", a, [](auto x) { return std::ceil(x); });
}

Tensor round(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    return rounding("round", "RoundBackward", a, [](auto x) { return std::nearbyint(x); });
}

Tensor trunc(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    return rounding("trunc", "TruncBackward", a, [](auto x) { return std::trunc(x); });
}

Tensor frac(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    return unary_op(
        "frac", "FracBackward", 0, a, [](auto x) { return x - std::trunc(x); },
        [](const Tensor& g, const Tensor&, const Tensor&) { return g; });
}

namespace {
// a - b * q, differentiable in both: d/da = 1, d/db = -q, with q = quotient(a, b, out): the
// rounded quotient, trunc (fmod) or floor (remainder) of a / b, as PyTorch's.
template <class F, class Q>
Tensor remainder_op(const char* op, const char* node_name, const Tensor& a, const Tensor& b, F f,
                    Q quotient) {
    Tensor out = binary_kernel(op, a, b, f);
    if (auto node = record(node_name, {a, b}, {out})) {
        SavedTensor sa = a, sb = b, so = out;
        const bool ga = a.requires_grad(), gb = b.requires_grad();
        node->set_fn([sa, sb, so, ga, gb, quotient](const TensorList& g) {
            Tensor q = quotient(sa.unpack().detach(), sb.unpack().detach(), so.unpack().detach());
            return TensorList{ga ? g[0] : Tensor(), gb ? neg(mul(g[0], q)) : Tensor()};
        });
    }
    return out;
}

template <class T>
T python_mod(T x, T y) {  // the sign of the divisor, as Python's % and torch.remainder
    const T r = std::fmod(x, y);
    return (r != T(0) && ((r < T(0)) != (y < T(0)))) ? r + y : r;
}

// The divisor as a 0-d tensor of a's dtype; a is checked first, so errors name the op.
Tensor divisor_of(const char* op, const Tensor& a, double b) {
    detail::check_defined(op, a, "input");
    detail::check_floating(op, a, "input");
    return full({}, b, a.dtype());
}
}  // namespace

Tensor fmod(const Tensor& a, const Tensor& b, Site site) {
    detail::SiteScope at(site);
    return remainder_op(
        "fmod", "FmodBackward", a, b, [](auto x, auto y) { return std::fmod(x, y); },
        [](const Tensor& x, const Tensor& y, const Tensor&) { return trunc(div(x, y)); });
}

Tensor fmod(const Tensor& a, double b, Site site) {
    detail::SiteScope at(site);
    return fmod(a, divisor_of("fmod", a, b));
}

Tensor remainder(const Tensor& a, const Tensor& b, Site site) {
    detail::SiteScope at(site);
    // floor(a / b) from the forward's own result: (a - out) / b is an integer up to rounding.
    return remainder_op(
        "remainder", "RemainderBackward", a, b, [](auto x, auto y) { return python_mod(x, y); },
        [](const Tensor& x, const Tensor& y, const Tensor& out) {
            return round(div(sub(x, out), y));
        });
}

Tensor remainder(const Tensor& a, double b, Site site) {
    detail::SiteScope at(site);
    return remainder(a, divisor_of("remainder", a, b));
}

// ---- activations ----

Tensor softplus(const Tensor& a, double beta, double threshold, Site site) {
    detail::SiteScope at(site);
    XG_CHECK(beta != 0.0 && std::isfinite(beta),
             "softplus: beta must be finite and nonzero, got {}", beta);
    return unary_op(
        "softplus", "SoftplusBackward", kSaveInput, a,
        [beta, threshold](auto x) {
            using T = decltype(x);
            const T bx = x * T(beta);
            return bx > T(threshold) ? x : std::log1p(std::exp(bx)) / T(beta);
        },
        [beta, threshold](const Tensor& g, const Tensor& x, const Tensor&) {
            // The forward's test, in its precision: beta * x > threshold.
            Tensor linear = gt(mul(x.detach(), beta), threshold);
            return where(linear, g, mul(g, sigmoid(mul(x, beta))));
        });
}

Tensor gelu(const Tensor& a, const std::string& approximate, Site site) {
    detail::SiteScope at(site);
    XG_CHECK(approximate == "none" || approximate == "tanh",
             "gelu: approximate must be 'none' or 'tanh', got '{}'", approximate);
    const double k = std::sqrt(2.0 / kPi), c = 0.044715;
    if (approximate == "tanh") {
        return unary_op(
            "gelu", "GeluBackward", kSaveInput, a,
            [k, c](auto x) {
                using T = decltype(x);
                return T(0.5) * x * (T(1) + std::tanh(T(k) * (x + T(c) * x * x * x)));
            },
            [k, c](const Tensor& g, const Tensor& x, const Tensor&) {
                Tensor t = tanh(mul(add(x, mul(pow(x, 3.0), c)), k));
                Tensor dinner = mul(add(mul(mul(x, x), 3.0 * c), 1.0), k);
                Tensor d =
                    add(mul(add(t, 1.0), 0.5), mul(mul(x, 0.5), mul(rsub(1.0, mul(t, t)), dinner)));
                return mul(g, d);
            });
    }
    return unary_op(
        "gelu", "GeluBackward", kSaveInput, a,
        [](auto x) {
            using T = decltype(x);
            return T(0.5) * x * (T(1) + std::erf(x / T(std::sqrt(2.0))));
        },
        [](const Tensor& g, const Tensor& x, const Tensor&) {
            Tensor cdf = mul(add(erf(mul(x, 1.0 / std::sqrt(2.0))), 1.0), 0.5);
            Tensor pdf = mul(exp(mul(mul(x, x), -0.5)), 1.0 / std::sqrt(2.0 * kPi));
            return mul(g, add(cdf, mul(x, pdf)));
        });
}

Tensor silu(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    return unary_op(
        "silu", "SiluBackward", kSaveInput, a,
        [](auto x) { return x / (decltype(x)(1) + std::exp(-x)); },
        [](const Tensor& g, const Tensor& x, const Tensor&) {
            Tensor s = sigmoid(x);
            return mul(g, mul(s, add(mul(x, rsub(1.0, s)), 1.0)));
        });
}

Tensor mish(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    return unary_op(
        "mish", "MishBackward", kSaveInput, a,
        [](auto x) {
            using T = decltype(x);
            const T sp = x > T(20) ? x : std::log1p(std::exp(x));  // softplus, threshold 20
            return x * std::tanh(sp);
        },
        [](const Tensor& g, const Tensor& x, const Tensor&) {
            Tensor t = tanh(softplus(x));
            return mul(g, add(t, mul(x, mul(rsub(1.0, mul(t, t)), sigmoid(x)))));
        });
}

Tensor elu(const Tensor& a, double alpha, Site site) {
    detail::SiteScope at(site);
    return unary_op(
        "elu", "EluBackward", kSaveInput, a,
        [alpha](auto x) {
            using T = decltype(x);
            return x > T(0) ? x : T(alpha) * std::expm1(x);
        },
        [alpha](const Tensor& g, const Tensor& x, const Tensor&) {
            Tensor positive = gt(x.detach(), 0.0);
            return where(positive, g, mul(g, mul(exp(x), alpha)));
        });
}

Tensor selu(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    const double alpha = 1.6732632423543772848170429916717;
    const double scale = 1.0507009873554804934193349852946;
    return unary_op(
        "selu", "SeluBackward", kSaveInput, a,
        [alpha, scale](auto x) {
            using T = decltype(x);
            return T(scale) * (x > T(0) ? x : T(alpha) * std::expm1(x));
        },
        [alpha, scale](const Tensor& g, const Tensor& x, const Tensor&) {
            Tensor positive = gt(x.detach(), 0.0);
            return mul(where(positive, g, mul(g, mul(exp(x), alpha))), scale);
        });
}

Tensor hardtanh(const Tensor& a, double min_val, double max_val, Site site) {
    detail::SiteScope at(site);
    XG_CHECK(min_val <= max_val, "hardtanh: min_val {} is greater than max_val {}", min_val,
             max_val);
    return unary_op(
        "hardtanh", "HardtanhBackward", kSaveInput, a,
        [min_val, max_val](auto x) {
            using T = decltype(x);
            return x < T(min_val) ? T(min_val) : (x > T(max_val) ? T(max_val) : x);
        },
        [min_val, max_val](const Tensor& g, const Tensor& x, const Tensor&) {
            // PyTorch passes the gradient strictly inside (min_val, max_val), zero elsewhere.
            Tensor inside = mul(gt(x.detach(), min_val), lt(x.detach(), max_val));
            return where(inside, g, zeros_like(g));
        });
}

Tensor hardsigmoid(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    return unary_op(
        "hardsigmoid", "HardsigmoidBackward", kSaveInput, a,
        [](auto x) {
            using T = decltype(x);
            return x <= T(-3) ? T(0) : (x >= T(3) ? T(1) : x / T(6) + T(0.5));
        },
        [](const Tensor& g, const Tensor& x, const Tensor&) {
            Tensor inside = mul(gt(x.detach(), -3.0), lt(x.detach(), 3.0));
            return where(inside, div(g, 6.0), zeros_like(g));
        });
}

Tensor hardswish(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    return unary_op(
        "hardswish", "HardswishBackward", kSaveInput, a,
        [](auto x) {
            using T = decltype(x);
            return x <= T(-3) ? T(0) : (x >= T(3) ? x : x * (x + T(3)) / T(6));
        },
        [](const Tensor& g, const Tensor& x, const Tensor&) {
            // PyTorch's rule: 0 below -3, x / 3 + 1/2 up to 3 (inclusive), 1 above.
            Tensor mid = mul(g, add(div(x, 3.0), 0.5));
            return where(gt(x.detach(), 3.0), g, where(lt(x.detach(), -3.0), zeros_like(g), mid));
        });
}

Tensor logsigmoid(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    return unary_op(
        "logsigmoid", "LogSigmoidBackward", kSaveInput, a,
        [](auto x) {
            using T = decltype(x);
            return std::min(x, T(0)) - std::log1p(std::exp(-std::abs(x)));
        },
        [](const Tensor& g, const Tensor& x, const Tensor&) { return mul(g, sigmoid(neg(x))); });
}

// ---- Tensor methods (core/tensor.hpp) ----

Tensor Tensor::sin(Site site) const {
    return xg::sin(*this, site);
}
Tensor Tensor::cos(Site site) const {
    return xg::cos(*this, site);
}
Tensor Tensor::tan(Site site) const {
    return xg::tan(*this, site);
}
Tensor Tensor::asin(Site site) const {
    return xg::asin(*this, site);
}
Tensor Tensor::acos(Site site) const {
    return xg::acos(*this, site);
}
Tensor Tensor::atan(Site site) const {
    return xg::atan(*this, site);
}
Tensor Tensor::sinh(Site site) const {
    return xg::sinh(*this, site);
}
Tensor Tensor::cosh(Site site) const {
    return xg::cosh(*this, site);
}
Tensor Tensor::erf(Site site) const {
    return xg::erf(*this, site);
}
Tensor Tensor::erfinv(Site site) const {
    return xg::erfinv(*this, site);
}
Tensor Tensor::log1p(Site site) const {
    return xg::log1p(*this, site);
}
Tensor Tensor::expm1(Site site) const {
    return xg::expm1(*this, site);
}
Tensor Tensor::log2(Site site) const {
    return xg::log2(*this, site);
}
Tensor Tensor::log10(Site site) const {
    return xg::log10(*this, site);
}
Tensor Tensor::rsqrt(Site site) const {
    return xg::rsqrt(*this, site);
}
Tensor Tensor::reciprocal(Site site) const {
    return xg::reciprocal(*this, site);
}
Tensor Tensor::square(Site site) const {
    return xg::square(*this, site);
}
Tensor Tensor::floor(Site site) const {
    return xg::floor(*this, site);
}
Tensor Tensor::ceil(Site site) const {
    return xg::ceil(*this, site);
}
Tensor Tensor::round(Site site) const {
    return xg::round(*this, site);
}
Tensor Tensor::trunc(Site site) const {
    return xg::trunc(*this, site);
}
Tensor Tensor::frac(Site site) const {
    return xg::frac(*this, site);
}

}  // namespace xg

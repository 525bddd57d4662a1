// ops/math.hpp: registry rows (float64 gradcheck and gradgradcheck samples in each op's domain,
// error inputs, PyTorch fixtures from tests/parity/math_ops.py) and values at the edges.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "tests/op_registry.hpp"

namespace xg::testing {
namespace {

using UnaryFn = std::function<Tensor(const Tensor&)>;

struct Variant {  // a PyTorch fixture "math_<fixture>" and the xgrad call it must match
    std::string fixture;
    UnaryFn fn;
};

// A unary op's row: samples of several shapes with values in [lo, hi], the error inputs every
// float op shares plus `more`, and one parity case per variant.
OpInfo unary_info(std::string name, UnaryFn fn, double lo, double hi, std::vector<Variant> variants,
                  std::vector<ErrorCase> more = {}, bool zero_gradient = false) {
    auto samples = [fn, lo, hi, zero_gradient] {
        TensorFn f = [fn](const TensorList& x) { return fn(x[0]); };
        // A zero gradient is what PyTorch gives for rounding: not a vacuous check there.
        const auto opt = GradcheckOptions().allow_all_zero(zero_gradient);
        return std::vector<Sample>{
            {"[2,3]", {rand64({2, 3}, lo, hi)}, f, opt, !zero_gradient},
            {"[5]", {rand64({5}, lo, hi)}, f, opt, !zero_gradient},
            {"0-d", {rand64({}, lo, hi)}, f, opt, !zero_gradient},
            {"[2,1,3]", {rand64({2, 1, 3}, lo, hi)}, f, opt, !zero_gradient}};
    };
    auto errors = [name, fn, more] {
        std::vector<ErrorCase> e = {
            {"int64 input", [fn] { fn(arange(3, int64)); }, "expected a floating-point"},
            {"undefined input", [fn] { fn(Tensor()); }, "undefined"}};
        e.insert(e.end(), more.begin(), more.end());
        return e;
    };
    auto parity = [variants] {
        Parity p;
        for (const auto& v : variants) {
            UnaryFn f = v.fn;
            p.cases.push_back(
                {"math_" + v.fixture, 1, [f](const TensorList& x) { return f(x[0]); }});
        }
        return p;
    };
    return OpInfo{std::move(name), samples, errors, parity};
}

// XG_REGISTER_OP_INFO takes a braced OpInfo; these rows are built by the helpers above.
#define XG_REGISTER_ROW(var, ...) \
    static Register var {         \
        __VA_ARGS__               \
    }

#define XG_UNARY_ROW(op, lo, hi)                                                              \
    XG_REGISTER_ROW(op##_info, unary_info(#op, [](const Tensor& x) { return op(x); }, lo, hi, \
                                          {{#op, [](const Tensor& x) { return op(x); }}}))

XG_UNARY_ROW(sin, -3, 3);
XG_UNARY_ROW(cos, -3, 3);
XG_UNARY_ROW(tan, -1.2, 1.2);
XG_UNARY_ROW(asin, -0.9, 0.9);
XG_UNARY_ROW(acos, -0.9, 0.9);
XG_UNARY_ROW(atan, -3, 3);
XG_UNARY_ROW(sinh, -2, 2);
XG_UNARY_ROW(cosh, -2, 2);
XG_UNARY_ROW(erf, -2, 2);
XG_UNARY_ROW(erfinv, -0.95, 0.95);
XG_UNARY_ROW(log1p, -0.5, 2);
XG_UNARY_ROW(expm1, -2, 2);
XG_UNARY_ROW(log2, 0.5, 2);
XG_UNARY_ROW(log10, 0.5, 2);
XG_UNARY_ROW(rsqrt, 0.5, 2);
XG_UNARY_ROW(reciprocal, 0.5, 2);
XG_UNARY_ROW(square, -2, 2);
XG_UNARY_ROW(frac, -3, 3);
XG_UNARY_ROW(silu, -3, 3);
XG_UNARY_ROW(mish, -3, 3);
XG_UNARY_ROW(selu, -3, 3);
XG_UNARY_ROW(hardsigmoid, -5, 5);
XG_UNARY_ROW(hardswish, -5, 5);
XG_UNARY_ROW(logsigmoid, -5, 5);

#define XG_ROUNDING_ROW(op)                                                           \
    XG_REGISTER_ROW(op##_info, unary_info(                                            \
                                   #op, [](const Tensor& x) { return op(x); }, -3, 3, \
                                   {{#op, [](const Tensor& x) { return op(x); }}}, {}, true))

XG_ROUNDING_ROW(floor);
XG_ROUNDING_ROW(ceil);
XG_ROUNDING_ROW(round);
XG_ROUNDING_ROW(trunc);

XG_REGISTER_ROW(softplus_info,
                unary_info("softplus", [](const Tensor& x) { return softplus(x, 2.0, 1.0); }, -3, 3,
                           {{"softplus", [](const Tensor& x) { return softplus(x); }},
                            {"softplus_beta2_threshold1",
                             [](const Tensor& x) { return softplus(x, 2.0, 1.0); }}},
                           {{"beta 0", [] { softplus(ones({2}), 0.0); },
                             "beta must be finite and nonzero, got 0"}}));

XG_REGISTER_ROW(gelu_info,
                unary_info("gelu", [](const Tensor& x) { return add(gelu(x), gelu(x, "tanh")); },
                           -3, 3,
                           {{"gelu", [](const Tensor& x) { return gelu(x); }},
                            {"gelu_tanh", [](const Tensor& x) { return gelu(x, "tanh"); }}},
                           {{"unknown approximation", [] { gelu(ones({2}), "sigmoid"); },
                             "approximate must be 'none' or 'tanh', got 'sigmoid'"}}));

XG_REGISTER_ROW(elu_info,
                unary_info("elu", [](const Tensor& x) { return elu(x, 0.5); }, -3, 3,
                           {{"elu", [](const Tensor& x) { return elu(x); }},
                            {"elu_alpha05", [](const Tensor& x) { return elu(x, 0.5); }}}));

XG_REGISTER_ROW(
    hardtanh_info,
    unary_info("hardtanh", [](const Tensor& x) { return hardtanh(x, -0.5, 1.5); }, -2, 2,
               {{"hardtanh", [](const Tensor& x) { return hardtanh(x); }},
                {"hardtanh_m05_15", [](const Tensor& x) { return hardtanh(x, -0.5, 1.5); }}},
               {{"min above max", [] { hardtanh(ones({2}), 1.0, -1.0); },
                 "min_val 1 is greater than max_val -1"}}));

// Binary ops: broadcasting, a 0-d operand, one side without grad; the divisor of fmod and
// remainder is kept away from 0 and from the discontinuities of the quotient.
using BinaryFn = std::function<Tensor(const Tensor&, const Tensor&)>;

Tensor divisor64(const Shape& s) {
    Tensor d = pos64(s, 0.5, 1.5).detach();
    return mul(d, -1.0).requires_grad_();  // negative: the sign rules of fmod and remainder differ
}

OpInfo binary_info(std::string name, BinaryFn fn, bool divisor, std::vector<ParityCase> parity) {
    auto samples = [fn, divisor] {
        TensorFn f = [fn](const TensorList& x) { return fn(x[0], x[1]); };
        auto rhs = [divisor](const Shape& s) { return divisor ? divisor64(s) : rand64(s); };
        // Dividends with values a quotient does not round near: gradcheck must not step across.
        auto lhs = [](const Shape& s) { return rand64(s, -3, 3); };
        return std::vector<Sample>{{"[2,3] and [2,3]", {lhs({2, 3}), rhs({2, 3})}, f},
                                   {"[2,3] and [3]", {lhs({2, 3}), rhs({3})}, f},
                                   {"0-d and [2,1]", {lhs({}), rhs({2, 1})}, f},
                                   {"[4] and 0-d", {lhs({4}), rhs({})}, f}};
    };
    auto errors = [fn] {
        return std::vector<ErrorCase>{
            {"shapes that do not broadcast",
             [fn] {
                 fn(rand64({2, 3}), rand64({4}));
             },
             "[2, 3]"},
            {"float32 and float64", [fn] { fn(ones({2}), ones({2}, float64)); }, "float64"},
            {"int64 inputs", [fn] { fn(arange(3, int64), arange(3, int64)); },
             "expected a floating-point"},
            {"undefined input", [fn] { fn(Tensor(), ones({2})); }, "undefined"}};
    };
    return OpInfo{std::move(name), samples, errors, [parity] { return Parity{parity, ""}; }};
}

XG_REGISTER_ROW(atan2_info,
                binary_info("atan2", [](const Tensor& a, const Tensor& b) { return atan2(a, b); },
                            false, {{"math_atan2", 2, [](const TensorList& x) {
                                         return atan2(x[0], x[1]);
                                     }}}));

XG_REGISTER_ROW(
    fmod_info,
    binary_info("fmod", [](const Tensor& a, const Tensor& b) { return fmod(a, b); }, true,
                {{"math_fmod", 2, [](const TensorList& x) { return fmod(x[0], x[1]); }},
                 {"math_fmod_scalar", 1, [](const TensorList& x) { return fmod(x[0], -0.7); }}}));

XG_REGISTER_ROW(
    remainder_info,
    binary_info("remainder", [](const Tensor& a, const Tensor& b) { return remainder(a, b); }, true,
                {{"math_remainder", 2, [](const TensorList& x) { return remainder(x[0], x[1]); }},
                 {"math_remainder_scalar", 1,
                  [](const TensorList& x) { return remainder(x[0], -0.7); }}}));

TEST_CASE("math ops: values at the edges, as PyTorch gives them") {
    const double inf = std::numeric_limits<double>::infinity();
    // round: halves to even, as torch.round.
    CHECK(round(tensor({0.5, 1.5, 2.5, -0.5, -2.5}, float64)).to_vector() ==
          std::vector<double>{0, 2, 2, -0, -2});
    // erfinv: +-inf at +-1, NaN outside, and the inverse of erf inside.
    auto e = erfinv(tensor({1.0, -1.0, 1.5, 0.0}, float64)).to_vector();
    CHECK(e[0] == inf);
    CHECK(e[1] == -inf);
    CHECK(std::isnan(e[2]));
    CHECK(e[3] == 0.0);
    Tensor y = tensor({-0.999, -0.3, 0.1, 0.7, 0.9999}, float64);
    auto back = erf(erfinv(y)).to_vector();
    for (std::size_t i = 0; i < back.size(); ++i)
        CHECK(back[i] == doctest::Approx(y.to_vector()[i]).epsilon(1e-14));
    // fmod takes the dividend's sign, remainder the divisor's.
    CHECK(fmod(tensor({-3.0, 3.0}, float64), 2.0).to_vector() == std::vector<double>{-1, 1});
    CHECK(remainder(tensor({-3.0, 3.0}, float64), 2.0).to_vector() == std::vector<double>{1, 1});
    CHECK(remainder(tensor({-3.0, 3.0}, float64), -2.0).to_vector() == std::vector<double>{-1, -1});
    // Stable for large inputs: no overflow to inf or NaN.
    CHECK(logsigmoid(tensor({-1000.0, 1000.0}, float64)).to_vector() ==
          std::vector<double>{-1000.0, -0.0});
    CHECK(softplus(tensor({1000.0}, float64)).item() == 1000.0);
    CHECK(mish(tensor({1000.0}, float64)).item() == 1000.0);
    CHECK(silu(tensor({-1000.0}, float32)).item() == 0.0);
    // float32 runs the same formulas.
    CHECK(gelu(tensor({1.0}, float32)).item<float>() == doctest::Approx(0.8413447).epsilon(1e-6));
}

TEST_CASE("math ops: every one is a Tensor method too, as in libtorch") {
    Tensor x = tensor({0.25, -0.5, 0.75}, float64);
    CHECK(x.sin().to_vector() == sin(x).to_vector());
    CHECK(x.abs().sqrt().to_vector() == sqrt(abs(x)).to_vector());
    CHECK(x.erfinv().erf().to_vector()[1] == doctest::Approx(-0.5).epsilon(1e-14));
    CHECK(x.clamp(0.0, 0.5).to_vector() == std::vector<double>{0.25, 0.0, 0.5});
    CHECK(x.square().log1p().to_vector() == log1p(square(x)).to_vector());
    CHECK(x.floor().to_vector() == std::vector<double>{0, -1, 0});
    std::ostringstream os;
    os << x;  // prints as fmt does
    CHECK(os.str() == fmt::format("{}", x));
}

}  // namespace
}  // namespace xg::testing

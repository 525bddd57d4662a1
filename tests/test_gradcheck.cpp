// gradcheck itself: it must pass correct rules, fail wrong ones with a useful log, and refuse
// checks that prove nothing.
#include <doctest/doctest.h>

#include "xgrad.hpp"

using namespace xg;

namespace {
// sin-like op with a deliberately wrong backward (factor 2 off on element 1).
struct WrongGrad : Function<WrongGrad> {
    static constexpr const char* name = "WrongGradBackward";
    static Tensor forward(AutogradContext* ctx, const Tensor& x) {
        ctx->save_for_backward({x});
        return x * x;
    }
    static TensorList backward(AutogradContext* ctx, const TensorList& g) {
        Tensor x = ctx->get_saved_variables()[0];
        Tensor scale = tensor({2.0, 4.0, 2.0}, float64);
        return {g[0] * x * scale};
    }
};

Tensor x64() {
    return tensor({0.5, -1.0, 2.0}, float64).requires_grad_();
}
}  // namespace

TEST_CASE("gradcheck: passes a correct rule, full Jacobian and random-projection modes") {
    manual_seed(1);
    auto a = randn({3, 4}, float64).requires_grad_();
    auto b = randn({4}, float64).requires_grad_();
    auto f = [](const TensorList& in) { return tanh(in[0] * in[1] + in[1]); };
    auto r = gradcheck(f, {a, b});
    CHECK_MESSAGE(r, r.log);
    GradcheckOptions vjp;
    vjp.full_jacobian_max_outputs(0);  // force the random upstream gradient
    auto r2 = gradcheck(f, {a, b}, vjp);
    CHECK_MESSAGE(r2, r2.log);
    CHECK_FALSE(a.grad().defined());  // the inputs are left untouched
}

TEST_CASE("gradcheck: a wrong rule fails and the log names input, element and values") {
    auto r = gradcheck([](const TensorList& in) { return WrongGrad::apply(in[0]); }, {x64()});
    CHECK_FALSE(r.ok);
    CHECK(r.log.find("input 0") != std::string::npos);
    CHECK(r.log.find("element [1]") != std::string::npos);
    CHECK(r.log.find("analytic") != std::string::npos);
    CHECK(r.log.find("numeric") != std::string::npos);
    CHECK(r.log.find("relative error") != std::string::npos);
    GradcheckOptions vjp;
    vjp.full_jacobian_max_outputs(0);
    CHECK_FALSE(
        gradcheck([](const TensorList& in) { return WrongGrad::apply(in[0]); }, {x64()}, vjp).ok);
}

TEST_CASE("gradcheck: refuses vacuous passes") {
    // relu of negative inputs: every gradient is zero.
    auto neg_in = tensor({-1.0, -2.0}, float64).requires_grad_();
    auto r = gradcheck([](const TensorList& in) { return relu(in[0]); }, {neg_in});
    CHECK_FALSE(r.ok);
    CHECK(r.log.find("every analytic and numeric gradient is exactly zero") != std::string::npos);
    GradcheckOptions allow;
    allow.allow_all_zero(true);
    CHECK(gradcheck([](const TensorList& in) { return relu(in[0]); }, {neg_in}, allow).ok);

    // A perturbation too small to change a large float32 value.
    auto big = tensor({1e8, 2e8}, float32).requires_grad_();
    auto r2 = gradcheck([](const TensorList& in) { return in[0] * 2.0; }, {big});
    CHECK_FALSE(r2.ok);
    CHECK(r2.log.find("did not change it") != std::string::npos);
}

TEST_CASE("gradcheck: warns on float32 inputs") {
    auto x = tensor({0.5, 1.0}, float32).requires_grad_();
    GradcheckOptions loose;
    loose.eps(1e-2);
    loose.atol(1e-2);
    loose.rtol(1e-2);
    auto r = gradcheck([](const TensorList& in) { return in[0] * in[0]; }, {x}, loose);
    CHECK_MESSAGE(r.ok, r.log);
    CHECK(r.log.find("warning: input 0 is float32") != std::string::npos);
}

TEST_CASE("gradcheck: errors on misuse") {
    auto x = tensor({1.0}, float64);  // no requires_grad
    CHECK_THROWS_AS(gradcheck([](const TensorList& in) { return in[0]; }, {x}), Error);
}

TEST_CASE("gradgradcheck: second derivatives of smooth ops") {
    manual_seed(2);
    auto a = randn({2, 3}, float64).requires_grad_();
    auto r =
        gradgradcheck([](const TensorList& in) { return tanh(in[0]) * exp(in[0] * 0.3); }, {a});
    CHECK_MESSAGE(r, r.log);
    auto b = randn({3}, float64).requires_grad_();
    auto r2 = gradgradcheck(
        [](const TensorList& in) { return sigmoid(in[0] * in[1]) / (in[1] * in[1] + 1.0); },
        {a, b});
    CHECK_MESSAGE(r2, r2.log);
}

TEST_CASE("cs231n helpers: rel_error, eval_numerical_gradient, grad_check_sparse") {
    auto a = tensor({1.0, 2.0}, float64), b = tensor({1.0, 2.0002}, float64);
    CHECK(rel_error(a, a) == 0.0);
    CHECK(rel_error(a, b) == doctest::Approx(0.0002 / 4.0002));

    auto x = tensor({0.3, -0.2, 0.9}, float64);
    auto f = [](const Tensor& t) { return sum(mul(t, mul(t, t))).item(); };  // sum x^3
    Tensor num = eval_numerical_gradient(f, x);
    Tensor want = mul(mul(x, x), 3.0);
    CHECK(rel_error(num, want) < 1e-8);
    CHECK(x.to_vector() == std::vector<double>{0.3, -0.2, 0.9});  // restored

    auto df = tensor({1.0, 2.0, -1.0}, float64);
    Tensor vjp = eval_numerical_gradient_array([](const Tensor& t) { return tanh(t); }, x, df);
    Tensor want2 = mul(df, rsub(1.0, mul(tanh(x), tanh(x))));
    CHECK(rel_error(vjp, want2) < 1e-8);

    auto ok = grad_check_sparse(f, x, want, 5);
    CHECK_MESSAGE(ok, ok.log);
    CHECK(ok.log.find("relative error") != std::string::npos);
    auto bad = grad_check_sparse(f, x, mul(want, 1.5), 5);
    CHECK_FALSE(bad.ok);
}

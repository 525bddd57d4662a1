// Second derivatives through create_graph: a Hessian-vector product of a small MLP against
// finite differences of its gradient.
#include <doctest/doctest.h>

#include <xtensor/xadapt.hpp>

#include "xgrad.hpp"

using namespace xg;

namespace {
Tensor mlp_loss(const Tensor& x, const TensorList& p) {
    Tensor h = tanh(matmul(x, p[0]) + p[1]);
    Tensor out = matmul(h, p[2]);
    return mean(out * out) + sum(sigmoid(out));
}

TensorList grads_at(const Tensor& x, const TensorList& params) {
    TensorList p;
    for (const auto& t : params) p.push_back(t.detach().requires_grad_());
    return grad({mlp_loss(x, p)}, p);
}
}  // namespace

TEST_CASE("higher order: Hessian-vector product of an MLP matches finite differences") {
    manual_seed(3);
    Tensor x = randn({4, 3}, float64);
    TensorList params = {randn({3, 5}, float64).requires_grad_(),
                         randn({5}, float64).requires_grad_(),
                         randn({5, 2}, float64).requires_grad_()};
    TensorList v;
    for (const auto& p : params) v.push_back(randn(p.shape(), float64));

    TensorList g = grad({mlp_loss(x, params)}, params, {}, {}, true);
    Tensor gv = zeros(Shape{}, float64);
    for (std::size_t i = 0; i < g.size(); ++i) gv = gv + sum(g[i] * v[i]);
    TensorList hv = grad({gv}, params);

    const double eps = 1e-5;
    TensorList plus, minus;
    for (std::size_t i = 0; i < params.size(); ++i) {
        plus.push_back(params[i].detach() + v[i] * eps);
        minus.push_back(params[i].detach() - v[i] * eps);
    }
    TensorList gp = grads_at(x, plus), gm = grads_at(x, minus);
    for (std::size_t i = 0; i < params.size(); ++i) {
        Tensor fd = (gp[i] - gm[i]) / (2 * eps);
        CAPTURE(i);
        CHECK(rel_error(hv[i], fd) < 1e-6);
    }
}

TEST_CASE("higher order: gradgradcheck of the MLP loss") {
    manual_seed(4);
    Tensor x = randn({3, 2}, float64);
    TensorList params = {randn({2, 3}, float64).requires_grad_(),
                         randn({3}, float64).requires_grad_(),
                         randn({3, 1}, float64).requires_grad_()};
    auto r = gradgradcheck([x](const TensorList& p) { return mlp_loss(x, p); }, params);
    CHECK_MESSAGE(r, r.log);
}

namespace {
// A small conv critic: D(x) per sample, summed. conv (stride 2, pad 1) - tanh - conv - sum.
Tensor critic(const Tensor& x, const TensorList& p) {
    Tensor h = tanh(conv2d(x, p[0], p[1], Conv2dFuncOptions().stride({2, 2}).padding({1, 1})));
    return sum(conv2d(h, p[2], Tensor(),
                      Conv2dFuncOptions().stride({1, 1}).padding({0, 0}).dilation({2, 2})));
}

// The gradient penalty of WGAN-GP / R1: sum of squares of dD/dx, as a function of the critic's
// parameters (differentiable in them through create_graph).
Tensor gradient_penalty(const Tensor& x, const TensorList& p) {
    EnableGradGuard on;  // gradcheck evaluates its perturbed points without grad mode
    Tensor xi = x.detach().requires_grad_();
    Tensor gx = grad({critic(xi, p)}, {xi}, {}, {}, true)[0];
    return sum(gx * gx);
}

// A small CNN classifier: conv - tanh - avg pool - conv_transpose - tanh - linear - cross-entropy.
Tensor cnn_loss(const Tensor& x, const Tensor& y, const TensorList& p) {
    Tensor h = tanh(conv2d(x, p[0], p[1], Conv2dFuncOptions().stride({1, 1}).padding({1, 1})));
    h = avg_pool2d(h, AvgPool2dFuncOptions(2));
    h = tanh(conv_transpose2d(
        h, p[2], Tensor(),
        ConvTranspose2dFuncOptions().stride({2, 2}).padding({1, 1}).output_padding({1, 1})));
    Tensor logits = matmul(reshape(h, {static_cast<std::int64_t>(x.shape()[0]), -1}), p[3]);
    return cross_entropy(logits, y);
}
}  // namespace

TEST_CASE(
    "higher order: a gradient-penalty step through a conv critic matches finite differences") {
    manual_seed(5);
    Tensor x = randn({2, 2, 6, 6}, float64);
    TensorList params = {(randn({3, 2, 3, 3}, float64) * 0.5).detach().requires_grad_(),
                         (randn({3}, float64) * 0.1).detach().requires_grad_(),
                         (randn({1, 3, 2, 2}, float64) * 0.5).detach().requires_grad_()};
    // The step a WGAN-GP critic takes: backward of the penalty into the weights.
    Tensor pen = gradient_penalty(x, params);
    pen.backward();
    for (const auto& p : params) REQUIRE(p.grad().defined());
    // Central differences of the penalty in every parameter element.
    const double eps = 1e-5;  // truncation ~eps^2, rounding ~1e-16/eps: both far below 1e-6
    for (std::size_t k = 0; k < params.size(); ++k) {
        std::vector<double> fd;
        auto base = params[k].detach().clone();
        for (std::size_t i = 0; i < base.numel(); ++i) {
            auto at = [&](double d) {
                auto v = base.clone();
                v.mutable_data<double>().data()[i] += d;
                TensorList q = params;
                q[k] = v.requires_grad_();
                return gradient_penalty(x, q).item();
            };
            fd.push_back((at(eps) - at(-eps)) / (2 * eps));
        }
        Tensor fdt = from_array(xt::xarray<double>(xt::adapt(fd, base.shape())));
        CAPTURE(k);
        CHECK(rel_error(params[k].grad(), fdt) < 1e-6);
    }
    // And the library's own check of the same function.
    auto r = gradcheck([x](const TensorList& p) { return gradient_penalty(x, p); }, params);
    CHECK_MESSAGE(r, r.log);
}

TEST_CASE("higher order: Hessian-vector product of a small CNN matches finite differences") {
    manual_seed(6);
    Tensor x = randn({3, 1, 6, 6}, float64);
    Tensor y = tensor({0, 2, 1}, int64);
    TensorList params = {(randn({2, 1, 3, 3}, float64) * 0.5).detach().requires_grad_(),
                         (randn({2}, float64) * 0.1).detach().requires_grad_(),
                         (randn({2, 2, 3, 3}, float64) * 0.5).detach().requires_grad_(),
                         (randn({72, 3}, float64) * 0.3).detach().requires_grad_()};
    TensorList v;
    for (const auto& p : params) v.push_back(randn(p.shape(), float64));

    TensorList g = grad({cnn_loss(x, y, params)}, params, {}, {}, true);
    Tensor gv = zeros(Shape{}, float64);
    for (std::size_t i = 0; i < g.size(); ++i) gv = gv + sum(g[i] * v[i]);
    TensorList hv = grad({gv}, params);

    auto grads_at = [&](double d) {
        TensorList p;
        for (std::size_t i = 0; i < params.size(); ++i)
            p.push_back((params[i].detach() + v[i] * d).detach().requires_grad_());
        return grad({cnn_loss(x, y, p)}, p);
    };
    const double eps = 1e-5;
    TensorList gp = grads_at(eps), gm = grads_at(-eps);
    for (std::size_t i = 0; i < params.size(); ++i) {
        Tensor fd = (gp[i] - gm[i]) / (2 * eps);
        CAPTURE(i);
        CHECK(rel_error(hv[i], fd) < 1e-6);
    }
    auto r = gradgradcheck([x, y](const TensorList& p) { return cnn_loss(x, y, p); }, params);
    CHECK_MESSAGE(r, r.log);
}

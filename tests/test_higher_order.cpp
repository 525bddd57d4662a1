// Second derivatives through create_graph: a Hessian-vector product of a small MLP against
// finite differences of its gradient.
#include <doctest/doctest.h>

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

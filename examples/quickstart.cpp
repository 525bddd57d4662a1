// The README's first example: build a tiny graph, backprop, and gradcheck it.
#include <xgrad.hpp>

int main() {
    xg::manual_seed(0);
    auto x = xg::randn({4, 3}, xg::float64).requires_grad_();
    auto w = xg::randn({3, 2}, xg::float64).requires_grad_();
    auto loss = xg::tanh(xg::matmul(x, w)).sum();
    loss.backward();  // x.grad(), w.grad() now hold dloss/dx, dloss/dw
    fmt::print("loss = {}\ndloss/dw =\n{}\n", loss.item(), w.grad());

    auto r = xg::gradcheck(
        [](const xg::TensorList& in) { return xg::tanh(xg::matmul(in[0], in[1])).sum(); }, {x, w});
    fmt::print("gradcheck: {}\n", r.ok ? "passed" : r.log);
    return r.ok ? 0 : 1;
}

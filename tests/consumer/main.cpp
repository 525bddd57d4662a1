// Built against an installed xgrad: a tiny gradient check must pass.
#include <xgrad.hpp>

#include <cstdio>

int main() {
    xg::manual_seed(0);
    auto x = xg::randn({3, 4}, xg::float64).requires_grad_();
    auto w = xg::randn({4, 2}, xg::float64).requires_grad_();
    auto r = xg::gradcheck(
        [](const xg::TensorList& in) { return xg::tanh(xg::matmul(in[0], in[1])).sum(); }, {x, w});
    std::printf("consumer: gradcheck %s\n", r.ok ? "passed" : "FAILED");
    return r.ok ? 0 : 1;
}

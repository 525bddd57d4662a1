// linear (ops/matmul.cpp): OpInfo for the registry walk, values against matmul and PyTorch.
#include <doctest/doctest.h>

#include "tests/op_registry.hpp"
#include "tests/parity.hpp"

namespace xg::testing {

namespace {

void lin(std::vector<Sample>& s, std::string desc, TensorList in) {
    s.push_back({std::move(desc), std::move(in), [](const TensorList& x) {
                     return linear(x[0], x[1], x.size() > 2 ? x[2] : Tensor());
                 }});
}

std::vector<Sample> linear_samples() {
    std::vector<Sample> s;
    lin(s, "[4,3] [5,3] [5]", {rand64({4, 3}), rand64({5, 3}), rand64({5})});
    lin(s, "no bias [2,3] [4,3]", {rand64({2, 3}), rand64({4, 3})});
    lin(s, "batched [2,3,4] [2,4] [2]", {rand64({2, 3, 4}), rand64({2, 4}), rand64({2})});
    lin(s, "1-D input [3] [2,3] [2]", {rand64({3}), rand64({2, 3}), rand64({2})});
    lin(s, "size-1 dims [1,1] [1,1] [1]", {rand64({1, 1}), rand64({1, 1}), rand64({1})});
    lin(s, "only weight requires grad",
        {rand64({3, 2}).detach(), rand64({2, 2}), rand64({2}).detach()});
    lin(s, "only bias requires grad",
        {rand64({3, 2}).detach(), rand64({2, 2}).detach(), rand64({2})});
    return s;
}

std::vector<ErrorCase> linear_errors() {
    std::vector<ErrorCase> e;
    auto er = [&](std::string d, std::string f, std::function<void()> c) {
        e.push_back({std::move(d), std::move(c), std::move(f)});
    };
    er("features differ", "weight expects 3 input features, input has 4", [] {
        linear(zeros({2, 4}), zeros({5, 3}));
    });
    er("1-D weight", "weight must be 2-D", [] { linear(zeros({2, 3}), zeros({3})); });
    er("bias shape", "bias must have shape [5], got [4]", [] {
        linear(zeros({2, 3}), zeros({5, 3}), zeros({4}));
    });
    er("scalar input", "at least 1 dim", [] { linear(zeros({}), zeros({1, 1})); });
    er("mixed dtypes", "same dtype", [] { linear(zeros({2, 3}), zeros({5, 3}, float64)); });
    er("int64", "must be float32 or float64", [] {
        linear(zeros({2, 3}, int64), zeros({5, 3}, int64));
    });
    er("undefined", "undefined", [] { linear(Tensor(), zeros({5, 3})); });
    return e;
}

}  // namespace

// PyTorch parity (tests/parity/nn_modules.py: torch.nn.functional.linear).
Parity linear_parity() {
    auto f3 = [](const TensorList& x) { return linear(x[0], x[1], x[2]); };
    auto f2 = [](const TensorList& x) { return linear(x[0], x[1]); };
    return Parity{{{"linear_basic", 3, f3}, {"linear_batched", 3, f3}, {"linear_nobias", 2, f2}}};
}

XG_REGISTER_OP_INFO(linear_info, {"linear", linear_samples, linear_errors, linear_parity});

TEST_CASE("linear: equals x @ w^T + b, float32 and float64, and records LinearBackward") {
    manual_seed(1);
    for (Dtype d : {float32, float64}) {
        Tensor x = randn({2, 3, 4}, d), w = randn({5, 4}, d), b = randn({5}, d);
        Tensor ref = add(matmul(x, w.transpose(0, 1)), b);
        CHECK(max_abs_diff(linear(x, w, b), ref) < (d == float32 ? 1e-5 : 1e-12));
        CHECK(linear(x, w).shape() == Shape{2, 3, 5});
    }
    Tensor w = randn({2, 3}).requires_grad_();
    Tensor y = linear(zeros({4, 3}), w, zeros({2}));
    REQUIRE(y.grad_fn());
    CHECK(y.grad_fn()->name() == "LinearBackward");
    CHECK(linear(zeros({0, 3}), zeros({2, 3}), ones({2})).shape() == Shape{0, 2});
    CHECK(linear(zeros({2, 0}), zeros({2, 0}), ones({2})).to_vector() ==
          std::vector<double>{1, 1, 1, 1});
}

}  // namespace xg::testing

#pragma once
// The op registry: every public op (ops/op_list.cpp) declares sample inputs and error inputs
// here, from its own test file:
//
//   XG_REGISTER_OP_INFO(tanh_info, {"tanh",
//       [] { return std::vector<Sample>{{"2x3", {rand64({2, 3})}, [](const TensorList& x) {
//                return xg::tanh(x[0]); }}}; },
//       [] { return std::vector<ErrorCase>{{"int64", [] { xg::tanh(arange(3, int64)); },
//                "expected a floating-point"}}; }});
//
// tests/test_registry.cpp walks it: float64 gradcheck (and gradgradcheck) of every sample,
// every error input must throw xg::Error starting with the op name and containing the fragment,
// and an op with too few samples fails the suite.
#include <functional>
#include <string>
#include <vector>

#include "xgrad.hpp"

namespace xg::testing {

struct Sample {
    std::string desc;
    TensorList inputs;  // float64; inputs with requires_grad are checked
    TensorFn fn;
    GradcheckOptions opt = {};
    bool gradgrad = true;  // false for once-differentiable ops
};

struct ErrorCase {
    std::string desc;
    std::function<void()> call;
    std::string fragment;  // must appear in the message
};

struct OpInfo {
    std::string name;  // as in op_list(); error messages must start with "<name>:"
    std::function<std::vector<Sample>()> samples;
    std::function<std::vector<ErrorCase>()> errors;
    std::size_t min_samples = 4;
};

std::vector<OpInfo>& registry();

struct Register {
    explicit Register(OpInfo info) { registry().push_back(std::move(info)); }
};

// Seeded float64 inputs that require grad.
Tensor rand64(const Shape& shape, double lo = -1.0, double hi = 1.0);
// Same, bounded away from zero (for log, sqrt, div, pow): values in [lo, hi] with lo > 0.
Tensor pos64(const Shape& shape, double lo = 0.5, double hi = 2.0);

// CHECKs t's elements (row-major) against expected, relative tolerance eps.
void check_values(const Tensor& t, const std::vector<double>& expected, double eps = 1e-6);
// The largest |a - b| over all elements; REQUIREs equal shapes.
double max_abs_diff(const Tensor& a, const Tensor& b);

}  // namespace xg::testing

#define XG_REGISTER_OP_INFO(var, ...)     \
    static ::xg::testing::Register var {  \
        ::xg::testing::OpInfo __VA_ARGS__ \
    }

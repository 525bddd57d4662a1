#pragma once
// The op registry: one row per public op (every function declared in namespace xg of ops/*.hpp),
// written in the op's own test file, holding its sample inputs, error inputs and PyTorch
// parity fixtures:
//
//   XG_REGISTER_OP_INFO(tanh_info, {"tanh",
//       [] { return std::vector<Sample>{{"2x3", {rand64({2, 3})}, [](const TensorList& x) {
//                return xg::tanh(x[0]); }}}; },
//       [] { return std::vector<ErrorCase>{{"int64", [] { xg::tanh(arange(3, int64)); },
//                "expected a floating-point"}}; },
//       [] { return Parity{{{"core_tanh", 1, [](const TensorList& x) { return tanh(x[0]); }}}};
//       }});
//
// tests/test_registry.cpp walks it: float64 gradcheck (and gradgradcheck) of every sample,
// every error input must throw xg::Error starting with the op name and containing the fragment
// (and the `also` fragments), every parity case must match its fixture, and an op with too few
// samples, no error inputs or no parity (without a reason) fails the suite. It also reads the
// headers: a declared op without a row, or a row naming no declared op, fails. The bad inputs of
// other areas (factories, modules, optimizers, data, checkpoints) live in those areas' test files
// (tests/error_of.hpp).
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "tests/parity.hpp"
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
    std::string fragment;                // must appear in the message
    std::vector<std::string> also = {};  // further fragments that must appear too
};

// One PyTorch fixture (tests/parity/*.py writes tests/fixtures/<fixture>.*.npy) and the xgrad
// expression it is compared with (check_parity in tests/parity.hpp).
struct ParityCase {
    std::string fixture;
    std::size_t n_inputs;
    TensorFn fn;
    // Checks run after fn (e.g. batch_norm's running statistics): "" or what went wrong.
    std::function<std::string()> also = {};
};

// An op's parity cases, or (when there are none) the reason it has none.
struct Parity {
    std::vector<ParityCase> cases;
    std::string none_because;
};
inline Parity no_parity(std::string reason) {
    return Parity{{}, std::move(reason)};
}

struct OpInfo {
    std::string name;  // the declared function; error messages must start with "<name>:"
    std::function<std::vector<Sample>()> samples;
    std::function<std::vector<ErrorCase>()> errors;
    std::function<Parity()> parity;
    bool differentiable = true;  // false: outputs never require grad (comparisons, argmax)
    std::size_t min_samples = 4;
};

std::vector<OpInfo>& registry();

// What is wrong with the registry against the declared ops (tests/header_scan.hpp): ops without
// a row, rows naming no op, duplicates, too few samples, no error inputs, no parity or reason.
std::vector<std::string> registry_problems(const std::set<std::string>& ops);

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

// ops/scan.hpp: registry rows for cumsum, cumprod and logcumsumexp (float64 gradcheck and
// gradgradcheck, error inputs, PyTorch fixtures from tests/parity/reduce_sort_ops.py) and
// values at the edges: zeros in cumprod, infinities in logcumsumexp, int64.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "tests/op_registry.hpp"

namespace xg::testing {
namespace {

using Samples = std::vector<Sample>;
using Errors = std::vector<ErrorCase>;
using ScanFn = Tensor (*)(const Tensor&, std::int64_t, Site);

const double kInf = std::numeric_limits<double>::infinity();

// Entries of magnitude 0.5 .. 1.5, every third negative, with exact zeros at `at`.
Tensor with_zeros(const Shape& s, std::vector<std::size_t> at = {}) {
    Tensor r = rand64(s, 0.5, 1.5).detach();
    auto& d = r.mutable_data<double>();
    for (std::size_t k = 0; k < d.size(); ++k) {
        if (k % 3 == 1) d.data()[k] = -d.data()[k];
    }
    for (auto k : at) d.data()[k] = 0.0;
    return r.requires_grad_();
}

TensorFn along(ScanFn f, std::int64_t dim) {
    return [f, dim](const TensorList& x) { return f(x[0], dim, Site()); };
}

// Samples every scan shares: dims 0, 1, -1 of 2-d and 3-d inputs, size-1 dims, 0-d.
Samples scan_samples(ScanFn f, double lo, double hi) {
    return {
        {"[3,4] dim 1", {rand64({3, 4}, lo, hi)}, along(f, 1)},
        {"[3,4] dim 0", {rand64({3, 4}, lo, hi)}, along(f, 0)},
        {"[2,3,4] dim -1", {rand64({2, 3, 4}, lo, hi)}, along(f, -1)},
        {"[2,3,4] dim 1", {rand64({2, 3, 4}, lo, hi)}, along(f, 1)},
        {"[5]", {rand64({5}, lo, hi)}, along(f, 0)},
        {"size-1 dim", {rand64({2, 1}, lo, hi)}, along(f, 1)},
        {"0-d, dim -1", {rand64({}, lo, hi)}, along(f, -1)},
    };
}

Errors scan_errors(ScanFn f) {
    return {
        {"dim out of range",
         [f] {
             f(ones({2, 3}, float64), 2, Site());
         },
         "dim 2 is out of range for a tensor of 2 dims"},
        {"negative dim out of range",
         [f] {
             f(ones({2, 3}, float64), -3, Site());
         },
         "dim -3 is out of range for a tensor of 2 dims"},
        {"0-d, dim 1", [f] { f(ones({}, float64), 1, Site()); },
         "dim 1 is out of range for a tensor of 0 dims"},
        {"undefined input", [f] { f(Tensor(), 0, Site()); }, "argument 'input' is an undefined"},
    };
}

XG_REGISTER_OP_INFO(cumsum_info,
                    {"cumsum", [] { return scan_samples(cumsum, -1, 1); },
                     [] { return scan_errors(cumsum); },
                     [] {
                         return Parity{{{"rs_cumsum_dim1", 1, along(cumsum, 1)},
                                        {"rs_cumsum_dim0", 1, along(cumsum, 0)},
                                        {"rs_cumsum_dimneg1_3d", 1, along(cumsum, -1)}}};
                     }});

XG_REGISTER_OP_INFO(
    cumprod_info,
    {"cumprod",
     [] {
         Samples s = scan_samples(cumprod, 0.5, 1.5);
         s.push_back({"[2,5] dim 1, one zero", {with_zeros({2, 5}, {2})}, along(cumprod, 1)});
         s.push_back({"[2,5] dim 1, zeros first, twice in a row",
                      {with_zeros({2, 5}, {0, 6, 8})},
                      along(cumprod, 1)});
         s.push_back({"[4,3] dim 0, zeros", {with_zeros({4, 3}, {4, 5, 10})}, along(cumprod, 0)});
         s.push_back({"[3] all zeros", {with_zeros({3}, {0, 1, 2})}, along(cumprod, 0)});
         return s;
     },
     [] { return scan_errors(cumprod); },
     [] {
         return Parity{{{"rs_cumprod_dim1", 1, along(cumprod, 1)},
                        {"rs_cumprod_dim0", 1, along(cumprod, 0)},
                        {"rs_cumprod_zeros_dim1", 1, along(cumprod, 1)}}};
     }});

XG_REGISTER_OP_INFO(
    logcumsumexp_info,
    {"logcumsumexp",
     [] {
         Samples s = scan_samples(logcumsumexp, -3, 3);
         s.push_back({"large values", {rand64({2, 4}, 200, 400)}, along(logcumsumexp, 1)});
         return s;
     },
     [] {
         Errors e = scan_errors(logcumsumexp);
         e.push_back({"int64 input", [] { logcumsumexp(ones({3}, int64), 0); },
                      "argument 'input' must be float32 or float64, got int64"});
         return e;
     },
     [] {
         return Parity{{{"rs_logcumsumexp_dim1", 1, along(logcumsumexp, 1)},
                        {"rs_logcumsumexp_dim0_3d", 1, along(logcumsumexp, 0)},
                        {"rs_logcumsumexp_large", 1, along(logcumsumexp, -1)}}};
     }});

}  // namespace

TEST_CASE("cumsum and cumprod: values, shapes, int64") {
    Tensor a = tensor({{1, 2, 3}, {4, 5, 6}}, float64);
    check_values(cumsum(a, 1), {1, 3, 6, 4, 9, 15});
    check_values(cumsum(a, 0), {1, 2, 3, 5, 7, 9});
    check_values(cumprod(a, -1), {1, 2, 6, 4, 20, 120});
    CHECK(cumsum(tensor(2.5, float64), 0).item() == 2.5);
    CHECK(cumsum(tensor(2.5, float64), 0).shape() == Shape{});
    CHECK(cumsum(zeros({2, 0}), 1).shape() == Shape{2, 0});
    CHECK(cumsum(a.to(float32), 1).dtype() == float32);
    Tensor i = cumsum(tensor({{1, 2}, {3, 4}}, int64), 0);
    CHECK(i.dtype() == int64);
    CHECK(i.to_vector() == std::vector<double>{1, 2, 4, 6});
    CHECK(cumprod(tensor({3, -2, 5}, int64), 0).to_vector() == std::vector<double>{3, -6, -30});
    // int64 wraps like PyTorch's, with no signed overflow.
    const std::int64_t big = std::numeric_limits<std::int64_t>::max();
    Tensor w = full({2}, 1.0, int64);
    w.mutable_data<std::int64_t>()(0) = big;
    CHECK(cumsum(w, 0).to_vector()[1] == double(std::numeric_limits<std::int64_t>::min()));
    w.mutable_data<std::int64_t>()(1) = 2;
    CHECK(cumprod(w, 0).data<std::int64_t>()(1) == -2);
}

TEST_CASE("cumprod: the gradient is exact with zeros in the input, as PyTorch's") {
    // PyTorch: x = [1, 0, 3, 0], cumprod(x).sum() gives the gradient [1, 4, 0, 0].
    Tensor x = tensor({1, 0, 3, 0}, float64).requires_grad_();
    cumprod(x, 0).sum().backward();
    check_values(x.grad(), {1, 4, 0, 0});
    // Along dim 0 of a matrix, and with create_graph (the differentiable path) the same.
    Tensor m = tensor({{2, 0}, {0, 3}, {5, 7}}, float64).requires_grad_();
    TensorList g = grad({cumprod(m, 0).sum()}, {m}, {}, true, true);
    TensorList plain = grad({cumprod(m, 0).sum()}, {m});
    // column 0: x = [2, 0, 5]: [1 + 0 + 0, 2 + 2*5, 0]; column 1: x = [0, 3, 7]: [1 + 3 + 21, 0, 0]
    check_values(g[0], {1, 25, 12, 0, 0, 0});
    check_values(plain[0], {1, 25, 12, 0, 0, 0});
}

TEST_CASE("logcumsumexp: stable values and infinities, as torch") {
    check_values(logcumsumexp(tensor({0, 0, 0}, float64), 0), {0, std::log(2.0), std::log(3.0)});
    auto big = logcumsumexp(tensor({1000, 1000}, float64), 0).to_vector();
    CHECK(big[1] == doctest::Approx(1000 + std::log(2.0)));
    auto r = logcumsumexp(tensor({-kInf, -kInf, 1, kInf}, float64), 0).to_vector();
    CHECK(r[0] == -kInf);
    CHECK(r[1] == -kInf);
    CHECK(r[2] == 1.0);
    CHECK(r[3] == kInf);
    CHECK(std::isnan(logcumsumexp(tensor({1, std::nan(""), 2}, float64), 0).to_vector()[2]));
    CHECK(logcumsumexp(tensor(3.0), -1).item() == 3.0);
    // A gradient that is zero in places (one output selected) stays finite.
    Tensor x = tensor({1, 2, 3}, float64).requires_grad_();
    logcumsumexp(x, 0).backward(tensor({0, 1, 0}, float64));
    const double s = std::exp(1.0) + std::exp(2.0);
    check_values(x.grad(), {std::exp(1.0) / s, std::exp(2.0) / s, 0});
}

}  // namespace xg::testing

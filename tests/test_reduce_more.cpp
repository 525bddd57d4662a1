// ops/reduce_more.hpp: registry rows for logsumexp, norm, dist and prod (float64 gradcheck and
// gradgradcheck, error inputs, PyTorch fixtures from tests/parity/reduce_sort_ops.py) and
// values at the edges: -inf rows, zero inputs, zeros in products, int64.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "tests/op_registry.hpp"

namespace xg::testing {
namespace {

using Samples = std::vector<Sample>;
using Errors = std::vector<ErrorCase>;

const double kInf = std::numeric_limits<double>::infinity();

Tensor f64(const Shape& s) {
    return ones(s, float64);
}

// Errors of a reduction over dims f(x, dims, keepdim).
Errors dims_errors(const std::function<Tensor(const Tensor&, const Dims&)>& f, bool int64_ok) {
    Errors e = {
        {"dim out of range",
         [f] {
             f(f64({2, 3}), {2});
         },
         "dim 2 is out of range for a tensor of 2 dims"},
        {"negative dim out of range",
         [f] {
             f(f64({2, 3}), {-3});
         },
         "dim -3 is out of range for a tensor of 2 dims"},
        {"duplicated dims",
         [f] {
             f(f64({2, 3}), {1, -1});
         },
         "dim 1 appears more than once in the list of dims [1, -1]"},
        {"undefined input", [f] { f(Tensor(), {0}); }, "undefined"},
    };
    if (!int64_ok)
        e.push_back({"int64 input",
                     [f] {
                         f(ones({2, 3}, int64), {0});
                     },
                     "must be float32 or float64, got int64"});
    return e;
}

XG_REGISTER_OP_INFO(
    logsumexp_info,
    {"logsumexp",
     [] {
         auto s = [](Dims d, bool k) {
             return TensorFn([d, k](const TensorList& x) { return logsumexp(x[0], d, k); });
         };
         return Samples{
             {"dim 1", {rand64({3, 4})}, s({1}, false)},
             {"dims 0 and 2, keepdim", {rand64({2, 3, 4})}, s({0, 2}, true)},
             {"dim -1, keepdim", {rand64({2, 3})}, s({-1}, true)},
             {"all elements", {rand64({2, 3})}, s({}, false)},
             {"large values", {rand64({2, 5}, 300, 400)}, s({1}, false)},
             {"size-1 dim", {rand64({3, 1})}, s({1}, false)},
             {"0-d, dim 0", {rand64({})}, s({0}, false)},
         };
     },
     [] {
         return dims_errors([](const Tensor& a, const Dims& d) { return logsumexp(a, d); }, true);
     },
     [] {
         return Parity{{
             {"rs_logsumexp_dim1", 1, [](const TensorList& x) { return logsumexp(x[0], {1}); }},
             {"rs_logsumexp_dims02_keepdim", 1,
              [](const TensorList& x) {
                  return logsumexp(x[0], {0, 2}, true);
              }},
             {"rs_logsumexp_large", 1, [](const TensorList& x) { return logsumexp(x[0], {-1}); }},
         }};
     }});

XG_REGISTER_OP_INFO(
    norm_info,
    {"norm",
     [] {
         auto s = [](double p, Dims d, bool k) {
             return TensorFn([p, d, k](const TensorList& x) { return norm(x[0], p, d, k); });
         };
         // Entries bounded away from 0 and without ties (the kinks of |x| and of max).
         auto away = [](const Shape& sh) {
             Tensor r = rand64(sh, 0.2, 1.0).detach();
             return mul(r, sign(rand64(sh).detach())).detach().requires_grad_();
         };
         return Samples{
             {"p 2, all elements",
              {away({2, 3, 4})},
              [](const TensorList& x) { return norm(x[0]); }},
             {"p 1, dim 1", {away({3, 4})}, s(1, {1}, false)},
             {"p 3, dim 0, keepdim", {away({3, 4})}, s(3, {0}, true)},
             {"p 0.5, dim -1", {away({2, 5})}, s(0.5, {-1}, false)},
             {"p 1.5, dims 0 and 1", {away({2, 3, 2})}, s(1.5, {0, 1}, false)},
             {"p inf, dim 1", {away({3, 4})}, s(kInf, {1}, false)},
             {"p -inf, all, keepdim", {away({2, 3})}, s(-kInf, {}, true)},
             {"p 0 (count of nonzeros): zero gradient",
              {away({2, 3})},
              s(0, {1}, false),
              GradcheckOptions().allow_all_zero(true),
              false},
             {"p 2, 0-d", {away({})}, s(2, {0}, false)},
         };
     },
     [] {
         auto e = dims_errors([](const Tensor& a, const Dims& d) { return norm(a, 2, d); }, false);
         e.push_back({"negative p", [] { norm(f64({3}), -1); },
                      "p must be positive, 0, inf or -inf, got -1"});
         e.push_back({"NaN p", [] { norm(f64({3}), std::nan("")); }, "got nan"});
         e.push_back({"int64 input, all elements", [] { norm(ones({2}, int64)); }, "got int64"});
         return e;
     },
     [] {
         auto f = [](double p, Dims d, bool k) {
             return TensorFn([p, d, k](const TensorList& x) { return norm(x[0], p, d, k); });
         };
         return Parity{{
             {"rs_norm_p2_all", 1, [](const TensorList& x) { return norm(x[0]); }},
             {"rs_norm_p1_dim1", 1, f(1, {1}, false)},
             {"rs_norm_p3_dim0_keepdim", 1, f(3, {0}, true)},
             {"rs_norm_p05_dim1", 1, f(0.5, {1}, false)},
             {"rs_norm_p15_dims01", 1, f(1.5, {0, 1}, false)},
             {"rs_norm_inf_dim1", 1, f(kInf, {1}, false)},
             {"rs_norm_neginf_dimneg1", 1, f(-kInf, {-1}, false)},
         }};
     }});

XG_REGISTER_OP_INFO(
    dist_info,
    {"dist",
     [] {
         auto s = [](double p) {
             return TensorFn([p](const TensorList& x) { return dist(x[0], x[1], p); });
         };
         return Samples{
             {"p 2, same shapes", {rand64({2, 3}), rand64({2, 3})}, s(2)},
             {"p 2, broadcast [2,3] and [3]", {rand64({2, 3}), rand64({3})}, s(2)},
             {"p 1", {rand64({4}), rand64({4})}, s(1)},
             {"p 3, 0-d and [2]", {rand64({}), rand64({2})}, s(3)},
             {"p inf", {rand64({2, 2}), rand64({2, 2})}, s(kInf)},
         };
     },
     [] {
         return Errors{
             {"shapes that do not broadcast",
              [] {
                  dist(f64({2, 3}), f64({2}));
              },
              "shapes [2, 3] and [2] cannot be broadcast"},
             {"mixed dtypes", [] { dist(f64({2}), ones({2})); }, "float64 and float32"},
             {"int64 input", [] { dist(ones({2}, int64), ones({2}, int64)); }, "got int64"},
             {"negative p", [] { dist(f64({2}), f64({2}), -2); },
              "p must be positive, 0, inf or -inf, got -2"},
             {"undefined other", [] { dist(f64({2}), Tensor()); }, "argument 'other'"},
         };
     },
     [] {
         auto f = [](double p) {
             return TensorFn([p](const TensorList& x) { return dist(x[0], x[1], p); });
         };
         return Parity{
             {{"rs_dist_p2_bcast", 2, f(2)}, {"rs_dist_p1", 2, f(1)}, {"rs_dist_inf", 2, f(kInf)}}};
     }});

// Products of entries of magnitude 0.5 .. 1.5 with mixed signs; some with exact zeros, where
// the gradient must still be the product of the other entries.
Tensor with_zeros(const Shape& s, std::vector<std::size_t> at) {
    Tensor r = rand64(s, 0.5, 1.5).detach();
    auto& d = r.mutable_data<double>();
    for (std::size_t k = 0; k < d.size(); ++k) {
        if (k % 3 == 1) d.data()[k] = -d.data()[k];
    }
    for (auto k : at) d.data()[k] = 0.0;
    return r.requires_grad_();
}

XG_REGISTER_OP_INFO(
    prod_info,
    {"prod",
     [] {
         auto s = [](std::int64_t d, bool k) {
             return TensorFn([d, k](const TensorList& x) { return prod(x[0], d, k); });
         };
         auto all = [](const TensorList& x) { return prod(x[0]); };
         return Samples{
             {"all elements", {with_zeros({2, 3}, {})}, all},
             {"all elements, one zero", {with_zeros({2, 3}, {4})}, all},
             {"dim 1", {with_zeros({3, 4}, {})}, s(1, false)},
             {"dim -1, keepdim, zeros (one, two in a row, first)",
              {with_zeros({3, 4}, {2, 5, 7, 8})},
              s(-1, true)},
             {"dim 0 of [2,3,2]", {with_zeros({2, 3, 2}, {3})}, s(0, false)},
             {"size-1 dim", {with_zeros({2, 1}, {})}, s(1, false)},
             {"0-d, dim 0", {with_zeros({}, {})}, s(0, false)},
         };
     },
     [] {
         return Errors{
             {"dim out of range",
              [] {
                  prod(f64({2, 3}), 2);
              },
              "dim 2 is out of range for a tensor of 2 dims"},
             {"dim -3 out of range",
              [] {
                  prod(f64({2, 3}), -3);
              },
              "dim -3 is out of range for a tensor of 2 dims"},
             {"undefined input", [] { prod(Tensor()); }, "undefined"},
             {"undefined input, dim", [] { prod(Tensor(), 0); }, "undefined"},
         };
     },
     [] {
         return Parity{{
             {"rs_prod_all", 1, [](const TensorList& x) { return prod(x[0]); }},
             {"rs_prod_dim1", 1, [](const TensorList& x) { return prod(x[0], 1); }},
             {"rs_prod_dim0_keepdim", 1, [](const TensorList& x) { return prod(x[0], 0, true); }},
             {"rs_prod_zeros_dim1", 1, [](const TensorList& x) { return prod(x[0], 1); }},
         }};
     }});

}  // namespace

TEST_CASE("logsumexp: stable for large values, -inf for a row of -inf, as torch") {
    Tensor big = tensor({{1000, 1000}, {-1000, -1000}}, float64);
    check_values(logsumexp(big, {1}), {1000 + std::log(2.0), -1000 + std::log(2.0)});
    Tensor f = tensor({{1e30, 0}}, float32);
    CHECK(logsumexp(f, {1}).item() == doctest::Approx(1e30));
    auto r = logsumexp(tensor({{-kInf, -kInf}, {0, -kInf}}, float64), {1}).to_vector();
    CHECK(r[0] == -kInf);
    CHECK(r[1] == 0.0);
    CHECK(logsumexp(tensor({kInf, 1}, float64), {0}).item() == kInf);
    CHECK(std::isnan(logsumexp(tensor({std::nan(""), 1}, float64), {0}).item()));
    auto e = logsumexp(zeros({2, 0}, float64), {1}).to_vector();  // no elements: -inf
    CHECK(e == std::vector<double>{-kInf, -kInf});
    CHECK(logsumexp(tensor({{1, 2}}, float64), {0, 1}, true).shape() == Shape{1, 1});
    // int64 is taken as float32, as torch promotes it.
    Tensor i = logsumexp(tensor({0, 0}, int64), {0});
    CHECK(i.dtype() == float32);
    CHECK(i.item() == doctest::Approx(std::log(2.0)));
}

TEST_CASE("norm: values for every kind of p") {
    Tensor a = tensor({{3, -4, 0}, {0, 0, 0}}, float64);
    check_values(norm(a, 2, {1}), {5, 0});
    CHECK(norm(a).item() == doctest::Approx(5));
    check_values(norm(a, 1, {1}), {7, 0});
    check_values(norm(a, kInf, {1}), {4, 0});
    check_values(norm(a, -kInf, {1}), {0, 0});
    check_values(norm(a, 0, {1}), {2, 0});  // nonzeros
    CHECK(norm(a, 0).item() == 2.0);
    CHECK(norm(a, 3).item() == doctest::Approx(std::cbrt(27.0 + 64.0)));
    CHECK(norm(a, 0.5).item() == doctest::Approx(std::pow(std::sqrt(3.0) + 2.0, 2)));
    CHECK(norm(tensor(-2.0, float64)).item() == 2.0);
    CHECK(norm(a, 2, {1}, true).shape() == Shape{2, 1});
    // No elements: 0, for inf too (as torch.norm).
    CHECK(norm(zeros({2, 0}, float64), kInf, {1}).to_vector() == std::vector<double>{0, 0});
    CHECK(norm(zeros({0}, float64)).item() == 0.0);
    CHECK(dist(tensor({1, 1}, float64), tensor({4, 5}, float64)).item() == doctest::Approx(5));
    CHECK(dist(tensor({1, 1}, float64), tensor({4, 5}, float64), kInf).item() == 4.0);
}

TEST_CASE("norm: the gradient at an all-zero input is 0, not NaN, as in PyTorch") {
    for (double p : {2.0, 3.0, 1.5, 1.0, 0.5, kInf}) {
        CAPTURE(p);
        Tensor z = zeros({2, 3}, float64).requires_grad_();
        norm(z, p, {1}).sum().backward();
        for (double g : z.grad().to_vector()) CHECK(g == 0.0);
    }
    // A zero entry beside nonzero ones gets 0 as well (for p < 1 the limit is infinite;
    // PyTorch gives 0 there too).
    Tensor x = tensor({0, 3, 4}, float64).requires_grad_();
    norm(x).backward();
    check_values(x.grad(), {0, 0.6, 0.8});
    x.zero_grad();
    norm(x, 0.5).backward();
    CHECK(x.grad().to_vector()[0] == 0.0);
    // Ties of inf: the gradient is shared, with the sign of each entry.
    Tensor t = tensor({1, -2, 2}, float64).requires_grad_();
    norm(t, kInf).backward();
    check_values(t.grad(), {0, -0.5, 0.5});
    // Second order at 0 stays finite.
    Tensor z = zeros({3}, float64).requires_grad_();
    TensorList g1 = grad({norm(z)}, {z}, {}, true, true);
    TensorList g2 = grad({g1[0].sum()}, {z}, {}, false, false, true);
    if (g2[0].defined()) {
        for (double e : g2[0].to_vector()) CHECK(std::isfinite(e));
    }
}

TEST_CASE("prod: values, int64, and the gradient with zeros") {
    Tensor a = tensor({{1, 2, 3}, {4, 0, 6}}, float64).requires_grad_();
    CHECK(prod(a).item() == 0.0);
    check_values(prod(a, 1), {6, 0});
    check_values(prod(a, 0, true), {4, 0, 18});
    CHECK(prod(a, -1, true).shape() == Shape{2, 1});
    prod(a, 1).sum().backward();
    check_values(a.grad(), {6, 3, 2, 0, 24, 0});  // the product of the others
    a.zero_grad();
    prod(a).backward();
    check_values(a.grad(), {0, 0, 0, 0, 144, 0});
    // Two zeros: every gradient is 0.
    Tensor b = tensor({0, 2, 0}, float64).requires_grad_();
    prod(b).backward();
    check_values(b.grad(), {0, 0, 0});
    // Empty: 1, as torch.
    CHECK(prod(zeros({0}, float64)).item() == 1.0);
    check_values(prod(zeros({2, 0}, float64), 1), {1, 1});
    CHECK(prod(tensor(3.0, float64), 0).item() == 3.0);
    // int64 stays int64 and wraps on overflow like PyTorch's.
    Tensor i = prod(tensor({{3, -4}, {5, 6}}, int64), 1);
    CHECK(i.dtype() == int64);
    CHECK(i.to_vector() == std::vector<double>{-12, 30});
    Tensor big = full({2}, 0.0, int64);
    big.mutable_data<std::int64_t>()(0) = std::int64_t(1) << 62;
    big.mutable_data<std::int64_t>()(1) = 4;
    CHECK(prod(big).item<std::int64_t>() == 0);  // 2^64 wraps to 0
}

}  // namespace xg::testing

// ops/random.hpp and ops/factories.hpp: registry rows (no gradients; error inputs; PyTorch
// fixtures for linspace and eye from tests/parity/gather_ops.py, none for the random draws:
// xgrad's generator is not PyTorch's) and statistical checks with fixed seeds: means and
// variances within a few standard errors over many draws, permutations, no repeats without
// replacement, the same values for the same seed.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>

#include "tests/error_of.hpp"
#include "tests/op_registry.hpp"

namespace xg::testing {
namespace {

using Samples = std::vector<Sample>;
using Errors = std::vector<ErrorCase>;

const char* kNoParity = "random draws: xgrad's generator is not PyTorch's, so values differ";

double mean_of(const std::vector<double>& v) {
    return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}
double var_of(const std::vector<double>& v) {
    const double m = mean_of(v);
    double s = 0.0;
    for (double x : v) s += (x - m) * (x - m);
    return s / static_cast<double>(v.size() - 1);
}
Tensor f64(const Shape& s) {
    return ones(s, float64);
}

XG_REGISTER_OP_INFO(
    randint_info,
    {"randint",
     [] {
         return Samples{
             {"[3,4] in [-5, 5)",
              {},
              [](const TensorList&) {
                  return randint(-5, 5, {3, 4});
              }},
             {"high only, float64", {}, [](const TensorList&) { return randint(7, {6}, float64); }},
             {"generator",
              {},
              [](const TensorList&) {
                  Generator g(3);
                  return randint(0, 2, {2, 2}, g);
              }},
             {"0-d", {}, [](const TensorList&) { return randint(10, {}); }},
         };
     },
     [] {
         return Errors{
             {"low == high", [] { randint(5, 5, {2}); }, "low 5 must be less than high 5"},
             {"high 0", [] { randint(0, {2}); }, "low 0 must be less than high 0"},
             {"huge shape",
              [] {
                  randint(0, 2, {std::size_t(1) << 62, 8});
              },
              "too many"},
         };
     },
     [] { return no_parity(kNoParity); }, false});

XG_REGISTER_OP_INFO(
    randperm_info, {"randperm",
                    [] {
                        return Samples{
                            {"10", {}, [](const TensorList&) { return randperm(10); }},
                            {"float64", {}, [](const TensorList&) { return randperm(5, float64); }},
                            {"0", {}, [](const TensorList&) { return randperm(0); }},
                        };
                    },
                    [] {
                        return Errors{
                            {"negative n", [] { randperm(-1); }, "n must be non-negative, got -1"},
                            {"float32 beyond 2^24", [] { randperm((1 << 24) + 1, float32); },
                             "n 16777217 is too large for float32"},
                            {"huge n", [] { randperm(std::int64_t(1) << 50); }, "too many"},
                        };
                    },
                    [] { return no_parity(kNoParity); }, false});

XG_REGISTER_OP_INFO(
    multinomial_info,
    {"multinomial",
     [] {
         return Samples{
             {"1-D without replacement",
              {tensor({0.1, 0.5, 0.4})},
              [](const TensorList& x) { return multinomial(x[0], 2); }},
             {"2-D with replacement",
              {tensor({{1, 0, 3}, {2, 2, 0}}, float64)},
              [](const TensorList& x) { return multinomial(x[0], 5, true); }},
             {"requires grad input",
              {rand64({4}, 0.1, 1.0)},
              [](const TensorList& x) { return multinomial(x[0], 4); }},
         };
     },
     [] {
         return Errors{
             {"negative weight",
              [] {
                  multinomial(tensor({0.5, -0.1}), 1);
              },
              "weights must be finite and non-negative, got -0.1",
              {"category 1"}},
             {"inf weight",
              [] {
                  multinomial(tensor({1.0, std::numeric_limits<double>::infinity()}), 1);
              },
              "got inf"},
             {"NaN weight",
              [] {
                  multinomial(tensor({1.0, std::numeric_limits<double>::quiet_NaN()}), 1);
              },
              "got nan"},
             {"all-zero row",
              [] {
                  multinomial(tensor({{1, 1}, {0, 0}}), 1);
              },
              "row 1 has no positive weight"},
             {"too many samples without replacement",
              [] {
                  multinomial(tensor({1, 1}), 3);
              },
              "cannot draw 3 samples without replacement from 2 categories"},
             {"too few nonzero weights",
              [] {
                  multinomial(tensor({1, 0, 1}), 3);
              },
              "row 0 has 2 categories of nonzero weight, fewer than the 3 samples"},
             {"num_samples 0",
              [] {
                  multinomial(tensor({1, 1}), 0);
              },
              "num_samples must be positive, got 0"},
             {"3-D",
              [] {
                  multinomial(ones({1, 1, 2}), 1);
              },
              "must be 1-D or 2-D"},
             {"int64 weights", [] { multinomial(arange(3, int64), 1); }, "float32 or float64"},
         };
     },
     [] { return no_parity(kNoParity); }, false});

XG_REGISTER_OP_INFO(
    bernoulli_info,
    {"bernoulli",
     [] {
         return Samples{
             {"[2,3]",
              {rand64({2, 3}, 0.0, 1.0)},
              [](const TensorList& x) { return bernoulli(x[0]); }},
             {"float32 0-d", {full({}, 0.3)}, [](const TensorList& x) { return bernoulli(x[0]); }},
             {"generator",
              {tensor({0.0, 1.0, 0.5})},
              [](const TensorList& x) {
                  Generator g(1);
                  return bernoulli(x[0], g);
              }},
         };
     },
     [] {
         return Errors{
             {"p above 1",
              [] {
                  bernoulli(tensor({0.5, 1.5}));
              },
              "probabilities must be in [0, 1], got 1.5 at element 1"},
             {"NaN", [] { bernoulli(tensor({std::numeric_limits<double>::quiet_NaN()})); },
              "got nan"},
             {"int64", [] { bernoulli(arange(2, int64)); }, "float32 or float64"},
             {"undefined", [] { bernoulli(Tensor()); }, "undefined"},
         };
     },
     [] { return no_parity(kNoParity); }, false});

XG_REGISTER_OP_INFO(normal_info,
                    {"normal",
                     [] {
                         return Samples{
                             {"[3,4]",
                              {},
                              [](const TensorList&) {
                                  return normal(1.0, 2.0, {3, 4});
                              }},
                             {"float64, std 0",
                              {},
                              [](const TensorList&) { return normal(-1.0, 0.0, {2}, float64); }},
                             {"generator",
                              {},
                              [](const TensorList&) {
                                  Generator g(2);
                                  return normal(0.0, 1.0, {2, 2}, g);
                              }},
                         };
                     },
                     [] {
                         return Errors{
                             {"negative std", [] { normal(0.0, -1.0, {2}); },
                              "std must be finite and >= 0"},
                             {"inf mean",
                              [] { normal(std::numeric_limits<double>::infinity(), 1.0, {2}); },
                              "mean must be finite, got inf"},
                             {"int64", [] { normal(0.0, 1.0, {2}, int64); }, "float32 or float64"},
                         };
                     },
                     [] { return no_parity(kNoParity); }, false});

XG_REGISTER_OP_INFO(uniform__info, {"uniform_",
                                    [] {
                                        return Samples{
                                            {"[3,4] in [-1, 2)",
                                             {},
                                             [](const TensorList&) {
                                                 Tensor t = zeros({3, 4}, float64);
                                                 return uniform_(t, -1.0, 2.0);
                                             }},
                                            {"defaults, float32",
                                             {},
                                             [](const TensorList&) {
                                                 Tensor t = zeros({5});
                                                 return uniform_(t);
                                             }},
                                            {"generator",
                                             {},
                                             [](const TensorList&) {
                                                 Generator g(4);
                                                 Tensor t = zeros({2, 2});
                                                 return uniform_(t, 0.0, 1.0, g);
                                             }},
                                        };
                                    },
                                    [] {
                                        return Errors{
                                            {"from above to",
                                             [] {
                                                 Tensor t = f64({2});
                                                 uniform_(t, 2.0, 1.0);
                                             },
                                             "from 2 is greater than to 1"},
                                            {"leaf that requires grad",
                                             [] {
                                                 Tensor t = f64({2}).requires_grad_();
                                                 uniform_(t);
                                             },
                                             "requires grad while grad mode is on",
                                             {"a leaf"}},
                                            {"int64",
                                             [] {
                                                 Tensor t = zeros({2}, int64);
                                                 uniform_(t);
                                             },
                                             "float32 or float64"},
                                            {"infinite bound",
                                             [] {
                                                 Tensor t = f64({2});
                                                 uniform_(t, 0.0,
                                                          std::numeric_limits<double>::infinity());
                                             },
                                             "to must be finite"},
                                            {"range overflows",
                                             [] {
                                                 Tensor t = f64({2});
                                                 uniform_(t, -1e308, 1e308);
                                             },
                                             "overflows"},
                                            {"beyond float32",
                                             [] {
                                                 Tensor t = zeros({2});
                                                 uniform_(t, 0.0, 1e39);
                                             },
                                             "must fit in float32"},
                                            {"undefined",
                                             [] {
                                                 Tensor t;
                                                 uniform_(t);
                                             },
                                             "undefined"},
                                        };
                                    },
                                    [] { return no_parity(kNoParity); }, false});

XG_REGISTER_OP_INFO(normal__info, {"normal_",
                                   [] {
                                       return Samples{
                                           {"[3,4]",
                                            {},
                                            [](const TensorList&) {
                                                Tensor t = zeros({3, 4}, float64);
                                                return normal_(t, 1.0, 0.5);
                                            }},
                                           {"defaults, float32",
                                            {},
                                            [](const TensorList&) {
                                                Tensor t = zeros({5});
                                                return normal_(t);
                                            }},
                                           {"generator",
                                            {},
                                            [](const TensorList&) {
                                                Generator g(5);
                                                Tensor t = zeros({2});
                                                return normal_(t, 0.0, 1.0, g);
                                            }},
                                       };
                                   },
                                   [] {
                                       return Errors{
                                           {"negative std",
                                            [] {
                                                Tensor t = f64({2});
                                                normal_(t, 0.0, -2.0);
                                            },
                                            "std must be finite and >= 0, got -2"},
                                           {"non-leaf that requires grad",
                                            [] {
                                                Tensor t = mul(f64({2}).requires_grad_(), 2.0);
                                                normal_(t);
                                            },
                                            "requires grad while grad mode is on",
                                            {"grad_fn"}},
                                           {"int64",
                                            [] {
                                                Tensor t = zeros({2}, int64);
                                                normal_(t);
                                            },
                                            "float32 or float64"},
                                       };
                                   },
                                   [] { return no_parity(kNoParity); }, false});

// ---- factories ----

XG_REGISTER_OP_INFO(
    tensor_info,
    {"tensor",
     [] {
         return Samples{
             {"vector<double> as [2,3]",
              {},
              [](const TensorList&) {
                  return tensor(std::vector<double>{1, 2, 3, 4, 5, 6}, Shape{2, 3});
              }},
             {"vector<float>",
              {},
              [](const TensorList&) {
                  return tensor(std::vector<float>{1.5f, 2.5f});
              }},
             {"vector<int64_t> as float64",
              {},
              [](const TensorList&) {
                  return tensor(std::vector<std::int64_t>{1, 2}, float64);
              }},
             {"vector<int> 0-d",
              {},
              [](const TensorList&) { return tensor(std::vector<int>{7}, Shape{}); }},
         };
     },
     [] {
         return Errors{
             {"values do not fill the shape",
              [] {
                  tensor(std::vector<double>{1, 2, 3, 4, 5}, Shape{2, 3});
              },
              "5 values do not fill shape [2, 3] (6 elements)"},
             {"NaN to int64",
              [] {
                  tensor(std::vector<double>{1, std::numeric_limits<double>::quiet_NaN()}, int64);
              },
              "value nan cannot be represented as int64"},
             {"beyond int64", [] { tensor(std::vector<float>{1e19f}, int64); },
              "cannot be represented as int64"},
             {"overflowing shape",
              [] {
                  tensor(std::vector<int>{}, Shape{std::size_t(1) << 62, 16, 0});
              },
              "too many"},
         };
     },
     [] { return no_parity("a copy of the given values: checked by hand in this file"); }, false});

XG_REGISTER_OP_INFO(
    eye_info, {"eye",
               [] {
                   return Samples{
                       {"3", {}, [](const TensorList&) { return eye(3); }},
                       {"2x4 float64", {}, [](const TensorList&) { return eye(2, 4, float64); }},
                       {"int64", {}, [](const TensorList&) { return eye(2, int64); }},
                       {"0", {}, [](const TensorList&) { return eye(0); }},
                   };
               },
               [] {
                   return Errors{
                       {"negative n", [] { eye(-1); }, "n must be non-negative, got -1"},
                       {"negative m", [] { eye(2, -3); }, "m must be non-negative, got -3"},
                       {"huge", [] { eye(std::int64_t(1) << 40); }, "too many"},
                   };
               },
               [] {
                   return Parity{{{"gather_eye_3x5", 0,
                                   [](const TensorList&) { return eye(3, 5, float64); }}}};
               },
               false});

XG_REGISTER_OP_INFO(
    linspace_info,
    {"linspace",
     [] {
         return Samples{
             {"11 steps float32", {}, [](const TensorList&) { return linspace(-1.3, 2.9, 11); }},
             {"1 step", {}, [](const TensorList&) { return linspace(2.0, 5.0, 1, float64); }},
             {"0 steps", {}, [](const TensorList&) { return linspace(2.0, 5.0, 0); }},
             {"int64", {}, [](const TensorList&) { return linspace(-3, 10, 6, int64); }},
         };
     },
     [] {
         return Errors{
             {"negative steps", [] { linspace(0, 1, -1); }, "steps must be non-negative, got -1"},
             {"NaN end", [] { linspace(0, std::numeric_limits<double>::quiet_NaN(), 3); },
              "start and end must be finite"},
             {"int64 beyond range", [] { linspace(0, 1e19, 3, int64); },
              "cannot be represented as int64"},
             {"huge steps", [] { linspace(0, 1, std::int64_t(1) << 60); }, "too many"},
         };
     },
     [] {
         return Parity{{{"gather_linspace_f32", 0,
                         [](const TensorList&) { return linspace(-1.3, 2.9, 11, float32); }},
                        {"gather_linspace_f64", 0,
                         [](const TensorList&) { return linspace(0.1, 1.0, 7, float64); }},
                        {"gather_linspace_i64", 0,
                         [](const TensorList&) { return linspace(-3, 10, 6, int64); }}}};
     },
     false});

XG_REGISTER_OP_INFO(empty_info,
                    {"empty",
                     [] {
                         return Samples{
                             {"[2,3]",
                              {},
                              [](const TensorList&) {
                                  return empty({2, 3});
                              }},
                             {"int64 0-d", {}, [](const TensorList&) { return empty({}, int64); }},
                             {"[0, 5]",
                              {},
                              [](const TensorList&) {
                                  return empty({0, 5}, float64);
                              }},
                         };
                     },
                     [] {
                         return Errors{
                             {"overflowing shape",
                              [] {
                                  empty({std::size_t(1) << 40, std::size_t(1) << 40});
                              },
                              "too many"},
                         };
                     },
                     [] { return no_parity("values unspecified in PyTorch (zeros in xgrad)"); },
                     false});

// ---- statistics with fixed seeds ----

TEST_CASE("randint: uniform over [low, high), every value hit, the same for the same seed") {
    Generator g(123);
    const auto v = randint(-3, 7, {100000}, g).to_vector();
    std::vector<double> count(10, 0.0);
    CHECK(std::all_of(v.begin(), v.end(),
                      [](double x) { return x >= -3 && x < 7 && x == std::floor(x); }));
    for (double x : v) count[static_cast<std::size_t>(std::clamp(x + 3, 0.0, 9.0))] += 1;
    // Each frequency 0.1 with standard error 0.00095: within 5 of them.
    for (double c : count) CHECK(std::abs(c / 1e5 - 0.1) < 0.005);
    CHECK(std::abs(mean_of(v) - 1.5) < 0.05);
    // The full int64 range: no overflow (the sanitizer builds check) and both signs.
    const auto w = randint(std::numeric_limits<std::int64_t>::min(),
                           std::numeric_limits<std::int64_t>::max(), {1000}, g)
                       .to_vector();
    CHECK(std::count_if(w.begin(), w.end(), [](double x) { return x < 0; }) > 400);
    CHECK(std::count_if(w.begin(), w.end(), [](double x) { return x > 0; }) > 400);
    // Same seed, same values; the global generator is untouched by the Generator form.
    Generator a(7), b(7);
    manual_seed(99);
    const auto before = rand({4}).to_vector();
    manual_seed(99);
    CHECK(randint(100, {50}, a).to_vector() == randint(100, {50}, b).to_vector());
    CHECK(rand({4}).to_vector() == before);
    manual_seed(5);
    const auto r1 = randint(0, 1000, {20}).to_vector();
    manual_seed(5);
    CHECK(randint(0, 1000, {20}).to_vector() == r1);
    CHECK(randint(0, 1000, {20}).dtype() == int64);
}

TEST_CASE("randperm: a permutation; each value equally likely in each place") {
    Generator g(1);
    auto p = randperm(1000, g).to_vector();
    std::vector<double> sorted = p;
    std::sort(sorted.begin(), sorted.end());
    std::vector<double> iota(1000);
    std::iota(iota.begin(), iota.end(), 0.0);
    CHECK(sorted == iota);
    CHECK(p != sorted);
    std::vector<double> first(4, 0.0);
    for (int i = 0; i < 20000; ++i)
        first[static_cast<std::size_t>(randperm(4, g).to_vector()[0])] += 1;
    for (double c : first) CHECK(std::abs(c / 20000 - 0.25) < 0.02);
    CHECK(randperm(0).shape() == Shape{0});
    CHECK(randperm(3, float32).dtype() == float32);
}

TEST_CASE("multinomial: frequencies follow the weights; no repeats without replacement") {
    Generator g(11);
    Tensor w = tensor({1.0, 0.0, 3.0, 6.0}, float64);
    const auto v = multinomial(w, 50000, true, g).to_vector();
    std::vector<double> count(4, 0.0);
    for (double x : v) count[static_cast<std::size_t>(x)] += 1;
    CHECK(count[1] == 0);  // zero weight: never drawn
    CHECK(std::abs(count[0] / 50000 - 0.1) < 0.01);
    CHECK(std::abs(count[2] / 50000 - 0.3) < 0.01);
    CHECK(std::abs(count[3] / 50000 - 0.6) < 0.01);
    // Without replacement: distinct within each row, zero weights never drawn, all categories
    // when num_samples is their number.
    Tensor rows = tensor({{1, 2, 0, 4, 5}, {5, 0, 1, 1, 1}}, float64);
    for (int t = 0; t < 200; ++t) {
        Tensor s = multinomial(rows, 4, false, g);
        REQUIRE(s.shape() == Shape{2, 4});
        const auto sv = s.to_vector();
        for (std::size_t r = 0; r < 2; ++r) {
            std::set<double> seen(sv.begin() + 4 * r, sv.begin() + 4 * r + 4);
            CHECK(seen.size() == 4);
            CHECK(seen.count(r == 0 ? 2.0 : 1.0) == 0);
        }
    }
    // The first draw without replacement follows the weights; the heaviest leads most often.
    std::vector<double> lead(3, 0.0);
    for (int t = 0; t < 20000; ++t)
        lead[static_cast<std::size_t>(
            multinomial(tensor({1.0, 1.0, 2.0}), 3, false, g).to_vector()[0])] += 1;
    CHECK(std::abs(lead[2] / 20000 - 0.5) < 0.02);
    CHECK(multinomial(tensor({0.2, 0.8}), 1).dtype() == int64);
    // Weights near the largest double: scaled by the row's largest, the sums do not overflow.
    check_values(multinomial(tensor({1e308, 1e308}, float64), 2, false, g).sum(), {1});
}

TEST_CASE("bernoulli, normal, uniform_, normal_: moments within a few standard errors") {
    Generator g(2024);
    const auto b = bernoulli(full({20000}, 0.3, float64), g).to_vector();
    CHECK(std::abs(mean_of(b) - 0.3) < 0.015);
    CHECK(std::all_of(b.begin(), b.end(), [](double x) { return x == 0.0 || x == 1.0; }));
    CHECK(bernoulli(zeros({100}), g).sum().item() == 0.0);
    CHECK(bernoulli(ones({100}), g).sum().item() == 100.0);

    const auto n = normal(2.0, 3.0, {40000}, g, float64).to_vector();
    CHECK(std::abs(mean_of(n) - 2.0) < 0.05);
    CHECK(std::abs(var_of(n) - 9.0) < 0.3);

    Tensor u = zeros({40000}, float64);
    const auto v0 = u.version();
    uniform_(u, -1.0, 3.0, g);
    CHECK(u.version() == v0 + 1);
    const auto uv = u.to_vector();
    CHECK(std::all_of(uv.begin(), uv.end(), [](double x) { return x >= -1.0 && x < 3.0; }));
    CHECK(std::abs(mean_of(uv) - 1.0) < 0.03);
    CHECK(std::abs(var_of(uv) - 16.0 / 12.0) < 0.05);

    Tensor m = zeros({40000});
    normal_(m, -1.0, 0.5, g);
    const auto mv = m.to_vector();
    CHECK(std::abs(mean_of(mv) + 1.0) < 0.02);
    CHECK(std::abs(var_of(mv) - 0.25) < 0.01);

    // A parameter is filled under NoGradGuard, as nn::init does.
    Tensor p = zeros({3}, float64).requires_grad_();
    {
        NoGradGuard guard;
        uniform_(p, 0.5, 0.5);
    }
    check_values(p, {0.5, 0.5, 0.5});
    // A refused fill changes nothing and draws nothing.
    Generator h(9), h2(9);
    CHECK_FALSE(error_of([&] { uniform_(p, 0.0, 1.0, h); }).empty());
    CHECK(h.next_u64() == h2.next_u64());
    check_values(p, {0.5, 0.5, 0.5});
}

TEST_CASE("random ops: the same seed gives the same values") {
    auto draw = [] {
        std::vector<double> all;
        for (const Tensor& t :
             {randint(0, 9, {5}), randperm(6), multinomial(tensor({1.0, 2.0, 3.0}), 2),
              bernoulli(full({5}, 0.5)), normal(0.0, 1.0, {5})}) {
            auto v = t.to_vector();
            all.insert(all.end(), v.begin(), v.end());
        }
        Tensor u = zeros({3});
        uniform_(u);
        Tensor n = zeros({3});
        normal_(n);
        for (const Tensor& t : {u, n}) {
            auto v = t.to_vector();
            all.insert(all.end(), v.begin(), v.end());
        }
        return all;
    };
    manual_seed(42);
    const auto a = draw();
    manual_seed(42);
    CHECK(draw() == a);
    manual_seed(43);
    CHECK(draw() != a);
}

TEST_CASE("factories: tensor from a vector, eye, linspace, empty") {
    Tensor a = tensor(std::vector<double>{1, 2, 3, 4, 5, 6}, Shape{2, 3});
    CHECK(a.dtype() == float64);  // libtorch's rule: the element type's dtype
    CHECK(a.shape() == Shape{2, 3});
    check_values(a, {1, 2, 3, 4, 5, 6});
    CHECK(tensor(std::vector<float>{1, 2}).dtype() == float32);
    CHECK(tensor(std::vector<int>{1, 2}).dtype() == int64);
    CHECK(tensor(std::vector<std::int64_t>{1, 2}).shape() == Shape{2});
    check_values(tensor(std::vector<double>{-2.7, 2.7}, int64), {-2, 2});  // toward zero
    CHECK(tensor(std::vector<int>{3}, Shape{}).item<std::int64_t>() == 3);
    CHECK(tensor(std::vector<double>{}).shape() == Shape{0});
    // The nested-list form is still chosen for braced lists.
    CHECK(tensor({1, 2, 3}).dtype() == float32);

    check_values(eye(2, 3), {1, 0, 0, 0, 1, 0});
    CHECK(eye(3).shape() == Shape{3, 3});
    CHECK(eye(2, int64).dtype() == int64);
    check_values(linspace(0, 1, 5, float64), {0, 0.25, 0.5, 0.75, 1});
    auto l = linspace(-1.3, 2.9, 11).to_vector();
    CHECK(l.front() == static_cast<double>(-1.3f));
    CHECK(l.back() == static_cast<double>(2.9f));
    check_values(linspace(2, 5, 1), {2});
    check_values(empty({2, 2}, int64), {0, 0, 0, 0});
}

}  // namespace
}  // namespace xg::testing

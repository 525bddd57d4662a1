// Reductions and the broadcast pair sum_to/expand: OpInfos and forward values, tie-splitting
// in max/min, var's correction, argmax/argmin indices.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "tests/index_parity.hpp"
#include "tests/oom_testing.hpp"
#include "tests/op_registry.hpp"

namespace xg::testing {
namespace {

using Samples = std::vector<Sample>;
using Errors = std::vector<ErrorCase>;

Tensor f64(const Shape& s) {
    return ones(s, float64);
}

// Samples for a reduction f(x, dims, keepdim): all dims, one dim, several dims, negative dims,
// keepdim, size-1 dims, 0-d input.
using ReduceFn = std::function<Tensor(const Tensor&, const Dims&, bool)>;
Samples reduce_samples(const ReduceFn& f, const std::function<Tensor(const Tensor&)>& all) {
    auto s = [f](Dims d, bool k) {
        return TensorFn([f, d, k](const TensorList& x) { return f(x[0], d, k); });
    };
    return {
        {"all elements", {rand64({2, 3, 4})}, [all](const TensorList& x) { return all(x[0]); }},
        {"all dims listed, keepdim", {rand64({2, 3})}, s({0, 1}, true)},
        {"dim 1", {rand64({2, 3, 4})}, s({1}, false)},
        {"dims 0 and 2", {rand64({2, 3, 4})}, s({0, 2}, false)},
        {"negative dim -1, keepdim", {rand64({2, 3, 4})}, s({-1}, true)},
        {"dims -3 and -2, keepdim", {rand64({2, 3, 4})}, s({-3, -2}, true)},
        {"size-1 dim reduced", {rand64({2, 1, 3})}, s({1}, false)},
        {"size-1 dims kept", {rand64({1, 3, 1})}, s({1}, true)},
        {"0-d input, dim 0", {rand64({})}, s({0}, false)},
        {"0-d input, all", {rand64({})}, [all](const TensorList& x) { return all(x[0]); }},
    };
}

// Errors every reduction over dims shares.
Errors reduce_errors(const ReduceFn& f, bool int64_ok = false) {
    Errors e = {
        {"dim out of range",
         [f] {
             f(f64({2, 3}), {2}, false);
         },
         "dim 2 is out of range for a tensor of 2 dims"},
        {"negative dim out of range",
         [f] {
             f(f64({2, 3}), {-3}, false);
         },
         "dim -3 is out of range"},
        {"duplicated dims",
         [f] {
             f(f64({2, 3}), {1, -1}, false);
         },
         "dim 1 appears more than once in the list of dims [1, -1]"},
        {"undefined input", [f] { f(Tensor(), {0}, false); }, "undefined"},
    };
    if (!int64_ok)
        e.push_back({"int64 input", [f] { f(ones({2, 3}, int64), {0}, false); }, "got int64"});
    return e;
}

XG_REGISTER_OP_INFO(
    sum_info,
    {"sum",
     [] {
         return reduce_samples([](auto& a, auto& d, bool k) { return sum(a, d, k); },
                               [](auto& a) { return a.sum(); });
     },
     [] {
         auto e = reduce_errors([](auto& a, auto& d, bool k) { return sum(a, d, k); }, true);
         e.push_back({"dim INT64_MIN",
                      [] {
                          sum(f64({2, 3}), {std::numeric_limits<std::int64_t>::min()});
                      },
                      "dim -9223372036854775808 is out of range"});
         if (!kAsan) {
             // Past the limit check: a failure inside the vectorized dim-wise kernel reaches
             // the caller, naming the op.
             e.push_back({"out of memory inside the dim-wise kernel",
                          [] {
                              Tensor x = zeros({2, std::size_t(1) << 24});  // 128 MB; the sum
                              empty_cache();  // needs 64 MB, and no cached buffer serves it
                              with_address_space_headroom(
                                  std::size_t(16) << 20, [&] { sum(x, {0}); },
                                  std::size_t(64) << 20);
                          },
                          "out of memory"});
         }
         return e;
     },
     [] {
         return Parity{{{"core_sum_all", 1, [](const TensorList& x) { return sum(x[0]); }},
                        {"core_sum_dim1", 1, [](const TensorList& x) { return sum(x[0], {1}); }},
                        {"core_sum_dims02_keepdim", 1,
                         [](const TensorList& x) {
                             return sum(x[0], {0, 2}, true);
                         }},
                        {"core_sum_dimneg1_keepdim", 1,
                         [](const TensorList& x) { return sum(x[0], {-1}, true); }}}};
     }});

XG_REGISTER_OP_INFO(
    mean_info,
    {"mean",
     [] {
         return reduce_samples([](auto& a, auto& d, bool k) { return a.mean(d, k); },
                               [](auto& a) { return mean(a); });
     },
     [] { return reduce_errors([](auto& a, auto& d, bool k) { return mean(a, d, k); }, true); },
     [] {
         return Parity{{{"core_mean_all", 1, [](const TensorList& x) { return mean(x[0]); }},
                        {"core_mean_dim0", 1, [](const TensorList& x) { return mean(x[0], {0}); }},
                        {"core_mean_dims12_keepdim", 1, [](const TensorList& x) {
                             return mean(x[0], {1, 2}, true);
                         }}}};
     }});

Parity amax_parity() {
    return Parity{
        {{"core_amax_dim1", 1, [](const TensorList& x) { return amax(x[0], {1}); }},
         {"core_amax_dim2_keepdim", 1, [](const TensorList& x) { return amax(x[0], {2}, true); }}}};
}

Parity amin_parity() {
    return Parity{{{"core_amin_dim0", 1, [](const TensorList& x) { return amin(x[0], {0}); }},
                   {"core_amin_dimneg1_keepdim", 1,
                    [](const TensorList& x) { return amin(x[0], {-1}, true); }}}};
}

// amax/amin samples are random, so ties (where the gradient is not defined) do not occur.
#define XG_EXTREME_INFO(NAME)                                                                      \
    XG_REGISTER_OP_INFO(                                                                           \
        NAME##_info,                                                                               \
        {#NAME,                                                                                    \
         [] {                                                                                      \
             return reduce_samples([](auto& a, auto& d, bool k) { return NAME(a, d, k); },         \
                                   [](auto& a) { return NAME(a); });                               \
         },                                                                                        \
         [] {                                                                                      \
             auto e = reduce_errors([](auto& a, auto& d, bool k) { return NAME(a, d, k); }, true); \
             e.push_back({"empty input", [] { NAME(zeros({0}, float64)); }, "zero elements"});     \
             e.push_back({"empty dim",                                                             \
                          [] {                                                                     \
                              NAME(zeros({2, 0}, float64), {1});                                   \
                          },                                                                       \
                          "cannot reduce over zero elements (input shape [2, 0], dims [1])"});     \
             return e;                                                                             \
         },                                                                                        \
         NAME##_parity})
XG_EXTREME_INFO(amax);
XG_EXTREME_INFO(amin);
#undef XG_EXTREME_INFO

// max/min: of all elements, or (values, indices) along one dim.
OpInfo extreme_dim_info(bool is_max) {
    const char* name = is_max ? "max" : "min";
    auto all = [is_max](const TensorList& x) { return is_max ? max(x[0]) : min(x[0]); };
    auto at = [is_max](std::int64_t d, bool k) {
        return TensorFn([is_max, d, k](const TensorList& x) {
            return std::get<0>(is_max ? max(x[0], d, k) : min(x[0], d, k));
        });
    };
    auto samples = [all, at] {
        return Samples{
            {"all elements", {rand64({2, 3, 4})}, all},
            {"dim 1", {rand64({2, 3, 4})}, at(1, false)},
            {"dim -1, keepdim", {rand64({3, 4})}, at(-1, true)},
            {"dim 0 of [5]", {rand64({5})}, at(0, false)},
            {"size-1 dim", {rand64({2, 1, 3})}, at(1, false)},
            {"0-d, dim 0", {rand64({})}, at(0, true)},
            {"0-d, all", {rand64({})}, all},
        };
    };
    auto errors = [is_max] {
        auto dim_of = [is_max](const Tensor& a, std::int64_t d) {
            return is_max ? max(a, d) : min(a, d);
        };
        return Errors{
            {"dim out of range",
             [dim_of] {
                 dim_of(f64({2, 3}), 2);
             },
             "dim 2 is out of range for a tensor of 2 dims"},
            {"dim -3 out of range",
             [dim_of] {
                 dim_of(f64({2, 3}), -3);
             },
             "dim -3 is out of range for a tensor of 2 dims"},
            {"empty dim",
             [dim_of] {
                 dim_of(zeros({2, 0}, float64), 1);
             },
             "cannot reduce over zero elements (dim 1 has size 0, input shape [2, 0])"},
            {"empty input, all elements", [is_max] { is_max ? max(zeros({0})) : min(zeros({0})); },
             "cannot reduce over zero elements (input shape [0]"},
            {"undefined input, dim", [dim_of] { dim_of(Tensor(), 0); }, "undefined"},
            {"undefined input", [is_max] { is_max ? max(Tensor()) : min(Tensor()); }, "undefined"},
        };
    };
    auto parity = [is_max] {
        auto f = [is_max](std::int64_t d, bool k) {
            return TupleFn([is_max, d, k](const TensorList& x) {
                return is_max ? max(x[0], d, k) : min(x[0], d, k);
            });
        };
        if (is_max)
            return Parity{{{"core_max_all", 1, [](const TensorList& x) { return max(x[0]); }},
                           indexed_case("rs_max_dim1", 1, f(1, false)),
                           indexed_case("rs_max_dimneg1_keepdim", 1, f(-1, true))}};
        return Parity{{{"core_min_all", 1, [](const TensorList& x) { return min(x[0]); }},
                       indexed_case("rs_min_dim0", 1, f(0, false)),
                       indexed_case("rs_min_dim1_keepdim", 1, f(1, true))}};
    };
    return OpInfo{name, samples, errors, parity};
}

static Register max_info{extreme_dim_info(true)};
static Register min_info{extreme_dim_info(false)};

XG_REGISTER_OP_INFO(
    var_info,
    {"var",
     [] {
         auto s = [](Dims d, std::int64_t c, bool k) {
             return TensorFn([d, c, k](const TensorList& x) { return var(x[0], d, c, k); });
         };
         return Samples{
             {"all elements", {rand64({2, 3, 4})}, [](const TensorList& x) { return var(x[0]); }},
             {"all elements, correction 0",
              {rand64({5})},
              [](const TensorList& x) { return var(x[0], {}, 0); }},
             {"dim 1", {rand64({2, 3, 4})}, s({1}, 1, false)},
             {"dims 0 and 2, keepdim", {rand64({2, 3, 4})}, s({0, 2}, 1, true)},
             {"negative dim -1, correction 0", {rand64({3, 4})}, s({-1}, 0, false)},
             {"correction 2", {rand64({2, 5})}, s({1}, 2, true)},
             {"size-1 dims kept", {rand64({1, 4, 1})}, s({1}, 1, true)},
         };
     },
     [] {
         auto e = reduce_errors([](auto& a, auto& d, bool k) { return var(a, d, 1, k); });
         e.push_back({"int64 input, all elements", [] { var(ones({2}, int64)); },
                      "argument 'input' must be float32 or float64, got int64"});
         e.push_back({"one element, correction 1", [] { var(f64({1})); },
                      "1 elements per reduction (input shape [1]) with correction 1 leave N - "
                      "correction = 0"});
         e.push_back({"dim of size 2, correction 2",
                      [] {
                          var(f64({3, 2}), Dims{1}, 2);
                      },
                      "N - correction = 0"});
         e.push_back(
             {"empty input", [] { var(zeros({0}, float64), {}, 0); }, "N - correction = 0"});
         return e;
     },
     [] {
         return Parity{
             {{"core_var_all", 1, [](const TensorList& x) { return var(x[0]); }},
              {"core_var_all_c0", 1, [](const TensorList& x) { return var(x[0], {}, 0); }},
              {"core_var_dim1", 1, [](const TensorList& x) { return var(x[0], {1}, 1); }},
              {"core_var_dim2_c0_keepdim", 1,
               [](const TensorList& x) { return var(x[0], {2}, 0, true); }},
              {"core_var_dims01", 1, [](const TensorList& x) {
                   return var(x[0], {0, 1}, 1);
               }}}};
     }});

XG_REGISTER_OP_INFO(
    std_info,
    {"std",
     [] {
         auto s = [](Dims d, std::int64_t c, bool k) {
             return TensorFn([d, c, k](const TensorList& x) { return std(x[0], d, c, k); });
         };
         return Samples{
             {"all elements", {rand64({2, 3, 4})}, [](const TensorList& x) { return std(x[0]); }},
             {"all elements, correction 0",
              {rand64({5})},
              [](const TensorList& x) { return std(x[0], {}, 0); }},
             {"dim 1", {rand64({2, 3, 4})}, s({1}, 1, false)},
             {"dims 0 and 2, keepdim", {rand64({2, 3, 4})}, s({0, 2}, 1, true)},
             {"negative dim -1, correction 0", {rand64({3, 4})}, s({-1}, 0, false)},
             {"size-1 dims kept", {rand64({1, 4, 1})}, s({1}, 1, true)},
             {"0-d input, correction 0",
              {rand64({})},
              s({0}, 0, false),
              GradcheckOptions().allow_all_zero(true)},
         };
     },
     [] {
         auto e = reduce_errors([](auto& a, auto& d, bool k) { return std(a, d, 1, k); });
         e.push_back({"one element, correction 1", [] { std(f64({1})); },
                      "1 elements per reduction (input shape [1]) with correction 1 leave N - "
                      "correction = 0"});
         e.push_back(
             {"empty input", [] { std(zeros({0}, float64), {}, 0); }, "N - correction = 0"});
         e.push_back({"correction INT64_MIN",
                      [] { std(f64({3}), {}, std::numeric_limits<std::int64_t>::min()); },
                      "with correction -9223372036854775808"});
         return e;
     },
     [] {
         return Parity{{{"rs_std_all", 1, [](const TensorList& x) { return std(x[0]); }},
                        {"rs_std_dim1", 1, [](const TensorList& x) { return std(x[0], {1}); }},
                        {"rs_std_dim2_c0_keepdim", 1,
                         [](const TensorList& x) { return std(x[0], {2}, 0, true); }}}};
     }});

XG_REGISTER_OP_INFO(
    sum_to_info,
    {"sum_to",
     [] {
         auto s = [](Shape to) {
             return TensorFn([to](const TensorList& x) { return sum_to(x[0], to); });
         };
         return Samples{
             {"[2,3] to [3]", {rand64({2, 3})}, s({3})},
             {"[2,3] to [2,1]", {rand64({2, 3})}, s({2, 1})},
             {"[2,3,4] to [1,4]", {rand64({2, 3, 4})}, s({1, 4})},
             {"[2,3] to 0-d", {rand64({2, 3})}, s({})},
             {"[1,3] to [1,1]", {rand64({1, 3})}, s({1, 1})},
             {"same shape",
              {rand64({2, 3})},
              [](const TensorList& x) {
                  return sum_to(x[0] * 2.0, {2, 3});
              }},
         };
     },
     [] {
         return Errors{
             {"shape that does not broadcast",
              [] {
                  sum_to(f64({2, 3}), {4});
              },
              "cannot sum shape [2, 3] down to [4]"},
             {"more dims than the input",
              [] {
                  sum_to(f64({3}), {2, 3});
              },
              "[3] down to [2, 3]"},
             {"int64 input",
              [] {
                  sum_to(ones({2, 3}, int64), {3});
              },
              "got int64"},
             {"undefined input", [] { sum_to(Tensor(), {3}); }, "undefined"},
         };
     },
     [] {
         return no_parity("the adjoint of broadcasting, covered by every broadcasting parity case");
     }});

XG_REGISTER_OP_INFO(
    expand_info,
    {"expand",
     [] {
         auto s = [](Shape to) {
             return TensorFn([to](const TensorList& x) { return expand(x[0], to); });
         };
         return Samples{
             {"[3] to [2,3]", {rand64({3})}, s({2, 3})},
             {"[2,1] to [2,4]", {rand64({2, 1})}, s({2, 4})},
             {"0-d to [2,3]", {rand64({})}, s({2, 3})},
             {"[1,3] to [4,2,3]", {rand64({1, 3})}, s({4, 2, 3})},
             {"same shape",
              {rand64({2, 3})},
              [](const TensorList& x) {
                  return expand(x[0] * 2.0, {2, 3});
              }},
         };
     },
     [] {
         return Errors{
             {"size mismatch", [] { expand(f64({2}), {3}); }, "cannot broadcast [2] to [3]"},
             {"size mismatch in a new leading dim",
              [] {
                  expand(f64({3}), {2, 4});
              },
              "cannot broadcast [3] to [2, 4]"},
             {"2^45 elements exceed the allocation limit",
              [] { expand(ones({1}), {std::size_t(1) << 45}); }, "allocation limit"},
             {"fewer dims",
              [] {
                  expand(f64({2, 3}), {3});
              },
              "cannot broadcast [2, 3] to [3]"},
             {"int64 input",
              [] {
                  expand(ones({3}, int64), {2, 3});
              },
              "got int64"},
             {"undefined input", [] { expand(Tensor(), {3}); }, "undefined"},
         };
     },
     [] { return no_parity("broadcasting, covered by every broadcasting parity case"); }});

#define XG_ARG_INFO(NAME)                                                                        \
    XG_REGISTER_OP_INFO(                                                                         \
        NAME##_info,                                                                             \
        {#NAME,                                                                                  \
         [] {                                                                                    \
             return Samples{                                                                     \
                 {"all elements",                                                                \
                  {rand64({2, 3})},                                                              \
                  [](const TensorList& x) { return NAME(x[0]); }},                               \
                 {"dim 1", {rand64({2, 3})}, [](const TensorList& x) { return NAME(x[0], 1); }}, \
                 {"dim -2, keepdim",                                                             \
                  {rand64({2, 3})},                                                              \
                  [](const TensorList& x) { return NAME(x[0], -2, true); }},                     \
             };                                                                                  \
         },                                                                                      \
         [] {                                                                                    \
             return Errors{                                                                      \
                 {"empty input", [] { NAME(zeros({0}, float64)); }, "empty tensor (shape [0])"}, \
                 {"empty dim",                                                                   \
                  [] {                                                                           \
                      NAME(zeros({2, 0}, float64), 1);                                           \
                  },                                                                             \
                  "dim 1 has size 0"},                                                           \
                 {"dim out of range",                                                            \
                  [] {                                                                           \
                      NAME(f64({2, 3}), 2);                                                      \
                  },                                                                             \
                  "dim 2 is out of range"},                                                      \
                 {"undefined input", [] { NAME(Tensor()); }, "undefined"},                       \
             };                                                                                  \
         },                                                                                      \
         [] { return no_parity("no gradient; indices checked by hand in this file"); }, false})
XG_ARG_INFO(argmax);
XG_ARG_INFO(argmin);
#undef XG_ARG_INFO

}  // namespace

TEST_CASE("reduce: sum and mean values and shapes") {
    Tensor a = tensor({{1, 2, 3}, {4, 5, 6}});
    CHECK(sum(a).item() == 21.0);
    CHECK(sum(a).shape() == Shape{});
    check_values(sum(a, {0}), {5, 7, 9});
    check_values(sum(a, {-1}), {6, 15});
    CHECK(sum(a, {1}, true).shape() == Shape{2, 1});
    CHECK(sum(a, {0, 1}, true).shape() == Shape{1, 1});
    check_values(mean(a, {1}), {2, 5});
    CHECK(mean(a).item() == doctest::Approx(3.5));
    CHECK(a.mean({0}, true).shape() == Shape{1, 3});
    // 0-d input: dim 0 and -1 name the tensor itself, as in torch.
    Tensor s = tensor(2.5);
    CHECK(sum(s, {0}).item() == 2.5);
    CHECK(sum(s, {-1}, true).shape() == Shape{});
    CHECK(mean(s, {0}).item() == 2.5);
    // Empty sums are 0, like torch.
    CHECK(sum(zeros({0, 3})).item() == 0.0);
    CHECK(sum(zeros({0})).item<float>() == 0.0f);
    check_values(sum(zeros({2, 0}), {1}), {0, 0});
    CHECK(sum(zeros({0, 3}), {0}).to_vector() == std::vector<double>(3, 0.0));
}

// PyTorch: torch.zeros(0).mean() is nan, torch.zeros(2, 0).mean(1) is [nan, nan], and
// torch.zeros(0, 3).mean(1) is an empty tensor of shape (0,).
TEST_CASE("reduce: mean over zero elements is NaN, as in PyTorch") {
    CHECK(std::isnan(mean(zeros({0}, float64)).item()));
    CHECK(std::isnan(mean(zeros({0})).item()));
    Tensor rows = mean(zeros({2, 0}), {1});
    REQUIRE(rows.shape() == Shape{2});
    for (double v : rows.to_vector()) CHECK(std::isnan(v));
    CHECK(mean(zeros({0, 3}), {1}).shape() == Shape{0});
    Tensor x = zeros({2, 0}, float64).requires_grad_();
    mean(x, {1}).sum().backward();
    CHECK(x.grad().shape() == Shape{2, 0});
}

TEST_CASE("reduce: max/min and amax/amin values") {
    Tensor a = tensor({{1, 7, 3}, {4, -5, 6}}, float64);
    CHECK(max(a).item() == 7.0);
    CHECK(min(a).item() == -5.0);
    check_values(amax(a, {0}), {4, 7, 6});
    check_values(amin(a, {1}), {1, -5});
    CHECK(amax(a, {1}, true).shape() == Shape{2, 1});
    CHECK(amin(a, {-2, -1}, true).shape() == Shape{1, 1});
    CHECK(amax(tensor(3.0), {0}).item() == 3.0);
    CHECK(max(tensor({-1e30, -2e30}, float32)).item() == doctest::Approx(-1e30));
    CHECK(min(tensor({1e30}, float32)).item() == doctest::Approx(1e30));
    check_values(amax(zeros({0, 3}), {1}), {});  // no reductions at all is fine
}

TEST_CASE("reduce: amax/amin gradient flows to the extreme only") {
    Tensor a = tensor({{1, 7, 3}, {4, -5, 6}}, float64).requires_grad_();
    amax(a, {1}).sum().backward();
    check_values(a.grad(), {0, 1, 0, 0, 0, 1});
    a.zero_grad();
    min(a).backward();
    check_values(a.grad(), {0, 0, 0, 0, 1, 0});
}

TEST_CASE("reduce: amax/amin split the gradient evenly among ties") {
    Tensor a = tensor({{1, 3, 3}, {2, 2, 2}}, float64).requires_grad_();
    amax(a, {1}).sum().backward();
    check_values(a.grad(), {0, 0.5, 0.5, 1.0 / 3, 1.0 / 3, 1.0 / 3});
    a.zero_grad();
    max(a).backward();
    check_values(a.grad(), {0, 0.5, 0.5, 0, 0, 0});
    a.zero_grad();
    amin(a, {0}, true).backward(tensor({{2, 4, 6}}, float64));
    check_values(a.grad(), {2, 0, 0, 0, 4, 6});
    a.zero_grad();
    min(a).backward();
    check_values(a.grad(), {1, 0, 0, 0, 0, 0});
    // Second order: the tie mask is a constant, so the Hessian is zero.
    Tensor x = tensor({2, 2, 1}, float64).requires_grad_();
    TensorList g = grad({amax(x)}, {x}, {}, true, true);
    check_values(g[0], {0.5, 0.5, 0});
}

TEST_CASE("reduce: amax/amin propagate NaN wherever it is, and its gradient goes to the NaN") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (Dtype dt : {float32, float64}) {
        CAPTURE(dt);
        CHECK(std::isnan(max(tensor({1, nan, 2}, dt)).item()));
        CHECK(std::isnan(max(tensor({nan, 1, 2}, dt)).item()));
        CHECK(std::isnan(max(tensor({1, 2, nan}, dt)).item()));
        CHECK(std::isnan(min(tensor({1, nan, -2}, dt)).item()));
        CHECK(std::isnan(min(tensor({-2, 1, nan}, dt)).item()));
    }
    const double inf = std::numeric_limits<double>::infinity();
    CHECK(max(tensor({-inf, -inf}, float32)).item() == -inf);  // not lowest()
    CHECK(amin(tensor({inf}, float64), {0}).item() == inf);
    auto r = amax(tensor({{1, nan, 3}, {4, 5, 6}}, float64), {1}).to_vector();
    CHECK(std::isnan(r[0]));
    CHECK(r[1] == 6.0);
    Tensor a = tensor({1, nan, 3}, float64).requires_grad_();
    max(a).backward();
    auto g = a.grad().to_vector();
    CHECK(g[0] == 0.0);
    CHECK(g[1] == 1.0);
    CHECK(g[2] == 0.0);
}

TEST_CASE("max/min over a dim: values and int64 indices, as torch.max(x, dim)") {
    Tensor a = tensor({{1, 7, 7}, {9, -5, 9}}, float64);
    auto [v, i] = max(a, 1);
    check_values(v, {7, 9});
    CHECK(i.dtype() == int64);
    CHECK(i.to_vector() == std::vector<double>{1, 0});  // the first of tied maxima
    auto [v0, i0] = min(a, 0, true);
    CHECK(v0.shape() == Shape{1, 3});
    check_values(v0, {1, -5, 7});
    CHECK(i0.shape() == Shape{1, 3});
    CHECK(i0.to_vector() == std::vector<double>{0, 1, 0});
    auto [vs, is] = max(tensor(4.0, float64), -1);  // 0-d: the tensor itself, index 0
    CHECK(vs.shape() == Shape{});
    CHECK(vs.item() == 4.0);
    CHECK(is.item<std::int64_t>() == 0);
    // NaN wins, at its first position, as in torch.
    const double nan = std::numeric_limits<double>::quiet_NaN();
    auto [vn, in] = min(tensor({{1, nan, -3, nan}}, float64), 1);
    CHECK(std::isnan(vn.item()));
    CHECK(in.item<std::int64_t>() == 1);
    // int64: values stay int64 (no gradient), as in PyTorch.
    auto [vi, ii] = max(tensor({{3, 8, 8}, {-2, -7, 0}}, int64), -1);
    CHECK(vi.dtype() == int64);
    CHECK(vi.to_vector() == std::vector<double>{8, 0});
    CHECK(ii.to_vector() == std::vector<double>{1, 2});
    CHECK(amax(tensor({{3, 8}, {-2, -7}}, int64), {0}).to_vector() == std::vector<double>{3, 8});
    CHECK(min(tensor({4, -9, 2}, int64)).item<std::int64_t>() == -9);
    CHECK(max(tensor({-4, -9}, int64)).item<std::int64_t>() == -4);  // not 0: no +-inf start
}

TEST_CASE("max/min over a dim: the gradient goes to the chosen index only, not shared") {
    Tensor a = tensor({{1, 3, 3}, {2, 2, 2}}, float64).requires_grad_();
    auto [v, i] = max(a, 1);
    CHECK(v.requires_grad());
    CHECK_FALSE(i.requires_grad());
    v.backward(tensor({10, 20}, float64));
    check_values(a.grad(), {0, 10, 0, 20, 0, 0});  // torch.max(dim) on ties: the first index
    // Twice differentiable: the gradient is a scatter, linear in the upstream gradient.
    Tensor x = tensor({{1, 5}, {4, 2}}, float64).requires_grad_();
    Tensor up = tensor({1, 1}, float64).requires_grad_();
    TensorList g = grad({std::get<0>(min(x, 0))}, {x}, {up}, true, true);
    check_values(g[0], {1, 0, 0, 1});
    TensorList gg = grad({mul(g[0], tensor({{2, 3}, {4, 5}}, float64)).sum()}, {up});
    check_values(gg[0], {2, 5});
}

TEST_CASE("std: the square root of var, with a zero gradient where std is 0") {
    Tensor a = tensor({{1, 2, 3, 4}, {5, 5, 5, 5}}, float64).requires_grad_();
    Tensor s = std(a, {1});
    check_values(s, {std::sqrt(5.0 / 3), 0});
    CHECK(std(a, {1}, 0, true).shape() == Shape{2, 1});
    CHECK(std(tensor({1, 2, 3, 4}, float32)).dtype() == float32);
    s.sum().backward();
    auto g = a.grad().to_vector();
    for (std::size_t k = 4; k < 8; ++k) CHECK(g[k] == 0.0);  // not NaN, as torch.std
    CHECK(g[0] == doctest::Approx((1 - 2.5) / 3 / std::sqrt(5.0 / 3)));
    // Second order at std = 0 stays finite.
    Tensor c = tensor({2, 2, 2}, float64).requires_grad_();
    TensorList g1 = grad({std(c)}, {c}, {}, true, true);
    TensorList g2 = grad({g1[0].sum()}, {c}, {}, false, false, true);
    if (g2[0].defined()) {
        for (double e : g2[0].to_vector()) CHECK(std::isfinite(e));
    }
}

TEST_CASE("reduce: var with correction") {
    Tensor a = tensor({1, 2, 3, 4}, float64);
    CHECK(var(a).item() == doctest::Approx(5.0 / 3));
    CHECK(var(a, {}, 0).item() == doctest::Approx(1.25));
    CHECK(var(a, {}, 2).item() == doctest::Approx(2.5));
    Tensor b = tensor({{1, 3}, {2, 6}, {0, 0}}, float32);
    check_values(var(b, Dims{1}), {2, 8, 0});
    check_values(var(b, {1}), {2, 8, 0});  // a braced dim list, not a correction
    check_values(var(b, Dims{0}, 0), {2.0 / 3, 6});
    CHECK(var(b, Dims{0}, 1, true).shape() == Shape{1, 2});
    CHECK(var(b, Dims{0, 1}).item() == doctest::Approx(5.2));
    CHECK(var(b).dtype() == float32);
    CHECK(var(tensor(4.0), Dims{0}, 0).item() == 0.0);
    // Large offset: the two-pass formula keeps precision.
    CHECK(var(tensor({1e8 + 1, 1e8 + 2, 1e8 + 3}, float64)).item() == doctest::Approx(1.0));
}

TEST_CASE("reduce: var gradient is 2 (x - mean) / (N - correction)") {
    Tensor a = tensor({1, 2, 3, 6}, float64).requires_grad_();
    var(a).backward();
    check_values(a.grad(), {2 * (1 - 3.0) / 3, 2 * (2 - 3.0) / 3, 0, 2 * (6 - 3.0) / 3});
    a.zero_grad();
    var(a, {}, 0).backward();
    check_values(a.grad(), {-1, -0.5, 0, 1.5});
}

TEST_CASE("reduce: argmax and argmin") {
    Tensor a = tensor({{1, 7, 7}, {9, -5, 9}}, float64);
    Tensor i = argmax(a);
    CHECK(i.dtype() == int64);
    CHECK(i.shape() == Shape{});
    CHECK(i.item<std::int64_t>() == 3);
    CHECK(argmin(a).item<std::int64_t>() == 4);
    check_values(argmax(a, 1), {1, 0});  // first index on ties
    check_values(argmax(a, 0), {1, 0, 1});
    check_values(argmin(a, -1), {0, 1});
    CHECK(argmax(a, 1, true).shape() == Shape{2, 1});
    CHECK(argmax(a, std::nullopt, true).shape() == Shape{1, 1});
    CHECK(a.argmax().item<std::int64_t>() == 3);
    check_values(a.argmax(0, true), {1, 0, 1});
    CHECK(argmax(tensor(5.0)).item<std::int64_t>() == 0);
    CHECK(argmax(tensor(5.0), 0).shape() == Shape{});
    check_values(argmin(tensor({{3, 1, 2}}, int64), 1), {1});
    // 3-d, middle dim
    Tensor b = arange(24, float64).reshape({2, 3, 4});
    check_values(argmax(b, 1), {2, 2, 2, 2, 2, 2, 2, 2});
    check_values(argmin(b, 2), {0, 0, 0, 0, 0, 0});
    // NaN counts as the extreme, as in torch.
    const double nan = std::numeric_limits<double>::quiet_NaN();
    CHECK(argmax(tensor({1, nan, 3}, float64)).item<std::int64_t>() == 1);
    CHECK(argmin(tensor({1, nan, -3}, float64)).item<std::int64_t>() == 1);
    Tensor x = rand64({3});
    CHECK_FALSE(argmax(x).requires_grad());
}

TEST_CASE("reduce: sum_to and expand values") {
    Tensor a = tensor({{1, 2, 3}, {4, 5, 6}});
    check_values(sum_to(a, {3}), {5, 7, 9});
    check_values(sum_to(a, {2, 1}), {6, 15});
    CHECK(sum_to(a, {}).item() == 21.0);
    CHECK(sum_to(a, {1, 1}).shape() == Shape{1, 1});
    check_values(expand(tensor({1, 2}), {2, 2}), {1, 2, 1, 2});
    check_values(expand(tensor({1, 2}).reshape({2, 1}), {2, 3}), {1, 1, 1, 2, 2, 2});
    CHECK(expand(tensor(1.0), {2, 1, 3}).shape() == Shape{2, 1, 3});
    Tensor x = rand64({2, 1});
    expand(x, {3, 2, 4}).sum().backward();
    check_values(x.grad(), {12, 12});
}

TEST_CASE("sum: int64 stays int64, so a mask of hits counts them, as in PyTorch") {
    Tensor pred = tensor({1, 2, 0, 2}, int64), y = tensor({1, 0, 0, 2}, int64);
    Tensor hits = eq(pred, y).sum();
    CHECK(hits.dtype() == int64);
    CHECK(hits.item<std::int64_t>() == 3);
    CHECK(eq(pred, y).sum().item() == 3.0);  // the accuracy count of examples/train_cnn
    CHECK(sum(tensor({{1, 2}, {3, 4}}, int64), {0}).to_vector() == std::vector<double>{4, 6});
    // mean of int64 throws (mean's registry row), as in PyTorch.
    // Exact beyond 2^53 and wrapping on overflow, as PyTorch's int64 sum (never through double).
    const std::int64_t big = std::numeric_limits<std::int64_t>::max();
    Tensor t = full({2}, 0.0, int64);
    t.mutable_data<std::int64_t>()(0) = big;
    t.mutable_data<std::int64_t>()(1) = 1;
    CHECK(t.sum().item<std::int64_t>() == std::numeric_limits<std::int64_t>::min());
    t.mutable_data<std::int64_t>()(1) = -2;
    CHECK(sum(t, {0}).item<std::int64_t>() == big - 2);
    CHECK(sum(tensor({{1, 2, 3}, {4, 5, 6}}, int64), {1}, true).to_vector() ==
          std::vector<double>{6, 15});
}

}  // namespace xg::testing

// Elementwise ops: OpInfos (gradcheck samples with broadcasting and scalar operands, error
// inputs) and forward values against hand-computed numbers.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "tests/op_registry.hpp"

namespace xg::testing {
namespace {

using Samples = std::vector<Sample>;
using Errors = std::vector<ErrorCase>;
using BinaryFn = std::function<Tensor(const Tensor&, const Tensor&)>;
using UnaryFn = std::function<Tensor(const Tensor&)>;

// Magnitudes in [0.2, 1] with alternating signs (first positive): away from 0, the kink of
// abs and relu, and with both sides present whenever there are two elements.
Tensor alternating64(const Shape& shape) {
    Tensor mag = pos64(shape, 0.2, 1.0).detach();
    xt::xarray<double> v = mag.data<double>();
    for (std::size_t k = 1; k < v.size(); k += 2) v.data()[k] = -v.data()[k];
    return from_array(v).requires_grad_();
}

Tensor grad64(std::initializer_list<double> v) {
    return tensor(v, float64).requires_grad_();
}

// Broadcasting, size-1 dims, 0-d operands and one-sided requires_grad for a binary op.
Samples binary_samples(const BinaryFn& f, bool positive_rhs = false) {
    auto rhs = [positive_rhs](const Shape& s) { return positive_rhs ? pos64(s) : rand64(s); };
    TensorFn fn = [f](const TensorList& x) { return f(x[0], x[1]); };
    return {
        {"[2,3] with [2,3]", {rand64({2, 3}), rhs({2, 3})}, fn},
        {"[2,3] with [3]", {rand64({2, 3}), rhs({3})}, fn},
        {"[2,1] with [1,3]", {rand64({2, 1}), rhs({1, 3})}, fn},
        {"0-d with [2,3]", {rand64({}), rhs({2, 3})}, fn},
        {"[2,3] with 0-d", {rand64({2, 3}), rhs({})}, fn},
        {"size-1 dims [1,3,1] with [2,1,4]", {rand64({1, 3, 1}), rhs({2, 1, 4})}, fn},
        {"only the left operand requires grad", {rand64({2, 3}), rhs({3}).detach()}, fn},
        {"only the right operand requires grad", {rand64({2, 1}).detach(), rhs({2, 3})}, fn},
    };
}

Samples unary_samples(const UnaryFn& f, const std::function<Tensor(const Shape&)>& make) {
    TensorFn fn = [f](const TensorList& x) { return f(x[0]); };
    return {
        {"[2,3]", {make({2, 3})}, fn},
        {"0-d", {make({})}, fn},
        {"size-1 dims [1,3,1]", {make({1, 3, 1})}, fn},
        {"[4]", {make({4})}, fn},
    };
}

Samples with(Samples a, const Samples& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

Tensor f32(const Shape& s) {
    return ones(s, float32);
}
Tensor f64(const Shape& s) {
    return ones(s, float64);
}
Tensor i64(const Shape& s) {
    return ones(s, int64);
}

// Errors every binary op shares; `promotes`: mixed dtypes and integers are allowed (the
// arithmetic ops promote as PyTorch does), else they are errors (pow).
Errors binary_errors(const BinaryFn& f, bool promotes = true) {
    Errors e = {
        {"un-broadcastable shapes",
         [f] {
             f(f64({2, 3}), f64({4}));
         },
         "shapes [2, 3] and [4] cannot be broadcast (dim 1: 3 vs 4)"},
        {"undefined input", [f] { f(Tensor(), f64({2})); }, "undefined"},
        {"undefined other", [f] { f(f64({2}), Tensor()); }, "undefined"},
    };
    if (!promotes) {
        e.push_back({"float32 with float64", [f] { f(f32({2}), f64({2})); },
                     "expected both operands to have the same dtype, got float32 and float64"});
        e.push_back({"int64 inputs", [f] { f(i64({2}), i64({2})); }, "floating-point"});
    }
    return e;
}

// Float-only unary ops refuse int64; abs takes integers (and refuses bool).
Errors unary_errors(const UnaryFn& f, bool integers_ok = false) {
    Errors e = {{"undefined input", [f] { f(Tensor()); }, "undefined"}};
    if (integers_ok) {
        e.push_back({"bool input", [f] { f(ones({3}, bool_)); }, "not supported for bool"});
    } else {
        e.push_back({"int64 input", [f] { f(i64({3})); },
                     "floating-point tensor (float32 or float64), got int64"});
    }
    return e;
}

// Comparisons accept every dtype (they promote) but not bad shapes.
Errors compare_errors(const BinaryFn& f) {
    return {
        {"un-broadcastable shapes",
         [f] {
             f(f64({2, 3}), f64({4}));
         },
         "[2, 3] and [4]"},
        {"undefined input", [f] { f(Tensor(), f64({2})); }, "undefined"},
    };
}

Samples compare_samples(const BinaryFn& f, const std::function<Tensor(const Tensor&, double)>& fs) {
    return {
        {"[2,3] with [3]",
         {rand64({2, 3}), rand64({3})},
         [f](const TensorList& x) { return f(x[0], x[1]); }},
        {"with a scalar", {rand64({2, 3})}, [fs](const TensorList& x) { return fs(x[0], 0.1); }},
        {"tensor with itself (ties)",
         {rand64({4})},
         [f](const TensorList& x) { return f(x[0], x[0]); }},
    };
}

// ---- arithmetic ----

XG_REGISTER_OP_INFO(
    add_info,
    {"add",
     [] {
         return with(binary_samples([](auto& a, auto& b) { return add(a, b); }),
                     {
                         {"operator+",
                          {rand64({2, 3}), rand64({3})},
                          [](const TensorList& x) { return x[0] + x[1]; }},
                         {"tensor + scalar",
                          {rand64({2, 3})},
                          [](const TensorList& x) { return add(x[0], 2.5); }},
                         {"scalar + tensor",
                          {rand64({2, 3})},
                          [](const TensorList& x) { return 2.5 + x[0]; }},
                     });
     },
     [] {
         auto e = binary_errors([](auto& a, auto& b) { return add(a, b); });
         e.push_back({"int32 with an integer it cannot hold",
                      [] { add(ones({2}, int32), std::int64_t{1} << 40); },
                      "value 1099511627776 cannot be represented as int32"});
         return e;
     },
     [] {
         return Parity{{{"core_add_2x3_3", 2, [](const TensorList& x) { return add(x[0], x[1]); }},
                        {"core_add_2x1_1x3", 2, [](const TensorList& x) { return x[0] + x[1]; }}}};
     }});

XG_REGISTER_OP_INFO(
    sub_info,
    {"sub",
     [] {
         return with(
             binary_samples([](auto& a, auto& b) { return sub(a, b); }),
             {
                 {"operator-",
                  {rand64({2, 1}), rand64({1, 3})},
                  [](const TensorList& x) { return x[0] - x[1]; }},
                 {"tensor - scalar",
                  {rand64({2, 3})},
                  [](const TensorList& x) { return x[0] - 1.5; }},
                 {"scalar - tensor",
                  {rand64({2, 3})},
                  [](const TensorList& x) { return 1.5 - x[0]; }},
                 {"rsub", {rand64({3})}, [](const TensorList& x) { return rsub(2.0, x[0]); }},
             });
     },
     [] {
         auto e = binary_errors([](auto& a, auto& b) { return sub(a, b); });
         e.push_back({"bool minus bool", [] { sub(ones({2}, bool_), ones({2}, bool_)); },
                      "not supported for bool tensors (use logical_xor or ^)"});
         return e;
     },
     [] {
         return Parity{{{"core_sub_2x3_3", 2, [](const TensorList& x) { return sub(x[0], x[1]); }},
                        {"core_sub_2x1_1x3", 2, [](const TensorList& x) { return x[0] - x[1]; }}}};
     }});

XG_REGISTER_OP_INFO(
    mul_info,
    {"mul",
     [] {
         return with(binary_samples([](auto& a, auto& b) { return mul(a, b); }),
                     {
                         {"operator*",
                          {rand64({2, 3}), rand64({})},
                          [](const TensorList& x) { return x[0] * x[1]; }},
                         {"tensor * scalar",
                          {rand64({2, 3})},
                          [](const TensorList& x) { return x[0] * -3.0; }},
                         {"scalar * tensor",
                          {rand64({2, 3})},
                          [](const TensorList& x) { return 0.5 * x[0]; }},
                         {"square via x * x",
                          {rand64({3})},
                          [](const TensorList& x) { return x[0] * x[0]; }},
                     });
     },
     [] {
         auto e = binary_errors([](auto& a, auto& b) { return mul(a, b); });
         return e;
     },
     [] {
         return Parity{{{"core_mul_2x3_3", 2, [](const TensorList& x) { return mul(x[0], x[1]); }},
                        {"core_mul_2x1_1x3", 2, [](const TensorList& x) { return x[0] * x[1]; }}}};
     }});

XG_REGISTER_OP_INFO(
    div_info,
    {"div",
     [] {
         return with(binary_samples([](auto& a, auto& b) { return div(a, b); }, true),
                     {
                         {"operator/",
                          {rand64({2, 3}), pos64({3})},
                          [](const TensorList& x) { return x[0] / x[1]; }},
                         {"tensor / scalar",
                          {rand64({2, 3})},
                          [](const TensorList& x) { return x[0] / 4.0; }},
                         {"scalar / tensor",
                          {pos64({2, 3})},
                          [](const TensorList& x) { return 3.0 / x[0]; }},
                         {"rdiv of negative values",
                          {pos64({3}, -2.0, -0.5)},
                          [](const TensorList& x) { return rdiv(-1.0, x[0]); }},
                     });
     },
     [] {
         auto e = binary_errors([](auto& a, auto& b) { return div(a, b); });
         e.push_back({"by the scalar 0", [] { div(f64({2}), 0.0); },
                      "division of a tensor by the scalar 0"});
         return e;
     },
     [] {
         return Parity{{{"core_div_2x3_3", 2, [](const TensorList& x) { return div(x[0], x[1]); }},
                        {"core_div_2x1_1x3", 2, [](const TensorList& x) { return x[0] / x[1]; }}}};
     }});

XG_REGISTER_OP_INFO(
    neg_info,
    {"neg",
     [] {
         return with(
             unary_samples([](auto& a) { return neg(a); }, [](auto& s) { return rand64(s); }),
             {
                 {"unary operator-", {rand64({2, 3})}, [](const TensorList& x) { return -x[0]; }},
             });
     },
     [] {
         return Errors{{"bool input", [] { neg(ones({3}, bool_)); },
                        "not supported for bool tensors (use logical_not or ~)"},
                       {"undefined input", [] { neg(Tensor()); }, "undefined"}};
     },
     [] {
         return Parity{{{"core_neg", 1, [](const TensorList& x) { return neg(x[0]); }}}};
     }});

XG_REGISTER_OP_INFO(
    pow_info,
    {"pow",
     [] {
         TensorFn tp = [](const TensorList& x) { return pow(x[0], x[1]); };
         GradcheckOptions zero_ok;
         zero_ok.allow_all_zero(true);
         return Samples{
             {"square", {rand64({2, 3})}, [](const TensorList& x) { return pow(x[0], 2.0); }},
             {"cube, 0-d", {rand64({})}, [](const TensorList& x) { return pow(x[0], 3.0); }},
             {"sqrt exponent", {pos64({2, 3})}, [](const TensorList& x) { return pow(x[0], 0.5); }},
             {"negative exponent",
              {pos64({1, 3, 1})},
              [](const TensorList& x) { return x[0].pow(-1.5); }},
             {"exponent 1", {rand64({3})}, [](const TensorList& x) { return pow(x[0], 1.0); }},
             {"exponent 0 (zero gradient)",
              {rand64({3})},
              [](const TensorList& x) { return pow(x[0], 0.0); },
              zero_ok},
             {"tensor exponent [2,3] ** [2,3]", {pos64({2, 3}), rand64({2, 3})}, tp},
             {"tensor exponent [2,3] ** [3]", {pos64({2, 3}), rand64({3})}, tp},
             {"tensor exponent [2,1] ** [1,3]", {pos64({2, 1}), rand64({1, 3})}, tp},
             {"tensor exponent 0-d ** [2,3]", {pos64({}), rand64({2, 3})}, tp},
             {"tensor exponent, only the base requires grad",
              {rand64({2, 3}), full({3}, 2.0, float64)},
              tp},
             {"tensor exponent, only the exponent requires grad",
              {pos64({2, 3}).detach(), rand64({3})},
              tp},
         };
     },
     [] {
         auto e = binary_errors([](auto& a, auto& b) { return pow(a, b); }, false);
         e.push_back(
             {"int64 with a scalar exponent", [] { pow(i64({2}), 2.0); }, "floating-point"});
         e.push_back({"undefined with a scalar exponent", [] { pow(Tensor(), 2.0); }, "undefined"});
         return e;
     },
     [] {
         return Parity{
             {{"core_pow_scalar", 1, [](const TensorList& x) { return pow(x[0], 3.0); }},
              {"core_pow_scalar_frac", 1, [](const TensorList& x) { return pow(x[0], 0.5); }},
              {"core_pow_tensor", 2, [](const TensorList& x) { return pow(x[0], x[1]); }}}};
     }});

// ---- unary math ----

// The parity fixture of each is core_<NAME> (tests/parity/core_ops.py).
#define XG_UNARY_INFO(NAME, MAKE)                                                                 \
    XG_REGISTER_OP_INFO(                                                                          \
        NAME##_info,                                                                              \
        {#NAME, [] { return unary_samples([](auto& a) { return NAME(a); }, MAKE); },              \
         [] {                                                                                     \
             return unary_errors([](auto& a) { return NAME(a); }, #NAME == std::string("abs"));   \
         },                                                                                       \
         [] {                                                                                     \
             return Parity{{{"core_" #NAME, 1, [](const TensorList& x) { return NAME(x[0]); }}}}; \
         }})

const auto any64 = [](const Shape& s) { return rand64(s, -2.0, 2.0); };
const auto positive64 = [](const Shape& s) { return pos64(s); };
const auto away_from_0 = [](const Shape& s) { return alternating64(s); };

XG_UNARY_INFO(exp, any64);
XG_UNARY_INFO(log, positive64);
XG_UNARY_INFO(sqrt, positive64);
XG_UNARY_INFO(abs, away_from_0);
XG_UNARY_INFO(tanh, any64);
XG_UNARY_INFO(sigmoid, any64);
XG_UNARY_INFO(relu, away_from_0);
#undef XG_UNARY_INFO

XG_REGISTER_OP_INFO(leaky_relu_info,
                    {"leaky_relu",
                     [] {
                         return with(
                             unary_samples([](auto& a) { return leaky_relu(a); }, away_from_0),
                             {
                                 {"slope 0.2",
                                  {alternating64({2, 3})},
                                  [](const TensorList& x) { return leaky_relu(x[0], 0.2); }},
                                 {"slope -0.5",
                                  {alternating64({4})},
                                  [](const TensorList& x) { return leaky_relu(x[0], -0.5); }},
                             });
                     },
                     [] { return unary_errors([](auto& a) { return leaky_relu(a); }); },
                     [] {
                         return Parity{{{"core_leaky_relu", 1, [](const TensorList& x) {
                                             return leaky_relu(x[0], 0.1);
                                         }}}};
                     }});

XG_REGISTER_OP_INFO(
    clamp_info,
    {"clamp",
     [] {
         // Values kept away from the bounds -0.5 and 0.5, where the gradient jumps.
         auto x = [] { return grad64({-0.9, -0.3, 0.1, 0.35, 0.8, -0.7}); };
         return Samples{
             {"both bounds", {x()}, [](const TensorList& t) { return clamp(t[0], -0.5, 0.5); }},
             {"min only",
              {x()},
              [](const TensorList& t) { return clamp(t[0], -0.5, std::nullopt); }},
             {"max only",
              {x()},
              [](const TensorList& t) { return clamp(t[0], std::nullopt, 0.5); }},
             {"[2,3], bounds outside the values",
              {rand64({2, 3})},
              [](const TensorList& t) { return clamp(t[0], -2.0, 2.0); }},
         };
     },
     [] {
         return Errors{
             {"min > max", [] { clamp(f64({2}), 1.0, -1.0); }, "min 1 is greater than max -1"},
             {"no bound", [] { clamp(f64({2}), std::nullopt, std::nullopt); }, "at least one"},
             {"undefined input", [] { clamp(Tensor(), 0.0, 1.0); }, "undefined"},
         };
     },
     [] {
         return Parity{
             {{"core_clamp", 1, [](const TensorList& x) { return clamp(x[0], -0.5, 0.5); }},
              {"core_clamp_min", 1,
               [](const TensorList& x) { return clamp(x[0], -0.2, std::nullopt); }},
              {"core_clamp_max", 1,
               [](const TensorList& x) { return clamp(x[0], std::nullopt, 0.3); }}}};
     }});

XG_REGISTER_OP_INFO(
    where_info,
    {"where",
     [] {
         TensorFn fn = [](const TensorList& x) { return where(x[0], x[1], x[2]); };
         Tensor c23 = tensor({{1, 0, 1}, {0, 1, 0}}, bool_);
         return Samples{
             {"[2,3] everywhere", {c23, rand64({2, 3}), rand64({2, 3})}, fn},
             {"cond [2,1], a [3], b 0-d",
              {tensor({1, 0}, bool_).reshape({2, 1}), rand64({3}), rand64({})},
              fn},
             {"cond [3], a [2,1], b [2,3]",
              {tensor({0, 1, 1}, bool_), rand64({2, 1}), rand64({2, 3})},
              fn},
             {"b 0-d", {tensor({1, 0, 1}, bool_), rand64({3}), rand64({})}, fn},
             {"only b requires grad", {c23, rand64({2, 3}).detach(), rand64({2, 3})}, fn},
         };
     },
     [] {
         Tensor c = ones({2}, bool_);
         return Errors{
             {"float condition", [] { where(f64({2}), f64({2}), f64({2})); },
              "expected a bool condition, got float64"},
             {"un-broadcastable condition",
              [] {
                  where(ones({4}, bool_), f64({2, 3}), f64({2, 3}));
              },
              "[4] and [2, 3]"},
             {"un-broadcastable b", [c] { where(c, f64({2}), f64({3})); }, "[2] and [3]"},
             {"int value too big for int32",
              [c] { where(c, ones({2}, int32), std::int64_t{1} << 40); },
              "value 1099511627776 cannot be represented as int32"},
             {"undefined condition", [] { where(Tensor(), f64({2}), f64({2})); }, "'condition'"},
         };
     },
     [] {
         return no_parity("a selection: its values and gradients are checked by hand in this file");
     }});

// ---- no-grad ops ----

XG_REGISTER_OP_INFO(
    sign_info,
    {"sign",
     [] {
         return Samples{{"[2,3]", {rand64({2, 3})}, [](const TensorList& x) { return sign(x[0]); }},
                        {"0-d", {rand64({})}, [](const TensorList& x) { return sign(x[0]); }}};
     },
     [] {
         return Errors{{"undefined input", [] { sign(Tensor()); }, "undefined"}};
     },
     [] { return no_parity("no gradient; values checked by hand in this file"); }, false});

#define XG_COMPARE_INFO(NAME)                                                                    \
    XG_REGISTER_OP_INFO(                                                                         \
        NAME##_info,                                                                             \
        {#NAME,                                                                                  \
         [] {                                                                                    \
             return compare_samples([](auto& a, auto& b) { return NAME(a, b); },                 \
                                    [](auto& a, double b) { return NAME(a, b); });               \
         },                                                                                      \
         [] {                                                                                    \
             auto e = compare_errors([](auto& a, auto& b) { return NAME(a, b); });               \
             e.push_back({"undefined with a scalar", [] { NAME(Tensor(), 1.0); }, "undefined"}); \
             return e;                                                                           \
         },                                                                                      \
         [] { return no_parity("no gradient; values checked by hand in this file"); }, false})
XG_COMPARE_INFO(eq);
XG_COMPARE_INFO(ne);
XG_COMPARE_INFO(lt);
XG_COMPARE_INFO(le);
XG_COMPARE_INFO(gt);
XG_COMPARE_INFO(ge);
#undef XG_COMPARE_INFO

// ---- forward values ----

}  // namespace

TEST_CASE("elementwise: arithmetic forward values with broadcasting") {
    Tensor a = tensor({{1, 2, 3}, {4, 5, 6}});
    Tensor b = tensor({10, 20, 30});
    Tensor c = tensor({2, -1}).reshape({2, 1});
    check_values(a + b, {11, 22, 33, 14, 25, 36});
    check_values(a - b, {-9, -18, -27, -6, -15, -24});
    check_values(a * c, {2, 4, 6, -4, -5, -6});
    check_values(b / a, {10, 10, 10, 2.5, 4, 5});
    check_values(a + tensor(0.5), {1.5, 2.5, 3.5, 4.5, 5.5, 6.5});
    CHECK((a + b).shape() == Shape{2, 3});
    CHECK((c * b).shape() == Shape{2, 3});
    CHECK((a + b).dtype() == float32);
}

TEST_CASE("elementwise: scalar operands on either side") {
    Tensor a = tensor({1, 2, 4}, float64);
    check_values(a + 1.0, {2, 3, 5});
    check_values(1.0 + a, {2, 3, 5});
    check_values(a - 1.0, {0, 1, 3});
    check_values(1.0 - a, {0, -1, -3});
    check_values(a * 3.0, {3, 6, 12});
    check_values(3.0 * a, {3, 6, 12});
    check_values(a / 2.0, {0.5, 1, 2});
    check_values(2.0 / a, {2, 1, 0.5});
    check_values(-a, {-1, -2, -4});
    check_values(rsub(10.0, a), {9, 8, 6});
    check_values(rdiv(8.0, a), {8, 4, 2});
    CHECK((a / 3.0).to_vector()[0] == doctest::Approx(1.0 / 3.0));
    // Tensor / zero tensor follows IEEE, as in torch (a / 0.0 throws: div's registry row).
    CHECK(std::isinf((a / zeros({3}, float64)).to_vector()[0]));
}

TEST_CASE("elementwise: unary forward values") {
    check_values(pow(tensor({2, -3, 0.5}), 2.0), {4, 9, 0.25});
    check_values(pow(tensor({4, 9}), tensor({0.5, -1})), {2, 1.0 / 9});
    check_values(pow(tensor({2, 3}), 0.0), {1, 1});
    check_values(exp(tensor({0, 1, -1})), {1, M_E, 1 / M_E});
    check_values(log(tensor({1, M_E, 0.5})), {0, 1, std::log(0.5)});
    check_values(sqrt(tensor({4, 2.25, 0})), {2, 1.5, 0});
    check_values(abs(tensor({-2, 0, 3})), {2, 0, 3});
    check_values(tanh(tensor({0, 0.5})), {0, std::tanh(0.5)});
    check_values(sigmoid(tensor({0, 2})), {0.5, 1 / (1 + std::exp(-2.0))});
    check_values(relu(tensor({-1, 0, 2})), {0, 0, 2});
    check_values(leaky_relu(tensor({-2, 0, 3})), {-0.02, 0, 3});
    check_values(leaky_relu(tensor({-2, 3}), 0.1), {-0.2, 3});
    check_values(clamp(tensor({-2, -0.5, 0, 2}), -1.0, 1.0), {-1, -0.5, 0, 1});
    check_values(clamp(tensor({-2, 2}), 0.0, std::nullopt), {0, 2});
    check_values(clamp(tensor({-2, 2}), std::nullopt, 0.0), {-2, 0});
    check_values(sign(tensor({-2, 0, 3})), {-1, 0, 1});
    check_values(where(tensor({1, 0, 1}, bool_), tensor({1, 2, 3}), tensor(-1.0)), {1, -1, 3});
    CHECK(sign(tensor({-5, 0, 5}, int64)).dtype() == int64);
}

TEST_CASE("elementwise: numerical edge cases") {
    for (Dtype d : {float32, float64}) {
        CAPTURE(d);
        Tensor s = sigmoid(tensor({-1000, 1000, -100, 100}, d));
        for (double v : s.to_vector()) CHECK(std::isfinite(v));
        auto v = s.to_vector();
        CHECK(v[0] == 0.0);
        CHECK(v[1] == 1.0);
        check_values(tanh(tensor({-1000, 1000}, d)), {-1, 1});
        CHECK(exp(tensor({-1000}, d)).item() == 0.0);
        CHECK(relu(tensor({-0.0, 1e-30}, d)).to_vector()[1] > 0.0);
    }
    CHECK(sigmoid(tensor(0.0)).item() == 0.5);
    CHECK(std::isinf(log(tensor(0.0)).item()));
    CHECK(std::isnan(sqrt(tensor(-1.0)).item()));
    // Edge values give PyTorch's results, not errors.
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    CHECK(std::isinf(div(ones({1}), zeros({1})).item<float>()));  // float32 division by zero
    CHECK(std::isnan(log(full({1}, -1.0)).item<float>()));
    CHECK(std::isnan(pow(full({1}, 2.0), nan).item<float>()));
    CHECK(relu(zeros({0, 3})).shape() == Shape{0, 3});
    CHECK(sigmoid(tensor({inf, -inf})).to_vector() == std::vector<double>{1.0, 0.0});
}

TEST_CASE("elementwise: comparisons give bool tensors") {
    Tensor a = tensor({1, 2, 3});
    Tensor b = tensor({3, 2, 1});
    check_values(eq(a, b), {0, 1, 0});
    check_values(ne(a, b), {1, 0, 1});
    check_values(lt(a, b), {1, 0, 0});
    check_values(le(a, b), {1, 1, 0});
    check_values(gt(a, b), {0, 0, 1});
    check_values(ge(a, b), {0, 1, 1});
    check_values(gt(a, 1.5), {0, 1, 1});
    CHECK(eq(a, b).dtype() == bool_);
    // broadcasting
    Tensor m = lt(tensor({0, 5}).reshape({2, 1}), a);
    CHECK(m.shape() == Shape{2, 3});
    check_values(m, {1, 1, 1, 0, 0, 0});
    Tensor x = rand64({3});
    CHECK_FALSE(gt(x, 0.0).requires_grad());
}

TEST_CASE("elementwise: comparisons on int64") {
    Tensor a = arange(5, int64);  // 0..4
    Tensor r = eq(a, 2.0);
    CHECK(r.dtype() == bool_);
    check_values(r, {0, 0, 1, 0, 0});
    check_values(lt(a, 2.5), {1, 1, 1, 0, 0});  // compared as 2.5, not truncated to 2
    check_values(ge(a, 2.5), {0, 0, 0, 1, 1});
    check_values(eq(a, 2.5), {0, 0, 0, 0, 0});
    check_values(ne(a, 2.5), {1, 1, 1, 1, 1});
    check_values(gt(a, -0.5), {1, 1, 1, 1, 1});
    check_values(le(a, tensor({2}, int64)), {1, 1, 1, 0, 0});
    check_values(ne(a, tensor({0, 4}, int64).reshape({2, 1})), {0, 1, 1, 1, 1, 1, 1, 1, 1, 0});
}

TEST_CASE("elementwise: gradients at kinks and of masks") {
    Tensor x = tensor({-1, 0, 2}, float64).requires_grad_();
    relu(x).sum().backward();
    check_values(x.grad(), {0, 0, 1});  // 0 at the kink, as in torch
    x.zero_grad();
    abs(x).sum().backward();
    check_values(x.grad(), {-1, 0, 1});
    x.zero_grad();
    leaky_relu(x, 0.1).sum().backward();
    check_values(x.grad(), {0.1, 0.1, 1});
    x.zero_grad();
    clamp(x, -1.0, 1.0).sum().backward();  // passes at the bounds themselves
    check_values(x.grad(), {1, 1, 0});

    Tensor a = tensor({1, 2, 3}, float64).requires_grad_();
    Tensor b = tensor({4, 5, 6}, float64).requires_grad_();
    where(tensor({1, 0, 1}, bool_), a, b).sum().backward();
    check_values(a.grad(), {1, 0, 1});
    check_values(b.grad(), {0, 1, 0});
}

TEST_CASE("elementwise: broadcast gradients come back in the input's shape") {
    Tensor a = rand64({2, 3});
    Tensor b = rand64({3});
    Tensor s = rand64({});
    (a * b + s).sum().backward();
    CHECK(b.grad().shape() == Shape{3});
    CHECK(s.grad().shape() == Shape{});
    check_values(s.grad(), {6});
    auto av = a.to_vector();
    check_values(b.grad(), {av[0] + av[3], av[1] + av[4], av[2] + av[5]});
}

TEST_CASE("elementwise: float32 works like float64") {
    Tensor a = tensor({0.5, 1.5}, float32).requires_grad_();
    Tensor y = (exp(a) * 2.0).sum();
    CHECK(y.dtype() == float32);
    y.backward();
    CHECK(a.grad().dtype() == float32);
    check_values(a.grad(), {2 * std::exp(0.5), 2 * std::exp(1.5)}, 1e-5);
}

}  // namespace xg::testing

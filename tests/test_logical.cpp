// ops/logical.hpp: logical and bitwise ops, any/all, masked_fill and masked_select (registry
// rows: samples, error inputs; selections have no PyTorch fixture, their values and gradients
// are checked by hand below), and floor_divide from ops/elementwise.hpp.
#include <doctest/doctest.h>

#include <cstdint>

#include "tests/error_of.hpp"
#include "tests/op_registry.hpp"

namespace xg::testing {
namespace {

using Samples = std::vector<Sample>;
using Errors = std::vector<ErrorCase>;
using BinaryFn = std::function<Tensor(const Tensor&, const Tensor&)>;

std::vector<std::int64_t> longs(const Tensor& t) {
    const Tensor l = t.to(int64);
    return {l.data<std::int64_t>().begin(), l.data<std::int64_t>().end()};
}

Tensor mask23() {
    return tensor({{1, 0, 1}, {0, 0, 1}}, bool_);
}

// A no-gradient binary op's row: float, int and bool operands, broadcasting; bad inputs.
OpInfo no_grad_binary(std::string name, BinaryFn f, std::vector<ErrorCase> more = {}) {
    auto samples = [f] {
        TensorFn fn = [f](const TensorList& x) { return f(x[0], x[1]); };
        TensorFn ints = [f](const TensorList& x) {
            return f(gt(x[0].detach(), 0.0), x[1].detach().to(int64));
        };
        return Samples{{"[2,3] with [2,3]", {rand64({2, 3}), rand64({2, 3})}, ints},
                       {"[2,3] with [3]", {rand64({2, 3}), rand64({3})}, ints},
                       {"0-d with [2]", {rand64({}), rand64({2})}, ints},
                       {"[2,1] with [1,3]", {rand64({2, 1}), rand64({1, 3})}, ints}};
    };
    auto errors = [f, more] {
        Errors e = {{"undefined", [f] { f(Tensor(), ones({2}, bool_)); }, "undefined"},
                    {"un-broadcastable", [f] { f(ones({2}, bool_), ones({3}, bool_)); },
                     "[2] and [3] cannot be broadcast"}};
        e.insert(e.end(), more.begin(), more.end());
        return e;
    };
    return OpInfo{std::move(name), samples, errors,
                  [] { return no_parity("bool results checked by hand in this file"); }, false};
}

#define XG_REGISTER_ROW(var, ...) \
    static Register var {         \
        __VA_ARGS__               \
    }

XG_REGISTER_ROW(logical_and_info,
                no_grad_binary("logical_and",
                               [](const Tensor& a, const Tensor& b) { return logical_and(a, b); }));
XG_REGISTER_ROW(logical_or_info, no_grad_binary("logical_or", [](const Tensor& a, const Tensor& b) {
                    return logical_or(a, b);
                }));
XG_REGISTER_ROW(logical_xor_info,
                no_grad_binary("logical_xor",
                               [](const Tensor& a, const Tensor& b) { return logical_xor(a, b); }));
const ErrorCase float_bits{"float operands", [] { bitwise_and(ones({2}), ones({2})); },
                           "only bool and integer tensors have bits, got float32 and float32"};
XG_REGISTER_ROW(bitwise_and_info,
                no_grad_binary("bitwise_and",
                               [](const Tensor& a, const Tensor& b) { return bitwise_and(a, b); },
                               {float_bits}));
XG_REGISTER_ROW(bitwise_or_info,
                no_grad_binary("bitwise_or",
                               [](const Tensor& a, const Tensor& b) { return bitwise_or(a, b); },
                               {{"float operand", [] { bitwise_or(ones({2}, int64), ones({2})); },
                                 "got int64 and float32"}}));
XG_REGISTER_ROW(bitwise_xor_info,
                no_grad_binary("bitwise_xor",
                               [](const Tensor& a, const Tensor& b) { return bitwise_xor(a, b); },
                               {{"float operand",
                                 [] { bitwise_xor(ones({2}, float64), ones({2}, bool_)); },
                                 "got float64 and bool"}}));
XG_REGISTER_OP_INFO(
    floor_divide_info,
    {"floor_divide",
     [] {
         TensorFn ints = [](const TensorList& x) {
             return floor_divide(mul(x[0].detach(), 10).to(int64), add(x[1].detach(), 2).to(int32));
         };
         TensorFn floats = [](const TensorList& x) { return floor_divide(x[0], add(x[1], 2)); };
         return Samples{{"int64 by int32 [2,3]", {rand64({2, 3}), rand64({2, 3})}, ints},
                        {"int64 by int32 [3] and 0-d", {rand64({3}), rand64({})}, ints},
                        {"float64 [2,1] by [1,3]", {rand64({2, 1}), rand64({1, 3})}, floats},
                        {"float64 0-d", {rand64({}), rand64({})}, floats}};
     },
     [] {
         return Errors{
             {"by zero", [] { floor_divide(ones({2}, int64), zeros({2}, int64)); },
              "integer division by zero (rounding_mode 'floor')"},
             {"bool operands", [] { floor_divide(ones({2}, bool_), ones({2}, bool_)); },
              "not supported for bool"},
             {"un-broadcastable", [] { floor_divide(ones({2}), ones({3})); }, "[2] and [3]"},
             {"undefined", [] { floor_divide(Tensor(), ones({2})); }, "undefined"},
         };
     },
     [] { return no_parity("integer results checked by hand in tests/test_dtype.cpp"); }, false});

// A no-gradient unary op over bool, int and float inputs.
OpInfo no_grad_unary(std::string name, std::function<Tensor(const Tensor&)> f,
                     std::vector<ErrorCase> more = {}) {
    auto samples = [f] {
        TensorFn fl = [f](const TensorList& x) { return f(x[0]); };
        TensorFn bl = [f](const TensorList& x) { return f(gt(x[0].detach(), 0.0)); };
        TensorFn il = [f](const TensorList& x) { return f(mul(x[0].detach(), 5).to(int32)); };
        return Samples{{"bool [2,3]", {rand64({2, 3})}, bl},
                       {"int32 [4]", {rand64({4})}, il},
                       {"bool 0-d", {rand64({})}, bl},
                       {"any [2,1,3]", {rand64({2, 1, 3})}, fl}};
    };
    auto errors = [f, more] {
        Errors e = {{"undefined", [f] { f(Tensor()); }, "undefined"}};
        e.insert(e.end(), more.begin(), more.end());
        return e;
    };
    return OpInfo{std::move(name), samples, errors,
                  [] { return no_parity("bool results checked by hand in this file"); }, false};
}

XG_REGISTER_ROW(logical_not_info,
                no_grad_unary("logical_not", [](const Tensor& a) { return logical_not(a); }));
XG_REGISTER_ROW(bitwise_not_info,
                no_grad_unary("bitwise_not",
                              [](const Tensor& a) {
                                  return a.defined() && is_floating(a.dtype())
                                             ? bitwise_not(gt(a, 0.0))
                                             : bitwise_not(a);
                              },
                              {{"float input", [] { bitwise_not(ones({2})); },
                                "only bool and integer tensors have bits, got float32"}}));
XG_REGISTER_ROW(any_info, no_grad_unary("any",
                                        [](const Tensor& a) {
                                            return a.defined() && a.dim() >= 2 ? any(a, 1, true)
                                                                               : any(a);
                                        },
                                        {{"dim out of range", [] { any(ones({2}, bool_), 1); },
                                          "dim 1 is out of range for a tensor of 1 dims"}}));
XG_REGISTER_ROW(all_info, no_grad_unary("all",
                                        [](const Tensor& a) {
                                            return a.defined() && a.dim() >= 2 ? all(a, -1)
                                                                               : all(a);
                                        },
                                        {{"dim out of range", [] { all(ones({2}, bool_), -2); },
                                          "dim -2 is out of range for a tensor of 1 dims"}}));

XG_REGISTER_OP_INFO(
    masked_fill_info,
    {"masked_fill",
     [] {
         Tensor m = mask23();
         return Samples{
             {"[2,3] scalar",
              {rand64({2, 3})},
              [m](const TensorList& x) { return masked_fill(x[0], m, 0.5); }},
             {"[2,3] mask [3]",
              {rand64({2, 3})},
              [](const TensorList& x) {
                  return masked_fill(x[0], tensor({0, 1, 1}, bool_), -2);
              }},
             {"0-d value tensor",
              {rand64({2, 3}), rand64({})},
              [m](const TensorList& x) { return masked_fill(x[0], m, x[1]); }},
             {"[4,2,3] mask [2,3]",
              {rand64({4, 2, 3}), rand64({})},
              [m](const TensorList& x) { return mul(masked_fill(x[0], m, x[1]), x[0]); }},
         };
     },
     [] {
         return Errors{
             {"float mask", [] { masked_fill(ones({2}), ones({2}), 0); },
              "expected a bool mask, got float32"},
             {"mask larger than input",
              [] {
                  masked_fill(ones({3}), ones({2, 3}, bool_), 0);
              },
              "mask of shape [2, 3] does not broadcast to the input's shape [3]"},
             {"value not 0-d", [] { masked_fill(ones({3}), ones({3}, bool_), ones({1})); },
              "the value must be a 0-d tensor, got shape [1]"},
             {"int value out of range",
              [] { masked_fill(ones({3}, int32), ones({3}, bool_), std::int64_t{1} << 40); },
              "value 1099511627776 cannot be represented as int32"},
             {"undefined mask", [] { masked_fill(ones({3}), Tensor(), 1); }, "'mask'"},
         };
     },
     [] { return no_parity("a selection: values and gradients checked by hand in this file"); }});

XG_REGISTER_OP_INFO(
    masked_select_info,
    {"masked_select",
     [] {
         Tensor m = mask23();
         TensorFn same = [m](const TensorList& x) { return masked_select(x[0], m); };
         return Samples{
             {"[2,3]", {rand64({2, 3})}, same},
             {"a [3], mask [2,3]", {rand64({3})}, same},
             {"a [2,3], mask [3]",
              {rand64({2, 3})},
              [](const TensorList& x) {
                  return masked_select(x[0], tensor({1, 0, 1}, bool_));
              }},
             {"0-d mask",
              {rand64({2, 3})},
              [](const TensorList& x) { return masked_select(x[0], tensor(1.0, bool_)); }},
         };
     },
     [] {
         return Errors{
             {"int mask", [] { masked_select(ones({2}), ones({2}, int64)); },
              "expected a bool mask, got int64"},
             {"un-broadcastable", [] { masked_select(ones({2}), ones({3}, bool_)); },
              "[2] and [3] cannot be broadcast"},
             {"undefined input", [] { masked_select(Tensor(), ones({3}, bool_)); }, "'input'"},
         };
     },
     [] { return no_parity("a selection: values and gradients checked by hand in this file"); }});

}  // namespace

TEST_CASE("logical: truth tables, bitwise ops and operators") {
    Tensor p = tensor({1, 1, 0, 0}, bool_), q = tensor({1, 0, 1, 0}, bool_);
    CHECK(longs(logical_and(p, q)) == std::vector<std::int64_t>{1, 0, 0, 0});
    CHECK(longs(logical_or(p, q)) == std::vector<std::int64_t>{1, 1, 1, 0});
    CHECK(longs(logical_xor(p, q)) == std::vector<std::int64_t>{0, 1, 1, 0});
    CHECK(longs(logical_not(p)) == std::vector<std::int64_t>{0, 0, 1, 1});
    CHECK(longs(p & q) == longs(logical_and(p, q)));
    CHECK(longs(p | q) == longs(logical_or(p, q)));
    CHECK(longs(p ^ q) == longs(logical_xor(p, q)));
    CHECK(longs(~p) == longs(logical_not(p)));
    // Nonzero numbers are true, NaN included.
    CHECK(longs(logical_and(tensor({2.0, NAN, 0.0}), tensor({-1, 1, 1}, int64))) ==
          std::vector<std::int64_t>{1, 1, 0});
    // On integers & | ^ ~ are bitwise.
    Tensor a = tensor({12, -1}, int64), b = tensor({10, 5}, int32);
    CHECK((a & b).dtype() == int64);
    CHECK(longs(a & b) == std::vector<std::int64_t>{8, 5});
    CHECK(longs(a | b) == std::vector<std::int64_t>{14, -1});
    CHECK(longs(a ^ b) == std::vector<std::int64_t>{6, -6});
    CHECK(longs(~a) == std::vector<std::int64_t>{-13, 0});
    // A mask made of comparisons, libtorch style.
    Tensor x = tensor({-2, -0.5, 0.5, 2});
    CHECK(longs((x > -1) & (x < 1)) == std::vector<std::int64_t>{0, 1, 1, 0});
}

TEST_CASE("logical: any and all") {
    Tensor m = tensor({{1, 0, 0}, {0, 0, 0}}, bool_);
    CHECK(any(m).item<bool>());
    CHECK_FALSE(all(m).item<bool>());
    CHECK(longs(any(m, 1)) == std::vector<std::int64_t>{1, 0});
    CHECK(any(m, 1, true).shape() == Shape{2, 1});
    CHECK(longs(all(tensor({{1, 2}, {0, 3}}), 0)) == std::vector<std::int64_t>{0, 1});
    CHECK(all(zeros({0}, bool_)).item<bool>());  // vacuous truth, as torch.all
    CHECK_FALSE(any(zeros({0}, bool_)).item<bool>());
}

TEST_CASE("logical: masked_fill values and gradients") {
    Tensor x = tensor({{1, 2, 3}, {4, 5, 6}}, float64).requires_grad_();
    Tensor y = masked_fill(x, mask23(), -1.0);
    check_values(y, {-1, 2, -1, 4, 5, -1});
    y.sum().backward();
    check_values(x.grad(), {0, 1, 0, 1, 1, 0});
    Tensor v = tensor(0.5, float64).requires_grad_();
    masked_fill(x.detach(), mask23(), v).sum().backward();
    check_values(v.grad(), {3});  // one per filled position
    // The attention idiom: scores masked to -inf where a causal mask forbids.
    Tensor s = zeros({2, 2});
    Tensor causal = tensor({{0, 1}, {0, 0}}, bool_);
    Tensor filled = masked_fill(s, causal, -INFINITY);
    CHECK(std::isinf(filled.to_vector()[1]));
    // Integer tensors keep their dtype.
    Tensor ids = masked_fill(tensor({1, 2, 3}, int64), tensor({0, 1, 0}, bool_), 9);
    CHECK(ids.dtype() == int64);
    CHECK(longs(ids) == std::vector<std::int64_t>{1, 9, 3});
}

TEST_CASE("logical: masked_select values and gradients, with broadcasting") {
    Tensor x = tensor({1, 2, 3}, float64).requires_grad_();
    Tensor y = masked_select(x, mask23());  // x broadcast to [2, 3]
    check_values(y, {1, 3, 3});
    mul(y, tensor({1, 10, 100}, float64)).sum().backward();
    check_values(x.grad(), {1, 0, 110});
    CHECK(masked_select(x, zeros({3}, bool_)).shape() == Shape{0});
    CHECK(longs(masked_select(tensor({5, 6}, int32), tensor({0, 1}, bool_))) ==
          std::vector<std::int64_t>{6});
}

}  // namespace xg::testing

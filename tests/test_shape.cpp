// Movement ops: OpInfos for the registry walk, and forward values checked by hand.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "core/tensor_impl.hpp"
#include "tests/error_of.hpp"
#include "tests/op_registry.hpp"

namespace xg::testing {

namespace {

using UnaryFn = std::function<Tensor(const Tensor&)>;
using ListOp = Tensor (*)(const TensorList&, std::int64_t, Site);

// Adds a sample of a one-input op on a random float64 input of the given shape.
void un(std::vector<Sample>& s, std::string desc, const Shape& shape, UnaryFn f) {
    s.push_back({std::move(desc), {rand64(shape)}, [f](const TensorList& x) { return f(x[0]); }});
}

void lst(std::vector<Sample>& s, std::string desc, TensorList ts, ListOp op, std::int64_t dim) {
    s.push_back({std::move(desc), std::move(ts),
                 [op, dim](const TensorList& x) { return op(x, dim, Site()); }});
}

void er(std::vector<ErrorCase>& e, std::string desc, std::string fragment,
        std::function<void()> call) {
    e.push_back({std::move(desc), std::move(call), std::move(fragment)});
}

std::vector<double> values(const Tensor& t) {
    return t.to_vector();
}

// ---- reshape, view, flatten, squeeze, unsqueeze ----

std::vector<Sample> reshape_samples() {
    std::vector<Sample> s;
    un(s, "[2,3] -> [3,2]", {2, 3}, [](const Tensor& a) { return reshape(a, {3, 2}); });
    un(s, "[2,3,1] -> [-1]", {2, 3, 1}, [](const Tensor& a) { return reshape(a, {-1}); });
    un(s, "[4] -> [2,1,-1]", {4}, [](const Tensor& a) { return reshape(a, {2, 1, -1}); });
    un(s, "[1] -> []", {1}, [](const Tensor& a) { return reshape(a, {}); });
    return s;
}

std::vector<ErrorCase> reshape_errors() {
    std::vector<ErrorCase> e;
    er(e, "wrong size", "shape [4, 2] is invalid for input of size 6", [] {
        reshape(zeros({2, 3}), {4, 2});
    });
    er(e, "two -1", "only one dimension can be -1", [] { reshape(zeros({2, 3}), {-1, -1}); });
    er(e, "negative size", "invalid size -2", [] { reshape(zeros({2, 3}), {-2, 3}); });
    er(e, "empty input, sizes whose product overflows",
       "shape [4611686018427387904, 4] has too many elements", [] {
           reshape(zeros({0}), {std::int64_t{1} << 62, 4});
       });
    er(e, "empty result whose strides overflow",
       "shape [0, 1099511627776, 1099511627776] has too many elements", [] {
           reshape(zeros({0}), {0, std::int64_t{1} << 40, std::int64_t{1} << 40});
       });
    return e;
}

std::vector<Sample> view_samples() {
    std::vector<Sample> s;
    un(s, "[2,3] -> [6]", {2, 3}, [](const Tensor& a) { return view(a, {6}); });
    un(s, "[6] -> [3,-1]", {6}, [](const Tensor& a) { return view(a, {3, -1}); });
    un(s, "[1,4] -> [2,2,1]", {1, 4}, [](const Tensor& a) { return a.view({2, 2, 1}); });
    un(s, "0-d -> [1,1]", {}, [](const Tensor& a) { return view(a, {1, 1}); });
    return s;
}

std::vector<ErrorCase> view_errors() {
    std::vector<ErrorCase> e;
    er(e, "wrong size", "shape [5] is invalid", [] { view(zeros({2, 3}), {5}); });
    er(e, "-1 cannot divide", "invalid for input of size 6", [] { view(zeros({2, 3}), {4, -1}); });
    er(e, "two -1", "only one dimension can be -1", [] { view(zeros({4}), {-1, -1}); });
    er(e, "-1 with a zero-size input", "invalid", [] { view(zeros({0, 2}), {-1, 0}); });
    return e;
}

std::vector<Sample> flatten_samples() {
    std::vector<Sample> s;
    un(s, "[2,3,2] all", {2, 3, 2}, [](const Tensor& a) { return flatten(a); });
    un(s, "[2,3,2] from 1", {2, 3, 2}, [](const Tensor& a) { return flatten(a, 1); });
    un(s, "[2,1,3,2] dims 1..-2", {2, 1, 3, 2}, [](const Tensor& a) { return a.flatten(1, -2); });
    un(s, "[3] already flat", {3}, [](const Tensor& a) { return flatten(a); });
    return s;
}

std::vector<ErrorCase> flatten_errors() {
    std::vector<ErrorCase> e;
    er(e, "start after end", "start_dim 2 comes after end_dim 1", [] {
        flatten(zeros({2, 3, 4}), 2, 1);
    });
    er(e, "dim out of range", "dim 2 is out of range", [] { flatten(zeros({2, 3}), 0, 2); });
    er(e, "negative dim", "dim -3 is out of range", [] { flatten(zeros({2, 3}), -3); });
    er(e, "start_dim out of range", "dim 5 is out of range", [] { flatten(zeros({2, 3}), 5); });
    return e;
}

std::vector<Sample> squeeze_samples() {
    std::vector<Sample> s;
    un(s, "[2,1,3,1] all", {2, 1, 3, 1}, [](const Tensor& a) { return squeeze(a); });
    un(s, "[2,1,3] dim 1", {2, 1, 3}, [](const Tensor& a) { return squeeze(a, 1); });
    un(s, "[2,3,1] dim -1", {2, 3, 1}, [](const Tensor& a) { return a.squeeze(-1); });
    un(s, "[1] all -> 0-d", {1}, [](const Tensor& a) { return squeeze(a); });
    return s;
}

std::vector<ErrorCase> squeeze_errors() {
    std::vector<ErrorCase> e;
    er(e, "dim too large", "dim 2 is out of range", [] { squeeze(zeros({2, 1}), 2); });
    er(e, "dim too negative", "dim -3 is out of range", [] { squeeze(zeros({2, 1}), -3); });
    er(e, "undefined", "undefined", [] { squeeze(Tensor()); });
    return e;
}

std::vector<Sample> unsqueeze_samples() {
    std::vector<Sample> s;
    un(s, "[2,3] dim 0", {2, 3}, [](const Tensor& a) { return unsqueeze(a, 0); });
    un(s, "[2,3] dim 2 (end)", {2, 3}, [](const Tensor& a) { return unsqueeze(a, 2); });
    un(s, "[2,3] dim -2", {2, 3}, [](const Tensor& a) { return a.unsqueeze(-2); });
    un(s, "[1] dim -1", {1}, [](const Tensor& a) { return unsqueeze(a, -1); });
    return s;
}

std::vector<ErrorCase> unsqueeze_errors() {
    std::vector<ErrorCase> e;
    er(e, "dim too large", "dim 3 is out of range", [] { unsqueeze(zeros({2, 3}), 3); });
    er(e, "dim too negative", "dim -4 is out of range", [] { unsqueeze(zeros({2, 3}), -4); });
    er(e, "dim INT64_MAX", "dim 9223372036854775807 is out of range",
       [] { unsqueeze(zeros({2}), INT64_MAX); });
    er(e, "undefined", "undefined", [] { unsqueeze(Tensor(), 0); });
    return e;
}

// ---- transpose, permute ----

std::vector<Sample> transpose_samples() {
    std::vector<Sample> s;
    un(s, "[2,3] 0,1", {2, 3}, [](const Tensor& a) { return transpose(a, 0, 1); });
    un(s, "[2,3,4] 0,2", {2, 3, 4}, [](const Tensor& a) { return transpose(a, 0, 2); });
    un(s, "[2,3,4] -1,-3", {2, 3, 4}, [](const Tensor& a) { return a.transpose(-1, -3); });
    un(s, "[1,3,1] 0,1", {1, 3, 1}, [](const Tensor& a) { return transpose(a, 0, 1); });
    return s;
}

std::vector<ErrorCase> transpose_errors() {
    std::vector<ErrorCase> e;
    er(e, "dim too large", "dim 2 is out of range for a tensor of 2 dims", [] {
        transpose(zeros({2, 3}), 0, 2);
    });
    er(e, "dim too negative", "dim -3 is out of range", [] { transpose(zeros({2, 3}), -3, 0); });
    er(e, "undefined", "undefined", [] { transpose(Tensor(), 0, 1); });
    return e;
}

std::vector<Sample> permute_samples() {
    std::vector<Sample> s;
    un(s, "[2,3,4] 2,0,1", {2, 3, 4}, [](const Tensor& a) { return permute(a, {2, 0, 1}); });
    un(s, "[2,3,4] -1,0,-2", {2, 3, 4}, [](const Tensor& a) { return a.permute({-1, 0, -2}); });
    un(s, "[1,2,1,3] 3,1,0,2", {1, 2, 1, 3}, [](const Tensor& a) {
        return permute(a, {3, 1, 0, 2});
    });
    un(s, "[2,3] 1,0", {2, 3}, [](const Tensor& a) { return permute(a, {1, 0}); });
    return s;
}

std::vector<ErrorCase> permute_errors() {
    std::vector<ErrorCase> e;
    er(e, "too few dims", "dims [1, 0] has 2 entries, the input [2, 3, 4] has 3", [] {
        permute(zeros({2, 3, 4}), {1, 0});
    });
    er(e, "repeated dim", "dim 2 appears more than once in [0, 2, -1]", [] {
        permute(zeros({2, 3, 4}), {0, 2, -1});
    });
    er(e, "out of range", "dim 2 is out of range", [] { permute(zeros({2, 3}), {0, 2}); });
    return e;
}

// ---- slice, cat, stack, pad ----

std::vector<Sample> slice_samples() {
    std::vector<Sample> s;
    un(s, "[5,3] dim 0 1:4", {5, 3}, [](const Tensor& a) { return slice(a, 0, 1, 4); });
    un(s, "[7] 0:7:2", {7}, [](const Tensor& a) { return slice(a, 0, 0, 7, 2); });
    un(s, "[2,6] dim -1 -4:-1", {2, 6}, [](const Tensor& a) { return slice(a, -1, -4, -1); });
    un(s, "[3,4] dim 1 clamped -10:10:3", {3, 4},
       [](const Tensor& a) { return slice(a, 1, -10, 10, 3); });
    un(s, "[2,1,5] dim 1 0:1", {2, 1, 5}, [](const Tensor& a) { return slice(a, 1, 0, 1); });
    un(s, "[2,5,2] dim 1 1:5:3", {2, 5, 2}, [](const Tensor& a) { return slice(a, 1, 1, 5, 3); });
    return s;
}

std::vector<ErrorCase> slice_errors() {
    std::vector<ErrorCase> e;
    er(e, "step 0", "step must be at least 1, got 0", [] { slice(zeros({4}), 0, 0, 4, 0); });
    er(e, "negative step", "step must be at least 1, got -1",
       [] { slice(zeros({4}), 0, 3, 0, -1); });
    er(e, "dim out of range", "dim 2 is out of range", [] { slice(zeros({2, 3}), 2, 0, 1); });
    er(e, "0-d input", "cannot slice a 0-d tensor", [] { slice(scalar_tensor(1.0), 0, 0, 1); });
    return e;
}

std::vector<Sample> cat_samples() {
    std::vector<Sample> s;
    lst(s, "[2,3] + [1,3] dim 0", {rand64({2, 3}), rand64({1, 3})}, cat, 0);
    lst(s, "[2,1] + [2,3] + [2,2] dim -1", {rand64({2, 1}), rand64({2, 3}), rand64({2, 2})}, cat,
        -1);
    lst(s, "1-D [3] + [2]", {rand64({3}), rand64({2})}, cat, 0);
    lst(s, "[2,2,2] + [2,1,2] dim 1, one constant", {rand64({2, 2, 2}), rand64({2, 1, 2}).detach()},
        cat, 1);
    lst(s, "single tensor", {rand64({2, 2})}, cat, 1);
    return s;
}

std::vector<ErrorCase> cat_errors() {
    std::vector<ErrorCase> e;
    er(e, "empty list", "expected a non-empty list", [] { cat({}, 0); });
    er(e, "shapes",
       "tensor 1 has shape [3, 3], which does not match tensor 0's [2, 3] except in dim 1", [] {
           cat({zeros({2, 3}), zeros({3, 3})}, 1);
       });
    er(e, "ndim", "tensor 1 has shape [2, 3, 1]", [] { cat({zeros({2, 3}), zeros({2, 3, 1})}); });
    er(e, "dtypes", "tensor 1 has dtype float64, tensor 0 has float32", [] {
        cat({zeros({2}), zeros({2}, float64), zeros({2})});
    });
    er(e, "dim out of range", "dim 2 is out of range", [] { cat({zeros({2, 3})}, 2); });
    er(e, "0-d", "0-d", [] { cat({scalar_tensor(1.0)}); });
    er(e, "empty inputs whose sizes overflow the strides",
       "shape [0, 9, 2305843009213693952] has too many elements", [] {
           Tensor z = zeros({0, 3, std::size_t(1) << 61});
           cat({z, z, z}, 1);
       });
    er(e, "empty inputs whose sizes overflow int64", "the concatenated size overflows int64", [] {
        Tensor z = zeros({0, std::size_t(1) << 62});
        cat({z, z}, 1);
    });
    return e;
}

std::vector<Sample> stack_samples() {
    std::vector<Sample> s;
    lst(s, "3 x [2,3] dim 0", {rand64({2, 3}), rand64({2, 3}), rand64({2, 3})}, stack, 0);
    lst(s, "2 x [2,3] dim -1", {rand64({2, 3}), rand64({2, 3})}, stack, -1);
    lst(s, "2 x [1,2] dim 1, one constant", {rand64({1, 2}), rand64({1, 2}).detach()}, stack, 1);
    lst(s, "3 x 0-d", {rand64({}), rand64({}), rand64({})}, stack, 0);
    return s;
}

std::vector<ErrorCase> stack_errors() {
    std::vector<ErrorCase> e;
    er(e, "empty list", "non-empty list", [] { stack({}, 0); });
    er(e, "shapes", "tensor 2 has shape [3, 2], which does not match tensor 0's [2, 3]", [] {
        stack({zeros({2, 3}), zeros({2, 3}), zeros({3, 2})});
    });
    er(e, "dtypes", "tensor 1 has dtype float64", [] { stack({zeros({2}), zeros({2}, float64)}); });
    er(e, "dim out of range", "dim 3 is out of range", [] { stack({zeros({2, 3})}, 3); });
    er(e, "empty inputs whose strides overflow",
       "shape [3, 0, 4611686018427387904] has too many elements", [] {
           Tensor z = zeros({0, std::size_t(1) << 62});
           stack({z, z, z}, 0);
       });
    return e;
}

std::vector<Sample> pad_samples() {
    std::vector<Sample> s;
    un(s, "[3] (1,2)", {3}, [](const Tensor& a) { return pad(a, {1, 2}); });
    un(s, "[2,3] (1,0,0,2) value 0.5", {2, 3}, [](const Tensor& a) {
        return pad(a, {1, 0, 0, 2}, 0.5);
    });
    un(s, "[4,5] crop (-1,2,1,-2)", {4, 5}, [](const Tensor& a) { return pad(a, {-1, 2, 1, -2}); });
    un(s, "[1,2,3] last dim only (0,1)", {1, 2, 3}, [](const Tensor& a) { return pad(a, {0, 1}); });
    un(s, "[2,1,2] all dims", {2, 1, 2}, [](const Tensor& a) {
        return pad(a, {1, 1, 0, 1, 1, 0});
    });
    return s;
}

std::vector<ErrorCase> pad_errors() {
    std::vector<ErrorCase> e;
    er(e, "odd pads", "pads [1, 2, 3] must have an even length", [] {
        pad(zeros({3}), {1, 2, 3});
    });
    er(e, "too many pads", "at most 2 * 1", [] { pad(zeros({3}), {1, 1, 1, 1}); });
    er(e, "crop too much", "pads -2 and -2 crop more than the 3 elements of dim 1", [] {
        pad(zeros({2, 3}), {-2, -2});
    });
    er(e, "crop past the end", "pads -4 and 5", [] { pad(zeros({3}), {-4, 5}); });
    er(e, "crop with huge negative widths", "crop more than", [] {
        pad(zeros({2, 3}), {-(std::int64_t{1} << 62), -(std::int64_t{1} << 62)});
    });
    // Found by tests/fuzz/fuzz_tensor_ops: extreme pads overflowed (signed overflow negating
    // INT64_MIN, a wrapped size), and an int64 fill value was cast without a check.
    er(e, "pad INT64_MIN", "pad width -9223372036854775808 is out of range", [] {
        pad(zeros({3}), {INT64_MIN, 0});
    });
    er(e, "size overflows int64", "the padded size overflows int64 (3 + 9223372036854775807)", [] {
        pad(zeros({3}), {INT64_MAX, 1});
    });
    er(e, "too many elements", "pad: shape [4, 4611686018427387905] has too many elements", [] {
        pad(zeros({4, 1}), {0, std::int64_t{1} << 62});
    });
    er(e, "2^45 padded elements exceed the allocation limit", "allocation limit", [] {
        pad(zeros({1}), {std::int64_t{1} << 45, 0});
    });
    er(e, "int64 value", "pad: value nan cannot be represented as int64", [] {
        pad(zeros({2}, int64), {1, 1}, std::nan(""));
    });
    er(e, "int64 value too big", "pad: value 1e+19 cannot be represented as int64", [] {
        pad(zeros({2}, int64), {1, 1}, 1e19);
    });
    return e;
}

// Found by tests/fuzz/fuzz_tensor_ops (UBSan: signed overflow computing xtensor's strides): an
// empty shape whose nonzero sizes multiply past the element limit is refused like a full one.
TEST_CASE("reshape, view and zeros: empty shapes with overflowing sizes throw") {
    const std::int64_t big = std::int64_t{1} << 62;
    CHECK(error_of([&] {
              reshape(zeros({0}), {0, big, 4});
          }) ==
          "reshape: shape [0, 4611686018427387904, 4] has too many elements (the product of its "
          "sizes overflows)");
    CHECK(error_of([&] {
              view(zeros({0, 3}), {big, 0, 4});
          })
              .find("view: shape [4611686018427387904, "
                    "0, 4] has too many elements") == 0);
    CHECK(error_of([] { zeros({0, std::size_t{1} << 62, 4}); }).find("zeros: shape [0, ") == 0);
    CHECK(error_of([&] { view(zeros({0}), {-1, big, 3}); }).find("view: shape [0, ") == 0);
    CHECK(reshape(zeros({0}), {0, big / 8}).shape() == Shape{0, std::size_t{1} << 59});
    CHECK(flatten(zeros({0, 1ul << 31, 1ul << 31}), 1).shape() == Shape{0, std::size_t{1} << 62});
    // Also found by the fuzzer: cat and stack looped over the 2^59 rows of such an empty tensor
    // (a hang); the result is empty, so they return at once.
    Tensor e = reshape(zeros({0}), {big / 8, 0});
    CHECK(stack({e, e}, 1).shape() == Shape{std::size_t{1} << 59, 2, 0});
    CHECK(cat({e, e}, 1).shape() == Shape{std::size_t{1} << 59, 0});
    Tensor sliced = slice(e, 1, 0, 0);  // slice looped over those rows too
    CHECK(sliced.shape() == e.shape());
}

// Found by tests/fuzz/fuzz_tensor_ops (UBSan: signed overflow rounding the count up).
TEST_CASE("slice: a step near INT64_MAX takes one element") {
    Tensor x = arange(5.0, float64).requires_grad_();
    Tensor y = slice(x, 0, 1, INT64_MAX, INT64_MAX);
    CHECK(y.to_vector() == std::vector<double>{1.0});
    y.sum().backward();
    CHECK(x.grad().to_vector() == std::vector<double>{0.0, 1.0, 0.0, 0.0, 0.0});
    CHECK(slice(x, 0, 0, 5, INT64_MAX - 1).to_vector() == std::vector<double>{0.0});
    CHECK(slice(x, 0, 0, 5, INT64_MAX).to_vector() == std::vector<double>{0.0});
    // Extreme bounds clamp as in Python: everything, or an empty slice.
    CHECK(slice(x, 0, INT64_MIN, INT64_MAX, 2).shape() == Shape{3});
    CHECK(slice(x, 0, INT64_MAX, INT64_MAX).shape() == Shape{0});
}

// Found by tests/fuzz/fuzz_tensor_ops (UBSan: offset applied to the null data pointer of an
// empty array): pads where nothing of the input is kept, or the input or output is empty.
TEST_CASE("pad: empty inputs, empty outputs and inputs cropped away entirely") {
    Tensor a = pad(zeros({0, 2}), {1, 1}, 3.0);
    CHECK(a.shape() == Shape{0, 4});
    Tensor b = pad(zeros({2, 0}), {1, 2}, 3.0);
    CHECK(b.shape() == Shape{2, 3});
    CHECK(b.to_vector() == std::vector<double>(6, 3.0));
    Tensor x = ones({3}, float64).requires_grad_();
    Tensor c = pad(x, {-3, 2}, 7.0);
    CHECK(c.to_vector() == std::vector<double>{7.0, 7.0});
    c.sum().backward();
    CHECK(x.grad().to_vector() == std::vector<double>{0.0, 0.0, 0.0});
    Tensor d = pad(zeros({2, 3}, int64), {0, 0, -1, -1}, 5.0);
    CHECK(d.shape() == Shape{0, 3});
}

}  // namespace

XG_REGISTER_OP_INFO(reshape_info, {"reshape", reshape_samples, reshape_errors, [] {
                                       return Parity{{{"core_reshape", 1, [](const TensorList& x) {
                                                           return reshape(x[0], {4, -1});
                                                       }}}};
                                   }});
XG_REGISTER_OP_INFO(view_info,
                    {"view", view_samples, view_errors, [] {
                         return no_parity(
                             "the same function as reshape (xgrad tensors are always contiguous)");
                     }});
XG_REGISTER_OP_INFO(flatten_info,
                    {"flatten", flatten_samples, flatten_errors, [] {
                         return Parity{{{"core_flatten", 1,
                                         [](const TensorList& x) { return flatten(x[0]); }},
                                        {"core_flatten_1_2", 1,
                                         [](const TensorList& x) { return flatten(x[0], 1, 2); }}}};
                     }});
XG_REGISTER_OP_INFO(squeeze_info,
                    {"squeeze", squeeze_samples, squeeze_errors, [] {
                         return Parity{{{"core_squeeze_all", 1,
                                         [](const TensorList& x) { return squeeze(x[0]); }},
                                        {"core_squeeze_dim1", 1,
                                         [](const TensorList& x) { return squeeze(x[0], 1); }}}};
                     }});
XG_REGISTER_OP_INFO(unsqueeze_info,
                    {"unsqueeze", unsqueeze_samples, unsqueeze_errors, [] {
                         return Parity{{{"core_unsqueeze_dim1", 1,
                                         [](const TensorList& x) { return unsqueeze(x[0], 1); }},
                                        {"core_unsqueeze_dimneg1", 1,
                                         [](const TensorList& x) { return unsqueeze(x[0], -1); }}}};
                     }});
XG_REGISTER_OP_INFO(transpose_info,
                    {"transpose", transpose_samples, transpose_errors, [] {
                         return Parity{{{"core_transpose", 1, [](const TensorList& x) {
                                             return transpose(x[0], 0, 2);
                                         }}}};
                     }});
XG_REGISTER_OP_INFO(permute_info, {"permute", permute_samples, permute_errors, [] {
                                       return Parity{{{"core_permute", 1, [](const TensorList& x) {
                                                           return permute(x[0], {1, 2, 0});
                                                       }}}};
                                   }});
XG_REGISTER_OP_INFO(
    slice_info,
    {"slice", slice_samples, slice_errors, [] {
         return Parity{
             {{"core_slice_step", 1, [](const TensorList& x) { return slice(x[0], 1, 1, 5, 2); }},
              {"core_slice_narrow", 1, [](const TensorList& x) { return slice(x[0], 0, 1, 3); }},
              {"core_slice_neg", 1, [](const TensorList& x) { return slice(x[0], 1, -4, 7); }}}};
     }});
XG_REGISTER_OP_INFO(cat_info, {"cat", cat_samples, cat_errors, [] {
                                   return Parity{{{"core_cat_dim0", 2,
                                                   [](const TensorList& x) {
                                                       return cat({x[0], x[1]}, 0);
                                                   }},
                                                  {"core_cat_dim1", 3, [](const TensorList& x) {
                                                       return cat({x[0], x[1], x[2]}, 1);
                                                   }}}};
                               }});
XG_REGISTER_OP_INFO(stack_info, {"stack", stack_samples, stack_errors, [] {
                                     return Parity{{{"core_stack_dim0", 2,
                                                     [](const TensorList& x) {
                                                         return stack({x[0], x[1]}, 0);
                                                     }},
                                                    {"core_stack_dim2", 3, [](const TensorList& x) {
                                                         return stack({x[0], x[1], x[2]}, 2);
                                                     }}}};
                                 }});
XG_REGISTER_OP_INFO(pad_info, {"pad", pad_samples, pad_errors, [] {
                                   return Parity{{{"core_pad_last", 1,
                                                   [](const TensorList& x) {
                                                       return pad(x[0], {1, 2});
                                                   }},
                                                  {"core_pad_two_dims", 1,
                                                   [](const TensorList& x) {
                                                       return pad(x[0], {2, 0, 1, 1}, 0.5);
                                                   }},
                                                  {"core_pad_3d", 1, [](const TensorList& x) {
                                                       return pad(x[0], {0, 1, 1, 0}, -1.0);
                                                   }}}};
                               }});

// ---- forward values by hand ----

TEST_CASE("transpose and permute: values") {
    Tensor a = tensor({{1, 2, 3}, {4, 5, 6}});
    Tensor t = transpose(a, 0, 1);
    CHECK(t.shape() == Shape{3, 2});
    CHECK(values(t) == std::vector<double>{1, 4, 2, 5, 3, 6});
    CHECK(values(a.transpose(-1, -2)) == values(t));
    Tensor same = transpose(a, 1, -1);  // the same dim twice: an alias of a
    CHECK_FALSE(same.is_same(a));
    CHECK(same.impl()->storage == a.impl()->storage);
    Tensor p = permute(reshape(arange(24, float64), {2, 3, 4}), {2, 0, 1});
    CHECK(p.shape() == Shape{4, 2, 3});
    // p[k][i][j] = a[i][j][k] = 12 i + 4 j + k
    CHECK(values(slice(slice(p, 0, 1, 2), 1, 1, 2)) == std::vector<double>{13, 17, 21});
    Tensor ints = transpose(reshape(arange(6, int64), {2, 3}), 0, 1);
    CHECK(ints.dtype() == int64);
    CHECK(values(ints) == std::vector<double>{0, 3, 1, 4, 2, 5});
}

TEST_CASE("permute: every permutation of shapes up to 5 dims, against index arithmetic") {
    Generator gen(7);
    for (std::size_t nd = 0; nd <= 5; ++nd) {
        for (int trial = 0; trial < 6; ++trial) {
            Shape shape(nd);
            for (auto& d : shape) d = 1 + std::size_t(gen.uniform() * 4);  // sizes 1..4
            std::vector<std::int64_t> perm(nd);
            std::iota(perm.begin(), perm.end(), 0);
            for (std::size_t i = nd; i > 1; --i)
                std::swap(perm[i - 1], perm[std::size_t(gen.uniform() * double(i)) % i]);
            Tensor a = arange(double(shape_numel(shape)), int64)
                           .reshape(std::vector<std::int64_t>(shape.begin(), shape.end()));
            for (Dtype dt : {int64, float32, bool_}) {
                Tensor x = a.to(dt == bool_ ? int64 : dt);
                if (dt == bool_) x = a > double(shape_numel(shape)) / 3.0;
                Tensor y = x.permute(perm);
                auto xv = x.to_vector(), yv = y.to_vector();
                // y[j] = x[sum_k j_k * in_stride[perm[k]]]
                std::vector<std::size_t> in_stride(nd, 1);
                for (std::size_t k = nd; k-- > 1;) in_stride[k - 1] = in_stride[k] * shape[k];
                std::vector<std::size_t> j(nd, 0);
                bool ok = y.numel() == x.numel();
                for (std::size_t flat = 0; ok && flat < yv.size(); ++flat) {
                    std::size_t off = 0;
                    for (std::size_t k = 0; k < nd; ++k)
                        off += j[k] * in_stride[std::size_t(perm[k])];
                    ok = yv[flat] == xv[off];
                    for (std::size_t k = nd; k-- > 0;) {
                        if (++j[k] < y.shape()[k]) break;
                        j[k] = 0;
                    }
                }
                CHECK_MESSAGE(
                    ok, "shape " << shape << " perm " << fmt::format("{}", fmt::join(perm, ",")));
            }
        }
    }
}

TEST_CASE("slice: steps and Python clamping") {
    Tensor x = arange(10, float64);
    CHECK(values(slice(x, 0, 1, 8, 3)) == std::vector<double>{1, 4, 7});
    CHECK(values(slice(x, 0, -3, 100)) == std::vector<double>{7, 8, 9});
    CHECK(values(slice(x, 0, -100, 2)) == std::vector<double>{0, 1});
    CHECK(values(slice(x, 0, 0, 10, 4)) == std::vector<double>{0, 4, 8});
    CHECK(slice(x, 0, 6, 3).shape() == Shape{0});
    CHECK(slice(x, 0, 12, 20).shape() == Shape{0});
    Tensor m = reshape(arange(12, float64), {3, 4});
    Tensor c = slice(m, 1, 1, 4, 2);
    CHECK(c.shape() == Shape{3, 2});
    CHECK(values(c) == std::vector<double>{1, 3, 5, 7, 9, 11});
    CHECK(values(slice(arange(5, int64), 0, 3, 5)) == std::vector<double>{3, 4});
}

TEST_CASE("slice: the gradient scatters into zeros, and slice_backward differentiates") {
    Tensor x = rand64({2, 5});
    Tensor y = slice(x, 1, 1, 5, 2);
    y.backward(ones_like(y));
    CHECK(values(x.grad()) == std::vector<double>{0, 1, 0, 1, 0, 0, 1, 0, 1, 0});
    CHECK(y.grad_fn()->name() == "SliceBackward");
    TensorFn f = [](const TensorList& v) {
        return detail::slice_backward(v[0], Shape{2, 7}, -1, 1, 6, 2);
    };
    Tensor g = rand64({2, 3});
    CHECK(gradcheck(f, {g}).ok);
    CHECK(gradgradcheck(f, {g}).ok);
    CHECK_THROWS_WITH_AS(detail::slice_backward(g, Shape{2, 7}, 1, 0, 7, 2),
                         doctest::Contains("expected [2, 4]"), Error);
}

TEST_CASE("cat and stack: order and shapes") {
    Tensor a = tensor({{1, 2}, {3, 4}}), b = tensor({{5, 6}});
    Tensor c0 = cat({a, b}, 0);
    CHECK(c0.shape() == Shape{3, 2});
    CHECK(values(c0) == std::vector<double>{1, 2, 3, 4, 5, 6});
    Tensor c1 = cat({a, reshape(tensor({7, 8}), {2, 1}), a}, -1);
    CHECK(c1.shape() == Shape{2, 5});
    CHECK(values(c1) == std::vector<double>{1, 2, 7, 1, 2, 3, 4, 8, 3, 4});
    CHECK(cat({zeros({2, 0}), ones({2, 1})}, 1).shape() == Shape{2, 1});
    Tensor s0 = stack({a, mul(a, 10.0)}, 0);
    CHECK(s0.shape() == Shape{2, 2, 2});
    CHECK(values(s0) == std::vector<double>{1, 2, 3, 4, 10, 20, 30, 40});
    Tensor s2 = stack({a, mul(a, 10.0)}, 2);
    CHECK(s2.shape() == Shape{2, 2, 2});
    CHECK(values(s2) == std::vector<double>{1, 10, 2, 20, 3, 30, 4, 40});
    Tensor s = stack({scalar_tensor(1.0), scalar_tensor(2.0)});
    CHECK(s.shape() == Shape{2});
    CHECK(values(s) == std::vector<double>{1, 2});
}

TEST_CASE("cat: gradients go back to each input in order") {
    Tensor a = rand64({2}), b = rand64({3});
    Tensor y = cat({a, b});
    y.backward(tensor({1, 2, 3, 4, 5}, float64));
    CHECK(values(a.grad()) == std::vector<double>{1, 2});
    CHECK(values(b.grad()) == std::vector<double>{3, 4, 5});
    CHECK(y.grad_fn()->name() == "CatBackward");
}

TEST_CASE("pad: values, crops and the PyTorch pad order") {
    Tensor x = tensor({1, 2, 3});
    CHECK(values(pad(x, {1, 2})) == std::vector<double>{0, 1, 2, 3, 0, 0});
    CHECK(values(pad(x, {2, -1}, 9.0)) == std::vector<double>{9, 9, 1, 2});
    CHECK(pad(x, {-1, -2}).shape() == Shape{0});
    CHECK(values(pad(arange(5.0), {-1, -2})) == std::vector<double>{1, 2});
    Tensor m = tensor({{1, 2}, {3, 4}});
    // {last_left, last_right, first_left, first_right}
    Tensor p = pad(m, {1, 0, 0, 1}, -1.0);
    CHECK(p.shape() == Shape{3, 3});
    CHECK(values(p) == std::vector<double>{-1, 1, 2, -1, 3, 4, -1, -1, -1});
    CHECK(values(pad(m, {0, 0, -1, 0})) == std::vector<double>{3, 4});
    CHECK(values(pad(arange(3, int64), {1, 0}, 7)) == std::vector<double>{7, 0, 1, 2});
    Tensor g = rand64({2, 3});
    Tensor y = pad(g, {-1, 1, 1, 0});
    y.backward(ones_like(y));
    CHECK(values(g.grad()) == std::vector<double>{0, 1, 1, 0, 1, 1});
}

TEST_CASE("shape ops: backward rules are recorded with differentiable ops") {
    Tensor x = rand64({2, 3});
    CHECK(transpose(x, 0, 1).grad_fn()->name() == "TransposeBackward");
    CHECK(permute(x, {1, 0}).grad_fn()->name() == "PermuteBackward");
    CHECK(stack({x, x}).grad_fn()->name() == "StackBackward");
    CHECK(pad(x, {1, 1}).grad_fn()->name() == "ConstantPadNdBackward");
    // The gradient of a slice, taken with create_graph, is itself differentiable.
    Tensor y = sum(mul(slice(x, 1, 0, 2), slice(x, 1, 1, 3)));
    TensorList g = grad({y}, {x}, {}, true, true);
    CHECK(g[0].requires_grad());
    Tensor z = sum(mul(g[0], g[0]));
    CHECK(z.requires_grad());
}

}  // namespace xg::testing

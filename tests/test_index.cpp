// ops/index.hpp: t.index({...}) and index_put / index_put_ (registry rows with float64
// gradcheck and gradgradcheck, error inputs, PyTorch fixtures from tests/parity/index_ops.py)
// and NumPy's advanced-indexing rules checked by hand.
#include <doctest/doctest.h>

#include <cstdint>

#include "tests/error_of.hpp"
#include "tests/op_registry.hpp"

namespace xg::testing {
namespace {

using namespace xg::indexing;
using Samples = std::vector<Sample>;
using Errors = std::vector<ErrorCase>;

Tensor longs(std::initializer_list<double> v) {
    return tensor(v, int64);
}

std::vector<double> values(const Tensor& t) {
    return t.to_vector();
}

XG_REGISTER_OP_INFO(
    index_info, {"index",
                 [] {
                     Tensor dup = longs({3, 0, 3, -1});
                     Tensor mask = tensor({{1, 0, 1}, {0, 0, 1}}, bool_);
                     Tensor i = reshape(longs({0, 2}), {2, 1}), j = longs({1, 3, 0});
                     return Samples{
                         {"x[1:, 0]",
                          {rand64({3, 4})},
                          [](const TensorList& x) {
                              return x[0].index({Slice(1, None), 0});
                          }},
                         {"x[..., None, ::2]",
                          {rand64({2, 3, 5})},
                          [](const TensorList& x) {
                              return x[0].index({Ellipsis, None, Slice(None, None, 2)});
                          }},
                         {"x[:, dup]",
                          {rand64({3, 4})},
                          [dup](const TensorList& x) {
                              return x[0].index({Slice(), dup});
                          }},
                         {"x[mask]",
                          {rand64({2, 3, 2})},
                          [mask](const TensorList& x) { return x[0].index({mask}); }},
                         {"x[:, i, j] broadcast",
                          {rand64({2, 3, 4})},
                          [i, j](const TensorList& x) {
                              return x[0].index({Slice(), i, j});
                          }},
                         {"x[0, :, j] separated",
                          {rand64({2, 3, 4})},
                          [j](const TensorList& x) {
                              return x[0].index({0, Slice(), j});
                          }},
                     };
                 },
                 [] {
                     Tensor x = ones({2, 3});
                     return Errors{
                         {"integer out of range", [x] { x.index({2}); },
                          "index 2 is out of bounds for dim 0 with size 2"},
                         {"tensor index out of range",
                          [x] {
                              x.index({Slice(), longs({0, -4})});
                          },
                          "index -4 is out of bounds for dim 1 with size 3"},
                         {"too many indices",
                          [x] {
                              x.index({0, 0, 0});
                          },
                          "too many indices for a tensor of 2 dims (3 given)"},
                         {"two ellipses",
                          [x] {
                              x.index({Ellipsis, Ellipsis});
                          },
                          "single ellipsis"},
                         {"negative step", [x] { x.index({Slice(None, None, -1)}); },
                          "slice step must be positive, got -1"},
                         {"float index tensor", [x] { x.index({ones({2})}); },
                          "must be int64, int32 or bool, got float32"},
                         {"mask of the wrong shape", [x] { x.index({ones({3}, bool_)}); },
                          "the mask of shape [3] does not match the indexed shape [2] at dim 0"},
                         {"unbroadcastable indices",
                          [x] {
                              x.index({longs({0, 1}), longs({0, 1, 2})});
                          },
                          "[2] and [3] cannot be broadcast"},
                         {"bad string",
                          [x] {
                              x.index({"..", 0});
                          },
                          "a string index must be"},
                         {"undefined self", [] { Tensor().index({0}); }, "undefined"},
                     };
                 },
                 [] {
                     auto as_bool = [](const Tensor& m) { return m.to(bool_); };
                     return Parity{{
                         {"index_basic", 1,
                          [](const TensorList& x) {
                              return x[0].index({Slice(1, None), 0});
                          }},
                         {"index_step_none_ellipsis", 1,
                          [](const TensorList& x) {
                              return x[0].index({"...", None, Slice(None, None, 2)});
                          }},
                         {"index_tensor_dup", 2,
                          [](const TensorList& x) {
                              return x[0].index({Slice(), x[1]});
                          }},
                         {"index_mask", 2,
                          [as_bool](const TensorList& x) { return x[0].index({as_bool(x[1])}); }},
                         {"index_separated", 3,
                          [](const TensorList& x) {
                              return x[0].index({x[1], Slice(), x[2]});
                          }},
                         {"index_adjacent_bcast", 3,
                          [](const TensorList& x) {
                              return x[0].index({Slice(), x[1], x[2]});
                          }},
                         {"index_int_and_tensor", 2,
                          [](const TensorList& x) {
                              return x[0].index({0, Slice(), x[1]});
                          }},
                     }};
                 }});

XG_REGISTER_OP_INFO(
    index_put_info,
    {"index_put",
     [] {
         Tensor rows = longs({2, 0});
         Tensor dup = longs({1, 1, 3});
         Tensor mask = tensor({{1, 0, 1}, {0, 1, 0}}, bool_);
         return Samples{
             {"rows",
              {rand64({4, 3}), rand64({2, 3})},
              [rows](const TensorList& x) { return index_put(x[0], {rows}, x[1]); }},
             {"rows, values broadcast",
              {rand64({4, 3}), rand64({3})},
              [rows](const TensorList& x) { return index_put(x[0], {rows}, x[1]); }},
             {"accumulate duplicates",
              {rand64({4, 3}), rand64({3, 3})},
              [dup](const TensorList& x) { return index_put(x[0], {dup}, x[1], true); }},
             {"mask, 0-d value",
              {rand64({2, 3}), rand64({})},
              [mask](const TensorList& x) { return index_put(x[0], {mask}, x[1]); }},
             {"slice",
              {rand64({3, 4}), rand64({3, 2})},
              [](const TensorList& x) {
                  return index_put(x[0], {Slice(), Slice(1, 3)}, x[1]);
              }},
         };
     },
     [] {
         return Errors{
             {"values of the wrong shape",
              [] {
                  index_put(ones({4, 3}), {longs({0, 1})}, ones({3, 3}));
              },
              "values of shape [3, 3] cannot be broadcast to the indexed shape [2, 3]"},
             {"index out of range", [] { index_put(ones({4}), {longs({4})}, ones({1})); },
              "index 4 is out of bounds for dim 0 with size 4"},
             {"undefined values", [] { index_put(ones({4}), {0}, Tensor()); }, "'values'"},
         };
     },
     [] {
         return Parity{{
             {"index_put", 3, [](const TensorList& x) { return index_put(x[0], {x[2]}, x[1]); }},
             {"index_put_accumulate", 3,
              [](const TensorList& x) { return index_put(x[0], {x[2]}, x[1], true); }},
         }};
     }});

XG_REGISTER_OP_INFO(
    index_put__info,
    {"index_put_",
     [] {
         Tensor rows = longs({2, 0});
         // In place on a non-leaf: the write becomes the tensor's history.
         auto written = [](const TensorList& x, const std::vector<TensorIndex>& at) {
             Tensor y = mul(x[0], 1.0);
             y.index_put_(at, x[1]);
             return y;
         };
         return Samples{
             {"rows",
              {rand64({4, 3}), rand64({2, 3})},
              [written, rows](const TensorList& x) { return written(x, {rows}); }},
             {"a column",
              {rand64({4, 3}), rand64({4})},
              [written](const TensorList& x) {
                  return written(x, {Slice(), 1});
              }},
             {"mask",
              {rand64({2, 3}), rand64({})},
              [written](const TensorList& x) {
                  return written(x, {tensor({{0, 1, 1}, {1, 0, 0}}, bool_)});
              }},
             {"only values require grad",
              {rand64({2, 3}).detach(), rand64({3})},
              [written](const TensorList& x) { return written(x, {1}); }},
         };
     },
     [] {
         return Errors{
             {"leaf that requires grad",
              [] {
                  Tensor x = rand64({3});
                  x.index_put_({0}, 1.0);
              },
              "a leaf tensor that requires grad cannot be written in place"},
             {"int scalar too big for int32",
              [] {
                  Tensor x = zeros({3}, int32);
                  x.index_put_({0}, std::int64_t{1} << 40);
              },
              "index_put_"},
             {"undefined self",
              [] {
                  Tensor x;
                  x.index_put_({0}, 1.0);
              },
              "undefined"},
         };
     },
     [] { return no_parity("in place; the same write as index_put, whose fixtures it shares"); }});

}  // namespace

TEST_CASE("index: reads follow NumPy's rules") {
    Tensor x = reshape(arange(24.0), {2, 3, 4});
    CHECK(x.index({0}).shape() == Shape{3, 4});
    CHECK(x.index({Slice(), 1}).shape() == Shape{2, 4});
    CHECK(x.index({Ellipsis, 0}).shape() == Shape{2, 3});
    CHECK(x.index({None}).shape() == Shape{1, 2, 3, 4});
    CHECK(x.index({true}).shape() == Shape{1, 2, 3, 4});
    CHECK(x.index({false}).shape() == Shape{0, 2, 3, 4});
    CHECK(values(x.index({1, 2, 3})) == std::vector<double>{23});
    CHECK(values(x.index({-1, -1, Slice(-2, None)})) == std::vector<double>{22, 23});
    // Adjacent index tensors stay in place, separated ones go first; integers select first, as
    // in PyTorch (NumPy would give x[0, :, i] the shape [2, 3]).
    Tensor i = longs({0, 1});
    CHECK(x.index({Slice(), i, i}).shape() == Shape{2, 2});
    CHECK(x.index({i, Slice(), i}).shape() == Shape{2, 3});
    CHECK(x.index({0, Slice(), i}).shape() == Shape{3, 2});
    CHECK(values(x.index({Slice(), i, i})) == std::vector<double>{0, 5, 12, 17});
    // A bool mask over the leading dims, and a mask made by a comparison.
    Tensor m = gt(x.index({Slice(), Slice(), 0}), 6.0);  // [2, 3]
    CHECK(x.index({m}).shape() == Shape{4, 4});          // 8, 12, 16, 20 pass
    CHECK(values(x.index({lt(x, 3.0)})) == std::vector<double>{0, 1, 2});
    // 0-d index tensors: a bool one acts as true/false, an integer one selects.
    CHECK(x.index({tensor(0.0, bool_)}).shape() == Shape{0, 2, 3, 4});
    CHECK(x.index({gt(x.sum(), 0.0)}).shape() == Shape{1, 2, 3, 4});
    CHECK(x.index({Slice(), tensor(2.0, int64)}).shape() == Shape{2, 4});
    Tensor z = ones({3});
    z.index_put_({tensor(0.0, bool_)}, 5.0);  // a false condition writes nothing
    CHECK(values(z) == std::vector<double>{1, 1, 1});
    // int32 index tensors work as int64 ones.
    CHECK(values(x.index({0, 0, tensor({3, 1}, int32)})) == std::vector<double>{3, 1});
}

TEST_CASE("index: index_put_ writes into the tensor's own storage") {
    Tensor x = zeros({3, 4});
    Tensor alias = x.detach();
    const auto v0 = x.version();
    x.index_put_({1, Slice(1, 3)}, 5.0);
    x.index_put_({gt(x, 4.0)}, 7.0);  // a mask made from x itself
    x.index_put_({Slice(), -1}, tensor({1, 2, 3}));
    CHECK(values(alias) == std::vector<double>{0, 0, 0, 1, 0, 7, 7, 2, 0, 0, 0, 3});
    CHECK(x.version() > v0);
    // Integer tensors: exact values.
    Tensor ids = zeros({3}, int64);
    ids.index_put_({2}, std::int64_t{9007199254740993});  // 2^53 + 1, not representable as double
    CHECK(ids.data<std::int64_t>()(2) == 9007199254740993);
    // The last write wins among repeated positions; accumulate adds them.
    Tensor y = zeros({3});
    y.index_put_({longs({0, 0, 2})}, tensor({1, 2, 3}));
    CHECK(values(y) == std::vector<double>{2, 0, 3});
    Tensor z = index_put(zeros({3}), {longs({0, 0, 2})}, tensor({1, 2, 3}), true);
    CHECK(values(z) == std::vector<double>{3, 0, 3});
}

TEST_CASE("index: a write into a tensor that backward needs is caught") {
    Tensor w = rand64({3});
    Tensor h = mul(w, 2.0);
    Tensor y = mul(h, h);  // saves h
    h.index_put_({0}, 0.0);
    const std::string msg = error_of([&] { y.sum().backward(); });
    CHECK(msg.find("modified") != std::string::npos);
}

TEST_CASE("index: gradients of reads scatter-add, of in-place writes skip the overwritten") {
    Tensor x = tensor({1, 2, 3}, float64).requires_grad_();
    x.index({longs({0, 0, 2})}).sum().backward();
    CHECK(values(x.grad()) == std::vector<double>{2, 0, 1});
    Tensor a = tensor({1, 2, 3}, float64).requires_grad_();
    Tensor b = mul(a, 1.0);
    b.index_put_({1}, 10.0);
    CHECK(b.grad_fn() != nullptr);
    mul(b, b).sum().backward();
    CHECK(values(a.grad()) == std::vector<double>{2, 0, 6});
}

}  // namespace xg::testing

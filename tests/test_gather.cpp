// ops/gather.hpp: registry rows (float64 gradcheck and gradgradcheck with duplicate indices,
// bounds and shape errors, PyTorch fixtures from tests/parity/gather_ops.py) and values by hand:
// the deterministic scatter rule, int64 data, accumulation, saved index tensors.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "tests/error_of.hpp"
#include "tests/op_registry.hpp"

namespace xg::testing {
namespace {

using Samples = std::vector<Sample>;
using Errors = std::vector<ErrorCase>;

Tensor ix(const std::vector<std::int64_t>& v) {
    return tensor(v);
}
Tensor ix(const std::vector<std::int64_t>& v, const Shape& s) {
    return tensor(v, s);
}
Tensor f64(const Shape& s) {
    return ones(s, float64);
}
// A fixture case "gather_<name>" compared with fn.
ParityCase fixture(const std::string& name, std::size_t n, TensorFn fn) {
    return ParityCase{"gather_" + name, n, std::move(fn)};
}

XG_REGISTER_OP_INFO(
    index_select_info,
    {"index_select",
     [] {
         return Samples{
             {"[4,3] dim 0, duplicates",
              {rand64({4, 3}), ix({2, 0, 2})},
              [](const TensorList& x) { return index_select(x[0], 0, x[1]); }},
             {"[2,5] dim -1",
              {rand64({2, 5}), ix({4, 1, 1, 0})},
              [](const TensorList& x) { return index_select(x[0], -1, x[1]); }},
             {"[2,3,4] dim 1, 0-d index",
              {rand64({2, 3, 4}), ix({2}, {})},
              [](const TensorList& x) { return index_select(x[0], 1, x[1]); }},
             {"0-d input",
              {rand64({}), ix({0})},
              [](const TensorList& x) { return index_select(x[0], 0, x[1]); }},
             {"[3,2,2] dim 2, every index twice",
              {rand64({3, 2, 2}), ix({1, 0, 0, 1})},
              [](const TensorList& x) { return index_select(x[0], 2, x[1]); }},
         };
     },
     [] {
         return Errors{
             {"index past the end",
              [] {
                  index_select(f64({2, 3}), 1, ix({0, 3}));
              },
              "index 3 is out of bounds for dim 1 with size 3"},
             {"negative index",
              [] {
                  index_select(f64({2, 3}), 0, ix({-1}));
              },
              "index -1 is out of bounds for dim 0 with size 2"},
             {"2-D index",
              [] {
                  index_select(f64({2, 3}), 0, ix({0}, {1, 1}));
              },
              "index must be 1-D or 0-d, got shape [1, 1]"},
             {"float index",
              [] {
                  index_select(f64({2, 3}), 0, ones({1}));
              },
              "index must be an int64 tensor, got float32"},
             {"dim out of range",
              [] {
                  index_select(f64({2, 3}), 2, ix({0}));
              },
              "dim 2 is out of range"},
             {"0-d input, two indices",
              [] {
                  index_select(f64({}), 0, ix({0, 0}));
              },
              "a 0-d input takes one index, got 2"},
             {"empty input",
              [] {
                  index_select(f64({0, 3}), 0, ix({0}));
              },
              "index 0 is out of bounds for dim 0 with size 0"},
             {"undefined input", [] { index_select(Tensor(), 0, ix({0})); }, "undefined"},
             {"undefined index", [] { index_select(f64({2}), 0, Tensor()); }, "undefined"},
         };
     },
     [] {
         return Parity{{fixture("index_select_dim0", 2,
                                [](const TensorList& x) { return index_select(x[0], 0, x[1]); }),
                        fixture("index_select_dim_neg1", 2,
                                [](const TensorList& x) { return index_select(x[0], -1, x[1]); })}};
     }});

XG_REGISTER_OP_INFO(
    gather_info,
    {"gather",
     [] {
         return Samples{
             {"[3,4] dim 0, duplicates",
              {rand64({3, 4}), ix({2, 0, 1, 2, 0, 0, 2, 1}, {2, 4})},
              [](const TensorList& x) { return gather(x[0], 0, x[1]); }},
             {"[3,4] dim 1, index wider than input",
              {rand64({3, 4}), ix({3, 3, 0, 1, 2, 0, 1, 0, 1, 0, 2, 2, 2, 3, 3}, {3, 5})},
              [](const TensorList& x) { return gather(x[0], 1, x[1]); }},
             {"[2,3,4] dim -1, index smaller in other dims",
              {rand64({2, 3, 4}), ix({3, 0, 0, 1, 1, 1, 2, 3, 3, 0, 2, 2}, {2, 2, 3})},
              [](const TensorList& x) { return gather(x[0], -1, x[1]); }},
             {"0-d input, [3] index",
              {rand64({}), ix({0, 0, 0})},
              [](const TensorList& x) { return gather(x[0], 0, x[1]); }},
         };
     },
     [] {
         return Errors{
             {"index past the end",
              [] {
                  gather(f64({2, 3}), 1, ix({0, 3}, {1, 2}));
              },
              "index 3 is out of bounds for dim 1 with size 3"},
             {"negative index",
              [] {
                  gather(f64({2, 3}), 0, ix({-1}, {1, 1}));
              },
              "index -1 is out of bounds for dim 0 with size 2"},
             {"rank mismatch",
              [] {
                  gather(f64({2, 3}), 1, ix({0}));
              },
              "index [1] has 1 dims, input [2, 3] has 2"},
             {"index larger in another dim",
              [] {
                  gather(f64({2, 3}), 1, ix({0, 0, 0}, {3, 1}));
              },
              "index [3, 1] is larger than input [2, 3] in dim 0 (only dim 1 may be larger)"},
             {"float index",
              [] {
                  gather(f64({2, 3}), 1, ones({2, 3}, float64));
              },
              "index must be an int64 tensor, got float64"},
             {"dim out of range",
              [] {
                  gather(f64({2, 3}), -3, ix({0}, {1, 1}));
              },
              "dim -3 is out of range"},
             {"undefined input", [] { gather(Tensor(), 0, ix({0})); }, "undefined"},
         };
     },
     [] {
         return Parity{
             {fixture("gather_dim0", 2, [](const TensorList& x) { return gather(x[0], 0, x[1]); }),
              fixture("gather_dim1_wide", 2,
                      [](const TensorList& x) { return gather(x[0], 1, x[1]); })}};
     }});

XG_REGISTER_OP_INFO(
    take_along_dim_info,
    {"take_along_dim",
     [] {
         return Samples{
             {"[3,4] dim 1",
              {rand64({3, 4}), ix({3, 0, 1, 1, 2, 2}, {3, 2})},
              [](const TensorList& x) { return take_along_dim(x[0], x[1], 1); }},
             {"input broadcast: [1,3,4] with [2,3,1] along dim 2",
              {rand64({1, 3, 4}), ix({3, 0, 1, 2, 2, 0}, {2, 3, 1})},
              [](const TensorList& x) { return take_along_dim(x[0], x[1], 2); }},
             {"indices broadcast: [2,3] with [1,4] along dim -1",
              {rand64({2, 3}), ix({2, 0, 0, 1}, {1, 4})},
              [](const TensorList& x) { return take_along_dim(x[0], x[1], -1); }},
             {"no dim: flattened",
              {rand64({3, 4}), ix({11, 0, 5, 5, 7})},
              [](const TensorList& x) { return take_along_dim(x[0], x[1]); }},
             {"0-d",
              {rand64({}), ix({0}, {})},
              [](const TensorList& x) { return take_along_dim(x[0], x[1], 0); }},
         };
     },
     [] {
         return Errors{
             {"rank mismatch",
              [] {
                  take_along_dim(f64({2, 3}), ix({0}), 1);
              },
              "input [2, 3] and indices [1] must have the same number of dims"},
             {"index past the end (flattened)",
              [] {
                  take_along_dim(f64({3, 4}), ix({12}));
              },
              "index 12 is out of bounds for dim 0 with size 12"},
             {"negative index",
              [] {
                  take_along_dim(f64({2, 3}), ix({-1}, {1, 1}), 1);
              },
              "index -1 is out of bounds for dim 1 with size 3"},
             {"shapes that do not broadcast",
              [] {
                  take_along_dim(f64({2, 3}), ix({0, 0, 0}, {3, 1}), 1);
              },
              "cannot be broadcast",
              {"[2, 1]", "[3, 1]"}},
             {"float indices",
              [] {
                  take_along_dim(f64({2, 3}), ones({2, 3}), 1);
              },
              "indices must be an int64 tensor, got float32"},
             {"undefined indices", [] { take_along_dim(f64({2}), Tensor(), 0); }, "undefined"},
         };
     },
     [] {
         return Parity{{fixture("take_along_dim_bcast", 2,
                                [](const TensorList& x) { return take_along_dim(x[0], x[1], 2); }),
                        fixture("take_along_dim_flat", 2,
                                [](const TensorList& x) { return take_along_dim(x[0], x[1]); })}};
     }});

XG_REGISTER_OP_INFO(
    scatter_info,
    {"scatter",
     [] {
         return Samples{
             {"[3,4] dim 0, unique indices",
              {rand64({3, 4}), ix({2, 0, 1, 0, 0, 1, 2, 2}, {2, 4}), rand64({2, 4})},
              [](const TensorList& x) { return scatter(x[0], 0, x[1], x[2]); }},
             {"duplicates (last wins), src larger than index",
              {rand64({3, 4}), ix({1, 1, 3, 0, 2, 0}, {3, 2}), rand64({3, 3})},
              [](const TensorList& x) { return scatter(x[0], 1, x[1], x[2]); }},
             {"value, dim 1",
              {rand64({2, 4}), ix({3, 0, 1, 1}, {2, 2})},
              [](const TensorList& x) { return scatter(x[0], 1, x[1], 0.5); }},
             {"[4] with duplicates",
              {rand64({4}), ix({2, 2, 0}), rand64({3})},
              [](const TensorList& x) { return scatter(x[0], 0, x[1], x[2]); }},
             {"[2,2,3] dim -1, only src requires grad",
              {f64({2, 2, 3}), ix({2, 0, 1, 1, 0, 2, 2, 1}, {2, 2, 2}), rand64({2, 2, 2})},
              [](const TensorList& x) { return scatter(x[0], -1, x[1], x[2]); }},
         };
     },
     [] {
         return Errors{
             {"index past the end",
              [] {
                  scatter(f64({2, 3}), 1, ix({3}, {1, 1}), f64({1, 1}));
              },
              "index 3 is out of bounds for dim 1 with size 3"},
             {"negative index",
              [] {
                  scatter(f64({2, 3}), 0, ix({-2}, {1, 1}), 1.0);
              },
              "index -2 is out of bounds for dim 0 with size 2"},
             {"index larger than src",
              [] {
                  scatter(f64({2, 3}), 1, ix({0, 1, 2}, {1, 3}), f64({1, 2}));
              },
              "index [1, 3] is larger than src [1, 2] in dim 1"},
             {"index larger than input outside dim",
              [] {
                  scatter(f64({2, 3}), 1, ix({0, 0, 0}, {3, 1}), f64({3, 1}));
              },
              "index [3, 1] is larger than input [2, 3] in dim 0"},
             {"src rank",
              [] {
                  scatter(f64({2, 3}), 1, ix({0}, {1, 1}), f64({1}));
              },
              "src [1] has 1 dims, input [2, 3] has 2"},
             {"src dtype",
              [] {
                  scatter(f64({2, 3}), 1, ix({0}, {1, 1}), ones({1, 1}));
              },
              "src has dtype float32, input has float64"},
             {"fractional value into int64", [] { scatter(zeros({2}, int64), 0, ix({0}), 2.5); },
              "an int64 input takes a whole value within its range, got 2.5"},
             {"undefined src", [] { scatter(f64({2}), 0, ix({0}), Tensor()); }, "undefined"},
         };
     },
     [] {
         return Parity{{fixture("scatter_src", 3,
                                [](const TensorList& x) { return scatter(x[0], 0, x[1], x[2]); }),
                        fixture("scatter_value", 2,
                                [](const TensorList& x) { return scatter(x[0], 1, x[1], 0.5); })}};
     }});

XG_REGISTER_OP_INFO(
    scatter_add_info,
    {"scatter_add",
     [] {
         return Samples{
             {"[3,4] dim 1, duplicates",
              {rand64({3, 4}), ix({0, 0, 3, 2, 1, 2, 3, 3, 3}, {3, 3}), rand64({3, 3})},
              [](const TensorList& x) { return scatter_add(x[0], 1, x[1], x[2]); }},
             {"dim 0, src larger than index",
              {rand64({2, 3}), ix({1, 1, 0, 1}, {2, 2}), rand64({3, 3})},
              [](const TensorList& x) { return scatter_add(x[0], 0, x[1], x[2]); }},
             {"[5] all into one slot",
              {rand64({5}), ix({4, 4, 4, 4}), rand64({4})},
              [](const TensorList& x) { return scatter_add(x[0], 0, x[1], x[2]); }},
             {"[2,2,3] dim -1",
              {rand64({2, 2, 3}), ix({2, 2, 1, 0, 0, 0, 1, 2}, {2, 2, 2}), rand64({2, 2, 2})},
              [](const TensorList& x) { return scatter_add(x[0], -1, x[1], x[2]); }},
         };
     },
     [] {
         return Errors{
             {"index past the end",
              [] {
                  scatter_add(f64({2, 3}), 0, ix({2}, {1, 1}), f64({1, 1}));
              },
              "index 2 is out of bounds for dim 0 with size 2"},
             {"negative index", [] { scatter_add(f64({3}), 0, ix({-1}), f64({1})); },
              "index -1 is out of bounds for dim 0 with size 3"},
             {"index larger than src",
              [] {
                  scatter_add(f64({2, 3}), 0, ix({0, 0}, {2, 1}), f64({1, 1}));
              },
              "index [2, 1] is larger than src [1, 1] in dim 0"},
             {"src dtype", [] { scatter_add(f64({2}), 0, ix({0}), zeros({1}, int64)); },
              "src has dtype int64, input has float64"},
             {"float index", [] { scatter_add(f64({2}), 0, f64({1}), f64({1})); },
              "index must be an int64 tensor"},
             {"undefined input", [] { scatter_add(Tensor(), 0, ix({0}), f64({1})); }, "undefined"},
         };
     },
     [] {
         return Parity{{fixture("scatter_add", 3, [](const TensorList& x) {
             return scatter_add(x[0], 1, x[1], x[2]);
         })}};
     }});

XG_REGISTER_OP_INFO(
    index_add_info,
    {"index_add",
     [] {
         return Samples{
             {"[4,3] dim 0, duplicates",
              {rand64({4, 3}), ix({0, 2, 0}), rand64({3, 3})},
              [](const TensorList& x) { return index_add(x[0], 0, x[1], x[2]); }},
             {"dim 1, alpha 2.5",
              {rand64({2, 3}), ix({2, 2, 1, 0}), rand64({2, 4})},
              [](const TensorList& x) { return index_add(x[0], 1, x[1], x[2], 2.5); }},
             {"0-d index",
              {rand64({3, 2}), ix({1}, {}), rand64({3, 1})},
              [](const TensorList& x) { return index_add(x[0], -1, x[1], x[2]); }},
             {"[2,2,3] dim -1, only source requires grad",
              {f64({2, 2, 3}), ix({2, 2}), rand64({2, 2, 2})},
              [](const TensorList& x) { return index_add(x[0], -1, x[1], x[2], -1.0); }},
         };
     },
     [] {
         return Errors{
             {"index past the end",
              [] {
                  index_add(f64({2, 3}), 0, ix({2}), f64({1, 3}));
              },
              "index 2 is out of bounds for dim 0 with size 2"},
             {"negative index",
              [] {
                  index_add(f64({2, 3}), 1, ix({-4}), f64({2, 1}));
              },
              "index -4 is out of bounds for dim 1 with size 3"},
             {"source shape",
              [] {
                  index_add(f64({2, 3}), 1, ix({0, 0}), f64({3, 2}));
              },
              "source [3, 2] must have input [2, 3]'s shape but 2 (index's size) in dim 1"},
             {"source dtype", [] { index_add(f64({2}), 0, ix({0}), ones({1})); },
              "source has dtype float32, input has float64"},
             {"fractional alpha on int64",
              [] { index_add(zeros({2}, int64), 0, ix({0}), zeros({1}, int64), 0.5); },
              "an int64 input takes a whole alpha within its range, got 0.5"},
             {"2-D index",
              [] {
                  index_add(f64({2}), 0, ix({0}, {1, 1}), f64({1}));
              },
              "index must be 1-D or 0-d, got shape [1, 1]"},
             {"undefined source", [] { index_add(f64({2}), 0, ix({0}), Tensor()); }, "undefined"},
         };
     },
     [] {
         return Parity{{fixture("index_add_alpha", 3, [](const TensorList& x) {
             return index_add(x[0], 0, x[1], x[2], 2.5);
         })}};
     }});

XG_REGISTER_OP_INFO(
    embedding_info,
    {"embedding",
     [] {
         return Samples{
             {"[5,3] weight, [2,3] indices with duplicates",
              {rand64({5, 3}), ix({1, 4, 1, 0, 1, 3}, {2, 3})},
              [](const TensorList& x) { return embedding(x[0], x[1]); }},
             // Rows read at padding_idx get no gradient by definition (not the derivative):
             // the samples zero those output rows, so the numeric derivative agrees.
             {"padding_idx 1 (present), its rows masked",
              {rand64({5, 3}), ix({1, 4, 1, 0, 1, 3}, {2, 3})},
              [](const TensorList& x) {
                  return mul(embedding(x[0], x[1], 1), unsqueeze(ne(x[1], 1.0).to(float64), -1));
              }},
             {"padding_idx -1, 1-D indices, its rows masked",
              {rand64({4, 2}), ix({3, 3, 0, 2})},
              [](const TensorList& x) {
                  return mul(embedding(x[0], x[1], -1), unsqueeze(ne(x[1], 3.0).to(float64), -1));
              }},
             {"0-d indices",
              {rand64({3, 4}), ix({2}, {})},
              [](const TensorList& x) { return embedding(x[0], x[1]); }},
         };
     },
     [] {
         return Errors{
             {"index past the end",
              [] {
                  embedding(f64({5, 3}), ix({0, 5}));
              },
              "index 5 is out of bounds for dim 0 with size 5"},
             {"negative index",
              [] {
                  embedding(f64({5, 3}), ix({-1}));
              },
              "index -1 is out of bounds for dim 0 with size 5"},
             {"1-D weight", [] { embedding(f64({5}), ix({0})); },
              "weight must be 2-D, got shape [5]"},
             {"padding_idx out of range",
              [] {
                  embedding(f64({5, 3}), ix({0}), 5);
              },
              "padding_idx 5 is out of range for weight [5, 3]"},
             {"padding_idx below -num",
              [] {
                  embedding(f64({5, 3}), ix({0}), -6);
              },
              "padding_idx -6 is out of range"},
             {"float indices",
              [] {
                  embedding(f64({5, 3}), f64({2}));
              },
              "indices must be an int64 tensor, got float64"},
             {"undefined weight", [] { embedding(Tensor(), ix({0})); }, "undefined"},
         };
     },
     [] {
         return Parity{
             {fixture("embedding", 2, [](const TensorList& x) { return embedding(x[0], x[1]); }),
              fixture("embedding_padding", 2,
                      [](const TensorList& x) { return embedding(x[0], x[1], 1); })}};
     }});

XG_REGISTER_OP_INFO(
    one_hot_info,
    {"one_hot",
     [] {
         return Samples{
             {"[2,2], inferred classes",
              {ix({0, 3, 1, 1}, {2, 2})},
              [](const TensorList& x) { return one_hot(x[0]); }},
             {"[3], 5 classes",
              {ix({4, 0, 2})},
              [](const TensorList& x) { return one_hot(x[0], 5); }},
             {"0-d", {ix({2}, {})}, [](const TensorList& x) { return one_hot(x[0], 3); }},
             {"empty, 3 classes",
              {ix({}, {0})},
              [](const TensorList& x) { return one_hot(x[0], 3); }},
         };
     },
     [] {
         return Errors{
             {"negative class",
              [] {
                  one_hot(ix({0, -1}));
              },
              "class values must be non-negative, got -1 at element 1"},
             {"class past num_classes",
              [] {
                  one_hot(ix({0, 3}), 2);
              },
              "class value 3 is out of bounds for num_classes 2"},
             {"empty without num_classes", [] { one_hot(ix({}, {0})); },
              "cannot infer num_classes from an empty tensor (shape [0])"},
             {"num_classes -2", [] { one_hot(ix({0}), -2); },
              "num_classes must be -1 or at least 0, got -2"},
             {"float input", [] { one_hot(f64({2})); },
              "indices must be an int64 tensor, got float64"},
             {"max + 1 overflows", [] { one_hot(ix({std::numeric_limits<std::int64_t>::max()})); },
              "overflows"},
             {"too many elements",
              [] {
                  one_hot(ix({0, 1}), std::int64_t(1) << 60);
              },
              "too many"},
         };
     },
     [] {
         return Parity{
             {fixture("one_hot", 1, [](const TensorList& x) { return one_hot(x[0]); }),
              fixture("one_hot_classes", 1, [](const TensorList& x) { return one_hot(x[0], 5); })}};
     },
     false});

XG_REGISTER_OP_INFO(
    nonzero_info,
    {"nonzero",
     [] {
         return Samples{
             {"[2,3] float",
              {tensor({{0, 1.5, 0}, {-2, 0, 3}}, float64)},
              [](const TensorList& x) { return nonzero(x[0]); }},
             {"int64", {ix({0, 4, 0, -1})}, [](const TensorList& x) { return nonzero(x[0]); }},
             {"0-d", {tensor(2.0, float64)}, [](const TensorList& x) { return nonzero(x[0]); }},
             {"all zero", {f64({2, 0})}, [](const TensorList& x) { return nonzero(x[0]); }},
         };
     },
     [] {
         return Errors{{"undefined input", [] { nonzero(Tensor()); }, "undefined"}};
     },
     [] {
         return Parity{{fixture("nonzero", 1, [](const TensorList& x) { return nonzero(x[0]); })}};
     },
     false});

// ---- values by hand ----

TEST_CASE("gather: values, and the gradient accumulates over duplicate indices") {
    Tensor a = tensor({{1, 2, 3}, {4, 5, 6}}, float64).requires_grad_();
    Tensor out = gather(a, 1, ix({2, 2, 0, 1}, {2, 2}));
    check_values(out, {3, 3, 4, 5});
    CHECK(out.grad_fn()->name() == "GatherBackward");
    out.sum().backward();
    check_values(a.grad(), {0, 0, 2, 1, 1, 0});
    // int64 data, no gradient anywhere.
    check_values(gather(ix({10, 20, 30}), 0, ix({2, 0})), {30, 10});
    CHECK(gather(ix({10, 20, 30}), 0, ix({2, 0})).dtype() == int64);
    // An empty index gives an empty result; an empty input refuses any index.
    CHECK(gather(f64({2, 3}), 1, zeros({2, 0}, int64)).shape() == Shape{2, 0});
}

TEST_CASE("index_select and index_add: values, 0-d index keeps the dim, int64 wraps") {
    Tensor a = tensor({{1, 2, 3}, {4, 5, 6}}, float64);
    check_values(index_select(a, 1, ix({2, 0, 2})), {3, 1, 3, 6, 4, 6});
    CHECK(index_select(a, 1, ix({1}, {})).shape() == Shape{2, 1});
    CHECK(index_select(a, 0, zeros({0}, int64)).shape() == Shape{0, 3});
    check_values(index_add(a, 0, ix({1, 1}), tensor({{1, 1, 1}, {2, 2, 2}}, float64), 10.0),
                 {1, 2, 3, 34, 35, 36});
    check_values(index_add(zeros({2}, int64), 0, ix({0, 0, 1}), ix({1, 2, 3}), -2), {-6, -6});
    // int64 sums wrap in two's complement (no signed overflow), as PyTorch's.
    const std::int64_t big = std::numeric_limits<std::int64_t>::max();
    CHECK(index_add(ix({big}), 0, ix({0}), ix({1})).item<std::int64_t>() ==
          std::numeric_limits<std::int64_t>::min());
    CHECK(scatter_add(ix({big}), 0, ix({0, 0}), ix({1, 1})).item<std::int64_t>() ==
          std::numeric_limits<std::int64_t>::min() + 1);
}

TEST_CASE("scatter: the last write in row-major order of index wins; only it gets a gradient") {
    Tensor a = zeros({4}, float64).requires_grad_();
    Tensor src = tensor({10, 20, 30, 40}, float64).requires_grad_();
    Tensor out = scatter(a, 0, ix({1, 3, 1, 1}), src);
    check_values(out, {0, 40, 0, 20});
    Tensor w = tensor({1, 2, 3, 4}, float64);
    auto g = grad({out}, {a, src}, {w});
    check_values(g[0], {1, 0, 3, 0});  // written positions get no gradient from a
    check_values(g[1], {0, 4, 0, 2});  // the overwritten writes (src[0], src[2]) get none
    // 2-D: row-major order over index, dim 0.
    Tensor b = scatter(zeros({2, 2}, float64), 0, ix({0, 1, 0, 1}, {2, 2}),
                       tensor({{1, 2}, {3, 4}}, float64));
    check_values(b, {3, 0, 0, 4});
    check_values(scatter(ix({1, 2, 3}), 0, ix({2}), -7.0), {1, 2, -7});
}

TEST_CASE("take_along_dim: picks along the dim after broadcasting, like argsort indices") {
    Tensor a = tensor({{10, 30, 20}, {60, 40, 50}}, float64);
    check_values(take_along_dim(a, ix({0, 2, 1, 1, 2, 0}, {2, 3}), 1), {10, 20, 30, 40, 50, 60});
    Tensor b = take_along_dim(a, ix({2}, {1, 1}), 1);  // broadcast over rows
    CHECK(b.shape() == Shape{2, 1});
    check_values(b, {20, 50});
    check_values(take_along_dim(a, ix({5, 0})), {50, 10});
    check_values(take_along_dim(ix({7, 8, 9}, {1, 3}), ix({2, 0}, {2, 1}), 1), {9, 7});
}

TEST_CASE("embedding: padding rows get no gradient, duplicates accumulate") {
    Tensor w = tensor({{1, 2}, {3, 4}, {5, 6}}, float64).requires_grad_();
    Tensor out = embedding(w, ix({2, 0, 2, 1}, {2, 2}), 0);
    CHECK(out.shape() == Shape{2, 2, 2});
    check_values(out, {5, 6, 1, 2, 5, 6, 3, 4});  // the forward reads the padding row as is
    out.sum().backward();
    check_values(w.grad(), {0, 0, 1, 1, 2, 2});
    // int64 weight (a lookup table without gradient).
    check_values(embedding(ix({7, 8, 9}, {3, 1}), ix({2, 2})), {9, 9});
}

TEST_CASE("one_hot and nonzero: values") {
    Tensor h = one_hot(ix({2, 0}));
    CHECK(h.dtype() == int64);
    CHECK(h.shape() == Shape{2, 3});
    check_values(h, {0, 0, 1, 1, 0, 0});
    CHECK(one_hot(ix({}, {0}), 3).shape() == Shape{0, 3});
    const double nan = std::numeric_limits<double>::quiet_NaN();
    Tensor nz = nonzero(tensor({{0, nan}, {-0.0, 1}}, float64));
    CHECK(nz.dtype() == int64);
    CHECK(nz.shape() == Shape{2, 2});
    check_values(nz, {0, 1, 1, 1});
    CHECK(nonzero(tensor(0.0)).shape() == Shape{0, 0});
    CHECK(nonzero(tensor(3.0)).shape() == Shape{1, 0});
}

TEST_CASE("gather family: an index changed in place after the forward fails the backward") {
    Tensor a = tensor({1, 2, 3}, float64).requires_grad_();
    Tensor i = ix({0, 2});
    Tensor out = gather(a, 0, i);
    i.fill_(1);
    const std::string msg = error_of([&] { out.sum().backward(); });
    CHECK(msg.find("saved for backward was modified in place") != std::string::npos);
}

TEST_CASE("gather family: second derivatives through the backward ops") {
    // d/da of <gather(a)^2, 1> is scatter_add(2 gather(a)); its gradient again is a gather.
    Tensor a = tensor({1, 2, 3}, float64).requires_grad_();
    Tensor y = gather(a, 0, ix({2, 2, 0})).pow(2).sum();
    Tensor g = grad({y}, {a}, {}, {}, true)[0];
    check_values(g, {2, 0, 12});
    Tensor gg = grad({g.sum()}, {a})[0];
    check_values(gg, {2, 0, 4});
}

}  // namespace
}  // namespace xg::testing

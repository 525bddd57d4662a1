// ops/sort.hpp: registry rows for sort, argsort, topk, kthvalue and median (float64 gradcheck
// and gradgradcheck of the values, error inputs, PyTorch fixtures with indices from
// tests/parity/reduce_sort_ops.py) and hand-checked ties, NaN, int64 and empty inputs.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "tests/index_parity.hpp"

namespace xg::testing {
namespace {

using Samples = std::vector<Sample>;
using Errors = std::vector<ErrorCase>;

const double nan = std::numeric_limits<double>::quiet_NaN();

Tensor f64(const Shape& s) {
    return ones(s, float64);
}

TensorFn values_of(TupleFn f) {
    return [f](const TensorList& x) { return std::get<0>(f(x)); };
}

TupleFn sort_fn(std::int64_t dim, bool desc) {
    return [dim, desc](const TensorList& x) { return sort(x[0], dim, desc); };
}
TupleFn topk_fn(std::int64_t k, std::int64_t dim, bool largest) {
    return [k, dim, largest](const TensorList& x) { return topk(x[0], k, dim, largest); };
}
TupleFn kth_fn(std::int64_t k, std::int64_t dim, bool keep) {
    return [k, dim, keep](const TensorList& x) { return kthvalue(x[0], k, dim, keep); };
}
TupleFn median_fn(std::int64_t dim, bool keep) {
    return [dim, keep](const TensorList& x) { return median(x[0], dim, keep); };
}
// sort's values with argsort's indices, to check argsort against sort's fixtures.
TupleFn argsort_fn(std::int64_t dim, bool desc) {
    return [dim, desc](const TensorList& x) {
        return std::tuple<Tensor, Tensor>{std::get<0>(sort(x[0], dim, desc)),
                                          argsort(x[0], dim, desc)};
    };
}

Samples sort_samples(const std::function<TensorFn(std::int64_t, bool)>& f) {
    return {
        {"[3,4] dim -1", {rand64({3, 4})}, f(-1, false)},
        {"[3,4] dim 0, descending", {rand64({3, 4})}, f(0, true)},
        {"[2,3,4] dim 1", {rand64({2, 3, 4})}, f(1, false)},
        {"[5] descending", {rand64({5})}, f(0, true)},
        {"size-1 dim", {rand64({3, 1})}, f(1, false)},
        {"0-d", {rand64({})}, f(-1, false)},
    };
}

Errors dim_errors(const std::function<void(const Tensor&, std::int64_t)>& f) {
    return {
        {"dim out of range",
         [f] {
             f(f64({2, 3}), 2);
         },
         "dim 2 is out of range for a tensor of 2 dims"},
        {"negative dim out of range",
         [f] {
             f(f64({2, 3}), -3);
         },
         "dim -3 is out of range for a tensor of 2 dims"},
        {"0-d, dim 1", [f] { f(f64({}), 1); }, "dim 1 is out of range for a tensor of 0 dims"},
        {"undefined input", [f] { f(Tensor(), 0); }, "argument 'input' is an undefined"},
    };
}

XG_REGISTER_OP_INFO(sort_info,
                    {"sort",
                     [] {
                         return sort_samples(
                             [](std::int64_t d, bool desc) { return values_of(sort_fn(d, desc)); });
                     },
                     [] { return dim_errors([](const Tensor& a, std::int64_t d) { sort(a, d); }); },
                     [] {
                         return Parity{
                             {indexed_case("rs_sort_dim1", 1, sort_fn(1, false)),
                              indexed_case("rs_sort_dim0_descending", 1, sort_fn(0, true)),
                              indexed_case("rs_sort_3d_dimneg1", 1, sort_fn(-1, false))}};
                     }});

XG_REGISTER_OP_INFO(
    argsort_info,
    {"argsort",
     [] {
         return sort_samples([](std::int64_t d, bool desc) {
             return TensorFn([d, desc](const TensorList& x) { return argsort(x[0], d, desc); });
         });
     },
     [] { return dim_errors([](const Tensor& a, std::int64_t d) { argsort(a, d); }); },
     [] {
         return Parity{{indexed_case("rs_sort_dim1", 1, argsort_fn(1, false)),
                        indexed_case("rs_sort_dim0_descending", 1, argsort_fn(0, true))}};
     },
     false});

XG_REGISTER_OP_INFO(
    topk_info,
    {"topk",
     [] {
         return Samples{
             {"k 2 of [3,4]", {rand64({3, 4})}, values_of(topk_fn(2, -1, true))},
             {"k 2 smallest, dim 0", {rand64({3, 4})}, values_of(topk_fn(2, 0, false))},
             {"k 3, dim 1 of [2,3,4]", {rand64({2, 3, 4})}, values_of(topk_fn(3, 1, true))},
             {"k = size", {rand64({5})}, values_of(topk_fn(5, 0, true))},
             {"k 1, size-1 dim", {rand64({3, 1})}, values_of(topk_fn(1, 1, false))},
             {"0-d, k 1", {rand64({})}, values_of(topk_fn(1, 0, true))},
         };
     },
     [] {
         Errors e = dim_errors([](const Tensor& a, std::int64_t d) { topk(a, 1, d); });
         e.push_back({"k larger than the dim",
                      [] {
                          topk(f64({2, 3}), 4);
                      },
                      "k 4 is out of range for dim -1 of size 3 (input shape [2, 3])"});
         e.push_back({"negative k", [] { topk(f64({3}), -1); },
                      "k -1 is out of range for dim -1 of size 3"});
         e.push_back({"k 1 of an empty dim",
                      [] {
                          topk(f64({2, 0}), 1, 1);
                      },
                      "k 1 is out of range for dim 1 of size 0"});
         e.push_back({"k 2 of a 0-d tensor", [] { topk(f64({}), 2); },
                      "k 2 is out of range for dim -1 of size 1"});
         return e;
     },
     [] {
         return Parity{{indexed_case("rs_topk_k2", 1, topk_fn(2, -1, true)),
                        indexed_case("rs_topk_k2_smallest_dim0", 1, topk_fn(2, 0, false)),
                        indexed_case("rs_topk_k3_dim1_3d", 1, topk_fn(3, 1, true))}};
     }});

XG_REGISTER_OP_INFO(
    kthvalue_info,
    {"kthvalue",
     [] {
         return Samples{
             {"k 2 of [3,4]", {rand64({3, 4})}, values_of(kth_fn(2, -1, false))},
             {"k 3, dim 0, keepdim", {rand64({3, 4})}, values_of(kth_fn(3, 0, true))},
             {"k 1, dim 1 of [2,3,4]", {rand64({2, 3, 4})}, values_of(kth_fn(1, 1, false))},
             {"k = size, keepdim", {rand64({5})}, values_of(kth_fn(5, 0, true))},
             {"0-d, k 1", {rand64({})}, values_of(kth_fn(1, 0, false))},
         };
     },
     [] {
         Errors e = dim_errors([](const Tensor& a, std::int64_t d) { kthvalue(a, 1, d); });
         e.push_back({"k larger than the dim",
                      [] {
                          kthvalue(f64({2, 3}), 4);
                      },
                      "k 4 is out of range for dim -1 of size 3"});
         e.push_back({"k 0", [] { kthvalue(f64({3}), 0); },
                      "k 0 is out of range for dim -1 of size 3 (k counts from 1"});
         e.push_back({"empty dim",
                      [] {
                          kthvalue(f64({2, 0}), 1, 1);
                      },
                      "k 1 is out of range for dim 1 of size 0"});
         return e;
     },
     [] {
         return Parity{{indexed_case("rs_kthvalue_k2", 1, kth_fn(2, -1, false)),
                        indexed_case("rs_kthvalue_k3_dim0_keepdim", 1, kth_fn(3, 0, true)),
                        indexed_case("rs_kthvalue_k1_dim1_3d", 1, kth_fn(1, 1, false))}};
     }});

XG_REGISTER_OP_INFO(
    median_info,
    {"median",
     [] {
         auto all = [](const TensorList& x) { return median(x[0]); };
         return Samples{
             {"all of [3,5] (odd)", {rand64({3, 5})}, all},
             {"all of [2,3] (even: the lower)", {rand64({2, 3})}, all},
             {"dim 1", {rand64({3, 4})}, values_of(median_fn(1, false))},
             {"dim 0, keepdim", {rand64({3, 4})}, values_of(median_fn(0, true))},
             {"dim -1 of [2,3,5]", {rand64({2, 3, 5})}, values_of(median_fn(-1, false))},
             {"0-d, all", {rand64({})}, all},
             {"0-d, dim 0", {rand64({})}, values_of(median_fn(0, false))},
         };
     },
     [] {
         Errors e = dim_errors([](const Tensor& a, std::int64_t d) { median(a, d); });
         e.push_back({"empty dim",
                      [] {
                          median(f64({2, 0}), 1);
                      },
                      "cannot reduce over zero elements (dim 1 has size 0, input shape [2, 0])"});
         e.push_back({"empty int64 input", [] { median(zeros({0}, int64)); },
                      "the median of no elements is NaN, which int64 cannot hold"});
         e.push_back({"undefined input, all elements", [] { median(Tensor()); }, "undefined"});
         return e;
     },
     [] {
         return Parity{{{"rs_median_all_odd", 1, [](const TensorList& x) { return median(x[0]); }},
                        {"rs_median_all_even", 1, [](const TensorList& x) { return median(x[0]); }},
                        indexed_case("rs_median_dim1", 1, median_fn(1, false)),
                        indexed_case("rs_median_dim0_keepdim", 1, median_fn(0, true)),
                        indexed_case("rs_median_dimneg1_3d", 1, median_fn(-1, false))}};
     }});

std::vector<double> idx(const std::tuple<Tensor, Tensor>& r) {
    REQUIRE(std::get<1>(r).dtype() == int64);
    return std::get<1>(r).to_vector();
}

// NaN-aware equality of a tensor's elements with expected values.
void check_nan_values(const Tensor& t, const std::vector<double>& want) {
    auto v = t.to_vector();
    REQUIRE(v.size() == want.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
        CAPTURE(i);
        if (std::isnan(want[i]))
            CHECK(std::isnan(v[i]));
        else
            CHECK(v[i] == want[i]);
    }
}

}  // namespace

TEST_CASE("sort: stable on ties, NaN sorts as the largest, as torch.sort(stable=True)") {
    // PyTorch: torch.sort(tensor([3., nan, 1., 3., nan, 0.])) gives values [0, 1, 3, 3, nan,
    // nan], indices [5, 2, 0, 3, 1, 4]; descending: [nan, nan, 3, 3, 1, 0], [1, 4, 0, 3, 2, 5].
    Tensor x = tensor({3, nan, 1, 3, nan, 0}, float64);
    auto up = sort(x);
    check_nan_values(std::get<0>(up), {0, 1, 3, 3, nan, nan});
    CHECK(idx(up) == std::vector<double>{5, 2, 0, 3, 1, 4});
    auto down = sort(x, 0, true);
    check_nan_values(std::get<0>(down), {nan, nan, 3, 3, 1, 0});
    CHECK(idx(down) == std::vector<double>{1, 4, 0, 3, 2, 5});
    CHECK(argsort(x, -1, true).to_vector() == std::vector<double>{1, 4, 0, 3, 2, 5});
    for (Dtype dt : {float32, float64}) {
        auto r = sort(tensor({{2, 1, 2, 1, 2}}, dt), 1, true);
        CHECK(std::get<0>(r).dtype() == dt);
        CHECK(idx(r) == std::vector<double>{0, 2, 4, 1, 3});  // ties keep their order
    }
    // Along dim 0 of a matrix, and -0.0 equal to 0.0 (kept in order).
    auto m = sort(tensor({{3, -0.0}, {1, 0.0}, {2, -1}}, float64), 0);
    check_values(std::get<0>(m), {1, -1, 2, 0, 3, 0});
    CHECK(idx(m) == std::vector<double>{1, 2, 2, 0, 0, 1});
    // int64: values int64, no gradient.
    auto i = sort(tensor({{3, 1, 2}, {0, 5, 5}}, int64), 1);
    CHECK(std::get<0>(i).dtype() == int64);
    CHECK(std::get<0>(i).to_vector() == std::vector<double>{1, 2, 3, 0, 5, 5});
    CHECK(idx(i) == std::vector<double>{1, 2, 0, 0, 1, 2});
    // Empty and 0-d, as torch.
    CHECK(std::get<0>(sort(zeros({2, 0}), 1)).shape() == Shape{2, 0});
    CHECK(std::get<1>(sort(tensor(5.0))).item<std::int64_t>() == 0);
}

TEST_CASE("sort: the gradient goes back to each value's source position") {
    Tensor x = tensor({{3, 1, 2}}, float64).requires_grad_();
    auto [v, i] = sort(x, 1);
    CHECK(v.requires_grad());
    CHECK_FALSE(i.requires_grad());
    v.backward(tensor({{10, 20, 30}}, float64));
    check_values(x.grad(), {30, 10, 20});
    // Twice differentiable: the backward is a scatter, whose own backward is a gather.
    Tensor y = tensor({2, -1, 5}, float64).requires_grad_();
    Tensor up = tensor({1, 2, 3}, float64).requires_grad_();
    TensorList g = grad({std::get<0>(sort(y, 0, true))}, {y}, {up}, true, true);
    check_values(g[0], {2, 3, 1});
    TensorList gg = grad({mul(g[0], tensor({7, 8, 9}, float64)).sum()}, {up});
    check_values(gg[0], {9, 7, 8});
}

TEST_CASE("topk: ties, NaN and k at the edges") {
    Tensor x = tensor({3, nan, 1, 3, nan, 0}, float64);
    auto top = topk(x, 3);
    check_nan_values(std::get<0>(top), {nan, nan, 3});
    CHECK(idx(top) == std::vector<double>{1, 4, 0});  // the first of tied values
    auto low = topk(x, 3, 0, false);
    check_values(std::get<0>(low), {0, 1, 3});
    CHECK(idx(low) == std::vector<double>{5, 2, 0});
    auto ties = topk(tensor({2, 1, 2, 1, 2}, float32), 2);
    check_values(std::get<0>(ties), {2, 2});
    CHECK(idx(ties) == std::vector<double>{0, 2});
    // k = 0 gives empty results; k = size is sort.
    auto none = topk(tensor({{1, 2}}, float64), 0);
    CHECK(std::get<0>(none).shape() == Shape{1, 0});
    CHECK(std::get<1>(none).shape() == Shape{1, 0});
    CHECK(idx(topk(tensor({1, 3, 2}, float64), 3)) == std::vector<double>{1, 2, 0});
    // A 0-d input gives its element for k 0 and 1, as torch.topk.
    CHECK(std::get<0>(topk(tensor(4.0), 0)).item() == 4.0);
    // int64, and the gradient to the chosen positions.
    auto ti = topk(tensor({{5, -3, 9, 9}}, int64), 2, 1);
    CHECK(std::get<0>(ti).dtype() == int64);
    CHECK(std::get<0>(ti).to_vector() == std::vector<double>{9, 9});
    CHECK(idx(ti) == std::vector<double>{2, 3});
    Tensor g = tensor({{0.5, -1, 4, 2}}, float64).requires_grad_();
    std::get<0>(topk(g, 2, -1, false)).backward(tensor({{10, 20}}, float64));
    check_values(g.grad(), {20, 10, 0, 0});
}

TEST_CASE("kthvalue and median: order statistics, ties, NaN") {
    Tensor y = tensor({2, 1, 2, 1, 2}, float64);
    auto k2 = kthvalue(y, 2);
    CHECK(std::get<0>(k2).item() == 1.0);
    CHECK(std::get<1>(k2).item<std::int64_t>() == 3);  // the second of the sorted ties
    CHECK(std::get<0>(kthvalue(y, 4)).item() == 2.0);
    CHECK(std::get<0>(kthvalue(y, 2, 0, true)).shape() == Shape{1});
    // NaN is the largest: the 5th of [3, nan, 1, 3, nan, 0] is NaN.
    CHECK(std::isnan(std::get<0>(kthvalue(tensor({3, nan, 1, 3, nan, 0}, float64), 5)).item()));
    // torch.median: the lower of the two middle values; NaN if any NaN.
    CHECK(median(tensor({1, 2, 3, 4}, float64)).item() == 2.0);
    CHECK(median(tensor({{4, 1}, {3, 2}, {5, 0}}, float64)).item() == 2.0);
    CHECK(std::isnan(median(tensor({1, nan, 2}, float64)).item()));
    CHECK(std::isnan(median(zeros({0}, float64)).item()));  // no elements: NaN, as torch
    CHECK(median(tensor({7, 3, 5}, int64)).item<std::int64_t>() == 5);
    CHECK(median(tensor({7, 3, 5}, int64)).dtype() == int64);
    // Along a dim: a NaN row gives NaN at the first NaN, as torch.median(x, 1).
    auto md = median(tensor({{3, nan, 1}, {3, 2, 0}}, float64), 1);
    check_nan_values(std::get<0>(md), {nan, 2});
    CHECK(idx(md) == std::vector<double>{1, 1});
    auto mk = median(tensor({{3, 1, 2, 4}}, float64), 1, true);
    CHECK(std::get<0>(mk).shape() == Shape{1, 1});
    CHECK(std::get<0>(mk).item() == 2.0);
    CHECK(std::get<1>(mk).item<std::int64_t>() == 2);
}

TEST_CASE("median: the gradient of the median of all elements is shared among ties") {
    // PyTorch: torch.median(tensor([1., 2., 2., 3.])) sends [0, 0.5, 0.5, 0]; with NaN the
    // NaN elements share it.
    Tensor x = tensor({1, 2, 2, 3}, float64).requires_grad_();
    median(x).backward();
    check_values(x.grad(), {0, 0.5, 0.5, 0});
    Tensor n = tensor({1, nan, 2, nan}, float64).requires_grad_();
    median(n).backward();
    check_values(n.grad(), {0, 0.5, 0, 0.5});
    // Along a dim, the gradient goes to the chosen index only (as kthvalue's).
    Tensor d = tensor({{2, 2, 1}}, float64).requires_grad_();
    std::get<0>(median(d, 1)).backward(tensor({6}, float64));
    check_values(d.grad(), {6, 0, 0});
}

}  // namespace xg::testing

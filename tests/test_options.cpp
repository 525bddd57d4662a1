// ops/options.hpp: Pair2 and the functional option structs; the Generator overloads of rand,
// randn and dropout.
#include <doctest/doctest.h>

#include "tests/op_registry.hpp"

using namespace xg;
using namespace xg::testing;

TEST_CASE("Pair2: from one int or two") {
    CHECK(Pair2(3) == Pair2(3, 3));
    Pair2 p = {2, 1};
    CHECK(p.first == 2);
    CHECK(p.second == 1);
    CHECK(MaxPool2dFuncOptions(2).stride(1).padding(1).stride() == Pair2(1));
    CHECK_FALSE(MaxPool2dFuncOptions(2).stride().has_value());
}

TEST_CASE("functional options: same results as the positional forms") {
    manual_seed(1);
    Tensor x = randn({2, 3, 6, 5}, float64);
    CHECK(max_pool2d(x, MaxPool2dFuncOptions({3, 2}).stride(Pair2(2, 1)).padding(1)).to_vector() ==
          max_pool2d(x, {3, 2}, Pair2(2, 1), {1, 1}).to_vector());
    CHECK(avg_pool2d(x, AvgPool2dFuncOptions(3).padding(1).count_include_pad(false)).to_vector() ==
          avg_pool2d(x, {3, 3}, std::nullopt, {1, 1}, false).to_vector());
    Tensor w = rand({3}, float64), b = rand({3}, float64);
    Tensor rm = zeros({3}, float64), rv = ones({3}, float64);
    Tensor rm2 = zeros({3}, float64), rv2 = ones({3}, float64);
    Tensor y1 = batch_norm(
        x, rm, rv, BatchNormFuncOptions().weight(w).bias(b).training(true).momentum(0.3).eps(1e-3));
    Tensor y2 = batch_norm(x, rm2, rv2, w, b, true, 0.3, 1e-3);
    CHECK(y1.to_vector() == y2.to_vector());
    CHECK(rm.to_vector() == rm2.to_vector());
    CHECK(rv.to_vector() == rv2.to_vector());
}

TEST_CASE("rand, randn and dropout draw from a given generator, leaving the global one alone") {
    manual_seed(5);
    Tensor g1 = randn({4});
    manual_seed(5);
    Generator a(9), b(9);
    Tensor r1 = randn({3, 2}, a, float64), r2 = randn({3, 2}, b, float64);
    CHECK(r1.to_vector() == r2.to_vector());
    CHECK(rand({5}, a).to_vector() == rand({5}, b).to_vector());
    for (double v : rand({100}, a).to_vector()) CHECK((v >= 0.0 && v < 1.0));
    Tensor x = ones({50}, float64);
    a.manual_seed(3);
    b.manual_seed(3);
    CHECK(dropout(x, 0.5, true, a).to_vector() == dropout(x, 0.5, true, b).to_vector());
    CHECK(randn({4}).to_vector() == g1.to_vector());  // the global stream did not move
    Generator c(10);
    CHECK(randn({3, 2}, c, float64).to_vector() != r1.to_vector());
}

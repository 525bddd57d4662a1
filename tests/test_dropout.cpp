// dropout: registry samples (reseeded so every evaluation draws the same mask), errors,
// reproducibility, mask reuse in backward, statistics, and the eval/p == 0 identity.
#include <doctest/doctest.h>

#include <cmath>

#include "core/tensor_impl.hpp"
#include "tests/op_registry.hpp"

namespace xg::testing {

namespace {

// gradcheck evaluates the function many times: reseeding makes every call draw the same mask.
TensorFn seeded_dropout(double p, std::uint64_t seed = 7) {
    return [p, seed](const TensorList& x) {
        manual_seed(seed);
        return dropout(x[0], p, true);
    };
}

}  // namespace

XG_REGISTER_OP_INFO(
    dropout_info,
    {"dropout",
     [] {
         return std::vector<Sample>{
             {"(4, 5) p 0.3", {rand64({4, 5})}, seeded_dropout(0.3)},
             {"(3, 2, 5) p 0.5", {rand64({3, 2, 5})}, seeded_dropout(0.5, 11)},
             {"1-D (7) p 0.1", {rand64({7})}, seeded_dropout(0.1)},
             {"(7, 6) p 0.9", {rand64({7, 6})}, seeded_dropout(0.9, 3)},
             {"eval mode is the identity",
              {rand64({2, 3})},
              [](const TensorList& x) { return mul(dropout(x[0], 0.5, false), 2.0); }},
         };
     },
     [] {
         return std::vector<ErrorCase>{
             {"negative p", [] { dropout(rand(Shape{3}), -0.1); }, "must be in [0, 1), got -0.1"},
             {"p of 1", [] { dropout(rand(Shape{3}), 1.0); },
              "a keep probability of 1 means p = 0"},
             {"p above 1", [] { dropout(rand(Shape{3}), 1.5, false); }, "got 1.5"},
             {"NaN p",
              [] { dropout(rand(Shape{3}), std::nan("")); },
              "must be in [0, 1)",
              {"got nan"}},
             {"int64 input", [] { dropout(arange(4, int64), 0.5); }, "float32 or float64"},
             {"undefined input", [] { dropout(Tensor(), 0.5); }, "undefined tensor"},
         };
     },
     [] {
         return no_parity(
             "a random mask: PyTorch's generator differs; statistics and the mask's reuse are "
             "checked in this file");
     }});

TEST_CASE("dropout: a seeded run is reproducible, a new draw differs") {
    Tensor x = ones({50, 40});
    manual_seed(123);
    Tensor a = dropout(x, 0.4);
    manual_seed(123);
    Tensor b = dropout(x, 0.4);
    Tensor c = dropout(x, 0.4);
    CHECK(a.to_vector() == b.to_vector());
    CHECK(a.to_vector() != c.to_vector());
}

TEST_CASE("dropout: p is the drop probability; kept elements are scaled by 1 / (1 - p)") {
    // cs231n's dropout_forward(p=0.8) keeps 80%: that is p = 0.2 here.
    manual_seed(5);
    const std::size_t n = 200000;
    Tensor y = dropout(ones({n}, float64), 0.2);
    std::size_t kept = 0, other = 0;
    double total = 0.0;
    for (double v : y.to_vector()) {
        other += v != 0.0 && v != 1.25;
        kept += v != 0.0;
        total += v;
    }
    CHECK(other == 0);
    CHECK(static_cast<double>(kept) / n == doctest::Approx(0.8).epsilon(0.01));
    CHECK(total / n == doctest::Approx(1.0).epsilon(0.01));  // inverted dropout keeps the mean
}

TEST_CASE("dropout: backward reuses the forward mask even after the generator moved on") {
    manual_seed(9);
    Tensor x = rand64({6, 7}, 0.5, 1.5);  // no zeros, so out / x recovers the mask
    Tensor y = dropout(x, 0.5);
    randn({100});  // advance the generator: backward must not redraw
    Tensor g = grad({sum(y)}, {x})[0];
    auto yv = y.to_vector(), xv = x.to_vector(), gv = g.to_vector();
    std::size_t zeros_seen = 0;
    for (std::size_t i = 0; i < xv.size(); ++i) {
        CHECK(gv[i] == doctest::Approx(yv[i] / xv[i]));
        CHECK((gv[i] == 0.0 || gv[i] == 2.0));
        zeros_seen += gv[i] == 0.0;
    }
    CHECK(zeros_seen > 0);
    CHECK(zeros_seen < xv.size());
    CHECK(y.grad_fn()->name() == "DropoutBackward");
}

TEST_CASE("dropout: identity when not training or p == 0, float32 works") {
    Tensor x = rand(Shape{3, 4}).requires_grad_();
    for (Tensor id : {dropout(x, 0.5, false), dropout(x, 0.0, true)}) {
        // A new handle on x's storage (docs/ARCHITECTURE.md, "Aliasing"); gradient passes.
        CHECK_FALSE(id.is_same(x));
        CHECK(id.impl()->storage == x.impl()->storage);
        CHECK(id.grad_fn()->name() == "DropoutBackward");
    }
    manual_seed(1);
    Tensor y = dropout(x, 0.25);
    CHECK(y.dtype() == float32);
    for (double v : y.to_vector()) CHECK(std::isfinite(v));
    Tensor z = dropout(rand(Shape{2, 2}), 0.5);  // no grad needed: no graph recorded
    CHECK_FALSE(z.requires_grad());
}

}  // namespace xg::testing

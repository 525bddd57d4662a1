// In-place ops (ops/inplace.cpp): values, version bumps, broadcasting, refusals, dtype errors,
// and the aliasing rule of the shape ops' identity cases.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>

#include "core/tensor_impl.hpp"
#include "tests/error_of.hpp"
#include "xgrad.hpp"

namespace xg {
namespace {

std::vector<double> vals(const Tensor& t) {
    return t.to_vector();
}

TEST_CASE("in-place arithmetic: values and one version bump per call") {
    Tensor x = tensor({{1, 2}, {3, 4}}, float64);
    Tensor y = tensor({{10, 20}, {30, 40}}, float64);
    auto v0 = x.version();
    Tensor& r = x.add_(y);
    CHECK(&r == &x);
    CHECK(x.version() == v0 + 1);
    CHECK(vals(x) == std::vector<double>{11, 22, 33, 44});
    x.sub_(y, 0.5);  // 11 - 5, 22 - 10, ...
    CHECK(vals(x) == std::vector<double>{6, 12, 18, 24});
    x.mul_(2.0).div_(4.0).add_(1.0).sub_(0.5);
    CHECK(vals(x) == std::vector<double>{3.5, 6.5, 9.5, 12.5});
    x.mul_(y).div_(y);
    CHECK(vals(x) == std::vector<double>{3.5, 6.5, 9.5, 12.5});
    CHECK(x.version() == v0 + 8);
    x.add_(y, -0.1);
    CHECK(x.to_vector()[3] == doctest::Approx(8.5));
}

TEST_CASE("in-place ops match the out-of-place ops bit for bit, float32 and float64") {
    for (Dtype d : {float32, float64}) {
        manual_seed(3);
        Tensor a = randn({5, 37}, d), b = randn({5, 37}, d), c = add(rand({5, 37}, d), 0.5);
        CHECK(vals(a.clone().add_(b)) == vals(add(a, b)));
        CHECK(vals(a.clone().sub_(b)) == vals(sub(a, b)));
        CHECK(vals(a.clone().mul_(b)) == vals(mul(a, b)));
        CHECK(vals(a.clone().div_(c)) == vals(div(a, c)));
        CHECK(vals(a.clone().mul_(0.3)) == vals(mul(a, 0.3)));
        CHECK(vals(c.clone().sqrt_()) == vals(sqrt(c)));
        CHECK(vals(a.clone().clamp_(-0.5, 0.5)) == vals(clamp(a, -0.5, 0.5)));
        CHECK(vals(a.clone().clamp_({}, 0.1)) == vals(clamp(a, {}, 0.1)));
    }
}

TEST_CASE("addcmul_, addcdiv_, lerp_ follow PyTorch's formulas") {
    Tensor s = tensor({1.0, 2.0, 3.0}, float64);
    Tensor t1 = tensor({2.0, 4.0, 6.0}, float64), t2 = tensor({4.0, 8.0, 0.5}, float64);
    CHECK(vals(s.clone().addcmul_(t1, t2, 0.5)) == std::vector<double>{5, 18, 4.5});
    CHECK(vals(s.clone().addcdiv_(t1, t2, -2.0)) == std::vector<double>{0, 1, -21});
    CHECK(vals(s.clone().addcmul_(t1, t2)) == std::vector<double>{9, 34, 6});
    Tensor e = tensor({11.0, 22.0, 33.0}, float64);
    CHECK(vals(s.clone().lerp_(e, 0.25)) == std::vector<double>{3.5, 7, 10.5});
    CHECK(vals(s.clone().lerp_(e, 1.0)) == vals(e));  // the far end is exact
    CHECK(vals(s.clone().lerp_(e, 0.0)) == vals(s));
    CHECK(vals(s.clone().lerp_(e, 0.75)) == std::vector<double>{8.5, 17, 25.5});
}

TEST_CASE("zero_, fill_, copy_ (also on int64)") {
    Tensor x = tensor({{1, 2}, {3, 4}});
    auto v0 = x.version();
    x.fill_(7);
    CHECK(vals(x) == std::vector<double>{7, 7, 7, 7});
    x.zero_();
    CHECK(vals(x) == std::vector<double>{0, 0, 0, 0});
    x.copy_(tensor({{5, 6}, {7, 8}}));
    CHECK(vals(x) == std::vector<double>{5, 6, 7, 8});
    CHECK(x.version() == v0 + 3);
    Tensor i = tensor({1, 2, 3}, int64);
    i.add_(tensor({1, 1, 1}, int64)).mul_(3.0).fill_(4);
    CHECK(vals(i) == std::vector<double>{4, 4, 4});
    CHECK_THROWS_WITH_AS(i.div_(2.0), doctest::Contains("div_: expected a floating-point"), Error);
    CHECK_THROWS_WITH_AS(i.mul_(2.5),
                         "mul_: an int64 tensor takes a whole scalar within int64's "
                         "range, got 2.5",
                         Error);
    CHECK_THROWS_WITH_AS(i.fill_(NAN), doctest::Contains("fill_: an int64 tensor"), Error);
    CHECK_THROWS_WITH_AS(i.add_(i, 0.5),
                         doctest::Contains("add_: an int64 tensor takes a whole "
                                           "alpha"),
                         Error);
    CHECK(vals(i) == std::vector<double>{4, 4, 4});
}

TEST_CASE("in-place ops broadcast the argument to self's shape, never the other way") {
    Tensor x = zeros({2, 3}, float64);
    x.add_(tensor({1.0, 2.0, 3.0}, float64));
    CHECK(vals(x) == std::vector<double>{1, 2, 3, 1, 2, 3});
    x.mul_(tensor({2.0, -1.0}, float64).reshape({2, 1}));
    CHECK(vals(x) == std::vector<double>{2, 4, 6, -1, -2, -3});
    x.copy_(scalar_tensor(5.0, float64));
    CHECK(vals(x) == std::vector<double>{5, 5, 5, 5, 5, 5});
    x.addcmul_(tensor({1.0, 2.0, 3.0}, float64), tensor({1.0, 2.0}, float64).reshape({2, 1}));
    CHECK(vals(x) == std::vector<double>{6, 7, 8, 7, 9, 11});

    Tensor small = zeros({3}, float64);
    auto v0 = small.version();
    CHECK_THROWS_WITH_AS(small.add_(ones({2, 3}, float64)),
                         "add_: other of shape [2, 3] cannot be broadcast to self's shape [3]",
                         Error);
    CHECK_THROWS_WITH_AS(small.copy_(ones({4}, float64)), doctest::Contains("copy_: other"), Error);
    CHECK(small.version() == v0);  // refused calls change nothing
}

TEST_CASE("in-place ops: dtype mismatches and undefined tensors throw") {
    Tensor x = zeros({3}, float32);
    CHECK_THROWS_WITH_AS(x.add_(zeros({3}, float64)),
                         "add_: other has dtype float64, self has dtype float32", Error);
    CHECK_THROWS_WITH_AS(x.copy_(zeros({3}, int64)), doctest::Contains("copy_: other has dtype"),
                         Error);
    CHECK_THROWS_WITH_AS(x.addcdiv_(zeros({3}, float32), zeros({3}, float64)),
                         doctest::Contains("addcdiv_: tensor2 has dtype float64"), Error);
    CHECK_THROWS_AS(Tensor().zero_(), Error);
    CHECK_THROWS_AS(x.add_(Tensor()), Error);
    CHECK_THROWS_WITH_AS(x.clamp_({}, {}), doctest::Contains("clamp_: at least one"), Error);
    CHECK_THROWS_WITH_AS(x.clamp_(2.0, 1.0), doctest::Contains("clamp_: min 2"), Error);
}

// A refused in-place op leaves self as it was: its values and its version.
TEST_CASE("in-place ops: a refused call names the op and leaves self unchanged") {
    auto unchanged = [](std::function<void(Tensor&)> op) {
        return [op] {
            Generator g(7);
            Tensor self = randn({2, 3}, g);
            Tensor before = self.clone();
            auto v = self.version();
            try {
                op(self);
            } catch (...) {
                CHECK(self.shape() == before.shape());
                CHECK(self.dtype() == before.dtype());
                CHECK(vals(self) == vals(before));
                CHECK(self.version() == v);
                throw;
            }
        };
    };
    auto f32 = [](const Shape& s) { return ones(s); };
    testing::check_error_rows({
        {"add_: an argument that does not broadcast to self",
         unchanged([=](Tensor& s) { s.add_(f32({4})); }),
         {"add_:"}},
        {"add_: an argument that self would broadcast to",
         unchanged([=](Tensor& s) {
             s.add_(f32({4, 2, 3}));
         }),
         {"add_:"}},
        {"mul_: dtype mismatch",
         unchanged([](Tensor& s) {
             s.mul_(ones({2, 3}, float64));
         }),
         {"mul_:", "float64"}},
        {"copy_: dtype mismatch",
         unchanged([](Tensor& s) {
             s.copy_(ones({2, 3}, float64));
         }),
         {"copy_:"}},
        {"addcdiv_: second tensor of the wrong shape",
         unchanged([=](Tensor& s) {
             s.addcdiv_(f32({2, 3}), f32({5}), 1.0);
         }),
         {"addcdiv_:"}},
        {"lerp_: end of the wrong shape",
         unchanged([=](Tensor& s) { s.lerp_(f32({7}), 0.5); }),
         {"lerp_:"}},
        {"add_: undefined self",
         [] {
             Tensor u;
             u.add_(1.0);
         },
         {"add_:", "undefined"}},
    });
}

TEST_CASE("in-place ops are refused on tensors of the tape while grad mode is on") {
    Tensor w = ones({2}, float64).requires_grad_();
    auto v0 = w.version();
    CHECK_THROWS_WITH_AS(
        w.add_(1.0),
        doctest::Contains(
            "add_: a leaf Variable that requires grad is being used in an in-place operation"),
        Error);
    CHECK_THROWS_WITH_AS(w.zero_(), doctest::Contains("fill_: a leaf Variable"), Error);
    CHECK(w.version() == v0);
    Tensor y = mul(w, 2.0);  // non-leaf: no view+in-place rebase in xgrad
    CHECK_THROWS_WITH_AS(y.mul_(3.0),
                         doctest::Contains("mul_: in-place operation on a tensor "
                                           "that requires grad and has a grad_fn"),
                         Error);
    Tensor buf = zeros({2}, float64);  // an argument that requires grad is refused too
    CHECK_THROWS_WITH_AS(buf.add_(w), doctest::Contains("add_: other requires grad"), Error);
    {
        NoGradGuard no_grad;  // how optimizers update parameters
        w.add_(1.0);
        y.mul_(3.0);
        buf.add_(w);
    }
    CHECK(vals(w) == std::vector<double>{2, 2});
    CHECK(vals(buf) == std::vector<double>{2, 2});
    CHECK(w.version() == v0 + 1);
}

TEST_CASE("an in-place write to a saved tensor fails at backward with both versions") {
    Tensor w = tensor({1.0, 2.0}, float64).requires_grad_();
    Tensor x = tensor({3.0, 4.0}, float64);
    Tensor loss = mul(w, x).sum();
    x.mul_(2.0);
    CHECK_THROWS_WITH_AS(loss.backward(), doctest::Contains("modified in place"), Error);
}

TEST_CASE("AccumulateGrad sums into .grad in place unless someone else holds it") {
    Tensor w = tensor({1.0, 2.0}, float64).requires_grad_();
    mul(w, 3.0).sum().backward();
    const TensorImpl* first = w.grad().impl();
    mul(w, 2.0).sum().backward();
    CHECK(w.grad().impl() == first);  // same tensor, summed in place
    CHECK(vals(w.grad()) == std::vector<double>{5, 5});

    Tensor held = w.grad();  // a user's handle: the next backward must not change it
    mul(w, 1.0).sum().backward();
    CHECK(vals(held) == std::vector<double>{5, 5});
    CHECK(vals(w.grad()) == std::vector<double>{6, 6});
    CHECK(w.grad().impl() != held.impl());

    // create_graph: the accumulated grad carries history and is never written in place.
    Tensor v = tensor({1.0, 2.0}, float64).requires_grad_();
    mul(mul(v, v), 0.5).sum().backward({}, true, true);
    Tensor g1 = v.grad();
    mul(mul(v, v), 0.5).sum().backward({}, true, true);
    CHECK(vals(g1) == std::vector<double>{1, 2});
    CHECK(vals(v.grad()) == std::vector<double>{2, 4});
    // The create_graph grad refers back to v: a cycle until zero_grad (core/engine.hpp).
    // Without this, LeakSanitizer reports it at exit.
    v.zero_grad();
    g1 = Tensor();
}

TEST_CASE("aliasing: identity shape ops return a new handle sharing the input's storage") {
    Tensor x = tensor({{1.0, 2.0}, {3.0, 4.0}}, float64);
    const std::vector<Tensor> outs = {x.reshape({2, 2}), x.view({2, 2}),    x.flatten(0, 0),
                                      x.squeeze(),       x.squeeze(0),      x.transpose(1, 1),
                                      sum_to(x, {2, 2}), expand(x, {2, 2}), dropout(x, 0.5, false)};
    for (const Tensor& y : outs) {
        CHECK_FALSE(y.is_same(x));
        CHECK(y.impl()->storage == x.impl()->storage);
    }
    {
        NoGradGuard no_grad;
        x.reshape({2, 2}).add_(1.0);  // writes through, as through a PyTorch view
    }
    CHECK(vals(x) == std::vector<double>{2, 3, 4, 5});
    x.reshape({2, 2}).add_(1.0);  // x needs no grad: allowed with grad mode on too
    CHECK(vals(x) == std::vector<double>{3, 4, 5, 6});
    // A shape change copies: writes to the result do not reach x (unlike PyTorch's views).
    x.reshape({4}).add_(1.0);
    CHECK(vals(x) == std::vector<double>{3, 4, 5, 6});

    // With grad: the alias is a non-leaf with its own node; in-place on it is refused, and
    // requires_grad_ on the alias cannot change x.
    Tensor w = tensor({1.0, 2.0}, float64).requires_grad_();
    Tensor a = w.reshape({2});
    CHECK_FALSE(a.is_same(w));
    CHECK_FALSE(a.is_leaf());
    CHECK_THROWS_WITH_AS(a.add_(1.0), doctest::Contains("add_: in-place operation"), Error);
    mul(a, a).sum().backward();
    CHECK(vals(w.grad()) == std::vector<double>{2, 4});
    Tensor c = ones({3}, float64);
    Tensor c2 = c.squeeze();
    c2.requires_grad_();
    CHECK_FALSE(c.requires_grad());
}

}  // namespace
}  // namespace xg

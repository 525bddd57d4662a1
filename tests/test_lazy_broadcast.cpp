// Broadcasts not written out (core/tensor.hpp, LazyBroadcast): the gradient of sum / mean /
// expand stays a source plus a shape until something reads its elements, kernels that
// broadcast anyway read the source, and the values are always those of the written-out
// broadcast.
#include <doctest/doctest.h>

#include <vector>

#include "core/tensor_impl.hpp"
#include "xgrad.hpp"

using namespace xg;

namespace {
std::vector<double> vals(const Tensor& t) {
    return t.to_vector();
}
}  // namespace

TEST_CASE("lazy broadcast: the gradient of sum() reaches the ops below it unwritten") {
    Tensor x = tensor({{1.0, -2.0, 3.0}, {-4.0, 5.0, 6.0}}, float64).requires_grad_();
    Tensor y = mul(x, 3.0);
    bool seen = false, written = true;
    y.register_hook([&](const Tensor& g) {
        seen = true;
        written = g.is_materialized();
        return Tensor();
    });
    y.sum().backward();
    CHECK(seen);
    CHECK_FALSE(written);  // the gradient of y: 1 broadcast to (2, 3), kept as one value
    // mul by a scalar maps the source: x's gradient is still one value and a shape
    CHECK_FALSE(x.grad().is_materialized());
    CHECK(x.grad().shape() == Shape{2, 3});
    CHECK(vals(x.grad()) == std::vector<double>(6, 3.0));
    CHECK(x.grad().is_materialized());  // reading the elements wrote them out
}

TEST_CASE("lazy broadcast: relu's backward reads the source, and gives the written-out result") {
    for (const Dtype dt : {float32, float64}) {
        Tensor x = tensor({{1.0, -2.0, 3.0}, {-4.0, 5.0, 0.0}}, dt).requires_grad_();
        relu(x).sum().backward();
        CHECK(vals(x.grad()) == std::vector<double>{1, 0, 1, 0, 1, 0});
        // mean: the same bits as with the gradient written out by hand
        Tensor x1 = x.detach().requires_grad_(), x2 = x.detach().requires_grad_();
        relu(x1).mean().backward();
        relu(x2).backward(div(ones({2, 3}, dt), 6.0));
        CHECK(vals(x1.grad()) == vals(x2.grad()));
        CHECK(vals(x1.grad())[0] > 0.16);
    }
}

TEST_CASE("lazy broadcast: a dim-wise sum's gradient, through binary ops of every broadcast") {
    Tensor g = tensor({1.0, 2.0}, float64).reshape({2, 1});  // (2, 1)
    Tensor e = expand(g, {2, 3});                            // lazy (2, 3)
    CHECK_FALSE(e.is_materialized());
    Tensor full_shaped = tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}}, float64);
    Tensor row = tensor({10.0, 20.0, 30.0}, float64);  // (3): broadcasts to (2, 3)
    CHECK(vals(add(e, full_shaped)) == std::vector<double>{2, 3, 4, 6, 7, 8});
    CHECK(vals(mul(full_shaped, e)) == std::vector<double>{1, 2, 3, 8, 10, 12});
    Tensor r = sub(e, row);  // the sources broadcast to (2, 3) already: stays a broadcast
    CHECK(r.shape() == Shape{2, 3});
    CHECK(vals(r) == std::vector<double>{-9, -19, -29, -8, -18, -28});
    Tensor both = add(e, expand(scalar_tensor(1.0, float64), {2, 3}));
    CHECK_FALSE(both.is_materialized());
    CHECK(vals(both) == std::vector<double>{2, 2, 2, 3, 3, 3});
    CHECK(vals(e) == std::vector<double>{1, 1, 1, 2, 2, 2});
    Tensor bigger =
        add(expand(scalar_tensor(2.0, float64), {3}), tensor({1.0, 2.0}, float64).reshape({2, 1}));
    CHECK(bigger.shape() == Shape{2, 3});
    CHECK(vals(bigger) == std::vector<double>{3, 3, 3, 4, 4, 4});
}

TEST_CASE("lazy broadcast: a snapshot of its source, and in-place writes after the write-out") {
    Tensor a = tensor({1.0, 2.0}, float64);
    Tensor e = expand(a, {2, 2});
    a.mul_(10.0);  // must not show through: expand's result is its own tensor
    CHECK(vals(e) == std::vector<double>{1, 2, 1, 2});

    Tensor f = expand(tensor({1.0}, float64), {3});
    f.add_(1.0);  // writes the broadcast out first
    CHECK(vals(f) == std::vector<double>{2, 2, 2});
    CHECK(vals(mul(f, 2.0)) == std::vector<double>{4, 4, 4});  // not the stale source
    CHECK(vals(add(f, f)) == std::vector<double>{4, 4, 4});
}

TEST_CASE("lazy broadcast: gradients accumulate across backward calls and into held .grad") {
    Tensor w = tensor({1.0, 2.0}, float64).requires_grad_();
    mul(w, 3.0).sum().backward();
    mul(w, 2.0).sum().backward();
    CHECK(vals(w.grad()) == std::vector<double>{5, 5});
    Tensor held = w.grad();
    w.sum().backward();
    CHECK(vals(held) == std::vector<double>{5, 5});
    CHECK(vals(w.grad()) == std::vector<double>{6, 6});
}

TEST_CASE("lazy broadcast: second derivatives through the unwritten gradient") {
    Tensor x = tensor({1.0, 2.0, 3.0}, float64).requires_grad_();
    Tensor gx = grad({mul(mul(x, x), x).sum()}, {x}, {}, true, true)[0];  // 3 x^2
    CHECK(vals(gx) == std::vector<double>{3, 12, 27});
    gx.sum().backward();  // d/dx sum(3 x^2) = 6 x
    CHECK(vals(x.grad()) == std::vector<double>{6, 12, 18});
}

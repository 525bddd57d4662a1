// The tape and the engine: graph shapes, accumulation, retain_graph, grad mode, hooks, custom
// ops, error messages, deep graphs and memory.
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "core/tensor_impl.hpp"
#include "tests/error_of.hpp"
#include "xgrad.hpp"

using namespace xg;

namespace {
Tensor t64(xt::nested_initializer_list_t<double, 1> v) {
    return tensor(v, float64).requires_grad_();
}

using xg::testing::error_of;

std::vector<double> vec(const Tensor& t) {
    return t.to_vector();
}
}  // namespace

TEST_CASE("engine: diamond graph sums both paths") {
    auto x = t64({1.0, 2.0, 3.0});
    auto a = x * 2.0;
    auto b = exp(x);
    auto y = (a * b).sum();  // d/dx = 2 e^x + 2x e^x
    y.backward();
    auto g = vec(x.grad());
    for (int i = 0; i < 3; ++i) {
        double xi = i + 1.0;
        CHECK(g[i] == doctest::Approx(2 * std::exp(xi) + 2 * xi * std::exp(xi)));
    }
}

TEST_CASE("engine: a tensor used twice gets both gradients") {
    auto x = t64({3.0});
    auto y = (x * x + x).sum();  // 2x + 1
    y.backward();
    CHECK(x.grad().item() == doctest::Approx(7.0));
}

TEST_CASE("engine: leaves accumulate .grad across backward calls") {
    auto x = t64({1.0, -1.0});
    (x * 3.0).sum().backward();
    (x * 4.0).sum().backward();
    CHECK(vec(x.grad()) == std::vector<double>{7.0, 7.0});
    x.zero_grad();
    CHECK_FALSE(x.grad().defined());
}

TEST_CASE("engine: a second backward through a freed graph throws, retain_graph allows it") {
    auto x = t64({1.0, 2.0});
    auto y = (tanh(x) * x).sum();
    y.backward();
    CHECK(y.grad_fn()->released());
    std::string msg = error_of([&] { y.backward(); });
    CHECK(msg.find("SumBackward") == 0);
    CHECK(msg.find("second time") != std::string::npos);
    CHECK(msg.find("retain_graph") != std::string::npos);

    auto x2 = t64({1.0, 2.0});
    auto y2 = (tanh(x2) * x2).sum();
    y2.backward({}, true);
    CHECK_FALSE(y2.grad_fn()->released());
    auto first = vec(x2.grad());
    y2.backward();
    auto twice = vec(x2.grad());
    CHECK(twice[0] == doctest::Approx(2 * first[0]));
    CHECK(twice[1] == doctest::Approx(2 * first[1]));
}

TEST_CASE("engine: backward on a non-scalar needs a gradient") {
    auto x = t64({1.0, 2.0});
    auto y = x * 2.0;
    std::string msg = error_of([&] { y.backward(); });
    CHECK(msg.find("backward: grad can be implicitly created only for one-element outputs") == 0);
    CHECK(msg.find("[2]") != std::string::npos);
    y.backward(tensor({1.0, 10.0}, float64));
    CHECK(vec(x.grad()) == std::vector<double>{2.0, 20.0});
    CHECK(error_of([&] { (x * 2.0).backward(tensor({1.0}, float64)); }).find("[1]") !=
          std::string::npos);
    CHECK(error_of([&] {
              (x * 2.0).backward(tensor({1.0, 2.0}));
          }).find("float32") != std::string::npos);
}

TEST_CASE("engine: backward on a tensor without history is an error") {
    auto x = tensor({1.0, 2.0}, float64);
    std::string msg = error_of([&] { x.sum().backward(); });
    CHECK(msg.find("backward: output 0 does not require grad") == 0);
}

TEST_CASE("engine: NoGradGuard records nothing and is thread-local and scoped") {
    auto x = t64({1.0, 2.0});
    {
        NoGradGuard guard;
        auto y = x * 2.0;
        CHECK_FALSE(y.requires_grad());
        CHECK(y.grad_fn() == nullptr);
        {
            EnableGradGuard enable;
            CHECK((x * 2.0).requires_grad());
        }
        CHECK_FALSE(GradMode::is_enabled());
    }
    CHECK(GradMode::is_enabled());
    CHECK((x * 2.0).requires_grad());
}

TEST_CASE("engine: detach cuts the graph and shares data") {
    auto x = t64({1.0, 2.0});
    auto d = (x * 2.0).detach();
    CHECK_FALSE(d.requires_grad());
    CHECK(d.is_leaf());
    auto y = (x * d).sum();  // d is a constant here
    y.backward();
    CHECK(vec(x.grad()) == std::vector<double>{2.0, 4.0});
    auto e = x.detach();
    CHECK(e.impl()->storage == x.impl()->storage);
}

TEST_CASE("engine: tensor hooks see and may replace the gradient") {
    auto x = t64({1.0, 2.0});
    auto h = x * 3.0;
    std::vector<double> seen;
    h.register_hook([&](const Tensor& g) {
        seen = vec(g);
        return g * 10.0;  // replaces the gradient flowing on
    });
    x.register_hook([&](const Tensor& g) {
        seen.push_back(g.to_vector()[0]);
        return Tensor();  // undefined: keep the gradient as is
    });
    h.sum().backward();
    CHECK(seen == std::vector<double>{1.0, 1.0, 30.0});
    CHECK(vec(x.grad()) == std::vector<double>{30.0, 30.0});
    CHECK(error_of([] {
              tensor({1.0}).register_hook([](const Tensor& g) { return g; });
          }).find("register_hook") == 0);
}

TEST_CASE("engine: a hook that changes the gradient's shape or dtype is an error") {
    auto x = t64({1.0, 2.0});
    x.register_hook([](const Tensor&) { return ones({3}, float64); });
    CHECK(error_of([&] { (x * 2.0).sum().backward(); }) ==
          "register_hook: a hook returned a gradient of shape [3] float64 for a tensor of shape "
          "[2] float64 (a hook may replace the gradient, not change its shape or dtype)");
    CHECK_FALSE(x.grad().defined());  // .grad is not left with the wrong shape

    auto y = t64({1.0, 2.0});
    auto h = y * 2.0;
    h.register_hook([](const Tensor& g) { return g.to(float32); });
    CHECK(error_of([&] { (h * 2.0).sum().backward(); }).find("register_hook: a hook returned") ==
          0);
}

TEST_CASE("engine: retain_grad keeps a non-leaf gradient") {
    auto x = t64({1.0, 2.0});
    auto h = x * 3.0;
    h.retain_grad();
    (h * h).sum().backward();
    CHECK(vec(h.grad()) == std::vector<double>{6.0, 12.0});
}

namespace {
struct Cube : Function<Cube> {
    static constexpr const char* name = "CubeBackward";
    static Tensor forward(AutogradContext* ctx, const Tensor& x, double scale) {
        ctx->save_for_backward({x});
        ctx->saved_data["scale"] = scale;
        return x * x * x * scale;
    }
    static TensorList backward(AutogradContext* ctx, const TensorList& g) {
        Tensor x = ctx->get_saved_variables()[0];
        double scale = std::any_cast<double>(ctx->saved_data["scale"]);
        return {g[0] * x * x * (3.0 * scale)};
    }
};

struct BadCount : Function<BadCount> {
    static Tensor forward(AutogradContext*, const Tensor& x) { return x * 2.0; }
    static TensorList backward(AutogradContext*, const TensorList& g) { return {g[0], g[0]}; }
};

struct BadShape : Function<BadShape> {
    static constexpr const char* name = "BadShapeBackward";
    static Tensor forward(AutogradContext*, const Tensor& x) { return x * 2.0; }
    static TensorList backward(AutogradContext*, const TensorList&) { return {ones({5}, float64)}; }
};

struct SaveOutput : Function<SaveOutput> {
    static Tensor forward(AutogradContext* ctx, const Tensor& x) {
        Tensor y = exp(x);
        ctx->save_for_backward({y});
        return y;
    }
    static TensorList backward(AutogradContext* ctx, const TensorList& g) {
        return {g[0] * ctx->get_saved_variables()[0]};
    }
};
}  // namespace

TEST_CASE("engine: custom Function with forward and backward") {
    auto x = t64({1.0, 2.0});
    auto y = Cube::apply(x, 2.0);
    CHECK(y.grad_fn()->name() == "CubeBackward");
    CHECK(vec(y) == std::vector<double>{2.0, 16.0});
    y.sum().backward();
    CHECK(vec(x.grad()) == std::vector<double>{6.0, 24.0});
    auto r = gradcheck([](const TensorList& in) { return Cube::apply(in[0], 0.5); },
                       {tensor({0.3, -0.7}, float64).requires_grad_()});
    CHECK_MESSAGE(r, r.log);
    auto rr = gradgradcheck([](const TensorList& in) { return Cube::apply(in[0], 0.5); },
                            {tensor({0.3, -0.7}, float64).requires_grad_()});
    CHECK_MESSAGE(rr, rr.log);
    auto s = SaveOutput::apply(x);
    s.sum().backward();  // the saved output comes back with its history and no cycle
    CHECK(x.grad().to_vector()[0] == doctest::Approx(6.0 + std::exp(1.0)));
}

TEST_CASE("engine: wrong gradients from a backward rule name the node") {
    auto x = t64({1.0, 2.0});
    std::string msg = error_of([&] { BadCount::apply(x).sum().backward(); });
    CHECK(msg.find("CustomFunctionBackward: backward returned 2 gradients, expected 1") == 0);
    msg = error_of([&] { BadShape::apply(x).sum().backward(); });
    CHECK(msg.find("BadShapeBackward: gradient for input 0 has shape [5], expected [2]") == 0);
}

TEST_CASE("engine: modifying a saved tensor in place is detected") {
    auto x = t64({1.0, 2.0});
    auto a = x * 1.0;
    auto y = (a * a).sum();  // MulBackward saves a
    {
        NoGradGuard g;
        a.mutable_data<double>()(0) = 5.0;
    }
    std::string msg = error_of([&] { y.backward(); });
    CHECK(msg.find("MulBackward") == 0);
    CHECK(msg.find("modified in place") != std::string::npos);
}

TEST_CASE("engine: xg::grad returns gradients without touching .grad") {
    auto x = t64({1.0, 2.0});
    auto w = t64({3.0, 4.0});
    auto y = (x * w).sum();
    auto g = grad({y}, {x, w});
    CHECK(vec(g[0]) == std::vector<double>{3.0, 4.0});
    CHECK(vec(g[1]) == std::vector<double>{1.0, 2.0});
    CHECK_FALSE(x.grad().defined());
    CHECK_FALSE(w.grad().defined());
    CHECK_FALSE(g[0].requires_grad());

    auto z = t64({1.0});
    auto y2 = (x * 2.0).sum();
    std::string msg = error_of([&] { grad({y2}, {z}); });
    CHECK(msg.find("grad: input 0") == 0);
    CHECK(msg.find("allow_unused") != std::string::npos);
    auto y3 = (x * 2.0).sum();
    auto gu = grad({y3}, {x, z}, {}, {}, false, true);
    CHECK(gu[0].defined());
    CHECK_FALSE(gu[1].defined());
}

TEST_CASE("engine: grad w.r.t. an intermediate tensor") {
    auto x = t64({1.0, 2.0});
    auto h = x * 3.0;
    auto y = (h * h).sum();
    auto g = grad({y}, {h});
    CHECK(vec(g[0]) == std::vector<double>{6.0, 12.0});
}

TEST_CASE("engine: create_graph gives second derivatives") {
    auto x = t64({0.5, -1.5});
    auto y = (x * x * x).sum();
    auto g = grad({y}, {x}, {}, {}, true);  // 3x^2, recorded
    CHECK(g[0].requires_grad());
    auto gg = grad({g[0].sum()}, {x});  // 6x
    CHECK(vec(gg[0])[0] == doctest::Approx(3.0));
    CHECK(vec(gg[0])[1] == doctest::Approx(-9.0));

    auto x2 = t64({0.5});
    auto y2 = (tanh(x2) * x2).sum();
    y2.backward({}, {}, true);  // x2.grad() keeps its history
    CHECK(x2.grad().requires_grad());
    x2.zero_grad();  // the recorded .grad refers back to x2: drop it to break the cycle
}

namespace {
struct RawSquare : Function<RawSquare> {
    static constexpr const char* name = "RawSquareBackward";
    static Tensor forward(AutogradContext* ctx, const Tensor& x) {
        ctx->save_for_backward({x});
        ctx->mark_once_differentiable();
        return x * x;
    }
    static TensorList backward(AutogradContext* ctx, const TensorList& g) {
        Tensor x = ctx->get_saved_variables()[0];
        xt::xarray<double> r = g[0].data<double>() * 2.0 * x.data<double>();  // raw kernel
        return {Tensor(r)};
    }
};
}  // namespace

TEST_CASE("engine: a once-differentiable rule refuses double backward") {
    auto x = t64({1.0, 2.0});
    auto g = grad({RawSquare::apply(x).sum()}, {x}, {}, {}, true);  // first order works
    CHECK(vec(g[0]) == std::vector<double>{2.0, 4.0});
    std::string msg = error_of([&] { grad({g[0].sum()}, {x}); });
    CHECK(msg.find("RawSquareBackward is once-differentiable") != std::string::npos);
}

TEST_CASE("engine: a 100,000-op chain builds, backprops and frees without recursion") {
    auto x = t64({1.0, 2.0});
    std::weak_ptr<Node> first;
    {
        Tensor c = x;
        for (int i = 0; i < 100000; ++i) {
            c = c * 1.0 + 0.0;
            if (i == 0) first = c.grad_fn();
        }
        c.sum().backward();
        CHECK(vec(x.grad()) == std::vector<double>{1.0, 1.0});
        Tensor d = x;  // a second chain that is never backpropagated
        for (int i = 0; i < 100000; ++i) d = exp(d * 0.0);
    }
    CHECK(first.expired());
}

TEST_CASE("engine: a training-style loop frees every graph (no reference cycles)") {
    auto w = t64({0.5, -0.5});
    std::vector<std::weak_ptr<Node>> nodes;
    std::vector<std::weak_ptr<Storage>> storages;
    for (int step = 0; step < 50; ++step) {
        auto h = tanh(w * 2.0);  // saves its output
        auto e = exp(h);         // saves its output
        auto loss = (e * h).sum();
        nodes.push_back(loss.grad_fn());
        nodes.push_back(h.grad_fn());
        storages.push_back(e.impl()->storage);
        if (step % 2 == 0) {
            loss.backward();
        } else {
            grad({loss}, {w}, {}, true, true);  // retained and recorded, then dropped
        }
        NoGradGuard g;
        w.mutable_data<double>() -= 0.01 * w.grad().data<double>();
    }
    for (const auto& n : nodes) CHECK(n.expired());
    for (const auto& s : storages) CHECK(s.expired());
}

TEST_CASE("engine: deterministic order gives bitwise identical gradients") {
    auto run = [] {
        manual_seed(7);
        auto x = randn({8}, float64).requires_grad_();
        auto a = tanh(x), b = exp(x * 0.1), c = sigmoid(x);
        auto y = (a * b + b * c + c * a + a * a).sum();
        y.backward();
        return vec(x.grad());
    };
    CHECK(run() == run());
}

TEST_CASE("engine: leaf in-place modification is refused while recording") {
    auto x = t64({1.0});
    std::string msg = error_of([&] { x.mutable_data<double>()(0) = 2.0; });
    CHECK(msg.find("mutable_data: a leaf tensor that requires grad") == 0);
    NoGradGuard g;
    auto v0 = x.version();
    x.mutable_data<double>()(0) = 2.0;
    CHECK(x.version() == v0 + 1);
}

TEST_CASE("post-accumulate-grad hooks run after .grad is updated; queue_callback at the end") {
    Tensor w = tensor({1.0, 2.0}, float64).requires_grad_();
    Tensor v = tensor({3.0}, float64).requires_grad_();
    std::vector<std::string> events;
    std::vector<double> seen;
    auto h = w.register_post_accumulate_grad_hook([&](Tensor& leaf) {
        seen = leaf.grad().to_vector();  // already accumulated
        events.push_back("w");
        queue_callback([&] {
            events.push_back("end");
            queue_callback([&] { events.push_back("end2"); });  // callbacks may queue more
        });
    });
    v.register_post_accumulate_grad_hook([&](Tensor&) { events.push_back("v"); });
    add(mul(w, 2.0).sum(), mul(v, 5.0).sum()).backward();
    CHECK(seen == std::vector<double>{2, 2});
    REQUIRE(events.size() == 4);
    CHECK(events[2] == "end");  // after both leaves
    CHECK(events[3] == "end2");
    mul(w, 3.0).sum().backward();
    CHECK(seen == std::vector<double>{5, 5});  // the sum, not the incoming gradient
    w.remove_post_accumulate_grad_hook(h);
    events.clear();
    mul(w, 3.0).sum().backward();
    CHECK(events.empty());
    // xg::grad touches no .grad, so no post-accumulate hook runs.
    w.register_post_accumulate_grad_hook([&](Tensor&) { events.push_back("w"); });
    grad({mul(w, 2.0).sum()}, {w});
    CHECK(events.empty());
    CHECK_FALSE(in_backward());
    CHECK_THROWS_WITH_AS(queue_callback([] {}),
                         "queue_callback: no backward is running on this thread (call it from a "
                         "hook)",
                         Error);
    Tensor plain = tensor({1.0});
    CHECK_THROWS_WITH_AS(plain.register_post_accumulate_grad_hook([](Tensor&) {}),
                         doctest::Contains("register_post_accumulate_grad_hook: only a leaf"),
                         Error);
}

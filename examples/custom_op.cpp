// A user-defined op with its own forward and backward, checked against finite differences.
//
// Two ways to write the backward rule:
//  - with xgrad ops (Swish below): the rule is recorded under create_graph, so the op is twice
//    differentiable and gradgradcheck passes;
//  - on raw arrays, for speed (Softplus below): mark the node once-differentiable, and asking for
//    a second derivative throws a clear error instead of silently returning zero.
#include <xgrad.hpp>

#include <cmath>

// swish(x) = x * sigmoid(x); d/dx = s + x * s * (1 - s) with s = sigmoid(x).
struct Swish : xg::Function<Swish> {
    static constexpr const char* name = "SwishBackward";
    static xg::Tensor forward(xg::AutogradContext* ctx, const xg::Tensor& x) {
        ctx->save_for_backward({x});
        return x * xg::sigmoid(x);
    }
    static xg::TensorList backward(xg::AutogradContext* ctx, const xg::TensorList& g) {
        xg::Tensor x = ctx->get_saved_variables()[0];
        xg::Tensor s = xg::sigmoid(x);
        return {g[0] * (s + x * s * (1.0 - s))};
    }
};

// softplus(x) = log(1 + exp(x)), computed stably on the raw array; d/dx = sigmoid(x).
struct Softplus : xg::Function<Softplus> {
    static constexpr const char* name = "SoftplusBackward";
    static xg::Tensor forward(xg::AutogradContext* ctx, const xg::Tensor& x) {
        ctx->save_for_backward({x});
        ctx->mark_once_differentiable();
        xt::xarray<double> y = x.data<double>();
        for (double& v : y) v = v > 0 ? v + std::log1p(std::exp(-v)) : std::log1p(std::exp(v));
        return xg::from_array(y);
    }
    static xg::TensorList backward(xg::AutogradContext* ctx, const xg::TensorList& g) {
        xg::Tensor x = ctx->get_saved_variables()[0];
        xt::xarray<double> d = g[0].data<double>();
        const auto& xv = x.data<double>();
        for (std::size_t i = 0; i < d.size(); ++i) d.data()[i] /= 1.0 + std::exp(-xv.data()[i]);
        return {xg::from_array(d)};
    }
};

int main() {
    xg::manual_seed(0);
    auto x = xg::randn({3, 4}, xg::float64).requires_grad_();

    auto y = Swish::apply(x);
    fmt::print("swish(x) =\n{}\n", y);
    auto fn = [](const xg::TensorList& in) { return Swish::apply(in[0]).sum(); };
    auto r1 = xg::gradcheck(fn, {x});
    auto r2 = xg::gradgradcheck(fn, {x});
    fmt::print("Swish: gradcheck {}, gradgradcheck {}\n", r1.ok ? "passed" : r1.log,
               r2.ok ? "passed" : r2.log);

    auto r3 =
        xg::gradcheck([](const xg::TensorList& in) { return Softplus::apply(in[0]).sum(); }, {x});
    fmt::print("Softplus: gradcheck {}\n", r3.ok ? "passed" : r3.log);
    bool refused = false;
    try {
        auto g = xg::grad({Softplus::apply(x).sum()}, {x}, {}, {}, /*create_graph=*/true);
        xg::grad({g[0].sum()}, {x});
    } catch (const xg::Error& e) {
        refused = true;
        fmt::print("Softplus second derivative refused: {}\n", e.what());
    }
    return r1.ok && r2.ok && r3.ok && refused ? 0 : 1;
}

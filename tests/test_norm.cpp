// batch_norm, layer_norm, group_norm: registry samples and errors, fused vs composed, running
// statistics, numerical edge cases and PyTorch parity.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include "tests/fused_check.hpp"
#include "tests/op_registry.hpp"
#include "tests/parity.hpp"

namespace xg::testing {

namespace {

Tensor fixed(const Shape& s, double lo, double hi) {
    return rand64(s, lo, hi).detach();
}

// batch_norm in training mode with fresh running stats (the update does not affect the output).
Tensor bn_train(const Tensor& x, const Tensor& w, const Tensor& b) {
    std::size_t c = x.size(1);
    Tensor rm = zeros({c}, x.dtype()), rv = ones({c}, x.dtype());
    return batch_norm(x, rm, rv, BatchNormFuncOptions().weight(w).bias(b).training(true));
}

std::vector<Sample> batch_norm_samples() {
    Tensor rm = fixed({3}, -0.5, 0.5), rv = fixed({3}, 0.5, 2.0);
    Tensor rm4 = fixed({4}, -0.5, 0.5), rv4 = fixed({4}, 0.5, 2.0);
    return {
        {"2-D (5, 3) training, affine",
         {rand64({5, 3}), pos64({3}), rand64({3})},
         [](const TensorList& x) { return bn_train(x[0], x[1], x[2]); }},
        {"spatial (3, 4, 3, 5) training, affine",
         {rand64({3, 4, 3, 5}), pos64({4}), rand64({4})},
         [](const TensorList& x) { return bn_train(x[0], x[1], x[2]); }},
        {"(N, C, L) (2, 3, 5) training, no affine, no running stats",
         {rand64({2, 3, 5})},
         [](const TensorList& x) {
             return batch_norm(x[0], {}, {}, BatchNormFuncOptions().training(true));
         }},
        {"batch of 1, spatial (1, 2, 3, 3) training, weight only",
         {rand64({1, 2, 3, 3}), pos64({2})},
         [](const TensorList& x) { return bn_train(x[0], x[1], {}); }},
        {"spatial (2, 3, 3, 3) eval, affine",
         {rand64({2, 3, 3, 3}), rand64({3}), rand64({3})},
         [rm, rv](const TensorList& x) {
             return batch_norm(x[0], rm, rv, BatchNormFuncOptions().weight(x[1]).bias(x[2]));
         }},
        {"batch of 1, 2-D (1, 4) eval, bias only",
         {rand64({1, 4}), rand64({4})},
         [rm4, rv4](const TensorList& x) {
             return batch_norm(x[0], rm4, rv4, BatchNormFuncOptions().bias(x[1]));
         }},
        {"2-D (7, 3) training, grads of weight and bias only",
         {fixed({7, 3}, -1, 1), pos64({3}), rand64({3})},
         [](const TensorList& x) { return bn_train(x[0], x[1], x[2]); }},
    };
}

std::vector<ErrorCase> batch_norm_errors() {
    auto x = [] { return rand(Shape{4, 3}, float64); };
    auto c3 = [] { return zeros({3}, float64); };
    return {
        {"int64 input",
         [&] {
             batch_norm(arange(6, int64).reshape({2, 3}), {}, {},
                        BatchNormFuncOptions().training(true));
         },
         "float32 or float64"},
        {"1-D input",
         [&] {
             batch_norm(rand(Shape{3}, float64), {}, {}, BatchNormFuncOptions().training(true));
         },
         "at least 2 dims"},
        {"weight of the wrong size",
         [&] {
             batch_norm(x(), {}, {},
                        BatchNormFuncOptions().weight(zeros({4}, float64)).training(true));
         },
         "weight must have shape [3]"},
        {"bias of the wrong dtype",
         [&] { batch_norm(x(), {}, {}, BatchNormFuncOptions().bias(zeros({3})).training(true)); },
         "bias has dtype float32"},
        {"running_mean of the wrong size",
         [&] {
             batch_norm(x(), zeros({2}, float64), ones({2}, float64),
                        BatchNormFuncOptions().training(true));
         },
         "running_mean must have shape [3]"},
        {"only running_mean",
         [&] { batch_norm(x(), c3(), {}, BatchNormFuncOptions().training(true)); },
         "given together"},
        {"eval without running stats", [&] { batch_norm(x(), {}, {}, BatchNormFuncOptions()); },
         "required in eval mode"},
        {"batch of 1 in training",
         [&] {
             batch_norm(rand(Shape{1, 3}, float64), c3(), c3(),
                        BatchNormFuncOptions().training(true));
         },
         "more than 1 value per channel when training, got input of shape [1, 3]"},
        {"running_var requiring grad",
         [&] {
             batch_norm(x(), c3(), ones({3}, float64).requires_grad_(),
                        BatchNormFuncOptions().training(true));
         },
         "running_var must not require grad"},
        {"momentum 1.5",
         [&] { batch_norm(x(), c3(), c3(), BatchNormFuncOptions().training(true).momentum(1.5)); },
         "momentum must be in [0, 1], got 1.5"},
        {"negative eps",
         [&] { batch_norm(x(), c3(), c3(), BatchNormFuncOptions().training(true).eps(-1.0)); },
         "eps must be >= 0"},
    };
}

// PyTorch parity (tests/parity/norm_loss.py): training cases also compare the running
// statistics after the step (rm1, rv1); the eval case normalizes by given ones.
Parity batch_norm_parity() {
    struct Case {
        const char* name;
        std::size_t n_inputs;
        double momentum;
    };
    Parity p;
    for (Case c : {Case{"bn_train_2d", 3, 0.1}, Case{"bn_train_4d", 3, 0.3},
                   Case{"bn_train_3d_noaffine", 1, 0.1}, Case{"bn_train_batch1_4d", 3, 0.1}}) {
        Tensor rm = load_fixture(c.name, "rm0"), rv = load_fixture(c.name, "rv0");
        auto fn = [rm, rv, c](const TensorList& x) {
            return batch_norm(x[0], rm, rv,
                              BatchNormFuncOptions()
                                  .weight(c.n_inputs > 1 ? x[1] : Tensor())
                                  .bias(c.n_inputs > 2 ? x[2] : Tensor())
                                  .training(true)
                                  .momentum(c.momentum));
        };
        auto stats = [rm, rv, c]() -> std::string {
            if (rel_error(rm, load_fixture(c.name, "rm1")) >= 1e-12) return "running_mean differs";
            if (rel_error(rv, load_fixture(c.name, "rv1")) >= 1e-12) return "running_var differs";
            return "";
        };
        p.cases.push_back({c.name, c.n_inputs, fn, stats});
    }
    Tensor rm = load_fixture("bn_eval_4d", "rm"), rv = load_fixture("bn_eval_4d", "rv");
    p.cases.push_back({"bn_eval_4d", 3, [rm, rv](const TensorList& x) {
                           return batch_norm(x[0], rm, rv,
                                             BatchNormFuncOptions().weight(x[1]).bias(x[2]));
                       }});
    return p;
}

XG_REGISTER_OP_INFO(batch_norm_info,
                    {"batch_norm", batch_norm_samples, batch_norm_errors, batch_norm_parity});

XG_REGISTER_OP_INFO(
    layer_norm_info,
    {"layer_norm",
     [] {
         return std::vector<Sample>{
             {"(4, 5) over [5], affine",
              {rand64({4, 5}), pos64({5}), rand64({5})},
              [](const TensorList& x) { return layer_norm(x[0], {5}, x[1], x[2]); }},
             {"(2, 3, 4) over [3, 4], affine",
              {rand64({2, 3, 4}), pos64({3, 4}), rand64({3, 4})},
              [](const TensorList& x) {
                  return layer_norm(x[0], {3, 4}, x[1], x[2]);
              }},
             {"(3, 7) over [7], no affine",
              {rand64({3, 7})},
              [](const TensorList& x) { return layer_norm(x[0], {7}); }},
             {"batch of 1, (1, 2, 3) over [2, 3], weight only",
              {rand64({1, 2, 3}), pos64({2, 3})},
              [](const TensorList& x) {
                  return layer_norm(x[0], {2, 3}, x[1]);
              }},
             {"1-D (5) over [5], bias only, eps 1e-3",
              {rand64({5}), rand64({5})},
              [](const TensorList& x) { return layer_norm(x[0], {5}, {}, x[1], 1e-3); }},
         };
     },
     [] {
         return std::vector<ErrorCase>{
             {"normalized_shape mismatch",
              [] {
                  layer_norm(rand(Shape{2, 3, 5}, float64), {3, 4});
              },
              "normalized_shape [3, 4] does not match the trailing dims of input shape [2, 3, 5]"},
             {"empty normalized_shape",
              [] {
                  layer_norm(rand(Shape{2, 3}, float64), {});
              },
              "must name 1 to 2 trailing dims"},
             {"weight of the wrong shape",
              [] {
                  layer_norm(rand(Shape{2, 3}, float64), {3}, zeros({2}, float64));
              },
              "weight must have shape [3], got [2]"},
             {"int64 input", [] { layer_norm(arange(6, int64), {6}); }, "float32 or float64"},
             {"mixed dtypes",
              [] {
                  layer_norm(rand(Shape{2, 3}), {3}, zeros({3}, float64));
              },
              "weight has dtype float64 but input has dtype float32"},
             {"negative eps",
              [] {
                  layer_norm(rand(Shape{2, 3}), {3}, Tensor(), Tensor(), -1.0);
              },
              "eps must be >= 0, got -1"},
         };
     },
     [] {
         return Parity{
             {{"ln_3d", 3,
               [](const TensorList& x) {
                   return layer_norm(x[0], {3, 4}, x[1], x[2]);
               }},
              {"ln_2d_noaffine", 1, [](const TensorList& x) { return layer_norm(x[0], {5}); }}}};
     }});

XG_REGISTER_OP_INFO(
    group_norm_info,
    {"group_norm",
     [] {
         return std::vector<Sample>{
             {"(2, 4, 3, 3) 2 groups, affine",
              {rand64({2, 4, 3, 3}), pos64({4}), rand64({4})},
              [](const TensorList& x) { return group_norm(x[0], 2, x[1], x[2]); }},
             {"(3, 6, 5) 3 groups, affine",
              {rand64({3, 6, 5}), pos64({6}), rand64({6})},
              [](const TensorList& x) { return group_norm(x[0], 3, x[1], x[2]); }},
             {"batch of 1, (1, 4, 2, 3) 4 groups (instance norm), no affine",
              {rand64({1, 4, 2, 3})},
              [](const TensorList& x) { return group_norm(x[0], 4); }},
             {"(2, 3, 2, 2) 1 group, affine",
              {rand64({2, 3, 2, 2}), pos64({3}), rand64({3})},
              [](const TensorList& x) { return group_norm(x[0], 1, x[1], x[2]); }},
             {"2-D (3, 4) 2 groups, weight only",
              {rand64({3, 4}), pos64({4})},
              [](const TensorList& x) { return group_norm(x[0], 2, x[1]); }},
         };
     },
     [] {
         return std::vector<ErrorCase>{
             {"groups that do not divide C",
              [] {
                  group_norm(rand(Shape{2, 6, 3}, float64), 4);
              },
              "num_groups 4 must be positive and divide the 6 input channels"},
             {"0 groups",
              [] {
                  group_norm(rand(Shape{2, 6, 3}, float64), 0);
              },
              "num_groups 0"},
             {"groups INT64_MIN",
              [] {
                  group_norm(rand(Shape{2, 6, 2}), std::numeric_limits<std::int64_t>::min());
              },
              "num_groups -9223372036854775808 must be positive"},
             {"1-D input", [] { group_norm(rand(Shape{6}, float64), 2); }, "at least 2 dims"},
             {"bias of the wrong shape",
              [] {
                  group_norm(rand(Shape{2, 6, 3}, float64), 2, {}, zeros({3}, float64));
              },
              "bias must have shape [6], got [3]"},
         };
     },
     [] {
         return Parity{
             {{"gn_4d", 3, [](const TensorList& x) { return group_norm(x[0], 2, x[1], x[2]); }},
              {"gn_3d_noaffine", 1, [](const TensorList& x) { return group_norm(x[0], 3); }}}};
     }});

// ---- the same functions composed of primitive ops ----

Dims all_but_channel(const Tensor& x) {
    Dims d = {0};
    for (std::size_t i = 2; i < x.dim(); ++i) d.push_back(static_cast<std::int64_t>(i));
    return d;
}

std::vector<std::int64_t> channel_shape(const Tensor& x) {
    std::vector<std::int64_t> s(x.dim(), 1);
    s[1] = static_cast<std::int64_t>(x.size(1));
    return s;
}

Tensor affine(Tensor y, const Tensor& w, const Tensor& b, const std::vector<std::int64_t>& s) {
    if (w.defined()) y = mul(y, reshape(w, s));
    if (b.defined()) y = add(y, reshape(b, s));
    return y;
}

Tensor bn_composed(const Tensor& x, const Tensor& w, const Tensor& b, double eps = 1e-5) {
    Dims axes = all_but_channel(x);
    Tensor xc = sub(x, mean(x, axes, true));
    Tensor var = mean(mul(xc, xc), axes, true);
    return affine(div(xc, sqrt(add(var, eps))), w, b, channel_shape(x));
}

Tensor bn_eval_composed(const Tensor& x, const Tensor& rm, const Tensor& rv, const Tensor& w,
                        const Tensor& b) {
    auto s = channel_shape(x);
    return affine(div(sub(x, reshape(rm, s)), sqrt(add(reshape(rv, s), 1e-5))), w, b, s);
}

Tensor ln_composed(const Tensor& x, std::size_t k, const Tensor& w, const Tensor& b) {
    Dims axes;
    for (std::size_t i = x.dim() - k; i < x.dim(); ++i)
        axes.push_back(static_cast<std::int64_t>(i));
    Tensor xc = sub(x, mean(x, axes, true));
    Tensor y = div(xc, sqrt(add(mean(mul(xc, xc), axes, true), 1e-5)));
    if (w.defined()) y = mul(y, w);
    if (b.defined()) y = add(y, b);
    return y;
}

Tensor gn_composed(const Tensor& x, std::int64_t g, const Tensor& w, const Tensor& b) {
    auto n = static_cast<std::int64_t>(x.size(0));
    Tensor xg = reshape(x, {n, g, -1});
    Tensor xc = sub(xg, mean(xg, {2}, true));
    Tensor y = div(xc, sqrt(add(mean(mul(xc, xc), {2}, true), 1e-5)));
    y = reshape(y, std::vector<std::int64_t>(x.shape().begin(), x.shape().end()));
    return affine(y, w, b, channel_shape(x));
}

}  // namespace

TEST_CASE("batch_norm: fused matches the composed function (training and eval)") {
    manual_seed(1);
    for (Shape s : {Shape{6, 4}, Shape{3, 4, 5}, Shape{2, 4, 3, 3}, Shape{1, 4, 2, 3}}) {
        CAPTURE(shape_str(s));
        TensorList in = {rand64(s, -2, 3), pos64({4}), rand64({4})};
        check_fused_vs_composed([](const TensorList& x) { return bn_train(x[0], x[1], x[2]); },
                                [](const TensorList& x) { return bn_composed(x[0], x[1], x[2]); },
                                in);
        check_fused_vs_composed([](const TensorList& x) { return bn_train(x[0], {}, {}); },
                                [](const TensorList& x) { return bn_composed(x[0], {}, {}); }, in);
        Tensor rm = fixed({4}, -1, 1), rv = fixed({4}, 0.2, 3);
        check_fused_vs_composed(
            [&](const TensorList& x) {
                return batch_norm(x[0], rm, rv, BatchNormFuncOptions().weight(x[1]).bias(x[2]));
            },
            [&](const TensorList& x) { return bn_eval_composed(x[0], rm, rv, x[1], x[2]); }, in);
    }
}

TEST_CASE("layer_norm and group_norm: fused matches the composed function") {
    manual_seed(2);
    TensorList ln = {rand64({3, 4, 5}, -2, 2), pos64({4, 5}), rand64({4, 5})};
    check_fused_vs_composed(
        [](const TensorList& x) {
            return layer_norm(x[0], {4, 5}, x[1], x[2]);
        },
        [](const TensorList& x) { return ln_composed(x[0], 2, x[1], x[2]); }, ln);
    TensorList ln1 = {rand64({6, 7}, -2, 2)};
    check_fused_vs_composed([](const TensorList& x) { return layer_norm(x[0], {7}); },
                            [](const TensorList& x) { return ln_composed(x[0], 1, {}, {}); }, ln1);
    TensorList gn = {rand64({2, 6, 3, 4}, -2, 2), pos64({6}), rand64({6})};
    for (std::int64_t g : {1, 2, 3, 6}) {
        CAPTURE(g);
        check_fused_vs_composed(
            [g](const TensorList& x) { return group_norm(x[0], g, x[1], x[2]); },
            [g](const TensorList& x) { return gn_composed(x[0], g, x[1], x[2]); }, gn);
    }
}

TEST_CASE("batch_norm: running statistics follow PyTorch's momentum convention") {
    // Channel 0: 1, 2, 3, 4 (mean 2.5, unbiased var 5/3); channel 1: 2, 4, 6, 8 (5, 20/3).
    Tensor x = tensor({{1, 2}, {2, 4}, {3, 6}, {4, 8}}, float64);
    Tensor rm = tensor({0, 1}, float64), rv = tensor({1, 1}, float64);
    Tensor y = batch_norm(x, rm, rv, BatchNormFuncOptions().training(true).momentum(0.1));
    auto m = rm.to_vector(), v = rv.to_vector();
    CHECK(m[0] == doctest::Approx(0.9 * 0 + 0.1 * 2.5).epsilon(1e-14));
    CHECK(m[1] == doctest::Approx(0.9 * 1 + 0.1 * 5).epsilon(1e-14));
    CHECK(v[0] == doctest::Approx(0.9 + 0.1 * 5.0 / 3.0).epsilon(1e-14));
    CHECK(v[1] == doctest::Approx(0.9 + 0.1 * 20.0 / 3.0).epsilon(1e-14));
    // The output used the biased variance: channel 0 is (x - 2.5) / sqrt(1.25 + eps).
    CHECK(y.to_vector()[0] == doctest::Approx(-1.5 / std::sqrt(1.25 + 1e-5)).epsilon(1e-14));

    SUBCASE("eval mode reads the running stats and leaves them alone") {
        Tensor w = tensor({2, 3}, float64), b = tensor({-1, 1}, float64);
        Tensor ye = batch_norm(x, rm, rv, BatchNormFuncOptions().weight(w).bias(b));
        CHECK(rm.to_vector() == m);
        CHECK(rv.to_vector() == v);
        double want = (8 - m[1]) / std::sqrt(v[1] + 1e-5) * 3 + 1;
        CHECK(ye.to_vector()[7] == doctest::Approx(want).epsilon(1e-14));
    }
    SUBCASE("momentum 1 copies the batch stats, momentum 0 keeps the old ones") {
        Tensor a = tensor({7, 7}, float64), c = tensor({7, 7}, float64);
        batch_norm(x, a, c, BatchNormFuncOptions().training(true).momentum(1.0));
        CHECK(a.to_vector() == std::vector<double>{2.5, 5});
        CHECK(c.to_vector()[1] == doctest::Approx(20.0 / 3.0).epsilon(1e-14));
        batch_norm(x, a, c, BatchNormFuncOptions().training(true).momentum(0.0));
        CHECK(a.to_vector() == std::vector<double>{2.5, 5});
    }
    SUBCASE("the update is not recorded and works while x requires grad") {
        Tensor xg = x.detach().clone().requires_grad_();
        Tensor out = batch_norm(xg, rm, rv, BatchNormFuncOptions().training(true));
        CHECK(out.requires_grad());
        CHECK_FALSE(rm.requires_grad());
        CHECK(rm.grad_fn() == nullptr);
    }
}

TEST_CASE("batch_norm: the running-stat update of a spatial batch of 1") {
    // (1, 1, 2, 2): 4 values per channel, so training is legal; unbiased var of 0, 1, 2, 3 = 5/3.
    Tensor x = tensor({{{{0, 1}, {2, 3}}}}, float32);
    Tensor rm = zeros({1}), rv = ones({1});
    batch_norm(x, rm, rv, BatchNormFuncOptions().training(true).momentum(0.5));
    CHECK(rm.item<double>() == doctest::Approx(0.75));
    CHECK(rv.item<double>() == doctest::Approx(0.5 + 0.5 * 5.0 / 3.0));
}

TEST_CASE("norms: zero variance and identical samples stay finite") {
    // Every sample identical: each batch_norm channel has zero variance, so xhat = 0 and the
    // output is the bias; gradients stay finite.
    Tensor x = tensor({{0.5, -2, 3}, {0.5, -2, 3}, {0.5, -2, 3}, {0.5, -2, 3}}, float64);
    x.requires_grad_();
    Tensor w = tensor({1.5, 2, 0.5}, float64).requires_grad_(),
           b = tensor({0.1, 0.2, 0.3}, float64).requires_grad_();
    Tensor y = batch_norm(x, {}, {}, BatchNormFuncOptions().weight(w).bias(b).training(true));
    for (std::size_t i = 0; i < 12; ++i) CHECK(y.to_vector()[i] == b.to_vector()[i % 3]);
    Tensor gout = tensor({{1, 2, 3}, {-1, 0, 2}, {0.5, 0.5, 1}, {2, 1, 0}}, float64);
    TensorList g = grad({y}, {x, w, b}, {gout});
    for (const auto& t : g) {
        for (double v : t.to_vector()) CHECK(std::isfinite(v));
    }
    CHECK(g[1].to_vector() == std::vector<double>{0, 0, 0});  // sum(dy * xhat) with xhat = 0

    Tensor c = full({2, 4}, 3.0, float64).requires_grad_();
    Tensor ln = layer_norm(c, {4});
    for (double v : ln.to_vector()) CHECK(v == 0.0);
    for (double v : grad({sum(mul(ln, ln))}, {c})[0].to_vector()) CHECK(std::isfinite(v));
    Tensor gn = group_norm(full({2, 4, 2}, -1.0, float64), 2, {}, tensor({1, 2, 3, 4}, float64));
    CHECK(gn.to_vector()[15] == 4.0);
}

TEST_CASE("norms: float32 agrees with float64") {
    manual_seed(3);
    Tensor x = rand64({4, 6, 3, 3}, -3, 5).detach(), w = pos64({6}).detach(),
           b = rand64({6}).detach();
    auto close = [](const Tensor& a, const Tensor& d) {
        CHECK(rel_error(a.to(float64), d) < 1e-4);
    };
    close(bn_train(x.to(float32), w.to(float32), b.to(float32)), bn_train(x, w, b));
    close(group_norm(x.to(float32), 3, w.to(float32), b.to(float32)), group_norm(x, 3, w, b));
    close(layer_norm(x.to(float32), {3, 3}), layer_norm(x, {3, 3}));
}

TEST_CASE("norms: the raw and the differentiable backward give the same first gradients") {
    // Without create_graph the rule runs on raw arrays; with it, on differentiable ops.
    // gradgradcheck only checks the latter against itself, so compare the two here.
    manual_seed(5);
    Tensor rm = fixed({4}, -1, 1), rv = fixed({4}, 0.2, 3);
    std::vector<std::pair<const char*, TensorFn>> fns = {
        {"batch_norm train", [](const TensorList& x) { return bn_train(x[0], x[1], x[2]); }},
        {"batch_norm eval",
         [&](const TensorList& x) {
             return batch_norm(x[0], rm, rv, BatchNormFuncOptions().weight(x[1]).bias(x[2]));
         }},
        {"layer_norm",
         [](const TensorList& x) {
             return layer_norm(x[0], {3, 5}, {}, {});
         }},
        {"group_norm", [](const TensorList& x) { return group_norm(x[0], 2, x[1], x[2]); }},
    };
    TensorList in = {rand64({2, 4, 3, 5}, -2, 2), pos64({4}), rand64({4})};
    Tensor gout = randn({2, 4, 3, 5}, float64);
    for (auto& [name_, f] : fns) {
        const auto& name = name_;  // doctest macros make lambdas: C++17 cannot capture a binding
        CAPTURE(std::string(name));
        Tensor y = f(in);
        TensorList req = {in[0]};
        if (std::string(name) != "layer_norm") req = in;
        TensorList raw = grad({y}, req, {gout}, true, false);
        TensorList dif = grad({y}, req, {gout}, true, true);
        for (std::size_t i = 0; i < raw.size(); ++i) {
            if (i == 0) CHECK(dif[i].requires_grad());  // db = sum(gout) is a constant
            CHECK(rel_error(raw[i], dif[i]) < 1e-10);
        }
    }
}

TEST_CASE("norms: the closed-form backward equals the composed one under create_graph too") {
    // Second derivatives through the fused rule match those of the composed function.
    manual_seed(4);
    Tensor x = rand64({3, 2, 4}), w = pos64({2}), b = rand64({2});
    auto second = [&](auto f) {
        Tensor y = f(x, w, b);
        Tensor gx = grad({sum(mul(y, y))}, {x}, {}, true, true)[0];
        return grad({sum(mul(gx, gx))}, {x, w})[0];
    };
    Tensor fused = second([](auto a, auto c, auto d) { return bn_train(a, c, d); });
    Tensor comp = second([](auto a, auto c, auto d) { return bn_composed(a, c, d); });
    CHECK(rel_error(fused, comp) < 1e-8);
}

}  // namespace xg::testing

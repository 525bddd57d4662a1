// Optimizers (optim/): 5-step trajectories against PyTorch 1.13 (tests/parity/optim.py), the
// cs231n seed rules, loss decrease, state_dict round trips, errors, gradient clipping.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <memory>

#include <xtensor/xmath.hpp>
#include <xtensor/xview.hpp>

#include "tests/error_of.hpp"
#include "tests/parity.hpp"
#include "xgrad.hpp"

namespace xg {
namespace {

// Optimizer fixtures live in tests/fixtures/optim/ (tests/parity/optim.py).
Tensor load_fixture(const std::string& name, const std::string& part) {
    return testing::load_fixture("optim/" + name, part);
}
using Factory = std::function<std::unique_ptr<optim::Optimizer>(std::vector<Tensor>)>;

template <class O, class Opt>
Factory make(Opt o) {
    return [o](std::vector<Tensor> p) { return std::make_unique<O>(std::move(p), o); };
}

// The cases of tests/parity/optim.py, with the same options.
std::vector<std::pair<std::string, Factory>> parity_cases() {
    using namespace optim;
    return {
        {"sgd_plain", make<SGD>(SGDOptions(0.1))},
        {"sgd_momentum", make<SGD>(SGDOptions(0.1).momentum(0.9))},
        {"sgd_dampening", make<SGD>(SGDOptions(0.1).momentum(0.9).dampening(0.3))},
        {"sgd_nesterov", make<SGD>(SGDOptions(0.1).momentum(0.9).nesterov(true))},
        {"sgd_wd_maximize",
         make<SGD>(SGDOptions(0.1).momentum(0.5).weight_decay(0.1).maximize(true))},
        {"sgd_groups",
         [](std::vector<Tensor> p) {
             std::vector<ParamGroup> groups = {ParamGroup({p[0]}),
                                               ParamGroup({p[1]}, SGDOptions(0.01).momentum(0.9))};
             return std::make_unique<SGD>(groups, SGDOptions(0.1).momentum(0.9));
         }},
        {"rmsprop_plain", make<RMSprop>(RMSpropOptions(0.01))},
        {"rmsprop_momentum", make<RMSprop>(RMSpropOptions(0.01).momentum(0.9))},
        {"rmsprop_centered", make<RMSprop>(RMSpropOptions(0.01).centered(true))},
        {"rmsprop_all",
         make<RMSprop>(
             RMSpropOptions(0.01).alpha(0.9).eps(1e-3).weight_decay(0.05).momentum(0.5).centered(
                 true))},
        {"rmsprop_maximize", make<RMSprop>(RMSpropOptions(0.01).maximize(true))},
        {"adam_plain", make<Adam>(AdamOptions(0.1))},
        {"adam_amsgrad", make<Adam>(AdamOptions(0.05).amsgrad(true))},
        {"adam_wd_amsgrad",
         make<Adam>(AdamOptions(0.1).betas({0.8, 0.99}).weight_decay(0.1).amsgrad(true))},
        {"adam_maximize", make<Adam>(AdamOptions(0.1).eps(1e-6).maximize(true))},
        {"adamw_plain", make<AdamW>(AdamWOptions(0.1))},
        {"adamw_amsgrad_wd", make<AdamW>(AdamWOptions(0.1).weight_decay(0.5).amsgrad(true))},
    };
}

Tensor step_slice(const Tensor& stacked, std::size_t k) {
    return from_array(xt::xarray<double>(xt::view(stacked.data<double>(), k)));
}

void close(const Tensor& got, const Tensor& want, const std::string& what) {
    auto a = got.to_vector(), b = want.to_vector();
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        // PyTorch's vector kernels use fused multiply-adds, xgrad's do not: a few ulps apart.
        INFO(what << " element " << i);
        CHECK(std::abs(a[i] - b[i]) <= 1e-13 + 1e-11 * std::abs(b[i]));
    }
}

TEST_CASE("optimizers: 5-step trajectories match PyTorch 1.13 for every option combination") {
    Tensor w0 = load_fixture("optim", "init.w"), b0 = load_fixture("optim", "init.b");
    Tensor gw = load_fixture("optim", "grads.w"), gb = load_fixture("optim", "grads.b");
    for (const auto& [name, factory] : parity_cases()) {
        SUBCASE(name.c_str()) {
            Tensor w = w0.clone().requires_grad_(), b = b0.clone().requires_grad_();
            auto opt = factory({w, b});
            Tensor tw = load_fixture("optim." + name, "w"), tb = load_fixture("optim." + name, "b");
            for (std::size_t k = 0; k < 5; ++k) {
                w.set_grad(step_slice(gw, k));
                b.set_grad(step_slice(gb, k));
                opt->step();
                close(w, step_slice(tw, k), name + " w step " + std::to_string(k));
                close(b, step_slice(tb, k), name + " b step " + std::to_string(k));
            }
        }
    }
}

TEST_CASE("optimizers: float32 trajectories match PyTorch's float32 run") {
    Tensor w0 = load_fixture("optim", "init.w"), b0 = load_fixture("optim", "init.b");
    Tensor gw = load_fixture("optim", "grads.w"), gb = load_fixture("optim", "grads.b");
    for (const auto& [name_, factory] : parity_cases()) {
        const auto& name = name_;  // doctest macros make lambdas: C++17 cannot capture a binding
        if (name != "sgd_nesterov" && name != "rmsprop_all" && name != "adam_wd_amsgrad" &&
            name != "adamw_plain")
            continue;
        SUBCASE(name.c_str()) {
            Tensor w = w0.to(float32).requires_grad_(), b = b0.to(float32).requires_grad_();
            auto opt = factory({w, b});
            const std::string f = "optim." + name + "_f32";
            Tensor tw = load_fixture(f, "w"), tb = load_fixture(f, "b");
            for (std::size_t k = 0; k < 5; ++k) {
                w.set_grad(step_slice(gw, k).to(float32));
                b.set_grad(step_slice(gb, k).to(float32));
                opt->step();
                REQUIRE(w.dtype() == float32);
                auto got = w.to_vector(), want = step_slice(tw, k).to_vector();
                auto got_b = b.to_vector(), want_b = step_slice(tb, k).to_vector();
                got.insert(got.end(), got_b.begin(), got_b.end());
                want.insert(want.end(), want_b.begin(), want_b.end());
                for (std::size_t i = 0; i < got.size(); ++i) {
                    INFO(name << " step " << k << " element " << i);
                    CHECK(std::abs(got[i] - want[i]) <= 1e-6 + 1e-5 * std::abs(want[i]));
                }
            }
        }
    }
}

// The cs231n rules (shared seeds): sgd_momentum keeps v = mu*v - lr*dw and adds it, rmsprop and
// adam are PyTorch's RMSprop and Adam written differently. With a constant lr the trajectories
// agree up to rounding (v = -lr * PyTorch's momentum buffer).
TEST_CASE("optimizers: the cs231n seed rules map to SGD(momentum), RMSprop and Adam") {
    Tensor w0 = load_fixture("optim", "init.w"), gw = load_fixture("optim", "grads.w");
    auto run = [&](optim::Optimizer& opt, Tensor& w) {
        std::vector<xt::xarray<double>> out;
        for (std::size_t k = 0; k < 5; ++k) {
            w.set_grad(step_slice(gw, k));
            opt.step();
            out.push_back(w.data<double>());
        }
        return out;
    };
    auto agree = [](const std::vector<xt::xarray<double>>& a,
                    const std::vector<xt::xarray<double>>& b) {
        for (std::size_t k = 0; k < a.size(); ++k) {
            for (std::size_t i = 0; i < a[k].size(); ++i)
                CHECK(a[k].data()[i] == doctest::Approx(b[k].data()[i]).epsilon(1e-12));
        }
    };
    const xt::xarray<double> w_init = w0.data<double>();
    SUBCASE("sgd_momentum(learning_rate=0.05, momentum=0.9)") {
        std::vector<xt::xarray<double>> seed;
        xt::xarray<double> w = w_init, v = xt::zeros_like(w);
        for (std::size_t k = 0; k < 5; ++k) {
            xt::xarray<double> dw = step_slice(gw, k).data<double>();
            v = 0.9 * v - 0.05 * dw;
            w = w + v;
            seed.push_back(w);
        }
        Tensor p = w0.clone().requires_grad_();
        optim::SGD opt({p}, optim::SGDOptions(0.05).momentum(0.9));
        agree(run(opt, p), seed);
    }
    SUBCASE("rmsprop(learning_rate=0.01, decay_rate=0.99, epsilon=1e-8)") {
        std::vector<xt::xarray<double>> seed;
        xt::xarray<double> w = w_init, cache = xt::zeros_like(w);
        for (std::size_t k = 0; k < 5; ++k) {
            xt::xarray<double> dw = step_slice(gw, k).data<double>();
            cache = 0.99 * cache + (1 - 0.99) * dw * dw;
            w = w - 0.01 * dw / (xt::sqrt(cache) + 1e-8);
            seed.push_back(w);
        }
        Tensor p = w0.clone().requires_grad_();
        optim::RMSprop opt({p}, optim::RMSpropOptions(0.01).alpha(0.99).eps(1e-8));
        agree(run(opt, p), seed);
    }
    SUBCASE("adam(learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8)") {
        std::vector<xt::xarray<double>> seed;
        xt::xarray<double> w = w_init, m = xt::zeros_like(w), v = xt::zeros_like(w);
        for (int t = 1; t <= 5; ++t) {
            xt::xarray<double> dw = step_slice(gw, t - 1).data<double>();
            m = 0.9 * m + (1 - 0.9) * dw;
            xt::xarray<double> mt = m / (1 - std::pow(0.9, t));
            v = 0.999 * v + (1 - 0.999) * (dw * dw);
            xt::xarray<double> vt = v / (1 - std::pow(0.999, t));
            w = w - 1e-3 * mt / (xt::sqrt(vt) + 1e-8);
            seed.push_back(w);
        }
        Tensor p = w0.clone().requires_grad_();
        optim::Adam opt({p}, optim::AdamOptions(1e-3));
        agree(run(opt, p), seed);
    }
}

// A small least-squares problem in float32: X (16, 3), y = X w* + 0.1.
struct Problem {
    Tensor X, y;
    Problem() {
        manual_seed(7);
        X = randn({16, 3});
        y = add(matmul(X, tensor({1.5, -2.0, 0.5}).reshape({3, 1})), 0.1);
    }
    Tensor loss(const Tensor& w, const Tensor& b) const {
        Tensor r = sub(add(matmul(X, w), b), y);
        return mean(mul(r, r));
    }
};

std::vector<std::pair<std::string, Factory>> all_kinds() {
    using namespace optim;
    return {{"SGD", make<SGD>(SGDOptions(0.05))},
            {"SGD momentum nesterov", make<SGD>(SGDOptions(0.02).momentum(0.9).nesterov(true))},
            {"RMSprop", make<RMSprop>(RMSpropOptions(0.01))},
            {"RMSprop centered momentum",
             make<RMSprop>(RMSpropOptions(0.005).centered(true).momentum(0.5))},
            {"Adam", make<Adam>(AdamOptions(0.05))},
            {"Adam amsgrad", make<Adam>(AdamOptions(0.05).amsgrad(true).weight_decay(1e-3))},
            {"AdamW", make<AdamW>(AdamWOptions(0.05))}};
}

TEST_CASE("optimizers: every optimizer lowers the loss of a small problem") {
    Problem pr;
    for (const auto& [name_, factory] : all_kinds()) {
        const auto& name = name_;  // doctest macros make lambdas: C++17 cannot capture a binding
        SUBCASE(name.c_str()) {
            Tensor w = zeros({3, 1}).requires_grad_(), b = zeros({1}).requires_grad_();
            auto opt = factory({w, b});
            const double first = pr.loss(w, b).item();
            for (int i = 0; i < 60; ++i) {
                opt->step([&] {
                    opt->zero_grad();
                    Tensor l = pr.loss(w, b);
                    l.backward();
                    return l;
                });
            }
            const double last = pr.loss(w, b).item();
            INFO(name << ": " << first << " -> " << last);
            CHECK(last < 0.25 * first);
        }
    }
}

TEST_CASE("optimizers: state_dict round trip continues bitwise like an uninterrupted run") {
    Problem pr;
    for (const auto& [name, factory] : all_kinds()) {
        SUBCASE(name.c_str()) {
            auto train = [&](optim::Optimizer& opt, Tensor& w, Tensor& b, int n) {
                for (int i = 0; i < n; ++i) {
                    opt.zero_grad();
                    pr.loss(w, b).backward();
                    opt.step();
                }
            };
            Tensor w = zeros({3, 1}).requires_grad_(), b = zeros({1}).requires_grad_();
            auto opt = factory({w, b});
            train(*opt, w, b, 3);
            optim::StateDict saved = opt->state_dict();
            Tensor w2 = w.detach().clone().requires_grad_(),
                   b2 = b.detach().clone().requires_grad_();
            train(*opt, w, b, 4);  // uninterrupted

            auto fresh = factory({w2, b2});
            fresh->load_state_dict(saved);
            train(*fresh, w2, b2, 4);
            CHECK(w2.to_vector() == w.to_vector());
            CHECK(b2.to_vector() == b.to_vector());
            // The saved dict was copied, not shared: training did not change it.
            CHECK(fresh->state_dict().scalars.at("state.0.step") == 7);
            CHECK(saved.scalars.at("state.0.step") == 3);
        }
    }
}

TEST_CASE("optimizers: the state dict's layout") {
    Tensor w = zeros({2}).requires_grad_(), b = zeros({3}).requires_grad_(),
           c = zeros({1}).requires_grad_();
    optim::Adam opt({optim::ParamGroup({w, b}), optim::ParamGroup({c}, optim::AdamOptions(0.5))},
                    optim::AdamOptions(0.1).amsgrad(true));
    w.set_grad(ones({2}));
    c.set_grad(ones({1}));
    opt.step();
    optim::StateDict d = opt.state_dict();
    CHECK(d.strings.at("type") == "Adam");
    CHECK(d.strings.at("param_groups.0.params") == "0,1");
    CHECK(d.strings.at("param_groups.1.params") == "2");
    CHECK(d.scalars.at("param_groups.0.lr") == 0.1);
    CHECK(d.scalars.at("param_groups.1.lr") == 0.5);
    CHECK(d.scalars.at("param_groups.0.amsgrad") == 1);
    CHECK(d.scalars.at("param_groups.1.amsgrad") == 0);
    CHECK(d.scalars.at("param_groups.0.beta2") == 0.999);
    CHECK(d.scalars.at("state.0.step") == 1);
    CHECK(d.scalars.count("state.1.step") == 0);  // b had no grad: no state
    CHECK(d.tensors.count("state.0.exp_avg") == 1);
    CHECK(d.tensors.count("state.0.max_exp_avg_sq") == 1);
    CHECK(d.tensors.count("state.2.exp_avg_sq") == 1);
    CHECK(d.tensors.count("state.2.max_exp_avg_sq") == 0);
    CHECK(d.tensors.at("state.2.exp_avg").shape() == Shape{1});
}

TEST_CASE("optimizers: load_state_dict refuses a mismatched dict and changes nothing") {
    Tensor w = zeros({2}).requires_grad_();
    optim::SGD opt({w}, optim::SGDOptions(0.1).momentum(0.9));
    w.set_grad(ones({2}));
    opt.step();
    const optim::StateDict good = opt.state_dict();
    auto before = opt.state_dict();

    optim::StateDict bad = good;
    bad.strings["type"] = "Adam";
    CHECK_THROWS_WITH_AS(opt.load_state_dict(bad),
                         "SGD: load_state_dict: the state dict is of optimizer 'Adam'", Error);
    bad = good;
    bad.tensors["state.0.momentum_buffer"] = zeros({3});
    CHECK_THROWS_WITH_AS(opt.load_state_dict(bad),
                         doctest::Contains("'state.0.momentum_buffer' has shape [3]"), Error);
    bad = good;
    bad.scalars["param_groups.0.lr"] = -1;
    CHECK_THROWS_WITH_AS(opt.load_state_dict(bad),
                         doctest::Contains("SGD: invalid learning rate -1"), Error);
    bad = good;
    bad.strings["param_groups.1.params"] = "1";
    CHECK_THROWS_WITH_AS(opt.load_state_dict(bad), doctest::Contains("more parameter groups"),
                         Error);
    bad = good;
    bad.tensors["state.0.exp_avg"] = zeros({2});
    CHECK_THROWS_WITH_AS(opt.load_state_dict(bad), doctest::Contains("unexpected entry"), Error);
    bad = good;
    bad.scalars.erase("param_groups.0.momentum");
    CHECK_THROWS_WITH_AS(opt.load_state_dict(bad),
                         doctest::Contains("missing 'param_groups.0.momentum'"), Error);

    auto after = opt.state_dict();
    CHECK(after.scalars == before.scalars);
    CHECK(after.tensors.at("state.0.momentum_buffer").to_vector() ==
          before.tensors.at("state.0.momentum_buffer").to_vector());
}

TEST_CASE("optimizers: invalid options throw naming the optimizer and the value") {
    using namespace optim;
    Tensor w = zeros({2}).requires_grad_();
    CHECK_THROWS_WITH_AS(SGD({w}, SGDOptions(-0.1)),
                         "SGD: invalid learning rate -0.1 (must be >= 0)", Error);
    CHECK_THROWS_WITH_AS(SGD({w}, SGDOptions(0.1).momentum(-1)),
                         doctest::Contains("SGD: invalid momentum -1"), Error);
    CHECK_THROWS_WITH_AS(SGD({w}, SGDOptions(0.1).weight_decay(-1e-3)),
                         doctest::Contains("SGD: invalid weight_decay -0.001"), Error);
    CHECK_THROWS_WITH_AS(SGD({w}, SGDOptions(0.1).nesterov(true)),
                         doctest::Contains("SGD: Nesterov momentum requires a momentum"), Error);
    CHECK_THROWS_WITH_AS(SGD({w}, SGDOptions(0.1).momentum(0.9).dampening(0.1).nesterov(true)),
                         doctest::Contains("zero dampening"), Error);
    CHECK_THROWS_WITH_AS(Adam({w}, AdamOptions().betas({1.0, 0.999})),
                         doctest::Contains("Adam: invalid beta parameter at index 0: 1"), Error);
    CHECK_THROWS_WITH_AS(Adam({w}, AdamOptions().betas({0.9, -0.5})),
                         doctest::Contains("Adam: invalid beta parameter at index 1: -0.5"), Error);
    CHECK_THROWS_WITH_AS(AdamW({w}, AdamWOptions().eps(-1)),
                         doctest::Contains("AdamW: invalid eps -1"), Error);
    CHECK_THROWS_WITH_AS(AdamW({w}, AdamWOptions(-2)),
                         doctest::Contains("AdamW: invalid learning rate -2"), Error);
    CHECK_THROWS_WITH_AS(RMSprop({w}, RMSpropOptions().alpha(-0.1)),
                         doctest::Contains("RMSprop: invalid alpha -0.1"), Error);
    CHECK_THROWS_WITH_AS(RMSprop({w}, RMSpropOptions().momentum(-0.1)),
                         doctest::Contains("RMSprop: invalid momentum"), Error);
    CHECK_THROWS_WITH_AS(SGD(std::vector<Tensor>{}, SGDOptions(0.1)),
                         "SGD: optimizer got an empty parameter list", Error);
    CHECK_THROWS_WITH_AS(SGD({mul(w, 2.0)}, SGDOptions(0.1)),
                         doctest::Contains("SGD: can't optimize a non-leaf tensor"), Error);
    CHECK_THROWS_WITH_AS(SGD({w, w}, SGDOptions(0.1)), doctest::Contains("appears more than once"),
                         Error);
    const std::string int64_param =
        testing::error_of([] { SGD({zeros({2}, int64)}, SGDOptions(0.1)); });
    CHECK(int64_param.find("SGD: parameter 0 has dtype int64") != std::string::npos);
    CHECK(int64_param.find("expected a floating type") != std::string::npos);
    CHECK_THROWS_WITH_AS(SGD({Tensor()}, SGDOptions(0.1)), doctest::Contains("undefined"), Error);
    CHECK_THROWS_WITH_AS(
        SGD(std::vector<ParamGroup>{ParamGroup({w}, AdamOptions(0.1))}, SGDOptions(0.1)),
        doctest::Contains("options of another optimizer"), Error);

    SGD opt({w}, SGDOptions(0.1));
    Tensor v = zeros({2}).requires_grad_();
    CHECK_THROWS_WITH_AS(opt.add_param_group(ParamGroup({v}, SGDOptions(-3))),
                         doctest::Contains("SGD: invalid learning rate -3"), Error);
    CHECK(opt.param_groups().size() == 1);
    CHECK_THROWS_WITH_AS(opt.add_param_group(ParamGroup({w})),
                         doctest::Contains("appears more than once"), Error);
    // Options are typed (a misspelt field does not compile); each group holds its own copy.
    static_cast<SGDOptions&>(opt.param_groups()[0].options()).momentum(0.5);
    CHECK(static_cast<const SGDOptions&>(opt.defaults()).momentum() == 0.0);
}

// NaN and negative options; a step or load_state_dict that is refused changes no parameter and
// no state.
TEST_CASE("optimizers: refused options, steps and loads throw and change nothing") {
    using namespace optim;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    auto p = [] {
        Generator g(7);
        return randn({3}, g).requires_grad_();
    };
    auto values = [](const Tensor& t) { return t.detach().to_vector(); };
    auto snapshot = [](const nn::Module& m) {
        std::vector<std::vector<double>> r;
        for (const auto& kv : m.state_dict()) r.push_back(kv.second.to_vector());
        return r;
    };
    testing::check_error_rows({
        {"SGD: NaN lr", [=] { SGD({p()}, SGDOptions(nan)); }, {"SGD: invalid learning rate nan"}},
        {"Adam: negative eps",
         [=] { Adam({p()}, AdamOptions().eps(-1)); },
         {"Adam: invalid eps -1"}},
        {"Adam: NaN weight_decay",
         [=] { Adam({p()}, AdamOptions().weight_decay(nan)); },
         {"Adam: invalid weight_decay nan"}},
        {"clip_grad_norm_: NaN max_norm",
         [=] { clip_grad_norm_({p()}, nan); },
         {"clip_grad_norm_: max_norm is NaN"}},
        {"step: lr set to NaN by hand, params and momentum unchanged",
         [=] {
             Tensor a = p(), b = p();
             SGD opt({a, b}, SGDOptions(0.1).momentum(0.9));
             a.set_grad(ones({3}));
             b.set_grad(ones({3}));
             opt.step();
             opt.param_groups()[0].options().set_lr(nan);
             auto a0 = values(a), b0 = values(b);
             auto m0 = values(opt.state(a)->buffers.at("momentum_buffer"));
             try {
                 opt.step();
             } catch (...) {
                 CHECK(values(a) == a0);
                 CHECK(values(b) == b0);
                 CHECK(values(opt.state(a)->buffers.at("momentum_buffer")) == m0);
                 throw;
             }
         },
         {"SGD: invalid learning rate nan"}},
        {"step: Adam's lr set negative by hand, params unchanged",
         [=] {
             nn::Linear lin(2, 2);
             Adam opt(lin->parameters(), AdamOptions(0.1));
             sum(lin->forward(ones({1, 2}))).backward();
             opt.param_groups()[0].options().set_lr(-1.0);
             auto before = snapshot(*lin);
             try {
                 opt.step();
             } catch (...) {
                 CHECK(snapshot(*lin) == before);
                 throw;
             }
         },
         {"Adam: invalid learning rate -1"}},
        {"step: buffers left behind by a dtype change, params unchanged",
         [=] {
             nn::Linear lin(2, 2);
             SGD opt(lin->parameters(), SGDOptions(0.1).momentum(0.5));
             sum(lin->forward(ones({1, 2}))).backward();
             opt.step();
             lin->zero_grad();
             lin->to(float64);
             sum(lin->forward(ones({1, 2}, float64))).backward();
             auto before = snapshot(*lin);
             try {
                 opt.step();
             } catch (...) {
                 CHECK(snapshot(*lin) == before);
                 throw;
             }
         },
         {"SGD: step: parameter", "its state 'momentum_buffer' is float32"}},
        {"load_state_dict: a buffer of the wrong shape next to a valid lr, neither applied",
         [=] {
             Tensor a = p();
             SGD opt({a}, SGDOptions(0.1).momentum(0.9));
             a.set_grad(ones({3}));
             opt.step();
             optim::StateDict sd = opt.state_dict();
             sd.tensors["state.0.momentum_buffer"] = zeros({4});
             sd.scalars["param_groups.0.lr"] = 0.5;
             auto m0 = values(opt.state(a)->buffers.at("momentum_buffer"));
             try {
                 opt.load_state_dict(sd);
             } catch (...) {
                 CHECK(values(opt.state(a)->buffers.at("momentum_buffer")) == m0);
                 CHECK(opt.state(a)->buffers.at("momentum_buffer").shape() == Shape{3});
                 CHECK(opt.param_groups()[0].options().get_lr() == 0.1);
                 throw;
             }
         },
         {"SGD: load_state_dict:", "state.0.momentum_buffer"}},
    });
}

TEST_CASE("optimizers: zero_grad, params without grad, add_param_group, options by hand") {
    using namespace optim;
    Tensor w = ones({2}).requires_grad_(), v = ones({2}).requires_grad_();
    SGD opt({w}, SGDOptions(0.5));
    opt.step();  // no grads: nothing moves, no state
    CHECK(w.to_vector() == std::vector<double>{1, 1});
    CHECK(opt.state(w) == nullptr);
    opt.add_param_group(ParamGroup({v}));  // takes the defaults
    CHECK(opt.param_groups()[1].options().get_lr() == 0.5);
    w.set_grad(ones({2}));
    v.set_grad(full({2}, 2.0));
    static_cast<SGDOptions&>(opt.param_groups()[1].options()).lr(0.25);
    opt.step();
    CHECK(w.to_vector() == std::vector<double>{0.5, 0.5});
    CHECK(v.to_vector() == std::vector<double>{0.5, 0.5});
    Tensor g = w.grad();
    opt.zero_grad(false);  // in place: the same tensor, now zero
    CHECK(w.grad().is_same(g));
    CHECK(g.to_vector() == std::vector<double>{0, 0});
    opt.zero_grad();
    CHECK_FALSE(w.grad().defined());
    CHECK_FALSE(v.grad().defined());
    CHECK(std::get<0>(AdamOptions().betas()) == 0.9);
    CHECK(AdamWOptions().weight_decay() == 0.01);
    CHECK(SGDOptions(0.1).nesterov() == false);
}

TEST_CASE("optimizers: float32 parameters update in float32") {
    Tensor w = ones({3}).requires_grad_();
    optim::Adam opt({w}, optim::AdamOptions(0.1));
    w.set_grad(tensor({1.0, -1.0, 0.0}));
    opt.step();
    CHECK(w.dtype() == float32);
    CHECK(opt.state(w)->buffers.at("exp_avg").dtype() == float32);
    auto v = w.to_vector();
    CHECK(v[0] == doctest::Approx(0.9).epsilon(1e-6));
    CHECK(v[1] == doctest::Approx(1.1).epsilon(1e-6));
    CHECK(v[2] == 1.0);
}

TEST_CASE("clip_grad_norm_ matches PyTorch; clip_grad_value_ clamps") {
    Tensor gw = load_fixture("optim", "grads.w"), gb = load_fixture("optim", "grads.b");
    struct Case {
        const char* name;
        double max_norm, norm_type;
    };
    for (Case c : {Case{"l2", 1.0, 2.0}, Case{"l1", 2.0, 1.0}, Case{"inf", 0.5, HUGE_VAL},
                   Case{"l3_noclip", 100.0, 3.0}}) {
        SUBCASE(c.name) {
            Tensor w = zeros({3, 4}, float64).requires_grad_(),
                   b = zeros({4}, float64).requires_grad_();
            w.set_grad(step_slice(gw, 1));
            b.set_grad(step_slice(gb, 1));
            const std::string n = std::string("clip.") + c.name;
            double total = optim::clip_grad_norm_({w, b}, c.max_norm, c.norm_type);
            CHECK(total == doctest::Approx(load_fixture(n, "total").item()).epsilon(1e-12));
            close(w.grad(), load_fixture(n, "w"), n + " w");
            close(b.grad(), load_fixture(n, "b"), n + " b");
        }
    }
    Tensor w = zeros({3}).requires_grad_();
    w.set_grad(tensor({-3.0, 0.5, 2.0}));
    optim::clip_grad_value_({w}, 1.0);
    CHECK(w.grad().to_vector() == std::vector<double>{-1, 0.5, 1});
    w.set_grad(tensor({NAN, 1.0, 1.0}));
    CHECK_THROWS_WITH_AS(optim::clip_grad_norm_({w}, 1.0, 2.0, true),
                         doctest::Contains("clip_grad_norm_: the total norm of order 2"), Error);
    CHECK_THROWS_WITH_AS(optim::clip_grad_norm_({w}, 1.0, 0.0),
                         doctest::Contains("norm_type must be positive"), Error);
    Tensor none = zeros({2}).requires_grad_();
    CHECK(optim::clip_grad_norm_({none}, 1.0) == 0.0);
}

}  // namespace
}  // namespace xg

namespace xg {
// Adam's one-pass update (no amsgrad, no maximize, no L2 weight decay) does the general path's
// float operations in the same order: maximize with the negated gradient takes the general
// path, and must give the same bits, for Adam and AdamW, float32 and float64.
TEST_CASE("Adam: the one-pass update gives the general path's bits") {
    for (Dtype dt : {float32, float64}) {
        for (bool adamw : {false, true}) {
            Generator gen(3);
            Tensor init = randn({37}, gen, dt);
            Tensor a = init.clone().requires_grad_(), b = init.clone().requires_grad_();
            std::unique_ptr<optim::Optimizer> fused, general;
            if (adamw) {
                fused = std::make_unique<optim::AdamW>(std::vector<Tensor>{a},
                                                       optim::AdamWOptions(0.05).weight_decay(0.1));
                general = std::make_unique<optim::AdamW>(
                    std::vector<Tensor>{b},
                    optim::AdamWOptions(0.05).weight_decay(0.1).maximize(true));
            } else {
                fused =
                    std::make_unique<optim::Adam>(std::vector<Tensor>{a}, optim::AdamOptions(0.05));
                general = std::make_unique<optim::Adam>(std::vector<Tensor>{b},
                                                        optim::AdamOptions(0.05).maximize(true));
            }
            for (int step = 0; step < 5; ++step) {
                Tensor g = randn({37}, gen, dt);
                a.set_grad(g);
                b.set_grad(neg(g));  // negation is exact
                fused->step();
                general->step();
                CHECK(a.to_vector() == b.to_vector());
            }
        }
    }
}
TEST_CASE("optimizers: a group handed another optimizer's options is refused at step") {
    Tensor w = ones({2}).requires_grad_();
    optim::SGD opt({w}, 0.1);
    w.set_grad(ones({2}));
    opt.param_groups()[0].set_options(std::make_unique<optim::AdamOptions>(0.1));
    CHECK_THROWS_WITH_AS(
        opt.step(), doctest::Contains("SGD: step: parameter group 0 has options of another type"),
        Error);
    CHECK(w.to_vector() == std::vector<double>{1, 1});  // nothing moved
}

}  // namespace xg

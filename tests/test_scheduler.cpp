// Learning-rate schedulers (optim/scheduler.cpp): lr sequences against PyTorch 1.13
// (tests/parity/optim.py), state dict round trips, errors.
#include <doctest/doctest.h>

#include <cmath>

#include "tests/parity.hpp"
#include "xgrad.hpp"

namespace xg {
namespace {

// Optimizer fixtures live in tests/fixtures/optim/ (tests/parity/optim.py).
Tensor load_fixture(const std::string& name, const std::string& part) {
    return testing::load_fixture("optim/" + name, part);
}

Tensor param() {
    return zeros({1}).requires_grad_();
}

// get_last_lr()[0] after construction and after each of `steps` steps, against the fixture.
void check_sequence(const std::string& name, optim::LRScheduler& s, optim::Optimizer& opt,
                    const char* momentum_key = nullptr) {
    std::vector<double> want = load_fixture("sched." + name, "lr").to_vector();
    std::vector<double> want_m;
    if (momentum_key) want_m = load_fixture("sched." + name, "momentum").to_vector();
    for (std::size_t k = 0; k < want.size(); ++k) {
        if (k > 0) {
            opt.step();
            s.step();
        }
        INFO(name << " epoch " << k);
        CHECK(s.get_last_lr()[0] == doctest::Approx(want[k]).epsilon(1e-13));
        CHECK(opt.param_groups()[0].options().get_lr() == s.get_last_lr()[0]);
        if (momentum_key)
            CHECK(*opt.param_groups()[0].options().get_cycled_momentum() ==
                  doctest::Approx(want_m[k]).epsilon(1e-13));
    }
}

TEST_CASE("schedulers: lr sequences match PyTorch 1.13") {
    using namespace optim;
    Tensor p = param();
    SUBCASE("StepLR") {
        SGD opt({p}, SGDOptions(0.1));
        StepLR s(opt, 3, 0.5);
        check_sequence("step", s, opt);
    }
    SUBCASE("MultiStepLR with a repeated milestone") {
        SGD opt({p}, SGDOptions(0.1));
        MultiStepLR s(opt, {2, 5, 5, 9}, 0.1);
        check_sequence("multistep", s, opt);
    }
    SUBCASE("ExponentialLR") {
        SGD opt({p}, SGDOptions(0.1));
        ExponentialLR s(opt, 0.9);
        check_sequence("exponential", s, opt);
    }
    SUBCASE("CosineAnnealingLR past T_max") {
        SGD opt({p}, SGDOptions(0.1));
        CosineAnnealingLR s(opt, 5, 0.01);
        check_sequence("cosine", s, opt);
    }
    SUBCASE("OneCycleLR, cos, SGD momentum") {
        SGD opt({p}, SGDOptions(0.1).momentum(0.9));
        OneCycleLROptions o;
        o.total_steps(12);
        OneCycleLR s(opt, 1.0, o);
        check_sequence("onecycle_cos", s, opt, "momentum");
        CHECK_THROWS_WITH_AS(s.step(), doctest::Contains("OneCycleLR: tried to step 13 times"),
                             Error);
        CHECK(s.last_epoch() == 12);
    }
    SUBCASE("OneCycleLR, linear, three phases, Adam's beta1") {
        Adam opt({p}, AdamOptions(0.1));
        OneCycleLROptions o;
        o.total_steps(13);
        o.pct_start(0.25);
        o.anneal_strategy("linear");
        o.three_phase(true);
        OneCycleLR s(opt, 0.5, o);
        check_sequence("onecycle_linear3", s, opt, "beta1");
    }
}

TEST_CASE("schedulers: ReduceLROnPlateau matches PyTorch 1.13") {
    using namespace optim;
    std::vector<double> metrics = load_fixture("sched.plateau", "metrics").to_vector();
    auto run = [&](const std::string& name, ReduceLROnPlateauOptions o) {
        Tensor p = param();
        SGD opt({p}, SGDOptions(1.0));
        ReduceLROnPlateau s(opt, o);
        std::vector<double> want = load_fixture("sched." + name, "lr").to_vector();
        REQUIRE(want.size() == metrics.size() + 1);
        CHECK(s.get_last_lr()[0] == want[0]);
        for (std::size_t k = 0; k < metrics.size(); ++k) {
            s.step(metrics[k]);
            INFO(name << " epoch " << k + 1);
            CHECK(s.get_last_lr()[0] == doctest::Approx(want[k + 1]).epsilon(1e-13));
        }
    };
    ReduceLROnPlateauOptions a;
    a.patience(2);
    a.factor(0.5);
    a.cooldown(1);
    a.threshold(0.05);
    a.min_lr({0.2});
    run("plateau", a);
    ReduceLROnPlateauOptions b;
    b.mode("max");
    b.patience(1);
    b.factor(0.3);
    b.threshold(0.5);
    b.threshold_mode("abs");
    run("plateau_max_abs", b);
}

TEST_CASE("schedulers: state dict round trip continues like an uninterrupted schedule") {
    using namespace optim;
    Tensor p = param(), q = param();
    SGD opt({p}, SGDOptions(0.1).momentum(0.9));
    OneCycleLROptions o;
    o.total_steps(20);
    OneCycleLR s(opt, 1.0, o);
    for (int i = 0; i < 7; ++i) s.step();
    StateDict sd = s.state_dict(), od = opt.state_dict();
    CHECK(sd.scalars.at("last_epoch") == 7);

    SGD opt2({q}, SGDOptions(0.1).momentum(0.9));
    OneCycleLR s2(opt2, 1.0, o);
    opt2.load_state_dict(od);
    s2.load_state_dict(sd);
    CHECK(s2.last_epoch() == 7);
    for (int i = 0; i < 5; ++i) {
        s.step();
        s2.step();
        CHECK(s2.get_last_lr() == s.get_last_lr());
        CHECK(static_cast<const SGDOptions&>(opt2.param_groups()[0].options()).momentum() ==
              static_cast<const SGDOptions&>(opt.param_groups()[0].options()).momentum());
    }
    StepLR step(opt, 2);
    CHECK_THROWS_WITH_AS(step.load_state_dict(sd),
                         "StepLR: load_state_dict: the state dict is of scheduler 'OneCycleLR'",
                         Error);

    SGD opt3({param()}, SGDOptions(1.0));
    ReduceLROnPlateauOptions po;
    po.patience(0);
    ReduceLROnPlateau pl(opt3, po);
    pl.step(1.0);
    pl.step(2.0);  // one bad epoch > patience 0: lr 1 -> 0.1
    CHECK(pl.get_last_lr()[0] == doctest::Approx(0.1));
    StateDict pd = pl.state_dict();
    CHECK(pd.scalars.at("best") == 1.0);
    SGD opt4({param()}, SGDOptions(0.1));
    ReduceLROnPlateau pl2(opt4, po);
    pl2.load_state_dict(pd);
    pl.step(0.5);
    pl2.step(0.5);
    CHECK(pl2.state_dict().scalars == pl.state_dict().scalars);
}

TEST_CASE("schedulers: invalid arguments throw naming the scheduler") {
    using namespace optim;
    Tensor p = param();
    SGD opt({p}, SGDOptions(0.1));
    CHECK_THROWS_WITH_AS(StepLR(opt, 0), "StepLR: step_size must be positive, got 0", Error);
    CHECK_THROWS_WITH_AS(CosineAnnealingLR(opt, -1), doctest::Contains("T_max must be positive"),
                         Error);
    CHECK_THROWS_WITH_AS(MultiStepLR(opt, {3, -1}), doctest::Contains("milestones must be >= 0"),
                         Error);
    OneCycleLROptions o;
    CHECK_THROWS_WITH_AS(OneCycleLR(opt, 1.0, o), doctest::Contains("give total_steps"), Error);
    o.total_steps(10);
    o.anneal_strategy("cosine");
    CHECK_THROWS_WITH_AS(OneCycleLR(opt, 1.0, o), doctest::Contains("'cos' or 'linear'"), Error);
    o.anneal_strategy("cos");
    o.pct_start(1.5);
    CHECK_THROWS_WITH_AS(OneCycleLR(opt, 1.0, o), doctest::Contains("pct_start"), Error);
    o.pct_start(0.3);
    CHECK_THROWS_WITH_AS(OneCycleLR(opt, std::vector<double>{1.0, 2.0}, o),
                         doctest::Contains("expected 1 values for max_lr, got 2"), Error);
    ReduceLROnPlateauOptions r;
    r.factor(1.0);
    CHECK_THROWS_WITH_AS(ReduceLROnPlateau(opt, r), doctest::Contains("factor should be < 1.0"),
                         Error);
    r.factor(0.5);
    r.mode("minimum");
    CHECK_THROWS_WITH_AS(ReduceLROnPlateau(opt, r), doctest::Contains("mode must be"), Error);
}

}  // namespace
}  // namespace xg

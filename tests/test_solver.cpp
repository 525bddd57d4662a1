// train/solver: the cs231n Solver overfits a small set, keeps its histories and the best
// parameters, decays the learning rate per epoch, is reproducible, and rejects bad options.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "train/solver.hpp"
#include "xgrad.hpp"

using namespace xg;
using namespace xg::train;

namespace {

// n random inputs (n, d) ~ N(0, 1) and labels uniform in [0, c), from their own generator.
SolverData make_data(std::size_t n_train, std::size_t n_val, std::size_t d, std::int64_t c,
                     std::uint64_t seed) {
    Generator gen(seed);
    auto labels = [&](std::size_t n) {
        xt::xarray<std::int64_t> y = xt::zeros<std::int64_t>({n});
        for (std::size_t i = 0; i < n; ++i) y(i) = std::int64_t(gen.uniform() * double(c)) % c;
        return Tensor(std::move(y));
    };
    Tensor Xt = randn({n_train, d}, gen), Xv = randn({n_val, d}, gen);
    Tensor yt = labels(n_train), yv = labels(n_val);
    return {Xt, yt, Xv, yv};
}

nn::FullyConnectedNet small_net(std::uint64_t seed, double weight_scale = 5e-2) {
    return nn::FullyConnectedNet(nn::FullyConnectedNetOptions({50, 50})
                                     .input_dim(20)
                                     .num_classes(5)
                                     .weight_scale(weight_scale)
                                     .seed(seed));
}

// Runs f, which must throw xg::Error whose message contains `part`.
template <class F>
void check_error_names(F f, const std::string& part) {
    std::string what;
    try {
        f();
    } catch (const Error& e) {
        what = e.what();
    }
    CHECK_MESSAGE(what.find(part) != std::string::npos,
                  "expected an error naming '" << part << "', got '" << what << "'");
}

}  // namespace

TEST_CASE("solver: overfits 50 random examples to 100% train accuracy") {
    auto data = make_data(50, 20, 20, 5, 1);
    auto net = small_net(2);
    Solver solver(solver_model(net), data,
                  SolverOptions()
                      .update_rule("adam")
                      .optim_config({{"learning_rate", 5e-3}})
                      .batch_size(25)
                      .num_epochs(40)
                      .verbose(false)
                      .seed(3));
    solver.train();
    CHECK(solver.train_acc_history().back() == 1.0);
    // (The model now holds the parameters of the best validation epoch, not the last.)
    CHECK(solver.loss_history().back() < 0.1 * solver.loss_history().front());
}

TEST_CASE("solver: history lengths, best parameters restored, lr decay per epoch") {
    auto data = make_data(64, 30, 20, 5, 4);
    auto net = small_net(5);
    const double lr = 1e-2, decay = 0.5;
    Solver solver(solver_model(net), data,
                  SolverOptions()
                      .update_rule("sgd_momentum")
                      .optim_config({{"learning_rate", lr}})
                      .lr_decay(decay)
                      .batch_size(10)
                      .num_epochs(3)
                      .num_train_samples(std::nullopt)
                      .verbose(false));
    CHECK(solver.learning_rate() == lr);
    CHECK(static_cast<const optim::SGDOptions&>(solver.optimizer().param_groups()[0].options())
              .momentum() == 0.9);
    solver.train();
    // 64 / 10 = 6 iterations per epoch; accuracies after iteration 1 and each epoch.
    CHECK(solver.loss_history().size() == 18);
    CHECK(solver.train_acc_history().size() == 4);
    CHECK(solver.val_acc_history().size() == 4);
    CHECK(solver.epoch() == 3);
    CHECK(solver.learning_rate() == doctest::Approx(lr * decay * decay * decay).epsilon(1e-12));
    const auto& val = solver.val_acc_history();
    CHECK(solver.best_val_acc() == *std::max_element(val.begin(), val.end()));
    // The model now holds the best parameters: the full validation accuracy is the best one.
    CHECK(solver.check_accuracy(data.X_val, data.y_val) == solver.best_val_acc());
    auto best = solver.best_params();
    for (const auto& [name_, p] : net->state_dict()) {
        const auto& name = name_;  // doctest macros make lambdas: C++17 cannot capture a binding
        CHECK_MESSAGE(rel_error(p, best.at(name)) == 0.0, name);
    }
    // check_accuracy runs in eval mode and gives the caller's mode back.
    net->eval();
    solver.check_accuracy(data.X_val, data.y_val);
    CHECK(!net->is_training());
    net->train();
    solver.check_accuracy(data.X_val, data.y_val, 7, 3);
    CHECK(net->is_training());
}

TEST_CASE("solver: the best parameters are those of the best epoch, not the last") {
    // 45 validation rows and batches of 50: every scores call with 45 rows is a validation
    // check, so the wrapper can keep the parameters each check saw.
    auto data = make_data(60, 45, 20, 5, 6);
    auto net = small_net(7);
    auto model = solver_model(net);
    std::vector<nn::StateDict> seen;
    auto scores = model.scores;
    model.scores = [&](const Tensor& x) {
        if (x.size(0) == 45) {
            nn::StateDict sd;
            for (const auto& [k, v] : net->state_dict()) sd.insert(k, v.detach().clone());
            seen.push_back(sd);
        }
        return scores(x);
    };
    Solver solver(model, data,
                  SolverOptions()
                      .update_rule("sgd")
                      .optim_config({{"learning_rate", 0.3}})
                      .batch_size(50)
                      .num_epochs(8)
                      .verbose(false));
    solver.train();
    const auto& val = solver.val_acc_history();
    REQUIRE(seen.size() == val.size());
    auto best = std::size_t(std::max_element(val.begin(), val.end()) - val.begin());
    // This run's best epoch is not its last (else the test would prove little).
    REQUIRE(val[best] > val.back());
    for (const auto& [name_, p] : net->state_dict()) {
        const auto& name = name_;  // doctest macros make lambdas: C++17 cannot capture a binding
        CHECK_MESSAGE(rel_error(p, seen[best].at(name)) == 0.0, name);
        CHECK_MESSAGE(rel_error(p, seen.back().at(name)) > 0.0, name);
    }
}

TEST_CASE("solver: the same seeds give the same loss history") {
    auto data = make_data(40, 10, 20, 5, 8);
    auto run = [&](std::uint64_t solver_seed, const std::string& rule) {
        auto net = small_net(9);
        Solver s(solver_model(net), data,
                 SolverOptions().update_rule(rule).batch_size(8).num_epochs(2).verbose(false).seed(
                     solver_seed));
        s.train();
        return s.loss_history();
    };
    for (const char* rule : {"sgd", "sgd_momentum", "rmsprop", "adam"}) {
        CAPTURE(rule);
        auto a = run(11, rule), b = run(11, rule), c = run(12, rule);
        CHECK(a.size() == 10);
        CHECK(a == b);
        CHECK(a != c);  // another seed samples other minibatches
    }
}

TEST_CASE("solver: a module with a criterion, and the conv net") {
    auto data = make_data(30, 10, 20, 5, 13);
    Generator gen(14);
    nn::Sequential seq({nn::Linear(20, 16), nn::ReLU(), nn::Linear(16, 5)});
    Solver solver(
        solver_model(seq.ptr(),
                     [](const Tensor& s, const Tensor& y) { return cross_entropy(s, y); }),
        data, SolverOptions().update_rule("rmsprop").batch_size(10).num_epochs(2).verbose(false));
    solver.train();
    CHECK(solver.loss_history().size() == 6);

    auto cnn = nn::ThreeLayerConvNet(nn::ThreeLayerConvNetOptions()
                                         .input_dim({1, 6, 6})
                                         .num_filters(2)
                                         .filter_size(3)
                                         .hidden_dim(8)
                                         .num_classes(3)
                                         .seed(15));
    Tensor X = randn({12, 1, 6, 6}, gen);
    Tensor y(xt::xarray<std::int64_t>{0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2});
    Solver s2(solver_model(cnn), {X, y, X, y},
              SolverOptions().batch_size(4).num_epochs(1).verbose(false));
    s2.train();
    CHECK(s2.loss_history().size() == 3);
    CHECK(s2.train_acc_history().size() == 2);
}

TEST_CASE("solver: bad options and data throw naming the culprit") {
    auto data = make_data(20, 10, 20, 5, 16);
    auto net = small_net(17);
    auto make = [&](SolverOptions o, SolverData d) { Solver s(solver_model(net), d, o); };
    check_error_names([&] { make(SolverOptions().update_rule("sgdd"), data); }, "update_rule");
    check_error_names(
        [&] {
            make(SolverOptions().optim_config({{"momentum", 0.5}}), data);
        },
        "momentum");
    check_error_names(
        [&] {
            make(SolverOptions().update_rule("adam").optim_config({{"decay_rate", 0.9}}), data);
        },
        "decay_rate");
    check_error_names(
        [&] {
            make(SolverOptions().optim_config({{"learning_rate", -1.0}}), data);
        },
        "learning_rate");
    check_error_names([&] { make(SolverOptions().batch_size(0), data); }, "batch_size");
    check_error_names([&] { make(SolverOptions().num_epochs(0), data); }, "num_epochs");
    check_error_names([&] { make(SolverOptions().lr_decay(0.0), data); }, "lr_decay");
    check_error_names([&] { make(SolverOptions().print_every(0), data); }, "print_every");
    check_error_names([&] { make(SolverOptions().num_train_samples(0), data); },
                      "num_train_samples");
    auto bad = data;
    bad.y_train = take_rows(data.y_train, {0, 1, 2});
    check_error_names([&] { make(SolverOptions(), bad); }, "y_train");
    bad = data;
    bad.X_val = data.X_val.to(int64);
    check_error_names([&] { make(SolverOptions(), bad); }, "X_val");
    bad = data;
    bad.y_val = data.y_val.to(float32);
    check_error_names([&] { make(SolverOptions(), bad); }, "y_val");
}

TEST_CASE("solver: a diverging run stops at its first non-finite loss, before the update") {
    auto data = make_data(64, 30, 20, 5, 4);
    auto net = small_net(5, 1.0);
    Solver solver(solver_model(net), data,
                  SolverOptions()
                      .update_rule("sgd")
                      .optim_config({{"learning_rate", 1e12}})
                      .batch_size(10)
                      .num_epochs(5)
                      .verbose(false));
    check_error_names([&] { solver.train(); }, "Solver: the loss is ");
    check_error_names([&] { solver.train(); }, "training diverged");
    // Every recorded loss is finite: the non-finite one stopped the run before it was recorded.
    for (double l : solver.loss_history()) CHECK(std::isfinite(l));
}

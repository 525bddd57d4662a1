// The cs231n assignment's sanity checks on xgrad's FullyConnectedNet and ThreeLayerConvNet:
//   1. with small weights the initial loss is near ln(10) (with and without regularization);
//   2. the gradients of the loss match central differences (float64, tiny inputs);
//   3. the Solver overfits 50 training examples to 100% train accuracy.
// Exit code 1 if any check fails.
//
//   ./cs231n_sanity [--random-data] [--data-dir DIR] [--epochs 40] [--seed 0]
#include <cmath>

#include <CLI/CLI.hpp>
#include <xgrad.hpp>

#include "train/solver.hpp"

using namespace xg;

namespace {

int failures = 0;

void expect(bool ok, const std::string& what) {
    fmt::print("  [{}] {}\n", ok ? "pass" : "FAIL", what);
    failures += ok ? 0 : 1;
}

Tensor random_labels(std::size_t n, std::int64_t classes, Generator& gen) {
    xt::xarray<std::int64_t> y = xt::zeros<std::int64_t>({n});
    for (auto& v : y)
        v = std::min<std::int64_t>(classes - 1, std::int64_t(gen.uniform() * classes));
    return Tensor(std::move(y));
}

// The seed's check: for each parameter, the numeric gradient of the loss (perturbing the
// parameter in place) against the tape's. Elementwise |analytic - numeric| <= atol + rtol *
// |numeric| rather than cs231n's rel_error, which blows up on gradients that are exactly zero
// (a bias before batchnorm). Reports the worst ratio of error to tolerance (must be <= 1).
void check_gradients(const std::string& model_name, nn::Module& model,
                     const std::function<Tensor()>& loss, double rtol = 1e-5, double atol = 1e-7) {
    model.zero_grad();
    loss().backward();
    double worst = 0.0;
    std::string worst_name;
    for (const auto& [name, p] : model.named_parameters()) {
        Tensor saved = p.detach().clone();
        Tensor numeric = eval_numerical_gradient(
            [&, p = p](const Tensor& v) {
                NoGradGuard no_grad;
                p.detach().copy_(v);
                return loss().item();
            },
            saved);
        p.detach().copy_(saved);
        auto a = p.grad().to_vector(), n = numeric.to_vector();
        for (std::size_t i = 0; i < a.size(); ++i) {
            double r = std::abs(a[i] - n[i]) / (atol + rtol * std::abs(n[i]));
            if (r > worst) worst = r, worst_name = name;
        }
    }
    expect(worst <= 1.0, fmt::format("{}: worst error / tolerance {:.3f} ({})", model_name, worst,
                                     worst_name.empty() ? "-" : worst_name));
}

// 1. With small weights every class is equally likely: the loss is about ln(10).
void check_initial_loss(Generator& gen, std::uint64_t seed) {
    const double ln10 = std::log(10.0);
    fmt::print("1. Initial loss with small weights (expect about ln(10) = {:.4f})\n", ln10);
    Tensor X = randn({50, 3 * 8 * 8}, gen, float64);
    Tensor y = random_labels(50, 10, gen);
    for (double reg : {0.0, 3.14}) {
        nn::FullyConnectedNet fc(nn::FullyConnectedNetOptions({100, 100})
                                     .input_dim(3 * 8 * 8)
                                     .weight_scale(1e-3)
                                     .reg(reg)
                                     .dtype(float64)
                                     .seed(seed));
        double l = fc->loss(X, y).item();
        expect(std::abs(l - ln10) < 0.05,
               fmt::format("FullyConnectedNet reg={}: loss {:.4f}", reg, l));
        nn::ThreeLayerConvNet cnn(nn::ThreeLayerConvNetOptions()
                                      .input_dim({3, 8, 8})
                                      .num_filters(8)
                                      .hidden_dim(20)
                                      .reg(reg)
                                      .dtype(float64)
                                      .seed(seed));
        double lc = cnn->loss(X.reshape({50, 3, 8, 8}), y).item();
        expect(std::abs(lc - ln10) < 0.05,
               fmt::format("ThreeLayerConvNet reg={}: loss {:.4f}", reg, lc));
    }
}

// 2. The tape's gradients against central differences, for every normalization and reg.
void check_model_gradients(Generator& gen, std::uint64_t seed) {
    fmt::print("2. Gradient checks in float64\n");
    // The seed's sizes D=15, hidden (20, 30), C=10, with N=4: with a batch of 2, batchnorm's
    // output is nearly a step function of its input and central differences lose accuracy.
    Tensor X = randn({4, 15}, gen, float64);
    Tensor y = random_labels(4, 10, gen);
    for (double reg : {0.0, 3.14}) {
        for (auto norm : {nn::Normalization::none, nn::Normalization::batchnorm,
                          nn::Normalization::layernorm}) {
            nn::FullyConnectedNet fc(nn::FullyConnectedNetOptions({20, 30})
                                         .input_dim(15)
                                         .weight_scale(5e-2)
                                         .normalization(norm)
                                         .reg(reg)
                                         .dtype(float64)
                                         .seed(seed));
            const char* names[] = {"none", "batchnorm", "layernorm"};
            check_gradients(
                fmt::format("FullyConnectedNet reg={} norm={}", reg, names[static_cast<int>(norm)]),
                *fc, [&] { return fc->loss(X, y); });
        }
    }
    Tensor Xc = randn({4, 3, 8, 8}, gen, float64);
    nn::ThreeLayerConvNet cnn(nn::ThreeLayerConvNetOptions()
                                  .input_dim({3, 8, 8})
                                  .num_filters(3)
                                  .filter_size(3)
                                  .hidden_dim(7)
                                  .weight_scale(1e-2)
                                  .reg(0.5)
                                  .dtype(float64)
                                  .seed(seed));
    check_gradients("ThreeLayerConvNet reg=0.5", *cnn, [&] { return cnn->loss(Xc, y); });
}

// 3. A model that can learn overfits 50 examples: 100% train accuracy.
void check_overfitting(Generator& gen, std::uint64_t seed, bool random_data,
                       const std::string& data_dir, std::size_t epochs) {
    fmt::print("3. Overfitting 50 training examples with the Solver\n");
    train::SolverData d;
    std::string source = "random data (N(0, 1) inputs, random labels)";
    if (!random_data) {
        try {
            data::FashionMNIST train_set(data::Split::train, data_dir);
            // Centred and scaled with Fashion-MNIST's pixel mean and std.
            Tensor images = (slice(train_set.images(), 0, 0, 150).flatten(1) - 0.2860) / 0.3530;
            d = {slice(images, 0, 0, 50), slice(train_set.labels(), 0, 0, 50),
                 slice(images, 0, 50, 150), slice(train_set.labels(), 0, 50, 150)};
            source = "the first 50 Fashion-MNIST training images from " + train_set.root();
        } catch (const Error& e) {
            fmt::print("  (Fashion-MNIST not available: {})\n", e.what());
        }
    }
    if (!d.X_train.defined()) {
        Tensor X = randn({150, 784}, gen);
        Tensor y = random_labels(150, 10, gen);
        d = {slice(X, 0, 0, 50), slice(y, 0, 0, 50), slice(X, 0, 50, 150), slice(y, 0, 50, 150)};
    }
    fmt::print("  on {}\n", source);
    nn::FullyConnectedNet net(
        nn::FullyConnectedNetOptions({100, 100}).input_dim(784).weight_scale(5e-2).seed(seed));
    train::Solver solver(train::solver_model(net), d,
                         train::SolverOptions()
                             .update_rule("adam")
                             .optim_config({{"learning_rate", 3e-3}})
                             .batch_size(25)
                             .num_epochs(epochs)
                             .print_every(1000)
                             .verbose(false)
                             .seed(seed));
    solver.train();
    const auto& acc = solver.train_acc_history();
    fmt::print("  train accuracy per epoch: {:.2f}\n", fmt::join(acc, " "));
    expect(acc.back() == 1.0,
           fmt::format("train accuracy after {} epochs: {:.2f} (want 1.00)", epochs, acc.back()));
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"cs231n sanity checks: initial loss, gradient check, overfitting a small set"};
    bool random_data = false;
    std::string data_dir;
    std::size_t epochs = 40;
    std::uint64_t seed = 0;
    app.add_flag("--random-data", random_data, "overfit random data even if Fashion-MNIST exists");
    app.add_option("--data-dir", data_dir, "Fashion-MNIST directory (default: the system's)");
    app.add_option("--epochs", epochs, "epochs of the overfitting run")->capture_default_str();
    app.add_option("--seed", seed, "random seed")->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    Generator gen(seed);
    check_initial_loss(gen, seed);
    check_model_gradients(gen, seed);
    check_overfitting(gen, seed, random_data, data_dir, epochs);
    fmt::print("{}\n", failures == 0 ? "all sanity checks passed"
                                     : fmt::format("{} sanity check(s) FAILED", failures));
    return failures == 0 ? 0 : 1;
}

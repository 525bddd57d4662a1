// Trains the cs231n FullyConnectedNet (batch norm, dropout) on Fashion-MNIST with Adam through
// the Solver, then reports validation and test accuracy. Read it top to bottom: the flags, the
// data, the model, training, the evaluation; main() strings them together. With --task
// regression it instead fits an MLP with MSE loss to a synthetic regression set written as a
// user's dataset (section 5: data::Dataset, DataLoader, float targets).
//
//   ./train_mlp --epochs 2 --hidden 100,100 --dropout 0.1 --normalization batchnorm
//   ./train_mlp --train-subset 1000 --epochs 1          # a quick smoke run
//   ./train_mlp --task regression --epochs 20 --samples 4000
//
// Writes --out-dir/report.html: the curves, the test set's confusion matrix and worst images.
#include <CLI/CLI.hpp>
#include <xgrad.hpp>

#include <chrono>
#include <filesystem>

#include "train/confusion.hpp"
#include "train/report.hpp"
#include "train/solver.hpp"
#include "train/worst_examples.hpp"

using namespace xg;

struct Flags {
    std::size_t epochs = 2, batch_size = 100, train_subset = 0, num_val = 5000, samples = 4000;
    double lr = 1e-3, dropout = 0.0, weight_scale = 5e-2, lr_decay = 0.95;
    std::string hidden = "100,100", normalization = "batchnorm", data_dir, task = "classification",
                out_dir = "runs/train_mlp";
    std::uint64_t seed = 0;
};

void add_flags(CLI::App& app, Flags& f) {
    app.add_option("--epochs", f.epochs, "epochs")->capture_default_str();
    app.add_option("--batch-size", f.batch_size, "minibatch size")->capture_default_str();
    app.add_option("--lr", f.lr, "Adam learning rate")->capture_default_str();
    app.add_option("--lr-decay", f.lr_decay, "learning rate factor per epoch")
        ->capture_default_str();
    app.add_option("--hidden", f.hidden, "hidden layer sizes, comma separated")
        ->check([](const std::string& h) {
            for (const auto& s : CLI::detail::split(h, ','))
                if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos)
                    return "expects sizes like 100,100, got '" + h + "'";
            return std::string();
        })
        ->capture_default_str();
    app.add_option("--dropout", f.dropout, "drop probability after each hidden layer")
        ->check(CLI::Range(0.0, 0.99))
        ->capture_default_str();
    app.add_option("--normalization", f.normalization, "none, batchnorm or layernorm")
        ->check(CLI::IsMember({"none", "batchnorm", "layernorm"}))
        ->capture_default_str();
    app.add_option("--weight-scale", f.weight_scale, "std of the initial weights")
        ->capture_default_str();
    app.add_option("--seed", f.seed, "seed of the init, dropout and minibatches")
        ->capture_default_str();
    app.add_option("--train-subset", f.train_subset, "train on the first N images only (0: all)");
    app.add_option("--val", f.num_val, "images held out of the training set for validation")
        ->capture_default_str();
    app.add_option("--data-dir", f.data_dir, "Fashion-MNIST directory (default: the system's)");
    app.add_option("--out-dir", f.out_dir, "where report.html goes")->capture_default_str();
    app.add_option("--task", f.task,
                   "classification (Fashion-MNIST) or regression (a synthetic set, MSE loss)")
        ->check(CLI::IsMember({"classification", "regression"}))
        ->capture_default_str();
    app.add_option("--samples", f.samples, "regression: training samples (a quarter more to test)")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
}

// ---- 1. Data: rows of 784 pixels, the last --val training images for validation ----

const double kMean = 0.2860, kStd = 0.3530;  // Fashion-MNIST's pixel statistics

// Images (N, 1, 28, 28) -> rows (N, 784), centred and scaled with the training set's statistics.
Tensor flatten_images(const data::ByteImageDataset& ds, std::size_t first, std::size_t count) {
    Tensor x = slice(ds.images(), 0, std::int64_t(first), std::int64_t(first + count));
    return (x.flatten(1) - kMean) / kStd;
}

train::SolverData load_data(const Flags& f, const data::FashionMNIST& train_set) {
    XG_CHECK(f.num_val < train_set.size(), "train_mlp: --val {} leaves no training images",
             f.num_val);
    const std::size_t n = train_set.size(), val_start = n - f.num_val;
    const std::size_t n_train =
        f.train_subset > 0 ? std::min(val_start, f.train_subset) : val_start;
    fmt::print("Fashion-MNIST from {}: {} train, {} val images\n", train_set.root(), n_train,
               f.num_val);
    return {flatten_images(train_set, 0, n_train),
            slice(train_set.labels(), 0, 0, std::int64_t(n_train)),
            flatten_images(train_set, val_start, f.num_val),
            slice(train_set.labels(), 0, std::int64_t(val_start), std::int64_t(n))};
}

// ---- 2. The model: {affine - norm - relu - dropout} per hidden layer, then affine ----

nn::FullyConnectedNet make_model(const Flags& f) {
    std::vector<std::int64_t> hidden;
    for (const auto& h : CLI::detail::split(f.hidden, ',')) hidden.push_back(std::stoll(h));
    auto norm = f.normalization == "batchnorm"   ? nn::Normalization::batchnorm
                : f.normalization == "layernorm" ? nn::Normalization::layernorm
                                                 : nn::Normalization::none;
    nn::FullyConnectedNet net(nn::FullyConnectedNetOptions(hidden)
                                  .input_dim(784)
                                  .num_classes(10)
                                  .dropout_keep_ratio(1.0 - f.dropout)
                                  .normalization(norm)
                                  .weight_scale(f.weight_scale)
                                  .seed(f.seed));
    fmt::print("{}\n", net->repr());
    return net;
}

// ---- 3. Training: Adam through the Solver, which keeps the best validation epoch's weights ----

train::SolverOptions solver_options(const Flags& f) {
    return train::SolverOptions()
        .update_rule("adam")
        .optim_config({{"learning_rate", f.lr}})
        .lr_decay(f.lr_decay)
        .batch_size(f.batch_size)
        .num_epochs(f.epochs)
        .print_every(100)
        .seed(f.seed);
}

// ---- 4. The test pass: the confusion matrix and the worst images, from the same logits ----

void test_pass(nn::FullyConnectedNet& net, const Tensor& X, const Tensor& y,
               train::ConfusionMatrix& confusion, train::WorstExamples& worst) {
    NoGradGuard no_grad;
    net->eval();
    const std::int64_t n = std::int64_t(y.size(0));
    for (std::int64_t a = 0; a < n; a += 500) {
        Tensor xb = slice(X, 0, a, std::min(n, a + 500)), yb = slice(y, 0, a, std::min(n, a + 500));
        Tensor logits = net->forward(xb);
        confusion.add(argmax(logits, 1), yb);
        worst.add(xb.reshape({-1, 1, 28, 28}), logits, yb);
    }
}

// ---- 5. report.html: loss per iteration, accuracies and lr per epoch, the test set, settings ----

void write_report(const Flags& f, const train::Solver& solver,
                  const train::ConfusionMatrix& confusion, const train::WorstExamples& worst,
                  const train::Report::Rows& timings) {
    train::Report report("train_mlp on Fashion-MNIST");
    std::vector<double> it, epochs, lr;
    for (std::size_t i = 0; i < solver.loss_history().size(); ++i) it.push_back(double(i + 1));
    report.add_curve("Training loss per iteration", "iteration", "loss", it,
                     {{"train", "#1f77b4", solver.loss_history()}});
    // Entry 0: after the first iteration; entry e: after epoch e.
    for (std::size_t e = 0; e < solver.val_acc_history().size(); ++e) epochs.push_back(double(e));
    auto percent = [](std::vector<double> v) {
        for (double& x : v) x *= 100;
        return v;
    };
    report.add_curve("Accuracy (train: a sample of 1000; validation: all)", "epoch", "accuracy (%)",
                     epochs,
                     {{"train", "#1f77b4", percent(solver.train_acc_history())},
                      {"validation", "#d62728", percent(solver.val_acc_history())}});
    // The Solver multiplies the rate by --lr-decay after each epoch.
    epochs.clear();
    for (std::size_t e = 1; e <= f.epochs; ++e) {
        epochs.push_back(double(e));
        lr.push_back(f.lr * std::pow(f.lr_decay, double(e - 1)));
    }
    report.add_curve("Learning-rate schedule (per epoch)", "epoch", "learning rate", epochs,
                     {{"adam", "#2ca02c", lr}});
    report.add_confusion(confusion, data::FashionMNIST::classes());
    report.add_image_grid("The test images it got most wrong (highest loss)",
                          worst.images(data::FashionMNIST::classes(), kMean, kStd));
    report.add_settings({{"hidden", f.hidden},
                         {"normalization", f.normalization},
                         {"dropout", fmt::format("{}", f.dropout)},
                         {"lr", fmt::format("{}", f.lr)},
                         {"lr_decay", fmt::format("{}", f.lr_decay)},
                         {"batch_size", std::to_string(f.batch_size)},
                         {"epochs", std::to_string(f.epochs)},
                         {"seed", std::to_string(f.seed)}});
    report.add_table("Timings", timings);
    std::filesystem::create_directories(f.out_dir);
    const std::string path = (std::filesystem::path(f.out_dir) / "report.html").string();
    report.write(path);
    fmt::print("report: {}\n", path);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// ---- 6. Regression: a dataset of (features, float target) examples, as a libtorch user writes
// one, batched by the DataLoader (stacked: data (N, 8), target (N, 1)), MSE loss ----

// y = sin(2 x0) + x1 x2 - 0.5 x3^2 + 0.3 x4 + 0.1 noise for x ~ N(0, 1)^8 (x5..x7 unused):
// smooth, with interactions a linear model cannot fit.
class SyntheticRegression : public data::Dataset<SyntheticRegression> {
  public:
    static constexpr std::size_t kFeatures = 8;
    SyntheticRegression(std::size_t n, std::uint64_t seed) {
        Generator gen(seed);
        Tensor x = randn({n, kFeatures}, gen), noise = randn({n}, gen);
        xg::array<float> y = xg::array<float>::from_shape({n, 1});
        const auto& a = x.data<float>();
        for (std::size_t i = 0; i < n; ++i)
            y(i, 0) = std::sin(2 * a(i, 0)) + a(i, 1) * a(i, 2) - 0.5f * a(i, 3) * a(i, 3) +
                      0.3f * a(i, 4) + 0.1f * noise.data<float>()(i);
        rows_ = data::TensorDataset(x, Tensor(std::move(y)));
    }
    // Called from the loader's worker and the training thread at once: reads only.
    data::Example<> get(std::size_t index) override {
        std::vector<Tensor> row = rows_.get(index);
        return {row[0], row[1]};
    }
    std::optional<std::size_t> size() const override { return rows_.size(); }
    const Tensor& targets() const { return rows_.tensors()[1]; }

  private:
    data::TensorDataset rows_;
};

// Mean squared error over a loader's batches, without recording.
double mean_squared_error(nn::Sequential& net, data::DataLoader<data::Example<>>& loader) {
    NoGradGuard no_grad;
    double sum = 0, n = 0;
    for (auto& b : loader) {
        sum += mse_loss(net(b.data), b.target).item() * double(b.target.size(0));
        n += double(b.target.size(0));
    }
    return sum / n;
}

int run_regression(const Flags& f) {
    manual_seed(f.seed);
    SyntheticRegression train_set(f.samples, f.seed), test_set(f.samples / 4 + 1, f.seed + 1);
    const Tensor& y_test = test_set.targets();
    const double test_var = (y_test - y_test.mean()).square().mean().item();
    data::DataLoader train(train_set,
                           data::DataLoaderOptions(f.batch_size).shuffle(true).seed(f.seed));
    data::DataLoader test(test_set, data::DataLoaderOptions(500));
    nn::Sequential net;
    std::int64_t width = SyntheticRegression::kFeatures;
    for (const auto& h : CLI::detail::split(f.hidden, ',')) {
        net->push_back(nn::Linear(width, std::stoll(h)));
        net->push_back(nn::ReLU());
        width = std::stoll(h);
    }
    net->push_back(nn::Linear(width, 1));
    optim::Adam opt(net->parameters(), optim::AdamOptions(f.lr));
    fmt::print(
        "synthetic regression: {} train, {} test samples of {} features; target variance "
        "{:.4f}\n",
        f.samples, *test_set.size(), SyntheticRegression::kFeatures, test_var);
    for (std::size_t epoch = 0; epoch < f.epochs; ++epoch) {
        double sum = 0, n = 0;
        for (auto& batch : train) {
            Tensor loss = mse_loss(net(batch.data), batch.target);
            opt.zero_grad();
            loss.backward();
            opt.step();
            sum += loss.item() * double(batch.target.size(0));
            n += double(batch.target.size(0));
        }
        const double test_mse = mean_squared_error(net, test);
        fmt::print("epoch {}/{}: train MSE {:.4f} | test MSE {:.4f}, R^2 {:.4f}\n", epoch + 1,
                   f.epochs, sum / n, test_mse, 1 - test_mse / test_var);
    }
    return 0;
}

int main(int argc, char** argv) {
    Flags f;
    CLI::App app{"Train a fully connected net on Fashion-MNIST with the cs231n Solver"};
    add_flags(app, f);
    CLI11_PARSE(app, argc, argv);
    try {
        if (f.task == "regression") return run_regression(f);
        data::FashionMNIST train_set(data::Split::train, f.data_dir);
        train::SolverData d = load_data(f, train_set);
        nn::FullyConnectedNet net = make_model(f);
        train::Solver solver(train::solver_model(net), d, solver_options(f));
        auto t0 = std::chrono::steady_clock::now();
        solver.train();
        const double train_s = seconds_since(t0);
        // Evaluation of the best parameters
        data::FashionMNIST test_set(data::Split::test, f.data_dir);
        double val_acc = solver.check_accuracy(d.X_val, d.y_val);
        Tensor X_test = flatten_images(test_set, 0, test_set.size());
        train::ConfusionMatrix confusion(10, data::FashionMNIST::classes());
        train::WorstExamples worst(24);
        t0 = std::chrono::steady_clock::now();
        test_pass(net, X_test, test_set.labels(), confusion, worst);
        const double test_s = seconds_since(t0);
        fmt::print("best val accuracy {:.4f}, test accuracy {:.4f}\n", val_acc,
                   confusion.accuracy());
        write_report(f, solver, confusion, worst,
                     {{"training (s)", fmt::format("{:.1f}", train_s)},
                      {"test pass (s)", fmt::format("{:.2f}", test_s)},
                      {"iterations", std::to_string(solver.loss_history().size())},
                      {"test images", std::to_string(confusion.total())}});
    } catch (const Error& e) {
        fmt::print(stderr, "{}\n", e.what());
        return 1;
    }
    return 0;
}

// Trains the cs231n FullyConnectedNet (batch norm, dropout) on Fashion-MNIST with Adam through
// the Solver, then reports validation and test accuracy. Read it top to bottom: the flags, the
// data, the model, training, the evaluation; main() strings them together.
//
//   ./train_mlp --epochs 2 --hidden 100,100 --dropout 0.1 --normalization batchnorm
//   ./train_mlp --train-subset 1000 --epochs 1          # a quick smoke run
#include <CLI/CLI.hpp>
#include <xgrad.hpp>

#include "train/solver.hpp"

using namespace xg;

struct Flags {
    std::size_t epochs = 2, batch_size = 100, train_subset = 0, num_val = 5000;
    double lr = 1e-3, dropout = 0.0, weight_scale = 5e-2, lr_decay = 0.95;
    std::string hidden = "100,100", normalization = "batchnorm", data_dir;
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

int main(int argc, char** argv) {
    Flags f;
    CLI::App app{"Train a fully connected net on Fashion-MNIST with the cs231n Solver"};
    add_flags(app, f);
    CLI11_PARSE(app, argc, argv);
    try {
        data::FashionMNIST train_set(data::Split::train, f.data_dir);
        train::SolverData d = load_data(f, train_set);
        nn::FullyConnectedNet net = make_model(f);
        train::Solver solver(train::solver_model(net), d, solver_options(f));
        solver.train();
        // ---- 4. Evaluation of the best parameters ----
        data::FashionMNIST test_set(data::Split::test, f.data_dir);
        double val_acc = solver.check_accuracy(d.X_val, d.y_val);
        Tensor X_test = flatten_images(test_set, 0, test_set.size());
        double test_acc = solver.check_accuracy(X_test, test_set.labels());
        fmt::print("best val accuracy {:.4f}, test accuracy {:.4f}\n", val_acc, test_acc);
    } catch (const Error& e) {
        fmt::print(stderr, "{}\n", e.what());
        return 1;
    }
    return 0;
}

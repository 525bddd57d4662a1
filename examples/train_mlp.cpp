// Train the cs231n FullyConnectedNet (batchnorm, dropout) on Fashion-MNIST with Adam through the
// Solver, then report validation and test accuracy.
//
//   ./train_mlp --epochs 2 --hidden 100,100 --dropout 0.1 --normalization batchnorm
//   ./train_mlp --train-subset 1000 --epochs 1          # a quick smoke run
#include <CLI/CLI.hpp>
#include <xgrad.hpp>

#include "train/solver.hpp"

using namespace xg;

namespace {

// Images (N, 1, 28, 28) -> rows (N, 784), centred and scaled with the training set's statistics.
Tensor flatten_images(const data::ByteImageDataset& ds, std::size_t first, std::size_t count,
                      double mean, double sd) {
    Tensor x = slice(ds.images(), 0, std::int64_t(first), std::int64_t(first + count));
    return (x.flatten(1) - mean) / sd;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Train a fully connected net on Fashion-MNIST with the cs231n Solver"};
    std::size_t epochs = 2, batch_size = 100, train_subset = 0, num_val = 5000;
    double lr = 1e-3, dropout = 0.0, weight_scale = 5e-2, lr_decay = 0.95;
    std::string hidden = "100,100", normalization = "batchnorm", data_dir;
    std::uint64_t seed = 0;
    app.add_option("--epochs", epochs, "epochs")->capture_default_str();
    app.add_option("--batch-size", batch_size, "minibatch size")->capture_default_str();
    app.add_option("--lr", lr, "Adam learning rate")->capture_default_str();
    app.add_option("--lr-decay", lr_decay, "learning rate factor per epoch")->capture_default_str();
    app.add_option("--hidden", hidden, "hidden layer sizes, comma separated")
        ->capture_default_str();
    app.add_option("--dropout", dropout, "drop probability after each hidden layer")
        ->check(CLI::Range(0.0, 0.99))
        ->capture_default_str();
    app.add_option("--normalization", normalization, "none, batchnorm or layernorm")
        ->check(CLI::IsMember({"none", "batchnorm", "layernorm"}))
        ->capture_default_str();
    app.add_option("--weight-scale", weight_scale, "std of the initial weights")
        ->capture_default_str();
    app.add_option("--seed", seed, "seed of the init, dropout and minibatches")
        ->capture_default_str();
    app.add_option("--train-subset", train_subset, "train on the first N images only (0: all)");
    app.add_option("--val", num_val, "images held out of the training set for validation")
        ->capture_default_str();
    app.add_option("--data-dir", data_dir, "Fashion-MNIST directory (default: the system's)");
    CLI11_PARSE(app, argc, argv);

    std::vector<std::int64_t> hidden_dims;
    for (const auto& h : CLI::detail::split(hidden, ',')) {
        if (h.empty() || h.find_first_not_of("0123456789") != std::string::npos) {
            fmt::print(stderr, "train_mlp: --hidden expects sizes like 100,100, got '{}'\n",
                       hidden);
            return 2;
        }
        hidden_dims.push_back(std::stoll(h));
    }

    try {
        // 1. Data: the last `num_val` training images are the validation set.
        data::FashionMNIST train_set(data::Split::train, data_dir);
        data::FashionMNIST test_set(data::Split::test, data_dir);
        XG_CHECK(num_val < train_set.size(), "train_mlp: --val {} leaves no training images",
                 num_val);
        std::size_t n_train = train_set.size() - num_val;
        if (train_subset > 0) n_train = std::min(n_train, train_subset);
        const double mean = 0.2860, sd = 0.3530;  // Fashion-MNIST's pixel statistics
        train::SolverData d{
            flatten_images(train_set, 0, n_train, mean, sd),
            slice(train_set.labels(), 0, 0, std::int64_t(n_train)),
            flatten_images(train_set, train_set.size() - num_val, num_val, mean, sd),
            slice(train_set.labels(), 0, std::int64_t(train_set.size() - num_val),
                  std::int64_t(train_set.size()))};
        fmt::print("Fashion-MNIST from {}: {} train, {} val, {} test images\n", train_set.root(),
                   n_train, num_val, test_set.size());

        // 2. The model.
        auto norm = normalization == "batchnorm"   ? nn::Normalization::batchnorm
                    : normalization == "layernorm" ? nn::Normalization::layernorm
                                                   : nn::Normalization::none;
        nn::FullyConnectedNet net(nn::FullyConnectedNetOptions(hidden_dims)
                                      .input_dim(784)
                                      .num_classes(10)
                                      .dropout_keep_ratio(1.0 - dropout)
                                      .normalization(norm)
                                      .weight_scale(weight_scale)
                                      .seed(seed));
        fmt::print("{}\n", net->repr());

        // 3. Train with Adam; the Solver keeps the parameters of the best validation epoch.
        train::Solver solver(train::solver_model(net), d,
                             train::SolverOptions()
                                 .update_rule("adam")
                                 .optim_config({{"learning_rate", lr}})
                                 .lr_decay(lr_decay)
                                 .batch_size(batch_size)
                                 .num_epochs(epochs)
                                 .print_every(100)
                                 .seed(seed));
        solver.train();

        // 4. Evaluate the best parameters.
        double val_acc = solver.check_accuracy(d.X_val, d.y_val);
        Tensor X_test = flatten_images(test_set, 0, test_set.size(), mean, sd);
        double test_acc = solver.check_accuracy(X_test, test_set.labels());
        fmt::print("best val accuracy {:.4f}, test accuracy {:.4f}\n", val_acc, test_acc);
    } catch (const Error& e) {
        fmt::print(stderr, "{}\n", e.what());
        return 1;
    }
    return 0;
}

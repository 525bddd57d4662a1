#pragma once
// The cs231n Solver (solver.py): minibatch training of a classifier with one of the seed's update
// rules, accuracy checks on train and validation data after every epoch, and the parameters with
// the best validation accuracy restored into the model at the end.
//
//   auto net = nn::FullyConnectedNet(nn::FullyConnectedNetOptions({100, 100}).input_dim(784));
//   train::Solver solver(train::solver_model(net), {X_train, y_train, X_val, y_val},
//                        train::SolverOptions().update_rule("adam").optim_config(
//                            {{"learning_rate", 1e-3}}).num_epochs(5));
//   solver.train();
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/options.hpp"
#include "core/random.hpp"
#include "nn/module.hpp"
#include "optim/optimizer.hpp"

namespace xg::train {

// What the Solver trains: the module (its parameters, train/eval mode and state dict), the loss
// of a batch (called in training mode, returns a scalar) and the class scores (N, C) of a batch
// (called in eval mode without grad).
struct SolverModel {
    std::shared_ptr<nn::Module> module;
    std::function<Tensor(const Tensor& x, const Tensor& y)> loss;
    std::function<Tensor(const Tensor& x)> scores;
};

// For the cs231n models (FullyConnectedNet, ThreeLayerConvNet) or any holder whose module has
// forward(x) and loss(x, y).
template <class Holder>
SolverModel solver_model(const Holder& net) {
    auto m = net.ptr();
    return {m, [m](const Tensor& x, const Tensor& y) { return m->loss(x, y); },
            [m](const Tensor& x) { return m->forward(x); }};
}
// Any Tensor -> Tensor module with a criterion(scores, y), e.g. cross_entropy.
SolverModel solver_model(std::shared_ptr<nn::UnaryModule> module,
                         std::function<Tensor(const Tensor& scores, const Tensor& y)> criterion);

// Inputs (N, ...) of any floating dtype; labels int64 (N) in [0, C).
struct SolverData {
    Tensor X_train, y_train, X_val, y_val;
};

// The seed's optim_config: option name -> value.
using OptimConfig = std::map<std::string, double>;

struct SolverOptions {
    // "sgd", "sgd_momentum", "rmsprop" or "adam".
    XG_ARG(std::string, update_rule) = "sgd";
    // The seed's names: learning_rate; momentum (sgd_momentum, default 0.9); decay_rate
    // (rmsprop, 0.99); beta1, beta2 (adam, 0.9, 0.999); epsilon (rmsprop, adam, 1e-8).
    // learning_rate defaults to 1e-2 (1e-3 for adam). Keys the rule does not have are errors.
    // sgd_momentum runs PyTorch's SGD: the same steps as the seed's v = mu*v - lr*dw at a fixed
    // rate; with lr_decay the seed's velocity keeps earlier rates, PyTorch's buffer does not.
    XG_ARG(OptimConfig, optim_config) = {};
    XG_ARG(double, lr_decay) = 1.0;  // the learning rate is multiplied by it after each epoch
    XG_ARG(std::size_t, batch_size) = 100;
    XG_ARG(std::size_t, num_epochs) = 10;
    // Accuracy checks on a sample (drawn with replacement) of this many; nullopt: all of them.
    XG_ARG(std::optional<std::size_t>, num_train_samples) = std::size_t(1000);
    XG_ARG(std::optional<std::size_t>, num_val_samples) = std::nullopt;
    XG_ARG(std::size_t, print_every) = 10;  // iterations between loss lines when verbose
    XG_ARG(bool, verbose) = true;
    XG_ARG(std::uint64_t, seed) = 0;  // minibatch sampling and accuracy subsampling
};

class Solver {
  public:
    // Checks the options and the data (throws xg::Error naming the bad one) and builds the
    // optimizer over model.module's parameters.
    Solver(SolverModel model, SolverData data, SolverOptions options = SolverOptions());
    ~Solver();
    Solver(const Solver&) = delete;
    Solver& operator=(const Solver&) = delete;

    // num_epochs * max(N_train / batch_size, 1) iterations of one random minibatch (sampled
    // with replacement) each; accuracies after the first iteration and each epoch; at the end
    // the best parameters (and buffers) by validation accuracy are loaded into the model.
    void train();

    // Accuracy of argmax(scores) on X, y (on num_samples of them drawn with replacement when
    // given and smaller than N), in batches of batch_size, in eval mode without grad.
    double check_accuracy(const Tensor& X, const Tensor& y,
                          std::optional<std::size_t> num_samples = std::nullopt,
                          std::size_t batch_size = 100);

    const std::vector<double>& loss_history() const { return loss_history_; }
    const std::vector<double>& train_acc_history() const { return train_acc_history_; }
    const std::vector<double>& val_acc_history() const { return val_acc_history_; }
    double best_val_acc() const { return best_val_acc_; }
    const nn::StateDict& best_params() const { return best_params_; }
    std::size_t epoch() const { return epoch_; }
    double learning_rate() const;
    optim::Optimizer& optimizer() { return *optimizer_; }
    const SolverOptions& options() const { return options_; }

  private:
    void step();

    SolverModel model_;
    SolverData data_;
    SolverOptions options_;
    std::unique_ptr<optim::Optimizer> optimizer_;
    Generator gen_;
    std::size_t epoch_ = 0;
    double best_val_acc_ = -1.0;
    nn::StateDict best_params_;
    std::vector<double> loss_history_, train_acc_history_, val_acc_history_;
};

// The rows of t (N, ...) at the given indices (which may repeat), with no history.
Tensor take_rows(const Tensor& t, const std::vector<std::size_t>& indices);

}  // namespace xg::train

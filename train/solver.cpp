#include "train/solver.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

#include <fmt/core.h>

#include "core/error.hpp"
#include "core/grad_mode.hpp"
#include "ops/reduce.hpp"
#include "optim/adam.hpp"
#include "optim/rmsprop.hpp"
#include "optim/sgd.hpp"

namespace xg::train {

SolverModel solver_model(std::shared_ptr<nn::UnaryModule> module,
                         std::function<Tensor(const Tensor& scores, const Tensor& y)> criterion) {
    XG_CHECK(module != nullptr, "solver_model: module is null");
    XG_CHECK(criterion != nullptr, "solver_model: criterion is empty");
    auto* m = module.get();
    return {module,
            [m, criterion](const Tensor& x, const Tensor& y) { return criterion((*m)(x), y); },
            [m](const Tensor& x) { return (*m)(x); }};
}

namespace {

template <class T>
Tensor take_rows_as(const Tensor& t, const std::vector<std::size_t>& indices) {
    const auto& src = t.data<T>();
    auto shape = t.shape();
    std::size_t n = shape[0], row = n ? t.numel() / n : 0;
    shape[0] = indices.size();
    xg::array<T> out = xg::array<T>::from_shape(shape);
    for (std::size_t i = 0; i < indices.size(); ++i) {
        XG_CHECK(indices[i] < n, "take_rows: index {} out of range for {} rows", indices[i], n);
        std::copy_n(src.data() + indices[i] * row, row, out.data() + i * row);
    }
    return Tensor(std::move(out));
}

// The seed's optim_config keys per rule, with its defaults.
const std::map<std::string, std::map<std::string, double>>& rule_defaults() {
    static const std::map<std::string, std::map<std::string, double>> d = {
        {"sgd", {{"learning_rate", 1e-2}}},
        {"sgd_momentum", {{"learning_rate", 1e-2}, {"momentum", 0.9}}},
        {"rmsprop", {{"learning_rate", 1e-2}, {"decay_rate", 0.99}, {"epsilon", 1e-8}}},
        {"adam", {{"learning_rate", 1e-3}, {"beta1", 0.9}, {"beta2", 0.999}, {"epsilon", 1e-8}}}};
    return d;
}

std::unique_ptr<optim::Optimizer> make_optimizer(const SolverOptions& o,
                                                 std::vector<Tensor> params) {
    auto it = rule_defaults().find(o.update_rule());
    XG_CHECK(it != rule_defaults().end(),
             "Solver: update_rule '{}' is not one of sgd, sgd_momentum, rmsprop, adam",
             o.update_rule());
    auto c = it->second;
    for (const auto& [key, value] : o.optim_config()) {
        XG_CHECK(c.count(key), "Solver: optim_config key '{}' is not an option of update_rule '{}'",
                 key, o.update_rule());
        c[key] = value;
    }
    XG_CHECK(c["learning_rate"] > 0, "Solver: optim_config learning_rate must be > 0, got {}",
             c["learning_rate"]);
    const auto& rule = o.update_rule();
    if (rule == "sgd")
        return std::make_unique<optim::SGD>(params, optim::SGDOptions(c["learning_rate"]));
    if (rule == "sgd_momentum")
        return std::make_unique<optim::SGD>(
            params, optim::SGDOptions(c["learning_rate"]).momentum(c["momentum"]));
    if (rule == "rmsprop")
        return std::make_unique<optim::RMSprop>(
            params,
            optim::RMSpropOptions(c["learning_rate"]).alpha(c["decay_rate"]).eps(c["epsilon"]));
    return std::make_unique<optim::Adam>(
        params,
        optim::AdamOptions(c["learning_rate"]).betas({c["beta1"], c["beta2"]}).eps(c["epsilon"]));
}

void check_split(const Tensor& X, const Tensor& y, const char* xn, const char* yn) {
    XG_CHECK(X.defined() && X.dim() >= 1 && X.size(0) > 0, "Solver: {} must have at least one row",
             xn);
    XG_CHECK(is_floating(X.dtype()), "Solver: {} must be floating point", xn);
    XG_CHECK(y.defined() && y.dim() == 1 && y.dtype() == int64,
             "Solver: {} must be a 1-d int64 tensor of labels", yn);
    XG_CHECK(y.size(0) == X.size(0), "Solver: {} has {} labels, {} has {} rows", yn, y.size(0), xn,
             X.size(0));
}

nn::StateDict snapshot(const nn::Module& m) {
    nn::StateDict out;
    for (const auto& [k, v] : m.state_dict()) out.insert(k, v.detach().clone());
    return out;
}

}  // namespace

Tensor take_rows(const Tensor& t, const std::vector<std::size_t>& indices) {
    XG_CHECK(t.defined() && t.dim() >= 1, "take_rows: expects a tensor with at least one dim");
    switch (t.dtype()) {
        case float32:
            return take_rows_as<float>(t, indices);
        case float64:
            return take_rows_as<double>(t, indices);
        default:
            return take_rows_as<std::int64_t>(t, indices);
    }
}

Solver::Solver(SolverModel model, SolverData data, SolverOptions options)
    : model_(std::move(model)),
      data_(std::move(data)),
      options_(std::move(options)),
      gen_(options_.seed()) {
    XG_CHECK(model_.module != nullptr, "Solver: model.module is null");
    XG_CHECK(model_.loss != nullptr, "Solver: model.loss is empty");
    XG_CHECK(model_.scores != nullptr, "Solver: model.scores is empty");
    check_split(data_.X_train, data_.y_train, "X_train", "y_train");
    check_split(data_.X_val, data_.y_val, "X_val", "y_val");
    XG_CHECK(options_.batch_size() > 0, "Solver: batch_size must be > 0");
    XG_CHECK(options_.num_epochs() > 0, "Solver: num_epochs must be > 0");
    XG_CHECK(options_.print_every() > 0, "Solver: print_every must be > 0");
    XG_CHECK(options_.lr_decay() > 0, "Solver: lr_decay must be > 0, got {}", options_.lr_decay());
    XG_CHECK(!options_.num_train_samples() || *options_.num_train_samples() > 0,
             "Solver: num_train_samples must be > 0");
    XG_CHECK(!options_.num_val_samples() || *options_.num_val_samples() > 0,
             "Solver: num_val_samples must be > 0");
    auto params = model_.module->parameters();
    XG_CHECK(!params.empty(), "Solver: the model has no parameters");
    optimizer_ = make_optimizer(options_, std::move(params));
}

Solver::~Solver() = default;

double Solver::learning_rate() const {
    return optimizer_->param_groups().front().options().get_lr();
}

void Solver::step() {
    std::size_t n = data_.X_train.size(0);
    std::vector<std::size_t> idx(options_.batch_size());
    for (auto& i : idx) i = std::min(n - 1, std::size_t(gen_.uniform() * double(n)));
    Tensor xb = take_rows(data_.X_train, idx), yb = take_rows(data_.y_train, idx);
    model_.module->train();
    optimizer_->zero_grad();
    Tensor loss = model_.loss(xb, yb);
    XG_CHECK(loss.defined() && loss.numel() == 1, "Solver: model.loss must return a scalar");
    const double value = loss.item();
    // A diverged run stops at once, before the update, instead of training on NaN.
    XG_CHECK(std::isfinite(value),
             "Solver: the loss is {} at iteration {} (epoch {}): training diverged; lower the "
             "learning rate",
             value, loss_history_.size() + 1, epoch_ + 1);
    loss.backward();
    optimizer_->step();
    loss_history_.push_back(value);
}

double Solver::check_accuracy(const Tensor& X, const Tensor& y,
                              std::optional<std::size_t> num_samples, std::size_t batch_size) {
    check_split(X, y, "check_accuracy X", "check_accuracy y");
    XG_CHECK(batch_size > 0, "check_accuracy: batch_size must be > 0");
    XG_CHECK(!num_samples || *num_samples > 0, "check_accuracy: num_samples must be > 0");
    std::size_t n = X.size(0);
    std::vector<std::size_t> idx;
    if (num_samples && n > *num_samples) {
        idx.resize(*num_samples);
        for (auto& i : idx) i = std::min(n - 1, std::size_t(gen_.uniform() * double(n)));
    } else {
        idx.resize(n);
        for (std::size_t i = 0; i < n; ++i) idx[i] = i;
    }
    // Eval mode for the check, the caller's mode back afterwards (also when scores throws).
    struct ModeGuard {
        nn::Module& m;
        bool was_training = m.is_training();
        ~ModeGuard() { m.train(was_training); }
    } mode{*model_.module};
    model_.module->eval();
    NoGradGuard no_grad;
    std::size_t correct = 0;
    const auto& labels = y.data<std::int64_t>();
    for (std::size_t start = 0; start < idx.size(); start += batch_size) {
        std::vector<std::size_t> b(idx.begin() + start,
                                   idx.begin() + std::min(idx.size(), start + batch_size));
        Tensor scores = model_.scores(take_rows(X, b));
        XG_CHECK(scores.dim() == 2 && scores.size(0) == b.size(),
                 "check_accuracy: scores must be (N, C) with N = {}", b.size());
        auto pred = argmax(scores, 1).data<std::int64_t>();
        for (std::size_t i = 0; i < b.size(); ++i) correct += pred(i) == labels(b[i]);
    }
    return double(correct) / double(idx.size());
}

void Solver::train() {
    std::size_t num_train = data_.X_train.size(0);
    std::size_t per_epoch = std::max<std::size_t>(num_train / options_.batch_size(), 1);
    std::size_t num_iterations = options_.num_epochs() * per_epoch;
    for (std::size_t t = 0; t < num_iterations; ++t) {
        step();
        if (options_.verbose() && t % options_.print_every() == 0)
            fmt::print("(Iteration {} / {}) loss: {:.6f}\n", t + 1, num_iterations,
                       loss_history_.back());
        bool epoch_end = (t + 1) % per_epoch == 0;
        if (epoch_end) {
            ++epoch_;
            for (auto& g : optimizer_->param_groups())
                g.options().set_lr(g.options().get_lr() * options_.lr_decay());
        }
        if (t == 0 || t + 1 == num_iterations || epoch_end) {
            double train_acc = check_accuracy(data_.X_train, data_.y_train,
                                              options_.num_train_samples(), options_.batch_size());
            double val_acc = check_accuracy(data_.X_val, data_.y_val, options_.num_val_samples(),
                                            options_.batch_size());
            train_acc_history_.push_back(train_acc);
            val_acc_history_.push_back(val_acc);
            if (options_.verbose())
                fmt::print("(Epoch {} / {}) train acc: {:.6f}; val_acc: {:.6f}\n", epoch_,
                           options_.num_epochs(), train_acc, val_acc);
            if (val_acc > best_val_acc_) {
                best_val_acc_ = val_acc;
                best_params_ = snapshot(*model_.module);
            }
        }
    }
    if (!best_params_.empty()) model_.module->load_state_dict(best_params_);
}

}  // namespace xg::train

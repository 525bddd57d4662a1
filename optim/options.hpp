#pragma once
// The option classes of the optimizers, libtorch style: SGDOptions(0.1).momentum(0.9), read
// through typed getters (o.momentum()). Defaults are PyTorch 1.13's. fields() lists each field
// under PyTorch's state_dict key (Adam's betas as beta1 and beta2): the one place names appear.
#include <tuple>
#include <vector>

#include "core/options.hpp"
#include "optim/optimizer.hpp"

namespace xg::optim {

struct SGDOptions : OptimizerCloneableOptions<SGDOptions> {
    SGDOptions(double lr) : lr_(lr) {}  // NOLINT: SGD(params, 0.01); no default, as in PyTorch
    XG_ARG(double, lr);
    XG_ARG(double, momentum) = 0;
    XG_ARG(double, dampening) = 0;
    XG_ARG(double, weight_decay) = 0;
    XG_ARG(bool, nesterov) = false;
    XG_ARG(bool, maximize) = false;

  public:
    std::optional<double> get_cycled_momentum() const override { return momentum_; }
    void set_cycled_momentum(double m) override { momentum_ = m; }
    std::vector<OptionField> fields() override;
};

struct RMSpropOptions : OptimizerCloneableOptions<RMSpropOptions> {
    RMSpropOptions(double lr = 1e-2) : lr_(lr) {}  // NOLINT
    XG_ARG(double, lr);
    XG_ARG(double, alpha) = 0.99;
    XG_ARG(double, eps) = 1e-8;
    XG_ARG(double, weight_decay) = 0;
    XG_ARG(double, momentum) = 0;
    XG_ARG(bool, centered) = false;
    XG_ARG(bool, maximize) = false;

  public:
    std::optional<double> get_cycled_momentum() const override { return momentum_; }
    void set_cycled_momentum(double m) override { momentum_ = m; }
    std::vector<OptionField> fields() override;
};

// Adam's and AdamW's fields; AdamW's weight_decay defaults to 1e-2 (it decays the weights
// directly). Derived is the options class, so the chained setters return it.
template <class Derived>
struct AdamOptionsBase : OptimizerCloneableOptions<Derived> {
    AdamOptionsBase(double lr, double weight_decay) : lr_(lr), weight_decay_(weight_decay) {}
    XG_ARG_FOR(Derived, double, lr);
    XG_ARG_FOR(Derived, double, eps) = 1e-8;
    XG_ARG_FOR(Derived, double, weight_decay);
    XG_ARG_FOR(Derived, bool, amsgrad) = false;
    XG_ARG_FOR(Derived, bool, maximize) = false;

  public:
    Derived& betas(const std::tuple<double, double>& b) {
        std::tie(beta1_, beta2_) = b;
        return static_cast<Derived&>(*this);
    }
    std::tuple<double, double> betas() const { return {beta1_, beta2_}; }
    std::optional<double> get_cycled_momentum() const override { return beta1_; }
    void set_cycled_momentum(double m) override { beta1_ = m; }
    std::vector<OptionField> fields() override {
        return {{"lr", &lr_},
                {"beta1", &beta1_},
                {"beta2", &beta2_},
                {"eps", &eps_},
                {"weight_decay", &weight_decay_},
                {"amsgrad", nullptr, &amsgrad_},
                {"maximize", nullptr, &maximize_}};
    }

  private:
    double beta1_ = 0.9, beta2_ = 0.999;
};

struct AdamOptions : AdamOptionsBase<AdamOptions> {
    AdamOptions(double lr = 1e-3) : AdamOptionsBase(lr, 0.0) {}  // NOLINT: Adam(params, 1e-3)
};

struct AdamWOptions : AdamOptionsBase<AdamWOptions> {
    AdamWOptions(double lr = 1e-3) : AdamOptionsBase(lr, 1e-2) {}  // NOLINT
};

}  // namespace xg::optim

#pragma once
// Learning-rate schedulers over an optimizer's parameter groups, as torch.optim.lr_scheduler
// (1.13): construction applies epoch 0 (last_epoch 0); each step() advances one epoch and
// writes the new lr into every group. The lrs follow PyTorch's recurrences (get_lr), so a
// schedule matches PyTorch's step by step, including lr changes made by hand in between.
// base_lrs are the groups' lrs when the scheduler is made (PyTorch keeps them as the groups'
// 'initial_lr', shared by every scheduler of the optimizer; here each scheduler has its own).
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/options.hpp"
#include "optim/optimizer.hpp"

namespace xg::optim {

class LRScheduler {
  public:
    virtual ~LRScheduler() = default;
    LRScheduler(const LRScheduler&) = delete;
    LRScheduler& operator=(const LRScheduler&) = delete;

    void step();
    const std::vector<double>& get_last_lr() const { return last_lr_; }
    std::int64_t last_epoch() const { return last_epoch_; }
    const std::vector<double>& base_lrs() const { return base_lrs_; }
    // scalars: last_epoch, step_count, base_lrs.<g>, last_lr.<g>; strings: type. Restoring
    // does not touch the optimizer (its lrs are in its own state dict).
    StateDict state_dict() const;
    void load_state_dict(const StateDict& dict);

  protected:
    LRScheduler(Optimizer& optimizer, std::string type);
    void initial_step();  // the derived constructor's last call: epoch 0
    virtual std::vector<double> get_lr() = 0;
    Optimizer& opt_;
    std::string type_;
    std::vector<double> base_lrs_, last_lr_;
    std::int64_t last_epoch_ = -1, step_count_ = 0;
};

// lr * gamma every step_size epochs.
class StepLR : public LRScheduler {
  public:
    StepLR(Optimizer& optimizer, std::int64_t step_size, double gamma = 0.1);

  protected:
    std::vector<double> get_lr() override;
    std::int64_t step_size_;
    double gamma_;
};

// lr * gamma at each milestone epoch (a milestone listed twice multiplies by gamma^2).
class MultiStepLR : public LRScheduler {
  public:
    MultiStepLR(Optimizer& optimizer, std::vector<std::int64_t> milestones, double gamma = 0.1);

  protected:
    std::vector<double> get_lr() override;
    std::vector<std::int64_t> milestones_;
    double gamma_;
};

// lr * gamma every epoch.
class ExponentialLR : public LRScheduler {
  public:
    ExponentialLR(Optimizer& optimizer, double gamma);

  protected:
    std::vector<double> get_lr() override;
    double gamma_;
};

// eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2, by PyTorch's recurrence
// (which continues as a cosine wave past T_max).
class CosineAnnealingLR : public LRScheduler {
  public:
    CosineAnnealingLR(Optimizer& optimizer, std::int64_t T_max, double eta_min = 0.0);

  protected:
    std::vector<double> get_lr() override;
    std::int64_t t_max_;
    double eta_min_;
};

struct OneCycleLROptions {
    XG_ARG(std::int64_t, total_steps) = 0;  // or epochs * steps_per_epoch
    XG_ARG(std::int64_t, epochs) = 0;
    XG_ARG(std::int64_t, steps_per_epoch) = 0;
    XG_ARG(double, pct_start) = 0.3;
    XG_ARG(std::string, anneal_strategy) = "cos";  // or "linear"
    XG_ARG(bool, cycle_momentum) = true;           // cycles SGD/RMSprop momentum or Adam's beta1
    XG_ARG(double, base_momentum) = 0.85;
    XG_ARG(double, max_momentum) = 0.95;
    XG_ARG(double, div_factor) = 25.0;
    XG_ARG(double, final_div_factor) = 1e4;
    XG_ARG(bool, three_phase) = false;
};

// The 1cycle policy: lr from max_lr/div_factor up to max_lr over pct_start of total_steps,
// then down to initial_lr/final_div_factor; momentum moves the other way. Step once per batch;
// stepping past total_steps throws.
class OneCycleLR : public LRScheduler {
  public:
    OneCycleLR(Optimizer& optimizer, std::vector<double> max_lr, OneCycleLROptions options = {});
    OneCycleLR(Optimizer& optimizer, double max_lr, OneCycleLROptions options = {});
    std::int64_t total_steps() const { return total_steps_; }

  protected:
    std::vector<double> get_lr() override;
    struct Phase {
        double end_step;
        int start_lr, end_lr, start_m, end_m;  // 0 initial, 1 max, 2 min; momenta: 0 base, 1 max
    };
    OneCycleLROptions o_;
    std::int64_t total_steps_ = 0;
    std::vector<Phase> phases_;
    std::vector<std::array<double, 3>> lrs_;  // per group: initial, max, min
    bool cycles_momentum_ = false;
};

struct ReduceLROnPlateauOptions {
    XG_ARG(std::string, mode) = "min";  // or "max"
    XG_ARG(double, factor) = 0.1;
    XG_ARG(std::int64_t, patience) = 10;
    XG_ARG(double, threshold) = 1e-4;
    XG_ARG(std::string, threshold_mode) = "rel";  // or "abs"
    XG_ARG(std::int64_t, cooldown) = 0;
    XG_ARG(std::vector<double>, min_lr) = {0.0};  // one value, or one per group
    XG_ARG(double, eps) = 1e-8;
};

// Multiplies the lrs by factor when the metric passed to step() has not improved for
// `patience` epochs. Not an LRScheduler: its step takes the metric.
class ReduceLROnPlateau {
  public:
    explicit ReduceLROnPlateau(Optimizer& optimizer, ReduceLROnPlateauOptions options = {});
    void step(double metric);
    const std::vector<double>& get_last_lr() const { return last_lr_; }
    StateDict state_dict() const;  // best, num_bad_epochs, cooldown_counter, last_epoch
    void load_state_dict(const StateDict& dict);

  private:
    bool is_better(double a) const;
    Optimizer& opt_;
    ReduceLROnPlateauOptions o_;
    std::vector<double> min_lrs_, last_lr_;
    double best_;
    std::int64_t num_bad_epochs_ = 0, cooldown_counter_ = 0, last_epoch_ = 0;
};

}  // namespace xg::optim

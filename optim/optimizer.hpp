#pragma once
// Optimizers see tensors, not modules: parameter groups of leaf tensors, each group with its own
// options (lr, weight_decay and the rule's hyperparameters), per-parameter state, step(),
// zero_grad() and a flat state dict. The update rules follow PyTorch 1.13's single-tensor
// implementations (torch/optim/*.py) and run under NoGradGuard with the in-place ops.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/named_tensors.hpp"
#include "core/tensor.hpp"

namespace xg::optim {

// A flat, serializable snapshot (optimizer or scheduler). Names, as in PyTorch's state_dict
// with parameters numbered in group order (group 0's params first):
//   strings["type"]                     "SGD", "Adam", ... (checked on load)
//   strings["param_groups.<g>.params"]  "0,1,2": the parameter indices of group g
//   scalars["param_groups.<g>.<key>"]   every option of group g (OptimizerOptions::fields()):
//                                       lr, weight_decay, momentum, beta1, beta2, eps, ...;
//                                       booleans are 0 or 1
//   scalars["state.<i>.step"]           how many updates parameter i has had (absent: none)
//   tensors["state.<i>.<name>"]         parameter i's buffers: momentum_buffer, exp_avg,
//                                       exp_avg_sq, max_exp_avg_sq, square_avg, grad_avg
// A checkpoint writer can store `tensors` as named tensors and `scalars` + `strings` as JSON.
// Doubles hold every integer count below 2^53 exactly.
struct StateDict {
    NamedTensors tensors;
    std::map<std::string, double> scalars;
    std::map<std::string, std::string> strings;
};

// One hyperparameter of a group under its state_dict key: a number or a flag.
struct OptionField {
    const char* key;
    double* number = nullptr;
    bool* flag = nullptr;
    double value() const { return number ? *number : (*flag ? 1.0 : 0.0); }
    void set(double v) const { number ? void(*number = v) : void(*flag = v != 0.0); }
};

// The hyperparameters of one group, as libtorch's: each optimizer has its own typed options
// (SGDOptions, AdamOptions, ... in optim/options.hpp) read through typed getters; this base is
// what the optimizer, the schedulers and checkpoints see of any of them.
class OptimizerOptions {
  public:
    virtual ~OptimizerOptions() = default;
    virtual std::unique_ptr<OptimizerOptions> clone() const = 0;
    virtual double get_lr() const = 0;
    virtual void set_lr(double lr) = 0;
    // The momentum OneCycleLR cycles: SGD's and RMSprop's momentum, Adam's beta1 (PyTorch's
    // choice); nullopt for an optimizer without one.
    virtual std::optional<double> get_cycled_momentum() const { return std::nullopt; }
    virtual void set_cycled_momentum(double) {}
    // Every field under its state_dict key: the one list that saving, loading and comparing
    // options go through.
    virtual std::vector<OptionField> fields() = 0;
    std::vector<std::pair<std::string, double>> values() const;  // fields(), read
};

// clone() and the learning rate for options class Derived with an `lr` field (libtorch's name).
template <class Derived>
class OptimizerCloneableOptions : public OptimizerOptions {
  public:
    std::unique_ptr<OptimizerOptions> clone() const override {
        return std::make_unique<Derived>(static_cast<const Derived&>(*this));
    }
    double get_lr() const override { return static_cast<const Derived&>(*this).lr(); }
    void set_lr(double lr) override { static_cast<Derived&>(*this).lr(lr); }
};

// A group of parameters with their options. Without options a group takes the optimizer's
// defaults (the options it was constructed with). Copies clone the options.
class ParamGroup {
  public:
    ParamGroup(std::vector<Tensor> params) : params(std::move(params)) {}  // NOLINT: implicit
    ParamGroup(std::vector<Tensor> params, std::unique_ptr<OptimizerOptions> options)
        : params(std::move(params)), options_(std::move(options)) {}
    template <class O, class = std::enable_if_t<std::is_base_of_v<OptimizerOptions, O>>>
    ParamGroup(std::vector<Tensor> params, const O& options)
        : ParamGroup(std::move(params), options.clone()) {}
    ParamGroup(const ParamGroup& other);
    ParamGroup& operator=(const ParamGroup& other);
    ParamGroup(ParamGroup&&) noexcept = default;
    ParamGroup& operator=(ParamGroup&&) noexcept = default;

    bool has_options() const { return options_ != nullptr; }
    // The group's options (throws if it has none yet); cast to the optimizer's type to read its
    // fields: static_cast<SGDOptions&>(group.options()).momentum().
    OptimizerOptions& options();
    const OptimizerOptions& options() const;
    void set_options(std::unique_ptr<OptimizerOptions> options) { options_ = std::move(options); }

    std::vector<Tensor> params;

  private:
    std::unique_ptr<OptimizerOptions> options_;
};

// One parameter's state: named buffers (same shape and dtype as the parameter) and counters.
struct ParamState {
    std::map<std::string, Tensor> buffers;
    double step = 0;
};

class Optimizer {
  public:
    virtual ~Optimizer() = default;
    Optimizer(const Optimizer&) = delete;
    Optimizer& operator=(const Optimizer&) = delete;

    // One update of every parameter that has a .grad. With a closure (which zeroes the grads,
    // computes the loss and calls backward), calls it first with grad mode on and returns its
    // loss, as PyTorch's step(closure).
    Tensor step(const std::function<Tensor()>& closure = nullptr);
    // set_to_none drops every .grad (PyTorch 2's default); otherwise zeroes them in place.
    void zero_grad(bool set_to_none = true);
    void add_param_group(ParamGroup group);

    const std::vector<ParamGroup>& param_groups() const { return groups_; }
    std::vector<ParamGroup>& param_groups() { return groups_; }  // e.g. to change lr by hand
    const OptimizerOptions& defaults() const { return *defaults_; }
    const std::string& type() const { return type_; }
    // The state of one parameter (empty until its first step).
    const ParamState* state(const Tensor& param) const;

    StateDict state_dict() const;
    // Restores state and group options saved from an optimizer of the same type over
    // parameters of the same shapes, in the same groups. Checks everything before changing
    // anything; the buffers are copied, not shared.
    void load_state_dict(const StateDict& dict);

  protected:
    Optimizer(std::string type, std::vector<ParamGroup> groups,
              std::unique_ptr<OptimizerOptions> defaults);
    // Throws xg::Error (message starting with the optimizer's type) for invalid options. The
    // options given to validate, update and buffer_names are always the optimizer's own type.
    virtual void validate(const OptimizerOptions& o) const = 0;
    // Updates one parameter from its gradient (grad mode is off).
    virtual void update(Tensor& param, const Tensor& grad, ParamState& state,
                        const OptimizerOptions& o) = 0;
    // The buffers a parameter's state may hold, for load_state_dict's checks.
    virtual std::vector<std::string> buffer_names(const OptimizerOptions& o) const = 0;
    // Call from the derived constructor: validates the defaults and the groups.
    void init();
    // step()'s checks of options, grads and buffers, made before anything is updated.
    void check_step() const;

  private:
    std::string type_;
    std::unique_ptr<OptimizerOptions> defaults_;
    std::vector<ParamGroup> groups_;
    std::map<const TensorImpl*, ParamState> state_;
};

// Gradient clipping over the .grad of every parameter that has one (PyTorch's
// torch.nn.utils.clip_grad_norm_ / clip_grad_value_). Returns the total norm of the gradients
// (as if concatenated) before clipping; norm_type may be +inf. Grads are scaled by
// max_norm / (total + 1e-6) when that factor is below 1.
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false);
void clip_grad_value_(const std::vector<Tensor>& params, double clip_value);

}  // namespace xg::optim
